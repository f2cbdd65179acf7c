"""A unix socket does not cross containers: nginx reaching PHP-FPM through one gets
a TCP port on both sides, each rewrite on the line that named the socket."""

from __future__ import annotations

from detectors.nginx import NginxDetector
from detectors.os import OSDetector
from detectors.php_fpm import PhpFpmDetector
from modernize.generate.render import render
from modernize.plan.images import load_images
from modernize.plan.planner import Options, plan
from tests.helpers import inventory

OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\nVERSION_CODENAME=bookworm\n'
NGINX = "user www-data;\nevents {}\nhttp {\n    include /etc/nginx/sites-enabled/*;\n}\n"
SITE = """server {
    listen 80;
    root /var/www/shop/public;
    location ~ \\.php$ {
        include fastcgi_params;
        fastcgi_pass unix:/run/php/shop.sock;
    }
}
"""
FPM = "[global]\npid = /run/php/php8.2-fpm.pid\ninclude=/etc/php/8.2/fpm/pool.d/*.conf\n"
POOL = "[shop]\nuser = shop\ngroup = shop\nlisten = /run/php/shop.sock\nlisten.owner = www-data\npm = dynamic\n"


def test_fastcgi_over_a_socket_becomes_tcp_between_containers() -> None:
    inv = inventory(
        [OSDetector, NginxDetector, PhpFpmDetector],
        {
            "/etc/os-release": OS_RELEASE,
            "/etc/nginx/nginx.conf": NGINX,
            "/etc/nginx/sites-enabled/shop": SITE,
            "/etc/php/8.2/fpm/php-fpm.conf": FPM,
            "/etc/php/8.2/fpm/pool.d/shop.conf": POOL,
        },
    )
    dep = next(d for d in inv.dependencies if d.socket == "/run/php/shop.sock")
    assert dep.target is not None, inv.dependencies
    p = plan(inv, load_images(), Options(strategy="distro"))
    by_id = {s.id: s for s in p.services}
    web, fpm = by_id["nginx"], by_id[dep.target]
    assert fpm.name in web.depends_on
    assert [x.port for x in fpm.ports] == [9000]
    site = next(f for f in web.files if f.source == "/etc/nginx/sites-enabled/shop")
    assert [(r.old, r.new, r.line) for r in site.rewrites] == [("unix:/run/php/shop.sock", f"{fpm.name}:9000", 6)]
    pool = next(f for f in fpm.files if f.source == "/etc/php/8.2/fpm/pool.d/shop.conf")
    assert [(r.old, r.new, r.line) for r in pool.rewrites] == [("/run/php/shop.sock", "9000", 4)]
    files = {
        "/etc/nginx/sites-enabled/shop": SITE.encode(),
        "/etc/php/8.2/fpm/pool.d/shop.conf": POOL.encode(),
    }
    from modernize.generate.collect import ServerFile

    out = render(p, {k: ServerFile(v, 0o644) for k, v in files.items()}).files
    assert b"fastcgi_pass " + fpm.name.encode() + b":9000;" in out["services/nginx/rootfs/etc/nginx/sites-enabled/shop"]
    assert b"listen = 9000\n" in out[f"services/{fpm.name}/rootfs/etc/php/8.2/fpm/pool.d/shop.conf"]
