from __future__ import annotations

from pathlib import Path

from detectors.mongodb import MongodbDetector
from modernize.model import Inventory, Service
from tests.helpers import inventory, ports, service

DATA = Path(__file__).parent / "data" / "mongodb"
YAML_CONF = (DATA / "mongod.conf").read_text()


def scan(path: str, text: str) -> tuple[Inventory, Service]:
    inv = inventory([MongodbDetector], {path: text})
    return inv, service(inv, "mongodb")


def test_packaged_yaml_config() -> None:
    _, m = scan("/etc/mongod.conf", YAML_CONF)
    assert ports(m) == {("127.0.0.1", 27017), (None, None)}
    assert [p.socket for p in m.ports if p.proto == "unix"] == ["/tmp/mongodb-27017.sock"]
    assert [d.path for d in m.data_dirs] == ["/var/lib/mongodb"]
    assert [f.path for f in m.log_paths] == ["/var/log/mongodb/mongod.log"]
    tcp = next(p for p in m.ports if p.port == 27017)
    assert any(e.line == 20 and e.excerpt == "net.port: 27017" for e in tcp.evidence)
    assert dict(m.attributes)["authorization"] == "disabled"


def test_legacy_ini_config() -> None:
    _, m = scan("/etc/mongodb.conf", (DATA / "mongodb.conf").read_text())
    assert dict(m.attributes)["config_format"] == "legacy"
    assert ports(m) == {("127.0.0.1", 27017), (None, None)}  # `#port = 27017` is a comment: the default
    assert [d.path for d in m.data_dirs] == ["/var/lib/mongodb"]
    assert [f.path for f in m.log_paths] == ["/var/log/mongodb/mongodb.log"]


def test_flattened_keys_bind_all_and_secrets() -> None:
    text = (
        "net.port: 27100\nnet:\n  bindIpAll: true\n  unixDomainSocket:\n    enabled: false\n"
        "  tls:\n    certificateKeyFilePassword: tlsPw9\nsecurity:\n  authorization: enabled\n"
        "replication:\n  replSetName: rs0\n"
    )
    inv, m = scan("/etc/mongod.conf", text)
    assert ports(m) == {(None, 27100)}
    assert dict(m.attributes)["authorization"] == "enabled"
    assert dict(m.attributes)["replica_set"] == "rs0"
    assert [s.key for s in m.secrets] == ["net.tls.certificateKeyFilePassword"]
    assert "tlsPw9" not in repr(inv)


def test_defaults_when_net_is_absent() -> None:
    _, m = scan("/etc/mongod.conf", "storage:\n  dbPath: /srv/mongo\nsharding:\n  clusterRole: shardsvr\n")
    assert ports(m) == {("127.0.0.1", 27018), (None, None)}  # a shard's default port
    assert all(p.source == "default" for p in m.ports)


def test_no_mongodb_no_service() -> None:
    assert inventory([MongodbDetector], {"/etc/hostname": "h\n"}).services == ()
