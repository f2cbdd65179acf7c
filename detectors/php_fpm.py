"""PHP-FPM: one service per installed PHP version, its pools as attributes.

php-fpm reads its file with PHP's INI scanner: `[section]` starts a pool (`[global]`
is the master), `;` starts a comment (also after an unquoted value), values may be
quoted, `$pool` expands to the pool name and `${VAR}` from the environment, and
`include=` (any section) pulls in a glob of files in place, relative to the prefix.
`listen` is a socket path, `port` (every address), `addr:port` or `[v6]:port`.
Layouts: Debian /etc/php/X.Y/fpm, RHEL /etc/php-fpm.conf + /etc/php-fpm.d,
Alpine /etc/phpXY.

php-fpm's own php.ini (Debian /etc/php/X.Y/fpm/php.ini, RHEL /etc/php.ini, Alpine
/etc/phpXY/php.ini) is a config file of the service; its `session.save_path` (the last
uncommented one) is where sessions live, else a pool's `php_value[session.save_path]`,
else Debian's compiled-in `/var/lib/php/sessions` (php-common's sessionclean empties it).
The pools themselves are readable by other detectors through `pools_of` (the PHP apps a
pool serves take its user).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from modernize.detector import Detector
from modernize.endpoints import classify_setting
from modernize.facts import Found, ServiceFacts
from modernize.model import Evidence, FileRef, Port, file_ref
from modernize.parsers.includes import read_once
from modernize.snapshot import Snapshot
from modernize.snapshot import paths as P
from modernize.snapshot.declarations import has_magic, whole

_FALSE = {"no", "off", "false", "none"}
_TRUE = {"yes", "on", "true"}
_LISTEN = re.compile(r"^(?:\[([0-9A-Fa-f:.]+)\]|([^:\[\]]+)):(\d+)$")
_KEYED = re.compile(r"^(php_value|php_admin_value|php_flag|php_admin_flag|env)\[([^\]]+)\]$")


@dataclass
class Setting:
    key: str
    value: str
    path: str
    line: int


@dataclass
class Pool:
    name: str
    settings: list[Setting] = field(default_factory=list)

    def get(self, key: str) -> Setting | None:
        hits = [s for s in self.settings if s.key == key]
        return hits[-1] if hits else None


def ini_value(raw: str) -> str:
    raw = raw.strip()
    if raw[:1] in ("'", '"'):
        q = raw[0]
        end = raw.find(q, 1)
        return raw[1:end] if end > 0 else raw[1:]
    raw = raw.split(";", 1)[0].strip()
    low = raw.lower()
    if low in _TRUE:
        return "1"
    if low in _FALSE:
        return ""
    return raw


@dataclass(frozen=True)
class Layout:
    main: str
    version: str | None
    prefix: str


def layouts(snap: Snapshot) -> list[Layout]:
    out = []
    for main in snap.glob("/etc/php/*/fpm/php-fpm.conf"):
        out.append(Layout(main, P.split(main)[2], "/usr"))
    for main in snap.glob("/etc/php[0-9]*/php-fpm.conf"):
        digits = P.split(main)[1][3:]
        if digits.isdigit() and len(digits) >= 2:
            out.append(Layout(main, f"{digits[0]}.{digits[1:]}", "/usr"))
    if snap.is_file("/etc/php-fpm.conf"):
        out.append(Layout("/etc/php-fpm.conf", None, "/usr"))
    return out


class PhpFpmDetector(Detector):
    name = "php-fpm"
    tags = ("service", "app")
    reads = whole(
        "/etc/php/*/fpm/php-fpm.conf",
        "/etc/php/*/fpm/pool.d/*",
        "/etc/php[0-9]*/php-fpm.conf",
        "/etc/php[0-9]*/php-fpm.d/*",
        "/etc/php-fpm.conf",
        "/etc/php-fpm.d/*",
        "/etc/php/*/fpm/php.ini",
        "/etc/php[0-9]*/php.ini",
        "/etc/php.ini",
    )

    def detect(self, snap: Snapshot, found: Found) -> None:
        for lay in layouts(snap):
            self._one(snap, found, lay)

    @staticmethod
    def _read(
        snap: Snapshot,
        found: Found,
        lay: Layout,
        path: str,
        pools: dict[str, Pool],
        files: list[str],
        seen: set[str],
    ) -> None:
        text = read_once(snap, path, seen, files)
        if text is None:
            return
        current = pools.setdefault("global", Pool("global"))
        for no, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith(";"):
                continue
            if line.startswith("["):
                if "]" not in line:
                    found.unparsable(path, f"line {no}: section header without ]")
                    continue
                name = line[1 : line.index("]")].strip()
                current = pools.setdefault(name, Pool(name))
                continue
            key, sep, value = line.partition("=")
            if not sep:
                found.unparsable(path, f"line {no}: not a key = value line")
                continue
            key = key.strip()
            val = ini_value(value).replace("$pool", current.name)
            if key == "include":
                pattern = val if val.startswith("/") else P.join(lay.prefix, val)
                targets = snap.glob(pattern) if has_magic(pattern) else [pattern]
                snap.want(targets)
                for target in sorted(targets):
                    PhpFpmDetector._read(snap, found, lay, target, pools, files, seen)
                continue
            current.settings.append(Setting(key, val, path, no))

    def _one(self, snap: Snapshot, found: Found, lay: Layout) -> None:
        pools, files = pools_of(snap, found, lay)
        if not files:
            return
        v = lay.version
        sf = ServiceFacts(
            software="php-fpm",
            kind="app",
            instance=v,
            runtime=f"php{v}" if v else "php",
            evidence=[Evidence("file", lay.main)],
        )
        if lay.main.startswith("/etc/php/"):
            sf.packages = [f"php{v}-fpm"]
            sf.binaries = [f"/usr/sbin/php-fpm{v}"]
            sf.units = [f"php{v}-fpm.service", f"php{v}-fpm"]
        elif v:
            short = (v or "").replace(".", "")
            sf.packages = [f"php{short}-fpm"]
            sf.binaries = [f"/usr/sbin/php-fpm{short}"]
            sf.units = [f"php-fpm{short}.service", f"php-fpm{short}"]
        else:
            sf.packages = ["php-fpm"]
            sf.binaries = ["/usr/sbin/php-fpm"]
            sf.units = ["php-fpm.service", "php-fpm"]
        for f in files:
            sf.config_files.append(file_ref(f, "config"))
        ini = php_ini(snap, lay)
        session = None
        if ini is not None:
            sf.config_files.append(file_ref(ini, "config"))
            session = ini_setting(snap.text(ini) or "", "session.save_path")
        glob_ = pools.get("global", Pool("global"))
        for key in ("error_log",):
            s = glob_.get(key)
            if s and s.value.startswith("/"):
                sf.log_paths.append(FileRef(s.value, "logs", evidence=(_ev(s),)))
        pid = glob_.get("pid")
        if pid:
            sf.attributes["pid"] = pid.value
        users = set()
        names = []
        for pool in pools.values():
            if pool.name == "global" or not pool.settings:
                continue
            names.append(pool.name)
            users.add(self._pool(sf, pool))
        if names:
            sf.attributes["pools"] = ", ".join(names)
        if len(users) == 1:
            sf.user = next(iter(users))
        self._sessions(sf, lay, ini, session)
        found.add(sf)

    @staticmethod
    def _sessions(sf: ServiceFacts, lay: Layout, ini: str | None, session: tuple[int, str] | None) -> None:
        """Where PHP keeps sessions: php.ini, unless a pool sets its own (already a data dir)."""
        if any("session.save_path" in (e.excerpt or "") for r in sf.data_dirs for e in r.evidence):
            return
        if session is not None and ini is not None:
            path = session[1].rsplit(";", 1)[-1]  # "N;MODE;/path"
            if path.startswith("/"):
                ev = Evidence("config", ini, session[0], excerpt=f"session.save_path = {session[1]}")
                sf.data_dirs.append(FileRef(path, "data", evidence=(ev,)))
            return
        if lay.main.startswith("/etc/php/"):
            detail = "Debian's PHP keeps sessions in /var/lib/php/sessions (compiled in; php.ini does not set it)"
            sf.data_dirs.append(
                FileRef("/var/lib/php/sessions", "data", evidence=(Evidence("default", detail=detail),))
            )

    @staticmethod
    def _pool(sf: ServiceFacts, pool: Pool) -> str | None:
        listen = pool.get("listen")
        desc = []
        if listen and listen.value:
            v = listen.value
            if v.startswith("/"):
                sf.ports.append(Port(None, "unix", None, v, evidence=(_ev(listen),)))
            elif v.isdigit():
                sf.ports.append(Port(int(v), "tcp", None, evidence=(_ev(listen),)))
            else:
                m = _LISTEN.match(v)
                if m:
                    sf.ports.append(Port(int(m.group(3)), "tcp", m.group(1) or m.group(2), evidence=(_ev(listen),)))
            desc.append(f"listen {v}")
        user = pool.get("user")
        group = pool.get("group")
        if user:
            desc.append(f"user {user.value}" + (f":{group.value}" if group else ""))
        pm = pool.get("pm")
        if pm:
            desc.append(f"pm {pm.value}")
        for key in ("slowlog", "access.log"):
            s = pool.get(key)
            if s and s.value.startswith("/"):
                sf.log_paths.append(FileRef(s.value, "logs", evidence=(_ev(s),)))
        php = []
        for s in pool.settings:
            m = _KEYED.match(s.key)
            if not m:
                continue
            kind, name = m.group(1), m.group(2)
            var, secret = classify_setting(name, s.value, s.path, s.line)
            if secret:
                sf.secrets.append(secret)
            if kind == "env":
                sf.env.append(var)
                continue
            if secret:
                continue
            if name == "error_log" and s.value.startswith("/"):
                sf.log_paths.append(FileRef(s.value, "logs", evidence=(_ev(s),)))
            elif name in ("session.save_path", "upload_tmp_dir") and s.value.startswith("/"):
                sf.data_dirs.append(FileRef(s.value.rsplit(";", 1)[-1], "data", evidence=(_ev(s),)))
            php.append(f"{name}={s.value}")
        if php:
            desc.append("php " + " ".join(php))
        sf.attributes[f"pool.{pool.name}"] = ", ".join(desc)
        return user.value if user else None


def pools_of(snap: Snapshot, found: Found, lay: Layout) -> tuple[dict[str, Pool], list[str]]:
    """The pools of one php-fpm (`global` is the master's section) and the files read."""
    pools: dict[str, Pool] = {}
    files: list[str] = []
    PhpFpmDetector._read(snap, found, lay, lay.main, pools, files, set())
    return pools, files


def php_ini(snap: Snapshot, lay: Layout) -> str | None:
    """The php.ini this php-fpm reads (next to its php-fpm.conf, or RHEL's /etc/php.ini)."""
    here = P.join(P.parent(lay.main), "php.ini")  # /etc/php-fpm.conf -> /etc/php.ini
    return here if snap.is_file(here) else None


def ini_setting(text: str, key: str) -> tuple[int, str] | None:
    """(line, value) of the last uncommented `key = value` of a php.ini."""
    out = None
    for no, raw in enumerate(text.splitlines(), 1):
        k, sep, v = raw.partition("=")
        if sep and k.strip() == key:
            out = (no, ini_value(v))
    return out


def _ev(s: Setting) -> Evidence:
    return Evidence("config", s.path, s.line, excerpt=f"{s.key} = {s.value}")
