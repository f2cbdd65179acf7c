"""MariaDB and MySQL servers, from the option files the server itself reads.

The server reads `/etc/my.cnf` then `/etc/mysql/my.cnf` (on Debian a link through
/etc/alternatives to `mariadb.cnf` or `mysql.cnf`), following `!include` and
`!includedir` (see `modernize.parsers.mycnf`). Only the groups the server reads
count: MySQL `[mysqld]`, `[server]`, `[mysqld-X.Y]`; MariaDB also `[mariadb]`,
`[mariadbd]`, `[mariadb-X.Y]`, `[mariadbd-X.Y]`, `[client-server]` and `[galera]`.
`[client]`, `[mysql]`, `[mysqldump]` ... are client settings and never describe the
server. The last value wins. Defaults (server manuals): port 3306, every address
(bind-address unset), datadir /var/lib/mysql, socket /run/mysqld/mysqld.sock
(Debian builds) or /var/lib/mysql/mysql.sock (RHEL builds); `skip-networking` turns TCP off.
A host counts as a server only with a server package, an init unit or a server binary:
a client-only host has option files too.
"""

from __future__ import annotations

import re

from modernize.detector import Detector
from modernize.facts import Found, ServiceFacts
from modernize.model import Evidence, FileRef, Port, file_ref
from modernize.parsers.mycnf import Option, OptionFiles, load
from modernize.secrets import MASK, make_secret
from modernize.snapshot import Snapshot
from modernize.snapshot.declarations import whole
from modernize.snapshot.paths import join

ENTRY = ("/etc/my.cnf", "/etc/mysql/my.cnf")
PACKAGES = (
    "mariadb-server",
    "mariadb-server-core",
    "mysql-server",
    "mysql-community-server",
    "mysql-server-8.0",
    "mysql-server-core-8.0",
    "mariadb",
    "percona-server-server",
)
UNITS = ("mariadb.service", "mysql.service", "mysqld.service", "mariadb", "mysql", "mysqld")
BINARIES = ("/usr/sbin/mariadbd", "/usr/sbin/mysqld", "/usr/bin/mariadbd", "/usr/bin/mysqld", "/usr/libexec/mysqld")
TRUE = ("", "1", "on", "true", "yes")


def server_groups(software: str, series: str | None) -> set[str]:
    groups = {"mysqld", "server"}
    if series:
        groups.add(f"mysqld-{series}")
    if software == "mariadb":
        groups |= {"mariadb", "mariadbd", "client-server", "galera"}
        if series:
            groups |= {f"mariadb-{series}", f"mariadbd-{series}"}
    return groups


def _versioned(group: str, software: str) -> bool:
    prefixes = ("mysqld", "mariadb", "mariadbd") if software == "mariadb" else ("mysqld",)
    return any(re.fullmatch(rf"{p}-\d+\.\d+", group) for p in prefixes)


def _ev(opt: Option) -> Evidence:
    excerpt = opt.raw if "password" not in opt.name else f"{opt.name} = {MASK}"
    return Evidence("config", opt.path, opt.line, excerpt=excerpt, via=opt.via)


class MysqlDetector(Detector):
    name = "mysql"
    tags = ("service", "database")
    requires = ("os", "systemd", "sysv", "dpkg", "rpm", "apk")
    reads = whole(
        *ENTRY,
        "/etc/alternatives/my.cnf",
        "/etc/mysql/*.cnf",
        "/etc/mysql/conf.d/*.cnf",
        "/etc/mysql/mariadb.conf.d/*.cnf",
        "/etc/mysql/mysql.conf.d/*.cnf",
        "/etc/my.cnf.d/*.cnf",
    )

    def detect(self, snap: Snapshot, found: Found) -> None:
        evidence = self._installed(snap, found)
        if not evidence:
            return
        software = self._software(snap, found)
        pkg = found.package(*PACKAGES)
        series = None
        if pkg is not None:
            m = re.match(r"(\d+)\.(\d+)", pkg.version.upstream)
            series = f"{m.group(1)}.{m.group(2)}" if m else None
        files = OptionFiles()
        for entry in ENTRY:
            if snap.exists(entry):
                load(snap, entry, files)
        for path, why in files.errors:
            found.unparsable(path, why)
        groups = server_groups(software, series)
        if series is None:  # version unknown: a version-specific group may apply
            groups |= {o.group for o in files.options if _versioned(o.group, software)}
        opts = files.effective(groups)
        sf = ServiceFacts(
            software=software,
            kind="database",
            packages=list(PACKAGES),
            units=list(UNITS),
            binaries=list(BINARIES),
            evidence=evidence,
        )
        for f in files.files:
            if f in ENTRY or files.groups_of.get(f, set()) & groups:
                sf.config_files.append(file_ref(f, "config"))
                real = snap.realpath(f)
                if real and real != f:
                    sf.config_files.append(FileRef(real, "config", evidence=(Evidence("symlink", f, detail=real),)))
        datadir = self._paths(sf, opts)
        self._ports(sf, opts, found, software, series)
        self._logs(sf, opts, datadir)
        if "user" in opts and opts["user"].value:
            sf.user = opts["user"].value
        self._debian_cnf(snap, sf)
        found.add(sf)

    @staticmethod
    def _installed(snap: Snapshot, found: Found) -> list[Evidence]:
        ev: list[Evidence] = []
        for name in PACKAGES:
            pkg = found.package(name)
            if pkg is not None:
                ev.append(Evidence("package", detail=f"{pkg.manager} package {name} {pkg.version.raw}"))
        for unit in found.units:
            if unit.name in UNITS:
                ev.append(Evidence("unit", unit.path, detail=f"init unit {unit.name}"))
        for b in BINARIES:
            if snap.is_file(b):
                ev.append(Evidence("binary", b))
        return ev

    @staticmethod
    def _software(snap: Snapshot, found: Found) -> str:
        if found.package("mariadb-server", "mariadb-server-core", "mariadb", "mariadb-common"):
            return "mariadb"
        if found.package("mysql-server", "mysql-community-server", "mysql-server-8.0", "mysql-server-core-8.0"):
            return "mysql"
        if snap.exists("/etc/mysql/mariadb.cnf") or snap.is_dir("/etc/mysql/mariadb.conf.d"):
            return "mariadb"
        if snap.exists("/etc/my.cnf.d/mariadb-server.cnf") or snap.is_file("/usr/sbin/mariadbd"):
            return "mariadb"
        return "mysql"

    @staticmethod
    def _paths(sf: ServiceFacts, opts: dict[str, Option]) -> str:
        d = opts.get("datadir")
        if d and d.value:
            sf.data_dirs.append(FileRef(d.value.rstrip("/") or "/", "data", evidence=(_ev(d),)))
            return d.value.rstrip("/")
        sf.data_dirs.append(
            FileRef(
                "/var/lib/mysql", "data", evidence=(Evidence("default", detail="datadir defaults to /var/lib/mysql"),)
            )
        )
        return "/var/lib/mysql"

    @staticmethod
    def _ports(sf: ServiceFacts, opts: dict[str, Option], found: Found, software: str, series: str | None) -> None:
        skip = opts.get("skip-networking")
        networking = not (skip and (skip.value or "").lower() in TRUE)
        p = opts.get("port")
        port, port_ev, src = 3306, Evidence("default", detail="the server listens on port 3306 by default"), "default"
        if p and p.value and p.value.isdigit():
            port, port_ev, src = int(p.value), _ev(p), "configured"
        b = opts.get("bind-address")
        if networking and port != 0:
            if b and b.value:
                addrs: list[str | None] = []
                for item in b.value.split(","):
                    addrs.append(None if item.strip() == "*" else item.strip())
                for a in dict.fromkeys(addrs):
                    sf.ports.append(Port(port, "tcp", a, source="configured", evidence=(port_ev, _ev(b))))
            else:
                detail = "with no bind-address the server listens on every address"
                sf.ports.append(
                    Port(port, "tcp", None, source=src, evidence=(port_ev, Evidence("default", detail=detail)))
                )
        elif skip:
            sf.attributes["skip_networking"] = "true"
            sf.evidence.append(_ev(skip))
        s = opts.get("socket")
        if s and s.value:
            sf.ports.append(Port(None, "unix", None, s.value, "configured", (_ev(s),)))
        else:
            rhel = found.host.os is not None and found.host.os.family == "rhel"
            sock = "/var/lib/mysql/mysql.sock" if rhel else "/run/mysqld/mysqld.sock"
            ev = Evidence("default", detail=f"the socket defaults to {sock} in this distribution's build")
            sf.ports.append(Port(None, "unix", None, sock, "default", (ev,)))
        if software == "mysql" and series and int(series.split(".")[0]) >= 8 and networking:
            mx = opts.get("mysqlx")
            if not (mx and (mx.value or "").lower() in ("0", "off", "false")):
                xp = opts.get("mysqlx-port")
                xport = int(xp.value) if xp and xp.value and xp.value.isdigit() else 33060
                xev = _ev(xp) if xp else Evidence("default", detail="MySQL 8 X Protocol listens on 33060 by default")
                sf.ports.append(Port(xport, "tcp", None, source="configured" if xp else "default", evidence=(xev,)))

    @staticmethod
    def _logs(sf: ServiceFacts, opts: dict[str, Option], datadir: str) -> None:
        for key in ("log-error", "general-log-file", "slow-query-log-file"):
            o = opts.get(key)
            if o and o.value:
                path = o.value if o.value.startswith("/") else join(datadir, o.value)
                sf.log_paths.append(FileRef(path, "logs", evidence=(_ev(o),)))

    @staticmethod
    def _debian_cnf(snap: Snapshot, sf: ServiceFacts) -> None:
        path = "/etc/mysql/debian.cnf"
        if not snap.exists(path):
            return
        files = load(snap, path)
        for o in files.options:
            if o.name == "password" and o.value:
                sf.secrets.append(make_secret(f"{o.group}.password", o.value, o.path, o.line))
        sf.config_files.append(file_ref(path, "config"))
