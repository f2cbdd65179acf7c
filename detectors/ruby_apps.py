"""Ruby (Rack/Rails) apps run by init units: puma, unicorn, passenger, `rails server`,
usually through `bundle exec`; Sidekiq workers.

Service ids: `ruby-app:<app dir>` (kind app) and `sidekiq:<app dir>` (kind worker), the
app dir being the nearest directory with a Gemfile above the working directory.

Rules followed:
- puma: `-b/--bind URI` (`tcp://host:port`, `ssl://`, `unix://path`), `-p/--port`,
  `-C/--config` (default `config/puma.rb`, then `config/puma/<env>.rb`); in the config
  file, `bind "..."` and `port N[, "host"]` (`port ENV.fetch("PORT") { 3000 }` takes PORT
  from the env, else the block's value); with neither, puma binds 0.0.0.0:9292 (`rails
  server` 3000, `-b`/`-p` on its command line). Command-line binds win over the file.
- unicorn: `-l/--listen`, `-p/--port`, `-c FILE` with `listen 8080` / `listen "host:port"` /
  `listen "/path.sock"` lines; default 0.0.0.0:8080.
- passenger standalone: `--port` (3000), `--address` (0.0.0.0), `--socket`.
- Ruby config files are read line by line with `#` comments stripped outside strings;
  nothing is evaluated.
- config/database.yml is YAML after ERB tags are blanked (`<%= ENV[...] %>` values are
  unknown); the section is RAILS_ENV / RACK_ENV / `-e` (default development); `<<: *default`
  merges apply; DATABASE_URL in the env wins.
- Gemfile.lock `GEM specs:` gives gem versions (the app server's is the service version;
  rails is the framework) and `RUBY VERSION` the runtime; a gem's section says where it came
  from (GEM: a gem server, GIT: remote@revision, PATH: a directory).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from modernize.detector import Detector
from modernize.endpoints import DEFAULT_PORTS, classify_setting, endpoints_of_env, parse_url
from modernize.facts import Endpoint, Found, ServiceFacts
from modernize.model import Evidence, FileRef, InitUnit, Library, Port, Secret, file_ref
from modernize.parsers import provenance
from modernize.parsers.apprun import (
    Options,
    basename,
    bind_port,
    default_port,
    env_value,
    expand_env,
    parse_options,
    runnable,
    unit_evidence,
    unit_settings,
    unwrap,
)
from modernize.secrets import fingerprint
from modernize.snapshot import Snapshot
from modernize.snapshot import paths as P
from modernize.snapshot.declarations import whole
from modernize.versions import make_version

APP_ROOTS = ("/srv", "/opt", "/var/www", "/home/*")
SERVERS = ("puma", "unicorn", "unicorn_rails", "passenger", "rails", "sidekiq", "rackup", "thin")
_FLAGS = {
    "-d",
    "--daemon",
    "-D",
    "--debug",
    "-q",
    "--quiet",
    "-v",
    "--version",
    "-h",
    "--help",
    "--preload",
    "--no-config",
}
_ADAPTERS = {
    "postgresql": "postgresql",
    "postgis": "postgresql",
    "mysql2": "mysql",
    "trilogy": "mysql",
    "mysql": "mysql",
    "sqlserver": "sqlserver",
    "oracle_enhanced": "oracle",
}


def _opts(args: tuple[str, ...]) -> Options:
    return parse_options(args, lambda o: o not in _FLAGS)


def _ruby_lines(text: str) -> list[tuple[int, str]]:
    """Lines with `#` comments removed (a `#` inside a string literal stays)."""
    out = []
    for no, raw in enumerate(text.splitlines(), 1):
        quote = None
        cut = len(raw)
        for i, c in enumerate(raw):
            if quote:
                if c == quote and raw[i - 1] != "\\":
                    quote = None
            elif c in "\"'":
                quote = c
            elif c == "#":
                cut = i
                break
        line = raw[:cut].strip()
        if line:
            out.append((no, line))
    return out


_STR = r"""["']([^"']*)["']"""
# Rails' credential files, read as secrets (config/credentials.yml.enc is only looked at: it is
# encrypted, made to be committed, and useless without its key)
RAILS_SECRET_FILES = ("config/master.key", "config/secrets.yml", "config/credentials/*.key")


def rails_secret_files(snap: Snapshot, app: str) -> list[str]:
    """The Rails credential files under APP that exist: master.key, secrets.yml, credentials/*.key."""
    out: list[str] = []
    for rel in RAILS_SECRET_FILES:
        out += [p for p in sorted(snap.glob(f"{app}/{rel}")) if snap.is_file(p)]
    return out


class RubyAppsDetector(Detector):
    name = "ruby-apps"
    tags = ("service", "app", "ruby")
    requires = ("systemd", "supervisord", "sysv", "cron", "dpkg", "rpm", "apk")
    reads = whole(
        *(
            f"{r}/**/{f}"
            for r in APP_ROOTS
            for f in ("Gemfile.lock", "config/puma.rb", "config/database.yml", "config/unicorn.rb", *RAILS_SECRET_FILES)
        ),
        exclude=("node_modules", ".git", "vendor", "gems"),
    )

    def detect(self, snap: Snapshot, found: Found) -> None:
        plans = []
        for unit in found.units:
            if not runnable(unit):
                continue
            plan = self._launch(snap, unit)
            if plan is not None:
                plans.append(plan)
        wants: list[str] = []
        for _unit, _server, _args, app, _work in plans:
            for rel in ("Gemfile.lock", "config/puma.rb", "config/database.yml", "config/unicorn.rb"):
                if snap.exists(f"{app}/{rel}"):
                    wants.append(f"{app}/{rel}")
            wants += rails_secret_files(snap, app)
        snap.want(sorted(set(wants)))
        seen: dict[tuple[str, str], int] = {}
        for unit, server, args, app, work in plans:
            sf = self._service(snap, found, unit, server, args, app, work)
            key = (sf.software, sf.instance or "")
            seen[key] = seen.get(key, 0) + 1
            if seen[key] > 1:
                sf.instance = f"{sf.instance}#{unit.name.rsplit('.', 1)[0]}"
            found.add(sf)

    def _launch(self, snap: Snapshot, unit: InitUnit) -> tuple[InitUnit, str, tuple[str, ...], str, str | None] | None:
        for argv in unit.exec_start:
            cmd = unwrap(expand_env(argv, unit.environment))
            args = list(cmd.argv)
            work = cmd.cwd or unit.working_dir
            if args and basename(args[0]) == "bundle" and len(args) > 1 and args[1] == "exec":
                args = args[2:]
            if args and re.fullmatch(r"ruby[\d.]*", basename(args[0])) and len(args) > 1:
                args = args[1:]
            if not args:
                continue
            exe = basename(args[0])
            if exe not in SERVERS:
                continue
            rest = tuple(args[1:])
            if exe == "rails" and (not rest or rest[0] not in ("server", "s")):
                continue
            if exe == "passenger" and (not rest or rest[0] != "start"):
                continue
            chdir = _opts(rest).get("-C" if exe == "sidekiq" else "--dir", "--chdir")
            start = (
                chdir
                or work
                or (P.parent(P.parent(args[0])) if args[0].startswith("/") and "/bin/" in args[0] else None)
            )
            if not start:
                continue
            app = start
            d = start
            while d != "/":
                if snap.exists(f"{d}/Gemfile") or snap.exists(f"{d}/config.ru"):
                    app = d
                    break
                d = P.parent(d)
            return unit, exe, rest, app, work
        return None

    def _service(
        self,
        snap: Snapshot,
        found: Found,
        unit: InitUnit,
        server: str,
        args: tuple[str, ...],
        app: str,
        work: str | None,
    ) -> ServiceFacts:
        worker = server == "sidekiq"
        sf = ServiceFacts(
            software="sidekiq" if worker else "ruby-app",
            kind="worker" if worker else "app",
            instance=app,
            name=unit.name.rsplit(".", 1)[0] if unit.system == "systemd" else unit.name,
        )
        unit_settings(sf, unit)
        sf.command = unit.exec_start[0] if unit.exec_start else ()
        sf.working_dir = work
        sf.attributes["server"] = server
        sf.content_paths.append(FileRef(app, "content", evidence=(unit_evidence(unit),)))
        opts = _opts(args)
        env_name = (
            opts.get("-e", "--environment", "-E", "--env")
            or env_value(sf.env, "RAILS_ENV")
            or env_value(sf.env, "RACK_ENV")
            or "development"
        )
        sf.attributes["rails_env"] = env_name
        ev = unit_evidence(unit)
        if server in ("puma", "rails", "rackup", "thin"):
            self._puma(snap, sf, server, opts, app, env_name, ev)
        elif server in ("unicorn", "unicorn_rails"):
            self._unicorn(snap, sf, opts, app, ev)
        elif server == "passenger":
            port = opts.get("--port", "-p")
            addr = opts.get("--address", "-a") or "0.0.0.0"
            sock = opts.get("--socket", "-S")
            if sock:
                sf.ports.append(Port(None, "unix", None, socket=sock, evidence=(_ex(ev, f"--socket {sock}"),)))
            elif port and port.isdigit():
                sf.ports.append(Port(int(port), "tcp", addr, evidence=(_ex(ev, f"--port {port}"),)))
            else:
                sf.ports.append(default_port(3000, addr, "passenger standalone listens on 0.0.0.0:3000 by default"))
        self._gems(snap, found, sf, app, server)
        self._database(snap, sf, app, env_name)
        self._credentials(snap, found, sf, app, env_name)
        sf.endpoints.extend(
            e
            for e in endpoints_of_env(sf.env)
            if e.via != "DATABASE_URL" or not any(x.via == "DATABASE_URL" for x in sf.endpoints)
        )
        return sf

    # -- app servers ------------------------------------------------------------------------
    def _puma(
        self, snap: Snapshot, sf: ServiceFacts, server: str, opts: Options, app: str, env_name: str, ev: Evidence
    ) -> None:
        ports: list[Port] = []
        for b in opts.all("-b", "--bind"):
            p = (
                _uri_port(b, (_ex(ev, f"--bind {b}"),))
                if "://" in b
                else bind_port(f"{b}:{opts.get('-p', '--port') or 3000}", (_ex(ev, f"-b {b}"),))
            )
            if p:
                ports.append(p)
        port_opt = opts.get("-p", "--port")
        if not ports and port_opt and port_opt.isdigit():
            ports.append(Port(int(port_opt), "tcp", "0.0.0.0", evidence=(_ex(ev, f"--port {port_opt}"),)))
        conf = opts.get("-C", "--config")
        candidates = (
            [conf if conf and conf.startswith("/") else P.join(app, conf)]
            if conf
            else [f"{app}/config/puma/{env_name}.rb", f"{app}/config/puma.rb"]
        )
        conf_path = next((c for c in candidates if snap.exists(c)), None)
        if conf_path and not opts.has("--no-config"):
            snap.want([conf_path])
            text = snap.text(conf_path) or ""
            sf.config_files.append(file_ref(conf_path, "config"))
            file_ports: list[Port] = []
            for no, line in _ruby_lines(text):
                evl = (Evidence("config", conf_path, no, excerpt=line),)
                m = re.match(r"^bind\s*\(?\s*" + _STR, line)
                if m:
                    p = _uri_port(m.group(1), evl)
                    if p:
                        file_ports.append(p)
                    continue
                m = re.match(r"^port\s*\(?\s*(?P<val>.+?)(?:\s*,\s*" + _STR + r")?\s*\)?$", line)
                if m:
                    num = _ruby_port(m.group("val"), sf)
                    if num:
                        file_ports.append(Port(num, "tcp", m.group(2) or "0.0.0.0", evidence=evl))
                    continue
                m = re.match(r"^workers\s*\(?\s*(\d+)", line)
                if m:
                    sf.attributes["workers"] = m.group(1)
                m = re.match(r"^stdout_redirect\s*\(?\s*" + _STR + r"(?:\s*,\s*" + _STR + ")?", line)
                if m:
                    for g in m.groups():
                        if g:
                            sf.log_paths.append(FileRef(P.absolute(g, app), "logs", evidence=evl))
            if not ports:
                ports = file_ports
        if not ports:
            port_env = env_value(sf.env, "PORT")
            default = 3000 if server == "rails" else 9292
            if port_env and port_env.isdigit():
                ports.append(
                    Port(
                        int(port_env),
                        "tcp",
                        "0.0.0.0",
                        evidence=(Evidence("default", detail=f"puma binds 0.0.0.0:$PORT (PORT={port_env})"),),
                    )
                )
            else:
                ports.append(
                    default_port(default, "0.0.0.0", f"{server} binds 0.0.0.0:{default} when no bind or port is set")
                )
        sf.ports.extend(ports)

    def _unicorn(self, snap: Snapshot, sf: ServiceFacts, opts: Options, app: str, ev: Evidence) -> None:
        ports = [
            p
            for s in opts.all("-l", "--listen")
            if (p := bind_port(s, (_ex(ev, f"--listen {s}"),), default_host="0.0.0.0"))
        ]
        port_opt = opts.get("-p", "--port")
        if port_opt and port_opt.isdigit():
            ports.append(
                Port(int(port_opt), "tcp", opts.get("-o", "--host") or "0.0.0.0", evidence=(_ex(ev, f"-p {port_opt}"),))
            )
        conf = opts.get("-c", "--config-file")
        conf_path = (conf if conf.startswith("/") else P.join(app, conf)) if conf else None
        if conf_path and snap.exists(conf_path):
            snap.want([conf_path])
            sf.config_files.append(file_ref(conf_path, "config"))
            for no, line in _ruby_lines(snap.text(conf_path) or ""):
                evl = (Evidence("config", conf_path, no, excerpt=line),)
                m = re.match(r"^listen\s*\(?\s*(?:" + _STR + r"|(\d+))", line)
                if m:
                    p = bind_port(m.group(1) or m.group(2), evl, default_host="0.0.0.0")
                    if p:
                        ports.append(p)
                m = re.match(r"^worker_processes\s*\(?\s*(\d+)", line)
                if m:
                    sf.attributes["workers"] = m.group(1)
                m = re.match(r"^(?:stderr_path|stdout_path)\s*\(?\s*" + _STR, line)
                if m:
                    sf.log_paths.append(FileRef(P.absolute(m.group(1), app), "logs", evidence=evl))
        if not ports:
            ports.append(default_port(8080, "0.0.0.0", "unicorn listens on 0.0.0.0:8080 by default"))
        sf.ports.extend(ports)

    # -- Gemfile.lock, database.yml -------------------------------------------------------------
    def _gems(self, snap: Snapshot, found: Found, sf: ServiceFacts, app: str, server: str) -> None:
        lock = f"{app}/Gemfile.lock"
        text = snap.text(lock) if snap.exists(lock) else None
        gems: dict[str, str] = {}
        ruby = None
        section = None
        for line in (text or "").splitlines():
            if line and not line.startswith(" "):
                section = line.strip()
                continue
            m = re.match(r"^    ([A-Za-z0-9_.-]+) \(([^)]+)\)$", line)
            if m and section in ("GEM", "GIT", "PATH"):
                gems.setdefault(m.group(1), m.group(2).split("-")[0])
            m = re.match(r"^\s+ruby (\d+)\.(\d+)", line)
            if m and section == "RUBY VERSION":
                ruby = f"ruby{m.group(1)}.{m.group(2)}"
        if text is not None:
            sf.evidence.append(Evidence("file", lock))
            origins = provenance.gemfile_lock(text)
            for n, v in sorted(gems.items()):
                origin = origins[n][1] if n in origins else None
                ev = (Evidence("file", lock, origin.line if origin else None),)
                sf.libraries.append(
                    Library("gem", n, v, ev, origin.source if origin else None, origin.url if origin else None)
                )
        own = {"rails": "puma", "unicorn_rails": "unicorn", "passenger": "passenger"}.get(server, server)
        if own in gems:
            sf.version = make_version(gems[own], "gem", sf.software)
        if "rails" in gems or "railties" in gems:
            sf.framework = "rails"
            sf.attributes["rails_version"] = gems.get("rails") or gems.get("railties", "")
        elif "sinatra" in gems:
            sf.framework = "sinatra"
        if sf.kind == "worker":
            sf.framework = "sidekiq"
        sf.runtime = ruby
        if sf.runtime is None:
            pkg = found.package("ruby", "ruby3.1", "ruby3.0", "ruby2.7")
            if pkg is not None:
                sf.runtime = "ruby" + pkg.version.series
        if own not in gems:
            sf.packages += {"puma": ["puma", "ruby-puma"], "unicorn": ["unicorn"], "passenger": ["passenger"]}.get(
                own, []
            )

    @staticmethod
    def _credentials(snap: Snapshot, found: Found, sf: ServiceFacts, app: str, env_name: str) -> None:
        """Rails' credential files: `config/master.key` and `config/credentials/<env>.key` (the
        keys of the encrypted credentials, each a secret file), `config/credentials.yml.enc`
        and `credentials/<env>.yml.enc` (encrypted: config the app needs, not a secret by
        itself) and, before Rails 5.2, `config/secrets.yml` (YAML after ERB tags are blanked: a
        string of the `shared` or the environment's section whose name says secret
        (`secret_key_base`, `*_api_key`, `*_token`) or whose value has a secret's shape is a
        secret; a value from `<%= ENV[...] %>` is not in the file)."""
        for path in rails_secret_files(snap, app):
            text = snap.text(path)
            if text is None:
                continue
            sf.config_files.append(file_ref(path, "config"))
            if path.endswith(".key"):
                key = text.strip()
                if not key:
                    continue
                what = "master key" if path.endswith("/master.key") else "credentials key"
                ev = Evidence("file", path, detail=f"Rails {what}: decrypts the encrypted credentials")
                sf.secrets.append(Secret(path.rsplit("/", 1)[1], path, None, "key", fingerprint(key), (ev,)))
                continue
            RubyAppsDetector._secrets_yml(found, sf, path, text, env_name)
        for enc in [f"{app}/config/credentials.yml.enc", *sorted(snap.glob(f"{app}/config/credentials/*.yml.enc"))]:
            if snap.is_file(enc):
                sf.config_files.append(
                    FileRef(enc, "config", evidence=(Evidence("file", enc, detail="Rails encrypted credentials"),))
                )

    @staticmethod
    def _secrets_yml(found: Found, sf: ServiceFacts, path: str, text: str, env_name: str) -> None:
        blank = re.sub(r"<%=?.*?%>", "", text, flags=re.DOTALL)
        try:
            data: Any = yaml.safe_load(blank)
        except yaml.YAMLError as exc:
            found.unparsable(path, str(exc).splitlines()[0])
            return
        section = data.get(env_name) if isinstance(data, dict) else None
        shared = data.get("shared") if isinstance(data, dict) else None
        lines = text.splitlines()

        def line_of(top: str, key: str) -> int | None:
            inside = False
            for no, raw in enumerate(lines, 1):
                if re.match(rf"^{re.escape(top)}\s*:", raw):
                    inside = True
                elif raw and not raw[0].isspace() and not raw.lstrip().startswith("#"):
                    inside = False
                if inside and re.match(rf"^\s+{re.escape(key)}\s*:", raw):
                    return no
            return None

        for top, values in (("shared", shared), (env_name, section)):
            if not isinstance(values, dict):
                continue
            for key, value in values.items():
                if isinstance(value, (str, int)) and str(value).strip() and not isinstance(value, bool):
                    _var, sec = classify_setting(f"{top}.{key}", str(value), path, line_of(top, str(key)))
                    if sec is not None:
                        sf.secrets.append(sec)

    def _database(self, snap: Snapshot, sf: ServiceFacts, app: str, env_name: str) -> None:
        path = f"{app}/config/database.yml"
        text = snap.text(path) if snap.exists(path) else None
        if text is None:
            return
        sf.config_files.append(file_ref(path, "config"))
        blank = re.sub(r"<%=?.*?%>", "", text, flags=re.DOTALL)
        try:
            data: Any = yaml.safe_load(blank)
        except yaml.YAMLError as exc:
            sf.evidence.append(Evidence("file", path, detail=f"unparsable: {str(exc).splitlines()[0]}"))
            return
        cfg = data.get(env_name) if isinstance(data, dict) else None
        if isinstance(cfg, dict) and "primary" in cfg and isinstance(cfg["primary"], dict):
            cfg = cfg["primary"]  # Rails 6 multi-db
        if not isinstance(cfg, dict):
            return

        def line_of(key: str) -> int | None:
            in_env = False
            for no, raw in enumerate(text.splitlines(), 1):
                if re.match(rf"^{re.escape(env_name)}\s*:", raw):
                    in_env = True
                elif raw and not raw[0].isspace():
                    in_env = False
                if in_env and re.match(rf"^\s+{re.escape(key)}\s*:", raw):
                    return no
            return None

        for key in ("password", "url"):
            value = cfg.get(key)
            if isinstance(value, str) and value:
                _, sec = classify_setting(
                    f"{env_name}.{key}" if key == "password" else "url", value, path, line_of(key)
                )
                if sec:
                    sf.secrets.append(sec)
        if any(e.name == "DATABASE_URL" for e in sf.env):
            return  # ENV['DATABASE_URL'] overrides database.yml
        ev = Evidence(
            "config",
            path,
            line_of("host") or line_of("url") or line_of("adapter"),
            excerpt=f"{env_name}: adapter {cfg.get('adapter')}",
        )
        if isinstance(cfg.get("url"), str):
            ep = parse_url(cfg["url"], "database.yml url", (ev,))
            if ep:
                sf.endpoints.append(ep)
            return
        scheme = _ADAPTERS.get(str(cfg.get("adapter", "")))
        if scheme is None:
            return
        host = cfg.get("host")
        sock = cfg.get("socket")
        port = cfg.get("port")
        if isinstance(sock, str) and sock:
            sf.endpoints.append(
                Endpoint("database.yml socket", host if isinstance(host, str) else None, None, scheme, sock, (ev,))
            )
        elif isinstance(host, str) and host:
            num = (
                int(port)
                if isinstance(port, int) or (isinstance(port, str) and port.isdigit())
                else DEFAULT_PORTS.get(scheme)
            )
            sf.endpoints.append(Endpoint("database.yml host", host, num, scheme, None, (ev,)))


def _ruby_port(value: str, sf: ServiceFacts) -> int | None:
    v = value.strip()
    if v.isdigit():
        return int(v)
    m = re.match(r"""ENV\.fetch\(\s*["'](\w+)["']\s*(?:,\s*(\d+))?\s*\)\s*(?:\{\s*(\d+)\s*\})?""", v)
    if m:
        env = env_value(sf.env, m.group(1))
        if env and env.isdigit():
            return int(env)
        default = m.group(2) or m.group(3)
        return int(default) if default else None
    m = re.match(r"""ENV\[\s*["'](\w+)["']\s*\]\s*\|\|\s*(\d+)""", v)
    if m:
        env = env_value(sf.env, m.group(1))
        return int(env) if env and env.isdigit() else int(m.group(2))
    return None


def _uri_port(uri: str, ev: tuple[Evidence, ...]) -> Port | None:
    if uri.startswith("unix://"):
        return Port(None, "unix", None, socket=uri[len("unix://") :].split("?", 1)[0], evidence=ev)
    m = re.match(r"^(?:tcp|ssl)://(.+?)(?:\?.*)?$", uri)
    return bind_port(m.group(1), ev) if m else None


def _ex(ev: Evidence, excerpt: str) -> Evidence:
    return Evidence(ev.kind, ev.path, ev.line, excerpt=excerpt, via=ev.via)
