"""The roles and databases the apps' connection settings name, created in the new,
empty database before the apps start, with the run's throwaway password: on the
server they exist already; in a fresh container nothing has made them yet."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from modernize.verify.engine import Call, Engine
from modernize.verify.project import substitute

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


def logins_for(service: str, software: str, services: Mapping[str, Any], env: Mapping[str, str]) -> list[Login]:
    """Every URL in another service's environment that points at SERVICE with a user."""
    flavour = _FLAVOUR.get(software)
    found: dict[tuple[str, str | None], Login] = {}
    for other, spec in sorted(services.items()):
        values = spec.get("environment") or {}
        items = values.values() if isinstance(values, dict) else (str(v).split("=", 1)[-1] for v in values)
        for raw in items:
            value = substitute(raw, env)
            if "://" not in value:
                continue
            try:
                url = urlsplit(value)
                host, user = url.hostname, url.username
            except ValueError:
                continue
            if flavour is None or _flavour(url.scheme) != flavour or host != service or not user:
                continue
            user = unquote(user)
            database = unquote(url.path.lstrip("/")) or None
            if not _NAME.match(user) or (database is not None and not _NAME.match(database)):
                continue  # not a plain name: not ours to quote into SQL
            found.setdefault((user, database), Login(user, unquote(url.password or ""), database, other))
    return list(found.values())


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
