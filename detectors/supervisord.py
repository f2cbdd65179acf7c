"""supervisord programs, following `[include] files=` (globs relative to the file).

supervisord's own HTTP servers (`[unix_http_server]`, `[inet_http_server]`) may ask for a
`username` and a `password` (clear text or `{SHA}` and a SHA-1 hex digest), which
`[supervisorctl]` repeats: each password is a secret, and the username an account of an
identity store of supervisord's own (its name only). Sections may sit in any included file."""

from __future__ import annotations

import configparser
import shlex

from modernize.detector import Detector
from modernize.endpoints import classify_setting
from modernize.facts import Found, ServiceFacts
from modernize.model import EnvVar, Evidence, FileRef, IdentityStore, InitUnit, Port, Secret
from modernize.parsers.includes import read_once
from modernize.secrets import make_secret, redact_argv
from modernize.snapshot import Snapshot
from modernize.snapshot import paths as P
from modernize.snapshot.declarations import whole

MAIN = ("/etc/supervisor/supervisord.conf", "/etc/supervisord.conf")


def _parser() -> configparser.RawConfigParser:
    cp = configparser.RawConfigParser(strict=False, inline_comment_prefixes=(";",), interpolation=None)
    cp.optionxform = str  # type: ignore[assignment,method-assign]
    return cp


def _line_of(text: str, section: str, key: str) -> int | None:
    in_section = False
    for no, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s.startswith("["):
            in_section = s.strip("[]").strip() == section
        elif in_section and s.split("=", 1)[0].strip() == key:
            return no
    return None


def env_pairs(value: str) -> list[tuple[str, str]]:
    """`KEY="v",KEY2=v2`: supervisord's environment= syntax."""
    lexer = shlex.shlex(value, posix=True)
    lexer.whitespace = ","
    lexer.whitespace_split = True
    out = []
    for item in lexer:
        k, sep, v = item.partition("=")
        if sep:
            out.append((k.strip(), v.strip()))
    return out


class SupervisordDetector(Detector):
    name = "supervisord"
    tags = ("host", "init")
    reads = whole(*MAIN, "/etc/supervisor/conf.d/*", "/etc/supervisord.d/*")

    def detect(self, snap: Snapshot, found: Found) -> None:
        for main in MAIN:
            if snap.exists(main):
                seen: set[str] = set()
                self._file(snap, found, main, seen, enabled=True)
                found.add(self._daemon(snap, main, sorted(seen)))
                break

    @staticmethod
    def _daemon(snap: Snapshot, main: str, files: list[str]) -> ServiceFacts:
        """supervisord itself: a process manager, host plumbing like an init system. Its
        own sections may sit in the main file or an included one (the last value wins)."""
        sf = ServiceFacts(
            software="supervisor",
            kind="other",
            plumbing=True,
            packages=["supervisor"],
            units=["supervisor.service", "supervisord.service"],
            config_files=[FileRef(f, "config", evidence=(Evidence("config", f),)) for f in files],
            evidence=[Evidence("config", main)],
        )
        # section -> option -> (value, path, line), main file first
        opts: dict[str, dict[str, tuple[str, str, int | None]]] = {}
        for path in [main, *(f for f in files if f != main)]:
            text = snap.text(path) or ""
            cp = _parser()
            try:
                cp.read_string(text, source=path)
            except configparser.Error:
                continue  # reported by _file
            for section in ("unix_http_server", "inet_http_server", "supervisorctl", "supervisord"):
                if cp.has_section(section):
                    for key, value in cp.items(section):
                        opts.setdefault(section, {})[key] = (value.strip(), path, _line_of(text, section, key))
        unix, inet = opts.get("unix_http_server", {}), opts.get("inet_http_server", {})
        if "file" in unix:
            sock, path, line = unix["file"]
            sock = sock.split(";")[0].strip()
            sf.ports.append(Port(None, "unix", socket=sock, evidence=(Evidence("config", path, line),)))
        if "port" in inet:
            value, path, line = inet["port"]
            host, _, port = value.rpartition(":")
            if port.isdigit():
                addr = None if host in ("", "*") else host
                sf.ports.append(Port(int(port), address=addr, evidence=(Evidence("config", path, line),)))
        for section, server in (
            ("unix_http_server", unix),
            ("inet_http_server", inet),
            ("supervisorctl", opts.get("supervisorctl", {})),
        ):
            if server.get("password", ("",))[0]:
                _value, path, line = server["password"]
                sf.secrets.append(make_secret(f"{section}.password", server["password"][0], path, line))
            if server.get("username", ("",))[0] and section != "supervisorctl":
                user, path, line = server["username"]
                ev = Evidence("config", path, line, excerpt=f"[{section}] username = {user}")
                sf.identity_stores.append(
                    IdentityStore("supervisord", False, f"[{section}] username", path, (ev,), users=(user,))
                )
        if "logfile" in opts.get("supervisord", {}):
            log, path, _line = opts["supervisord"]["logfile"]
            if log.startswith("/"):
                sf.log_paths.append(FileRef(log, "logs", evidence=(Evidence("config", path),)))
        return sf

    def _file(self, snap: Snapshot, found: Found, path: str, seen: set[str], *, enabled: bool) -> None:
        text = read_once(snap, path, seen, [], limit=200)
        if text is None:
            return
        cp = _parser()
        try:
            cp.read_string(text, source=path)
        except configparser.Error as exc:
            found.unparsable(path, str(exc).splitlines()[0])
            return
        if cp.has_option("include", "files"):
            base = P.parent(path)
            includes = []
            for pattern in cp.get("include", "files").split():
                pat = pattern if pattern.startswith("/") else P.join(base, pattern)
                includes.extend(snap.glob(P.normalize(pat)))
            snap.want(includes)
            for inc in sorted(set(includes)):
                self._file(snap, found, inc, seen, enabled=enabled)
        for section in cp.sections():
            if not section.startswith("program:"):
                continue
            name = section.split(":", 1)[1]
            opts = dict(cp.items(section))
            command = opts.get("command", "")
            env: list[EnvVar] = []
            secrets: list[Secret] = []
            if "environment" in opts:
                line = _line_of(text, section, "environment")
                for k, v in env_pairs(opts["environment"]):
                    var, sec = classify_setting(k, v, path, line)
                    env.append(var)
                    if sec:
                        secrets.append(sec)
            autostart = opts.get("autostart", "true").lower() in ("true", "yes", "1", "on")
            found.add(
                InitUnit(
                    name=name,
                    system="supervisord",
                    type="program",
                    path=path,
                    enabled=autostart,
                    state="enabled" if autostart else "disabled",
                    exec_start=(redact_argv(tuple(shlex.split(command))),) if command else (),
                    user=opts.get("user"),
                    working_dir=opts.get("directory"),
                    environment=tuple(env),
                    secrets=tuple(secrets),
                    log_paths=tuple(
                        sorted(
                            {
                                opts[k].strip()
                                for k in ("stdout_logfile", "stderr_logfile")
                                if opts.get(k, "").strip().startswith("/")
                            }
                        )
                    ),
                    evidence=(Evidence("config", path, _line_of(text, section, "command"), excerpt=f"[{section}]"),),
                )
            )
