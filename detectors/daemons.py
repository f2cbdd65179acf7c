"""Daemons followed from what starts them: for every enabled systemd service, SysV or
OpenRC script, supervisord program and `@reboot` job, what runs (the executable after
its wrappers; an interpreter and its script), the config files it is given, and what
those configs say: where it listens and what it talks to.

These facts are `DaemonFacts` for one unit. Merge gives them to that unit's service only
where no detector recognised the software (an unclassified service, or a bare native
binary): a detector that knows the software knows its config better.

Rules followed:
- Config files: an option whose name says config (`-c FILE`, `--config=FILE`,
  `--config.file FILE`, `-Dconfig.file=FILE`), an option or argument naming a file with a
  config suffix (.conf .cfg .ini .yaml .yml .json .properties .toml .cnf), and an
  environment or init-script variable named like a config (`CONFIG=`, `CONF_FILE=`,
  `ACME_CONFIG=`); relative paths are taken from the working directory.
- A SysV script's variables are its own, then `/etc/default/<name>` (Debian) or
  `/etc/sysconfig/<name>` (RHEL), which the script sources after setting its defaults;
  `$VAR`/`${VAR}` are expanded; `DAEMON_OPTS`/`DAEMON_ARGS`/`OPTIONS`/`FLAGS`/`ARGS` are the
  daemon's options.
- In a config, a listening port is a `port`-like key (`port`, `listen_port`, `http_port`,
  `server.port`, `http.port` ...) or a `listen`/`bind`-like key with a port (`listen =
  0.0.0.0:8080`, `web.listen-address: ":9100"`); a sibling `bind`/`listen`/`host`/`address`
  gives its address. A key about something it connects to (`db_port`, `[database] port`,
  `redis.port`, `upstream`) is an endpoint, not a listener, as is any URL except the
  service's own (`base_url`, `public_url`, `external_url` ...). Other keys with "port" in
  them (`max_port_retries`) are neither.
"""

from __future__ import annotations

import re

from modernize.detector import Detector
from modernize.endpoints import classify_setting, parse_hostport, parse_url
from modernize.facts import DaemonFacts, Endpoint, Found
from modernize.model import Evidence, FileRef, InitUnit, Program
from modernize.parsers import anyconf
from modernize.parsers.apprun import basename, bind_port, expand_env, runnable, unit_evidence, unwrap
from modernize.parsers.shell import assignments, split_command
from modernize.secrets import is_secret_name, redact_argv
from modernize.snapshot import Declaration, ReadMode, Snapshot
from modernize.snapshot import paths as P
from modernize.snapshot.declarations import whole

HEAD = 4096
# the distribution's own executables: what their first bytes say (ELF or #!) is not worth
# a second pass over a whole tarball; vendor and in-house software lives elsewhere
SYSTEM_BIN = ("/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/", "/usr/lib/", "/lib/", "/usr/libexec/", "/usr/lib64/")
CONFIG_SUFFIXES = (".conf", ".cfg", ".ini", ".yaml", ".yml", ".json", ".properties", ".toml", ".cnf")
_CONFIG_OPT = re.compile(r"^-{1,2}(?:c|conf|config|cfg|settings|ini|properties|config[._-]?file|conf[._-]?file)$", re.I)
_CONFIG_VAR = re.compile(r"(?:^|_)(?:CONF|CONFIG|CFG|SETTINGS)(?:_?FILE|_?PATH)?$", re.I)
_OPTS_VARS = ("DAEMON_OPTS", "DAEMON_ARGS", "OPTIONS", "OPTS", "ARGS", "FLAGS", "EXTRA_OPTS")
INTERPRETERS = re.compile(
    r"^(?:python[\d.]*|perl[\d.]*|ruby[\d.]*|node(?:js)?|java|php[\d.]*|bash|sh|dash|ksh|zsh|tclsh[\d.]*|lua[\d.]*)$"
)

# what a config key is about (its words: `db_port` -> db, port; `[database] host` -> database, host)
LISTEN_KEYS = {"listen", "bind", "listen_address", "listen_addr", "bind_address", "bind_addr", "bind_host",
               "listen_host", "http_addr", "http_listen", "listen_on"}  # fmt: skip
PORT_KEYS = {"port", "listen_port", "bind_port", "http_port", "https_port", "server_port", "web_port",
             "admin_port", "metrics_port", "api_port", "grpc_port", "tcp_port", "ssl_port", "tls_port"}  # fmt: skip
ADDRESS_KEYS = {"host", "address", "addr", "ip", "interface", *LISTEN_KEYS}
HOST_WORDS = {"host", "hostname", "server", "servers", "address", "addr", "hosts", "url", "uri", "endpoint"}
CLIENT_WORDS = {"db", "database", "datasource", "redis", "mysql", "mariadb", "postgres", "postgresql", "pg",
                "mongo", "mongodb", "memcache", "memcached", "cache", "amqp", "rabbitmq", "broker", "mq", "kafka",
                "smtp", "mail", "ldap", "upstream", "backend", "backends", "remote", "peer", "peers", "master",
                "primary", "replica", "elasticsearch", "sentry", "statsd", "graphite", "syslog", "influxdb", "s3",
                "parent", "origin", "forward", "target", "targets", "proxy", "sql", "nats", "zookeeper", "etcd",
                "consul"}  # fmt: skip
SELF_WORDS = {"base", "public", "external", "site", "advertise", "advertised", "callback", "redirect",
              "homepage", "canonical", "self", "root"}  # fmt: skip
DATA_KEY = re.compile(r"^(?:data|state|storage|spool|var|work|db)_?(?:dir|directory|path|root)$|^(?:datadir|storage)$")
LOG_KEY = re.compile(r"^(?:log|logs|log_?file|log_?dir|log_?path|error_?log|access_?log)$")
USER_KEYS = {"user", "run_as", "run_as_user", "runas", "daemon_user"}
_ADDRESS = re.compile(r"^(?:\*|localhost|[0-9.]+|\[?[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*\]?|[A-Za-z0-9_.-]+)$")
_VAR = re.compile(r"\$\{(\w+)\}|\$(\w+)")
_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")


def _words(key: str) -> list[str]:
    return [w for w in re.split(r"[._\-\s]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", key).lower()) if w]


def _leaf(key: str) -> str:
    return key.rsplit(".", 1)[-1].lower().replace("-", "_")


class DaemonsDetector(Detector):
    name = "daemons"
    tags = ("service", "daemon")
    requires = ("systemd", "sysv", "supervisord", "cron")
    reads = whole("/etc/default/*", "/etc/sysconfig/*", "/etc/init.d/*", "/etc/rc.d/init.d/*", "/etc/conf.d/*")

    def detect(self, snap: Snapshot, found: Found) -> None:
        plans = []
        for unit in sorted(found.units, key=lambda u: (u.system, u.name)):
            if runnable(unit) and unit.state == "enabled":
                plans.append((unit, *self._launch(snap, unit)))
        # second-order reads, all at once: the executables' heads and the config files
        snap.want(
            [Declaration(argv[0], ReadMode.HEAD, size=HEAD) for _u, argv, _c, _cw, _v in plans if self._is(snap, argv)]
            + [path for _u, _a, configs, _cw, _v in plans for path in configs]
        )
        for unit, argv, configs, cwd, command in plans:
            sf = self._facts(snap, unit, argv, configs, cwd)
            sf.command = command
            found.add(sf)

    @staticmethod
    def _is(snap: Snapshot, argv: tuple[str, ...]) -> bool:
        """An executable whose head the program's facts need (an interpreter's need none)."""
        return (
            bool(argv)
            and argv[0].startswith("/")
            and not argv[0].startswith(SYSTEM_BIN)
            and not INTERPRETERS.match(basename(argv[0]))
            and snap.is_file(argv[0])
        )

    # -- what runs, and the files it is given ------------------------------------------------
    def _launch(
        self, snap: Snapshot, unit: InitUnit
    ) -> tuple[tuple[str, ...], dict[str, list[Evidence]], str | None, tuple[str, ...]]:
        ev = unit_evidence(unit)
        values: dict[str, tuple[str, str, int]] = {}  # name -> (value, file, line)
        argv = expand_env(unit.exec_start[0], unit.environment)
        rebuilt: tuple[str, ...] = ()  # a SysV daemon's options, when its defaults file sets them
        if unit.system in ("sysv", "openrc"):
            values = self._script_values(snap, unit)
            plain = {k: v for k, (v, _f, _n) in values.items()}
            daemon = plain.get("DAEMON") or plain.get("command")
            if daemon and daemon.startswith("/") and argv[:1] == (daemon,):
                opts = next((plain[k] for k in (*_OPTS_VARS, "command_args") if plain.get(k)), "")
                extra = split_command(opts)
                if extra and tuple(argv[1:]) != extra:
                    argv = rebuilt = (daemon, *extra)
        cmd = unwrap(argv)
        cwd = cmd.cwd or unit.working_dir
        configs: list[tuple[str, Evidence]] = []
        for flag, value in self._options(cmd.argv):
            path = value if value.startswith("/") else (P.join(cwd, value) if cwd and "/" in value else None)
            if path is None:
                continue
            by_name = (flag and _CONFIG_OPT.match(flag)) or (flag.startswith("-D") and "conf" in flag.lower())
            if by_name or path.lower().endswith(CONFIG_SUFFIXES):
                shown = f"{flag} {value}" if flag else value
                configs.append(
                    (P.normalize(path), Evidence("unit", unit.path, ev.line, detail=f"command line: {shown}"))
                )
        for var in unit.environment:
            if var.value and not var.secret and _CONFIG_VAR.search(var.name) and var.value.startswith("/"):
                configs.append((var.value, var.evidence[0] if var.evidence else ev))
        for name, (value, path, line) in values.items():
            if _CONFIG_VAR.search(name) and value.startswith("/"):
                configs.append((value, Evidence("config", path, line, excerpt=f"{name}={value}")))
        out: dict[str, list[Evidence]] = {}
        for path, cev in configs:
            if snap.is_file(path) and cev not in out.setdefault(path, []):
                out[path].append(cev)
        out = {p: evs for p, evs in out.items() if evs}
        return redact_argv(tuple(cmd.argv)), out, cwd, redact_argv(rebuilt)

    @staticmethod
    def _options(argv: tuple[str, ...]) -> list[tuple[str, str]]:
        """(option, value) pairs and ("", argument) for positionals: `--x=v`, `-x v`, `-Dk=v`."""
        out: list[tuple[str, str]] = []
        i = 1
        while i < len(argv):
            a = argv[i]
            if a.startswith("-D") and "=" in a:
                k, _, v = a.partition("=")
                out.append((k, v))
            elif a.startswith("-") and "=" in a:
                out.append(tuple(a.split("=", 1)))  # type: ignore[arg-type]
            elif a.startswith("-") and i + 1 < len(argv) and not argv[i + 1].startswith("-"):
                out.append((a, argv[i + 1]))
                i += 1
            elif not a.startswith("-"):
                out.append(("", a))
            i += 1
        return out

    @staticmethod
    def _script_values(snap: Snapshot, unit: InitUnit) -> dict[str, tuple[str, str, int]]:
        """An init script's variables, then the defaults file it sources, expanded."""
        values: dict[str, tuple[str, str, int]] = {}
        name = unit.name
        for path in (unit.path, f"/etc/default/{name}", f"/etc/sysconfig/{name}", f"/etc/conf.d/{name}"):
            text = snap.text(path) if snap.is_file(path) else None
            for no, key, value in assignments(text or ""):
                expanded = re.sub(
                    r"\$\{(\w+)\}|\$(\w+)", lambda m: values.get(m.group(1) or m.group(2), ("",))[0], value
                )
                values[key] = (expanded, path, no)
        return values

    # -- the facts --------------------------------------------------------------------------
    def _facts(
        self,
        snap: Snapshot,
        unit: InitUnit,
        argv: tuple[str, ...],
        configs: dict[str, list[Evidence]],
        cwd: str | None,
    ) -> DaemonFacts:
        sf = DaemonFacts(
            software=unit.name, kind="other", unit_system=unit.system, unit_name=unit.name, units=[unit.name]
        )
        sf.program = self._program(snap, argv, unit_evidence(unit))
        sf.working_dir = cwd
        for path, evs in configs.items():
            sf.config_files.append(FileRef(path, "config", evidence=tuple(evs)))
            text = snap.text(path)
            if text is None:
                continue
            items = anyconf.settings(path, text)
            if items is None:
                sf.evidence.append(Evidence("file", path, detail="not parsable as its format"))
                continue
            self._read_config(sf, path, items, text.splitlines())
        return sf

    @staticmethod
    def _program(snap: Snapshot, argv: tuple[str, ...], ev: Evidence) -> Program | None:
        if not argv:
            return None
        path, name = argv[0], basename(argv[0])
        if INTERPRETERS.match(name):
            script = None
            rest = list(argv[1:])
            while rest:
                a = rest.pop(0)
                if a in ("-m", "-jar") and rest:
                    script = f"-m {rest[0]}" if a == "-m" else rest[0]
                    break
                if a in ("-cp", "-classpath", "-I", "-e", "-c") and rest:
                    rest.pop(0)
                    continue
                if not a.startswith("-"):
                    script = a
                    break
            kind = "jar" if script and script.endswith(".jar") else "script"
            return Program(path, name, script, kind, (ev,))
        if path.startswith(SYSTEM_BIN) and snap.is_file(path):
            return Program(path, None, None, None, (ev,))  # the distribution's: not read (see SYSTEM_BIN)
        head = snap.head(path, HEAD) if path.startswith("/") and snap.is_file(path) else None
        if head is None:
            return Program(path, None, None, "missing" if path.startswith("/") else None, (ev,))
        if head.startswith(b"\x7fELF"):
            return Program(path, None, None, "elf", (ev,))
        if head.startswith(b"#!"):
            words = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace").split()
            interp = basename(words[1]) if words and basename(words[0]) == "env" and len(words) > 1 else None
            interp = interp or (basename(words[0]) if words else None)
            shebang = Evidence("file", path, 1, excerpt=head.split(b"\n", 1)[0].decode("utf-8", "replace")[:120])
            return Program(path, interp, path, "script", (ev, shebang))
        return Program(path, None, None, None, (ev,))

    def _read_config(self, sf: DaemonFacts, path: str, items: list[anyconf.Setting], lines: list[str]) -> None:
        groups: dict[str, list[anyconf.Setting]] = {}
        for s in items:
            groups.setdefault(s.key.rpartition(".")[0], []).append(s)
        for s in items:
            leaf, words = _leaf(s.key), _words(s.key)
            raw = lines[s.line - 1].strip()[:200] if s.line and s.line <= len(lines) else f"{s.key} = {s.value}"
            ev = Evidence("config", path, s.line, excerpt=raw)  # used for ports, paths: never a secret
            if is_secret_name(leaf) or is_secret_name(s.key):
                if s.value:
                    _var, sec = classify_setting(s.key, s.value, path, s.line)
                    if sec is not None:
                        sf.secrets.append(sec)
                continue
            if s.value:  # a password in a URL, `?token=`, or a value shaped like a key, whatever its name
                _var, sec = classify_setting(s.key, s.value, path, s.line)
                if sec is not None:
                    sf.secrets.append(sec)
            client = bool(CLIENT_WORDS.intersection(words))
            own = bool(SELF_WORDS.intersection(words))
            if not client and leaf in PORT_KEYS and s.value.isdigit():
                addr = self._sibling_address(groups.get(s.key.rpartition(".")[0], []), s)
                port = bind_port(f"{addr}:{s.value}" if addr else s.value, (ev,))
                if port is not None:
                    sf.ports.append(port)
                continue
            if not client and leaf in LISTEN_KEYS:
                value = re.sub(r"^[a-z]+://", "", s.value).split("/", 1)[0]
                for spec in filter(None, re.split(r"[,\s]+", value)):
                    port = bind_port(spec, (ev,)) if (":" in spec or spec.isdigit()) else None
                    if port is not None:
                        sf.ports.append(port)
                continue
            if not s.value or own:
                continue
            if s.value.startswith("/") and not client:
                if DATA_KEY.match(leaf):
                    sf.data_dirs.append(FileRef(s.value.rstrip("/") or "/", "data", evidence=(ev,)))
                elif LOG_KEY.match(leaf):
                    sf.log_paths.append(FileRef(s.value, "logs", evidence=(ev,)))
                continue
            if leaf in USER_KEYS and not client and s.key.count(".") <= 1 and _USER.match(s.value):
                sf.user = sf.user or s.value
                continue
            cite = Evidence("config", path, s.line)  # a value may hold credentials: its place only
            url = parse_url(s.value, s.key, (cite,))
            if url is not None:
                sf.endpoints.append(url)
                continue
            if client or HOST_WORDS.intersection(words[-1:]):
                self._client(sf, groups.get(s.key.rpartition(".")[0], []), s, cite, client)

    @staticmethod
    def _sibling_address(group: list[anyconf.Setting], s: anyconf.Setting) -> str | None:
        for other in group:
            if other is not s and _leaf(other.key) in ADDRESS_KEYS and _ADDRESS.match(other.value):
                if ":" in other.value and not other.value.startswith("["):
                    if other.value.count(":") == 1:
                        continue  # `listen = 0.0.0.0:80`: a listener of its own
                    return f"[{other.value}]"
                return other.value
        return None

    @staticmethod
    def _client(
        sf: DaemonFacts, group: list[anyconf.Setting], s: anyconf.Setting, cite: Evidence, client: bool
    ) -> None:
        pairs = [e for e in parse_hostport(s.value, s.key, (cite,)) if e.host and re.search(r"[A-Za-z.]", e.host)]
        if pairs:
            sf.endpoints.extend(pairs)
            return
        leaf = _leaf(s.key)
        if not client or leaf not in HOST_WORDS or not re.fullmatch(r"[A-Za-z0-9_.-]+", s.value):
            return
        stem = leaf.replace("hostname", "").replace("host", "").replace("address", "").replace("server", "")
        port = next(
            (int(o.value) for o in group if _leaf(o.key) in (f"{stem}port", "port") and o.value.isdigit()),
            None,
        )
        sf.endpoints.append(Endpoint(s.key, s.value, port, None, None, (cite,)))
