from __future__ import annotations

from pathlib import Path

from detectors.rabbitmq import RabbitmqDetector, listener
from modernize.model import Inventory, Service
from modernize.snapshot.memory import Dir
from tests.helpers import inventory, ports, service

DATA = Path(__file__).parent / "data" / "rabbitmq"
ENV = (DATA / "rabbitmq-env.conf").read_text()
EXAMPLE = (DATA / "rabbitmq.conf.example").read_text()


def uncomment(text: str, *keys: str) -> str:
    out = []
    for line in text.splitlines():
        bare = line.removeprefix("# ")
        out.append(bare if any(bare.startswith(k) for k in keys) else line)
    return "\n".join(out) + "\n"


def rabbit(**files: str) -> tuple[Inventory, Service]:
    inv = inventory([RabbitmqDetector], {"/etc/rabbitmq": Dir(), "/etc/rabbitmq/rabbitmq-env.conf": ENV, **files})
    return inv, service(inv, "rabbitmq")


def test_debian_defaults() -> None:
    _, r = rabbit(**{"/etc/rabbitmq/rabbitmq.conf": EXAMPLE})  # every line commented out, as shipped
    assert ports(r) == {(None, 5672), (None, 25672), (None, 4369)}
    assert all(p.source == "default" for p in r.ports)
    assert [d.path for d in r.data_dirs] == ["/var/lib/rabbitmq/mnesia"]
    assert [f.path for f in r.log_paths] == ["/var/log/rabbitmq"]


def test_named_listeners_and_default_pass() -> None:
    conf = uncomment(EXAMPLE, "listeners.tcp.local ", "listeners.tcp.local_v6", "default_user", "default_pass")
    inv, r = rabbit(**{"/etc/rabbitmq/rabbitmq.conf": conf})
    assert {(a, p) for a, p in ports(r) if p in (5672, 25672)} == {("127.0.0.1", 5672), ("::1", 5672), (None, 25672)}
    assert [s.key for s in r.secrets] == ["default_pass"]
    assert dict(r.attributes)["default_user"] == "guest"
    assert "default_pass = guest" not in repr(inv)


def test_env_file_node_port_and_management_plugin() -> None:
    env = ENV.replace("#NODE_PORT=5672", "NODE_PORT=5673").replace(
        "#NODE_IP_ADDRESS=127.0.0.1", "NODE_IP_ADDRESS=127.0.0.1"
    )
    inv = inventory(
        [RabbitmqDetector],
        {"/etc/rabbitmq/rabbitmq-env.conf": env, "/etc/rabbitmq/enabled_plugins": "[rabbitmq_management].\n"},
    )
    r = service(inv, "rabbitmq")
    assert ports(r) == {("127.0.0.1", 5673), (None, 25673), (None, 4369), (None, 15672)}


def test_tcp_listeners_off() -> None:
    _, r = rabbit(**{"/etc/rabbitmq/rabbitmq.conf": "listeners.tcp = none\nlisteners.ssl.default = 5671\n"})
    assert (None, 5672) not in ports(r) and (None, 5671) in ports(r)


def test_erlang_cookie_is_a_secret() -> None:
    inv, r = rabbit(**{"/var/lib/rabbitmq/.erlang.cookie": "COOKIEVALUE123\n"})
    assert [s.key for s in r.secrets] == ["erlang_cookie"]
    assert "COOKIEVALUE123" not in repr(inv)


def test_listener_values() -> None:
    assert listener("5672") == (None, 5672)
    assert listener("::1:5672") == ("::1", 5672)
    assert listener("unix:/run/r.sock:0") is None


def test_no_rabbitmq_no_service() -> None:
    assert inventory([RabbitmqDetector], {"/etc/hostname": "h\n"}).services == ()


# the shape `rabbitmqctl export_definitions` writes (3.12), cut to two users and a vhost
DEFINITIONS = """{"rabbit_version": "3.12.1", "rabbitmq_version": "3.12.1", "product_name": "RabbitMQ",
 "users": [
  {"name": "orders", "password_hash": "CANARYhashOrders0123456789abcdefABCDEF==",
   "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": [], "limits": {}},
  {"name": "ops", "password_hash": "CANARYhashOps0123456789abcdefABCDEF==",
   "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ["administrator"], "limits": {}}
 ],
 "vhosts": [{"name": "/"}], "permissions": [], "queues": [], "exchanges": [], "bindings": []}
"""


def test_definitions_users_are_an_identity_store_with_names_only() -> None:
    conf = "load_definitions = /etc/rabbitmq/definitions.json\ndefault_user = admin\ndefault_pass = CANARYdefPw\n"
    inv, r = rabbit(**{"/etc/rabbitmq/rabbitmq.conf": conf, "/etc/rabbitmq/definitions.json": DEFINITIONS})
    (store,) = r.identity_stores
    assert (store.store, store.host_accounts, store.via, store.path, store.users) == (
        "rabbitmq",
        False,
        "load_definitions",
        "/etc/rabbitmq/definitions.json",
        ("admin", "orders", "ops"),
    )
    assert [(s.key, s.path, s.kind) for s in r.secrets if s.path.endswith(".json")] == [
        ("definitions", "/etc/rabbitmq/definitions.json", "credentials-store")
    ]
    assert "/etc/rabbitmq/definitions.json" in {f.path for f in r.config_files}
    assert "CANARY" not in repr(inv)


def test_definitions_commented_missing_or_broken() -> None:
    conf = "# load_definitions = /etc/rabbitmq/definitions.json\n"
    _, r = rabbit(**{"/etc/rabbitmq/rabbitmq.conf": conf, "/etc/rabbitmq/definitions.json": DEFINITIONS})
    assert r.identity_stores == () and not [s for s in r.secrets if s.path.endswith(".json")]
    _, r = rabbit(**{"/etc/rabbitmq/rabbitmq.conf": "load_definitions = /srv/mq/gone.json\n"})
    assert [(x.path, x.users) for x in r.identity_stores] == [("/srv/mq/gone.json", ())]
    conf = "management.load_definitions = /etc/rabbitmq/definitions.json\n"
    inv, r = rabbit(**{"/etc/rabbitmq/rabbitmq.conf": conf, "/etc/rabbitmq/definitions.json": '{"users": [CANARY'})
    assert any(f.path == "/etc/rabbitmq/definitions.json" for f in inv.findings)
    assert r.identity_stores[0].users == () and "CANARY" not in repr(inv)
