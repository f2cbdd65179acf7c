"""memcached, from the option files each distribution's start script turns into argv.

- Debian `/etc/memcached.conf` (and `/etc/memcached_NAME.conf` for `memcached@NAME`):
  one command-line option per line, `#` comments; the systemd wrapper drops `-d`/`-h`
  and lines not starting with `-` (`logfile` is only honoured by the SysV script);
- RHEL `/etc/sysconfig/memcached`: PORT, USER, MAXCONN, CACHESIZE, OPTIONS as the unit's
  `memcached -p ${PORT} -u ${USER} ... $OPTIONS`;
- Alpine `/etc/conf.d/memcached`: PORT, UDPPORT, LISTENON, MEMCACHED_RUNAS, MISC_OPTS
  (or `command_args`).
The options follow memcached(1): `-p` TCP port (default 11211, 0 = off), `-U` UDP port
(default 0 = off since 1.5.6), `-l` listen addresses (comma-separated or repeated,
`host:port` allowed; default every address), `-s` a unix socket (turns TCP/UDP off),
`-u` the user.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from modernize.detector import Detector
from modernize.facts import Found, ServiceFacts
from modernize.model import Evidence, FileRef, Port
from modernize.parsers.shell import assignments, split_command
from modernize.snapshot import Snapshot
from modernize.snapshot.declarations import whole

DEBIAN = "/etc/memcached.conf"
RHEL = "/etc/sysconfig/memcached"
ALPINE = "/etc/conf.d/memcached"
WITH_ARG = set("pUsalmcuPtRBIofbnDeXT")
LONG = {
    "port": "p",
    "udp-port": "U",
    "unix-socket": "s",
    "listen": "l",
    "user": "u",
    "memory-limit": "m",
    "conn-limit": "c",
    "pidfile": "P",
}


@dataclass
class Opt:
    flag: str
    value: str
    evidence: Evidence


@dataclass
class Options:
    opts: list[Opt] = field(default_factory=list)

    def last(self, flag: str) -> Opt | None:
        hits = [o for o in self.opts if o.flag == flag]
        return hits[-1] if hits else None

    def all(self, flag: str) -> list[Opt]:
        return [o for o in self.opts if o.flag == flag]


def parse_argv(words: Sequence[str], ev: Evidence, out: Options) -> None:
    """memcached's getopt: `-p 11211`, `-p11211`, `--port=11211`, `--listen 127.0.0.1`."""
    i = 0
    while i < len(words):
        w = words[i]
        i += 1
        if w.startswith("--"):
            name, sep, val = w[2:].partition("=")
            flag = LONG.get(name)
            if flag is None:
                continue
            if not sep and i < len(words):
                val, i = words[i], i + 1
            out.opts.append(Opt(flag, val, ev))
        elif w.startswith("-") and len(w) >= 2:
            flag = w[1]
            if flag not in WITH_ARG:
                continue
            val = w[2:]
            if not val and i < len(words):
                val, i = words[i], i + 1
            out.opts.append(Opt(flag, val, ev))


def listen_items(value: str) -> list[tuple[str | None, int | None]]:
    """`127.0.0.1,::1`, `127.0.0.1:11212`, `[::1]:11212` -> (address, port or None)."""
    out: list[tuple[str | None, int | None]] = []
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        port: int | None = None
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            if rest.startswith(":") and rest[1:].isdigit():
                port = int(rest[1:])
        elif item.count(":") == 1:
            host, _, p = item.partition(":")
            port = int(p) if p.isdigit() else None
        else:
            host = item
        out.append((None if host in ("", "*", "INADDR_ANY") else host, port))
    return out


class MemcachedDetector(Detector):
    name = "memcached"
    tags = ("service", "cache")
    requires = ("systemd", "sysv")
    reads = whole(DEBIAN, "/etc/memcached_*.conf", RHEL, ALPINE)

    def detect(self, snap: Snapshot, found: Found) -> None:
        for path in [DEBIAN, *snap.glob("/etc/memcached_*.conf")]:
            text = snap.text(path)
            if text is not None:
                self._debian(found, path, text)
        for path, fn in ((RHEL, self._rhel), (ALPINE, self._alpine)):
            text = snap.text(path)
            if text is not None:
                opts = fn(path, text)
                found.add(self._facts(found, path, opts, None, env_file=True))

    def _debian(self, found: Found, path: str, text: str) -> None:
        opts = Options()
        logfile: tuple[str, Evidence] | None = None
        for no, raw in enumerate(text.splitlines(), 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            ev = Evidence("config", path, no, excerpt=line)
            if not line.startswith("-"):
                key, _, val = line.partition(" ")
                if key == "logfile" and val.strip():
                    logfile = (val.strip(), ev)
                continue
            parse_argv(split_command(line), ev, opts)
        name = path.rsplit("/", 1)[1].removesuffix(".conf")
        instance = name.removeprefix("memcached_") if name != "memcached" else None
        sf = self._facts(found, path, opts, instance, env_file=False)
        if logfile:
            wrapper = any(
                "systemd-memcached-wrapper" in " ".join(a)
                for u in found.units
                if u.name in sf.units
                for a in u.exec_start
            )
            if wrapper:
                sf.attributes["logfile"] = "ignored by systemd-memcached-wrapper (output goes to the journal)"
            else:
                sf.log_paths.append(FileRef(logfile[0], "logs", evidence=(logfile[1],)))
        found.add(sf)

    @staticmethod
    def _rhel(path: str, text: str) -> Options:
        opts = Options()
        for no, key, val in assignments(text):
            ev = Evidence("config", path, no, excerpt=f"{key}={val}")
            if key == "PORT":
                opts.opts.append(Opt("p", val, ev))
            elif key == "USER":
                opts.opts.append(Opt("u", val, ev))
            elif key == "OPTIONS":
                parse_argv(split_command(val), ev, opts)
        return opts

    @staticmethod
    def _alpine(path: str, text: str) -> Options:
        opts = Options()
        values = {k: (no, v) for no, k, v in assignments(text)}
        for key, flag in (("PORT", "p"), ("UDPPORT", "U"), ("LISTENON", "l"), ("MEMCACHED_RUNAS", "u")):
            if key in values and values[key][1]:
                no, val = values[key]
                if key == "UDPPORT" and val in ("${PORT}", "$PORT"):
                    val = values.get("PORT", (0, "11211"))[1]
                opts.opts.append(Opt(flag, val, Evidence("config", path, no, excerpt=f"{key}={val}")))
        for key in ("MISC_OPTS", "command_args"):
            if key in values and values[key][1]:
                no, val = values[key]
                parse_argv(split_command(val), Evidence("config", path, no, excerpt=f"{key}={val}"), opts)
        return opts

    def _facts(self, found: Found, path: str, opts: Options, instance: str | None, *, env_file: bool) -> ServiceFacts:
        units = [f"memcached@{instance}.service"] if instance else ["memcached.service", "memcached"]
        sf = ServiceFacts(
            software="memcached",
            kind="cache",
            instance=instance,
            units=units,
            packages=["memcached"],
            binaries=[] if instance else ["/usr/bin/memcached"],
        )
        sf.config_files.append(FileRef(path, "env" if env_file else "config", evidence=(Evidence("file", path),)))
        if env_file:
            sf.env_files.append(path)
        u = opts.last("u")
        if u and u.value:
            sf.user = u.value
        s = opts.last("s")
        if s and s.value:
            sf.ports.append(Port(None, "unix", None, s.value, "configured", (s.evidence,)))
            sf.attributes["network"] = "off (-s turns TCP and UDP off)"
            return sf
        p = opts.last("p")
        port, port_ev, src = 11211, Evidence("default", detail="memcached listens on TCP 11211 by default"), "default"
        if p and p.value.isdigit():
            port, port_ev, src = int(p.value), p.evidence, "configured"
        up = opts.last("U")
        udp = int(up.value) if up and up.value.isdigit() else 0
        listens = [(a, pp, o.evidence) for o in opts.all("l") for a, pp in listen_items(o.value)]
        if not listens:
            listens = [(None, None, Evidence("default", detail="with no -l memcached listens on every address"))]
        for addr, own_port, ev in listens:
            number = own_port or port
            if number:
                evs = (ev,) if own_port else (port_ev, ev)
                sf.ports.append(
                    Port(number, "tcp", addr, source=src if ev.kind == "default" else "configured", evidence=evs)
                )
            if udp and up:
                sf.ports.append(Port(udp, "udp", addr, source="configured", evidence=(up.evidence, ev)))
        return sf
