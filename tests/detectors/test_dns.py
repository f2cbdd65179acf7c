from __future__ import annotations

from detectors.dns import DnsDetector
from detectors.dpkg import DpkgDetector
from detectors.systemd import SystemdDetector
from modernize.model import Inventory, Service
from modernize.parsers import bind
from tests.helpers import FIXTURES, inventory, service

MDF = FIXTURES / "mail-dns-files" / "root"


def bind_tree() -> dict[str, str]:
    files = {"/" + str(p.relative_to(MDF)): p.read_text() for p in sorted((MDF / "etc/bind").iterdir()) if p.is_file()}
    files["/etc/default/named"] = (MDF / "etc/default/named").read_text()
    return files


def run(files: dict[str, str]) -> Inventory:
    return inventory([DnsDetector, SystemdDetector, DpkgDetector], files)


def pset(svc: Service) -> set[tuple[str | None, int | None, str]]:
    return {(p.address, p.port, p.proto) for p in svc.ports}


def test_debian_fixture() -> None:
    inv = run(bind_tree())
    named = service(inv, "bind9")
    assert pset(named) == {
        ("0.0.0.0", 53, "udp"), ("0.0.0.0", 53, "tcp"), ("::", 53, "udp"), ("::", 53, "tcp"),
        ("127.0.0.1", 953, "tcp"), ("::1", 953, "tcp"),
    }  # fmt: skip
    assert named.user == "bind"  # OPTIONS="-u bind"
    assert {d.path for d in named.data_dirs} == {"/var/cache/bind", "/var/lib/bind"}
    assert {"/etc/bind/named.conf", "/etc/bind/named.conf.options", "/etc/bind/named.conf.local"} <= {
        f.path for f in named.config_files
    }
    assert "/etc/bind/zones.rfc1918" not in {f.path for f in named.config_files}  # `//include` is a comment
    assert [(s.key, s.path) for s in named.secrets] == [("rndc-key", "/etc/bind/rndc.key")]
    assert "Rk5kY1NlY3JldC1pbmZyYTAx" not in repr(inv)
    assert dict(named.attributes)["zones"].split()[0] == "corp.example.com"


def test_listen_on_port_list_and_ipv4_only_flag() -> None:
    files = {
        "/etc/bind/named.conf": 'options {\n  directory "/var/cache/bind";\n'
        "  listen-on port 5353 { 127.0.0.1; 192.0.2.1; };\n"
        "  /* listen-on port 53 { any; }; */\n"
        "  listen-on-v6 { any; };\n};\ncontrols { };\n",
        "/etc/default/named": 'OPTIONS="-u bind -4"\n',
    }
    named = service(run(files), "bind9")
    assert pset(named) == {
        ("127.0.0.1", 5353, "udp"),
        ("127.0.0.1", 5353, "tcp"),
        ("192.0.2.1", 5353, "udp"),
        ("192.0.2.1", 5353, "tcp"),
    }  # `-4`: no IPv6 at all; `controls { };`: no rndc channel


def test_acl_names_in_listen_on_and_dot() -> None:
    files = {
        "/etc/named.conf": 'acl internal { 10.1.1.1; };\noptions { directory "/var/named";\n'
        "listen-on { internal; }; listen-on tls ephemeral { 10.1.1.1; }; listen-on-v6 { none; }; };\n",
    }
    named = service(run(files), "bind9")
    assert pset(named) == {("10.1.1.1", 53, "udp"), ("10.1.1.1", 53, "tcp"), ("10.1.1.1", 853, "tcp")}
    assert dict(named.attributes)["layout"] == "rhel"


def test_named_conf_tokenizer() -> None:
    text = 'zone "a.example" { type master; file "db.a"; }; # note\nkey "k" { secret "x;y"; };'
    conf = bind.parse("/etc/named.conf", lambda p: text)
    assert conf is not None
    zone, key = conf.statements
    assert zone.words == ["zone", "a.example"] and zone.block()[1].words == ["file", "db.a"]
    assert key.block()[0].words == ["secret", "x;y"]


def test_unbound_defaults_to_localhost() -> None:
    files = {
        "/etc/unbound/unbound.conf": 'include-toplevel: "/etc/unbound/unbound.conf.d/*.conf"\n',
        "/etc/unbound/unbound.conf.d/local.conf": "server:\n  # interface: 0.0.0.0\n  port: 5335\n"
        'forward-zone:\n  name: "."\n  forward-addr: 9.9.9.9@853\n',
    }
    ub = service(run(files), "unbound")
    assert pset(ub) == {
        ("127.0.0.1", 5335, "udp"),
        ("127.0.0.1", 5335, "tcp"),
        ("::1", 5335, "udp"),
        ("::1", 5335, "tcp"),
    }


def test_no_bind_no_service() -> None:
    inv = run({"/etc/default/named": 'OPTIONS="-u bind"\n', "/etc/dnsmasq.conf": "port=5353\n"})
    assert not [s for s in inv.services if s.kind == "dns"]  # dnsmasq.conf without the daemon is not a server
