"""Apache detector: Debian and RHEL layouts, IfModule/IfDefine scoping, includes, negatives."""

from __future__ import annotations

from detectors.apache import ApacheDetector, envvars, parse_listen
from modernize.parsers.apache import parse, split_words
from modernize.serialize import dumps
from modernize.snapshot.memory import Content
from tests.helpers import fixture_tree, inventory, ports, service


def tree(scenario: str, top: str) -> dict[str, Content]:
    return fixture_tree(scenario, top)


def test_lamp_fixture() -> None:
    inv = inventory([ApacheDetector], tree("lamp", "/etc/apache2"))
    svc = service(inv, "apache2")
    # Listen 443 sits in <IfModule ssl_module>/<IfModule mod_gnutls.c>, neither enabled;
    # Listen 8080 comes from a site file
    assert ports(svc) == {(None, 80), (None, 8080)}
    assert (svc.user, svc.group) == ("www-data", "www-data")  # ${APACHE_RUN_USER} from envvars
    assert svc.runtime == "php8.2"
    attrs = dict(svc.attributes)
    assert attrs["mod_php"] == "8.2" and attrs["mpm"] == "prefork"
    assert "ssl" not in attrs["modules"].split(", ")
    cfg = {r.path for r in svc.config_files}
    assert {
        "/etc/apache2/apache2.conf",
        "/etc/apache2/ports.conf",
        "/etc/apache2/sites-available/wordpress.conf",
    } <= cfg
    assert "/etc/apache2/sites-available/000-default.conf" not in cfg
    assert "/etc/apache2/sites-available/default-ssl.conf" not in cfg
    assert {
        "/var/log/apache2/error.log",
        "/var/log/apache2/blog-error.log",
        "/var/log/apache2/blog-access.log",
        "/var/log/apache2/intranet-status-error.log",
        "/var/log/apache2/intranet-status-access.log",
    } <= {r.path for r in svc.log_paths}
    assert {"/usr/share/wordpress", "/var/lib/wordpress/wp-content", "/var/www/html/shop"} <= {
        r.path for r in svc.content_paths
    }
    (env,) = svc.env
    assert (env.name, env.value, env.secret) == ("WP_ENV", "production", False)
    # the NOC's htpasswd file, named by the enabled intranet-status site, is the only secret: a
    # file whose names make an identity store; the one a commented AuthUserFile names is not read
    assert [(x.path, x.kind) for x in svc.secrets] == [("/etc/apache2/.htpasswd-noc", "credentials-store")]
    assert [(x.store, x.via, x.path, x.users) for x in svc.identity_stores] == [
        ("htpasswd", "AuthUserFile", "/etc/apache2/.htpasswd-noc", ("noc", "mweber"))
    ]
    # serve-cgi-bin's ScriptAlias needs ENABLE_USR_LIB_CGI_BIN, defined only when mod_cgi(d) is loaded
    assert "/usr/lib/cgi-bin" not in {r.path for r in svc.content_paths}


def test_rhel9_fixture() -> None:
    inv = inventory([ApacheDetector], tree("rhel9", "/etc/httpd"))
    svc = service(inv, "httpd")
    # reports.conf.disabled (Listen 8081) does not match IncludeOptional conf.d/*.conf
    assert ports(svc) == {(None, 80), (None, 443)}
    assert (svc.user, svc.group) == ("apache", "apache")
    assert "/etc/httpd/conf.d/reports.conf.disabled" not in {r.path for r in svc.config_files}
    # logs/ is a symlink to ../../var/log/httpd
    assert {"/var/log/httpd/error_log", "/var/log/httpd/access_log", "/var/log/httpd/ssl_error_log"} <= {
        r.path for r in svc.log_paths
    }
    assert {r.path for r in svc.config_files if r.role == "certs"} == {
        "/etc/pki/tls/certs/localhost.crt",
        "/etc/pki/tls/private/localhost.key",
    }
    deps = {(d.host, d.port, d.via) for d in inv.dependencies}
    assert deps == {("127.0.0.1", 8080, "ProxyPass")}  # not ProxyPassReverse twice, not 10.0.3.40
    assert "orders.corp.example.com *:80 -> http://127.0.0.1:8080/" in dict(svc.attributes)["vhosts"]


def test_ifmodule_names_negation_ifdefine_and_variables() -> None:
    conf = """ServerRoot /etc/apache2
LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so
<IfModule mod_ssl.c>
    Listen 443
</IfModule>
<IfModule !ssl_module>
    Listen 8443
</IfModule>
<IfModule proxy_module>
    Listen 9000
</IfModule>
Define EXTRA
Define PORT 7070
<IfDefine EXTRA>
    Listen ${PORT}
</IfDefine>
<IfDefine !EXTRA>
    Listen 7171
</IfDefine>
# Listen 6060
Listen [::1]:6061 \\
    http
SetEnv DB_PASSWORD "s3cr3t-value"
<Proxy "balancer://app">
    BalancerMember http://10.0.0.1:8000
    BalancerMember http://10.0.0.2:8000
</Proxy>
ProxyPass /app balancer://app/
ProxyPass /static !
<FilesMatch \\.php$>
    SetHandler "proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost"
</FilesMatch>
"""
    inv = inventory([ApacheDetector], {"/etc/apache2/apache2.conf": conf})
    svc = service(inv, "apache2")
    assert ports(svc) == {(None, 443), (None, 7070), ("::1", 6061)}
    (sec,) = svc.secrets
    assert sec.key == "DB_PASSWORD"
    assert "s3cr3t-value" not in dumps(inv)
    targets = {(d.host, d.port, d.socket) for d in inv.dependencies}
    assert targets == {("10.0.0.1", 8000, None), ("10.0.0.2", 8000, None), (None, None, "/run/php/php8.2-fpm.sock")}


def test_include_directory_glob_and_optional() -> None:
    inv = inventory(
        [ApacheDetector],
        {
            "/etc/httpd/conf/httpd.conf": 'ServerRoot "/etc/httpd"\nInclude conf.d\nIncludeOptional missing/*.conf\n',
            "/etc/httpd/conf.d/a.conf": "Listen 81\n",
            "/etc/httpd/conf.d/sub/b.conf": "Listen 82\n",
        },
    )
    svc = service(inv, "httpd")
    assert ports(svc) == {(None, 81), (None, 82)}
    assert not [f for f in inv.findings if f.code == "unparsable"]


def test_unclosed_section_is_unparsable() -> None:
    inv = inventory([ApacheDetector], {"/etc/apache2/apache2.conf": "Listen 80\n<VirtualHost *:80>\n"})
    assert [f for f in inv.findings if f.code == "unparsable"]


def test_words_listen_and_envvars() -> None:
    assert split_words('CustomLog "logs/a b" combined') == ["CustomLog", "logs/a b", "combined"]
    assert split_words(r'Header "say \"hi\""') == ["Header", 'say "hi"']
    assert parse_listen("80") == (None, 80)
    assert parse_listen("192.0.2.1:8080") == ("192.0.2.1", 8080)
    assert parse_listen("[2001:db8::1]:80") == ("2001:db8::1", 80)
    env = envvars(
        'SUFFIX="-${APACHE_CONFDIR##/etc/apache2-}"\nSUFFIX=\nexport APACHE_LOG_DIR=/var/log/apache2$SUFFIX\n'
    )
    assert env["APACHE_LOG_DIR"] == "/var/log/apache2"
    nodes = parse("# a comment \\\n continued comment\nListen 80\n")
    assert [(n.name, n.args) for n in nodes] == [("Listen", ["80"])]


def test_no_apache_no_service() -> None:
    inv = inventory([ApacheDetector], {"/etc/apache2/sites-available/x.conf": "Listen 80\n"})
    assert not inv.services


def test_basic_auth_against_the_host_accounts() -> None:
    """mod_authnz_external with pwauth, and mod_authnz_pam; AuthBasicProvider file is not."""
    files = tree("lamp", "/etc/apache2")
    files["/etc/apache2/conf-enabled/staff.conf"] = (
        "DefineExternalAuth pwauth pipe /usr/sbin/pwauth\n"
        "<Location /staff>\n  AuthType Basic\n  AuthBasicProvider external\n  AuthExternal pwauth\n"
        "  Require valid-user\n</Location>\n"
        "<Location /ops>\n  AuthType Basic\n  AuthBasicProvider PAM\n  Require valid-user\n</Location>\n"
        "<Location /docs>\n  AuthType Basic\n  AuthBasicProvider file\n  AuthUserFile /etc/apache2/.htpasswd\n"
        "</Location>\n"
    )
    stores = service(inventory([ApacheDetector], files), "apache2").identity_stores
    assert [(x.store, x.via, x.path, [e.line for e in x.evidence]) for x in stores if x.host_accounts] == [
        ("pwauth", "AuthExternal", "/usr/sbin/pwauth", [5, 1]),
        ("pam", "AuthBasicProvider", None, [10]),
    ]
    # the file provider is the app's own store (the file is not in this snapshot): not the host's
    assert [(x.store, x.host_accounts, x.path, x.users) for x in stores if not x.host_accounts] == [
        ("htpasswd", False, "/etc/apache2/.htpasswd", ()),
        ("htpasswd", False, "/etc/apache2/.htpasswd-noc", ("noc", "mweber")),
    ]


def test_auth_user_file_relative_to_server_root_commented_one_ignored() -> None:
    files = tree("lamp", "/etc/apache2")
    files["/etc/apache2/sites-enabled/zz-private.conf"] = (
        "<Location /private>\n  AuthType Basic\n  AuthUserFile users/private.htpasswd\n"
        "  # AuthUserFile /etc/apache2/never.htpasswd\n  Require valid-user\n</Location>\n"
    )
    files["/etc/apache2/users/private.htpasswd"] = (
        "alice:$2y$05$CANARYbcrypt0123456789abcdefghij\nbob:$apr1$s$CANARYmd5\n"
    )
    files["/etc/apache2/never.htpasswd"] = "eve:$apr1$s$CANARYnever\n"
    inv = inventory([ApacheDetector], files)
    svc = service(inv, "apache2")
    stores = {x.path: x.users for x in svc.identity_stores if x.store == "htpasswd"}
    assert stores["/etc/apache2/users/private.htpasswd"] == ("alice", "bob")
    assert "/etc/apache2/never.htpasswd" not in stores
    assert "CANARY" not in dumps(inv)
