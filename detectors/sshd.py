"""OpenSSH server: ports and listen addresses from sshd_config, as sshd reads it.

sshd's rules followed here (sshd_config(5), servconf.c):
* keywords are case-insensitive; `Keyword value` or `Keyword=value`; `#` lines are comments;
* `Include` takes globs, relative ones under /etc/ssh; matches are read in sorted order,
  in place, and a `Match` opened inside an included file ends with that file;
* for most keywords the FIRST value obtained wins (Debian puts `Include
  /etc/ssh/sshd_config.d/*.conf` at the top so drop-ins override the main file);
  `Port` and `ListenAddress` accumulate instead;
* lines inside a `Match` block only apply to matching connections: they never change
  ports and are not the global value of a setting;
* `ListenAddress host[:port]` / `[v6]:port`: without a port it listens on every `Port`;
* `AddressFamily` (default any) decides 0.0.0.0 and/or :: when no ListenAddress is set;
* `-p PORT` in SSHD_OPTS (the unit's environment) replaces the config's ports;
* when ssh.socket is enabled and ssh.service is not, systemd owns the listening socket.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from modernize.detector import Detector
from modernize.facts import Found, ServiceFacts
from modernize.model import Evidence, FileRef, InitUnit, Port
from modernize.snapshot import Snapshot
from modernize.snapshot import paths as P
from modernize.snapshot.declarations import whole

MAIN = "/etc/ssh/sshd_config"
SSHDIR = "/etc/ssh"
DEFAULT_PORT = 22
MAX_DEPTH = 16
# keywords whose global (non-Match) value is reported as an attribute
ATTRIBUTES = ("permitrootlogin", "passwordauthentication", "addressfamily", "pubkeyauthentication")
ATTRIBUTE_NAMES = {
    "permitrootlogin": "PermitRootLogin",
    "passwordauthentication": "PasswordAuthentication",
    "addressfamily": "AddressFamily",
    "pubkeyauthentication": "PubkeyAuthentication",
}


@dataclass
class Line:
    keyword: str  # lower-case
    args: list[str]
    path: str
    line: int
    text: str
    via: tuple[str, ...]
    in_match: bool


@dataclass
class SshdConfig:
    lines: list[Line] = field(default_factory=list)
    files: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def first(self, keyword: str) -> Line | None:
        return next((ln for ln in self.lines if ln.keyword == keyword and not ln.in_match), None)

    def all(self, keyword: str) -> list[Line]:
        return [ln for ln in self.lines if ln.keyword == keyword and not ln.in_match]


def split_line(text: str) -> tuple[str, list[str]] | None:
    """`Keyword args` / `Keyword=args` -> (lower-case keyword, args); quotes as sshd's argv_split."""
    s = text.strip()
    if not s or s.startswith("#"):
        return None
    m = re.match(r"([A-Za-z0-9_-]+)\s*(?:=\s*|\s+|$)(.*)$", s)
    if not m:
        return None
    rest = m.group(2)
    try:
        args = shlex.split(rest, comments=True, posix=True)
    except ValueError:
        args = rest.split()
    return m.group(1).lower(), args


def parse(snap: Snapshot, path: str = MAIN) -> SshdConfig | None:
    cfg = SshdConfig()
    text = snap.text(path)
    if text is None:
        return None
    _parse_text(snap, cfg, path, text, (), False, 0)
    return cfg


def _parse_text(
    snap: Snapshot, cfg: SshdConfig, path: str, text: str, via: tuple[str, ...], in_match: bool, depth: int
) -> None:
    cfg.files.append((path, via))
    for no, raw in enumerate(text.splitlines(), 1):
        parsed = split_line(raw)
        if parsed is None:
            continue
        keyword, args = parsed
        if keyword == "match":
            # `Match all` returns to global scope for the lines after it
            in_match = not (len(args) == 1 and args[0].lower() == "all")
            continue
        if keyword == "include":
            if depth >= MAX_DEPTH:
                continue
            targets: list[str] = []
            for pattern in args:
                pat = pattern if pattern.startswith("/") else P.join(SSHDIR, pattern)
                targets.extend(sorted(snap.glob(P.normalize(pat))))
            snap.want(targets)
            for target in targets:
                sub = snap.text(target)
                if sub is not None and snap.is_file(target):
                    _parse_text(snap, cfg, target, sub, (*via, path), in_match, depth + 1)
            continue
        cfg.lines.append(Line(keyword, args, path, no, raw.strip(), via, in_match))


def split_listen(value: str) -> tuple[str, int | None]:
    """sshd ListenAddress forms: `host`, `1.2.3.4:22`, `[::1]:22`, `::1` (bare IPv6)."""
    m = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?", value)
    if m:
        return m.group(1), int(m.group(2)) if m.group(2) else None
    if value.count(":") == 1:
        host, _, port = value.partition(":")
        if port.isdigit():
            return host, int(port)
    return value, None


def _family_ok(address: str, family: str) -> bool:
    v6 = ":" in address
    return family == "any" or (family == "inet6") == v6


def wildcard(family: str) -> list[str]:
    return {"inet": ["0.0.0.0"], "inet6": ["::"]}.get(family, ["0.0.0.0", "::"])


def _cmdline_ports(unit: InitUnit | None) -> list[int]:
    """`-p PORT` in SSHD_OPTS (Debian's /etc/default/ssh via the unit's environment)."""
    if unit is None:
        return []
    words: list[str] = []
    for var in unit.environment:
        if var.name == "SSHD_OPTS" and var.value:
            words += var.value.split()
    for argv in unit.exec_start:
        words += [w for w in argv[1:] if not w.startswith("$")]
    out = []
    for i, w in enumerate(words):
        if w == "-p" and i + 1 < len(words) and words[i + 1].isdigit():
            out.append(int(words[i + 1]))
        elif w.startswith("-p") and w[2:].isdigit():
            out.append(int(w[2:]))
    return out


def ports_of(cfg: SshdConfig, cmdline: list[int] | None = None) -> list[Port]:
    fam_line = cfg.first("addressfamily")
    family = fam_line.args[0].lower() if fam_line and fam_line.args else "any"
    port_lines = cfg.all("port")
    ports: list[tuple[int, Evidence]] = []
    if cmdline:
        ev = Evidence("unit", detail="sshd -p on the command line replaces the config's Port lines")
        ports = [(p, ev) for p in cmdline]
    else:
        for ln in port_lines:
            for a in ln.args[:1]:
                if a.isdigit():
                    ports.append((int(a), _ev(ln)))
    source = "configured"
    if not ports:
        ports = [(DEFAULT_PORT, Evidence("default", detail="sshd listens on port 22 when no Port line is set"))]
        source = "default"
    out: list[Port] = []
    listens = cfg.all("listenaddress")
    if not listens:
        for port, ev in ports:
            for addr in wildcard(family):
                out.append(Port(port, "tcp", addr, source=source, evidence=(ev,)))
        return out
    for ln in listens:
        if not ln.args:
            continue
        host, lport = split_listen(ln.args[0])
        if not _family_ok(host, family) and not re.search(r"[A-Za-z]", host):
            continue
        addrs = [host]
        if lport is not None:
            out += [Port(lport, "tcp", a, evidence=(_ev(ln),)) for a in addrs]
        else:
            out += [Port(p, "tcp", a, source=source, evidence=(_ev(ln), ev)) for p, ev in ports for a in addrs]
    return out


def _ev(ln: Line) -> Evidence:
    return Evidence("config", ln.path, ln.line, excerpt=ln.text, via=ln.via)


def socket_ports(unit: InitUnit) -> list[Port]:
    """A socket unit's ListenStream= values: `22`, `0.0.0.0:22`, `[::]:22`, `/run/x.sock`."""
    out = []
    ev = (unit.evidence[0],) if unit.evidence else ()
    for value in unit.listen:
        if value.startswith("/"):
            out.append(Port(None, "unix", socket=value, evidence=ev))
            continue
        host, port = split_listen(value)
        if port is None and host.isdigit():
            out += [Port(int(host), "tcp", a, evidence=ev) for a in ("0.0.0.0", "::")]
        elif port is not None:
            out.append(Port(port, "tcp", host, evidence=ev))
    return out


class SshdDetector(Detector):
    name = "sshd"
    tags = ("service", "remote-access", "plumbing")
    requires = ("systemd", "sysv")
    reads = whole(MAIN, f"{SSHDIR}/sshd_config.d/*")

    def detect(self, snap: Snapshot, found: Found) -> None:
        if not snap.exists(MAIN):
            return
        cfg = parse(snap)
        if cfg is None:
            return
        units = {u.name: u for u in found.units}
        service_unit = units.get("ssh.service") or units.get("sshd.service")
        sock = units.get("ssh.socket") or units.get("sshd.socket")
        sf = ServiceFacts(
            software="sshd",
            kind="remote-access",
            plumbing=True,
            packages=["openssh-server"],
            binaries=["/usr/sbin/sshd"],
            units=["ssh.service", "sshd.service", "ssh.socket", "sshd.socket", "ssh", "sshd"],
            evidence=[Evidence("file", MAIN)],
        )
        for path, via in cfg.files:
            sf.config_files.append(FileRef(path, "config", evidence=(Evidence("config", path, via=via),)))
        if sock is not None and sock.enabled and not (service_unit is not None and service_unit.enabled):
            sf.ports = socket_ports(sock)
            sf.attributes["socket_activated"] = sock.name
        else:
            sf.ports = ports_of(cfg, _cmdline_ports(service_unit))
        for key in ATTRIBUTES:
            ln = cfg.first(key)
            if ln is not None and ln.args:
                sf.attributes[ATTRIBUTE_NAMES[key]] = ln.args[0]
        hostkeys = [ln for ln in cfg.all("hostkey") if ln.args]
        for ln in hostkeys:
            sf.config_files.append(FileRef(ln.args[0], "certs", evidence=(_ev(ln),)))
        if not hostkeys:
            # sshd's documented default host keys, when no HostKey line names any
            for kind in ("rsa", "ecdsa", "ed25519"):
                key = f"/etc/ssh/ssh_host_{kind}_key"
                if snap.exists(key):
                    detail = "sshd's default HostKey"
                    sf.config_files.append(FileRef(key, "certs", evidence=(Evidence("default", key, detail=detail),)))
        found.add(sf)
