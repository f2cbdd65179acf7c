"""python-apps: gunicorn/celery units with venvs, uWSGI inis, option forms, negatives."""

from __future__ import annotations

from detectors.python_apps import PythonAppsDetector
from detectors.supervisord import SupervisordDetector
from detectors.systemd import SystemdDetector
from modernize.snapshot.memory import Content, Link
from tests.helpers import FIXTURES, fixture_tree, inventory, ports

ROOT = FIXTURES / "python-web" / "root"
DETS = [SystemdDetector, PythonAppsDetector]


def tree(*tops: str, scenario: str = "python-web") -> dict[str, Content]:
    return fixture_tree(scenario, *tops)


def fixture_files() -> dict[str, Content]:
    files = tree("/srv/intranet", "/etc/intranet")
    for name in ("intranet.service", "intranet-worker.service", "intranet-cleanup.service", "intranet-cleanup.timer"):
        files[f"/etc/systemd/system/{name}"] = (ROOT / "etc/systemd/system" / name).read_bytes()
    files["/etc/systemd/system/intranet.service.d/override.conf"] = (
        ROOT / "etc/systemd/system/intranet.service.d/override.conf"
    ).read_bytes()
    for name in ("intranet.service", "intranet-worker.service"):
        files[f"/etc/systemd/system/multi-user.target.wants/{name}"] = Link(f"/etc/systemd/system/{name}")
    return files


def by_id(inv: object, sid: str):  # type: ignore[no-untyped-def]
    hits = [s for s in inv.services if s.id == sid]  # type: ignore[attr-defined]
    assert hits, [s.id for s in inv.services]  # type: ignore[attr-defined]
    return hits[0]


def test_python_web_gunicorn_and_celery() -> None:
    inv = inventory(DETS, fixture_files())
    web = by_id(inv, "python-app:/srv/intranet")
    # the drop-in's ExecStart replaced the unit's (reset by the empty ExecStart=)
    assert ports(web) == {("127.0.0.1", 8000)}
    attrs = dict(web.attributes)
    assert attrs["workers"] == "5" and attrs["wsgi_app"] == "wsgi:app" and attrs["venv"] == "/srv/intranet/venv"
    assert "flask==3.1.3" in attrs["python_packages"] and "gunicorn==27.0.1" in attrs["python_packages"]
    assert web.version is not None and web.version.upstream == "27.0.1"
    assert (web.runtime, web.framework, web.user, web.enabled) == ("python3.11", "flask", "intranet", True)
    assert web.working_dir == "/srv/intranet/app"
    assert {r.path for r in web.config_files} >= {
        "/etc/systemd/system/intranet.service",
        "/etc/systemd/system/intranet.service.d/override.conf",
        "/etc/intranet/intranet.env",
    }
    assert {r.path for r in web.data_dirs} == {"/var/lib/intranet/media"}
    assert {s.key for s in web.secrets} == {
        "DATABASE_URL",
        "REDIS_URL",
        "CELERY_BROKER_URL",
        "SECRET_KEY",
        "SMTP_PASSWORD",
    }
    assert "/srv/intranet/requirements.txt" in attrs["project_files"]
    worker = by_id(inv, "celery:/srv/intranet")
    assert worker.kind == "worker" and not worker.ports
    assert worker.version is not None and worker.version.upstream == "5.7.0"
    assert dict(worker.attributes)["celery_app"] == "tasks"
    deps = {(d.source, d.via, d.host, d.port) for d in inv.dependencies}
    assert ("python-app:/srv/intranet", "DATABASE_URL", "127.0.0.1", 5432) in deps
    assert ("celery:/srv/intranet", "CELERY_BROKER_URL", "localhost", 6379) in deps
    assert ("celery:/srv/intranet", "SMTP_HOST", "smtp.corp.example.com", 587) in deps
    # the oneshot `flask --app wsgi purge-expired` job is not a service
    assert not [s for s in inv.services if "cleanup" in (s.name or "")]


def test_no_secret_values_anywhere() -> None:
    from modernize.serialize import dumps

    text = dumps(inventory(DETS, fixture_files()))
    for value in ("pgPass-7Hq2xLw9", "redisPass-Vt83kQz1", "flaskKey-9dK2mPq7ZrX4", "smtpPass-Lw4Jx8Nc"):
        assert value not in text


UNIT = """[Service]
User=app
WorkingDirectory=/srv/api
{extra}
ExecStart={cmd}

[Install]
WantedBy=multi-user.target
"""


def one(cmd: str, extra: str = "", files: dict[str, Content] | None = None) -> object:
    data: dict[str, Content] = {"/etc/systemd/system/api.service": UNIT.format(cmd=cmd, extra=extra)}
    data.update(files or {})
    return inventory(DETS, data)


def test_gunicorn_bind_forms() -> None:
    inv = one("/usr/bin/gunicorn -b unix:/run/api/api.sock --bind=[::1]:9000 -w4 api.wsgi:application")
    svc = by_id(inv, "python-app:/srv/api")
    assert {(p.proto, p.socket, p.address, p.port) for p in svc.ports} == {
        ("unix", "/run/api/api.sock", None, None),
        ("tcp", None, "::1", 9000),
    }
    assert dict(svc.attributes)["workers"] == "4" and dict(svc.attributes)["wsgi_app"] == "api.wsgi:application"


def test_gunicorn_default_and_port_env() -> None:
    svc = by_id(one("/usr/bin/gunicorn app:app"), "python-app:/srv/api")
    assert [(p.address, p.port, p.source) for p in svc.ports] == [("127.0.0.1", 8000, "default")]
    svc = by_id(one("/usr/bin/gunicorn app:app", extra="Environment=PORT=5005"), "python-app:/srv/api")
    assert [(p.address, p.port) for p in svc.ports] == [("0.0.0.0", 5005)]


def test_gunicorn_config_file_and_cli_precedence() -> None:
    conf = "# bind = '0.0.0.0:1'\nbind = ['127.0.0.1:7000']\nworkers = 3\naccesslog = '/var/log/api/access.log'\n"
    svc = by_id(one("/usr/bin/gunicorn app:app", files={"/srv/api/gunicorn.conf.py": conf}), "python-app:/srv/api")
    assert ports(svc) == {("127.0.0.1", 7000)}
    assert dict(svc.attributes)["workers"] == "3"
    assert {r.path for r in svc.log_paths} == {"/var/log/api/access.log"}
    # the command line wins over the file
    svc = by_id(
        one("/usr/bin/gunicorn -b 0.0.0.0:7100 app:app", files={"/srv/api/gunicorn.conf.py": conf}),
        "python-app:/srv/api",
    )
    assert ports(svc) == {("0.0.0.0", 7100)}


def test_wrappers_and_uvicorn() -> None:
    cmd = "/bin/sh -c 'cd /srv/api && exec /usr/bin/env UVICORN=1 /usr/local/bin/uvicorn main:app --host 0.0.0.0 --port 8080'"
    svc = by_id(one(cmd), "python-app:/srv/api")
    assert ports(svc) == {("0.0.0.0", 8080)}
    assert dict(svc.attributes)["asgi_app"] == "main:app"


def test_python_module_runserver_and_django() -> None:
    files = {"/srv/api/manage.py": "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'api.settings')\n"}
    svc = by_id(one("/usr/bin/python3 manage.py runserver 0.0.0.0:8001", files=files), "python-app:/srv/api")
    assert ports(svc) == {("0.0.0.0", 8001)}
    assert svc.framework == "django" and dict(svc.attributes)["django_settings"] == "api.settings"


def test_uwsgi_debian_apps_enabled() -> None:
    ini = """[uwsgi]
# socket = :9999
plugins = python3
chdir = /srv/blog
module = blog.wsgi:application
virtualenv = /srv/blog/venv
http-socket = 127.0.0.1:8002
env = DATABASE_URL=postgresql://blog:s3cr3t@db.example.com/blog
logto = /var/log/uwsgi/%n.log
"""
    files: dict[str, Content] = {
        "/etc/uwsgi/apps-enabled/blog.ini": ini,
        "/srv/blog/venv/pyvenv.cfg": "home = /usr/bin\nversion = 3.9.2\n",
        "/etc/uwsgi/apps-enabled/plain.ini": "[uwsgi]\nchdir = /srv/plain\nmodule = app\n",
    }
    inv = inventory(DETS, files)
    blog = by_id(inv, "python-app:/srv/blog")
    assert ports(blog) == {("127.0.0.1", 8002)}  # the commented socket is not a port
    assert blog.runtime == "python3.9"
    assert {r.path for r in blog.log_paths} == {"/var/log/uwsgi/blog.log"}
    assert [s.key for s in blog.secrets] == ["DATABASE_URL"]
    (dep,) = [d for d in inv.dependencies if d.source == "python-app:/srv/blog"]
    assert (dep.host, dep.port, dep.external) == ("db.example.com", 5432, True)
    plain = by_id(inv, "python-app:/srv/plain")
    # Debian's default.ini socket and user apply when the app sets none
    assert {(p.socket, p.source) for p in plain.ports} == {("/run/uwsgi/app/plain/socket", "default")}
    assert plain.user == "www-data"


def test_supervisord_program() -> None:
    files: dict[str, Content] = {
        "/etc/supervisor/supervisord.conf": "[include]\nfiles = conf.d/*.conf\n",
        "/etc/supervisor/conf.d/worker.conf": (
            "[program:worker]\ncommand=/opt/shop/venv/bin/celery -A shop worker -l info\n"
            'directory=/opt/shop\nuser=shop\nenvironment=BROKER_URL="amqp://guest:pw@127.0.0.1:5672//"\n'
        ),
        "/opt/shop/venv/pyvenv.cfg": "version = 3.11.4\n",
    }
    inv = inventory([SupervisordDetector, PythonAppsDetector], files)
    svc = by_id(inv, "celery:/opt/shop")
    assert (svc.kind, svc.user, svc.runtime) == ("worker", "shop", "python3.11")
    assert [(m.system, m.name) for m in svc.started_by] == [("supervisord", "worker")]
    assert [s.key for s in svc.secrets] == ["BROKER_URL"]


def test_negatives() -> None:
    # not a python app server; a host without units; a celery `inspect` call
    inv = one("/usr/sbin/nginx -g 'daemon off;'")
    assert not [s for s in inv.services if s.found_by == ("python-apps",)]
    inv = inventory(DETS, {"/srv/x/requirements.txt": "flask\n"})
    assert not inv.services
    inv = one("/usr/bin/celery -A tasks inspect ping")
    assert not [s for s in inv.services if s.found_by == ("python-apps",)]


WIKI_UNIT = """[Unit]
Description=wiki (gunicorn)

[Service]
User=wiki
WorkingDirectory=/srv/wiki/src
ExecStart=/srv/wiki/venv/bin/gunicorn --chdir /srv/wiki/src --bind 127.0.0.1:8010 wiki.wsgi:application
Restart=on-failure

[Install]
WantedBy=multi-user.target
"""


def test_a_django_project_under_gunicorn_reads_its_settings() -> None:
    """The apache-wsgi fixture's real Django project (startproject layout, production
    settings), run by gunicorn from a systemd unit instead of mod_wsgi: the settings module
    its wsgi.py names is read without running it."""
    files = fixture_tree("apache-wsgi", "/srv/wiki")
    files["/srv/wiki/venv/bin/gunicorn"] = b"#!/srv/wiki/venv/bin/python3\n"
    files["/etc/systemd/system/wiki.service"] = WIKI_UNIT.encode()
    files["/etc/systemd/system/multi-user.target.wants/wiki.service"] = Link("/etc/systemd/system/wiki.service")
    inv = inventory(DETS, files)
    wiki = by_id(inv, "python-app:/srv/wiki")  # the project around the venv and the code
    assert wiki.framework == "django" and dict(wiki.attributes)["django_settings"] == "wiki.settings"
    assert "/srv/wiki/src/wiki/settings.py" in {r.path for r in wiki.config_files}
    deps = {(d.host, d.port) for d in inv.dependencies if d.source == wiki.id}  # type: ignore[attr-defined]
    assert ("pg01.example.internal", 5432) in deps and ("cache01.example.internal", 6379) in deps
    keys = {(s.key, s.path) for s in wiki.secrets}
    assert ("SECRET_KEY", "/srv/wiki/src/wiki/settings.py") in keys
    assert any(k.endswith("PASSWORD") and p.endswith("settings.py") for k, p in keys)
    # the commented-out database is not a dependency
    assert "mysql-old.example.internal" not in {h for h, _ in deps}
