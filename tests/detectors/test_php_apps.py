"""php-apps: the lamp fixture's two WordPress installs, Drupal, Laravel, parser rules, negatives."""

from __future__ import annotations

from detectors.php_apps import PhpAppsDetector, mysql_endpoint
from modernize.model import Evidence
from modernize.parsers import php
from modernize.snapshot.memory import Content
from tests.helpers import FIXTURES, inventory

ROOT = FIXTURES / "lamp" / "root"


def lamp_files() -> dict[str, Content]:
    files: dict[str, Content] = {}
    for rel in (
        "usr/share/wordpress/wp-config.php",
        "usr/share/wordpress/index.php",
        "usr/share/wordpress/wp-includes/version.php",
        "etc/wordpress/config-blog.example.com.php",
        "var/www/html/shop/wp-config.php",
        "var/www/html/shop/index.php",
        "var/www/html/shop/wp-includes/version.php",
        "var/www/html/index.html",
    ):
        files["/" + rel] = (ROOT / rel).read_bytes()
    return files


def by_id(inv, sid):  # type: ignore[no-untyped-def]
    hits = [s for s in inv.services if s.id == sid]
    assert hits, [s.id for s in inv.services]
    return hits[0]


def test_lamp_two_wordpress() -> None:
    inv = inventory([PhpAppsDetector], lamp_files())
    assert sorted(s.id for s in inv.services) == ["wordpress:/usr/share/wordpress", "wordpress:/var/www/html/shop"]
    blog = by_id(inv, "wordpress:/usr/share/wordpress")
    assert blog.version is not None and blog.version.upstream == "6.1.9"
    assert {r.path for r in blog.config_files} == {
        "/usr/share/wordpress/wp-config.php",
        "/etc/wordpress/config-blog.example.com.php",
    }
    assert {(s.key, s.path) for s in blog.secrets} == {
        ("DB_PASSWORD", "/etc/wordpress/config-blog.example.com.php"),
        ("SECRET_KEY", "/etc/wordpress/config-blog.example.com.php"),
    }
    assert {r.path for r in blog.data_dirs} == {"/var/lib/wordpress/wp-content"}
    (ep,) = [d for d in inv.dependencies if d.source == blog.id]
    # DB_HOST 'localhost' is the Unix socket for mysqli
    assert (ep.host, ep.port, ep.socket, ep.via) == ("localhost", None, "/run/mysqld/mysqld.sock", "DB_HOST")
    assert ep.evidence[0].path == "/etc/wordpress/config-blog.example.com.php"
    shop = by_id(inv, "wordpress:/var/www/html/shop")
    assert {r.path for r in shop.data_dirs} == {"/var/www/html/shop/wp-content/uploads"}
    assert len(shop.secrets) == 9 and {s.path for s in shop.secrets} == {"/var/www/html/shop/wp-config.php"}
    (ep,) = [d for d in inv.dependencies if d.source == shop.id]
    assert (ep.host, ep.port, ep.socket) == ("127.0.0.1", 3306, None)


def test_no_secret_values() -> None:
    from modernize.serialize import dumps

    text = dumps(inventory([PhpAppsDetector], lamp_files()))
    for v in ("wpBlogPw-4Tz8QmLx", "shopDbPw-8Kc2RwVn", "shopNonceSalt-Ym3lS7gA0t", "wpBlogSecret-Xv93LpQ2rN7wKd5Hs"):
        assert v not in text


def test_commented_defines_and_placeholders() -> None:
    cfg = """<?php
// define('DB_HOST', 'old.example.com');
/* define('DB_PASSWORD', 'old'); */
# define('AUTH_KEY', 'old');
define( 'DB_PASSWORD', 'it\\'s' );
define('DB_HOST', 'db.example.com:3307');
define('AUTH_KEY', 'put your unique phrase here');
define('DB_PASSWORD', 'second define is ignored by PHP');
"""
    inv = inventory([PhpAppsDetector], {"/var/www/site/wp-config.php": cfg})
    (svc,) = inv.services
    assert [(s.key, s.line) for s in svc.secrets] == [("DB_PASSWORD", 5)]
    assert dict(svc.attributes)["unset_salts"] == "AUTH_KEY"
    (dep,) = inv.dependencies
    assert (dep.host, dep.port, dep.external) == ("db.example.com", 3307, True)


def test_drupal_settings() -> None:
    settings = """<?php
$databases['default']['default'] = array (
  'database' => 'drupal', 'username' => 'drupal', 'password' => 'dRu-pw',
  'host' => '10.0.0.5', 'port' => '3306', 'driver' => 'mysql', 'prefix' => '',
);
$settings['hash_salt'] = 'salty';
# $settings['file_private_path'] = '/old';
$settings['file_private_path'] = '/var/lib/drupal-private';
"""
    files: dict[str, Content] = {
        "/var/www/drupal/sites/default/settings.php": settings,
        "/var/www/drupal/core/lib/Drupal.php": "<?php\nclass Drupal {\n  const VERSION = '10.1.5';\n}\n",
    }
    inv = inventory([PhpAppsDetector], files)
    (svc,) = inv.services
    assert svc.id == "drupal:/var/www/drupal" and svc.version is not None and svc.version.upstream == "10.1.5"
    assert {s.key for s in svc.secrets} == {"password", "hash_salt"}
    assert {r.path for r in svc.data_dirs} == {"/var/lib/drupal-private", "/var/www/drupal/sites/default/files"}
    (dep,) = inv.dependencies
    assert (dep.host, dep.port) == ("10.0.0.5", 3306)


def test_laravel_env() -> None:
    env = "APP_KEY=base64:abc\nDB_CONNECTION=pgsql\nDB_HOST=127.0.0.1\nDB_PASSWORD=pw\n#DB_HOST=old\nREDIS_HOST=cache\nREDIS_PORT=6380\n"
    files: dict[str, Content] = {"/var/www/app/artisan": "#!/usr/bin/env php\n", "/var/www/app/.env": env}
    inv = inventory([PhpAppsDetector], files)
    (svc,) = inv.services
    assert svc.id == "laravel:/var/www/app"
    assert {s.key for s in svc.secrets} == {"APP_KEY", "DB_PASSWORD"}
    deps = {(d.via, d.host, d.port) for d in inv.dependencies}
    assert deps == {("DB_HOST", "127.0.0.1", 5432), ("REDIS_HOST", "cache", 6380)}
    from modernize.serialize import dumps

    assert "base64:abc" not in dumps(inv)


def test_negatives() -> None:
    # an index.php nobody serves is not an app; nor is wp-config-sample.php
    inv = inventory([PhpAppsDetector], {"/var/www/x/index.php": "<?php echo 1;", "/var/www/y/wp-config-sample.php": ""})
    assert not inv.services


def test_mysql_host_forms() -> None:
    ev = Evidence("config")
    sock = "/run/mysqld/mysqld.sock"
    cases = {
        "localhost": ("localhost", None, sock),
        "localhost:3307": ("localhost", None, sock),  # libmysql ignores the port for localhost
        "localhost:/tmp/my.sock": ("localhost", None, "/tmp/my.sock"),
        "p:db:3310": ("db", 3310, None),
        "[::1]:3306": ("::1", 3306, None),
        "10.1.1.1": ("10.1.1.1", 3306, None),
    }
    for spec, want in cases.items():
        ep = mysql_endpoint("DB_HOST", spec, sock, ev)
        assert ep is not None and (ep.host, ep.port, ep.socket) == want, spec


def test_php_parser_strings_and_includes() -> None:
    text = "<?php\ndefine('A', \"x$y\");\ndefine('B', 'a' . 'b');\nrequire_once __DIR__ . '/local.php';\n?>\ndefine('C', 1);\n"
    stmts = php.statements(text, "/srv/app/config.php")
    assert stmts[0][2] is php.UNKNOWN  # interpolated string
    assert stmts[1][:3] == ("define", "B", "ab")
    assert stmts[2][:2] == ("include", "/srv/app/local.php")
    assert len(stmts) == 3  # after ?> is HTML, not code


def _shop(pool_chdir: str | None, site_pass: str = "unix:/run/php/shop.sock") -> dict[str, Content]:
    """php-fpm fixture's shape: nginx root .../public, two pools, the app's config/.env."""
    pool = "[shop]\nuser = shop\ngroup = shop\nlisten = /run/php/shop.sock\n"
    if pool_chdir:
        pool += f"chdir = {pool_chdir}\n"
    site = (
        "server {\n listen 80;\n root /var/www/shop/public;\n"
        f" location ~ \\.php$ {{\n  #fastcgi_pass unix:/run/php/php8.2-fpm.sock;\n  fastcgi_pass {site_pass};\n }}\n}}\n"
    )
    return {
        "/etc/nginx/nginx.conf": "user www-data;\nhttp {\n include /etc/nginx/sites-enabled/*;\n}\n",
        "/etc/nginx/sites-enabled/shop": site,
        "/etc/php/8.2/fpm/php-fpm.conf": "[global]\ninclude=/etc/php/8.2/fpm/pool.d/*.conf\n",
        "/etc/php/8.2/fpm/pool.d/www.conf": "[www]\nuser = www-data\nlisten = /run/php/php8.2-fpm.sock\n",
        "/etc/php/8.2/fpm/pool.d/shop.conf": pool,
        "/var/www/shop/public/index.php": "<?php require __DIR__ . '/../src/bootstrap.php';\n",
        "/var/www/shop/config/.env": (
            "APP_KEY=base64:c2hvcEFwcEtleS1mYWtl\nAPP_URL=http://shop.example.com\nDB_HOST=127.0.0.1\n"
            "DB_PORT=3306\nDB_PASSWORD=shopDb-secret\n#DB_HOST=db-old.example.com\n"
            "UPLOAD_DIR=/var/www/shop/storage/uploads\n"
        ),
    }


def test_plain_app_under_a_pool() -> None:
    from detectors.nginx import NginxDetector
    from detectors.php_fpm import PhpFpmDetector

    for chdir, site_pass in ((None, "unix:/run/php/shop.sock"), ("/var/www/shop", "unix:/run/php/other.sock")):
        inv = inventory([NginxDetector, PhpFpmDetector, PhpAppsDetector], _shop(chdir, site_pass))
        app = next(s for s in inv.services if s.software == "php-app")
        # the pool that serves it: by its chdir, else by the live fastcgi_pass (not the commented one)
        assert (app.user, app.group) == ("shop", "shop"), (chdir, app.user)
        assert dict(app.attributes)["php_fpm_pool"] == "shop"
        assert {c.path for c in app.content_paths} == {"/var/www/shop/public", "/var/www/shop"}
        assert [c.path for c in app.config_files] == ["/var/www/shop/config/.env"]
        assert {(s.key, s.kind) for s in app.secrets} == {("APP_KEY", "key"), ("DB_PASSWORD", "password")}
        assert [r.path for r in app.data_dirs] == ["/var/www/shop/storage/uploads"]
        deps = {(d.host, d.port, d.via) for d in inv.dependencies if d.source == app.id}
        assert deps == {("127.0.0.1", 3306, "DB_HOST")}  # not APP_URL, not the commented db-old


def test_plain_app_without_a_matching_pool() -> None:
    from detectors.nginx import NginxDetector
    from detectors.php_fpm import PhpFpmDetector

    # two pools, no chdir, the site hands PHP to a TCP port no pool listens on: no pool user
    inv = inventory([NginxDetector, PhpFpmDetector, PhpAppsDetector], _shop(None, "127.0.0.1:9999"))
    app = next(s for s in inv.services if s.software == "php-app")
    assert "php_fpm_pool" not in dict(app.attributes)
    assert app.user != "shop"
