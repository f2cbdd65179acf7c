"""Node.js apps: what init units and pm2 run, described from their package.json.

Service id `node-app:<app dir>`, the app dir being the nearest directory holding a
package.json above the entry script (else the script's directory). When two processes run
from one app dir, the one whose script is package.json's `main`/`scripts.start` keeps the
plain id and the others get `<app dir>#<unit or pm2 name>`.

Rules followed:
- units: `node [opts] SCRIPT` (`/usr/bin/node`, `nodejs`, an nvm `.../v18.20.4/bin/node`),
  `npm start|run start|run-script X` (`--prefix DIR`), `yarn|pnpm start`, `npx X` and
  `node_modules/.bin/X` (the app dir is node_modules' parent); `node --env-file=F` adds F.
- pm2: a unit running `pm2 resurrect` (what `pm2 startup` writes) restores
  `$PM2_HOME/dump.pm2` (PM2_HOME from the unit, else the unit user's `~/.pm2`): a JSON list
  with name, pm_exec_path, pm_cwd, env, exec_mode, instances, log paths, node_version.
  `pm2 start|pm2-runtime FILE` reads an ecosystem file (`ecosystem.config.js/.cjs`, parsed
  as a JS object literal without running it: apps[].name/script/cwd/env/instances/exec_mode/
  out_file/error_file). A dump.pm2 with no unit is still a deployed app (enabled unknown).
  Shell variables pm2 copies into a dump (HOME, PATH, PM2_* ...) are not app settings.
- Where each library came from (Library.source/url): the lock file (package-lock.json,
  npm-shrinkwrap.json, yarn.lock; see modernize.parsers.provenance). Locked packages from
  git, a URL or a local path are libraries too, direct dependencies or not: the image's
  `npm ci` must reach them.
- PORT comes from the env; else from the entry script's code: `process.env.PORT || 3000`
  or a literal `.listen(3000`. The bind address likewise: `process.env.HOST || '0.0.0.0'`
  or a literal `.listen(port, '127.0.0.1'`; without one Node binds every address (None).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from modernize.detector import Detector
from modernize.endpoints import classify_setting, endpoints_of_env
from modernize.facts import Found, ServiceFacts
from modernize.model import Evidence, FileRef, InitUnit, Library, Port, StartMethod
from modernize.parsers import provenance
from modernize.parsers.apprun import (
    basename,
    data_dirs_of_env,
    env_value,
    runnable,
    unit_settings,
    unwrap,
)
from modernize.parsers.jsobject import UNKNOWN, parse_exports
from modernize.parsers.routes import health_route
from modernize.snapshot import Snapshot
from modernize.snapshot import paths as P
from modernize.snapshot.declarations import whole
from modernize.versions import make_version

APP_ROOTS = ("/srv", "/opt", "/var/www", "/home/*", "/usr/local")
ECOSYSTEM = ("ecosystem.config.js", "ecosystem.config.cjs", "ecosystem.config.mjs")
LOCKS = (
    ("package-lock.json", "npm"),
    ("yarn.lock", "yarn"),
    ("pnpm-lock.yaml", "pnpm"),
    ("npm-shrinkwrap.json", "npm"),
)
FRAMEWORKS = (
    ("next", "next"),
    ("@nestjs/core", "nestjs"),
    ("nuxt", "nuxt"),
    ("@hapi/hapi", "hapi"),
    ("fastify", "fastify"),
    ("koa", "koa"),
    ("express", "express"),
    ("@remix-run/serve", "remix"),
)
# what pm2 copies from the shell it was started in; not the app's own settings
_SHELL_VARS = {
    "SHELL",
    "PWD",
    "OLDPWD",
    "LOGNAME",
    "HOME",
    "LANG",
    "USER",
    "SHLVL",
    "PATH",
    "_",
    "TERM",
    "MAIL",
    "SUDO_USER",
    "SUDO_UID",
    "SUDO_GID",
    "SUDO_COMMAND",
    "XDG_SESSION_ID",
    "XDG_RUNTIME_DIR",
    "LC_ALL",
    "SSH_CLIENT",
    "SSH_CONNECTION",
    "SSH_TTY",
    "LS_COLORS",
    "MOTD_SHOWN",
    "DBUS_SESSION_BUS_ADDRESS",
    "unique_id",
    "NODE_APP_INSTANCE",
    "LANGUAGE",
    "HOSTNAME",
    "XDG_DATA_DIRS",
    "XDG_CONFIG_DIRS",
}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NODE_OPTS_WITH_VALUE = {
    "-r",
    "--require",
    "-e",
    "--eval",
    "-p",
    "--print",
    "--loader",
    "--import",
    "--title",
    "--env-file",
    "-C",
    "--conditions",
    "--inspect-port",
    "--experimental-loader",
}


@dataclass
class NodeRun:
    name: str  # unit or pm2 app name
    script: str | None  # absolute path of the entry script, when known
    app_dir: str | None
    unit: InitUnit | None = None
    pm2: str | None = None  # the dump.pm2 / ecosystem file describing it
    pm2_unit: InitUnit | None = None
    pm2_index: int = 0
    env: list[tuple[str, str, str, int | None]] = field(default_factory=list)  # key, value, path, line
    env_files: list[str] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    user: str | None = None
    interpreter: str | None = None
    attrs: dict[str, str] = field(default_factory=dict)
    npm_script: str | None = None


class NodeAppsDetector(Detector):
    name = "node-apps"
    tags = ("service", "app", "node")
    requires = ("systemd", "supervisord", "sysv", "cron", "accounts", "dpkg", "rpm", "apk")
    reads = (
        *whole(*(f"{r}/**/package.json" for r in APP_ROOTS), exclude=("node_modules", ".git")),
        *whole(*(f"{r}/**/{e}" for r in APP_ROOTS for e in ECOSYSTEM), exclude=("node_modules", ".git")),
        *whole(*(f"{r}/**/{lock}" for r in APP_ROOTS for lock, _ in LOCKS), exclude=("node_modules", ".git")),
        *whole("/home/*/.pm2/dump.pm2", "/root/.pm2/dump.pm2"),
        # installed dependencies' manifests (their versions): declared so that a tarball
        # pass keeps them on the way, instead of costing a pass of their own
        *whole(*(f"{r}/**/node_modules/*/package.json" for r in APP_ROOTS)),
        *whole(*(f"{r}/**/node_modules/@*/*/package.json" for r in APP_ROOTS)),
    )

    def detect(self, snap: Snapshot, found: Found) -> None:
        runs: list[NodeRun] = []
        dumps: dict[str, InitUnit | None] = {}
        ecos: list[tuple[str, InitUnit]] = []
        for unit in found.units:
            if not runnable(unit):
                continue
            for argv in unit.exec_start:
                cmd = unwrap(argv)
                if not cmd.argv:
                    continue
                exe = basename(cmd.argv[0])
                if exe in ("pm2", "pm2-runtime", "pm2-docker"):
                    home = self._pm2_home(found, unit)
                    args = [a for a in cmd.argv[1:] if not a.startswith("-")]
                    if exe == "pm2" and args[:1] == ["resurrect"]:
                        dumps[f"{home}/dump.pm2"] = unit
                    elif args and (args[0] in ("start", "startOrReload", "reload") or exe != "pm2"):
                        target = args[1] if exe == "pm2" and len(args) > 1 else args[0]
                        if target.endswith((".js", ".cjs", ".mjs", ".json", ".config")):
                            path = (
                                target if target.startswith("/") else P.join(cmd.cwd or unit.working_dir or "/", target)
                            )
                            if basename(path).startswith(("ecosystem", "process", "pm2")):
                                ecos.append((path, unit))
                            else:
                                runs.append(self._script_run(unit, path))
                    break
                run = self._unit_run(snap, unit, cmd.argv, cmd.cwd)
                if run is not None:
                    run.env = [(k, v, unit.path, None) for k, v in cmd.env]
                    run.user = cmd.user
                    runs.append(run)
                    break
        for dump in snap.glob("/home/*/.pm2/dump.pm2") + snap.glob("/root/.pm2/dump.pm2"):
            dumps.setdefault(dump, None)
        snap.want([*dumps, *(p for p, _ in ecos)])
        for dump in sorted(dumps):
            runs += self._dump_runs(snap, found, dump, dumps[dump])
        for path, unit in ecos:
            runs += self._ecosystem_runs(snap, found, path, unit)
        # second-order: package.json above each script, the scripts themselves
        for run in runs:
            if run.app_dir is None and run.script:
                run.app_dir = self._app_dir(snap, P.parent(run.script))
        # package.json is a declared read under the app roots, so this rarely costs a pass;
        # everything it names is then asked for at once (one more pass at most)
        snap.want(sorted({f"{r.app_dir}/package.json" for r in runs if r.app_dir}))
        for run in runs:
            if run.script is None and run.npm_script and run.app_dir:
                run.script = self._start_script(snap, run.app_dir, run.npm_script)
        apps = sorted({r.app_dir for r in runs if r.app_dir})
        wants = [f"{a}/node_modules/{d}/package.json" for a in apps for d in self._deps(snap, a)]
        wants += [r.script for r in runs if r.script]
        wants += [f for r in runs for f in r.env_files]
        snap.want(sorted(set(wants)))
        facts = [self._service(snap, found, run) for run in runs]
        self._instances(snap, runs, facts)
        found.add(*facts)

    # -- how it starts ---------------------------------------------------------------------
    @staticmethod
    def _pm2_home(found: Found, unit: InitUnit) -> str:
        home = env_value(unit.environment, "PM2_HOME")
        if home:
            return home.rstrip("/")
        user = found.user(unit.user) if unit.user else None
        base = user.home if user else ("/root" if not unit.user or unit.user == "root" else f"/home/{unit.user}")
        return f"{base.rstrip('/')}/.pm2"

    @staticmethod
    def _script_run(unit: InitUnit, script: str) -> NodeRun:
        """`pm2 start app.js` / `pm2-runtime app.js`: pm2 runs one script."""
        name = unit.name.rsplit(".", 1)[0] if unit.system == "systemd" else unit.name
        return NodeRun(name, script, None, pm2=unit.path, pm2_unit=unit)

    def _unit_run(self, snap: Snapshot, unit: InitUnit, argv: tuple[str, ...], cwd: str | None) -> NodeRun | None:
        exe = basename(argv[0])
        work = cwd or unit.working_dir
        name = unit.name.rsplit(".", 1)[0] if unit.system == "systemd" else unit.name
        if exe in ("node", "nodejs") or re.fullmatch(r"node\d+", exe):
            i = 1
            env_files: list[str] = []
            while i < len(argv) and argv[i].startswith("-"):
                opt, eq, val = argv[i].partition("=")
                if opt == "--env-file":
                    f = val if eq else (argv[i + 1] if i + 1 < len(argv) else "")
                    env_files.append(f if f.startswith("/") else P.join(work or "/", f))
                i += 1 if eq or opt not in _NODE_OPTS_WITH_VALUE else 2
            if i >= len(argv):
                return None
            script = argv[i]
            script = script if script.startswith("/") else P.join(work or "/", script)
            run = NodeRun(name, script, None, unit=unit, interpreter=argv[0], env_files=env_files)
            return run
        if exe in ("npm", "yarn", "pnpm"):
            args = list(argv[1:])
            prefix = None
            if "--prefix" in args:
                j = args.index("--prefix")
                prefix = args[j + 1] if j + 1 < len(args) else None
                del args[j : j + 2]
            words = [a for a in args if not a.startswith("-")]
            if not words:
                return None
            script_name = words[1] if words[0] in ("run", "run-script") and len(words) > 1 else words[0]
            if script_name not in ("start",) and words[0] not in ("run", "run-script"):
                return None
            app = prefix or work
            if not app:
                return None
            return NodeRun(name, None, app, unit=unit, npm_script=script_name, attrs={"runner": exe})
        if "/node_modules/.bin/" in argv[0]:
            app = argv[0].split("/node_modules/.bin/", 1)[0]
            return NodeRun(name, None, app, unit=unit, attrs={"runner": exe})
        if exe == "npx" and len(argv) > 1 and work:
            return NodeRun(name, None, work, unit=unit, attrs={"runner": f"npx {argv[1]}"})
        return None

    def _dump_runs(self, snap: Snapshot, found: Found, dump: str, unit: InitUnit | None) -> list[NodeRun]:
        text = snap.text(dump)
        if text is None:
            return []
        try:
            data = json.loads(text)
        except ValueError as exc:
            found.unparsable(dump, f"not JSON: {exc}")
            return []
        if not isinstance(data, list):
            return []
        out = []
        for i, app in enumerate(data):
            if not isinstance(app, dict) or not app.get("name") or not app.get("pm_exec_path"):
                continue
            if str(app.get("name", "")).startswith("pm2-") and app.get("pmx_module"):
                continue  # a pm2 module, not an app
            name = str(app["name"])
            env_obj: dict[str, Any] = app["env"] if isinstance(app.get("env"), dict) else {}
            env = [
                (k, _str(v), dump, _json_line(text, k))
                for k, v in env_obj.items()
                if k not in _SHELL_VARS
                and not k.startswith("PM2_")
                and k != name
                and _ENV_NAME.match(k)
                and not isinstance(v, (dict, list))
            ]
            logs = [str(app[k]) for k in ("pm_out_log_path", "pm_err_log_path") if isinstance(app.get(k), str)]
            run = NodeRun(
                name,
                str(app["pm_exec_path"]),
                None,
                pm2=dump,
                pm2_unit=unit,
                pm2_index=i,
                env=env,
                logs=logs,
                user=app.get("username") if isinstance(app.get("username"), str) else None,
            )
            cwd = app.get("pm_cwd")
            run.attrs["pm2_cwd"] = str(cwd) if cwd else ""
            for key in ("exec_mode", "instances", "node_version", "exec_interpreter"):
                if isinstance(app.get(key), (str, int)) and not isinstance(app.get(key), bool):
                    run.attrs[key] = str(app[key])
            if app.get("autostart") is False:
                run.attrs["autostart"] = "false"
            out.append(run)
        return out

    def _ecosystem_runs(self, snap: Snapshot, found: Found, path: str, unit: InitUnit) -> list[NodeRun]:
        text = snap.text(path)
        if text is None:
            return []
        if path.endswith(".json"):
            try:
                obj: Any = json.loads(text)
            except ValueError as exc:
                found.unparsable(path, f"not JSON: {exc}")
                return []
            lines: dict[str, int] = {}
        else:
            obj, lines = parse_exports(text)
        apps = obj.get("apps") if isinstance(obj, dict) else None
        if not isinstance(apps, list):
            found.unparsable(path, "no apps array found")
            return []
        out = []
        for i, app in enumerate(apps):
            if not isinstance(app, dict) or not isinstance(app.get("script"), str):
                continue
            cwd: str = app["cwd"] if isinstance(app.get("cwd"), str) else P.parent(path)
            script = app["script"] if app["script"].startswith("/") else P.join(cwd, app["script"])
            name = app.get("name") if isinstance(app.get("name"), str) else basename(script).rsplit(".", 1)[0]
            env: dict[str, Any] = app["env"] if isinstance(app.get("env"), dict) else {}
            pairs = [(k, _str(v), path, lines.get(f"apps[{i}].env.{k}")) for k, v in env.items() if v is not UNKNOWN]
            logs = [app[k] for k in ("out_file", "error_file", "log_file") if isinstance(app.get(k), str)]
            run = NodeRun(str(name), script, None, pm2=path, pm2_unit=unit, pm2_index=i, env=pairs, logs=logs)
            for key in ("exec_mode", "instances"):
                if isinstance(app.get(key), (str, int)) and not isinstance(app.get(key), bool):
                    run.attrs[key] = str(app[key])
            out.append(run)
        return out

    @staticmethod
    def _app_dir(snap: Snapshot, start: str) -> str:
        d = start
        while d != "/" and "/node_modules" not in d:
            if snap.exists(f"{d}/package.json"):
                return d
            d = P.parent(d)
        return start

    # -- the service -------------------------------------------------------------------------
    def _service(self, snap: Snapshot, found: Found, run: NodeRun) -> ServiceFacts:
        app = run.app_dir or (P.parent(run.script) if run.script else "/")
        sf = ServiceFacts(software="node-app", kind="app", instance=app, name=run.name)
        if run.unit is not None:
            unit_settings(sf, run.unit)
            sf.command = run.unit.exec_start[0] if run.unit.exec_start else ()
        if run.pm2_unit is not None:
            unit_settings(sf, run.pm2_unit)
            sf.env = []  # pm2's own unit settings (PATH, PM2_HOME) are not the app's
            sf.secrets = []
            sf.env_files = []
        if run.pm2:
            ev = Evidence("config", run.pm2, detail=f"pm2 app {run.name!r}")
            enabled = run.pm2_unit.enabled if run.pm2_unit is not None else None
            if run.attrs.get("autostart") == "false":
                enabled = False
            sf.started_by.append(StartMethod("pm2", run.name, enabled, (ev,)))
            sf.config_files.append(FileRef(run.pm2, "config", evidence=(ev,)))
            sf.evidence.append(ev)
            eco = next((f"{app}/{e}" for e in ECOSYSTEM if snap.exists(f"{app}/{e}")), None)
            if eco and eco != run.pm2:
                self._ecosystem_copy(snap, sf, eco, run.name)
        sf.user = run.user or sf.user
        sf.working_dir = run.attrs.get("pm2_cwd") or (run.unit.working_dir if run.unit else None) or app
        if run.pm2 and run.script:
            sf.command = (run.attrs.get("exec_interpreter") or "node", run.script)
        for f in run.env_files:
            self._env_file(snap, sf, f)
        for k, v, path, line in run.env:
            var, sec = classify_setting(k, v, path, line)
            sf.env.append(var)
            if sec:
                sf.secrets.append(sec)
        for log in run.logs:
            sf.log_paths.append(FileRef(log, "logs", evidence=(Evidence("config", run.pm2 or "", detail="pm2 log"),)))
        sf.attributes.update({k: v for k, v in run.attrs.items() if v and k != "autostart"})
        self._package(snap, sf, app)
        self._installed(snap, sf, app)
        self._locked(snap, found, sf, app)

        script = run.script
        if script:
            sf.attributes["script"] = script
        node_ver = run.attrs.get("node_version")
        if node_ver:
            sf.runtime = "node" + node_ver.split(".")[0]
        elif run.interpreter and (m2 := re.search(r"/v?(\d+)\.\d+\.\d+/bin/node$", run.interpreter)):
            sf.runtime = "node" + m2.group(1)
        else:
            nodejs = found.package("nodejs")
            if nodejs is not None:
                sf.runtime = "node" + nodejs.version.upstream.split(".")[0]
        self._ports(snap, sf, script)
        code = snap.text(script) if script and snap.exists(script) else None
        health = health_route(code or "")
        if health and script:
            sf.attributes["health_path"] = health[0]
            sf.evidence.append(Evidence("file", script, health[1], detail="health route"))
        sf.content_paths.append(
            FileRef(app, "content", evidence=(sf.evidence[0] if sf.evidence else Evidence("file", app),))
        )
        sf.endpoints.extend(endpoints_of_env(sf.env))
        sf.data_dirs.extend(data_dirs_of_env(sf.env))
        return sf

    def _ecosystem_copy(self, snap: Snapshot, sf: ServiceFacts, path: str, name: str) -> None:
        """The ecosystem file next to the app holds the same settings pm2 saved: its secrets
        are secrets too (an image must not bake them)."""
        text = snap.text(path)
        if text is None:
            return
        obj, lines = parse_exports(text)
        apps = obj.get("apps") if isinstance(obj, dict) else None
        for i, app in enumerate(apps if isinstance(apps, list) else []):
            if isinstance(app, dict) and app.get("name") == name:
                sf.config_files.append(
                    FileRef(path, "config", evidence=(Evidence("config", path, lines.get(f"apps[{i}].name")),))
                )
                env: dict[str, Any] = app["env"] if isinstance(app.get("env"), dict) else {}
                for k, v in env.items():
                    if v is UNKNOWN:
                        continue
                    _, sec = classify_setting(k, _str(v), path, lines.get(f"apps[{i}].env.{k}"))
                    if sec:
                        sf.secrets.append(sec)

    def _env_file(self, snap: Snapshot, sf: ServiceFacts, path: str) -> None:
        from modernize.parsers.shell import assignments

        text = snap.text(path)
        if text is None:
            return
        sf.env_files.append(path)
        for no, k, v in assignments(text):
            var, sec = classify_setting(k, v, path, no)
            sf.env.append(var)
            if sec:
                sf.secrets.append(sec)

    @staticmethod
    def _start_script(snap: Snapshot, app: str, name: str) -> str | None:
        """The file `npm start` runs: scripts.start's `node FILE`, or npm's default
        `node server.js` when there is no start script and server.js exists."""
        pkg, error = _json(snap, f"{app}/package.json")
        if error:
            return None
        scripts = pkg.get("scripts") if isinstance(pkg, dict) else None
        start = scripts.get(name) if isinstance(scripts, dict) else None
        if isinstance(start, str):
            m = re.match(r"^node\s+(?:--?\S+\s+)*([\w./-]+\.(?:js|cjs|mjs))", start)
            return P.join(app, m.group(1)) if m else None
        if name == "start" and snap.exists(f"{app}/server.js"):
            return f"{app}/server.js"
        return None

    @staticmethod
    def _deps(snap: Snapshot, app: str) -> list[str]:
        """Direct dependencies named in package.json (a declared read)."""
        pkg, _ = _json(snap, f"{app}/package.json")
        deps = pkg.get("dependencies") if isinstance(pkg, dict) else None
        return sorted(d for d in deps if isinstance(d, str) and ".." not in d) if isinstance(deps, dict) else []

    def _installed(self, snap: Snapshot, sf: ServiceFacts, app: str) -> None:
        """Versions of the direct dependencies, from node_modules/<name>/package.json."""
        out = []
        for dep in self._deps(snap, app):
            data, _ = _json(snap, f"{app}/node_modules/{dep}/package.json")
            if isinstance(data, dict) and isinstance(data.get("version"), str):
                out.append(f"{dep}@{data['version']}")
                meta = f"{app}/node_modules/{dep}/package.json"
                sf.libraries.append(Library("npm", dep, data["version"], (Evidence("file", meta),)))
        if out:
            sf.attributes["npm_packages"] = ",".join(out)

    @staticmethod
    def _locked(snap: Snapshot, found: Found, sf: ServiceFacts, app: str) -> None:
        """Sources from the lock file: on the installed libraries, and as libraries of their
        own for the packages from git, a URL or a path that package.json does not name."""
        for name, _kind in LOCKS:
            path = f"{app}/{name}"
            text = snap.text(path) if snap.exists(path) else None
            if text is None:
                continue
            try:
                locked = provenance.yarn_lock(text) if name == "yarn.lock" else provenance.npm_lock(text)
            except ValueError as exc:
                if not any(f.path == path for f in found.findings):
                    found.unparsable(path, f"not a lock file npm or yarn writes ({exc})")
                return
            have = {lib.name for lib in sf.libraries if lib.ecosystem == "npm"}
            for i, lib in enumerate(sf.libraries):
                if lib.ecosystem == "npm" and lib.name in locked:
                    origin = locked[lib.name][1]
                    ev = (*lib.evidence, Evidence("file", path, origin.line))
                    sf.libraries[i] = Library("npm", lib.name, lib.version, ev, origin.source, origin.url)
            for dep, (version, origin) in sorted(locked.items()):
                if dep not in have and origin.source != provenance.REGISTRY:
                    ev = (Evidence("file", path, origin.line),)
                    sf.libraries.append(Library("npm", dep, version or "unknown", ev, origin.source, origin.url))
            return

    def _package(self, snap: Snapshot, sf: ServiceFacts, app: str) -> dict[str, Any] | None:
        path = f"{app}/package.json"
        pkg, error = _json(snap, path)
        if error:
            sf.evidence.append(Evidence("file", path, detail=f"unparsable: {error}"))
            return None
        if not isinstance(pkg, dict):
            return None
        ev = Evidence("file", path, excerpt=f'"name": "{pkg.get("name")}", "version": "{pkg.get("version")}"')
        sf.evidence.append(ev)
        sf.config_files.append(FileRef(path, "config", evidence=(ev,)))
        if isinstance(pkg.get("version"), str):
            sf.version = make_version(pkg["version"], "npm", "node-app")
        if isinstance(pkg.get("name"), str):
            sf.attributes["package_name"] = pkg["name"]
        deps: dict[str, Any] = {}
        for key in ("dependencies", "devDependencies"):
            if isinstance(pkg.get(key), dict):
                deps.update(pkg[key] if key == "dependencies" else {k: v for k, v in pkg[key].items() if k not in deps})
        fw = next((name for dep, name in FRAMEWORKS if dep in (pkg.get("dependencies") or {})), None)
        if fw:
            sf.framework = fw
        engines = pkg.get("engines")
        if isinstance(engines, dict) and isinstance(engines.get("node"), str):
            sf.attributes["engines_node"] = engines["node"]
        scripts = pkg.get("scripts")
        if isinstance(scripts, dict) and isinstance(scripts.get("start"), str):
            sf.attributes["start"] = scripts["start"]
        locks = [kind for name, kind in LOCKS if snap.exists(f"{app}/{name}")]
        if locks:
            sf.attributes["lockfile"] = locks[0]
        if isinstance(pkg.get("main"), str):
            sf.attributes["main"] = pkg["main"]
        return pkg

    # -- ports --------------------------------------------------------------------------------
    def _ports(self, snap: Snapshot, sf: ServiceFacts, script: str | None) -> None:
        port_env = env_value(sf.env, "PORT")
        host_env = env_value(sf.env, "HOST")
        code = snap.text(script) if script and snap.exists(script) else None
        host_ev: tuple[Evidence, ...]
        host, host_ev = (host_env, (_env_ev(sf, "HOST"),)) if host_env else _code_host(code, script)
        if port_env and port_env.isdigit():
            sf.ports.append(Port(int(port_env), "tcp", _addr(host), evidence=(_env_ev(sf, "PORT"), *host_ev)))
            return
        if code is None or script is None:
            return
        for pattern, what in ((_PORT_FALLBACK, "fallback"), (_LISTEN_LITERAL, "literal")):
            m = pattern.search(code)
            if m:
                line = code.count("\n", 0, m.start()) + 1
                ev = Evidence("file", script, line, excerpt=m.group(0).strip(), detail=f"port {what} in the code")
                sf.ports.append(Port(int(m.group("port")), "tcp", _addr(host), evidence=(ev, *host_ev)))
                return

    def _instances(self, snap: Snapshot, runs: list[NodeRun], facts: list[ServiceFacts]) -> None:
        by_inst: dict[str, list[int]] = {}
        for i, sf in enumerate(facts):
            by_inst.setdefault(sf.instance or "", []).append(i)
        for idxs in by_inst.values():
            if len(idxs) < 2:
                continue

            def rank(i: int) -> tuple[int, int, str]:
                sf = facts[i]
                main = sf.attributes.get("main")
                is_main = bool(main) and sf.attributes.get("script", "").endswith("/" + (main or "").removeprefix("./"))
                return (0 if is_main else 1, 0 if runs[i].pm2 else 1, runs[i].name)

            for i in sorted(idxs, key=rank)[1:]:
                facts[i].instance = f"{facts[i].instance}#{runs[i].name}"


_PORT_FALLBACK = re.compile(r"process\.env\.PORT\s*(?:\|\||\?\?)\s*['\"]?(?P<port>\d{2,5})['\"]?")
_LISTEN_LITERAL = re.compile(r"\.listen\(\s*(?P<port>\d{2,5})\s*[,)]")
_HOST_FALLBACK = re.compile(r"process\.env\.HOST\s*(?:\|\||\?\?)\s*['\"](?P<host>[0-9A-Fa-f.:]+|localhost)['\"]")
_LISTEN_HOST = re.compile(r"\.listen\(\s*[\w.]+\s*,\s*['\"](?P<host>[0-9A-Fa-f.:]+|localhost)['\"]")


def _code_host(code: str | None, script: str | None) -> tuple[str | None, tuple[Evidence, ...]]:
    if not code or not script:
        return None, ()
    for pattern in (_LISTEN_HOST, _HOST_FALLBACK):
        m = pattern.search(code)
        if m:
            line = code.count("\n", 0, m.start()) + 1
            return m.group("host"), (Evidence("file", script, line, excerpt=m.group(0).strip()),)
    return None, ()


def _addr(host: str | None) -> str | None:
    if host in (None, "", "::"):
        return None if host != "::" else "::"
    return "127.0.0.1" if host == "localhost" else host


def _env_ev(sf: ServiceFacts, name: str) -> Evidence:
    for e in reversed(sf.env):
        if e.name == name and e.evidence:
            return e.evidence[0]
    return Evidence("config", detail=f"{name} setting")


def _str(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return "" if v is None else str(v)


def _json_line(text: str, key: str) -> int | None:
    m = re.search(r'^\s*"' + re.escape(key) + r'"\s*:', text, re.MULTILINE)
    return text.count("\n", 0, m.start()) + 1 if m else None


def _json(snap: Snapshot, path: str) -> tuple[Any, str | None]:
    """A JSON file (package.json): its value, or None and why it could not be parsed
    (no error for a missing file)."""
    text = snap.text(path) if snap.exists(path) else None
    if text is None:
        return None, None
    try:
        return json.loads(text), None
    except ValueError as exc:
        return None, str(exc)
