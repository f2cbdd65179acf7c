"""How init units run application processes.

- `unwrap` finds the real program behind the wrappers units put in front of it
  (`/usr/bin/env VAR=x prog`, `sh -c 'cd /app && exec prog'`, `nice -n 5`, `sudo -u`,
  `runuser -u x --`, `chpst -u`, `setpriv`, `authbind --deep`, `tini --` ...), keeping the
  settings those wrappers carry (env assignments, `cd`/`-C` directory, user).
- `parse_options` splits argv the way getopt_long/argparse do: `--name=value`,
  `--name value`, `-xVALUE`, `-x VALUE`, clustered short flags, `--` ends options.
- `bind_port` turns a listen spec (`127.0.0.1:8000`, `[::1]:80`, `:8000`, `8000`,
  `unix:/run/x.sock`, `/run/x.sock`) into a `Port`.
- `unit_settings` copies a unit's environment, secrets, files and evidence onto a service.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from modernize.facts import ServiceFacts
from modernize.model import Evidence, FileRef, InitUnit, Port

_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh"})
# wrapper -> options that take a value (the wrapped command follows the options)
_WRAPPERS: dict[str, frozenset[str]] = {
    "nice": frozenset({"-n", "--adjustment"}),
    "ionice": frozenset({"-c", "-n", "-p", "-P", "-u", "--class", "--classdata"}),
    "nohup": frozenset(),
    "setsid": frozenset(),
    "stdbuf": frozenset({"-i", "-o", "-e", "--input", "--output", "--error"}),
    "tini": frozenset({"-s", "-e", "-p"}),
    "dumb-init": frozenset({"-r", "--rewrite"}),
    "authbind": frozenset(),
    "catchsegv": frozenset(),
    "chrt": frozenset(),
    "taskset": frozenset({"-c", "--cpu-list"}),
    "prlimit": frozenset(),
    "timeout": frozenset({"-k", "-s", "--kill-after", "--signal"}),
}


@dataclass
class Command:
    argv: tuple[str, ...]
    env: list[tuple[str, str]] = field(default_factory=list)  # assignments the wrappers set
    cwd: str | None = None  # `cd DIR &&` or `env -C DIR`
    user: str | None = None  # `sudo -u`, `runuser -u`, `chpst -u`, `su-exec USER`


def basename(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def _skip_opts(argv: list[str], with_value: frozenset[str]) -> list[str]:
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            return argv[i + 1 :]
        if not a.startswith("-") or a == "-":
            break
        if a in with_value:
            i += 2
            continue
        i += 1
    return argv[i:]


def _shell_command(text: str, cmd: Command) -> list[str]:
    """The command a `sh -c` string ends up exec'ing: the last `&&`/`;` segment,
    `cd DIR` and `export K=V` segments before it applied."""
    try:
        lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        words = list(lexer)
    except ValueError:
        words = text.split()
    segments: list[list[str]] = [[]]
    for w in words:
        if w in (";", "&&", "||", "&", "|"):
            segments.append([])
        else:
            segments[-1].append(w)
    segments = [s for s in segments if s]
    for seg in segments[:-1]:
        if seg[0] == "cd" and len(seg) > 1:
            cmd.cwd = seg[1] if seg[1].startswith("/") or cmd.cwd is None else cmd.cwd.rstrip("/") + "/" + seg[1]
        elif seg[0] == "export":
            cmd.env.extend(tuple(a.split("=", 1)) for a in seg[1:] if _ASSIGN.match(a))  # type: ignore[misc]
    return segments[-1] if segments else []


def unwrap(argv: Iterable[str]) -> Command:
    cmd = Command(tuple(argv))
    args = list(cmd.argv)
    for _ in range(12):
        if not args:
            break
        name = basename(args[0])
        if name == "exec":
            args = args[1:]
        elif _ASSIGN.match(args[0]):
            k, _, v = args[0].partition("=")
            cmd.env.append((k, v))
            args = args[1:]
        elif name in SHELLS and "-c" in args[1:3]:
            i = args.index("-c")
            args = _shell_command(args[i + 1], cmd) if i + 1 < len(args) else []
        elif name == "env":
            rest = args[1:]
            while rest:
                a = rest[0]
                if a in ("-u", "--unset", "-S", "--split-string"):
                    rest = rest[2:]
                elif a in ("-C", "--chdir") and len(rest) > 1:
                    cmd.cwd, rest = rest[1], rest[2:]
                elif a.startswith("--chdir="):
                    cmd.cwd, rest = a.split("=", 1)[1], rest[1:]
                elif a == "--":
                    rest = rest[1:]
                    break
                elif a.startswith("-"):
                    rest = rest[1:]
                elif _ASSIGN.match(a):
                    k, _, v = a.partition("=")
                    cmd.env.append((k, v))
                    rest = rest[1:]
                else:
                    break
            args = rest
        elif name in ("sudo", "runuser"):
            rest = args[1:]
            while rest and rest[0].startswith("-") and rest[0] != "--":
                if rest[0] in ("-u", "--user", "-g", "--group", "-C", "-D", "-h", "-p", "-r", "-t", "-U"):
                    if rest[0] in ("-u", "--user") and len(rest) > 1:
                        cmd.user = rest[1]
                    rest = rest[2:]
                else:
                    rest = rest[1:]
            if rest and rest[0] == "--":
                rest = rest[1:]
            if name == "runuser" and rest and not rest[0].startswith("/") and cmd.user is None and len(rest) > 1:
                cmd.user, rest = rest[0], rest[1:]
            args = rest
        elif name in ("su-exec", "gosu") and len(args) > 2:
            cmd.user = args[1].split(":", 1)[0]
            args = args[2:]
        elif name == "chpst":
            rest = args[1:]
            while rest and rest[0].startswith("-"):
                if rest[0] in ("-u", "-U", "-e", "-/", "-n", "-l", "-L", "-m", "-d", "-o", "-p", "-f", "-c"):
                    if rest[0] == "-u" and len(rest) > 1:
                        cmd.user = rest[1].split(":", 1)[0]
                    rest = rest[2:]
                else:
                    rest = rest[1:]
            args = rest
        elif name == "setpriv":
            rest = args[1:]
            while rest and rest[0].startswith("-"):
                a = rest[0]
                if a == "--":
                    rest = rest[1:]
                    break
                if a.startswith("--reuid="):
                    cmd.user = a.split("=", 1)[1]
                rest = (
                    rest[1:]
                    if "=" in a
                    or a
                    in ("--init-groups", "--clear-groups", "--keep-groups", "--nnp", "--no-new-privs", "--reset-env")
                    else rest[2:]
                )
            args = rest
        elif name in _WRAPPERS:
            args = _skip_opts(args[1:], _WRAPPERS[name])
            if name in ("taskset", "timeout", "chrt") and args:
                args = args[1:]  # the mask / duration / priority operand
        else:
            break
    cmd.argv = tuple(args)
    return cmd


@dataclass
class Options:
    values: list[tuple[str, str | None]] = field(default_factory=list)  # (option as written, value)
    args: list[str] = field(default_factory=list)  # positionals, in order

    def get(self, *names: str) -> str | None:
        """The last value given for any of `names` (last one wins, as in argparse)."""
        out = None
        for k, v in self.values:
            if k in names:
                out = v
        return out

    def all(self, *names: str) -> list[str]:
        return [v for k, v in self.values if k in names and v is not None]

    def has(self, *names: str) -> bool:
        return any(k in names for k, _ in self.values)


def parse_options(
    argv: Iterable[str],
    takes_value: Callable[[str], bool],
    *,
    stop_at_first_arg: bool = False,
) -> Options:
    """getopt_long-style parsing. `takes_value("--bind")` / `takes_value("-b")` says
    whether an option consumes a value."""
    out = Options()
    items = list(argv)
    i = 0
    while i < len(items):
        a = items[i]
        i += 1
        if a == "--":
            out.args.extend(items[i:])
            break
        if a.startswith("--") and len(a) > 2:
            name, eq, val = a.partition("=")
            if eq:
                out.values.append((name, val))
            elif takes_value(name) and i < len(items):
                out.values.append((name, items[i]))
                i += 1
            else:
                out.values.append((name, None))
        elif a.startswith("-") and len(a) > 1 and not a[1].isdigit():
            j = 1
            while j < len(a):
                opt = "-" + a[j]
                if takes_value(opt):
                    if j + 1 < len(a):
                        out.values.append((opt, a[j + 1 :].removeprefix("=")))
                    elif i < len(items):
                        out.values.append((opt, items[i]))
                        i += 1
                    else:
                        out.values.append((opt, None))
                    break
                out.values.append((opt, None))
                j += 1
        else:
            out.args.append(a)
            if stop_at_first_arg:
                out.args.extend(items[i:])
                break
    return out


_HOSTPORT = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[^:\s]*)):(?P<port>\d{1,5})$")


def default_port(port: int, host: str | None, detail: str, proto: str = "tcp") -> Port:
    """The port a server takes when nothing sets one, with why (its documented default)."""
    return Port(port, proto, host, source="default", evidence=(Evidence("default", detail=detail),))


def bind_port(
    spec: str,
    evidence: tuple[Evidence, ...],
    *,
    default_host: str | None = None,
    source: str = "configured",
    proto: str = "tcp",
) -> Port | None:
    """A `Port` from a bind spec. An empty host (`:8000`) or `0.0.0.0` binds every IPv4
    address; `*` and `[::]` every address; a bare number takes `default_host`."""
    s = spec.strip()
    if not s:
        return None
    if s.startswith("unix:"):
        return Port(None, "unix", None, socket=s[5:].removeprefix("//"), source=source, evidence=evidence)
    if s.startswith("/"):
        return Port(None, "unix", None, socket=s, source=source, evidence=evidence)
    if s.startswith(("fd:", "tcp://")):
        s = s.removeprefix("tcp://")
        if s.startswith("fd:"):
            return None
    if s.isdigit():
        port = int(s)
        return Port(port, proto, default_host, source=source, evidence=evidence) if 0 < port < 65536 else None
    m = _HOSTPORT.match(s)
    if not m:
        return None
    port = int(m.group("port"))
    if not 0 < port < 65536:
        return None
    host = m.group("v6") if m.group("v6") is not None else m.group("host")
    if host in ("", "0.0.0.0"):
        host = "0.0.0.0"
    elif host == "*":
        host = None
    return Port(port, proto, host, source=source, evidence=evidence)


def unit_evidence(unit: InitUnit) -> Evidence:
    return unit.evidence[0] if unit.evidence else Evidence("unit", unit.path)


def unit_settings(sf: ServiceFacts, unit: InitUnit) -> None:
    """The unit's env, secrets, files and identity onto the service (merge would take the
    user and command too, but env and secrets are only carried this way)."""
    sf.units.append(unit.name)
    sf.env.extend(unit.environment)
    sf.secrets.extend(unit.secrets)
    for f in unit.env_files:
        if f not in sf.env_files:
            sf.env_files.append(f)
    ev = unit_evidence(unit)
    if unit.path and unit.system in ("systemd", "openrc", "sysv"):
        sf.config_files.append(FileRef(unit.path, "config", evidence=(ev,)))
    for dropin in unit.dropins:
        sf.config_files.append(FileRef(dropin, "config", evidence=(Evidence("unit", dropin, detail="drop-in"),)))
    for f in unit.env_files:
        sf.config_files.append(
            FileRef(f, "env", evidence=(Evidence("unit", unit.path, detail=f"EnvironmentFile={f}"),))
        )
    if unit.system == "supervisord" and unit.path:
        sf.config_files.append(FileRef(unit.path, "config", evidence=(ev,)))
    sf.user = sf.user or unit.user
    sf.group = sf.group or unit.group
    sf.evidence.append(ev)


def env_value(env: Iterable[tuple[str, str | None]] | Iterable[object], name: str) -> str | None:
    """The last value of `name` in an env list (EnvVar or (k, v) pairs)."""
    out = None
    for item in env:
        if isinstance(item, tuple):
            k, v = item[0], item[1]
        else:
            k, v = getattr(item, "name", None), getattr(item, "value", None)
        if k == name:
            out = v
    return out


def runnable(unit: InitUnit) -> bool:
    return unit.type in ("service", "program", "script", "app") and bool(unit.exec_start)


_DATA_ENV = re.compile(
    r"(?:^|_)(?P<what>MEDIA|UPLOADS?|DATA|STORAGE|FILES|ATTACHMENTS?|VAR|STATE)_?(?:ROOT|DIR|DIRECTORY|FOLDER|PATH)$",
    re.IGNORECASE,
)


def data_dirs_of_env(env: Iterable[object]) -> list[FileRef]:
    """Directories an app writes, as its settings name them: MEDIA_ROOT, UPLOAD_FOLDER,
    DATA_DIR, STORAGE_PATH ... with an absolute path value."""
    out = []
    for e in env:
        name, value = getattr(e, "name", ""), getattr(e, "value", None)
        m = _DATA_ENV.search(name)
        if not m or not value or not value.startswith("/") or getattr(e, "secret", False):
            continue
        role = (
            "uploads"
            if m.group("what").upper() in ("MEDIA", "UPLOAD", "UPLOADS", "ATTACHMENT", "ATTACHMENTS")
            else "data"
        )
        out.append(FileRef(value.rstrip("/") or "/", role, evidence=tuple(getattr(e, "evidence", ()))[:1]))
    return out


_VAR = re.compile(r"^\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))$")


def expand_env(argv: Iterable[str], env: Iterable[object]) -> tuple[str, ...]:
    """systemd's ExecStart variable rule: a word `$VAR` becomes the value split on blanks,
    `${VAR}` one word. Secret values are unknown here and left as written."""
    values: dict[str, str] = {}
    for e in env:
        name, value = getattr(e, "name", None), getattr(e, "value", None)
        if name and value is not None and not getattr(e, "secret", False):
            values[name] = value
    out: list[str] = []
    for a in argv:
        m = _VAR.match(a)
        if m and (m.group("braced") or m.group("bare")) in values:
            v = values[m.group("braced") or m.group("bare")]
            out.extend(v.split() if m.group("bare") else [v])
        else:
            out.append(a)
    return tuple(out)
