"""Configuration: secrets, hard-wired addresses and names, localhost coupling."""

from __future__ import annotations

import re
from collections.abc import Iterator

from modernize.model import Service, cite
from modernize.readiness.rule import Context, Hit, Rule
from modernize.readiness.rules._util import LOOPBACK, by_id, is_ip, under


def _secrets(ctx: Context) -> Iterator[Hit]:
    for s in ctx.services():
        files = sorted({x.path for x in s.secrets})
        if files:
            keys = ", ".join(sorted({x.key for x in s.secrets})[:6])
            yield Hit(s.id, f"{len(s.secrets)} secret(s) ({keys}) in {', '.join(files[:4])}",
                      tuple(f"{x.path}:{x.line}" if x.line else x.path for x in s.secrets)[:6])  # fmt: skip


def _hard_ips(ctx: Context) -> Iterator[Hit]:
    services = by_id(ctx.inventory)
    for d in ctx.inventory.dependencies:
        if d.external and is_ip(d.host) and d.host not in LOOPBACK:
            yield Hit(d.source if d.source in services else None,
                      f"reaches {d.host}:{d.port or ''} by address ({d.via})", cite(d.evidence)[:2])  # fmt: skip


def _localhost(ctx: Context) -> Iterator[Hit]:
    services = by_id(ctx.inventory)
    for d in ctx.inventory.dependencies:
        if d.target and (d.host in LOOPBACK or d.socket) and d.source in services:
            how = d.socket or f"{d.host}:{d.port}"
            yield Hit(d.source, f"reaches {d.target} on {how} ({d.via}): they will be in different containers",
                      cite(d.evidence)[:2])  # fmt: skip


def _external(ctx: Context) -> Iterator[Hit]:
    services = by_id(ctx.inventory)
    for d in ctx.inventory.dependencies:
        if d.external and not is_ip(d.host) and d.source in services:
            yield Hit(d.source, f"depends on {d.host}:{d.port or ''} outside this host ({d.via})", cite(d.evidence)[:1])


def _vhosts(ctx: Context) -> Iterator[Hit]:
    for s in ctx.services():
        names = dict(s.attributes).get("vhosts") or dict(s.attributes).get("server_names")
        if names and s.kind == "web-server":
            yield Hit(s.id, f"answers for host names: {names[:120]}", cite(s.evidence)[:1])


RULES = [
    Rule(
        "CF001", "Secrets in configuration or environment files", "configuration", "minor", 2,
        "each secret moves to the platform's secret store once",
        "Keep the values out of images: environment variables from a secret store, or mounted secret files "
        "(the generated compose does both); rotate what was in files many people could read.",
        _secrets, ("https://docs.docker.com/compose/how-tos/use-secrets/",),
    ),
    Rule(
        "CF002", "Addresses hard-wired as IPs", "configuration", "minor", 1,
        "a DNS name exists or can be made",
        "Replace the IP with a DNS name (or an environment variable) so the peer can move.", _hard_ips,
    ),
    Rule(
        "CF003", "Services coupled through localhost or a unix socket", "configuration", "minor", 1,
        "the setting can name the other service",
        "Point the setting at the other service's name and port (the generated plan rewrites it, with evidence).",
        _localhost,
    ),
    Rule(
        "CF004", "Depends on systems outside this host", "configuration", "info", 1,
        "the containers reach the same network",
        "Make sure the container network reaches these peers (routing, firewall, DNS).", _external,
    ),
    Rule(
        "CF005", "Name-based virtual hosts", "configuration", "info", 1,
        "DNS and TLS for each name move with the web server",
        "Keep the names in DNS pointing at the new entry point, and carry each name's certificate.", _vhosts,
    ),
]  # fmt: skip


def _tls(ctx: Context) -> Iterator[Hit]:
    for s in ctx.services():
        certs = [r for r in s.config_files if r.role == "certs" and "snakeoil" not in r.path]
        if certs:
            yield Hit(s.id, f"serves TLS with {len(certs)} certificate/key file(s) from the host",
                      tuple(e for r in certs for e in cite(r.evidence))[:4])  # fmt: skip


RULES += [
    Rule(
        "CF006", "TLS certificates and keys from the host", "configuration", "minor", 2,
        "the certificates are renewed the same way after the move",
        "Mount the certificate and key as secrets, or terminate TLS at the platform's ingress with managed "
        "certificates; move the renewal job too.", _tls,
    ),
]  # fmt: skip


def _changed_config(ctx: Context) -> Iterator[Hit]:
    for s in ctx.services():
        changed = [
            r for r in s.config_files if r.kind == "file" and (r.modified or (r.package is None and r.role == "config"))
        ]
        if changed:
            yield Hit(s.id, f"{len(changed)} config file(s) changed on the server or owned by no package",
                      tuple(r.path for r in changed)[:6])  # fmt: skip


RULES += [
    Rule(
        "CF007", "Configuration changed on the server", "configuration", "info", 1,
        "the changes are intended and known",
        "Review each changed file before it goes into an image (the plan copies them): keep what is needed, "
        "and put it under version control.", _changed_config,
    ),
]  # fmt: skip


# where an app gets its process environment from: a finding about a literal there is CF001/CF003's
_ENV_SOURCES = (".env", "/dump.pm2", "/ecosystem.config.js", "/ecosystem.config.cjs", "/ecosystem.json")
_ENV_DIRS = ("/etc/default", "/etc/sysconfig", "/etc/supervisor", "/etc/supervisord.d", "/etc/systemd")
# settings whose framework already lets the environment override the file: Spring Boot binds
# SPRING_DATASOURCE_URL & co over any property; Rails merges DATABASE_URL over database.yml
_NATIVE_OVERRIDE = ("spring.", "database.yml")
_VAR_STEM = {"postgresql": "DB", "postgres": "DB", "mysql": "DB", "mariadb": "DB", "redis": "REDIS", "amqp": "AMQP",
             "mongodb": "MONGODB", "memcached": "MEMCACHED", "smtp": "SMTP", "ldap": "LDAP", "http": "API",
             "https": "API"}  # fmt: skip
_HOW = {".php": "getenv('{var}')", ".py": "os.environ['{var}']", ".js": "process.env.{var}",
        ".xml": "${{{var}}} (Tomcat's EnvironmentPropertySource)"}  # fmt: skip


def _env_source(path: str, service: Service) -> bool:
    return (
        path in service.env_files
        or path.endswith(_ENV_SOURCES)
        or any(under(path, top) for top in _ENV_DIRS)
        or any(r.path == path and r.role in ("env", "unit") for r in service.config_files)
    )


def _variable(via: str, scheme: str | None, excerpt: str) -> str:
    if re.fullmatch(r"[A-Z][A-Z0-9_]*", via):
        return via
    stem = _VAR_STEM.get((scheme or "").removeprefix("jdbc:").split("+")[0], "SERVICE")
    return f"{stem}_URL" if "://" in excerpt or "url" in excerpt.lower() else f"{stem}_HOST"


def _baked(ctx: Context, where: str) -> str | None:
    """What the plan writes over this line in the image's copy of the file, if anything."""
    for s in ctx.plan.services if ctx.plan else ():
        for f in s.files:
            for r in f.rewrites:
                if where in r.evidence or f"{f.source}:{r.line}" == where:
                    return r.new
    return None


def _no_env_override(ctx: Context) -> Iterator[Hit]:
    services = by_id(ctx.inventory)
    seen: set[tuple[str, str]] = set()
    for d in ctx.inventory.dependencies:
        s = services.get(d.source)
        via = d.via or "a setting"
        if s is None or s.plumbing or s.kind not in ("app", "worker") or via.startswith(_NATIVE_OVERRIDE):
            continue
        ev = next((e for e in d.evidence if e.kind == "config" and e.path and e.line), None)
        if ev is None or ev.path is None or _env_source(ev.path, s):
            continue
        where = f"{ev.path}:{ev.line}"
        if (s.id, where) in seen:
            continue
        seen.add((s.id, where))
        var = _variable(via, d.scheme, ev.excerpt or "")
        how = next((h for ext, h in _HOW.items() if ev.path.endswith(ext)), "an environment variable ({var})")
        value = f"{d.host or ''} {d.socket}".strip() if d.socket else (f"{d.host}:{d.port}" if d.port else d.host)
        baked = _baked(ctx, where)
        also = f"; the plan only bakes {baked} into the image's copy" if baked else ""
        yield Hit(s.id, f"{via} ({value}) is a literal in {where} with no environment override: "
                        f"read it from {how.format(var=var)}, today's value as the default{also}",
                  (where,))  # fmt: skip


RULES += [
    Rule(
        "CF008", "Connection settings with no environment override", "configuration", "minor", 1,
        "an hour per setting: the file is the app's own (or a site config) and can read a variable, with "
        "today's value as the default so the server keeps working",
        "Make the setting read an environment variable (PHP getenv(), Python os.environ, Tomcat ${VAR} with "
        "org.apache.tomcat.util.digester.PROPERTY_SOURCE=org.apache.tomcat.util.digester."
        "EnvironmentPropertySource), keep today's value as its default, and set the variable in compose's "
        "environment: one image then runs in every environment, and the plan no longer has to rewrite the "
        "file's copy. Settings an app already takes from the environment (env files, units, pm2, Spring "
        "Boot's SPRING_*, Rails' DATABASE_URL) are not reported.",
        _no_env_override,
        (
            "https://12factor.net/config",
            "https://developer.wordpress.org/apis/wp-config-php/",
            "https://tomcat.apache.org/tomcat-10.1-doc/config/systemprops.html",
            "https://docs.djangoproject.com/en/stable/topics/settings/",
        ),
    ),
]  # fmt: skip
