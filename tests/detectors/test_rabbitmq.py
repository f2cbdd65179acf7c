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
