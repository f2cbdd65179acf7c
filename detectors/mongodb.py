"""MongoDB (mongod), from `/etc/mongod.conf` (official packages) or `/etc/mongodb.conf`
(the old distribution packages).

The file is YAML when it parses to a mapping (nested or dotted keys), else the
legacy `key = value` format, as mongod decides. Defaults (MongoDB "Configuration
File Options"): net.port 27017 (27018 for a shard, 27019 for a config server),
net.bindIp localhost (127.0.0.1, plus ::1 with net.ipv6), net.bindIpAll binds every
address, a unix socket `<pathPrefix or /tmp>/mongodb-<port>.sock` unless disabled,
storage.dbPath /data/db, logs on stdout unless systemLog.destination is `file`.
"""

from __future__ import annotations

from modernize.detector import Detector
from modernize.facts import Found, ServiceFacts
from modernize.model import Evidence, FileRef, Port, file_ref
from modernize.parsers.lines import numbered
from modernize.parsers.yamlflat import flatten
from modernize.secrets import MASK, is_secret_name, make_secret
from modernize.snapshot import Snapshot
from modernize.snapshot.declarations import whole

CONFIGS = ("/etc/mongod.conf", "/etc/mongodb.conf")
# legacy option -> YAML option
LEGACY = {
    "port": "net.port",
    "bind_ip": "net.bindIp",
    "bind_ip_all": "net.bindIpAll",
    "ipv6": "net.ipv6",
    "nounixsocket": "net.unixDomainSocket.enabled!",
    "unixsocketprefix": "net.unixDomainSocket.pathPrefix",
    "dbpath": "storage.dbPath",
    "logpath": "systemLog.path",
    "auth": "security.authorization",
    "keyfile": "security.keyFile",
    "replset": "replication.replSetName",
    "shardsvr": "sharding.clusterRole=shardsvr",
    "configsvr": "sharding.clusterRole=configsvr",
}
TRUE = ("true", "1", "yes", "on", "enabled")

Settings = dict[str, tuple[str, int, str]]  # key -> (value, line, excerpt)


def flatten_yaml(text: str) -> Settings | None:
    flat = flatten(text)
    if flat is None:
        return None
    out: Settings = {}
    for key, f in flat.items():
        shown = MASK if is_secret_name(key.rsplit(".", 1)[-1]) else f.value
        out[key] = (f.value, f.line, f"{key}: {shown}")
    return out


def legacy(text: str) -> Settings:
    out: Settings = {}
    for no, line in numbered(text):
        key, sep, val = line.partition("=")
        key, val = key.strip().lower(), val.split("#", 1)[0].strip() if sep else "true"
        target = LEGACY.get(key)
        if target is None:
            continue
        excerpt = f"{key} = {MASK if is_secret_name(key) else val}"
        if target.endswith("!"):  # a negated boolean
            out[target[:-1]] = ("false" if val.lower() in TRUE else "true", no, excerpt)
        elif "=" in target:
            k, v = target.split("=")
            if val.lower() in TRUE:
                out[k] = (v, no, excerpt)
        elif target == "security.authorization":
            out[target] = ("enabled" if val.lower() in TRUE else "disabled", no, excerpt)
        else:
            out[target] = (val, no, excerpt)
    return out


class MongodbDetector(Detector):
    name = "mongodb"
    tags = ("service", "database")
    reads = whole(*CONFIGS)

    def detect(self, snap: Snapshot, found: Found) -> None:
        for path in CONFIGS:
            text = snap.text(path)
            if text is None:
                continue
            settings = flatten_yaml(text)
            fmt = "yaml"
            if settings is None:
                settings, fmt = legacy(text), "legacy"
            found.add(self._facts(path, settings, fmt))
            return  # the packages ship one or the other; mongod is started with one

    def _facts(self, path: str, s: Settings, fmt: str) -> ServiceFacts:
        sf = ServiceFacts(
            software="mongodb",
            kind="database",
            packages=["mongodb-org-server", "mongodb-enterprise-server", "mongodb-server", "mongodb"],
            units=["mongod.service", "mongodb.service", "mongod", "mongodb"],
            binaries=["/usr/bin/mongod"],
        )
        sf.attributes["config_format"] = fmt
        sf.config_files.append(file_ref(path, "config"))

        def ev(key: str) -> Evidence:
            _value, line, excerpt = s[key]
            return Evidence("config", path, line, excerpt=excerpt)

        role = s.get("sharding.clusterRole", ("", 0, ""))[0]
        default_port = {"shardsvr": 27018, "configsvr": 27019}.get(role, 27017)
        port, port_ev, src = (
            default_port,
            Evidence("default", detail=f"mongod listens on {default_port} by default"),
            "default",
        )
        if "net.port" in s and s["net.port"][0].isdigit():
            port, port_ev, src = int(s["net.port"][0]), ev("net.port"), "configured"
        if s.get("net.bindIpAll", ("",))[0].lower() in TRUE:
            sf.ports.append(Port(port, "tcp", None, source="configured", evidence=(port_ev, ev("net.bindIpAll"))))
        elif "net.bindIp" in s:
            for a in dict.fromkeys(x.strip() for x in s["net.bindIp"][0].split(",") if x.strip()):
                addrs = ["127.0.0.1", "::1"] if a == "localhost" else [a]
                for addr in addrs:
                    sf.ports.append(Port(port, "tcp", addr, source="configured", evidence=(port_ev, ev("net.bindIp"))))
        else:
            ipv6 = s.get("net.ipv6", ("",))[0].lower() in TRUE
            d = Evidence("default", detail="mongod binds to localhost only when net.bindIp is not set (3.6+)")
            for addr in ["127.0.0.1", "::1"] if ipv6 else ["127.0.0.1"]:
                sf.ports.append(Port(port, "tcp", addr, source=src, evidence=(port_ev, d)))
        if s.get("net.unixDomainSocket.enabled", ("true",))[0].lower() in TRUE:
            prefix = s.get("net.unixDomainSocket.pathPrefix", ("/tmp",))[0].rstrip("/")
            sock_ev = (
                ev("net.unixDomainSocket.pathPrefix")
                if "net.unixDomainSocket.pathPrefix" in s
                else Evidence(
                    "default", detail="mongod opens /tmp/mongodb-<port>.sock unless unix sockets are disabled"
                )
            )
            sf.ports.append(Port(None, "unix", None, f"{prefix}/mongodb-{port}.sock", "default", (sock_ev,)))
        if "storage.dbPath" in s:
            sf.data_dirs.append(FileRef(s["storage.dbPath"][0], "data", evidence=(ev("storage.dbPath"),)))
        else:
            sf.data_dirs.append(
                FileRef(
                    "/data/db", "data", evidence=(Evidence("default", detail="storage.dbPath defaults to /data/db"),)
                )
            )
        dest = s.get("systemLog.destination", ("file" if fmt == "legacy" else "",))[0]
        if "systemLog.path" in s and dest == "file":
            sf.log_paths.append(FileRef(s["systemLog.path"][0], "logs", evidence=(ev("systemLog.path"),)))
        sf.attributes["authorization"] = s.get("security.authorization", ("disabled",))[0]
        for key, label in (("replication.replSetName", "replica_set"), ("sharding.clusterRole", "cluster_role")):
            if key in s:
                sf.attributes[label] = s[key][0]
        for key in ("security.keyFile", "net.tls.certificateKeyFile", "net.tls.CAFile", "net.ssl.PEMKeyFile"):
            if key in s:
                sf.config_files.append(FileRef(s[key][0], "certs", evidence=(ev(key),)))
        for key, (value, line, _) in s.items():
            if is_secret_name(key.rsplit(".", 1)[-1]) and value:
                sf.secrets.append(make_secret(key, value, path, line))
        return sf
