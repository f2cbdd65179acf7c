"""`modernize diff OLD NEW`: what changed between two inventories of one host (or two
plans), as data (`--json`) and as text a person reads on a terminal.

Things are matched by what stays the same across scans: services by their stable id,
packages by manager and name, users by name, cron jobs and dependencies by their whole
content (a changed one reads as one removed and one added)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import fields
from typing import Any

import yaml

from modernize.model import Inventory, Service
from modernize.plan.io import _prune
from modernize.plan.model import Plan


def _sets(old: Iterable[str], new: Iterable[str]) -> dict[str, list[str]]:
    a, b = set(old), set(new)
    return {"added": sorted(b - a), "removed": sorted(a - b)}


def _keyed(old: Iterable[Any], new: Iterable[Any], key: Callable[[Any], str]) -> tuple[dict[str, Any], dict[str, Any]]:
    return {key(x): x for x in old}, {key(x): x for x in new}


def _port(p: Any) -> str:
    return f"{p.port or p.socket}/{p.proto}" + (f"@{p.address}" if p.address else "")


def _service_changes(a: Service, b: Service) -> dict[str, Any]:
    out: dict[str, Any] = {}
    va, vb = a.version.raw if a.version else None, b.version.raw if b.version else None
    if va != vb:
        out["version"] = {"old": va, "new": vb}
    for name in ("user", "enabled", "kind", "runtime", "framework", "working_dir"):
        if getattr(a, name) != getattr(b, name):
            out[name] = {"old": getattr(a, name), "new": getattr(b, name)}
    if a.command != b.command:
        out["command"] = {"old": " ".join(a.command), "new": " ".join(b.command)}
    lists: dict[str, Callable[[Service], Iterable[str]]] = {
        "ports": lambda s: map(_port, s.ports),
        "config_files": lambda s: (r.path for r in s.config_files),
        "data_dirs": lambda s: (r.path for r in s.data_dirs),
        "libraries": lambda s: (f"{x.name}=={x.version}" for x in s.libraries),
    }
    for name, get in lists.items():
        change = _sets(get(a), get(b))
        if change["added"] or change["removed"]:
            out[name] = change
    return out


def diff_inventories(old: Inventory, new: Inventory) -> dict[str, Any]:
    sa, sb = _keyed(old.services, new.services, lambda s: s.id)
    services = {
        "added": [{"id": k, "name": sb[k].name, "software": sb[k].software} for k in sorted(set(sb) - set(sa))],
        "removed": [{"id": k, "name": sa[k].name, "software": sa[k].software} for k in sorted(set(sa) - set(sb))],
        "changed": {k: c for k in sorted(set(sa) & set(sb)) if (c := _service_changes(sa[k], sb[k]))},
    }
    pa, pb = _keyed(old.packages, new.packages, lambda p: f"{p.manager}:{p.name}")
    packages = {
        "added": [f"{k.split(':', 1)[1]} {pb[k].version.raw}" for k in sorted(set(pb) - set(pa))],
        "removed": [f"{k.split(':', 1)[1]} {pa[k].version.raw}" for k in sorted(set(pa) - set(pb))],
        "changed": {
            k.split(":", 1)[1]: {"old": pa[k].version.raw, "new": pb[k].version.raw}
            for k in sorted(set(pa) & set(pb))
            if pa[k].version.raw != pb[k].version.raw
        },
    }
    host = {
        name: {"old": x, "new": y}
        for name, x, y in (
            ("hostname", old.host.hostname, new.host.hostname),
            ("os", old.host.os.pretty_name, new.host.os.pretty_name),
        )
        if x != y
    }
    return {
        "kind": "inventory",
        "host": host,
        "services": services,
        "packages": packages,
        "users": _sets((u.name for u in old.users), (u.name for u in new.users)),
        "cron_jobs": _sets(
            (f"{j.schedule} {j.user} {j.command} ({j.path})" for j in old.cron_jobs),
            (f"{j.schedule} {j.user} {j.command} ({j.path})" for j in new.cron_jobs),
        ),
        "config_changes": _sets(map(_change, old.config_changes), map(_change, new.config_changes)),
        "dependencies": _sets(map(_dependency, old.dependencies), map(_dependency, new.dependencies)),
    }


def _change(c: Any) -> str:
    return f"{c.path} ({c.status})"


def _dependency(d: Any) -> str:
    where = d.target or d.socket or f"{d.host}:{d.port}"
    return f"{d.source} -> {where}" + (f" ({d.via})" if d.via else "")


def diff_plans(old: Plan, new: Plan) -> dict[str, Any]:
    sa, sb = _keyed(old.services, new.services, lambda s: s.id)
    changed: dict[str, Any] = {}
    for k in sorted(set(sa) & set(sb)):
        fields_changed = {}
        for f in fields(sa[k]):
            if f.name == "why":
                continue
            x, y = _prune(getattr(sa[k], f.name)), _prune(getattr(sb[k], f.name))
            if x != y:
                fields_changed[f.name] = {"old": x, "new": y}
        if fields_changed:
            changed[sb[k].name] = fields_changed
    return {
        "kind": "plan",
        "services": {
            "added": [sb[k].name for k in sorted(set(sb) - set(sa))],
            "removed": [sa[k].name for k in sorted(set(sa) - set(sb))],
            "changed": changed,
        },
    }


def is_empty(diff: dict[str, Any]) -> bool:
    def empty(x: Any) -> bool:
        if isinstance(x, dict):
            return all(empty(v) for k, v in x.items() if k != "kind")
        if isinstance(x, list):
            return not x
        return False

    return empty(diff)


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else yaml.safe_dump(value, default_flow_style=True, width=1000).strip()
    return text if len(text) <= 80 else text[:77] + "..."


def as_text(diff: dict[str, Any]) -> str:
    """+ added, - removed, ~ changed, grouped by what they are."""
    if is_empty(diff):
        return f"no differences between the two {'inventories' if diff['kind'] == 'inventory' else 'plans'}\n"
    lines: list[str] = []
    for name, change in diff.get("host", {}).items():
        lines.append(f"~ host {name}: {change['old']} -> {change['new']}")
    svc = diff["services"]
    for s in svc["added"]:
        lines.append(f"+ service {s['name']} ({s['software']}, {s['id']})" if isinstance(s, dict) else f"+ service {s}")
    for s in svc["removed"]:
        lines.append(f"- service {s['name']} ({s['software']}, {s['id']})" if isinstance(s, dict) else f"- service {s}")
    for sid, changes in svc["changed"].items():
        lines.append(f"~ service {sid}")
        for name, c in changes.items():
            if "old" in c:
                lines.append(f"    {name}: {_short(c['old'])} -> {_short(c['new'])}")
            else:
                lines += [f"    {name}: +{x}" for x in c["added"]] + [f"    {name}: -{x}" for x in c["removed"]]
    pk = diff.get("packages")
    if pk:
        lines += [f"+ package {p}" for p in pk["added"]] + [f"- package {p}" for p in pk["removed"]]
        lines += [f"~ package {n}: {c['old']} -> {c['new']}" for n, c in pk["changed"].items()]
    labels = {"users": "user", "cron_jobs": "cron job", "config_changes": "config change", "dependencies": "dependency"}
    for section, label in labels.items():
        if section in diff:
            lines += [f"+ {label} {x}" for x in diff[section]["added"]]
            lines += [f"- {label} {x}" for x in diff[section]["removed"]]
    return "\n".join(lines) + "\n"
