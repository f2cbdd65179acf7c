"""The daemons detector and what merge makes of it: unknown programs followed from what
starts them to their config files, ports and endpoints; negative cases for keys that only
look like ports, comments, and software a detector recognises."""

from __future__ import annotations

import pytest

from detectors.cron import CronDetector
from detectors.daemons import DaemonsDetector
from detectors.supervisord import SupervisordDetector
from detectors.systemd import SystemdDetector
from detectors.sysv import SysvDetector
from modernize.parsers.anyconf import settings
from tests.helpers import inventory

INITS = [SystemdDetector, SysvDetector, SupervisordDetector, CronDetector, DaemonsDetector]
UNIT = """[Service]
User=acme
ExecStart={cmd}

[Install]
WantedBy=multi-user.target
"""


def _unit(cmd: str, files: dict[str, str | bytes]) -> dict[str, str | bytes]:
    from modernize.snapshot.memory import Link

    return {
        "/etc/systemd/system/acme.service": UNIT.format(cmd=cmd),
        "/etc/systemd/system/multi-user.target.wants/acme.service": Link("/etc/systemd/system/acme.service"),
        **files,
    }  # type: ignore[dict-item]


@pytest.mark.parametrize(
    "name, text, want",
    [
        ("a.ini", "[server]\nport = 80 ; http\n;port = 81\n", [("server.port", "80", 2)]),
        ("a.conf", "Port 8888\n#Port 9999\nListen 10.0.0.1\n", [("Port", "8888", 1), ("Listen", "10.0.0.1", 3)]),
        ("a.env", 'export LISTEN_ADDR="127.0.0.1:8080"\n', [("LISTEN_ADDR", "127.0.0.1:8080", 1)]),
        ("a.json", '{"http": {\n  "port": 9000\n}}', [("http.port", "9000", 2)]),
        ("a.yml", "web:\n  listen-address: ':9100'\n", [("web.listen-address", ":9100", 2)]),
        ("a.properties", "server.port=8081\n", [("server.port", "8081", 1)]),
    ],
)
def test_settings_of_any_format(name: str, text: str, want: list[tuple[str, str, int]]) -> None:
    got = settings("/opt/x/" + name, text)
    assert got is not None and [(s.key, s.value, s.line) for s in got] == want


@pytest.mark.parametrize(
    "conf, ports",
    [
        ("port = 7000\nbind = 127.0.0.1\n", {("127.0.0.1", 7000)}),
        ("[http]\nlisten = 0.0.0.0:8080\n[admin]\nport = 8081\n", {("0.0.0.0", 8080), (None, 8081)}),
        ("server.port=8082\nmanagement.server.port=8083\n", {(None, 8082), (None, 8083)}),
        # negative: port-ish keys that are no listener, comments, where it connects
        ("max_port_retries = 5\n#port = 9\n;port = 10\ndb_port = 5432\n[database]\nport = 3306\n", set()),
        ("[redis]\nhost = cache.example.com\nport = 6379\n", set()),
    ],
)
def test_listening_ports_from_the_config_a_unit_names(conf: str, ports: set[tuple[str | None, int]]) -> None:
    inv = inventory(INITS, _unit("/opt/acme/bin/acmed -c /opt/acme/etc/acme.conf", {"/opt/acme/etc/acme.conf": conf}))
    (svc,) = [s for s in inv.services if s.id == "unit:acme.service"]
    assert not svc.classified
    assert {(p.address, p.port) for p in svc.ports} == ports
    assert "/opt/acme/etc/acme.conf" in {r.path for r in svc.config_files}
    assert all(e.path == "/opt/acme/etc/acme.conf" and e.line for p in svc.ports for e in p.evidence)


def test_endpoints_and_secrets_from_the_config() -> None:
    conf = (
        "[database]\nhost = db.example.com\nport = 5432\npassword = hunter2-canary\n"
        "[upstream]\nurl = https://api.example.com/v1\n[site]\nbase_url = https://me.example.com/\n"
    )
    inv = inventory(
        INITS, _unit("/opt/acme/bin/acmed --config=/opt/acme/etc/acme.ini", {"/opt/acme/etc/acme.ini": conf})
    )
    deps = {(d.host, d.port, d.via) for d in inv.dependencies}
    assert deps == {("db.example.com", 5432, "database.host"), ("api.example.com", 443, "upstream.url")}
    (svc,) = [s for s in inv.services if s.id == "unit:acme.service"]
    assert [(x.key, x.line) for x in svc.secrets] == [("database.password", 4)]
    from modernize.serialize import dumps

    assert "hunter2-canary" not in dumps(inv)


def test_secrets_by_url_and_shape_whatever_the_key_is_called() -> None:
    conf = (
        "cache:\n  url: redis://:CANARYredisPw-4t@cache.example.com:6379/0\n"
        "billing:\n  stripe: sk_live_CANARYshape0123456789abcd\n"
        "hooks:\n  notify: https://hooks.example.com/x?user=a&token=CANARYqueryTok\n"
        "# old: sk_live_CANARYcommented0123456789\n"
        "plain:\n  name: not-a-secret\n  empty_password: ''\n"
    )
    inv = inventory(INITS, _unit("/opt/acme/bin/acmed -c /opt/acme/etc/acme.yml", {"/opt/acme/etc/acme.yml": conf}))
    (svc,) = [s for s in inv.services if s.id == "unit:acme.service"]
    assert sorted((x.key, x.line, x.kind) for x in svc.secrets) == [
        ("billing.stripe", 4, "token"),
        ("cache.url", 2, "password"),
        ("hooks.notify", 6, "password"),
    ]
    # the URL is still an endpoint, its password masked
    assert ("cache.example.com", 6379) in {(d.host, d.port) for d in inv.dependencies}
    from modernize.serialize import dumps

    assert "CANARY" not in dumps(inv)


def test_sysv_script_with_its_defaults_file() -> None:
    script = "#!/bin/sh\nDAEMON=/opt/acme/bin/acmed\nCONFIG=/etc/acme.conf\nDAEMON_OPTS=\n"
    files: dict[str, str | bytes] = {
        "/etc/init.d/acme": script,
        "/etc/default/acme": 'CONFIG=/opt/acme/etc/acme.yaml\nDAEMON_OPTS="-c $CONFIG --foreground"\n',
        "/opt/acme/etc/acme.yaml": "user: acme\nlisten: ':9100'\n",
        "/opt/acme/bin/acmed": b"#!/usr/bin/env python3\n",
    }
    from modernize.snapshot.memory import Link

    files["/etc/rc2.d/S01acme"] = Link("../init.d/acme")  # type: ignore[assignment]
    inv = inventory(INITS, files)
    (svc,) = [s for s in inv.services if s.id == "unit:acme"]
    assert svc.command == ("/opt/acme/bin/acmed", "-c", "/opt/acme/etc/acme.yaml", "--foreground")
    assert svc.user == "acme"  # started as root, it switches to its config's user
    assert {(p.address, p.port) for p in svc.ports} == {("0.0.0.0", 9100)}
    assert svc.program is not None and (svc.program.interpreter, svc.program.kind) == ("python3", "script")
    cfg = next(r for r in svc.config_files if r.path == "/opt/acme/etc/acme.yaml")
    assert ("/etc/default/acme", 1) in {(e.path, e.line) for e in cfg.evidence}  # CONFIG=
    assert "/etc/acme.conf" not in {r.path for r in svc.config_files}  # overridden, and not there


def test_a_recognised_service_keeps_its_own_facts() -> None:
    """Daemon facts go only to unclassified (or bare native) services."""
    from detectors.redis import RedisDetector

    files = _unit("/usr/bin/redis-server /etc/redis/redis.conf", {"/etc/redis/redis.conf": "port 6380\n"})
    files["/etc/systemd/system/acme.service"] = files["/etc/systemd/system/acme.service"].replace(  # type: ignore[union-attr]
        "[Service]", "[Service]\nType=notify"
    )
    inv = inventory([*INITS, RedisDetector], files)
    assert all(s.classified for s in inv.services if s.software == "redis")
    redis = next(s for s in inv.services if s.software == "redis")
    assert "daemons" not in redis.found_by and redis.program is None
