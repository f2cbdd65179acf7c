"""The roles and databases the apps' connection settings name, created in the new,
empty database before the apps start, with the run's throwaway password: on the
server they exist already; in a fresh container nothing has made them yet."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from modernize.verify.engine import Call, Engine
from modernize.verify.project import Project, substitute

_DOTENV = re.compile(r"^\s*(?:export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>.*)$")
# WordPress and other PHP apps: define('DB_HOST', 'mariadb');
_PHP_DEFINE = re.compile(r"""define\(\s*['"](?P<key>\w+)['"]\s*,\s*['"](?P<value>[^'"]*)['"]""")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$-]{0,62}$")
_FLAVOUR = {"postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql"}


@dataclass(frozen=True)
class Login:
    user: str
    password: str
    database: str | None
    wanted_by: str  # the service whose setting names it


def _flavour(scheme: str) -> str | None:
    base = scheme.split("+", 1)[0].lower()
    return {"postgres": "postgres", "postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql"}.get(base)


def settings_of(project: Project, service: str) -> list[list[tuple[str, str]]]:
    """A service's settings as the container gets them: its compose environment
    (interpolated) and the KEY=VALUE lines or PHP define()s of the secret files mounted
    into it (Laravel's .env, WordPress' config with DB_HOST, DB_USER ...)."""
    spec = project.services.get(service) or {}
    values = spec.get("environment") or {}
    items = values.items() if isinstance(values, dict) else (str(v).split("=", 1) for v in values)
    out = [[(str(k), substitute(v, project.env)) for k, v in items]]  # one list per source
    for sec in spec.get("secrets") or []:
        name = sec if isinstance(sec, str) else sec.get("source", "")
        decl = (project.compose.get("secrets") or {}).get(name) or {}
        path = project.work / substitute(decl.get("file", ""), project.env)
        try:
            text = path.read_text(encoding="utf-8") if path.is_file() else ""
        except (OSError, UnicodeDecodeError):
            continue
        pairs = []
        for line in text.splitlines():
            m = _DOTENV.match(line) or _PHP_DEFINE.search(line)
            if m:
                pairs.append((m["key"], m["value"].strip().strip("'\"")))
        out.append(pairs)
    return out


def logins_for(service: str, software: str, settings: Mapping[str, list[list[tuple[str, str]]]]) -> list[Login]:
    """Every login another service's settings name on SERVICE: a URL with a user
    (postgresql://u:p@service/db), or a group of PREFIX_HOST=service with PREFIX_USER(NAME),
    PREFIX_PASS(WORD) and PREFIX_DATABASE/NAME/DB."""
    flavour = _FLAVOUR.get(software)
    if flavour is None:
        return []
    found: dict[tuple[str, str | None], Login] = {}

    def add(user: str, password: str, database: str | None, other: str) -> None:
        if not _NAME.match(user) or (database is not None and not _NAME.match(database)):
            return  # not a plain name: not ours to quote into SQL
        found.setdefault((user, database), Login(user, password, database, other))

    for other, sources in sorted(settings.items()):
        for pairs in sources:
            _logins_in(pairs, service, flavour, other, add)
    return list(found.values())


def _logins_in(
    pairs: list[tuple[str, str]],
    service: str,
    flavour: str,
    other: str,
    add: Callable[[str, str, str | None, str], None],
) -> None:
    """The logins one source of settings (an environment, a file) names on SERVICE."""
    given = dict(pairs)
    for _key, value in pairs:
        if "://" not in value:
            continue
        try:
            url = urlsplit(value)
            host, user = url.hostname, url.username
        except ValueError:
            continue
        if _flavour(url.scheme) == flavour and host == service and user:
            add(unquote(user), unquote(url.password or ""), unquote(url.path.lstrip("/")) or None, other)
    for key, value in pairs:
        if not key.upper().endswith("HOST") or value.split(":")[0] != service:
            continue
        prefix = key[: -len("HOST")]
        user = _first(given, prefix, ("USERNAME", "USER"))
        if user:
            database = _first(given, prefix, ("DATABASE", "NAME", "DB"))
            add(user, _first(given, prefix, ("PASSWORD", "PASS")) or "", database, other)


def _first(given: Mapping[str, str], prefix: str, suffixes: tuple[str, ...]) -> str | None:
    for suffix in suffixes:
        for key in (prefix + suffix, prefix + suffix.lower()):
            if given.get(key):
                return given[key]
    return None


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def create(engine: Engine, container: str, software: str, login: Login) -> Call:
    if _FLAVOUR.get(software) == "postgres":
        role, password = login.user, _quote_literal(login.password)
        sql = (
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {_quote_literal(role)}) THEN "
            f'CREATE ROLE "{role}" LOGIN PASSWORD {password}; ELSE ALTER ROLE "{role}" LOGIN PASSWORD {password}; '
            "END IF; END $$;"
        )
        made = engine.exec(container, ("psql", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-c", sql), user="postgres")
        if not made.ok or login.database is None:
            return made
        query = f"SELECT 1 FROM pg_database WHERE datname = {_quote_literal(login.database)}"
        exists = engine.exec(container, ("psql", "-tA", "-d", "postgres", "-c", query), user="postgres")
        if exists.stdout.strip() == "1":
            return exists
        sql = f'CREATE DATABASE "{login.database}" OWNER "{role}"'
        return engine.exec(container, ("psql", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-c", sql), user="postgres")
    user, password = _quote_literal(login.user), _quote_literal(login.password)
    sql = f"CREATE USER IF NOT EXISTS {user}@'%' IDENTIFIED BY {password};"
    if login.database:
        sql += f" CREATE DATABASE IF NOT EXISTS `{login.database}`; GRANT ALL ON `{login.database}`.* TO {user}@'%';"
    return engine.exec(container, ("mysql", "-uroot", "-e", sql), user="root")
