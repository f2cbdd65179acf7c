"""PHP-FPM detector: one service per version, pools, listen forms, secrets, layouts."""

from __future__ import annotations

from detectors.php_fpm import PhpFpmDetector, ini_value
from modernize.serialize import dumps
from tests.helpers import inventory, ports, service

# Debian php8.2-fpm's php-fpm.conf and pool.d/www.conf (shortened, lines as shipped)
MAIN = """;;;;;;;;;;;;;;;;;;;;;
; FPM Configuration ;
;;;;;;;;;;;;;;;;;;;;;

[global]
; Pid file
; Note: the default prefix is /var
; Default Value: none
pid = /run/php/php8.2-fpm.pid

; Error log file
error_log = /var/log/php8.2-fpm.log

;;;;;;;;;;;;;;;;;;;;
; Pool Definitions ;
;;;;;;;;;;;;;;;;;;;;
include=/etc/php/8.2/fpm/pool.d/*.conf
"""
WWW = """; Start a new pool named 'www'.
[www]
user = www-data
group = www-data
listen = /run/php/php$pool-fpm.sock
;listen = 127.0.0.1:9000
listen.owner = www-data
listen.group = www-data
pm = dynamic
pm.max_children = 5
;php_admin_value[error_log] = /var/log/fpm-php.www.log
"""
API = """[api]
user = api
group = api
listen = 127.0.0.1:9001
pm = ondemand
env[DB_PASSWORD] = "apiDbPw-9Xq2"
env[APP_ENV] = production
php_admin_value[memory_limit] = 256M
php_value[session.save_path] = /var/lib/php/sessions-api
slowlog = /var/log/php-fpm/api-slow.log
"""


def test_debian_pools() -> None:
    inv = inventory(
        [PhpFpmDetector],
        {
            "/etc/php/8.2/fpm/php-fpm.conf": MAIN,
            "/etc/php/8.2/fpm/pool.d/www.conf": WWW,
            "/etc/php/8.2/fpm/pool.d/api.conf": API,
            "/etc/php/8.2/fpm/pool.d/old.conf.disabled": "[old]\nlisten = 9009\n",
        },
    )
    svc = service(inv, "php-fpm")
    assert svc.id == "php-fpm:8.2" and svc.runtime == "php8.2"
    # `$pool` expands in the socket path; `;listen = 127.0.0.1:9000` is a comment; *.disabled is not included
    assert {(p.proto, p.socket) for p in svc.ports if p.socket} == {("unix", "/run/php/phpwww-fpm.sock")}
    assert ports(svc) - {(None, None)} == {("127.0.0.1", 9001)}
    attrs = dict(svc.attributes)
    assert attrs["pools"] == "api, www"
    assert attrs["pool.api"].startswith("listen 127.0.0.1:9001, user api:api, pm ondemand")
    assert svc.user is None  # two pools, two users
    assert [s.key for s in svc.secrets] == ["DB_PASSWORD"]
    assert "apiDbPw-9Xq2" not in dumps(inv)
    assert {e.name: e.value for e in svc.env} == {"DB_PASSWORD": None, "APP_ENV": "production"}
    assert {r.path for r in svc.log_paths} == {"/var/log/php8.2-fpm.log", "/var/log/php-fpm/api-slow.log"}
    assert {r.path for r in svc.data_dirs} == {"/var/lib/php/sessions-api"}
    assert "/etc/php/8.2/fpm/pool.d/old.conf.disabled" not in {r.path for r in svc.config_files}


def test_two_versions_two_services() -> None:
    inv = inventory(
        [PhpFpmDetector],
        {
            "/etc/php/8.2/fpm/php-fpm.conf": MAIN,
            "/etc/php/8.2/fpm/pool.d/www.conf": WWW,
            "/etc/php/7.4/fpm/php-fpm.conf": MAIN.replace("8.2", "7.4"),
            "/etc/php/7.4/fpm/pool.d/www.conf": WWW,
        },
    )
    assert sorted(s.id for s in inv.services) == ["php-fpm:7.4", "php-fpm:8.2"]
    assert service(inv, "php-fpm").user == "www-data"


def test_rhel_layout_tcp_port_all_addresses() -> None:
    inv = inventory(
        [PhpFpmDetector],
        {
            "/etc/php-fpm.conf": "[global]\npid = /run/php-fpm/php-fpm.pid\ninclude=/etc/php-fpm.d/*.conf\n",
            "/etc/php-fpm.d/www.conf": "[www]\nuser = apache\nlisten = 9000 ; all addresses\n",
        },
    )
    svc = service(inv, "php-fpm")
    assert (svc.id, svc.runtime) == ("php-fpm", "php")
    assert ports(svc) == {(None, 9000)}
    assert svc.user == "apache"


def test_ini_values() -> None:
    assert ini_value(' "a;b" ') == "a;b"
    assert ini_value("yes") == "1"
    assert ini_value("off ; comment") == ""
    assert ini_value("/run/x.sock ; c") == "/run/x.sock"


def test_no_fpm_no_service() -> None:
    inv = inventory([PhpFpmDetector], {"/etc/php/8.2/cli/php.ini": "[PHP]\n"})
    assert not inv.services


def test_php_ini_and_sessions() -> None:
    base = {"/etc/php/8.2/fpm/php-fpm.conf": MAIN, "/etc/php/8.2/fpm/pool.d/www.conf": WWW}
    # php.ini with the save path commented: Debian's compiled-in default
    ini = '[Session]\n;session.save_path = "/var/lib/php/elsewhere"\nsession.name = PHPSESSID\n'
    svc = service(inventory([PhpFpmDetector], {**base, "/etc/php/8.2/fpm/php.ini": ini}), "php-fpm")
    assert "/etc/php/8.2/fpm/php.ini" in {r.path for r in svc.config_files}
    assert [(r.path, r.evidence[0].kind) for r in svc.data_dirs] == [("/var/lib/php/sessions", "default")]
    # php.ini sets it ("N;/path" form): that directory, from that line
    ini2 = '[Session]\nsession.save_path = "2;/srv/sessions"\n'
    svc = service(inventory([PhpFpmDetector], {**base, "/etc/php/8.2/fpm/php.ini": ini2}), "php-fpm")
    assert [(r.path, r.evidence[0].line) for r in svc.data_dirs] == [("/srv/sessions", 2)]
    # a pool's own php_value[session.save_path] wins over the default
    svc = service(inventory([PhpFpmDetector], {**base, "/etc/php/8.2/fpm/pool.d/api.conf": API}), "php-fpm")
    assert [r.path for r in svc.data_dirs] == ["/var/lib/php/sessions-api"]
