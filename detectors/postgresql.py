"""PostgreSQL clusters, in the Debian layout and the data-directory (RHEL, PGDG, Alpine) layout.

Debian (postgresql-common): one cluster per `/etc/postgresql/<ver>/<cluster>/`, with
`postgresql.conf` (+ its includes, see `modernize.parsers.pgconf`), `start.conf`
(auto | manual | disabled: only `auto` clusters are started by `postgresql.service`),
`pg_hba.conf`, `environment`; `pg_ctlcluster` sends the server log to
`/var/log/postgresql/postgresql-<ver>-<cluster>.log` unless `logging_collector` is on.
RHEL/PGDG/Alpine: `postgresql.conf` lives in the data directory (`PGDATA`), whose
`PG_VERSION` names the major version. In both, `postgresql.auto.conf` in the data
directory (ALTER SYSTEM) is read last and wins.

Defaults (PostgreSQL docs, "Connections and Authentication"): port 5432,
listen_addresses 'localhost' (127.0.0.1 and ::1), unix_socket_directories
'/var/run/postgresql' on Debian ('/tmp' upstream, '/run/postgresql, /tmp' on RHEL).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace

from modernize.detector import Detector
from modernize.endpoints import classify_setting
from modernize.facts import Endpoint, Found, ServiceFacts
from modernize.model import Evidence, FileRef, Port, Secret, file_ref
from modernize.parsers.pgconf import PgConf, PgSetting, load, split_list
from modernize.parsers.shell import split_command
from modernize.secrets import MASK, make_secret
from modernize.snapshot import Snapshot
from modernize.snapshot.declarations import whole
from modernize.snapshot.paths import join, normalize, parent
from modernize.versions import make_version

DEBIAN_ETC = "/etc/postgresql"
DATA_DIR_GLOBS = ("/var/lib/pgsql/data", "/var/lib/pgsql/*/data", "/var/lib/postgresql/*/data")
PGPASS = ("/var/lib/pgsql/.pgpass", "/var/lib/postgresql/.pgpass")
DEFAULT_PORT = 5432


@dataclass
class Cluster:
    layout: str  # debian | datadir
    conf_path: str
    version: str | None
    name: str | None  # Debian cluster name
    data_dir: str
    instance: str | None
    units: list[str]
    packages: list[str]
    enabled: bool | None = None
    start_ev: Evidence | None = None


def _excerpt(s: PgSetting) -> str:
    return s.raw if "password" not in s.name else f"{s.name} = {MASK}"


# Settings that name this host's paths, sockets, certificates, logging or locales: the
# image sets its own. Everything else a server set (tuning, behaviour) is recorded.
HOST_SETTINGS = frozenset(
    [
        "data_directory",
        "hba_file",
        "ident_file",
        "external_pid_file",
        "port",
        "listen_addresses",
        "unix_socket_directories",
        "unix_socket_directory",
        "unix_socket_group",
        "unix_socket_permissions",
        "cluster_name",
        "stats_temp_directory",
        "ssl",
        "ssl_cert_file",
        "ssl_key_file",
        "ssl_ca_file",
        "ssl_crl_file",
        "ssl_crl_dir",
        "ssl_dh_params_file",
        "ssl_passphrase_command",
        "include",
        "include_dir",
        "include_if_exists",
        "log_directory",
        "log_filename",
        "logging_collector",
        "log_destination",
        "log_file_mode",
        "log_rotation_age",
        "log_rotation_size",
        "log_truncate_on_rotation",
        "syslog_facility",
        "syslog_ident",
        "event_source",
        "archive_command",
        "archive_library",
        "restore_command",
        "archive_cleanup_command",
        "recovery_end_command",
        "krb_server_keyfile",
        "lc_messages",
        "lc_monetary",
        "lc_numeric",
        "lc_time",
        "dynamic_library_path",
    ]
)
# what initdb writes into every postgresql.conf (upstream's template, and Debian's log_line_prefix)
TEMPLATE_VALUES = {
    "max_connections": "100",
    "shared_buffers": "128MB",
    "dynamic_shared_memory_type": "posix",
    "max_wal_size": "1GB",
    "min_wal_size": "80MB",
    "datestyle": "iso, mdy",
    "default_text_search_config": "pg_catalog.english",
    "timezone": "Etc/UTC",
    "log_timezone": "Etc/UTC",
    "log_line_prefix": "%m [%p] %q%u@%d ",
}


def _settings(sf: ServiceFacts, conf: PgConf) -> None:
    """The server's own settings (attributes `setting.NAME`), each line cited on the
    config file that sets it."""
    lines: dict[str, list[Evidence]] = {}
    for name, s in sorted(conf.settings.items()):
        if name in HOST_SETTINGS or TEMPLATE_VALUES.get(name) == s.value:
            continue
        sf.attributes[f"setting.{name}"] = s.value
        lines.setdefault(s.path, []).append(_ev(s))
    for i, ref in enumerate(sf.config_files):
        if ref.path in lines:
            sf.config_files[i] = replace(ref, evidence=(*ref.evidence, *lines.pop(ref.path)))


def _ev(s: PgSetting) -> Evidence:
    return Evidence("config", s.path, s.line, excerpt=_excerpt(s), via=s.via)


def listen_addresses(value: str) -> list[str | None]:
    """listen_addresses as bind addresses: '*' is every address (None), 'localhost'
    the two loopbacks, '' no TCP at all."""
    out: list[str | None] = []
    for item in split_list(value):
        if item == "*":
            return [None]
        if item == "localhost":
            out.extend(["127.0.0.1", "::1"])
        else:
            out.append(item)
    return list(dict.fromkeys(out))


def conninfo(value: str) -> dict[str, str]:
    """libpq `key=value key2='v 2'` connection strings."""
    words = split_command(value)
    out = {}
    for w in words:
        k, sep, v = w.partition("=")
        if sep:
            out[k.strip()] = v
    return out


class PostgresqlDetector(Detector):
    name = "postgresql"
    tags = ("service", "database")
    requires = ("systemd", "sysv", "dpkg", "rpm", "apk")
    reads = whole(
        f"{DEBIAN_ETC}/*/*/postgresql.conf",
        f"{DEBIAN_ETC}/*/*/conf.d/*.conf",
        f"{DEBIAN_ETC}/*/*/start.conf",
        f"{DEBIAN_ETC}/*/*/pg_hba.conf",
        f"{DEBIAN_ETC}/*/*/environment",
        "/var/lib/postgresql/*/*/postgresql.auto.conf",
        "/var/lib/postgresql/*/*/PG_VERSION",
        *(
            f"{d}/{f}"
            for d in DATA_DIR_GLOBS
            for f in ("postgresql.conf", "postgresql.auto.conf", "PG_VERSION", "pg_hba.conf", "conf.d/*.conf")
        ),
        *PGPASS,
    )

    def detect(self, snap: Snapshot, found: Found) -> None:
        clusters = self._debian_clusters(snap, found) + self._datadir_clusters(snap, found)
        pgpass = self._pgpass(snap)
        for cl in clusters:
            self._cluster(snap, found, cl, pgpass)

    # -- discovering clusters ----------------------------------------------------------
    def _debian_clusters(self, snap: Snapshot, found: Found) -> list[Cluster]:
        out = []
        for conf in snap.glob(f"{DEBIAN_ETC}/*/*/postgresql.conf"):
            base = parent(conf)
            ver, name = base.split("/")[-2:]
            start, enabled, start_ev = "auto", True, None
            text = snap.text(f"{base}/start.conf")
            if text is not None:
                for no, line in enumerate(text.splitlines(), 1):
                    word = line.split("#", 1)[0].strip()
                    if word:
                        start = word
                        start_ev = Evidence("config", f"{base}/start.conf", no, excerpt=word)
                        break
                enabled = start == "auto"
            units = [f"postgresql@{ver}-{name}.service"] + (["postgresql.service"] if start == "auto" else [])
            out.append(
                Cluster(
                    "debian",
                    conf,
                    ver,
                    name,
                    f"/var/lib/postgresql/{ver}/{name}",
                    f"{ver}/{name}",
                    units,
                    [f"postgresql-{ver}"],
                    enabled,
                    start_ev,
                )
            )
        return out

    def _datadir_clusters(self, snap: Snapshot, found: Found) -> list[Cluster]:
        dirs: dict[str, list[str]] = {}
        for pattern in DATA_DIR_GLOBS:
            for d in snap.glob(pattern):
                dirs.setdefault(d, [])
        # PGDATA named by an init unit (RHEL postgresql.service, PGDG postgresql-15.service)
        for unit in found.units:
            for var in unit.environment:
                if var.name == "PGDATA" and var.value and var.value.startswith("/"):
                    dirs.setdefault(normalize(var.value), []).append(unit.name)
        extra = [f"{d}/{f}" for d in dirs for f in ("postgresql.conf", "postgresql.auto.conf", "PG_VERSION")]
        snap.want(extra)
        out = []
        for d, units in sorted(dirs.items()):
            conf = f"{d}/postgresql.conf"
            if not snap.is_file(conf):
                continue
            pgv = (snap.text(f"{d}/PG_VERSION") or "").strip() or None
            parts = d.split("/")
            ver = pgv or (parts[-2] if parts[-1] == "data" and parts[-2][:1].isdigit() else None)
            if not units:
                if d == "/var/lib/pgsql/data":
                    units = ["postgresql.service"]
                elif ver and d.startswith("/var/lib/pgsql/"):
                    units = [f"postgresql-{ver}.service"]
                else:
                    units = ["postgresql.service", "postgresql"]
            instance = (
                None
                if d == "/var/lib/pgsql/data"
                else (ver if d.startswith(("/var/lib/pgsql/", "/var/lib/postgresql/")) else d)
            )
            packages = ["postgresql-server"]
            if ver:
                packages += [f"postgresql{ver}-server", f"postgresql{ver}"]
            packages.append("postgresql")
            out.append(Cluster("datadir", conf, ver, None, d, instance, units, packages))
        return out

    # -- one cluster -------------------------------------------------------------------------
    def _cluster(self, snap: Snapshot, found: Found, cl: Cluster, pgpass: list[Secret]) -> None:
        conf = load(snap, cl.conf_path)
        for path, why in conf.errors:
            found.unparsable(path, why)
        data_dir = conf.value("data_directory") or cl.data_dir
        auto = f"{data_dir}/postgresql.auto.conf"
        snap.want([auto, f"{data_dir}/PG_VERSION"])
        if snap.is_file(auto):
            load(snap, auto, conf)
        version = cl.version
        if cl.layout == "debian":
            pgv = (snap.text(f"{data_dir}/PG_VERSION") or "").strip()
            version = pgv or cl.version
        sf = ServiceFacts(
            software="postgresql",
            kind="database",
            instance=cl.instance,
            units=list(cl.units),
            packages=list(cl.packages),
            enabled=cl.enabled,
        )
        if cl.start_ev:
            sf.evidence.append(cl.start_ev)
            sf.attributes["start"] = cl.start_ev.excerpt or ""
        if cl.name:
            sf.attributes["cluster"] = f"{cl.version}/{cl.name}"
        if not any(found.package(p) for p in cl.packages) and version:
            sf.version = make_version(version, "none", "postgresql")
            sf.evidence.append(Evidence("file", f"{data_dir}/PG_VERSION", detail=f"PG_VERSION {version}"))
        if cl.layout == "debian":
            sf.user = "postgres"  # pg_ctlcluster runs the cluster as its owner, postgres by packaging
        for f in dict.fromkeys(conf.files):
            sf.config_files.append(file_ref(f, "config"))
        self._data_dir(sf, conf, data_dir)
        self._ports(sf, conf, cl)
        self._logs(sf, conf, cl, data_dir)
        self._hba(snap, found, sf, conf, cl, data_dir)
        if cl.layout == "debian":
            self._environment(snap, sf, parent(cl.conf_path))
        self._replication(sf, conf)
        _settings(sf, conf)
        for key in ("ssl_cert_file", "ssl_key_file", "ssl_ca_file"):
            s = conf.get(key)
            if s and (conf.value("ssl") or "off").lower() in ("on", "true", "yes", "1"):
                path = s.value if s.value.startswith("/") else join(data_dir, s.value)
                sf.config_files.append(FileRef(path, "certs", evidence=(_ev(s),)))
        sf.secrets.extend(pgpass)
        found.add(sf)

    def _data_dir(self, sf: ServiceFacts, conf: PgConf, data_dir: str) -> None:
        s = conf.get("data_directory")
        ev = _ev(s) if s else Evidence("default", detail=f"data directory of this cluster: {data_dir}")
        sf.data_dirs.append(FileRef(data_dir, "data", evidence=(ev,)))

    def _ports(self, sf: ServiceFacts, conf: PgConf, cl: Cluster) -> None:
        ps = conf.get("port")
        port = DEFAULT_PORT
        port_ev = Evidence("default", detail="PostgreSQL listens on port 5432 when `port` is not set")
        if ps:
            try:
                port = int(ps.value)
                port_ev = _ev(ps)
            except ValueError:
                sf.attributes["port_unparsed"] = ps.value
        la = conf.get("listen_addresses")
        if la:
            addrs, addr_ev, src = listen_addresses(la.value), _ev(la), "configured"
        else:
            addrs, src = ["127.0.0.1", "::1"], "default"
            addr_ev = Evidence("default", detail="listen_addresses defaults to 'localhost' (127.0.0.1 and ::1)")
        if ps and src == "default":
            src = "configured"
        for a in addrs:
            sf.ports.append(Port(port, "tcp", a, source=src, evidence=(port_ev, addr_ev)))
        us = conf.get("unix_socket_directories") or conf.get("unix_socket_directory")
        if us:
            dirs, sock_ev = split_list(us.value), _ev(us)
        else:
            default = "/var/run/postgresql" if cl.layout == "debian" else "/run/postgresql, /tmp"
            dirs = split_list(default)
            sock_ev = Evidence("default", detail=f"unix_socket_directories defaults to '{default}' in this layout")
        for d in dirs:
            if d.startswith("@"):
                continue  # Linux abstract namespace: no file to carry
            sock = f"{d.rstrip('/')}/.s.PGSQL.{port}"
            sf.ports.append(Port(None, "unix", None, sock, "configured" if us else "default", (sock_ev,)))

    def _logs(self, sf: ServiceFacts, conf: PgConf, cl: Cluster, data_dir: str) -> None:
        lc = conf.get("logging_collector")
        if lc and lc.value.lower() in ("on", "true", "yes", "1"):
            ld = conf.get("log_directory")
            d = ld.value if ld else "log"
            path = d if d.startswith("/") else join(data_dir, d)
            ev = _ev(ld) if ld else Evidence("default", detail="log_directory defaults to 'log' in the data directory")
            sf.log_paths.append(FileRef(path, "logs", evidence=(_ev(lc), ev)))
        elif cl.layout == "debian":
            path = f"/var/log/postgresql/postgresql-{cl.version}-{cl.name}.log"
            sf.log_paths.append(
                FileRef(
                    path,
                    "logs",
                    evidence=(
                        Evidence(
                            "default",
                            detail="pg_ctlcluster logs to /var/log/postgresql/postgresql-<ver>-<cluster>.log "
                            "when logging_collector is off",
                        ),
                    ),
                )
            )

    def _hba(self, snap: Snapshot, found: Found, sf: ServiceFacts, conf: PgConf, cl: Cluster, data_dir: str) -> None:
        hs = conf.get("hba_file")
        path = hs.value if hs else f"{data_dir}/pg_hba.conf"
        snap.want([path])
        text = snap.text(path)
        if text is None:
            return
        sf.config_files.append(FileRef(path, "config", evidence=(_ev(hs) if hs else Evidence("file", path),)))
        methods: list[str] = []
        for no, line in enumerate(text.splitlines(), 1):
            rec = hba_record(line)
            if rec is None:
                continue
            kind, method, address = rec
            methods.append(method)
            if method == "trust" and kind != "local":
                found.finding(
                    "warning",
                    "postgresql-trust-auth",
                    f"{path}:{no}: `trust` authentication for network connections from {address}",
                    path,
                )
                sf.attributes["trust_network"] = "true"
        if methods:
            sf.attributes["hba_methods"] = ",".join(dict.fromkeys(methods))

    def _environment(self, snap: Snapshot, sf: ServiceFacts, base: str) -> None:
        path = f"{base}/environment"
        env = load(snap, path)
        if not env.files:
            return  # no such file
        sf.env_files.append(path)
        for s in env.settings.values():
            var, sec = classify_setting(s.name.upper(), s.value, s.path, s.line)
            sf.env.append(var)
            if sec:
                sf.secrets.append(sec)

    def _replication(self, sf: ServiceFacts, conf: PgConf) -> None:
        s = conf.get("primary_conninfo")
        if not s or not s.value:
            return
        info = conninfo(s.value)
        ev = Evidence("config", s.path, s.line, excerpt=f"primary_conninfo = {MASK}", via=s.via)
        if info.get("password"):
            sf.secrets.append(make_secret("primary_conninfo", info["password"], s.path, s.line))
        host = info.get("host") or info.get("hostaddr")
        port = int(info["port"]) if info.get("port", "").isdigit() else DEFAULT_PORT
        if host and host.startswith("/"):
            sf.endpoints.append(
                Endpoint("primary_conninfo", None, None, "postgresql", f"{host}/.s.PGSQL.{port}", (ev,))
            )
        elif host:
            sf.endpoints.append(Endpoint("primary_conninfo", host, port, "postgresql", None, (ev,)))

    # -- client password file ------------------------------------------------------------
    @staticmethod
    def _pgpass(snap: Snapshot) -> list[Secret]:
        out = []
        for path in PGPASS:
            text = snap.text(path)
            if text is None:
                continue
            for no, line in enumerate(text.splitlines(), 1):
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                fields = pgpass_fields(line)
                if len(fields) == 5 and fields[4]:
                    out.append(make_secret(fields[3], fields[4], path, no))
        return out


def pgpass_fields(line: str) -> list[str]:
    """hostname:port:database:username:password, with `\\:` and `\\\\` escapes."""
    fields: list[str] = []
    cur: list[str] = []
    i = 0
    while i < len(line):
        c = line[i]
        if c == "\\" and i + 1 < len(line):
            cur.append(line[i + 1])
            i += 2
            continue
        if c == ":" and len(fields) < 4:
            fields.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    fields.append("".join(cur))
    return fields


def hba_record(line: str) -> tuple[str, str, str] | None:
    """(connection type, auth method, address) of one pg_hba.conf record, or None.
    `host DB USER ADDRESS [MASK] METHOD [options]`, `local DB USER METHOD [options]`;
    double quotes keep a token whole, `#` starts a comment."""
    tokens: list[str] = []
    cur, quoted, in_q = "", False, False
    for c in line:
        if c == '"':
            in_q, quoted = not in_q, True
            continue
        if c == "#" and not in_q:
            break
        if c.isspace() and not in_q:
            if cur or quoted:
                tokens.append(cur)
            cur, quoted = "", False
            continue
        cur += c
    if cur or quoted:
        tokens.append(cur)
    if not tokens or tokens[0].startswith("include"):
        return None
    kind = tokens[0]
    if kind == "local":
        return (kind, tokens[3], "local") if len(tokens) >= 4 else None
    if len(tokens) < 5:
        return None
    address = tokens[3]
    idx = 4
    if "/" not in address and _is_ip(address) and len(tokens) >= 6 and _is_ip(tokens[4]):
        idx = 5  # an IP address followed by a netmask
    return (kind, tokens[idx], address) if idx < len(tokens) else None


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
