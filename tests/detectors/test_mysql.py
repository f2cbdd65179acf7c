from __future__ import annotations

import pytest

from detectors.dpkg import DpkgDetector
from detectors.mysql import MysqlDetector
from detectors.systemd import SystemdDetector
from modernize.parsers.mycnf import canonical, strip_comment, unquote
from modernize.snapshot.memory import Link
from tests.helpers import FIXTURES, inventory, ports, service

LAMP = FIXTURES / "lamp" / "root"


def lamp_files() -> dict[str, str | Link]:
    files: dict[str, str | Link] = {
        "/etc/mysql/my.cnf": Link("/etc/alternatives/my.cnf"),
        "/etc/alternatives/my.cnf": Link("/etc/mysql/mariadb.cnf"),
    }
    for rel in (
        "etc/mysql/mariadb.cnf",
        "etc/mysql/my.cnf.fallback",
        "etc/mysql/debian.cnf",
        "etc/mysql/conf.d/mysql.cnf",
        "etc/mysql/conf.d/mysqldump.cnf",
        *(f"etc/mysql/mariadb.conf.d/{p.name}" for p in (LAMP / "etc/mysql/mariadb.conf.d").iterdir()),
        "usr/lib/systemd/system/mariadb.service",
        "var/lib/dpkg/status",
    ):
        files["/" + rel] = (LAMP / rel).read_text()
    return files


def test_lamp_mariadb_skips_client_groups() -> None:
    inv = inventory([MysqlDetector, SystemdDetector, DpkgDetector], lamp_files())
    db = service(inv, "mariadb")
    # NOT 3307: `port = 3307` is under [client] in 50-client.cnf
    assert ports(db) == {("127.0.0.1", 3306), (None, None)}
    assert [p.socket for p in db.ports if p.proto == "unix"] == ["/run/mysqld/mysqld.sock"]
    sock = next(p for p in db.ports if p.proto == "unix")
    assert sock.source == "configured" and sock.evidence[0].path == "/etc/mysql/my.cnf"  # [client-server]
    tcp = next(p for p in db.ports if p.port == 3306)
    assert tcp.source == "configured"
    assert any(e.path == "/etc/mysql/mariadb.conf.d/50-server.cnf" and e.line == 27 for e in tcp.evidence)
    assert {f.path for f in db.config_files} >= {
        "/etc/mysql/my.cnf",
        "/etc/mysql/mariadb.cnf",
        "/etc/mysql/mariadb.conf.d/50-server.cnf",
        "/etc/mysql/mariadb.conf.d/60-local.cnf",
    }
    assert "/etc/mysql/mariadb.conf.d/50-client.cnf" not in {f.path for f in db.config_files}
    assert [d.path for d in db.data_dirs] == ["/var/lib/mysql"]
    assert db.version is not None and db.version.upstream == "10.11.19"
    assert db.started_by and db.started_by[0].name == "mariadb.service"


def test_client_only_host_is_not_a_server() -> None:
    files = {"/etc/mysql/my.cnf": "[client]\nport = 3307\n", "/etc/mysql/conf.d/x.cnf": "[mysqld]\nport=1\n"}
    inv = inventory([MysqlDetector], files)
    assert not [s for s in inv.services if s.software in ("mysql", "mariadb")]


SERVER = {"/usr/sbin/mysqld": "\x7fELF"}


def mysql(cnf: str, **extra: str) -> set[tuple[str | None, int | None]]:
    inv = inventory([MysqlDetector], {"/etc/mysql/my.cnf": cnf, **SERVER, **extra})
    return ports(service(inv, "mysql"))


def test_defaults_when_nothing_is_set() -> None:
    assert mysql("[mysqld]\n#port = 3307\n") == {(None, 3306), (None, None)}


def test_later_value_wins_dash_and_underscore_are_the_same() -> None:
    cnf = "[mysqld]\nbind_address = 10.0.0.1\nport=3310\n[server]\nbind-address = 127.0.0.1\n"
    assert mysql(cnf) == {("127.0.0.1", 3310), (None, None)}


def test_includedir_reads_only_cnf_files_in_order() -> None:
    cnf = "[mysqld]\nport = 3306\n!includedir /etc/mysql/conf.d/\n"
    extra = {
        "/etc/mysql/conf.d/20-b.cnf": "[mysqld]\nport = 3320\n",
        "/etc/mysql/conf.d/10-a.cnf": "[mysqld]\nport = 3310\n",
        "/etc/mysql/conf.d/99-z.cnf.disabled": "[mysqld]\nport = 3399\n",
    }
    assert mysql(cnf, **extra) == {(None, 3320), (None, None)}


def test_include_of_a_file_outside_declared_globs() -> None:
    assert (None, 3333) in mysql("!include /srv/db/extra.cnf\n", **{"/srv/db/extra.cnf": "[mysqld]\nport=3333\n"})


def test_skip_networking_turns_tcp_off() -> None:
    assert mysql("[mysqld]\nskip-networking\nsocket = /tmp/my.sock\n") == {(None, None)}


def test_loose_prefix_and_trailing_comment() -> None:
    assert mysql("[mysqld]\nloose-bind-address = 127.0.0.1 # local only\n") == {("127.0.0.1", 3306), (None, None)}


def test_mariadb_only_groups_do_not_apply_to_mysql() -> None:
    assert mysql("[mariadb]\nport = 3999\n[client-server]\nport = 3998\n") == {(None, 3306), (None, None)}


def test_debian_cnf_password_is_a_secret() -> None:
    files = {
        "/etc/mysql/my.cnf": "[mysqld]\n",
        "/etc/mysql/debian.cnf": "[client]\nhost = localhost\nuser = debian-sys-maint\npassword = s3cr3tPW\n",
        **SERVER,
    }
    inv = inventory([MysqlDetector], files)
    db = service(inv, "mysql")
    assert [(s.key, s.path) for s in db.secrets] == [("client.password", "/etc/mysql/debian.cnf")]
    assert "s3cr3tPW" not in repr(inv)


@pytest.mark.parametrize(
    ("raw", "value"),
    [('"a b"', "a b"), ("'x\\ty'", "x\ty"), ("plain", "plain"), ('"unterminated', '"unterminated')],
)
def test_unquote(raw: str, value: str) -> None:
    assert unquote(raw) == value


def test_comment_and_names() -> None:
    assert strip_comment('password = "p#w" # c') == 'password = "p#w" '
    assert canonical("Loose_Bind_Address") == "bind-address"
