from __future__ import annotations

import pytest

from detectors.postgresql import PostgresqlDetector, hba_record, listen_addresses, pgpass_fields
from detectors.systemd import SystemdDetector
from modernize.parsers.pgconf import parse_line
from modernize.snapshot.memory import Dir
from tests.helpers import FIXTURES, inventory, ports, service

PW = FIXTURES / "python-web" / "root"
RHEL = FIXTURES / "rhel9" / "root"
ETC = "/etc/postgresql/15/main"


def debian(conf: str, **extra: str | Dir) -> dict[str, str | Dir]:
    files: dict[str, str | Dir] = {
        f"{ETC}/postgresql.conf": conf,
        f"{ETC}/start.conf": (PW / ETC.lstrip("/") / "start.conf").read_text(),
        f"{ETC}/pg_hba.conf": (PW / ETC.lstrip("/") / "pg_hba.conf").read_text(),
        f"{ETC}/conf.d": Dir(),
        "/var/lib/postgresql/15/main/PG_VERSION": "15\n",
    }
    files.update(extra)
    return files


FIXTURE_CONF = (PW / "etc/postgresql/15/main/postgresql.conf").read_text()


@pytest.mark.parametrize(
    ("line", "parsed"),
    [
        ("port = 5433", ("port", "5433")),
        ("port 5433", ("port", "5433")),  # `=` is optional
        ("port=5433# comment", ("port", "5433")),
        ("listen_addresses = '*'		# what IP address(es) to listen on;", ("listen_addresses", "*")),
        ("search_path = '\"$user\", public'", ("search_path", '"$user", public')),
        ("x = 'it''s # not a comment'", ("x", "it's # not a comment")),
        ("x = 'back\\'slash'", ("x", "back'slash")),
        ("#port = 5432", None),
        ("   ", None),
    ],
)
def test_parse_line(line: str, parsed: tuple[str, str] | None) -> None:
    assert parse_line(line) == parsed


def test_parse_line_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        parse_line("port = 5432 5433")


def test_debian_cluster_from_fixture() -> None:
    inv = inventory([PostgresqlDetector], debian(FIXTURE_CONF))
    pg = service(inv, "postgresql")
    assert pg.id == "postgresql:15/main"
    assert ports(pg) == {("127.0.0.1", 5432), ("::1", 5432), (None, None)}
    assert [p.socket for p in pg.ports if p.proto == "unix"] == ["/var/run/postgresql/.s.PGSQL.5432"]
    assert [d.path for d in pg.data_dirs] == ["/var/lib/postgresql/15/main"]
    assert [f.path for f in pg.log_paths] == ["/var/log/postgresql/postgresql-15-main.log"]
    assert {f.path for f in pg.config_files} >= {f"{ETC}/postgresql.conf", f"{ETC}/pg_hba.conf"}
    # listen_addresses is commented out in the fixture: the default, with its evidence
    tcp = next(p for p in pg.ports if p.port == 5432)
    assert any(e.kind == "default" and "localhost" in (e.detail or "") for e in tcp.evidence)
    assert dict(pg.attributes)["hba_methods"] == "peer,scram-sha-256"
    assert pg.version is not None and pg.version.upstream == "15"  # PG_VERSION: no package here
    assert pg.enabled is True


def test_commented_port_is_not_a_port() -> None:
    inv = inventory([PostgresqlDetector], debian("#port = 5433\nlisten_addresses = '*'\n"))
    assert ports(service(inv, "postgresql")) == {(None, 5432), (None, None)}


def test_later_settings_win_and_include_dir_is_followed() -> None:
    files = debian(
        "port = 5432\ninclude_dir = 'conf.d'\nlisten_addresses 'localhost'\n",
        **{
            f"{ETC}/conf.d/10-net.conf": "port = 5440\nlisten_addresses = '10.0.0.5, 127.0.0.1'\n",
            f"{ETC}/conf.d/.hidden.conf": "port = 1\n",
            f"{ETC}/conf.d/readme.txt": "port = 2\n",
        },
    )
    pg = service(inventory([PostgresqlDetector], files), "postgresql")
    # conf.d sets 5440 and addresses, then the main file's later listen_addresses wins
    assert ports(pg) == {("127.0.0.1", 5440), ("::1", 5440), (None, None)}
    tcp = next(p for p in pg.ports if p.port == 5440)
    assert any(e.path == f"{ETC}/conf.d/10-net.conf" and e.via == (f"{ETC}/postgresql.conf",) for e in tcp.evidence)


def test_include_outside_declared_reads_is_a_second_order_read() -> None:
    files = debian(
        "include '/srv/pg/extra.conf'\ninclude_if_exists 'missing.conf'\n", **{"/srv/pg/extra.conf": "port = 6543\n"}
    )
    pg = service(inventory([PostgresqlDetector], files), "postgresql")
    assert (("127.0.0.1", 6543)) in ports(pg)
    assert "/srv/pg/extra.conf" in {f.path for f in pg.config_files}


def test_auto_conf_in_data_dir_wins() -> None:
    files = debian("port = 5432\n", **{"/var/lib/postgresql/15/main/postgresql.auto.conf": "port = '5999'\n"})
    assert ("127.0.0.1", 5999) in ports(service(inventory([PostgresqlDetector], files), "postgresql"))


def test_manual_cluster_is_not_enabled_and_not_wired_to_postgresql_service() -> None:
    files = debian("", **{f"{ETC}/start.conf": "# comment\nmanual\n"})
    pg = service(inventory([PostgresqlDetector], files), "postgresql")
    assert pg.enabled is False
    assert dict(pg.attributes)["start"] == "manual"


def test_trust_on_network_lines_is_a_finding() -> None:
    hba = "local all all trust\nhost all all 10.0.0.0/8 trust\n"
    conf = f"hba_file = '{ETC}/pg_hba.conf'\n"
    inv = inventory([PostgresqlDetector], debian(conf, **{f"{ETC}/pg_hba.conf": hba}))
    codes = [f for f in inv.findings if f.code == "postgresql-trust-auth"]
    assert len(codes) == 1 and "10.0.0.0/8" in codes[0].message
    assert dict(service(inv, "postgresql").attributes)["trust_network"] == "true"


@pytest.mark.parametrize(
    ("line", "rec"),
    [
        ("host all all 127.0.0.1/32 scram-sha-256", ("host", "scram-sha-256", "127.0.0.1/32")),
        ("host all all 192.168.0.0 255.255.0.0 md5", ("host", "md5", "192.168.0.0")),
        ('hostssl "my db" all all cert clientcert=verify-full', ("hostssl", "cert", "all")),
        ("local all postgres peer # comment", ("local", "peer", "local")),
        ("# host all all 0.0.0.0/0 trust", None),
    ],
)
def test_hba_record(line: str, rec: tuple[str, str, str] | None) -> None:
    assert hba_record(line) == rec


def test_hba_file_defaults_to_the_data_directory() -> None:
    files = debian("", **{"/var/lib/postgresql/15/main/pg_hba.conf": "host all all 0.0.0.0/0 trust\n"})
    inv = inventory([PostgresqlDetector], files)
    pg = service(inv, "postgresql")
    assert "/var/lib/postgresql/15/main/pg_hba.conf" in {f.path for f in pg.config_files}
    assert f"{ETC}/pg_hba.conf" not in {f.path for f in pg.config_files}


def test_listen_addresses() -> None:
    assert listen_addresses("*") == [None]
    assert listen_addresses("localhost, 10.1.2.3") == ["127.0.0.1", "::1", "10.1.2.3"]
    assert listen_addresses("") == []


def test_rhel_layout_from_fixture() -> None:
    data = "/var/lib/pgsql/data"
    files = {
        f"{data}/postgresql.conf": (RHEL / "var/lib/pgsql/data/postgresql.conf").read_text(),
        f"{data}/pg_hba.conf": (RHEL / "var/lib/pgsql/data/pg_hba.conf").read_text(),
        f"{data}/PG_VERSION": "15\n",
        "/var/lib/pgsql/.pgpass": (RHEL / "var/lib/pgsql/.pgpass").read_text(),
        "/usr/lib/systemd/system/postgresql.service": (RHEL / "usr/lib/systemd/system/postgresql.service").read_text(),
    }
    inv = inventory([PostgresqlDetector, SystemdDetector], files)
    pg = service(inv, "postgresql")
    assert pg.id == "postgresql"
    assert {(a, p) for a, p in ports(pg) if p} == {("127.0.0.1", 5433), ("::1", 5433)}
    assert [d.path for d in pg.data_dirs] == [data]
    assert [(s.key, s.path) for s in pg.secrets] == [("postgres", "/var/lib/pgsql/.pgpass")]
    assert "PgRhel" not in repr(inv)
    assert pg.started_by and pg.started_by[0].name == "postgresql.service"
    assert dict(pg.attributes)["hba_methods"] == "peer,ident"


def test_pgpass_escapes() -> None:
    assert pgpass_fields(r"db\:1:5432:*:app:pa\:ss") == ["db:1", "5432", "*", "app", "pa:ss"]


def test_no_postgresql_no_service() -> None:
    inv = inventory([PostgresqlDetector], {"/etc/hostname": "x\n", "/var/lib/postgresql": Dir()})
    assert not [s for s in inv.services if s.software == "postgresql"]


TUNED = FIXTURE_CONF + (
    "\nshared_buffers = 2GB\nwork_mem = '64MB'\nmax_connections = 100\nlc_messages = 'de_DE.UTF-8'\n"
    "shared_preload_libraries = 'pg_stat_statements,timescaledb'\n"
)


def test_a_tuned_servers_own_settings_are_recorded_and_carried_into_the_official_image() -> None:
    """The official image runs its own postgresql.conf: the server's tuning goes along as
    -c flags, cited; paths, locales and initdb's own values do not; a library the image
    does not ship is left out and named."""
    from modernize.plan.images import load_images
    from modernize.plan.planner import Options, plan

    inv = inventory(
        [PostgresqlDetector], debian(TUNED, **{f"{ETC}/conf.d/tuning.conf": "effective_cache_size = 6GB\n"})
    )
    pg = service(inv, "postgresql")
    settings = {k.removeprefix("setting."): v for k, v in pg.attributes if k.startswith("setting.")}
    assert settings == {
        "dynamic_shared_memory_type": "sysv",  # the fixture's (Debian's template says posix)
        "effective_cache_size": "6GB",
        "shared_buffers": "2GB",
        "shared_preload_libraries": "pg_stat_statements,timescaledb",
        "work_mem": "64MB",
    }
    cited = {ev.excerpt.split()[0]: (ev.path, ev.line) for ref in pg.config_files for ev in ref.evidence if ev.line}
    assert cited["effective_cache_size"] == (f"{ETC}/conf.d/tuning.conf", 1)
    assert cited["shared_buffers"][0] == f"{ETC}/postgresql.conf"
    p = plan(inv, load_images(), Options())
    svc = next(s for s in p.services if s.software == "postgresql")
    assert svc.strategy == "official"
    assert svc.command == (
        "postgres",
        "-c", "dynamic_shared_memory_type=sysv",
        "-c", "effective_cache_size=6GB",
        "-c", "shared_buffers=2GB",
        "-c", "work_mem=64MB",
    )  # fmt: skip
    left = [f for f in p.findings if f.code == "postgresql-config-not-carried"]
    assert len(left) == 1 and "shared_preload_libraries = pg_stat_statements,timescaledb" in left[0].message
    why = next(w for w in svc.why if w.field == "command")
    assert f"{ETC}/conf.d/tuning.conf:1" in why.evidence
