"""HAProxy detector: bind forms, disabled proxies, backends, secrets, comments."""

from __future__ import annotations

from detectors.haproxy import HaproxyDetector, parse_address, split_words
from modernize.serialize import dumps
from tests.helpers import inventory, ports, service

# Debian's shipped global/defaults section, then a site
CFG = """global
	log /dev/log	local0
	log /dev/log	local1 notice
	chroot /var/lib/haproxy
	stats socket /run/haproxy/admin.sock mode 660 level admin
	stats timeout 30s
	user haproxy
	group haproxy
	daemon

	# Default SSL material locations
	ca-base /etc/ssl/certs
	crt-base /etc/ssl/private

defaults
	log	global
	mode	http
	timeout connect 5000

frontend www
	bind :80
	bind :::80 v4v6
	bind *:443 ssl crt site.pem alpn h2,http/1.1
	# bind :8080
	default_backend app

listen stats
	bind 127.0.0.1:8404
	stats enable
	stats auth admin:haStatsPw-77

frontend legacy
	bind :8000
	disabled

backend app
	balance roundrobin
	server app1 10.0.0.11:8080 check
	server app2 app2.internal:8080 check backup
	server old 10.0.0.99:8080 disabled
	server local unix@/run/app.sock

userlist admins
	user ops password $6$salt$hashhashhash
"""


def test_debian_style_config() -> None:
    inv = inventory([HaproxyDetector], {"/etc/haproxy/haproxy.cfg": CFG})
    svc = service(inv, "haproxy")
    assert ports(svc) == {
        ("0.0.0.0", 80),
        ("::", 80),
        ("0.0.0.0", 443),
        ("127.0.0.1", 8404),
        (None, None),  # the stats socket
    }
    assert {p.socket for p in svc.ports if p.socket} == {"/run/haproxy/admin.sock"}
    assert (svc.user, svc.group) == ("haproxy", "haproxy")
    assert {r.path for r in svc.config_files if r.role == "certs"} == {"/etc/ssl/private/site.pem"}
    deps = {(d.host, d.port, d.socket) for d in inv.dependencies}
    assert deps == {("10.0.0.11", 8080, None), ("app2.internal", 8080, None), (None, None, "/run/app.sock")}
    assert sorted(s.key for s in svc.secrets) == ["stats auth admin", "userlist admins ops"]
    text = dumps(inv)
    assert "haStatsPw-77" not in text and "hashhashhash" not in text
    assert dict(svc.attributes)["frontends"] == "www, stats, legacy (disabled)"


def test_words_and_addresses() -> None:
    assert split_words('acl x hdr(host) -i "a b" # c') == ["acl", "x", "hdr(host)", "-i", "a b"]
    assert split_words(r"http-request set-header X a\ b") == ["http-request", "set-header", "X", "a b"]
    assert parse_address("ipv6@:443") == [("::", 443, None, "tcp")]
    assert parse_address("/var/run/x.sock") == [(None, None, "/var/run/x.sock", "unix")]
    assert parse_address("10.0.0.1:8000-8002") == [("10.0.0.1", p, None, "tcp") for p in (8000, 8001, 8002)]
    assert parse_address("[::1]:9000") == [("::1", 9000, None, "tcp")]


def test_no_haproxy_no_service() -> None:
    inv = inventory([HaproxyDetector], {"/etc/haproxy/errors/503.http": "HTTP/1.0 503\n"})
    assert not inv.services
