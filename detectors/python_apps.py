"""Python web apps and workers: what init units (systemd, supervisord, SysV) and uWSGI run.

Service ids: a web app is `python-app:<app dir>` (kind app); a Celery worker is its own
service `celery:<app dir>` (kind worker), Celery beat `celery-beat:<app dir>` (scheduler) and
Flower `celery-flower:<app dir>` (monitoring). These are the software names the fixtures'
expected.yaml uses. When a second unit runs the same software from the same app dir, it gets
`<app dir>#<unit name>`. The app dir is the project root: the venv's parent when the working
directory lies below it (`/srv/intranet/venv` + `WorkingDirectory=/srv/intranet/app` ->
`/srv/intranet`), else the working directory (`--chdir`, uWSGI `chdir`, `cd DIR &&`).

Rules followed:
- gunicorn: settings come from the config file (`-c`, default `./gunicorn.conf.py` in the
  start directory, read with `ast`, never executed), then `GUNICORN_CMD_ARGS`, then the
  command line, each overriding the last; `bind` defaults to `0.0.0.0:$PORT` when PORT is
  set, else `127.0.0.1:8000`; `unix:PATH` binds a socket.
- uvicorn `--host/--port/--uds` (127.0.0.1:8000), hypercorn `-b` (127.0.0.1:8000),
  daphne `-b/-p/-u` (127.0.0.1:8000), waitress-serve `--listen/--host/--port` (0.0.0.0:8080),
  `manage.py runserver [addr:]port` (127.0.0.1:8000), `flask run` (127.0.0.1:5000,
  FLASK_RUN_HOST/PORT), celery `-A APP worker|beat|flower` (flower: 0.0.0.0:5555).
- uWSGI ini `[uwsgi]` (repeated keys kept, `%d %n %p %(key)` expanded): `http`,
  `http-socket`, `https`, `socket`/`uwsgi-socket`, `fastcgi-socket`; `chdir`, `module`,
  `wsgi-file`, `virtualenv`/`venv`/`home`, `uid`, `env`, `logto`/`daemonize`. Debian's
  `/etc/uwsgi/apps-enabled/NAME.ini` inherits `/usr/share/uwsgi/conf/default.ini`:
  socket `/run/uwsgi/app/NAME/socket`, uid www-data.
- A venv is a `bin/` parent holding `pyvenv.cfg` (`version`/`version_info` -> runtime
  `python3.11`); its distributions are `lib/python*/site-packages/*.dist-info/METADATA`
  (Name/Version headers). The app server's distribution gives the service version.
  A distribution's `direct_url.json` (PEP 610) says it came from a VCS, a URL or a local
  directory (Library.source/url, credentials masked); without one, from the index.
- The unit's environment (EnvironmentFile contents included, secrets already masked)
  is copied with the unit's secrets; endpoints come from `endpoints_of_env`.
"""

from __future__ import annotations

import ast
import re
import shlex
from dataclasses import dataclass, field

from modernize.detector import Detector
from modernize.endpoints import classify_setting, endpoints_of_env
from modernize.facts import Found, ServiceFacts
from modernize.model import Evidence, FileRef, InitUnit, Library, Port, file_ref
from modernize.parsers import provenance, pysettings
from modernize.parsers.apprun import (
    Options,
    basename,
    bind_port,
    data_dirs_of_env,
    default_port,
    env_value,
    parse_options,
    runnable,
    unit_evidence,
    unit_settings,
    unwrap,
)
from modernize.parsers.routes import health_route, module_files
from modernize.snapshot import Snapshot
from modernize.snapshot import paths as P
from modernize.snapshot.declarations import whole
from modernize.versions import make_version

APP_ROOTS = ("/srv", "/opt", "/var/www", "/home/*", "/usr/local")
_NOISE = ("node_modules", ".git", "__pycache__")
SERVERS = ("gunicorn", "uwsgi", "uvicorn", "celery", "daphne", "hypercorn", "waitress-serve")
_PYTHON = re.compile(r"^python(?:\d+(?:\.\d+)?)?$")
_SP = ("site-packages", "dist-packages")
_VENV_NAMES = ("venv", ".venv", "env", ".env", "virtualenv", "pyenv")
PROJECT_FILES = ("requirements.txt", "requirements-prod.txt", "pyproject.toml", "Pipfile", "Pipfile.lock", "setup.py")
FRAMEWORKS = ("django", "fastapi", "flask", "starlette", "pyramid", "tornado", "aiohttp", "falcon", "bottle", "sanic")
PACKAGES = {
    "gunicorn": ["gunicorn", "python3-gunicorn"],
    "uwsgi": ["uwsgi", "uwsgi-core", "uwsgi-plugin-python3"],
    "uvicorn": ["uvicorn", "python3-uvicorn"],
    "celery": ["celery", "python3-celery"],
    "daphne": ["daphne", "python3-daphne"],
    "hypercorn": ["hypercorn", "python3-hypercorn"],
    "waitress-serve": ["python3-waitress"],
}
DEBIAN_UWSGI_APPS = "/etc/uwsgi/apps-enabled"


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class Launch:
    """One way an app process is started, before its files are read."""

    unit: InitUnit | None
    server: str  # gunicorn, uwsgi, uvicorn, celery, daphne, hypercorn, waitress-serve, python
    program: str
    args: tuple[str, ...]
    workdir: str | None
    wrapper_env: list[tuple[str, str]] = field(default_factory=list)
    user: str | None = None
    ini: str | None = None  # a uWSGI ini file
    debian_app: bool = False  # /etc/uwsgi/apps-enabled/NAME.ini


@dataclass
class Venv:
    path: str
    runtime: str | None
    dists: dict[str, tuple[str, str, str]]  # normalized name -> (name, version, METADATA path)
    evidence: list[Evidence]
    origins: dict[str, tuple[provenance.Origin, str]] = field(default_factory=dict)  # name -> (origin, file)


_GUNICORN_FLAGS = {
    "--reload", "--spew", "--check-config", "--print-config", "--preload", "--no-sendfile", "--reuse-port",
    "--daemon", "--capture-output", "--enable-stdio-inheritance", "--proxy-protocol", "--strip-header-spaces",
    "--suppress-ragged-eofs", "--do-handshake-on-connect", "--help", "--version", "-D", "-R", "-v", "-h",
}  # fmt: skip
_UVICORN_FLAGS = {
    "--reload",
    "--factory",
    "--version",
    "--help",
    "--use-colors",
    "--proxy-headers",
    "--access-log",
    "--server-header",
    "--date-header",
    "--ws-per-message-deflate",
}
_CELERY_FLAGS = {
    "-E",
    "-B",
    "-O",
    "-D",
    "--beat",
    "--detach",
    "--without-gossip",
    "--without-mingle",
    "--without-heartbeat",
    "--purge",
    "--discard",
    "--quiet",
    "-q",
    "--no-color",
    "--task-events",
    "--help",
    "--version",
    "--optimization",
}
_DAPHNE_FLAGS = {"--proxy-headers", "--no-server-name", "--help", "-s"}
_WAITRESS_FLAGS = {
    "--call",
    "--ipv4",
    "--ipv6",
    "--no-ipv4",
    "--no-ipv6",
    "--expose-tracebacks",
    "--help",
    "--no-expose-tracebacks",
    "--log-untrusted-proxy-headers",
}
_PY_WITH_VALUE = {"-m", "-c", "-W", "-X", "--check-hash-based-pycs"}


def _opts(server: str, args: tuple[str, ...]) -> Options:
    if server == "gunicorn":
        return parse_options(args, lambda o: o not in _GUNICORN_FLAGS)
    if server in ("uvicorn", "hypercorn"):
        return parse_options(args, lambda o: o not in _UVICORN_FLAGS and not o.startswith("--no-"))
    if server == "celery":
        return parse_options(args, lambda o: o not in _CELERY_FLAGS)
    if server == "daphne":
        return parse_options(args, lambda o: o not in _DAPHNE_FLAGS)
    if server == "waitress-serve":
        return parse_options(args, lambda o: o not in _WAITRESS_FLAGS)
    if server == "uwsgi":
        return parse_options(
            args,
            lambda o: (
                o
                not in (
                    "--master",
                    "-M",
                    "--die-on-term",
                    "--enable-threads",
                    "--vacuum",
                    "--lazy-apps",
                    "--strict",
                    "--need-app",
                )
            ),
        )
    return parse_options(args, lambda o: o in _PY_WITH_VALUE, stop_at_first_arg=True)


_SETTINGS_DEFAULT = re.compile(r"""DJANGO_SETTINGS_MODULE['"]\s*[,:=]\s*['"]([\w.]+)['"]""")
APP_MODULES = ("wsgi.py", "asgi.py", "app.py", "main.py", "application.py", "urls.py")


class PythonAppsDetector(Detector):
    name = "python-apps"
    tags = ("service", "app", "python")
    requires = ("systemd", "supervisord", "sysv", "cron", "dpkg", "rpm", "apk")
    reads = (
        *whole(f"{DEBIAN_UWSGI_APPS}/*.ini", "/etc/uwsgi/vassals/*.ini", "/etc/uwsgi-emperor/vassals/*.ini"),
        *whole(*(f"{r}/**/pyvenv.cfg" for r in APP_ROOTS), exclude=_NOISE),
        *whole(
            *(f"{r}/**/lib/python*/site-packages/*.dist-info/METADATA" for r in APP_ROOTS),
            *(f"{r}/**/lib/python*/dist-packages/*.dist-info/METADATA" for r in APP_ROOTS),
            *(f"{r}/**/lib/python*/{sp}/*.dist-info/direct_url.json" for r in APP_ROOTS for sp in _SP),
            exclude=("node_modules", ".git"),
        ),
        *whole(
            *(f"{r}/**/{name}" for r in APP_ROOTS for name in (*PROJECT_FILES, "gunicorn.conf.py", "manage.py")),
            # the usual WSGI/ASGI modules and Django's urls.py: where an app's health route is;
            # Django's settings (a module or a package): kept on the first pass, no second one
            *(f"{r}/**/{name}" for r in APP_ROOTS for name in (*APP_MODULES, "settings.py", "settings/*.py")),
            exclude=(*_NOISE, "site-packages", "dist-packages"),
        ),
    )

    def detect(self, snap: Snapshot, found: Found) -> None:
        launches = [launch for unit in found.units if runnable(unit) for launch in self._launches(unit)]
        launches += self._debian_uwsgi(snap, found, launches)
        # second-order reads, level 1: uWSGI ini files named on command lines
        snap.want(la.ini for la in launches if la.ini)
        inis = {la.ini: self._uwsgi_ini(snap, found, la.ini) for la in launches if la.ini}
        plans = [(la, inis.get(la.ini or "", [])) for la in launches]
        # level 2: venvs, their distributions, project files and config files
        wants: list[str] = []
        for la, ini in plans:
            wants += self._wants(snap, la, ini)
        snap.want(sorted(set(wants)))
        taken: dict[tuple[str, str], int] = {}
        for la, ini in plans:
            sf = self._service(snap, found, la, ini)
            if sf is None:
                continue
            key = (sf.software, sf.instance or "")
            taken[key] = taken.get(key, 0) + 1
            if taken[key] > 1 and la.unit is not None:
                sf.instance = f"{sf.instance}#{la.unit.name.removesuffix('.service')}"
            found.add(sf)

    # -- what runs -------------------------------------------------------------------
    def _launches(self, unit: InitUnit) -> list[Launch]:
        for argv in unit.exec_start:
            cmd = unwrap(argv)
            if not cmd.argv:
                continue
            prog = cmd.argv[0]
            exe = basename(prog)
            workdir = cmd.cwd or unit.working_dir
            if workdir and workdir.startswith("~"):
                workdir = None
            base = Launch(unit, exe, prog, cmd.argv[1:], workdir, cmd.env, cmd.user)
            if exe in SERVERS:
                if exe == "uwsgi":
                    return self._uwsgi_launches(base)
                return [base]
            if _PYTHON.match(exe):
                opts = _opts("python", cmd.argv[1:])
                mod = opts.get("-m")
                if mod:
                    server = {"waitress": "waitress-serve"}.get(mod, mod)
                    rest = tuple(opts.args)
                    if server in SERVERS:
                        return [Launch(unit, server, prog, rest, workdir, cmd.env, cmd.user)]
                    return [Launch(unit, "python", prog, ("-m", mod, *rest), workdir, cmd.env, cmd.user)]
                if opts.args and not opts.has("-c"):
                    return [Launch(unit, "python", prog, tuple(opts.args), workdir, cmd.env, cmd.user)]
        return []

    @staticmethod
    def _uwsgi_launches(base: Launch) -> list[Launch]:
        opts = _opts("uwsgi", base.args)
        out = []
        for ini in opts.all("--ini"):
            out.append(
                Launch(**{**base.__dict__, "ini": ini if ini.startswith("/") else P.join(base.workdir or "/", ini)})
            )
        if not out and base.args and base.args[0].endswith(".ini") and not base.args[0].startswith("-"):
            out.append(Launch(**{**base.__dict__, "ini": P.join(base.workdir or "/", base.args[0])}))
        return out or [base]

    def _debian_uwsgi(self, snap: Snapshot, found: Found, launches: list[Launch]) -> list[Launch]:
        """Debian's uwsgi init script starts every /etc/uwsgi/apps-enabled/*.ini; so do
        emperors watching a vassals directory."""
        seen = {la.ini for la in launches}
        runner = next((u for u in found.units if u.name in ("uwsgi.service", "uwsgi")), None)
        out = []
        for ini in snap.glob(f"{DEBIAN_UWSGI_APPS}/*.ini"):
            if ini not in seen:
                out.append(Launch(runner, "uwsgi", "/usr/bin/uwsgi", ("--ini", ini), None, ini=ini, debian_app=True))
        for la in launches:
            if la.server != "uwsgi" or la.ini:
                continue
            emperor = _opts("uwsgi", la.args).get("--emperor")
            if emperor and emperor.startswith("/"):
                pattern = emperor if any(c in emperor for c in "*?[") else emperor.rstrip("/") + "/*.ini"
                for ini in snap.glob(pattern):
                    if ini not in seen:
                        out.append(Launch(la.unit, "uwsgi", la.program, ("--ini", ini), None, ini=ini))
        return out

    # -- uWSGI ini ---------------------------------------------------------------------
    @staticmethod
    def _uwsgi_ini(snap: Snapshot, found: Found, path: str | None) -> list[tuple[int, str, str]]:
        if not path:
            return []
        text = snap.text(path)
        if text is None:
            return []
        name = basename(path).rsplit(".", 1)[0]
        magic = {"%d": P.parent(path) + "/", "%n": name, "%p": path, "%c": basename(P.parent(path)), "%%": "%"}
        out: list[tuple[int, str, str]] = []
        section = None
        known: dict[str, str] = {}
        for no, raw in enumerate(text.splitlines(), 1):
            s = raw.strip()
            if not s or s[0] in "#;":
                continue
            if s.startswith("[") and s.endswith("]"):
                section = s[1:-1].strip()
                continue
            if section != "uwsgi":
                continue
            key, sep, value = s.partition("=")
            key, value = key.strip(), value.strip() if sep else "true"
            value = re.sub(r"%\(([A-Za-z0-9_-]+)\)", lambda m: known.get(m.group(1), m.group(0)), value)
            for k, v in magic.items():
                value = value.replace(k, v)
            known[key] = value
            out.append((no, key, value))
        if section is None and not out:
            found.unparsable(path, "no [uwsgi] section")
        return out

    # -- second-order reads -----------------------------------------------------------
    def _venv_of(self, snap: Snapshot, la: Launch, ini: list[tuple[int, str, str]]) -> str | None:
        for _, k, v in ini:
            if k in ("virtualenv", "venv", "home", "pyhome", "H"):
                return v.rstrip("/")
        opts = _opts("uwsgi", la.args) if la.server == "uwsgi" else None
        if opts is not None and opts.get("--virtualenv", "--venv", "--home", "-H"):
            return (opts.get("--virtualenv", "--venv", "--home", "-H") or "").rstrip("/")
        prog = la.program
        if prog.startswith("/") and P.parent(prog).endswith("/bin"):
            root = P.parent(P.parent(prog))
            if snap.exists(f"{root}/pyvenv.cfg"):
                return root
        return None

    def _dirs(self, snap: Snapshot, la: Launch, ini: list[tuple[int, str, str]]) -> tuple[str | None, str | None]:
        """(venv, app dir)."""
        venv = self._venv_of(snap, la, ini)
        chdir = next((v for _, k, v in reversed(ini) if k == "chdir"), None)
        if la.server == "gunicorn":
            chdir = _opts("gunicorn", la.args).get("--chdir") or chdir
        if la.server == "uvicorn":
            chdir = _opts("uvicorn", la.args).get("--app-dir") or chdir
        if la.server == "celery":
            chdir = _opts("celery", la.args).get("--workdir") or chdir
        work = (
            chdir
            if chdir and chdir.startswith("/")
            else (P.join(la.workdir, chdir) if chdir and la.workdir else la.workdir)
        )
        if la.server == "python" and not work and la.args and la.args[0].startswith("/"):
            work = P.parent(la.args[0])
        app = work
        if venv:
            root = P.parent(venv)
            if not work or work == root or work.startswith(root.rstrip("/") + "/"):
                app = root if root != "/" else work
        return venv, P.normalize(app) if app else None

    def _wants(self, snap: Snapshot, la: Launch, ini: list[tuple[int, str, str]]) -> list[str]:
        venv, app = self._dirs(snap, la, ini)
        out: list[str] = []
        if venv:
            out.append(f"{venv}/pyvenv.cfg")
            for sp in ("site-packages", "dist-packages"):
                out += snap.glob(f"{venv}/lib/python*/{sp}/*.dist-info/METADATA")
                out += snap.glob(f"{venv}/lib/python*/{sp}/*.dist-info/direct_url.json")
        work = la.workdir
        for d in {app, work} - {None}:
            assert d is not None
            out += [f"{d}/{n}" for n in PROJECT_FILES if snap.exists(f"{d}/{n}")]
            out += [f for f in snap.glob(f"{d}/requirements*.txt")]
        if la.server == "gunicorn":
            conf = self._gunicorn_conf_path(la)
            if conf and snap.exists(conf):
                out.append(conf)
        if la.server == "python" and la.args and la.args[0].endswith("manage.py"):
            out.append(la.args[0] if la.args[0].startswith("/") else P.join(la.workdir or "/", la.args[0]))
        return out

    # -- the service -------------------------------------------------------------------
    def _venv(self, snap: Snapshot, venv: str, found: Found | None = None) -> Venv:
        cfg_path = f"{venv}/pyvenv.cfg"
        runtime = None
        ev: list[Evidence] = []
        text = snap.text(cfg_path)
        if text is not None:
            for no, raw in enumerate(text.splitlines(), 1):
                k, sep, v = raw.partition("=")
                if sep and k.strip() in ("version", "version_info"):
                    m = re.match(r"(\d+)\.(\d+)", v.strip())
                    if m:
                        runtime = f"python{m.group(1)}.{m.group(2)}"
                        ev.append(Evidence("config", cfg_path, no, excerpt=raw.strip()))
        dists: dict[str, tuple[str, str, str]] = {}
        for sp in ("site-packages", "dist-packages"):
            for meta in snap.glob(f"{venv}/lib/python*/{sp}/*.dist-info/METADATA"):
                if runtime is None:
                    m = re.search(r"/lib/python(\d+\.\d+)/", meta)
                    runtime = f"python{m.group(1)}" if m else None
                name, version = _metadata(snap.text(meta))
                if name and version:
                    dists.setdefault(_norm(name), (name, version, meta))
        origins: dict[str, tuple[provenance.Origin, str]] = {}
        for key, (_name, _version, meta) in dists.items():
            direct = meta.rsplit("/", 1)[0] + "/direct_url.json"
            text = snap.text(direct) if snap.exists(direct) else None
            if text is None:
                origins[key] = (provenance.Origin(provenance.REGISTRY), meta)
                continue
            try:
                origins[key] = (provenance.pep610(text), direct)
            except ValueError as exc:  # the web app and its worker share a venv: said once
                if found is not None and not any(f.path == direct for f in found.findings):
                    found.unparsable(direct, f"not a PEP 610 direct URL record ({exc})")
        return Venv(venv, runtime, dists, ev, origins)

    def _gunicorn_conf_path(self, la: Launch) -> str | None:
        opts = _opts("gunicorn", la.args)
        conf = opts.get("-c", "--config")
        if conf and conf.startswith("python:"):
            return None
        if conf:
            return conf if conf.startswith("/") else P.join(la.workdir or "/", conf)
        return P.join(la.workdir, "gunicorn.conf.py") if la.workdir else None

    def _service(
        self, snap: Snapshot, found: Found, la: Launch, ini: list[tuple[int, str, str]]
    ) -> ServiceFacts | None:
        venv_path, app = self._dirs(snap, la, ini)
        venv = self._venv(snap, venv_path, found) if venv_path else None
        server = la.server
        if server == "python" and venv is None and not la.args:
            return None
        software, kind = "python-app", "app"
        opts = _opts(server, la.args) if server not in ("uwsgi", "python") else Options()
        sub = None
        if server == "celery":
            sub = next((a for a in opts.args if a in ("worker", "beat", "flower", "multi", "events")), None)
            if sub not in ("worker", "beat", "flower", "multi"):
                return None
            software, kind = {
                "worker": ("celery", "worker"),
                "multi": ("celery", "worker"),
                "beat": ("celery-beat", "scheduler"),
                "flower": ("celery-flower", "monitoring"),
            }[sub]
        instance = app or (la.unit.name if la.unit else la.ini)
        if instance is None:
            return None
        sf = ServiceFacts(software=software, kind=kind, instance=instance)
        unit = la.unit
        if unit is not None:
            unit_settings(sf, unit)
            sf.name = unit.name.rsplit(".", 1)[0] if unit.system == "systemd" else unit.name
            sf.command = unit.exec_start[0] if unit.exec_start else ()
        if la.ini:
            sf.config_files.append(file_ref(la.ini, "config"))
            sf.name = sf.name if la.unit is not None and not la.debian_app else basename(la.ini).rsplit(".", 1)[0]
        for k, v in la.wrapper_env:
            self._setting(sf, k, v, unit.path if unit else "", None)
        sf.user = la.user or sf.user
        sf.working_dir = la.workdir or (unit.working_dir if unit else None)
        ev = unit_evidence(unit) if unit else Evidence("file", la.ini)
        sf.attributes["server"] = {"python": "python", "waitress-serve": "waitress"}.get(server, server)
        if server == "gunicorn":
            self._gunicorn(snap, sf, la, opts, ev)
        elif server == "uwsgi":
            self._uwsgi(sf, la, ini, ev)
        elif server in ("uvicorn", "hypercorn", "daphne", "waitress-serve"):
            self._asgi(sf, server, opts, ev)
        elif server == "celery":
            app_name = opts.get("-A", "--app")
            if app_name:
                sf.attributes["celery_app"] = app_name
            if sub == "flower":
                port = opts.get("--port")
                addr = opts.get("--address") or "0.0.0.0"
                if port and port.isdigit():
                    sf.ports.append(Port(int(port), "tcp", addr, evidence=(_ex(ev, f"--port {port}"),)))
                else:
                    sf.ports.append(default_port(5555, addr, "flower listens on 5555 by default"))
            for log in opts.all("-f", "--logfile"):
                if "%" not in log:
                    sf.log_paths.append(
                        FileRef(_abs(log, sf.working_dir), "logs", evidence=(_ex(ev, f"--logfile {log}"),))
                    )
        else:
            self._python(snap, sf, la, ev)
        # the runtime and what the venv holds
        if venv is not None:
            apply_venv(sf, venv)
            dists = venv.dists
            own = {"celery-beat": "celery", "celery-flower": "flower", "waitress-serve": "waitress"}.get(
                software, server
            )
            own = "celery" if software == "celery" else own
            if own in dists:
                name, version, meta = dists[own]
                sf.version = make_version(version, "pypi", software)
                sf.evidence.append(Evidence("file", meta, excerpt=f"Name: {name} Version: {version}"))
            fw = next((f for f in FRAMEWORKS if f in dists), None)
            if fw and kind == "app":
                sf.framework = fw
            elif kind != "app":
                sf.framework = "celery"
                if fw:
                    sf.attributes["app_framework"] = fw
        else:
            sf.packages.extend(PACKAGES.get(server, []))
            exe = basename(la.program)
            if _PYTHON.match(exe) and re.search(r"\d\.\d", exe):
                sf.runtime = exe
            else:
                pkg = found.package("python3")
                if pkg is not None:
                    sf.runtime = "python" + pkg.version.series
        if env_value(sf.env, "DJANGO_SETTINGS_MODULE"):
            sf.framework = "django" if kind == "app" else sf.framework
            sf.attributes["django_settings"] = env_value(sf.env, "DJANGO_SETTINGS_MODULE") or ""
        if app:
            sf.content_paths.append(FileRef(app, "content", evidence=(ev,)))
            self._project(snap, sf, app, la.workdir)
        bases = [b for b in dict.fromkeys((la.workdir, app)) if b]
        modules = _modules(snap, sf, bases)  # read once: for the health route and Django's settings
        self._health(sf, modules.get(bases[0], []) if bases else [])
        if kind == "app":
            self._django(snap, sf, bases, modules)
        sf.endpoints.extend(endpoints_of_env(sf.env))
        sf.data_dirs.extend(data_dirs_of_env(sf.env))
        return sf

    @staticmethod
    def _health(sf: ServiceFacts, modules: list[tuple[str, str]]) -> None:
        """The app's health route, from its WSGI/ASGI module (or Django's urls.py)."""
        for path, text in modules:
            found = health_route(text)
            if found:
                sf.attributes["health_path"] = found[0]
                sf.evidence.append(Evidence("file", path, found[1], detail="health route"))
                return

    @staticmethod
    def _django(snap: Snapshot, sf: ServiceFacts, bases: list[str], modules: dict[str, list[tuple[str, str]]]) -> None:
        """A Django project's settings module (named by DJANGO_SETTINGS_MODULE, else by its
        WSGI/ASGI module's setdefault), read without running it: the databases, caches and
        brokers it connects to, its secrets, its media root (as under mod_wsgi)."""
        from detectors.hosted_apps import django_settings  # (hosted_apps imports this module)

        module = sf.attributes.get("django_settings")
        for base in bases if not module else ():
            wsgi = [text for path, text in modules.get(base, []) if not path.endswith("/urls.py")]
            m = _SETTINGS_DEFAULT.search(wsgi[0]) if wsgi else None
            if m:
                module = m.group(1)
        if not module:
            return
        files = [f for f in pysettings.module_file(module, bases) if snap.exists(f)]
        if not files:
            return
        snap.want(files[:1])  # second order: the settings file is named in another file
        sf.framework = "django"
        sf.attributes["django_settings"] = module
        sf.config_files.append(file_ref(files[0], "config"))
        django_settings(sf, files[0], pysettings.settings(snap.text(files[0]) or ""))

    @staticmethod
    def _setting(sf: ServiceFacts, key: str, value: str, path: str, line: int | None) -> None:
        var, sec = classify_setting(key, value, path, line)
        sf.env.append(var)
        if sec:
            sf.secrets.append(sec)

    # -- app servers -------------------------------------------------------------------
    def _gunicorn(self, snap: Snapshot, sf: ServiceFacts, la: Launch, opts: Options, ev: Evidence) -> None:
        conf_path = self._gunicorn_conf_path(la)
        conf = _py_assignments(snap.text(conf_path)) if conf_path and snap.exists(conf_path) else {}
        if conf and conf_path:
            sf.config_files.append(file_ref(conf_path, "config"))
        env_args = env_value(sf.env, "GUNICORN_CMD_ARGS")
        env_opts = _opts("gunicorn", tuple(shlex.split(env_args))) if env_args else Options()
        binds: list[Port] = []
        for source, o in (("GUNICORN_CMD_ARGS", env_opts), ("command line", opts)):
            specs = o.all("-b", "--bind")
            if specs:
                binds = [p for s in specs if (p := bind_port(s, (_ex(ev, f"--bind {s} ({source})"),)))]
        if not binds and "bind" in conf and conf_path:
            line, value = conf["bind"]
            specs = (
                [value]
                if isinstance(value, str)
                else [v for v in value if isinstance(v, str)]
                if isinstance(value, list)
                else []
            )
            ev_conf = (Evidence("config", conf_path, line, excerpt=f"bind = {value!r}"),)
            binds = [p for s in specs if (p := bind_port(s, ev_conf))]
        if not binds:
            port_env = env_value(sf.env, "PORT")
            if port_env and port_env.isdigit():
                binds = [
                    Port(
                        int(port_env),
                        "tcp",
                        "0.0.0.0",
                        evidence=(
                            Evidence(
                                "default", detail=f"gunicorn binds 0.0.0.0:$PORT when PORT is set (PORT={port_env})"
                            ),
                        ),
                    )
                ]
            else:
                binds = [default_port(8000, "127.0.0.1", "gunicorn binds 127.0.0.1:8000 when no bind is set")]
        sf.ports.extend(binds)
        workers = opts.get("-w", "--workers") or env_opts.get("-w", "--workers")
        if workers is None and "workers" in conf:
            workers = str(conf["workers"][1])
        if workers:
            sf.attributes["workers"] = workers
        target = opts.args[-1] if opts.args else None
        if target is None and "wsgi_app" in conf and isinstance(conf["wsgi_app"][1], str):
            target = conf["wsgi_app"][1]
        if target:
            sf.attributes["wsgi_app"] = target
        for k in ("user", "group"):
            val = opts.get(f"-{k[0]}", f"--{k}")
            conf_val = conf[k][1] if k in conf else None
            if val is None and isinstance(conf_val, str):
                val = conf_val
            if val:
                setattr(sf, k, val)
        for spec in opts.all("-e", "--env"):
            k, _, v = spec.partition("=")
            self._setting(sf, k, v, la.unit.path if la.unit else "", None)
        logs = opts.all("--access-logfile", "--error-logfile", "--log-file")
        for key in ("accesslog", "errorlog"):
            conf_log = conf[key][1] if key in conf else None
            if isinstance(conf_log, str):
                logs.append(conf_log)
        for log in logs:
            if log != "-" and log.startswith(("/", ".")):
                sf.log_paths.append(FileRef(_abs(log, sf.working_dir), "logs", evidence=(ev,)))

    def _uwsgi(self, sf: ServiceFacts, la: Launch, ini: list[tuple[int, str, str]], ev: Evidence) -> None:
        path = la.ini or ""
        keys = {
            "http": "http",
            "http-socket": "http",
            "https": "https",
            "socket": "uwsgi",
            "uwsgi-socket": "uwsgi",
            "s": "uwsgi",
            "fastcgi-socket": "fastcgi",
        }
        protocols = []
        for no, k, v in ini:
            ev_line = (Evidence("config", path, no, excerpt=f"{k} = {v}"),)
            if k in keys:
                spec = v.split(",", 1)[0]  # https = addr,cert,key
                port = bind_port(spec, ev_line)
                if port is not None:
                    sf.ports.append(port)
                    protocols.append(keys[k])
            elif k == "env":
                ek, _, evv = v.partition("=")
                self._setting(sf, ek, evv, path, no)
            elif k in ("uid", "gid"):
                setattr(sf, "user" if k == "uid" else "group", v)
            elif k in ("module", "wsgi", "wsgi-file", "file", "mount", "callable"):
                sf.attributes.setdefault("wsgi_app", v)
            elif k in ("processes", "workers", "p"):
                sf.attributes["workers"] = v
            elif k in ("logto", "logto2", "daemonize") and v.startswith("/"):
                sf.log_paths.append(FileRef(v, "logs", evidence=ev_line))
        if not sf.ports and la.debian_app:
            name = basename(path).rsplit(".", 1)[0]
            sock = f"/run/uwsgi/app/{name}/socket"
            sf.ports.append(
                Port(
                    None,
                    "unix",
                    None,
                    socket=sock,
                    source="default",
                    evidence=(
                        Evidence(
                            "default", detail=f"Debian's uwsgi default.ini: socket = /run/uwsgi/app/{name}/socket"
                        ),
                    ),
                )
            )
            protocols.append("uwsgi")
            if sf.user is None:
                sf.user = sf.group = "www-data"
        if protocols:
            sf.attributes["protocol"] = ",".join(sorted(set(protocols)))

    def _asgi(self, sf: ServiceFacts, server: str, opts: Options, ev: Evidence) -> None:
        if opts.args:
            sf.attributes["wsgi_app" if server == "waitress-serve" else "asgi_app"] = opts.args[-1]
        defaults = {
            "uvicorn": ("127.0.0.1", 8000),
            "hypercorn": ("127.0.0.1", 8000),
            "daphne": ("127.0.0.1", 8000),
            "waitress-serve": ("0.0.0.0", 8080),
        }
        dhost, dport = defaults[server]
        ports: list[Port] = []
        if server == "hypercorn":
            ports = [p for s in opts.all("-b", "--bind") if (p := bind_port(s, (_ex(ev, f"--bind {s}"),)))]
        if server == "waitress-serve":
            ports = [p for s in opts.all("--listen") if (p := bind_port(s, (_ex(ev, f"--listen={s}"),)))]
        for sock_opt in ("--uds", "-u", "--unix-socket"):
            for s in opts.all(sock_opt):
                ports.append(Port(None, "unix", None, socket=s, evidence=(_ex(ev, f"{sock_opt} {s}"),)))
        host = opts.get("--host") if server != "daphne" else opts.get("-b", "--bind")
        port = opts.get("--port") if server != "daphne" else opts.get("-p", "--port")
        if not ports:  # every server here has a default (the table above)
            addr = host or dhost
            num = int(port) if port and port.isdigit() else dport
            src = "configured" if host or port else "default"
            evd = _ex(
                ev, " ".join(x for x in (f"--host {host}" if host else "", f"--port {port}" if port else "") if x)
            )
            if src == "default":
                evd = Evidence("default", detail=f"{server} listens on {dhost}:{dport} by default")
            ports.append(Port(num, "tcp", "0.0.0.0" if addr in ("", "0.0.0.0") else addr, source=src, evidence=(evd,)))
        sf.ports.extend(ports)
        workers = opts.get("--workers", "-w")
        if workers:
            sf.attributes["workers"] = workers

    def _python(self, snap: Snapshot, sf: ServiceFacts, la: Launch, ev: Evidence) -> None:
        args = list(la.args)
        if args and args[0] == "-m":
            sf.attributes["module"] = args[1] if len(args) > 1 else ""
            if len(args) > 1 and args[1] == "flask":
                self._flask_run(sf, args[2:], ev)
            return
        script = args[0] if args else ""
        sf.attributes["script"] = script
        if basename(script) == "manage.py":
            sf.framework = "django"
            path = script if script.startswith("/") else P.join(la.workdir or "/", script)
            text = snap.text(path) if snap.exists(path) else None
            m = re.search(r"""DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([\w.]+)['"]""", text or "")
            if m:
                sf.attributes["django_settings"] = m.group(1)
            if len(args) > 1 and args[1] == "runserver":
                rest = [a for a in args[2:] if not a.startswith("-")]
                spec = rest[0] if rest else None
                if spec:
                    p = bind_port(spec, (_ex(ev, f"runserver {spec}"),), default_host="127.0.0.1")
                    if p:
                        sf.ports.append(p)
                else:
                    sf.ports.append(
                        default_port(8000, "127.0.0.1", "manage.py runserver listens on 127.0.0.1:8000 by default")
                    )
            elif len(args) > 1:
                sf.attributes["command"] = args[1]
                if args[1] in ("rqworker", "qcluster", "celery", "process_tasks"):
                    sf.kind = "worker"

    def _flask_run(self, sf: ServiceFacts, args: list[str], ev: Evidence) -> None:
        opts = parse_options(args, lambda o: o in ("--app", "-A", "--host", "-h", "--port", "-p", "--cert", "--key"))
        if "run" not in opts.args:
            return
        sf.framework = "flask"
        host = opts.get("--host", "-h") or env_value(sf.env, "FLASK_RUN_HOST")
        port = opts.get("--port", "-p") or env_value(sf.env, "FLASK_RUN_PORT")
        if host or port:
            sf.ports.append(
                Port(
                    int(port) if port and port.isdigit() else 5000,
                    "tcp",
                    host or "127.0.0.1",
                    evidence=(_ex(ev, f"flask run --host {host} --port {port}"),),
                )
            )
        else:
            sf.ports.append(default_port(5000, "127.0.0.1", "flask run listens on 127.0.0.1:5000 by default"))

    # -- project files -------------------------------------------------------------------
    def _project(self, snap: Snapshot, sf: ServiceFacts, app: str, work: str | None) -> None:
        found_files: list[str] = []
        for d in dict.fromkeys(x for x in (app, work) if x):
            found_files += [f"{d}/{n}" for n in PROJECT_FILES if snap.exists(f"{d}/{n}")]
            found_files += [f for f in snap.glob(f"{d}/requirements*.txt") if f not in found_files]
        for f in dict.fromkeys(found_files):
            sf.evidence.append(Evidence("file", f, detail="project dependencies"))
        if found_files:
            sf.attributes["project_files"] = ",".join(dict.fromkeys(found_files))
        pyproject = next((f for f in found_files if f.endswith("/pyproject.toml")), None)
        if pyproject:
            text = snap.text(pyproject)
            if text:
                meta = _pyproject(text)
                for k in ("name", "version"):
                    if meta.get(k):
                        sf.attributes[f"project_{k}"] = meta[k]


def _modules(snap: Snapshot, sf: ServiceFacts, bases: list[str]) -> dict[str, list[tuple[str, str]]]:
    """Per base directory, the app's WSGI/ASGI module and Django's urls.py beside it that
    exist, with their text (declared reads: APP_MODULES)."""
    target = sf.attributes.get("wsgi_app") or sf.attributes.get("asgi_app") or ""
    return {
        base: [(path, snap.text(path) or "") for path in module_files(target, base) if snap.exists(path)]
        for base in bases
    }


def apply_venv(sf: ServiceFacts, venv: Venv) -> None:
    """What a venv tells of the app it runs: its Python, and the distributions it holds,
    as libraries with where each came from (PEP 610's direct_url.json)."""
    sf.runtime = venv.runtime
    sf.evidence.extend(venv.evidence)
    sf.attributes["venv"] = venv.path
    dists = venv.dists
    sf.attributes["python_packages"] = ",".join(f"{k}=={dists[k][1]}" for k in sorted(dists))
    for key, (name, version, meta) in dists.items():
        origin, where = venv.origins.get(key, (None, meta))
        sf.libraries.append(
            Library(
                "pypi",
                name,
                version,
                (Evidence("file", where, 1 if where != meta else None),),
                origin.source if origin else None,
                origin.url if origin else None,
            )
        )


def _ex(ev: Evidence, excerpt: str) -> Evidence:
    return Evidence(ev.kind, ev.path, ev.line, excerpt=excerpt, via=ev.via)


def _abs(path: str, base: str | None) -> str:
    return P.absolute(path, base or "/")


def _metadata(text: str | None) -> tuple[str | None, str | None]:
    """Name and Version from a METADATA file's RFC 822 header block."""
    name = version = None
    for line in (text or "").splitlines():
        if not line.strip():
            break
        k, sep, v = line.partition(":")
        if sep and k == "Name":
            name = v.strip()
        elif sep and k == "Version":
            version = v.strip()
    return name, version


def _py_assignments(text: str | None) -> dict[str, tuple[int, object]]:
    """Top-level `name = literal` assignments of a Python config file (never executed)."""
    if not text:
        return {}
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return {}
    out: dict[str, tuple[int, object]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            try:
                value = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError, RecursionError):
                continue
            for t in node.targets:
                if isinstance(t, ast.Name):
                    out[t.id] = (node.lineno, value)
    return out


def _pyproject(text: str) -> dict[str, str]:
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {}
    proj = data.get("project") or data.get("tool", {}).get("poetry") or {}
    return {k: str(proj[k]) for k in ("name", "version") if isinstance(proj, dict) and k in proj}
