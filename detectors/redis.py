"""Redis servers (and Redis Sentinel), from the config file each one is started with.

Which files: `/etc/redis/redis.conf` (Debian, RHEL 9), `/etc/redis.conf` (Alpine,
older RHEL), `/etc/redis/redis-NAME.conf` for Debian's `redis-server@NAME` instances,
and any `*.conf` an init unit passes to `redis-server`. A file another one includes
is not an instance of its own. Rules (redis.conf reference, see
`modernize.parsers.redisconf`): the last `port`/`bind`/`dir`... wins; `port 0` turns
TCP off; with no `bind` Redis listens on every interface; a `-` before a bind
address makes it optional (`-::1`); `dir` is the data directory (relative to the
working directory); `logfile ""` means stdout. `requirepass`, `masterauth` and ACL
`user NAME ... >password` lines are secrets. Sentinel (`port` default 26379) is
reported, but with ports only when an init unit for it is enabled.
"""

from __future__ import annotations

from dataclasses import dataclass

from modernize.detector import Detector
from modernize.facts import Endpoint, Found, ServiceFacts
from modernize.model import Evidence, FileRef, InitUnit, Port, file_ref
from modernize.parsers.redisconf import Directive, RedisConf, load
from modernize.secrets import MASK, make_secret
from modernize.snapshot import Snapshot
from modernize.snapshot.declarations import whole
from modernize.snapshot.paths import join

MAIN = ("/etc/redis/redis.conf", "/etc/redis.conf")
SENTINEL = ("/etc/redis/sentinel.conf", "/etc/sentinel.conf", "/etc/redis-sentinel.conf")
SECRET_DIRECTIVES = ("requirepass", "masterauth", "tls-key-file-pass", "tls-client-key-file-pass")
PACKAGES = ["redis-server", "redis", "redis7", "redis6", "redis-sentinel"]


@dataclass
class Instance:
    path: str
    instance: str | None
    units: list[str]
    conf: RedisConf  # loaded once, with its includes


def _excerpt(d: Directive) -> str:
    if d.name in SECRET_DIRECTIVES or d.name == "user":
        return f"{d.name} {MASK}"
    if d.name == "sentinel" and d.args[:1] and d.args[0].lower() == "auth-pass":
        return f"sentinel auth-pass {MASK}"
    return " ".join((d.name, *d.args))


def _ev(d: Directive) -> Evidence:
    return Evidence("config", d.path, d.line, excerpt=_excerpt(d), via=d.via)


def _server_conf(unit: InitUnit, binary: str) -> str | None:
    for argv in unit.exec_start:
        if argv and argv[0].rsplit("/", 1)[-1] == binary:
            for a in argv[1:]:
                if a.startswith("/") and a.endswith(".conf"):
                    return a
    return None


class RedisDetector(Detector):
    name = "redis"
    tags = ("service", "cache")
    requires = ("systemd", "sysv", "supervisord")
    reads = whole(*MAIN, "/etc/redis/*.conf", *SENTINEL)

    def detect(self, snap: Snapshot, found: Found) -> None:
        instances = self._instances(snap, found)
        for inst in instances:
            for path, why in inst.conf.errors:
                found.unparsable(path, why)
            found.add(self._server(found, inst, inst.conf, several=len(instances) > 1))
        for path in SENTINEL:
            if snap.is_file(path):
                conf = load(snap, path)
                found.add(self._sentinel(found, path, conf))
                break

    # -- which configs run ----------------------------------------------------------------
    def _instances(self, snap: Snapshot, found: Found) -> list[Instance]:
        by_conf: dict[str, list[str]] = {}
        for unit in found.units:
            conf = _server_conf(unit, "redis-server")
            if conf:
                by_conf.setdefault(conf, []).append(unit.name)
        snap.want([c for c in by_conf if c not in MAIN])
        candidates = [p for p in MAIN if snap.is_file(p)]
        candidates += [c for c in sorted(by_conf) if c not in candidates and snap.is_file(c)]
        # Debian instance files are only instances when their template unit runs them
        confs = {c: load(snap, c) for c in candidates}
        included = {f for conf in confs.values() for f in conf.files[1:]}
        out = []
        for c in candidates:
            if c in included:
                continue
            name = c.rsplit("/", 1)[1].removesuffix(".conf")
            if c in MAIN:
                instance, units = None, ["redis-server.service", "redis.service", "redis"]
            elif c.startswith("/etc/redis/redis-"):
                instance = name.removeprefix("redis-")
                units = [f"redis-server@{instance}.service"]
            else:
                instance, units = c, []
            out.append(Instance(c, instance, list(dict.fromkeys(units + by_conf.get(c, []))), confs[c]))
        return out

    # -- a server ---------------------------------------------------------------------------
    def _server(self, found: Found, inst: Instance, conf: RedisConf, *, several: bool) -> ServiceFacts:
        sf = ServiceFacts(
            software="redis", kind="cache", instance=inst.instance, units=inst.units, packages=list(PACKAGES)
        )
        if not several:
            sf.binaries = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
        for f in dict.fromkeys(conf.files):
            sf.config_files.append(file_ref(f, "config"))
        self._ports(sf, conf, default_port=6379, what="Redis")
        self._paths(sf, conf)
        self._secrets(sf, conf)
        replica = conf.last("replicaof") or conf.last("slaveof")
        if replica and len(replica.args) >= 2 and replica.args[1].isdigit():
            sf.endpoints.append(
                Endpoint(replica.name, replica.args[0], int(replica.args[1]), "redis", None, (_ev(replica),))
            )
        return sf

    @staticmethod
    def _ports(sf: ServiceFacts, conf: RedisConf, *, default_port: int, what: str) -> None:
        p = conf.last("port")
        port, port_ev = default_port, Evidence("default", detail=f"{what} listens on {default_port} with no `port`")
        if p and p.args and p.args[0].isdigit():
            port, port_ev = int(p.args[0]), _ev(p)
        b = conf.last("bind")
        tcp = [port] if port else []
        tls = conf.last("tls-port")
        if tls and tls.args and tls.args[0].isdigit() and int(tls.args[0]):
            tcp.append(int(tls.args[0]))
        for number in tcp:
            ev = port_ev if number == port else _ev(tls) if tls else port_ev
            src = "configured" if (p or number != port) else "default"
            if b and b.args:
                for a in dict.fromkeys(b.args):
                    addr: str | None = a.removeprefix("-")
                    addr = {"*": "0.0.0.0", "::*": "::"}.get(addr or "", addr)
                    sf.ports.append(Port(number, "tcp", addr, source="configured", evidence=(ev, _ev(b))))
            else:
                all_ev = Evidence("default", detail=f"{what} listens on every interface when `bind` is not set")
                sf.ports.append(Port(number, "tcp", None, source=src, evidence=(ev, all_ev)))
        if p and not port:
            sf.attributes["tcp"] = "disabled (port 0)"
        us = conf.last("unixsocket")
        if us and us.args and us.args[0]:
            sf.ports.append(Port(None, "unix", None, us.args[0], "configured", (_ev(us),)))

    @staticmethod
    def _paths(sf: ServiceFacts, conf: RedisConf) -> None:
        d = conf.last("dir")
        data = d.args[0] if d and d.args else None
        if data and data.startswith("/"):
            sf.data_dirs.append(FileRef(data.rstrip("/") or "/", "data", evidence=(_ev(d),) if d else ()))
        elif data:
            sf.attributes["data_dir"] = f"{data} (relative to the working directory)"
        else:
            sf.attributes["data_dir"] = "the working directory (no `dir`)"
        lf = conf.last("logfile")
        if lf and lf.args and lf.args[0]:
            path = lf.args[0] if lf.args[0].startswith("/") or not data else join(data, lf.args[0])
            sf.log_paths.append(FileRef(path, "logs", evidence=(_ev(lf),)))
        acl = conf.last("aclfile")
        if acl and acl.args:
            sf.config_files.append(FileRef(acl.args[0], "config", evidence=(_ev(acl),)))

    @staticmethod
    def _secrets(sf: ServiceFacts, conf: RedisConf) -> None:
        for name in SECRET_DIRECTIVES:
            d = conf.last(name)
            if d and d.args and d.args[0]:
                sf.secrets.append(make_secret(name, d.args[0], d.path, d.line))
        for d in conf.all("user"):
            user = d.args[0] if d.args else "?"
            for rule in d.args[1:]:
                if rule.startswith(">") and len(rule) > 1:
                    sf.secrets.append(make_secret(f"user {user}", rule[1:], d.path, d.line))
                elif rule.startswith("#") and len(rule) > 1:
                    sf.secrets.append(make_secret(f"user {user}", rule[1:], d.path, d.line, kind="password-hash"))
        for d in conf.all("sentinel"):
            if len(d.args) >= 3 and d.args[0].lower() == "auth-pass":
                sf.secrets.append(make_secret(f"sentinel auth-pass {d.args[1]}", d.args[2], d.path, d.line))

    # -- sentinel --------------------------------------------------------------------------------
    def _sentinel(self, found: Found, path: str, conf: RedisConf) -> ServiceFacts:
        names = ("redis-sentinel.service", "sentinel.service", "redis-sentinel")
        units = [u for u in found.units if u.name in names or _server_conf(u, "redis-sentinel") == path]
        enabled = any(u.enabled for u in units)
        sf = ServiceFacts(
            software="redis-sentinel",
            kind="other",
            units=[u.name for u in units] or list(names),
            packages=["redis-sentinel", "redis"],
            enabled=enabled if units else None,
        )
        sf.config_files.append(file_ref(path, "config"))
        for f in conf.files[1:]:
            sf.config_files.append(file_ref(f, "config"))
        self._secrets(sf, conf)
        if not enabled:
            sf.attributes["listening"] = "no: no enabled init unit starts redis-sentinel"
            return sf
        self._ports(sf, conf, default_port=26379, what="Redis Sentinel")
        for d in conf.all("sentinel"):
            if len(d.args) >= 4 and d.args[0].lower() == "monitor" and d.args[3].isdigit():
                sf.endpoints.append(
                    Endpoint(f"sentinel monitor {d.args[1]}", d.args[2], int(d.args[3]), "redis", None, (_ev(d),))
                )
        return sf
