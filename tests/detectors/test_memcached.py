from __future__ import annotations

from pathlib import Path

from detectors.memcached import MemcachedDetector, listen_items
from detectors.systemd import SystemdDetector
from tests.helpers import FIXTURES, inventory, ports, service

NODE = FIXTURES / "node-app" / "root"
DATA = Path(__file__).parent / "data" / "memcached"
DEBIAN_CONF = (NODE / "etc/memcached.conf").read_text()


def test_debian_fixture_under_systemd_wrapper() -> None:
    files = {
        "/etc/memcached.conf": DEBIAN_CONF,
        "/usr/lib/systemd/system/memcached.service": (NODE / "usr/lib/systemd/system/memcached.service").read_text(),
    }
    inv = inventory([MemcachedDetector, SystemdDetector], files)
    m = service(inv, "memcached")
    assert ports(m) == {("127.0.0.1", 11211)}
    assert m.user == "memcache"
    assert m.log_paths == ()  # the wrapper ignores `logfile`: output goes to the journal
    assert "systemd-memcached-wrapper" in dict(m.attributes)["logfile"]
    assert m.started_by and m.started_by[0].name == "memcached.service"


def test_debian_logfile_without_the_wrapper() -> None:
    m = service(inventory([MemcachedDetector], {"/etc/memcached.conf": DEBIAN_CONF}), "memcached")
    assert [f.path for f in m.log_paths] == ["/var/log/memcached.log"]


def test_commented_options_and_defaults() -> None:
    m = service(
        inventory([MemcachedDetector], {"/etc/memcached.conf": "# -p 11311\n# -l 127.0.0.1\n-m 64\n"}), "memcached"
    )
    assert ports(m) == {(None, 11211)}
    assert m.ports[0].source == "default"


def test_unix_socket_turns_network_off() -> None:
    m = service(
        inventory([MemcachedDetector], {"/etc/memcached.conf": "-s /run/memcached/m.sock\n-p 11211\n"}), "memcached"
    )
    assert [(p.proto, p.socket) for p in m.ports] == [("unix", "/run/memcached/m.sock")]


def test_repeated_listen_udp_and_host_port() -> None:
    text = "-l 127.0.0.1\n-l [::1]:11300\n-U 11211\n"
    m = service(inventory([MemcachedDetector], {"/etc/memcached.conf": text}), "memcached")
    assert {(p.proto, p.address, p.port) for p in m.ports} == {
        ("tcp", "127.0.0.1", 11211),
        ("udp", "127.0.0.1", 11211),
        ("tcp", "::1", 11300),
        ("udp", "::1", 11211),
    }


def test_rhel_sysconfig() -> None:
    files = {"/etc/sysconfig/memcached": (DATA / "rhel-memcached.sysconfig").read_text()}
    m = service(inventory([MemcachedDetector], files), "memcached")
    assert ports(m) == {("127.0.0.1", 11211), ("::1", 11211)}
    assert m.user == "memcached"


def test_alpine_confd() -> None:
    files = {"/etc/conf.d/memcached": (DATA / "alpine-memcached.confd").read_text()}
    m = service(inventory([MemcachedDetector], files), "memcached")
    assert {(p.proto, p.address, p.port) for p in m.ports} == {("tcp", "127.0.0.1", 11211), ("udp", "127.0.0.1", 11211)}
    assert m.user == "memcached"


def test_listen_items() -> None:
    assert listen_items("127.0.0.1,::1") == [("127.0.0.1", None), ("::1", None)]
    assert listen_items("10.0.0.1:11222") == [("10.0.0.1", 11222)]


def test_no_memcached_no_service() -> None:
    assert inventory([MemcachedDetector], {"/etc/hostname": "h\n"}).services == ()
