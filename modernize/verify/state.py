"""Where did the data go? What a container wrote outside its volumes (the engine's
`diff`), and whether a marker written through the software survives the container
being replaced, as it is on every redeploy (a stop and start would keep the
container's own layer, and hide a data directory left out of the volumes)."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from modernize.plan.model import ServicePlan
from modernize.verify.engine import Call, Engine

# what the engine itself writes into every container
_ENGINE_PATHS = ("/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/run/.containerenv", "/.dockerenv")
_NEVER = ("/proc", "/sys", "/dev", "/run/secrets")
# written at run time and worthless after it: reported, never suggested as volumes
RUNTIME = (
    "/run",
    "/var/run",
    "/tmp",
    "/var/tmp",
    "/var/lock",
    "/run/lock",
    "/var/cache",
    "/var/lib/nginx",
)  # fmt: skip  (nginx's client-body and proxy buffers, made at start)


def _under(path: str, roots: Iterable[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


@dataclass(frozen=True)
class Written:
    """A directory the container wrote into, outside its volumes and tmpfs."""

    path: str
    files: tuple[str, ...]  # the first few files written in it
    runtime: bool  # pid files, sockets, caches: state that need not survive


def derived_paths(svc: ServicePlan | None) -> tuple[str, ...]:
    """What the software makes at start from what its image carries, again on every start:
    a servlet container's WAR unpacked beside itself (webapps/billing.war -> webapps/billing)."""
    if svc is None:
        return ()
    return tuple(f.target[: -len(".war")] for f in svc.files if f.target.endswith(".war") and not f.secret)


def written_outside(diff: Call, mounts: Sequence[str], derived: Sequence[str] = ()) -> list[Written]:
    """The leaves of `diff` (added or changed, not the directories above them) that no
    mount covers, grouped by directory; a directory under another listed one folds in.
    Runtime directories and DERIVED ones (see derived_paths) are marked as needing no volume."""
    paths = set()
    for line in diff.stdout.splitlines():
        kind, _, path = line.strip().partition(" ")
        path = path.strip()
        if kind in ("A", "C") and path.startswith("/"):
            paths.add(posixpath.normpath(path))
    # a directory above what the engine mounts or writes itself changes with it
    # (`C /etc` for /etc/hosts, `C /var/lib` for a volume there): not the service's doing
    above = {posixpath.dirname(p) for p in (*_ENGINE_PATHS, *mounts)}
    above |= {a for p in list(above) for a in _ancestors(p)}
    leaves = [p for p in paths if not any(q.startswith(p.rstrip("/") + "/") for q in paths) and p not in above]
    skip = (*_NEVER, *mounts)
    dirs: dict[str, list[str]] = {}
    for leaf in sorted(leaves):
        if leaf in _ENGINE_PATHS or _under(leaf, skip) or leaf in RUNTIME:
            continue  # (a runtime directory listed alone: only its time stamp changed)
        dirs.setdefault(posixpath.dirname(leaf) or "/", []).append(leaf)
    found = []
    for root in sorted(derived):  # each on its own: it must not fold in with the logs beside it
        made = sorted(f for d in list(dirs) if _under(d, (root,)) for f in dirs.pop(d))
        if made:
            found.append(Written(root, tuple(made[:5]), True))
    # directories under one /a/b/c fold into their common path: a database's files in
    # base/16384 and pg_wal are one data directory (and nothing folds into / or /var/lib)
    buckets: dict[tuple[str, ...], list[str]] = {}
    for d in dirs:
        parts = tuple(x for x in d.split("/") if x)
        buckets.setdefault(parts[:3], []).append(d)
    for key in sorted(buckets):
        members = buckets[key]
        top = posixpath.commonpath(members) if len(members) > 1 else members[0]
        files = sorted(f for d in members for f in dirs[d])
        found.append(Written(top, tuple(files[:5]), _under(top, RUNTIME)))
    found.sort(key=lambda w: w.path)
    return found


def _ancestors(path: str) -> list[str]:
    out = []
    while path not in ("/", ""):
        path = posixpath.dirname(path)
        out.append(path)
    return out


# -- the restart check ---------------------------------------------------------------


@dataclass(frozen=True)
class Marker:
    """A marker written through the software, and how to read it back."""

    how: str  # what the report says: "a row through psql"
    write: tuple[str, ...]
    read: tuple[str, ...]
    user: str | None = None
    env: tuple[tuple[str, str], ...] = ()


def marker_for(service: ServicePlan, token: str, password: str) -> list[Marker]:
    """How to leave a mark in this service's state: through the database or cache
    itself, else a file in each writable data volume."""
    port = next((p.port for p in service.ports), None)
    if service.software == "postgresql":
        sql = (
            "CREATE TABLE IF NOT EXISTS modernize_verify (marker text); "
            f"INSERT INTO modernize_verify VALUES ('{token}')"
        )
        where = ("-p", str(port)) if port else ()
        return [Marker("a row through psql", ("psql", *where, "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-c", sql),
                       ("psql", *where, "-tA", "-d", "postgres", "-c", "SELECT marker FROM modernize_verify"),
                       user="postgres")]  # fmt: skip
    if service.software in ("mysql", "mariadb"):
        sql = (
            "CREATE DATABASE IF NOT EXISTS modernize_verify; CREATE TABLE IF NOT EXISTS modernize_verify.m "
            f"(marker varchar(64)); INSERT INTO modernize_verify.m VALUES ('{token}')"
        )
        env = tuple((k, password) for k in ("MYSQL_PWD",) if _has_root_password(service))
        return [Marker("a row through mysql", ("mysql", "-uroot", "-e", sql),
                       ("mysql", "-uroot", "-N", "-e", "SELECT marker FROM modernize_verify.m"),
                       user="root", env=env)]  # fmt: skip
    if service.software in ("redis", "valkey"):
        where = ("-p", str(port)) if port else ()
        auth = (("REDISCLI_AUTH", password),)
        return [Marker("a key through redis-cli", ("redis-cli", *where, "SET", "modernize:verify", token),
                       ("redis-cli", *where, "GET", "modernize:verify"), env=auth)]  # fmt: skip
    out = []
    for vol in service.volumes:
        if vol.read_only or vol.role not in ("data", "uploads", "shared"):
            continue
        path = posixpath.join(vol.target, ".modernize-verify")
        out.append(Marker(f"a file in {vol.target}", ("sh", "-c", f"printf %s {token} > {path}"), ("cat", path)))
    return out


def _has_root_password(service: ServicePlan) -> bool:
    return any(e.name in ("MYSQL_ROOT_PASSWORD", "MARIADB_ROOT_PASSWORD") for e in service.env)


def leave(engine: Engine, container: str, marker: Marker) -> Call:
    return engine.exec(container, marker.write, user=marker.user, env=dict(marker.env))


def still_there(engine: Engine, container: str, marker: Marker, token: str) -> tuple[bool, str]:
    c = engine.exec(container, marker.read, user=marker.user, env=dict(marker.env))
    if token in c.stdout:
        return True, f"{marker.how}: kept"
    return False, f"{marker.how}: lost after the container was replaced ({c.tail(300) or 'empty answer'})"
