"""Join what the detectors said into one inventory.

Several detectors describe one service: the nginx config detector, the systemd
unit, the dpkg record, a process on a live host. This module, and only this
module, joins them: service facts by (software, instance); init units to the
service whose unit name or executable they carry; packages to services; local
endpoints to the service listening there. Whatever runs and nobody recognised
becomes an explicit unclassified service, so nothing that runs is left out.
"""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from collections.abc import Iterable

from modernize import __version__
from modernize.endpoints import DEFAULT_PORTS, scheme_base
from modernize.facts import DaemonFacts, Endpoint, Found, Listener, ServiceFacts
from modernize.model import (
    SCHEMA_VERSION,
    App,
    Coverage,
    Dependency,
    Evidence,
    FileRef,
    Finding,
    Host,
    InitUnit,
    Inventory,
    OSInfo,
    Package,
    Port,
    Secret,
    Service,
    SharedPath,
    SkippedPath,
    StartMethod,
    cite,
)
from modernize.snapshot import Snapshot
from modernize.unclassified import add_daemons, from_unit
from modernize.versions import reseries

KIND_ORDER = (
    "app",
    "worker",
    "web-server",
    "database",
    "cache",
    "broker",
    "search",
    "mail",
    "dns",
    "file-share",
    "scheduler",
    "remote-access",
    "logging",
    "monitoring",
    "other",
)
# Units that start a whole system, not a service of its own.
_UNIT_SYSTEMS_RUNNABLE = ("service", "socket", "script", "program", "app")
# Who a unit runs as when it names no user: system managers start services as root.
_DEFAULT_USER = {"systemd": "root", "sysv": "root", "openrc": "root", "supervisord": "root"}


# -- service facts ----------------------------------------------------------------
def _uniq(items: Iterable[object]) -> list:  # type: ignore[type-arg]
    out: list[object] = []
    seen: set[object] = set()
    for item in items:
        key = repr(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


_LIST_FIELDS = (
    "ports",
    "config_files",
    "data_dirs",
    "log_paths",
    "content_paths",
    "env",
    "env_files",
    "secrets",
    "packages",
    "binaries",
    "units",
    "started_by",
    "endpoints",
    "libraries",
    "identity_stores",
    "evidence",
)


def merge_facts(parts: list[ServiceFacts]) -> ServiceFacts:
    """Join facts about one service; the first detector (by name) to set a scalar wins,
    lists are unioned."""
    parts = sorted(parts, key=lambda p: p.found_by)
    base = ServiceFacts(software=parts[0].software, kind=parts[0].kind, instance=parts[0].instance)
    by = []
    for p in parts:
        by.append(p.found_by)
        for name in (
            "name", "version", "user", "group", "working_dir", "runtime", "framework", "enabled", "vendored_binaries",
        ):  # fmt: skip
            if getattr(base, name) is None and getattr(p, name) is not None:
                setattr(base, name, getattr(p, name))
        if not base.command and p.command:
            base.command = p.command
        base.plumbing = base.plumbing or p.plumbing
        base.hosted_by = base.hosted_by or p.hosted_by
        for name in _LIST_FIELDS:
            getattr(base, name).extend(getattr(p, name))
        for k, v in p.attributes.items():
            base.attributes.setdefault(k, v)
    for name in _LIST_FIELDS:
        setattr(base, name, _uniq(getattr(base, name)))
    base.found_by = ",".join(sorted(set(by)))
    return base


def group_facts(facts: list[ServiceFacts]) -> list[ServiceFacts]:
    groups: dict[tuple[str, str], list[ServiceFacts]] = defaultdict(list)
    for f in facts:
        groups[f.key].append(f)
    return [merge_facts(groups[k]) for k in sorted(groups)]


# -- units --------------------------------------------------------------------------
def _unit_binaries(unit: InitUnit) -> list[str]:
    out = []
    for argv in unit.exec_start:
        if argv:
            out.append(argv[0])
            # interpreters: `python3 /srv/app/run.py`, `java -jar x.jar`, `node server.js`
            out.extend(a for a in argv[1:] if a.startswith("/"))
    return out


def _matches(sf: ServiceFacts, unit: InitUnit) -> bool:
    """A detector that names its units is taken at its word; matching by executable is
    the fallback (with several instances, one binary would claim every instance's unit)."""
    if sf.units:
        return unit.name in sf.units
    bins = set(sf.binaries)
    return bool(bins) and any(b in bins for b in _unit_binaries(unit))


def attach_units(
    services: list[ServiceFacts], units: list[InitUnit], daemons: Iterable[DaemonFacts] = ()
) -> list[ServiceFacts]:
    """Give every service the units that start it; every runnable unit left over that
    is enabled (or written by an admin) becomes an unclassified service, completed by
    what the daemons detector read of its program and config (modernize/unclassified.py)."""
    by_name = {u.name: u for u in units}
    claimed: set[str] = set()
    for sf in services:
        for unit in units:
            # a SysV script systemd ignores (a native unit exists) starts nothing
            if unit.type not in _UNIT_SYSTEMS_RUNNABLE or unit.state == "shadowed":
                continue
            if _matches(sf, unit):
                claimed.add(unit.name)
                sf.started_by.append(StartMethod(unit.system, unit.name, unit.enabled, unit.evidence))
                if sf.user is None:
                    sf.user = unit.user or _DEFAULT_USER.get(unit.system)
                if sf.group is None and unit.group:
                    sf.group = unit.group
                if not sf.command and unit.exec_start:
                    sf.command = unit.exec_start[0]
                if sf.working_dir is None and unit.working_dir:
                    sf.working_dir = unit.working_dir
                for f in unit.env_files:
                    if f not in sf.env_files:
                        sf.env_files.append(f)
                sf.config_files.extend(_unit_refs(unit))
                sf.log_paths.extend(FileRef(p, "logs", evidence=unit.evidence[:1]) for p in unit.log_paths)
    # sockets and timers belong to the service they trigger
    for unit in units:
        if unit.triggers and unit.triggers in claimed:
            claimed.add(unit.name)
    extra: list[ServiceFacts] = []
    for unit in sorted(units, key=lambda u: u.name):
        # enabled by an admin or a package (vendor-static units are the OS's own)
        if unit.name in claimed or unit.type not in _UNIT_SYSTEMS_RUNNABLE or unit.state != "enabled":
            continue
        if unit.triggers and unit.triggers in by_name and unit.type == "socket":
            continue
        extra.append(from_unit(unit, unit.user or _DEFAULT_USER.get(unit.system), _unit_refs(unit)))
    add_daemons(services + extra, list(daemons), units)
    return services + extra


def _unit_refs(unit: InitUnit) -> list[FileRef]:
    """What an admin wrote to start a service: unit files and drop-ins under /etc, and
    env files. (A package's own unit under /usr/lib comes back with the package.)"""
    refs = [FileRef(p, "unit", evidence=unit.evidence[:1]) for p in (unit.path, *unit.dropins) if p.startswith("/etc/")]
    refs += [FileRef(p, "env", evidence=unit.evidence[:1]) for p in unit.env_files if p.startswith("/")]
    return refs


# -- runtime observations ----------------------------------------------------------
_INTERPRETERS = re.compile(r"^(python[\d.]*|node|nodejs|java|ruby[\d.]*|perl[\d.]*|php[\d.]*|sh|bash|dash)$")


def _owner(li: Listener, services: list[ServiceFacts]) -> ServiceFacts | None:
    """The service a listening process belongs to: the one whose unit started it, else
    the one with its exact command line, else (for an interpreter) the one running the
    same script, else the only one with its executable. Several services running the same
    interpreter never get one another's ports: an undecided listener stands alone."""
    for sf in services:
        if li.unit and li.unit in set(sf.units) | {m.name for m in sf.started_by}:
            return sf
    if li.cmdline:
        exact = [sf for sf in services if sf.command and tuple(sf.command) == tuple(li.cmdline)]
        if len(exact) == 1:
            return exact[0]
    exe = li.exe or (li.cmdline[0] if li.cmdline else "")
    if _INTERPRETERS.match(exe.rsplit("/", 1)[-1]):
        scripts = [a for a in li.cmdline[1:] if a.startswith("/") or "." in a.rsplit("/", 1)[-1]]
        script = next((a for a in scripts if not a.startswith("-")), None)
        same = [
            sf for sf in services if script and (script in sf.command or (sf.program and sf.program.script == script))
        ]
        return same[0] if len(same) == 1 else None
    # the executable as resolved (/proc/PID/exe) and as started: Debian's redis-server is a
    # link to redis-check-rdb, and the service knows the name it was started by
    names = {x for x in (exe, li.cmdline[0] if li.cmdline else "") if x}
    claim = [sf for sf in services if any(n in sf.binaries or sf.command[:1] == (n,) for n in names)]
    return claim[0] if len(claim) == 1 else None


def attach_listeners(services: list[ServiceFacts], listeners: list[Listener]) -> list[ServiceFacts]:
    """Observed listening sockets join the service the process belongs to (`_owner`);
    a listener nobody claims becomes an unclassified service."""
    extra: dict[str, ServiceFacts] = {}
    for li in listeners:
        port = Port(li.port, li.proto, li.address, li.path, "observed", li.evidence)
        exe = li.exe or (li.cmdline[0] if li.cmdline else "")
        owner = _owner(li, services)
        if owner is None:
            key = li.unit or (" ".join(li.cmdline[:2]) if _INTERPRETERS.match(exe.rsplit("/", 1)[-1]) else exe)
            # no process at all: its owner is in another PID namespace (a container) or the kernel (nfsd)
            unowned = not key and li.pid is None
            key = key or (f"pid {li.pid}" if li.pid is not None else f"unowned {li.proto}/{li.port}")
            owner = extra.get(key)
            if owner is None:
                software = "unknown" if unowned else key.rsplit("/", 1)[-1]
                owner = ServiceFacts(software=software, kind="other", name=key, found_by="merge")
                owner.attributes["unclassified"] = "true"
                if unowned:
                    owner.attributes["owner"] = "not visible: another PID namespace (a container) or the kernel"
                owner.command = li.cmdline
                owner.user = li.user
                owner.evidence.extend(li.evidence)
                extra[key] = owner
        owner.ports.append(port)
    return services + [extra[k] for k in sorted(extra)]


# -- packages ---------------------------------------------------------------------
def attach_packages(services: list[ServiceFacts], packages: list[Package]) -> None:
    index = {p.name: p for p in packages}
    for sf in services:
        installed = [index[n] for n in sf.packages if n in index]
        sf.packages = [p.name for p in installed]
        if sf.version is None and installed:
            sf.version = reseries(installed[0].version, sf.software)
            sf.evidence.extend(installed[0].evidence[:1])


# -- host secrets ---------------------------------------------------------------------
def attach_host_secrets(services: list[tuple[str, ServiceFacts]], secrets: list[Secret]) -> set[str]:
    """A private key a service names (nginx's ssl_certificate_key, sshd's HostKey) becomes
    that service's secret, as does a credentials store it keeps: the file its identity store
    names, or one inside its state directory (Samba's passdb.tdb and secrets.tdb); the
    paths claimed are returned."""
    by_path = {s.path: s for s in secrets}
    stores = [s for s in secrets if s.kind == "credentials-store"]
    claimed: set[str] = set()
    for _sid, sf in services:
        for ref in sf.config_files:
            sec = by_path.get(ref.path)
            if sec is not None:
                sf.secrets.append(sec)
                claimed.add(ref.path)
        named = {x.path for x in sf.identity_stores if x.path}
        # a state directory of its own (/var/lib/samba), not a system-wide one (/, /etc, /var/lib)
        dirs = tuple(r.path.rstrip("/") + "/" for r in sf.data_dirs if r.path.rstrip("/").count("/") >= 3)
        for sec in stores:
            if sec.path not in claimed and (sec.path in named or sec.path.startswith(dirs)):
                sf.secrets.append(sec)
                claimed.add(sec.path)
    return claimed


# -- ids ---------------------------------------------------------------------------------
def service_id(sf: ServiceFacts) -> str:
    if sf.attributes.get("unclassified"):
        name = sf.name or sf.software
        return ("process:" if name.startswith("/") else "unit:") + name
    return sf.software + (":" + sf.instance if sf.instance else "")


# -- dependencies -----------------------------------------------------------------------
def _local_names(found: Found) -> set[str]:
    names = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", ""}
    if found.host.hostname:
        names.add(found.host.hostname.lower())
        names.add(found.host.hostname.split(".")[0].lower())
    for hs in found.host_settings:
        if hs.category == "hosts-entry" and hs.value and _is_local_ip(hs.value):
            names.add(hs.name.lower())
    return names


def _is_local_ip(text: str) -> bool:
    try:
        ip = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return ip.is_loopback or ip.is_unspecified


def _hosts_map(found: Found) -> dict[str, str]:
    return {hs.name.lower(): hs.value or "" for hs in found.host_settings if hs.category == "hosts-entry"}


def _listens(port: Port, ep: Endpoint) -> bool:
    if ep.socket:
        return port.socket == ep.socket
    if ep.port is None or port.port != ep.port:
        return False
    if port.address is None or port.address in ("0.0.0.0", "::", "*") or _is_local_ip(port.address):
        return True
    return (ep.host or "").strip("[]") == port.address  # bound to one address: only that one answers


def resolve_dependencies(services: list[tuple[str, ServiceFacts]], found: Found) -> list[Dependency]:
    local = _local_names(found)
    hosts = _hosts_map(found)
    deps: list[Dependency] = []
    for sid, sf in services:
        for ep in sf.endpoints:
            if ep.port is None and ep.scheme and not ep.socket:
                # `redis://cache` without a port means the scheme's default
                default = DEFAULT_PORTS.get(scheme_base(ep.scheme.removeprefix("jdbc:")))
                ep = Endpoint(ep.via, ep.host, default, ep.scheme, ep.socket, ep.evidence)
            host = (ep.host or "").lower().strip("[]")
            is_local = ep.socket is not None or host in local or _is_local_ip(host)
            addr = hosts.get(host)
            if not is_local and addr is not None and _is_local_ip(addr):
                is_local = True
            target = None
            if is_local:
                for tid, other in services:
                    if tid != sid and any(_listens(p, ep) for p in other.ports):
                        target = tid
                        break
            deps.append(
                Dependency(
                    source=sid,
                    target=target,
                    host=ep.host,
                    port=ep.port,
                    socket=ep.socket,
                    scheme=ep.scheme,
                    via=ep.via,
                    external=not is_local,
                    evidence=ep.evidence,
                )
            )
    return sorted(_uniq(deps), key=lambda d: (d.source, d.target or "", d.host or "", d.port or 0, d.via or ""))


_MOUNT_PORTS = {"nfs": 2049, "nfs4": 2049, "cifs": 445, "smbfs": 445, "glusterfs": 24007, "fuse.sshfs": 22}


def mount_dependencies(found: Found) -> list[Dependency]:
    """A network mount is the host depending on a file server: `mount:/mnt/archive`."""
    out = []
    for m in found.mounts:
        if m.kind != "network":
            continue
        src = m.source
        host = src[2:].split("/", 1)[0] if src.startswith("//") else src.split(":", 1)[0] if ":" in src else None
        out.append(
            Dependency(
                source=f"mount:{m.target}",
                target=None,
                host=host,
                port=_MOUNT_PORTS.get(m.fstype),
                scheme=m.fstype,
                via="fstab" if any(e.path == "/etc/fstab" for e in m.evidence) else "mount",
                external=True,
                evidence=m.evidence,
            )
        )
    return sorted(_uniq(out), key=lambda d: (d.source, d.host or ""))


def group_apps(services: list[Service], deps: list[Dependency]) -> list[App]:
    parent = {s.id: s.id for s in services if not s.plumbing}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for d in deps:
        if d.target and d.source in parent and d.target in parent:
            a, b = find(d.source), find(d.target)
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[str, list[Service]] = defaultdict(list)
    for s in services:
        if s.id in parent:
            groups[find(s.id)].append(s)
    apps = []
    for members in groups.values():
        lead = min(members, key=lambda s: (KIND_ORDER.index(s.kind) if s.kind in KIND_ORDER else 99, s.id))
        apps.append(App("app:" + lead.id, tuple(sorted(s.id for s in members))))
    return sorted(apps, key=lambda a: a.id)


def shared_paths(services: list[Service]) -> list[SharedPath]:
    claims: list[tuple[str, str, FileRef]] = []
    for s in services:
        for ref in (*s.data_dirs, *s.content_paths):
            claims.append((ref.path.rstrip("/") or "/", s.id, ref))
    out: dict[str, tuple[set[str], list[Evidence]]] = {}
    for i, (pa, sa, ra) in enumerate(claims):
        for pb, sb, rb in claims[i + 1 :]:
            if sa == sb or pa == "/" or pb == "/":
                continue
            if pa == pb or pa.startswith(pb + "/") or pb.startswith(pa + "/"):
                path = max(pa, pb, key=len)
                ids, ev = out.setdefault(path, (set(), []))
                ids.update((sa, sb))
                ev.extend(ra.evidence[:1] + rb.evidence[:1])
    return [SharedPath(p, tuple(sorted(ids)), tuple(_uniq(ev))) for p, (ids, ev) in sorted(out.items())]


# -- file metadata -----------------------------------------------------------------------
class Accounts:
    def __init__(self, found: Found) -> None:
        self.users = {u.uid: u.name for u in found.users}
        self.groups = {g.gid: g.name for g in found.groups}


def _ref(ref: FileRef, snap: Snapshot, acc: Accounts, found: Found, changed: dict[str, str], *, size: bool) -> FileRef:
    info = snap.stat(ref.path)
    if info is None:
        kind = "missing"
        return FileRef(ref.path, ref.role, kind, package=found.owners.get(ref.path), evidence=ref.evidence)
    nbytes = info.size if info.kind == "file" else (snap.du(ref.path) if size and info.kind == "dir" else None)
    status = changed.get(ref.path)
    owner_pkg = found.owners.get(ref.path)
    modified = None
    if status is not None:
        modified = status == "modified" if status != "unowned" else None
    elif owner_pkg is not None and ref.role == "config":
        modified = False
    return FileRef(
        path=ref.path,
        role=ref.role,
        kind=info.kind,
        owner=acc.users.get(info.uid, str(info.uid)),
        group=acc.groups.get(info.gid, str(info.gid)),
        mode=f"{info.mode:04o}",
        size_bytes=nbytes,
        package=owner_pkg,
        modified=modified,
        evidence=ref.evidence,
    )


def _refs(
    refs: list[FileRef], snap: Snapshot, acc: Accounts, found: Found, changed: dict[str, str], *, size: bool = False
) -> tuple[FileRef, ...]:
    by_path: dict[tuple[str, str], FileRef] = {}
    for r in refs:
        key = (r.path, r.role)
        if key in by_path:
            old = by_path[key]
            by_path[key] = FileRef(r.path, r.role, evidence=tuple(_uniq(old.evidence + r.evidence)))
        else:
            by_path[key] = r
    return tuple(_ref(by_path[k], snap, acc, found, changed, size=size) for k in sorted(by_path))


def _ports(ports: list[Port]) -> tuple[Port, ...]:
    merged: dict[tuple[object, ...], Port] = {}
    for p in ports:
        key = (p.proto, p.port or 0, p.address or "", p.socket or "")
        if key in merged:
            old = merged[key]
            # a configured or observed fact outranks a documented default
            rank = {"observed": 0, "configured": 1, "default": 2}
            best = p if rank.get(p.source, 3) < rank.get(old.source, 3) else old
            merged[key] = Port(
                p.port, p.proto, p.address, p.socket, best.source, tuple(_uniq(old.evidence + p.evidence))
            )
        else:
            merged[key] = p
    return tuple(merged[k] for k in sorted(merged, key=lambda k: (str(k[0]), k[1], str(k[2]), str(k[3]))))


def finish_service(
    sid: str, sf: ServiceFacts, snap: Snapshot, acc: Accounts, found: Found, changed: dict[str, str]
) -> Service:
    # what the detector knows (a cluster's start.conf, a pm2 dump) outranks the units
    enabled = sf.enabled
    if enabled is None and sf.started_by:
        states = [m.enabled for m in sf.started_by]
        enabled = True if any(states) else (False if all(s is False for s in states) else None)
    return Service(
        id=sid,
        name=sf.name or sf.software,
        kind=sf.kind,
        software=sf.software,
        version=sf.version,
        instance=sf.instance,
        plumbing=sf.plumbing,
        classified=not sf.attributes.get("unclassified"),
        enabled=enabled,
        started_by=tuple(sorted(_uniq(sf.started_by), key=lambda m: (m.system, m.name))),
        user=sf.user,
        group=sf.group,
        command=tuple(sf.command),
        working_dir=sf.working_dir,
        program=sf.program,
        ports=_ports(sf.ports),
        config_files=_refs(sf.config_files, snap, acc, found, changed),
        data_dirs=_refs(sf.data_dirs, snap, acc, found, changed, size=True),
        log_paths=_refs(sf.log_paths, snap, acc, found, changed, size=True),
        content_paths=_refs(sf.content_paths, snap, acc, found, changed, size=True),
        env=tuple(sorted(_uniq(sf.env), key=lambda e: e.name)),
        env_files=tuple(sorted(set(sf.env_files))),
        secrets=tuple(sorted(_uniq(sf.secrets), key=lambda s: (s.path, s.line or 0, s.key))),
        packages=tuple(sorted(set(sf.packages))),
        runtime=sf.runtime,
        framework=sf.framework,
        attributes=tuple(sorted((k, v) for k, v in sf.attributes.items() if k != "unclassified")),
        libraries=tuple(sorted(_uniq(sf.libraries), key=lambda x: (x.ecosystem, x.name.lower(), x.version))),
        vendored_binaries=sf.vendored_binaries,
        identity_stores=tuple(_uniq(sf.identity_stores)),
        found_by=tuple(sorted(set(x for x in sf.found_by.split(",") if x))),
        evidence=tuple(_uniq(sf.evidence)),
        hosted_by=sf.hosted_by,
    )


# -- the inventory ----------------------------------------------------------------------
def _coverage(snap: Snapshot, ran: list[str], failed: list[str], unclassified: list[str]) -> Coverage:
    skipped = [SkippedPath(p, s.value) for p, s in snap.coverage.reads.items()]
    skipped += [SkippedPath(p, why) for p, why in snap.coverage.notes.items()]
    return Coverage(
        complete=snap.complete,
        detectors_run=tuple(ran),
        detectors_failed=tuple(failed),
        skipped=tuple(sorted(_uniq(skipped), key=lambda s: (s.path, s.reason))),
        unclassified=tuple(sorted(unclassified)),
    )


def build_inventory(found: Found, snap: Snapshot, ran: list[str], failed: list[str]) -> Inventory:
    daemons = [f for f in found.services if isinstance(f, DaemonFacts)]
    facts = group_facts([f for f in found.services if not isinstance(f, DaemonFacts)])
    facts = attach_units(facts, found.units, daemons)
    facts = attach_listeners(facts, found.listeners)
    attach_packages(facts, found.packages)
    ids: dict[str, int] = {}
    named: list[tuple[str, ServiceFacts]] = []
    for sf in facts:
        sid = service_id(sf)
        if sid in ids:
            ids[sid] += 1
            sid = f"{sid}#{ids[sid]}"
        else:
            ids[sid] = 1
        named.append((sid, sf))
    deps = resolve_dependencies(named, found) + mount_dependencies(found)
    claimed = attach_host_secrets(named, found.secrets)
    acc = Accounts(found)
    changed = {c.path: c.status for c in found.config_changes}
    services = [finish_service(sid, sf, snap, acc, found, changed) for sid, sf in named]
    apps = group_apps(services, deps)
    app_of = {sid: a.id for a in apps for sid in a.services}
    services = sorted((Service(**{**s.__dict__, "app": app_of.get(s.id)}) for s in services), key=lambda s: s.id)
    host = Host(
        hostname=found.host.hostname,
        arch=found.host.arch,
        os=found.host.os or OSInfo(),
        evidence=tuple(found.host.hostname_evidence + found.host.arch_evidence),
    )
    findings = list(found.findings)
    for err in snap.errors:
        findings.append(Finding("error", "source-incomplete", err, None, None))
    return Inventory(
        schema_version=SCHEMA_VERSION,
        tool_version=__version__,
        source={**{k: str(v) for k, v in snap.describe().items()}, "passes": str(snap.passes)},
        host=host,
        packages=tuple(sorted(found.packages, key=lambda p: (p.manager, p.name, p.arch or ""))),
        users=tuple(sorted(found.users, key=lambda u: (u.uid, u.name))),
        groups=tuple(sorted(found.groups, key=lambda g: (g.gid, g.name))),
        sudoers=tuple(sorted(found.sudoers, key=lambda r: (r.subject, r.rule))),
        services=tuple(services),
        units=tuple(sorted(found.units, key=lambda u: (u.system, u.name, u.path))),
        cron_jobs=tuple(sorted(found.cron_jobs, key=lambda c: (c.path, c.line or 0, c.command))),
        mounts=tuple(sorted(found.mounts, key=lambda m: (m.target, m.source))),
        host_settings=tuple(sorted(found.host_settings, key=lambda h: (h.category, h.name, h.value or ""))),
        package_sources=tuple(sorted(_uniq(found.package_sources), key=lambda p: (p.manager, p.uri, p.suite or ""))),
        network_interfaces=tuple(
            sorted(_uniq(found.network_interfaces), key=lambda n: (n.name, n.source, cite(n.evidence)))
        ),
        host_secrets=tuple(
            sorted(_uniq(s for s in found.secrets if s.path not in claimed), key=lambda s: (s.path, s.key))
        ),
        config_changes=tuple(sorted(_uniq(found.config_changes), key=lambda c: c.path)),
        dependencies=tuple(deps),
        shared_paths=tuple(shared_paths(services)),
        apps=tuple(apps),
        findings=tuple(sorted(_uniq(findings), key=lambda f: (f.level, f.code, f.path or "", f.message))),
        coverage=_coverage(snap, ran, failed, [s.id for s in services if not s.classified]),
    )
