from __future__ import annotations

import pytest

from detectors.redis import RedisDetector
from detectors.systemd import SystemdDetector
from detectors.sysv import SysvDetector
from modernize.parsers.redisconf import splitargs
from tests.helpers import FIXTURES, inventory, ports, service

PW = FIXTURES / "python-web" / "root"
ALPINE = FIXTURES / "alpine" / "root"


def test_debian_fixture() -> None:
    files = {
        "/etc/redis/redis.conf": (PW / "etc/redis/redis.conf").read_text(),
        "/usr/lib/systemd/system/redis-server.service": (
            PW / "usr/lib/systemd/system/redis-server.service"
        ).read_text(),
    }
    inv = inventory([RedisDetector, SystemdDetector], files)
    r = service(inv, "redis")
    assert ports(r) == {("127.0.0.1", 6379), ("::1", 6379)}  # `bind 127.0.0.1 -::1`: `-` only means optional
    assert [d.path for d in r.data_dirs] == ["/var/lib/redis"]
    assert [f.path for f in r.log_paths] == ["/var/log/redis/redis-server.log"]
    assert [(s.key, s.line) for s in r.secrets] == [("requirepass", 1037)]
    assert "redisPass" not in repr(inv)
    assert r.started_by and r.started_by[0].name == "redis-server.service"


def test_alpine_fixture_with_disabled_sentinel() -> None:
    files = {
        "/etc/redis.conf": (ALPINE / "etc/redis.conf").read_text(),
        "/etc/sentinel.conf": (ALPINE / "etc/sentinel.conf").read_text(),
        "/etc/init.d/redis": (ALPINE / "etc/init.d/redis").read_text(),
        "/etc/init.d/redis-sentinel": (ALPINE / "etc/init.d/redis-sentinel").read_text(),
        "/etc/conf.d/redis": (ALPINE / "etc/conf.d/redis").read_text(),
        "/etc/runlevels/default/redis": "",
    }
    inv = inventory([RedisDetector, SystemdDetector, SysvDetector], files)
    r = service(inv, "redis")
    assert ports(r) == {("127.0.0.1", 6380), ("::1", 6380), (None, None)}
    assert [p.socket for p in r.ports if p.proto == "unix"] == ["/run/redis/redis.sock"]
    assert r.enabled is True
    sentinel = service(inv, "redis-sentinel")
    assert sentinel.ports == ()  # `port 26379` in sentinel.conf, but nothing starts it
    assert sentinel.enabled is False
    assert [f.path for f in sentinel.config_files if f.role == "config"] == ["/etc/sentinel.conf"]


def conf(text: str, **extra: str) -> set[tuple[str | None, int | None]]:
    return ports(service(inventory([RedisDetector], {"/etc/redis/redis.conf": text, **extra}), "redis"))


def test_defaults_without_port_and_bind() -> None:
    assert conf("# port 6380\n# bind 127.0.0.1\n") == {(None, 6379)}


def test_port_zero_disables_tcp() -> None:
    assert conf("port 0\nunixsocket /run/redis/r.sock\n") == {(None, None)}


def test_last_directive_wins_and_include_is_followed() -> None:
    text = "port 6379\ninclude /etc/redis/local.conf\nbind 10.0.0.1\n"
    assert conf(text, **{"/etc/redis/local.conf": "port 7000\nbind 127.0.0.1\n"}) == {("10.0.0.1", 7000)}


def test_included_file_is_not_an_instance() -> None:
    inv = inventory(
        [RedisDetector],
        {"/etc/redis/redis.conf": "include /etc/redis/common.conf\n", "/etc/redis/common.conf": "port 7001\n"},
    )
    assert [s.id for s in inv.services] == ["redis"]


def test_acl_user_passwords_and_masterauth_are_secrets() -> None:
    text = 'user app on >appPw1 ~* +@all\nmasterauth "mPw 2"\nuser nopass on nopass\n'
    inv = inventory([RedisDetector], {"/etc/redis/redis.conf": text})
    assert sorted(s.key for s in service(inv, "redis").secrets) == ["masterauth", "user app"]
    assert "appPw1" not in repr(inv) and "mPw 2" not in repr(inv)


@pytest.mark.parametrize(
    ("line", "args"),
    [
        ('requirepass "a b\\x41"', ["requirepass", "a bA"]),
        ("logfile ''", ["logfile", ""]),
        ("bind 127.0.0.1   -::1", ["bind", "127.0.0.1", "-::1"]),
        ("x 'it\\'s'", ["x", "it's"]),
    ],
)
def test_splitargs(line: str, args: list[str]) -> None:
    assert splitargs(line) == args


def test_splitargs_unbalanced() -> None:
    with pytest.raises(ValueError):
        splitargs('requirepass "oops')


def test_no_redis_no_service() -> None:
    assert inventory([RedisDetector], {"/etc/hostname": "h\n"}).services == ()
