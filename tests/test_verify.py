"""`modernize verify`'s parts that need no container engine, on python-web's real
generated output: the throwaway copy, the database logins it makes, the engine flags,
reading `diff`, the probes (against a loopback HTTP server with virtual hosts), the
results and the suggested plan, and the command's errors. Building and running is in
test_verify_containers.py (slow)."""

from __future__ import annotations

import functools
import http.server
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest
import yaml

from modernize.errors import UserError
from modernize.plan.io import load_plan
from modernize.plan.model import Probe
from modernize.verify import databases
from modernize.verify.engine import Call, Engine, find_engine
from modernize.verify.probes import run_probe
from modernize.verify.project import prepare, run_flags
from modernize.verify.results import Outcome, ServiceResult, suggest, write
from modernize.verify.state import Written, derived_paths, marker_for, written_outside
from tests.fixture_tree import materialize
from tests.helpers import REPO


@functools.cache
def _generated() -> Path:
    """python-web through `modernize run --strategy distro` (once per session)."""
    work = Path(tempfile.mkdtemp(prefix="modernize-verify-test-"))
    root = materialize("python-web", work)
    out = work / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "modernize", "run", str(root), "-o", str(out), "--strategy", "distro", "-q"],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )  # fmt: skip
    assert proc.returncode in (0, 1) and (out / "compose.yaml").is_file(), proc.stderr
    return out


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_copy_gets_throwaway_secrets_and_out_stays_untouched(tmp_path: Path) -> None:
    out = _generated()
    (out / ".env").write_text("REDIS_REQUIREPASS=the-users-real-one\n")  # the user's own: never read
    before = _tree(out)
    try:
        project = prepare(out, tmp_path / "work", "podman", ["debian=mirror.example.com/debian"], None)
    finally:
        (out / ".env").unlink()
    assert _tree(out) == {k: v for k, v in before.items() if k != ".env"}
    work = project.work
    assert not (work / ".env").exists()
    # every variable has a value, the same throwaway password as the secret files' CHANGE-MEs
    assert project.env["REDIS_REQUIREPASS"] == project.env["INTRANET_SECRET_KEY"] == project.password
    assert len(project.password) == 32
    redis_conf = (work / "secrets/redis-redis.conf").read_text()
    assert f"requirepass {project.password}" in redis_conf and "CHANGE-ME" not in redis_conf
    assert "the-users-real-one" not in "".join(p.read_text() for p in (work / "secrets").iterdir())
    # a self-signed pair where the TLS key is mounted
    key = (work / "secrets/nginx-intranet.example.com.key").read_text()
    crt = (work / "secrets/nginx-intranet.example.com.crt").read_text()
    assert "PRIVATE KEY-----" in key and "BEGIN CERTIFICATE" in crt
    # --image-map rewrote the copy's FROM lines, not OUT's
    assert "FROM mirror.example.com/debian:12-slim" in (work / "services/redis/Dockerfile").read_text()
    assert "FROM debian:12-slim" in (out / "services/redis/Dockerfile").read_text()
    assert project.order().index("postgresql") < project.order().index("intranet") < project.order().index("nginx")


def test_the_logins_the_apps_name_are_made_in_the_new_database(tmp_path: Path) -> None:
    project = prepare(_generated(), tmp_path / "work", "podman", [], None)
    settings = {name: databases.settings_of(project, name) for name in project.services}
    logins = databases.logins_for("postgresql", "postgresql", settings)
    assert [(x.user, x.database, x.password) for x in logins] == [("intranet", "intranet", project.password)]
    assert databases.logins_for("redis", "redis", settings) == []

    class Recorder(Engine):
        def __init__(self) -> None:
            super().__init__("podman")
            self.calls: list[tuple[str, ...]] = []

        def exec(self, name: str, command: Sequence[str], user: str | None = None, env: Mapping[str, str] = {}) -> Call:
            self.calls.append(tuple(command))
            return Call(tuple(command), 0, "", "")

    rec = Recorder()
    assert databases.create(rec, "c", "postgresql", logins[0]).ok
    sql = " ".join(c[-1] for c in rec.calls)
    assert 'CREATE ROLE "intranet" LOGIN PASSWORD \'' + project.password + "'" in sql
    assert 'CREATE DATABASE "intranet" OWNER "intranet"' in sql
    # a name that is not a plain identifier is never quoted into SQL
    evil = {"app": [[("DATABASE_URL", "postgresql://x%22%3B--:p@postgresql/db")]]}
    assert databases.logins_for("postgresql", "postgresql", evil) == []


def test_the_logins_an_apps_env_file_names(tmp_path: Path) -> None:
    """php-fpm's app keeps DB_HOST, DB_USERNAME, DB_PASSWORD, DB_DATABASE in its .env,
    which compose mounts as a secret: verify reads the throwaway copy of it."""
    work = tmp_path / "gen"
    root = materialize("php-fpm", tmp_path)
    proc = subprocess.run([sys.executable, "-m", "modernize", "run", str(root), "-o", str(work), "--strategy", "distro",
                           "-q"], capture_output=True, text=True, timeout=300, cwd=REPO)  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr
    project = prepare(work, tmp_path / "copy", "podman", [], None)
    settings = {name: databases.settings_of(project, name) for name in project.services}
    (login,) = databases.logins_for("mariadb", "mariadb", settings)
    assert (login.user, login.database, login.password, login.wanted_by) == (
        "shop",
        "shop",
        project.password,
        "php-fpm",
    )


def test_run_flags_follow_compose(tmp_path: Path) -> None:
    project = prepare(_generated(), tmp_path / "work", "podman", [], None)
    flags = run_flags(project, "redis", {"redis-data": "mzv-x-redis-data"}, [6379])
    joined = " ".join(flags)
    assert "-v mzv-x-redis-data:/var/lib/redis" in joined
    assert "--read-only --read-only-tmpfs=false" in joined and "--tmpfs /run" in joined
    assert "-p 127.0.0.1::6379" in joined and "--cap-drop ALL" in joined
    assert f"{(project.work / 'secrets/redis-redis.conf').resolve()}:/etc/redis/redis.conf:ro" in joined
    assert flags[flags.index("--health-cmd") + 1] == "redis-cli -p 6379 ping"
    intranet = " ".join(run_flags(project, "intranet", {"intranet-media": "m"}, []))
    assert f"DATABASE_URL=postgresql://intranet:{project.password}@postgresql:5432/intranet" in intranet
    worker = run_flags(project, "intranet-worker", {"intranet-media": "m"}, [])
    assert "--no-healthcheck" in worker and worker[worker.index("--user") + 1] == "103:106"


# podman diff of python-web's containers, as podman 4.3 printed it
POSTGRES_DIFF = """C /etc
C /run
C /run/postgresql
A /run/postgresql/.s.PGSQL.5432
A /run/postgresql/.s.PGSQL.5432.lock
C /var
C /var/lib
C /var/lib/postgresql
C /var/lib/postgresql/15
A /var/lib/postgresql/15/main/base/16384/1259
A /var/lib/postgresql/15/main/pg_wal/000000010000000000000001
C /var/log
A /var/log/postgresql/postgresql-15-main.log
"""


def test_diff_reports_what_was_written_outside_the_volumes() -> None:
    diff = Call((), 0, POSTGRES_DIFF, "")
    with_volume = written_outside(diff, ["/var/lib/postgresql/15/main"])
    assert [(w.path, w.runtime) for w in with_volume] == [("/run/postgresql", True), ("/var/log/postgresql", False)]
    without = written_outside(diff, [])
    assert ("/var/lib/postgresql/15/main", False) in [(w.path, w.runtime) for w in without]
    (data,) = [w for w in without if w.path == "/var/lib/postgresql/15/main"]
    assert data.files == ("/var/lib/postgresql/15/main/base/16384/1259",
                          "/var/lib/postgresql/15/main/pg_wal/000000010000000000000001")  # fmt: skip
    assert written_outside(Call((), 0, "C /etc\nA /etc/hosts\nC /var\nC /var/lib\n", ""), ["/var/lib/x"]) == []
    assert written_outside(Call((), 0, "C /tmp\nC /run\n", ""), []) == []  # php-fpm's, as podman printed it


def test_markers_go_through_the_software(tmp_path: Path) -> None:
    plan = load_plan((_generated() / "plan.yaml").read_text())
    by = {s.name: s for s in plan.services}
    (pg,) = marker_for(by["postgresql"], "tok", "pw")
    assert pg.write[0] == "psql" and "tok" in pg.write[-1] and pg.user == "postgres"
    (rd,) = marker_for(by["redis"], "tok", "pw")
    assert rd.write[-3:] == ("SET", "modernize:verify", "tok") and dict(rd.env) == {"REDISCLI_AUTH": "pw"}
    (media,) = marker_for(by["intranet"], "tok", "pw")
    assert media.read == ("cat", "/var/lib/intranet/media/.modernize-verify")
    assert marker_for(by["nginx"], "tok", "pw") == []  # its media volume is read-only


class _Vhosts(http.server.BaseHTTPRequestHandler):
    """intranet.example.com answers /healthz with 200 while the app is up (else 502, as
    nginx does); every other host gets the default page."""

    app_up = True

    def do_GET(self) -> None:
        if self.headers.get("Host") != "intranet.example.com":
            self.send_response(200)
        elif self.path == "/healthz":
            self.send_response(200 if self.app_up else 502)
        else:
            self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def web() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Vhosts)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        _Vhosts.app_up = True


class _Published(Engine):
    def __init__(self, port: int) -> None:
        super().__init__("podman")
        self.port = port

    def host_port(self, name: str, port: int) -> int | None:
        return self.port


def test_http_probes_need_the_app_not_the_default_page(web: int) -> None:
    engine = _Published(web)
    soon = time.monotonic() + 2
    health = Probe("http", 80, "/healthz", "intranet.example.com", "2xx,3xx,401,403")
    assert run_probe(engine, "c", health, soon).ok
    assert not run_probe(engine, "c", Probe("http", 80, "/", "intranet.example.com", "2xx,3xx,401,403"), soon).ok
    _Vhosts.app_up = False
    down = run_probe(engine, "c", health, time.monotonic() + 1)
    assert not down.ok and "502" in down.answer
    # the default server answers 200 to any other name: the probe's Host header matters
    assert run_probe(engine, "c", Probe("http", 80, "/healthz", "other.example.com", "2xx"), soon).ok
    assert run_probe(engine, "c", Probe("tcp", 80), soon).ok


def test_results_json_table_and_the_suggested_plan(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    plan = load_plan((_generated() / "plan.yaml").read_text())
    pg = ServiceResult("postgresql", "postgresql", "ok", "ok", "ok", restart_ok=False,
                       restart=["a row through psql: lost after the container was replaced"],
                       written=[Written("/var/lib/postgresql/15/main", ("/var/lib/postgresql/15/main/PG_VERSION",), False)],
                       log_tail="FATAL: password authentication failed, password s3cr3t")  # fmt: skip
    ok = ServiceResult("redis", "redis", "ok", "ok", "ok", restart_ok=True)
    outcome = Outcome("podman", [pg, ok], [], suggested=True)
    folder = write(outcome, out, plan, "s3cr3t")
    data = json.loads((folder / "verify.json").read_text())
    assert data["ok"] is False and [s["failed"] for s in data["services"]] == [True, False]
    assert "s3cr3t" not in (folder / "logs/postgresql.log").read_text()
    assert "LOST" in outcome.table() and "verify: FAILED" in outcome.table()
    suggested = load_plan((folder / "plan.suggested.yaml").read_text())
    vols = {v.target: v for s in suggested.services if s.name == "postgresql" for v in s.volumes}
    assert "/var/lib/postgresql/15/main" in vols  # already a volume: kept, and the new one beside it
    assert suggest(plan, Outcome("podman", [ok], [])) == plan


def test_the_command_says_what_is_wrong(tmp_path: Path) -> None:
    def verify(*args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {"PATH": path} if path is not None else None
        return subprocess.run([sys.executable, "-m", "modernize", "verify", *args],
                              capture_output=True, text=True, timeout=60, cwd=REPO, env=env)  # fmt: skip

    missing = verify(str(tmp_path / "nowhere"), "--engine", "podman")
    assert missing.returncode == 2 and "not a folder" in missing.stderr and "Traceback" not in missing.stderr
    bad = verify(str(tmp_path), "--engine", "lxc")
    assert bad.returncode == 2 and "choose one of docker, podman, buildah" in bad.stderr
    none = verify(str(tmp_path), path=str(tmp_path))  # no engine on PATH
    assert none.returncode == 2 and "no container engine found" in none.stderr
    with pytest.raises(UserError, match=r"compose\.yaml: not found"):
        prepare(tmp_path, tmp_path / "w", "podman", [], None)
    assert yaml.safe_load((_generated() / "compose.yaml").read_text())["services"]
    with pytest.raises(UserError):
        find_engine("lxc")


@pytest.mark.parametrize(
    ("log", "path"),
    [
        ('nginx: [emerg] open() "/var/lib/nginx/body/0000000001" failed (30: Read-only file system)',
         "/var/lib/nginx/body/0000000001"),
        ("OSError: [Errno 30] Read-only file system: '/srv/intranet/app/.cache'", "/srv/intranet/app/.cache"),
        ("mkdir: cannot create directory '/run/redis': Read-only file system", "/run/redis"),
    ],
)  # fmt: skip
def test_a_read_only_failure_names_the_path(log: str, path: str) -> None:
    from modernize.verify.verifier import _READ_ONLY

    m = _READ_ONLY.search(log)
    assert m and (m[1] or m[2]) == path


def test_the_logins_a_wordpress_config_names(tmp_path: Path) -> None:
    """lamp's WordPress keeps define('DB_HOST', ...) and the rest in a PHP file mounted as a secret."""
    work = tmp_path / "gen"
    root = materialize("lamp", tmp_path)
    proc = subprocess.run([sys.executable, "-m", "modernize", "run", str(root), "-o", str(work), "--strategy", "distro",
                           "-q"], capture_output=True, text=True, timeout=300, cwd=REPO)  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr
    project = prepare(work, tmp_path / "copy", "podman", [], None)
    settings = {name: databases.settings_of(project, name) for name in project.services}
    got = {(x.user, x.database, x.wanted_by) for x in databases.logins_for("mariadb", "mariadb", settings)}
    assert ("wordpress", "wordpress", "apache2") in got
    # Debian's wordpress package is installed in the distro image, not copied from the server
    (apache,) = [s for s in project.plan.services if s.name == "apache2"]
    assert "wordpress" in [p.name for p in apache.packages]
    assert "/usr/share/wordpress" not in [f.source for f in apache.files]  # (its changed config file may be)


def test_a_war_unpacked_beside_itself_needs_no_volume_its_logs_do() -> None:
    """Tomcat unpacks webapps/billing.war into webapps/billing/ on every start: derived
    from the image, so no volume; its log files are the service's (diff as podman printed it)."""
    plan = load_plan((REPO / "tests/golden/java-tomcat/generated/plan.yaml").read_text())
    tomcat = next(s for s in plan.services if s.name == "tomcat")
    assert derived_paths(tomcat) == ("/usr/local/tomcat/webapps/billing",)
    diff = Call((), 0, (
        "C /usr/local/tomcat/webapps\nA /usr/local/tomcat/webapps/billing\n"
        "A /usr/local/tomcat/webapps/billing/META-INF/MANIFEST.MF\n"
        "A /usr/local/tomcat/webapps/billing/WEB-INF/web.xml\n"
        "C /usr/local/tomcat/logs\nA /usr/local/tomcat/logs/catalina.2026-12-06.log\n"
    ), "")  # fmt: skip
    got = written_outside(diff, [], derived_paths(tomcat))
    assert [(w.path, w.runtime) for w in got] == [
        ("/usr/local/tomcat/logs", False),
        ("/usr/local/tomcat/webapps/billing", True),
    ]
    # without the plan's WAR it is one directory of state under /usr/local/tomcat, as before
    assert [(w.path, w.runtime) for w in written_outside(diff, [])] == [("/usr/local/tomcat", False)]
