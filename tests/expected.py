"""Compare an inventory with a fixture's hand-written expected.yaml (as a subset).

Returns a list of human-readable mismatches; empty means the scan found every
fact the fixture's author wrote down. Keys this checker does not know are
ignored, so fixture authors may note more than the tool reports yet.
"""

from __future__ import annotations

from typing import Any

from modernize.model import Inventory, Service

# Names fixture authors used for the same software.
ALIASES = {"openssh": "sshd", "openssh-server": "sshd", "named": "bind9", "mariadb-server": "mariadb"}


def canon(name: str) -> str:
    return ALIASES.get(name, name)


def _port_set(svc: Service) -> set[tuple[Any, ...]]:
    out: set[tuple[Any, ...]] = set()
    for p in svc.ports:
        if p.socket:
            out.add(("socket", p.socket))
        else:
            addr = p.address or "0.0.0.0"
            out.add((addr, p.port, p.proto))
    return out


def _want_ports(spec: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    out: set[tuple[Any, ...]] = set()
    for p in spec:
        if "socket" in p:
            out.add(("socket", p["socket"]))
        else:
            out.add((str(p.get("address", "0.0.0.0")), int(p["port"]), p.get("proto", "tcp")))
    return out


def _score(svc: Service, spec: dict[str, Any]) -> int:
    score = len(_port_set(svc) & _want_ports(spec.get("ports", [])))
    if spec.get("instance") and svc.instance == spec["instance"]:
        score += 10
    cfg = {r.path for r in svc.config_files}
    score += len(cfg & set(spec.get("config_files", [])))
    return score


def check_services(inv: Inventory, specs: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    used: set[str] = set()
    for spec in specs:
        soft = canon(spec["software"])
        cands = [s for s in inv.services if s.software == soft and s.id not in used]
        if not cands:
            problems.append(f"service {soft}: not found (have {sorted(s.id for s in inv.services)})")
            continue
        svc = max(cands, key=lambda s: _score(s, spec))
        used.add(svc.id)
        where = f"service {svc.id}"
        if "kind" in spec and svc.kind != spec["kind"]:
            problems.append(f"{where}: kind {svc.kind!r}, expected {spec['kind']!r}")
        if "version" in spec and (svc.version is None or svc.version.upstream != str(spec["version"])):
            problems.append(
                f"{where}: version {svc.version.upstream if svc.version else None!r}, expected {spec['version']!r}"
            )
        if "enabled" in spec and svc.enabled is not spec["enabled"]:
            problems.append(f"{where}: enabled {svc.enabled!r}, expected {spec['enabled']!r}")
        if "user" in spec and svc.user != spec["user"]:
            problems.append(f"{where}: user {svc.user!r}, expected {spec['user']!r}")
        if "ports" in spec:
            want, have = _want_ports(spec["ports"]), _port_set(svc)
            if not any(w[0] == "socket" for w in want):
                have = {h for h in have if h[0] != "socket"}  # the author listed no sockets
            if want != have:
                problems.append(f"{where}: ports {sorted(map(str, have))}, expected {sorted(map(str, want))}")
        # a document root written down as a data dir is content the image must carry or mount
        for key, attrs in (
            ("config_files", ("config_files",)),
            ("data_dirs", ("data_dirs", "content_paths")),
            ("log_paths", ("log_paths",)),
        ):
            if key in spec:
                have_paths = {r.path for attr in attrs for r in getattr(svc, attr)}
                missing = sorted(set(spec[key]) - have_paths)
                if missing:
                    problems.append(f"{where}: {key} lacks {missing}")
        if "secrets" in spec:
            have_s = {(s.key, s.path) for s in svc.secrets}
            missing_s = sorted((s["key"], s["path"]) for s in spec["secrets"] if (s["key"], s["path"]) not in have_s)
            if missing_s:
                problems.append(f"{where}: secrets lack {missing_s}")
    return problems


def check(inv: Inventory, exp: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for key, value in (exp.get("os") or {}).items():
        have = {"hostname": inv.host.hostname, "arch": inv.host.arch}.get(key, getattr(inv.host.os, key, None))
        if isinstance(have, tuple):
            have = " ".join(have)
        if str(have) != str(value):
            problems.append(f"os.{key}: {have!r}, expected {value!r}")
    pk = exp.get("packages") or {}
    if "count" in pk:
        n = sum(1 for p in inv.packages if p.manager == pk.get("manager", "dpkg"))
        if n != pk["count"]:
            problems.append(f"packages: {n} {pk.get('manager')} packages, expected {pk['count']}")
    for name, raw in (pk.get("include") or {}).items():
        have_v = [p.version.raw for p in inv.packages if p.name == name]
        if str(raw) not in have_v:
            problems.append(f"package {name}: {have_v}, expected {raw}")
    users = exp.get("users") or {}
    if "human" in users:
        have_h = sorted(u.name for u in inv.users if u.human)
        if have_h != sorted(users["human"] or []):
            problems.append(f"human users {have_h}, expected {sorted(users['human'] or [])}")
    for name in users.get("system_include") or []:
        if not any(u.name == name and not u.human for u in inv.users):
            problems.append(f"system user {name} missing")
    problems += check_services(inv, exp.get("services") or [])
    soft: dict[str, str] = {s.id: s.software for s in inv.services}
    soft.update({d.source: d.source for d in inv.dependencies if d.source.startswith("mount:")})
    for dep in exp.get("dependencies") or []:
        if dep.get("resolved") is False:
            # a local endpoint nothing on this host listens on: `to` is host:port
            host, _, port = str(dep["to"]).rpartition(":")
            ok = any(
                soft.get(d.source) == canon(dep["from"]) and d.target is None and d.host == host and str(d.port) == port
                for d in inv.dependencies
            )
            if not ok:
                problems.append(f"unresolved dependency {dep} not found")
            continue
        ok = any(
            soft.get(d.source) == canon(dep["from"])
            and d.target is not None
            and soft.get(d.target) == canon(dep["to"])
            and ("via" not in dep or d.via == dep["via"])
            for d in inv.dependencies
        )
        if not ok:
            problems.append(f"dependency {dep} not found")
    for ext in exp.get("external") or []:
        ok = any(
            soft.get(d.source) == canon(ext["from"])
            and d.external
            and d.host == ext.get("host", d.host)
            and (ext.get("port") is None or d.port == ext["port"])
            for d in inv.dependencies
        )
        if not ok:
            problems.append(f"external dependency {ext} not found")
    for job in exp.get("cron") or []:
        ok = any(
            (j.schedule == job.get("schedule") or job.get("schedule") in j.schedule)
            and j.user == job.get("user", j.user)
            and job.get("command_contains", "") in j.command
            for j in inv.cron_jobs
        )
        if not ok:
            problems.append(f"cron job {job} not found")
    for m in exp.get("mounts") or []:
        ok = any(
            x.target == m["target"] and x.source == m.get("source", x.source) and x.fstype == m.get("type", x.fstype)
            for x in inv.mounts
        )
        if not ok:
            problems.append(f"mount {m} not found")
    return problems
