"""Where a service's settings say it connects to: URLs, JDBC URLs, host:port pairs.

Shared by every detector that reads app settings (env files, unit Environment=,
application.properties, wp-config.php, pm2 ecosystems ...). Values come in
already redacted; only host, port, socket and scheme are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from modernize.facts import Endpoint
from modernize.model import EnvVar, Evidence, Secret
from modernize.secrets import MASK, is_secret_name, make_secret, scrub, shape_of

DEFAULT_PORTS = {
    "postgres": 5432,
    "postgresql": 5432,
    "pgsql": 5432,
    "mysql": 3306,
    "mariadb": 3306,
    "redis": 6379,
    "rediss": 6379,
    "amqp": 5672,
    "amqps": 5671,
    "mongodb": 27017,
    "memcached": 11211,
    "memcache": 11211,
    "http": 80,
    "https": 443,
    "smtp": 25,
    "smtps": 465,
    "ldap": 389,
    "ldaps": 636,
    "sqlserver": 1433,
    "oracle": 1521,
    "elasticsearch": 9200,
    "nats": 4222,
    "kafka": 9092,
}
_URL = re.compile(r"^(?:jdbc:)?([a-z][a-z0-9+.-]*)://", re.IGNORECASE)
_HOSTPORT = re.compile(r"^\[?([A-Za-z0-9_.:-]+?)\]?:(\d{1,5})$")
HOST_KEYS = re.compile(r"(?:^|_)(HOST|HOSTNAME|ADDR|ADDRESS|SERVER|SERVERS)$", re.IGNORECASE)
PORT_KEY = re.compile(r"(?:^|_)PORT$", re.IGNORECASE)


def scheme_base(scheme: str) -> str:
    return scheme.lower().split("+", 1)[0]


def parse_url(value: str, via: str, evidence: tuple[Evidence, ...] = ()) -> Endpoint | None:
    """`postgresql://u:p@db:5432/x`, `jdbc:mysql://h:3306/db`, `redis://:p@localhost/0`,
    `unix:///run/x.sock`, `redis+socket:///run/redis.sock`."""
    m = _URL.match(value.strip())
    if not m:
        return None
    raw_scheme = m.group(1).lower()
    text = value.strip()
    if text.lower().startswith("jdbc:"):
        text = text[5:]
        raw_scheme = "jdbc:" + raw_scheme
    # urlsplit needs a scheme it treats as netloc-bearing: any scheme:// works
    try:
        parts = urlsplit(text)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    scheme = scheme_base(raw_scheme.removeprefix("jdbc:"))
    if "socket" in raw_scheme or scheme == "unix" or (not host and parts.path.endswith(".sock")):
        return Endpoint(via, None, None, raw_scheme, unquote(parts.path), evidence)
    if host is None:
        host = "localhost" if scheme in DEFAULT_PORTS else None
    if host is None:
        return None
    if port is None:
        port = DEFAULT_PORTS.get(scheme)
    # a multi-host list (mongodb://a,b) keeps the first
    return Endpoint(via, host.split(",")[0], port, raw_scheme, None, evidence)


def parse_hostport(value: str, via: str, evidence: tuple[Evidence, ...] = ()) -> list[Endpoint]:
    out = []
    for item in re.split(r"[,\s]+", value.strip()):
        m = _HOSTPORT.match(item)
        if m and not item.startswith("/"):
            out.append(Endpoint(via, m.group(1), int(m.group(2)), None, None, evidence))
        elif item.startswith("/") and item.endswith(".sock"):
            out.append(Endpoint(via, None, None, None, item, evidence))
    return out


def from_settings(settings: Iterable[tuple[str, str | None, Evidence]]) -> list[Endpoint]:
    """Endpoints from name/value settings: URLs anywhere, host:port lists in *_HOST /
    *_SERVERS style keys, and a bare *_HOST paired with its sibling *_PORT."""
    items = [(k, v, ev) for k, v, ev in settings if v]
    by_key = {k.upper(): (v, ev) for k, v, ev in items}
    out: list[Endpoint] = []
    for key, value, ev in items:
        assert value is not None
        url = parse_url(value, key, (ev,))
        if url is not None:
            out.append(url)
            continue
        if not HOST_KEYS.search(key):
            continue
        pairs = parse_hostport(value, key, (ev,))
        if pairs:
            out.extend(pairs)
            continue
        host = value.strip()
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", host):
            continue
        stem = HOST_KEYS.sub("", key.upper())
        sibling = by_key.get(f"{stem}_PORT" if stem else "PORT")
        port = int(sibling[0]) if sibling and sibling[0] and sibling[0].isdigit() else None
        out.append(Endpoint(key, host, port, None, None, (ev,)))
    return out


def classify_setting(
    name: str, value: str, path: str, line: int | None, *, kind: str = "config"
) -> tuple[EnvVar, Secret | None]:
    """A setting as an EnvVar whose value is safe to keep, plus its Secret if it is one."""
    ev_line = Evidence(kind, path, line, excerpt=f"{name}={MASK}")
    if is_secret_name(name) and value:
        return EnvVar(name, None, True, (ev_line,)), make_secret(name, value, path, line)
    # by what the value holds: a URL's password or ?password=, an option such as
    # --db-pass x, a token or private key by its shape
    found: list[str] = []
    safe = scrub(value, found)
    if found:
        kind_found = shape_of(found[0]) or "password"
        held = found[0] if len(found) == 1 else "\0".join(found)
        if safe.strip() == MASK:
            return EnvVar(name, None, True, (ev_line,)), make_secret(name, held, path, line, kind=kind_found)
        ev = Evidence(kind, path, line, excerpt=f"{name}={safe}")
        return EnvVar(name, safe, True, (ev,)), make_secret(name, held, path, line, kind=kind_found)
    return EnvVar(name, value, False, (Evidence(kind, path, line, excerpt=f"{name}={value}"),)), None


def endpoints_of_env(env: Iterable[EnvVar]) -> list[Endpoint]:
    return from_settings((e.name, e.value, e.evidence[0] if e.evidence else Evidence("config")) for e in env)
