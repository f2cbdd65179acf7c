"""Apps that run inside a web server: mod_wsgi and Phusion Passenger (Apache and nginx).

The web server's configuration says where the app is; the app's own files say what it is
and what it connects to. Each app is a service of its own (`python-app:<dir>`,
`ruby-app:<dir>`, `node-app:<dir>`) with `hosted_by` naming the web server whose
processes run it, its enabled state taken from that server's unit.

Rules followed:
- Apache's configuration is evaluated as the apache detector does (includes, `<IfModule>`,
  `<IfDefine>`, envvars), so a directive in a commented line, in a site left in
  sites-available or inside `<IfModule wsgi_module>` without the module loaded adds nothing.
  The directives count only with their module loaded (`wsgi_module`, `passenger_module`).
- mod_wsgi: `WSGIScriptAlias URL FILE [process-group=G]`; the process group is that option,
  else the `WSGIProcessGroup` in the same virtual host; without one the app runs embedded
  in Apache's own processes (Apache's user, `WSGIPythonHome`/`WSGIPythonPath`).
  `WSGIDaemonProcess NAME user= group= python-home= python-path= home= processes= threads=`
  (a daemon defined in a virtual host is visible there only; a server-level one everywhere).
- The app's directory: the venv's parent when the script lies below it, else the first
  python-path entry holding the script, else the script's directory.
- Passenger: `PassengerAppRoot`/`passenger_app_root`, else the parent of the document root
  (Passenger's own rule); the type from `PassengerAppType` or the startup file found
  there (`config.ru` Ruby, `passenger_wsgi.py` Python, `app.js`/`package.json` Node);
  `PassengerRuby/Python/Nodejs`, `PassengerUser/Group`, `PassengerAppEnv`/`RailsEnv`
  (default production). nginx: `passenger_enabled on` in a server or location, inherited
  from http and server.
- Django: the settings module named in the WSGI file (`DJANGO_SETTINGS_MODULE`) is read with
  `ast` (never run): `DATABASES` and `CACHES` give dependencies, `CELERY_BROKER_URL`/
  `BROKER_URL` and `EMAIL_HOST` too; `SECRET_KEY`, database and mail passwords are
  secrets; a value from the environment with a default counts as that default.
  Rails: `config/database.yml` for the app's environment and the gems of `Gemfile.lock`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from detectors.apache import LAYOUTS, envvars
from detectors.nginx import MAINS
from detectors.python_apps import FRAMEWORKS, PythonAppsDetector, apply_venv
from detectors.ruby_apps import RubyAppsDetector, rails_secret_files
from modernize.detector import Detector
from modernize.endpoints import DEFAULT_PORTS, classify_setting, parse_hostport, parse_url
from modernize.facts import Endpoint, Found, ServiceFacts
from modernize.model import Evidence, FileRef, file_ref
from modernize.parsers import pysettings
from modernize.parsers.apache import ApacheConfig, Effective, load
from modernize.parsers.apprun import basename
from modernize.parsers.nginx import load as nginx_load
from modernize.parsers.routes import health_route, module_files
from modernize.secrets import make_secret, redact_url
from modernize.snapshot import Snapshot
from modernize.snapshot import paths as P
from modernize.snapshot.declarations import whole

_DJANGO_ENGINES = {"postgresql": "postgresql", "postgis": "postgresql", "mysql": "mysql", "oracle": "oracle"}
_CACHE_SCHEMES = {"redis": "redis", "memcache": "memcached", "pymemcache": "memcached", "pylibmc": "memcached"}
_STARTUP = (("config.ru", "ruby"), ("passenger_wsgi.py", "python"), ("app.js", "node"), ("package.json", "node"))


@dataclass
class Hosted:
    """One app a web server runs, before its own files are read."""

    server: str  # the web server's service id (apache2, httpd, nginx)
    unit: str
    how: str  # mod_wsgi, passenger
    app: str  # the app's directory
    lang: str  # python, ruby, node
    evidence: list[Evidence]
    script: str | None = None  # the WSGI file
    venv: str | None = None
    paths: list[str] = field(default_factory=list)  # python-path
    user: str | None = None
    group: str | None = None
    interpreter: str | None = None  # PassengerRuby ...
    app_env: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)


def _ev(d: Effective) -> Evidence:
    return Evidence("config", d.path, d.line, excerpt=d.excerpt(), via=d.via)


def _nev(d: Any) -> Evidence:
    return Evidence("config", d.path, d.line, excerpt=d.excerpt(), via=d.via)


def _options(args: list[str]) -> dict[str, str]:
    return {k.lower(): v for a in args if "=" in a for k, v in [a.split("=", 1)]}


class HostedAppsDetector(Detector):
    name = "hosted-apps"
    tags = ("service", "app")
    requires = ("apache", "nginx", "systemd", "sysv", "dpkg", "rpm", "apk")
    reads = (
        *whole("/etc/apache2/**", "/etc/httpd/**", *(m for m, _ in MAINS)),
        *whole("/etc/nginx/**"),
        *PythonAppsDetector.reads,
        *RubyAppsDetector.reads,
    )

    def detect(self, snap: Snapshot, found: Found) -> None:
        apps: list[Hosted] = []
        for lay in LAYOUTS:
            if snap.is_file(lay.main):
                apps += self._apache(snap, lay.software, lay.unit, lay.main, lay.server_root, lay.envvars)
        for main, prefix in MAINS:
            if snap.is_file(main):
                apps += self._nginx(snap, main, prefix)
                break
        wants: list[str] = []
        for h in apps:
            wants += self._wants(snap, h)
        snap.want(sorted(set(wants)))
        settings_wants = [f for h in apps for f in self._settings_files(snap, h)]
        snap.want(sorted(set(settings_wants)))
        seen: set[tuple[str, str]] = set()
        for h in apps:
            sf = self._service(snap, found, h)
            if sf.key not in seen:
                seen.add(sf.key)
                found.add(sf)

    # -- Apache ------------------------------------------------------------------------------
    def _apache(
        self, snap: Snapshot, software: str, unit: str, main: str, root: str, env_file: str | None
    ) -> list[Hosted]:
        env: dict[str, str] = {}
        if env_file and snap.is_file(env_file):
            env = envvars(snap.text(env_file) or "")
        env.setdefault("APACHE_CONFDIR", root)
        cfg = load(snap, main, root, env)
        if cfg is None:
            return []
        user = next((d.args[0] for d in cfg.directives if d.key == "user" and d.args), None)
        group = next((d.args[0] for d in cfg.directives if d.key == "group" and d.args), None)
        out: list[Hosted] = []
        if cfg.loaded("wsgi_module"):
            out += self._wsgi(cfg, software, unit, (user, group))
        if cfg.loaded("passenger_module"):
            out += self._passenger_apache(snap, cfg, software, unit, (user, group))
        return out

    @staticmethod
    def _vhost(cfg: ApacheConfig, d: Effective) -> int | None:
        return next((i for i in d.scope if cfg.sections[i].key == "virtualhost"), None)

    def _wsgi(
        self, cfg: ApacheConfig, software: str, unit: str, web_user: tuple[str | None, str | None]
    ) -> list[Hosted]:
        daemons: dict[tuple[int | None, str], Effective] = {}
        for d in cfg.directives:
            if d.key == "wsgidaemonprocess" and d.args:
                daemons[(self._vhost(cfg, d), d.args[0])] = d
        home = next((d for d in cfg.directives if d.key == "wsgipythonhome" and d.args), None)
        path = next((d for d in cfg.directives if d.key == "wsgipythonpath" and d.args), None)
        out = []
        for d in cfg.directives:
            if d.key != "wsgiscriptalias" or len(d.args) < 2:
                continue
            vh = self._vhost(cfg, d)
            script = cfg.abspath(d.args[1])
            evidence = [_ev(d)]
            group = _options(d.args[2:]).get("process-group")
            if group is None:
                pg = [
                    x
                    for x in cfg.directives
                    if x.key == "wsgiprocessgroup" and x.args and self._vhost(cfg, x) == vh and "%{" not in x.args[0]
                ]
                if pg:
                    group = pg[-1].args[0]
                    evidence.append(_ev(pg[-1]))
            daemon = daemons.get((vh, group or "")) or daemons.get((None, group or "")) if group else None
            h = Hosted(software, unit, "mod_wsgi", P.parent(script), "python", evidence, script=script)
            h.attributes["wsgi_script"] = script
            h.attributes["mount"] = d.args[0]
            if daemon is not None:
                opts = _options(daemon.args[1:])
                h.evidence.append(_ev(daemon))
                h.user, h.group = opts.get("user") or web_user[0], opts.get("group") or web_user[1]
                h.venv = (opts.get("python-home") or "").rstrip("/") or None
                h.paths = [p for p in (opts.get("python-path") or "").split(":") if p]
                h.attributes["wsgi_daemon"] = daemon.args[0]
                for k in ("processes", "threads"):
                    if k in opts:
                        h.attributes[k] = opts[k]
            else:
                h.user, h.group = web_user
                h.attributes["wsgi_mode"] = "embedded"
                if home is not None:
                    h.venv = home.args[0].rstrip("/")
                    h.evidence.append(_ev(home))
                if path is not None:
                    h.paths = [p for p in path.args[0].split(":") if p]
            h.app = self._python_app_dir(script, h.venv, h.paths)
            if h.paths:
                h.attributes["python_path"] = ":".join(h.paths)
            out.append(h)
        return out

    @staticmethod
    def _python_app_dir(script: str, venv: str | None, paths: list[str]) -> str:
        if venv:
            root = P.parent(venv)
            if root != "/" and script.startswith(root.rstrip("/") + "/"):
                return root
        for p in paths:
            if script.startswith(p.rstrip("/") + "/"):
                return p.rstrip("/")
        return P.parent(script)

    def _passenger_apache(
        self, snap: Snapshot, cfg: ApacheConfig, software: str, unit: str, web_user: tuple[str | None, str | None]
    ) -> list[Hosted]:
        by_vhost: dict[int | None, list[Effective]] = {}
        for d in cfg.directives:
            by_vhost.setdefault(self._vhost(cfg, d), []).append(d)
        glob = by_vhost.get(None, [])
        out = []
        for vh, ds in sorted(by_vhost.items(), key=lambda kv: -1 if kv[0] is None else kv[0]):
            if vh is None:
                continue

            def last(key: str, ds: list[Effective] = ds) -> Effective | None:
                hits = [d for d in (*glob, *ds) if d.key == key and d.args]
                return hits[-1] if hits else None

            enabled = last("passengerenabled")
            if enabled is not None and enabled.args[0].lower() == "off":
                continue
            root_d = last("passengerapproot")
            doc = next((d for d in ds if d.key == "documentroot" and d.args), None)
            if root_d is not None:
                app, evidence = cfg.abspath(root_d.args[0]).rstrip("/"), [_ev(root_d)]
            elif doc is not None:
                app, evidence = P.parent(cfg.abspath(doc.args[0]).rstrip("/")), [_ev(doc)]
            else:
                continue
            h = self._passenger_app(snap, software, unit, app, evidence, last("passengerapptype"))
            if h is None:
                continue
            _passenger_settings(h, last, _ev, "")  # Apache's keys, lower-cased: passengerappenv
            out.append(h)
        return out

    @staticmethod
    def _passenger_app(
        snap: Snapshot, server: str, unit: str, app: str, evidence: list[Evidence], app_type: Any
    ) -> Hosted | None:
        lang = None
        if app_type is not None:
            t = app_type.args[0].lower()
            lang = {"rack": "ruby", "wsgi": "python", "node": "node"}.get(t)
            evidence.append(Evidence("config", app_type.path, app_type.line, excerpt=app_type.excerpt()))
        startup = None
        for name, kind in _STARTUP:
            if snap.exists(f"{app}/{name}") and (lang is None or lang == kind):
                startup, lang = f"{app}/{name}", kind
                break
        if lang is None:
            return None
        h = Hosted(server, unit, "passenger", app, lang, evidence)
        if startup:
            h.evidence.append(Evidence("file", startup, detail="Passenger's startup file"))
            h.attributes["startup_file"] = startup
            if lang == "python":
                h.script = startup
        return h

    # -- nginx ---------------------------------------------------------------------------------
    def _nginx(self, snap: Snapshot, main: str, prefix: str) -> list[Hosted]:
        cfg = nginx_load(snap, main, prefix)
        if cfg is None:
            return []
        out = []
        for d, ctx in cfg.walk():
            if d.name != "server" or d.block is None:
                continue
            scopes = [x.block or [] for x in ctx if x.name == "http"] + [d.block]
            locations = [x for x in d.block if x.name == "location" and x.block]

            def last(name: str, scopes: list[Any] = scopes) -> Any:
                hit = None
                for block in scopes:
                    for x in block:
                        if x.name == name and x.args:
                            hit = x
                return hit

            on = last("passenger_enabled")
            if on is None or on.args[0] != "on":
                on = next(
                    (
                        x
                        for loc in locations
                        for x in loc.block or []
                        if x.name == "passenger_enabled" and x.args and x.args[0] == "on"
                    ),
                    None,
                )
                if on is None:
                    continue
            root_d, rootdir = last("passenger_app_root"), last("root")
            if root_d is not None:
                app, evidence = root_d.args[0].rstrip("/"), [_nev(on), _nev(root_d)]
            elif rootdir is not None:
                app, evidence = P.parent(rootdir.args[0].rstrip("/")), [_nev(on), _nev(rootdir)]
            else:
                continue
            h = self._passenger_app(snap, "nginx", "nginx", app, evidence, None)
            if h is None:
                continue
            _passenger_settings(h, last, _nev, "_")  # nginx's: passenger_app_env
            out.append(h)
        return out

    # -- the app's own files ---------------------------------------------------------------------
    def _wants(self, snap: Snapshot, h: Hosted) -> list[str]:
        out = [f for f in (h.script,) if f]
        if h.venv:
            out.append(f"{h.venv}/pyvenv.cfg")
            for sp in ("site-packages", "dist-packages"):
                out += snap.glob(f"{h.venv}/lib/python*/{sp}/*.dist-info/METADATA")
        for rel in ("Gemfile.lock", "config/database.yml", "package.json", "requirements.txt", "pyproject.toml"):
            if snap.exists(f"{h.app}/{rel}"):
                out.append(f"{h.app}/{rel}")
        if h.lang == "ruby":
            out += rails_secret_files(snap, h.app)
        return out

    def _settings_module(self, snap: Snapshot, h: Hosted) -> tuple[str, Evidence] | None:
        text = snap.text(h.script) if h.script and snap.exists(h.script) else None
        m = re.search(r"""DJANGO_SETTINGS_MODULE['"]\s*[,:=]\s*['"]([\w.]+)['"]""", text or "")
        if not m or not h.script:
            return None
        line = (text or "")[: m.start()].count("\n") + 1
        return m.group(1), Evidence("config", h.script, line, excerpt=m.group(0))

    def _settings_files(self, snap: Snapshot, h: Hosted) -> list[str]:
        mod = self._settings_module(snap, h)
        if mod is None:
            return []
        bases = [*h.paths, P.parent(h.script or h.app), h.app, P.parent(P.parent(h.script or h.app))]
        return [f for f in pysettings.module_file(mod[0], bases) if snap.exists(f)]

    def _service(self, snap: Snapshot, found: Found, h: Hosted) -> ServiceFacts:
        software = f"{h.lang}-app"
        sf = ServiceFacts(software=software, kind="app", instance=h.app, name=basename(h.app))
        sf.hosted_by = h.server
        sf.user, sf.group = h.user, h.group
        sf.working_dir = h.app
        sf.evidence.extend(h.evidence)
        sf.attributes.update(h.attributes)
        sf.attributes["server"] = h.how
        if h.app_env:
            sf.attributes["app_env"] = h.app_env
        if h.interpreter:
            sf.attributes["interpreter"] = h.interpreter
        unit = next((u for u in found.units if u.name in (f"{h.unit}.service", h.unit)), None)
        if unit is not None:
            sf.enabled = unit.enabled
        sf.content_paths.append(FileRef(h.app, "content", evidence=tuple(h.evidence[:1])))
        if h.lang == "python":
            self._python(snap, found, sf, h)
            script = h.attributes.get("wsgi_script") or ""
            for path in module_files(script, "/") if script.endswith(".py") else []:
                route = health_route(snap.text(path) or "") if snap.exists(path) else None
                if route:
                    sf.attributes["health_path"] = route[0]
                    sf.evidence.append(Evidence("file", path, route[1], detail="health route"))
                    break
        elif h.lang == "ruby":
            ruby = RubyAppsDetector()
            ruby._gems(snap, found, sf, h.app, "passenger")
            ruby._database(snap, sf, h.app, h.app_env or "production")
            ruby._credentials(snap, found, sf, h.app, h.app_env or "production")
            if h.interpreter and sf.runtime is None:
                m = re.search(r"ruby(\d+\.\d+)", h.interpreter)
                sf.runtime = f"ruby{m.group(1)}" if m else None
        else:
            pkg = f"{h.app}/package.json"
            if snap.exists(pkg):
                sf.config_files.append(file_ref(pkg, "config"))
            node = found.package("nodejs")
            sf.runtime = f"node{node.version.series.split('.')[0]}" if node else "node"
        if h.how == "passenger":
            sf.packages += ["passenger", "libapache2-mod-passenger", "libnginx-mod-http-passenger"]
        return sf

    def _python(self, snap: Snapshot, found: Found, sf: ServiceFacts, h: Hosted) -> None:
        if h.script:
            sf.config_files.append(file_ref(h.script, "config"))
        if h.how == "mod_wsgi":
            sf.packages += ["libapache2-mod-wsgi-py3", "python3-mod_wsgi", "mod_wsgi"]
        venv = PythonAppsDetector()._venv(snap, h.venv) if h.venv else None
        if venv is not None:
            apply_venv(sf, venv)
            fw = next((f for f in FRAMEWORKS if f in venv.dists), None)
            if fw:
                sf.framework = fw
        if sf.runtime is None:
            pkg = found.package("python3")
            if pkg is not None:
                sf.runtime = "python" + pkg.version.series
        mod = self._settings_module(snap, h)
        if mod is None:
            return
        sf.framework = "django"
        sf.attributes["django_settings"] = mod[0]
        sf.evidence.append(mod[1])
        for path in self._settings_files(snap, h)[:1]:
            sf.config_files.append(file_ref(path, "config"))
            django_settings(sf, path, pysettings.settings(snap.text(path) or ""))


def _passenger_settings(h: Hosted, last: Callable[[str], Any], ev: Callable[[Any], Evidence], sep: str) -> None:
    """Passenger's interpreter, app environment, user and group for the app, from the
    directives `last` finds (Apache and nginx spell the same names, joined by SEP)."""
    lang = {"ruby": "ruby", "python": "python", "node": "nodejs"}[h.lang]
    for words, attr in ((("passenger", lang), "interpreter"), (("passenger", "app", "env"), "app_env"),
                        (("rails", "env"), "app_env")):  # fmt: skip
        hit = last(sep.join(words))
        if hit is not None and getattr(h, attr) is None:
            setattr(h, attr, hit.args[0])
            h.evidence.append(ev(hit))
    pu, pg = last(sep.join(("passenger", "user"))), last(sep.join(("passenger", "group")))
    h.user = pu.args[0] if pu else None
    h.group = pg.args[0] if pg else None
    if h.user is None:
        h.attributes["user_rule"] = "Passenger runs the app as the owner of its startup file"


def _str(value: Any) -> tuple[str | None, str | None]:
    """(value, environment variable) of a setting: a literal, or an env look-up's default."""
    if isinstance(value, pysettings.EnvRef):
        return (value.default if isinstance(value.default, str) else None), value.name
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value), None
    return (value if isinstance(value, str) else None), None


def django_settings(sf: ServiceFacts, path: str, settings: dict[str, tuple[int, Any]]) -> None:
    """What a Django settings module connects to, and its secrets."""

    def ev(line: int, what: str) -> Evidence:
        return Evidence("config", path, line, excerpt=what)

    def secret(name: str, value: Any, line: int, kind: str = "password") -> None:
        text, _env = _str(value)
        if text:
            sf.secrets.append(make_secret(name, text, path, line, kind=kind))

    if "SECRET_KEY" in settings:
        line, value = settings["SECRET_KEY"]
        secret("SECRET_KEY", value, line, "key")
    line, dbs = settings.get("DATABASES", (0, None))
    for alias, db in (dbs or {}).items() if isinstance(dbs, dict) else ():
        if not isinstance(db, dict):
            continue
        where = f"DATABASES.{alias}"
        secret(f"{where}.PASSWORD", db.get("PASSWORD"), line)
        if isinstance(db.get("URL"), pysettings.EnvRef):  # dj_database_url
            url, env = _str(db["URL"])
            if url:
                _, sec = classify_setting(env or "DATABASE_URL", url, path, line)
                if sec:
                    sf.secrets.append(sec)
                ep = parse_url(url, env or "DATABASE_URL", (ev(line, f"{where}: {env or 'DATABASE_URL'}"),))
                if ep:
                    sf.endpoints.append(ep)
            continue
        engine, _ = _str(db.get("ENGINE"))
        kind = (engine or "").rsplit(".", 1)[-1]
        name, _ = _str(db.get("NAME"))
        if kind == "sqlite3":
            if name and name.startswith("/"):
                sf.data_dirs.append(FileRef(P.parent(name), "data", evidence=(ev(line, f"{where}.NAME = {name}"),)))
            continue
        scheme = _DJANGO_ENGINES.get(kind)
        host, host_env = _str(db.get("HOST"))
        port, _ = _str(db.get("PORT"))
        if scheme is None:
            continue
        shown = f"{where}: ENGINE {engine}, HOST {host or ''}" + (f" (${host_env})" if host_env else "")
        if host and host.startswith("/"):
            sf.endpoints.append(Endpoint(f"{where}.HOST", None, None, scheme, host, (ev(line, shown),)))
        elif host:
            num = int(port) if port and port.isdigit() else DEFAULT_PORTS.get(scheme)
            sf.endpoints.append(Endpoint(f"{where}.HOST", host, num, scheme, None, (ev(line, shown),)))
    line, caches = settings.get("CACHES", (0, None))
    for alias, cache in (caches or {}).items() if isinstance(caches, dict) else ():
        if not isinstance(cache, dict):
            continue
        backend, _ = _str(cache.get("BACKEND"))
        scheme = next((s for k, s in _CACHE_SCHEMES.items() if k in (backend or "").lower()), None)
        locs = cache.get("LOCATION")
        for loc in locs if isinstance(locs, list) else [locs]:
            text, _ = _str(loc)
            if not text or scheme is None:
                continue
            cache_ev = ev(line, f"CACHES.{alias}: {backend}")
            if "://" in text:
                _, sec = classify_setting(f"CACHES.{alias}.LOCATION", text, path, line)
                if sec:
                    sf.secrets.append(sec)
                ep = parse_url(text, f"CACHES.{alias}.LOCATION", (cache_ev,))
                if ep:
                    sf.endpoints.append(ep)
            else:
                for ep in parse_hostport(text, f"CACHES.{alias}.LOCATION", (cache_ev,)):
                    sf.endpoints.append(Endpoint(ep.via, ep.host, ep.port, scheme, ep.socket, ep.evidence))
    for key in ("CELERY_BROKER_URL", "BROKER_URL", "CELERY_RESULT_BACKEND"):
        if key in settings:
            line, value = settings[key]
            text, _ = _str(value)
            if text and "://" in text:
                _, sec = classify_setting(key, text, path, line)
                if sec:
                    sf.secrets.append(sec)
                ep = parse_url(text, key, (ev(line, f"{key} = {_redact(text)}"),))
                if ep:
                    sf.endpoints.append(ep)
    if "EMAIL_HOST" in settings:
        line, value = settings["EMAIL_HOST"]
        host, _ = _str(value)
        port, _ = _str(settings.get("EMAIL_PORT", (0, None))[1])
        if host and (host not in ("localhost", "127.0.0.1") or "EMAIL_PORT" in settings):
            num = int(port) if port and port.isdigit() else 25
            sf.endpoints.append(Endpoint("EMAIL_HOST", host, num, "smtp", None, (ev(line, f"EMAIL_HOST = {host}"),)))
    if "EMAIL_HOST_PASSWORD" in settings:
        line, value = settings["EMAIL_HOST_PASSWORD"]
        secret("EMAIL_HOST_PASSWORD", value, line)
    for key, role in (("MEDIA_ROOT", "uploads"), ("STATIC_ROOT", "content")):
        if key in settings:
            line, value = settings[key]
            text, _ = _str(value)
            if text and text.startswith("/"):
                ref = FileRef(text.rstrip("/"), role, evidence=(ev(line, f"{key} = {text}"),))
                (sf.data_dirs if role == "uploads" else sf.content_paths).append(ref)


def _redact(url: str) -> str:
    return redact_url(url)
