"""nginx detector: includes, sites-enabled links, listen forms, upstreams, negatives."""

from __future__ import annotations

import pytest

from detectors.nginx import NginxDetector, parse_listen
from modernize.parsers.nginx import NginxSyntaxError, parse, tokenize
from modernize.snapshot.memory import Content
from tests.helpers import fixture_tree, inventory, ports, service


def tree(scenario: str, top: str) -> dict[str, Content]:
    """The fixture's files under `top`, symlinks kept as links."""
    return fixture_tree(scenario, top)


def test_python_web_fixture() -> None:
    files = tree("python-web", "/etc/nginx")
    # the key must never be read: the detector declares no read under /etc/ssl
    files["/etc/ssl/private/intranet.example.com.key"] = "-----BEGIN PRIVATE KEY-----\nsecret\n"
    inv = inventory([NginxDetector], files)
    svc = service(inv, "nginx")
    assert ports(svc) == {("0.0.0.0", 80), ("::", 80), ("0.0.0.0", 443), ("::", 443)}
    assert svc.user == "www-data"
    cfg = {r.path for r in svc.config_files if r.role == "config"}
    # the site's real file (sites-enabled/intranet is a link to it); the disabled default site is not loaded
    assert {"/etc/nginx/nginx.conf", "/etc/nginx/sites-available/intranet", "/etc/nginx/proxy_params"} <= cfg
    assert "/etc/nginx/sites-available/default" not in cfg
    certs = {r.path for r in svc.config_files if r.role == "certs"}
    assert certs == {"/etc/ssl/certs/intranet.example.com.crt", "/etc/ssl/private/intranet.example.com.key"}
    assert {r.path for r in svc.log_paths} == {
        "/var/log/nginx/access.log",
        "/var/log/nginx/error.log",
        "/var/log/nginx/intranet.access.log",
        "/var/log/nginx/intranet.error.log",
    }
    assert {r.path for r in svc.content_paths} == {"/srv/intranet/static", "/var/lib/intranet/media"}
    assert dict(svc.attributes)["server_names"] == "intranet.example.com"
    (dep,) = [d for d in inv.dependencies if d.source == "nginx"]
    assert (dep.host, dep.port, dep.via, dep.scheme) == ("127.0.0.1", 8000, "proxy_pass", "http")
    assert dep.evidence[0].path == "/etc/nginx/sites-enabled/intranet"
    assert dep.evidence[0].via == ("/etc/nginx/nginx.conf",)


def test_alpine_http_d_and_off_file_ignored() -> None:
    files = tree("alpine", "/etc/nginx")
    files["/etc/alpine-release"] = "3.19.1\n"
    inv = inventory([NginxDetector], files)
    svc = service(inv, "nginx")
    # `#listen 443 ssl` is commented; status.conf.off (127.0.0.1:8081) does not match http.d/*.conf
    assert ports(svc) == {("0.0.0.0", 8080), ("::", 8080)}
    assert svc.user == "nginx"
    assert "/etc/nginx/http.d/status.conf.off" not in {r.path for r in svc.config_files}
    assert {r.path for r in svc.content_paths} == {"/var/lib/nginx/html"}
    (dep,) = inv.dependencies
    assert (dep.host, dep.port, dep.external) == ("api.corp.example.com", 8000, True)


def test_sites_available_only_is_disabled() -> None:
    inv = inventory(
        [NginxDetector],
        {
            "/etc/nginx/nginx.conf": "events {}\nhttp { include /etc/nginx/sites-enabled/*; }\n",
            "/etc/nginx/sites-available/staging": "server { listen 8443 ssl; }\n",
            "/etc/nginx/sites-enabled/.hidden": "server { listen 9999; }\n",
        },
    )
    svc = service(inv, "nginx")
    assert ports(svc) == set()  # no enabled server at all (dotfiles are not matched by `*`)


@pytest.mark.parametrize(
    ("arg", "want"),
    [
        ("80", ("0.0.0.0", 80, None)),
        ("*:8080", ("0.0.0.0", 8080, None)),
        ("127.0.0.1", ("127.0.0.1", 80, None)),
        ("127.0.0.1:8081", ("127.0.0.1", 8081, None)),
        ("[::]:443", ("::", 443, None)),
        ("[::1]", ("::1", 80, None)),
        ("localhost:8000", ("localhost", 8000, None)),
        ("unix:/run/nginx/app.sock", (None, None, "/run/nginx/app.sock")),
    ],
)
def test_listen_forms(arg: str, want: tuple[str | None, int | None, str | None]) -> None:
    assert parse_listen(arg) == want


def test_tokens_comments_and_quotes() -> None:
    toks = [t for t, _line, _q in tokenize("a#b \"x;y\" # c;\nd 'e f';")]
    assert toks == ["a#b", "x;y", "d", "e f", ";"]
    tree_ = parse("log_format main '$a \"b\"'\n   '$c';\nserver { listen 80; }\n")
    assert tree_[0].args == ["main", '$a "b"', "$c"]
    assert tree_[1].block is not None and tree_[1].block[0].line == 3


def test_syntax_errors() -> None:
    with pytest.raises(NginxSyntaxError):
        parse("http { server { listen 80; }\n")
    with pytest.raises(NginxSyntaxError):
        parse("listen 80\n")


def test_upstreams_sockets_relative_includes_and_default_listen() -> None:
    conf = """
user nginx nginx;
events {}
http {
    upstream app { server 10.0.0.5:8080; server unix:/run/app.sock; server 10.0.0.9 down; }
    include conf.d/*.conf;
}
stream { server { listen 5353 udp; proxy_pass 10.0.0.53:53; } }
"""
    site = """
server {
    server_name a.example.com b.example.com;
    location / { proxy_pass http://app; }
    location ~ \\.php$ { include snippets/php.conf; }
    location /u { uwsgi_pass 127.0.0.1:3031; }
}
"""
    inv = inventory(
        [NginxDetector],
        {
            "/etc/nginx/nginx.conf": conf,
            "/etc/nginx/conf.d/site.conf": site,
            "/etc/nginx/snippets/php.conf": "fastcgi_pass unix:/run/php/php8.2-fpm.sock;\n",
        },
    )
    svc = service(inv, "nginx")
    assert svc.group == "nginx"
    # a server without listen listens on *:80, documented default
    default = [p for p in svc.ports if p.port == 80]
    assert default and default[0].source == "default"
    assert ("0.0.0.0", 5353) in ports(svc) and any(p.proto == "udp" for p in svc.ports)
    targets = {(d.via, d.host, d.port, d.socket) for d in inv.dependencies}
    assert ("proxy_pass", "10.0.0.5", 8080, None) in targets
    assert ("proxy_pass", None, None, "/run/app.sock") in targets
    assert ("fastcgi_pass", None, None, "/run/php/php8.2-fpm.sock") in targets
    assert ("uwsgi_pass", "127.0.0.1", 3031, None) in targets
    assert ("proxy_pass", "10.0.0.53", 53, None) in targets
    assert not any(d.host == "10.0.0.9" for d in inv.dependencies)  # `down`
    assert dict(svc.attributes)["server_names"] == "a.example.com, b.example.com"


def test_include_loop_and_broken_file_are_findings() -> None:
    inv = inventory(
        [NginxDetector],
        {
            "/etc/nginx/nginx.conf": "include a.conf;\nevents {}\nhttp { include bad.conf; server { listen 81; } }\n",
            "/etc/nginx/a.conf": "include nginx.conf;\n",
            "/etc/nginx/bad.conf": "server { listen 82;\n",
        },
    )
    svc = service(inv, "nginx")
    assert ports(svc) == {("0.0.0.0", 81)}
    msgs = [f.message for f in inv.findings if f.code == "unparsable"]
    assert any("loop" in m for m in msgs) and any("bad.conf" in m for m in msgs)


def test_no_nginx_no_service() -> None:
    inv = inventory([NginxDetector], {"/etc/hostname": "web01\n", "/usr/share/doc/nginx/README": "x"})
    assert not [s for s in inv.services if s.software == "nginx"]


HTPASSWD = "# NOC accounts\n\nnoc:$apr1$Nq4zR8tW$CANARYnginxHash0123456\nops:{SHA}CANARYsha1base64=\n"


def test_auth_basic_user_file_is_an_identity_store_with_names_only() -> None:
    conf = """events {}
http {
    server {
        listen 80;
        location /admin { auth_basic "Admin"; auth_basic_user_file /srv/app/.htpasswd; }
        location /old { auth_basic "Old"; # auth_basic_user_file /srv/app/.htpasswd-old;
        }
        location /rel { auth_basic_user_file htpasswd.d/team; }
        location /gone { auth_basic_user_file /etc/nginx/missing; }
        location /var { auth_basic_user_file /srv/$host/.htpasswd; }
    }
}
"""
    inv = inventory(
        [NginxDetector],
        {
            "/etc/nginx/nginx.conf": conf,
            "/srv/app/.htpasswd": HTPASSWD,
            "/srv/app/.htpasswd-old": "old:$apr1$x$CANARYold\n",
            "/etc/nginx/htpasswd.d/team": "not an htpasswd line\n",
        },
    )
    svc = service(inv, "nginx")
    stores = {x.path: x for x in svc.identity_stores}
    assert sorted(stores) == ["/etc/nginx/htpasswd.d/team", "/etc/nginx/missing", "/srv/app/.htpasswd"]
    app = stores["/srv/app/.htpasswd"]
    assert (app.store, app.host_accounts, app.via, app.users) == (
        "htpasswd",
        False,
        "auth_basic_user_file",
        ("noc", "ops"),
    )
    assert app.evidence[0].line == 5
    assert stores["/etc/nginx/missing"].users == () and "not in the snapshot" in (
        stores["/etc/nginx/missing"].evidence[-1].detail or ""
    )
    # the file that does not parse: a finding, its store without names, still a secret file
    assert stores["/etc/nginx/htpasswd.d/team"].users == ()
    assert any(f.path == "/etc/nginx/htpasswd.d/team" for f in inv.findings if f.code == "unparsable")
    assert {(s.path, s.kind) for s in svc.secrets} == {
        ("/srv/app/.htpasswd", "credentials-store"),
        ("/etc/nginx/htpasswd.d/team", "credentials-store"),
    }
    assert "/srv/app/.htpasswd" in {r.path for r in svc.config_files}
    assert "CANARY" not in repr(inv)
