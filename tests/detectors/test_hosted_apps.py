"""hosted-apps: apps a web server runs (mod_wsgi, Passenger), from the apache-wsgi fixture
and small configs; the Django settings reader. Negative cases: a commented
WSGIScriptAlias, a site in sites-available only, a module not loaded, Passenger off."""

from __future__ import annotations

from detectors.apache import ApacheDetector
from detectors.hosted_apps import HostedAppsDetector
from detectors.nginx import NginxDetector
from modernize.parsers import pysettings
from modernize.snapshot.memory import Content
from tests.helpers import fixture_tree, inventory

DETECTORS = [ApacheDetector, NginxDetector, HostedAppsDetector]


def _wiki() -> dict[str, Content]:
    return fixture_tree("apache-wsgi", "/etc/apache2", "/srv/wiki")


def test_mod_wsgi_daemon_from_fixture() -> None:
    inv = inventory(DETECTORS, _wiki())
    apps = [s for s in inv.services if s.kind == "app"]
    assert [s.id for s in apps] == ["python-app:/srv/wiki"]  # not the commented /old, not legacy-api
    app = apps[0]
    assert (app.user, app.group, app.hosted_by) == ("wiki", "wiki", "apache2")
    assert (app.runtime, app.framework) == ("python3.11", "django")
    attrs = dict(app.attributes)
    assert attrs["wsgi_daemon"] == "wiki" and attrs["processes"] == "2" and attrs["python_path"] == "/srv/wiki/src"
    assert {lib.name for lib in app.libraries} >= {"Django", "psycopg2-binary"}
    keys = {(s.key, s.kind) for s in app.secrets}
    assert keys == {
        ("SECRET_KEY", "key"),
        ("DATABASES.default.PASSWORD", "password"),
        ("EMAIL_HOST_PASSWORD", "password"),
    }
    deps = {(d.host, d.port, d.scheme) for d in inv.dependencies if d.source == app.id}
    assert deps == {
        ("pg01.example.internal", 5432, "postgresql"),
        ("cache01.example.internal", 6379, "redis"),
        ("smtp.example.com", 587, "smtp"),
    }
    ev = next(d for d in inv.dependencies if d.scheme == "postgresql").evidence[0]
    assert ev.path == "/srv/wiki/src/wiki/settings.py" and ev.line
    assert "wikiPg" not in repr(inv)


def test_mod_wsgi_not_loaded_or_embedded() -> None:
    files = dict(_wiki())
    files.pop("/etc/apache2/mods-enabled/wsgi.load")
    assert not [s for s in inventory(DETECTORS, files).services if s.kind == "app"]
    # embedded mode: no process group, Apache's own user and WSGIPythonHome
    site = (
        "WSGIPythonHome /srv/wiki/venv\n<VirtualHost *:80>\n"
        "WSGIScriptAlias / /srv/wiki/src/wiki/wsgi.py\n</VirtualHost>\n"
    )
    files = {**_wiki(), "/etc/apache2/sites-available/wiki.conf": site}
    app = next(s for s in inventory(DETECTORS, files).services if s.kind == "app")
    assert (app.id, app.user, dict(app.attributes)["wsgi_mode"]) == ("python-app:/srv/wiki", "www-data", "embedded")


RAILS = {
    "/srv/shop/config.ru": "require_relative 'config/environment'\nrun Rails.application\n",
    "/srv/shop/public/index.html": "",
    "/srv/shop/Gemfile.lock": "GEM\n  specs:\n    rails (7.0.8)\n    pg (1.5.4)\n\nRUBY VERSION\n   ruby 3.1.2p20\n",
    "/srv/shop/config/database.yml": (
        "production:\n  adapter: postgresql\n  host: db.example.internal\n  password: shopRails-Pw1\n"
        "development:\n  adapter: sqlite3\n"
    ),
}


def test_passenger_nginx() -> None:
    conf = (
        "user www-data;\nhttp {\n passenger_ruby /usr/bin/ruby3.1;\n server {\n  listen 80;\n"
        "  root /srv/shop/public;\n  passenger_enabled on;\n  passenger_user shop;\n }\n"
        " server {\n  listen 8080;\n  root /srv/other/public;\n  # passenger_enabled on;\n }\n}\n"
    )
    inv = inventory(DETECTORS, {"/etc/nginx/nginx.conf": conf, **RAILS, "/srv/other/config.ru": "run App\n"})
    apps = [s for s in inv.services if s.kind == "app"]
    assert [s.id for s in apps] == ["ruby-app:/srv/shop"]  # the commented passenger_enabled is not an app
    app = apps[0]
    assert (app.user, app.hosted_by, app.framework, app.runtime) == ("shop", "nginx", "rails", "ruby3.1")
    assert [s.key for s in app.secrets] == ["production.password"]
    assert {(d.host, d.port) for d in inv.dependencies if d.source == app.id} == {("db.example.internal", 5432)}


def test_passenger_apache_off_and_app_root() -> None:
    base = fixture_tree("apache-wsgi", "/etc/apache2")
    base.pop("/etc/apache2/mods-enabled/wsgi.load")
    base["/etc/apache2/mods-enabled/passenger.load"] = "LoadModule passenger_module /usr/lib/passenger.so\n"
    site = (
        "<VirtualHost *:80>\n DocumentRoot /var/www/x/public\n PassengerAppRoot /srv/shop\n"
        " PassengerAppEnv production\n</VirtualHost>\n"
        "<VirtualHost *:81>\n DocumentRoot /srv/other/public\n PassengerEnabled off\n</VirtualHost>\n"
    )
    files = {**base, "/etc/apache2/sites-available/wiki.conf": site, **RAILS, "/srv/other/config.ru": "run App\n"}
    apps = [s for s in inventory(DETECTORS, files).services if s.kind == "app"]
    assert [(s.id, s.hosted_by, dict(s.attributes)["app_env"]) for s in apps] == [
        ("ruby-app:/srv/shop", "apache2", "production")
    ]


def test_settings_reader() -> None:
    text = (
        "import os\nimport dj_database_url\nX = 1\nX = 2\n"
        "DATABASES = {'default': dj_database_url.config(default='postgres://u:p@h:5433/d')}\n"
        "KEY = os.environ['K']\nPORT = int(os.getenv('P', '8000'))\nA = 'a' + 'b'\nB = some_call()\n"
        "C = {'x': 1}\nC['y'] = 2\n"
    )
    s = pysettings.settings(text)
    assert s["X"] == (4, 2)
    url = s["DATABASES"][1]["default"]["URL"]
    assert url == pysettings.EnvRef("DATABASE_URL", "postgres://u:p@h:5433/d")
    assert s["KEY"][1] == pysettings.EnvRef("K") and s["PORT"][1] == pysettings.EnvRef("P", "8000")
    assert s["A"][1] == "ab" and s["B"][1] is pysettings.UNKNOWN and s["C"][1] == {"x": 1, "y": 2}
    assert pysettings.settings("def (") == {}
