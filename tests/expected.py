"""Compare an inventory with a fixture's hand-written expected.yaml (as a subset).

`check` returns a list of human-readable mismatches; empty means the scan found
every fact the fixture's author wrote down. Every key of the file must be one this
checker checks (SCHEMA below): an unknown key raises UnknownKeys, naming the file,
the key's path and the keys known there, so no hand-written expectation goes
unread. A fact the inventory cannot hold yet belongs in a YAML comment saying
"not checked yet: <why>"; one it could hold but the scan does not find yet goes
under `known_gaps` (tests/test_fixtures.py checks each still fails).
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from modernize.model import Inventory, Package, Secret, Service

# Names fixture authors used for the same software.
ALIASES = {"openssh": "sshd", "openssh-server": "sshd", "named": "bind9", "mariadb-server": "mariadb"}


# Names fixture authors used for init systems (StartMethod.system spells them so).
INIT_ALIASES = {"supervisor": "supervisord", "sysvinit": "sysv", "sysvinit-utils": "sysv"}

# -- the keys this checker reads ----------------------------------------------------
# A schema node is None (a value compared as a whole), ANY_KEY (a mapping whose keys
# are data, e.g. package names), a dict of the known keys, or a one-item list (a
# list whose items follow that node).
ANY_KEY = "<any name>"

_PORT = {"port": None, "proto": None, "address": None, "socket": None}
_SECRET = {"key": None, "path": None, "kind": None}
_STORE = {"store": None, "path": None, "users": None, "host_accounts": None}
SERVICE: dict[str, Any] = {
    "software": None,
    "instance": None,
    "kind": None,
    "version": None,
    "enabled": None,
    "user": None,
    "init": None,  # the init system that starts it (StartMethod.system); same check as managed_by
    "managed_by": None,
    "units": None,  # names of the units/programs that start it (StartMethod.name)
    "command": None,  # leading words of Service.command
    "classified": None,  # false: a service no detector recognised (Service.classified)
    "working_dir": None,
    "program": {"path": None, "interpreter": None, "script": None, "kind": None},  # Service.program
    "ports": [_PORT],
    "config_files": None,
    "data_dirs": None,
    "log_paths": None,
    "secrets": [_SECRET],
    "identity_stores": [_STORE],  # Service.identity_stores: users compared as the list, in order
    "zones": None,  # attributes["zones"]
    "shares": None,  # attributes["shares"]
    "exports": [{"path": None, "clients": None, "options": None}],  # attributes["exports"]
    "vhosts": [{"server_name": None, "port": None, "tls": None, "proxy_pass": None}],  # attributes["vhosts"]
}
# top-level sections that are lists of facts (the ones `known_gaps` may hold)
LISTS: dict[str, Any] = {
    "services": [SERVICE],
    "dependencies": [{"from": None, "to": None, "via": None, "resolved": None}],
    "external": [{"from": None, "host": None, "port": None}],
    "cron": [{"schedule": None, "user": None, "command_contains": None, "file": None}],
    "mounts": [{"type": None, "source": None, "target": None, "options": None}],
    "secrets": [_SECRET],  # anywhere in the inventory: services, units, mounts, host
    "app_packages": [{"service": None, "ecosystem": None, "name": None, "version": None, "source": None}],
    "network_interfaces": [
        {"name": None, "kind": None, "members": None, "parent": None, "vlan_id": None, "mode": None, "file": None}
    ],
}
SCHEMA: dict[str, Any] = {
    "os": dict.fromkeys(
        ("hostname", "arch", "id", "name", "version_id", "pretty_name", "codename", "id_like", "family")
    ),
    "packages": {
        "manager": None,
        "count": None,
        "include": ANY_KEY,
        "details": [{"name": None, "epoch": None, "version": None, "release": None, "arch": None}],
    },
    "users": {"human": None, "system_include": None},
    **LISTS,
    "host": {
        "kernel_modules": None,
        "sysctl": ANY_KEY,
        "firewall": {"type": None, "file": None},
        "selinux": {"state": None},  # or the word `absent`
        "devices": None,  # names of `device` host settings (device nodes, udev rule files)
        "licence_dongles": None,  # names of `licence-dongle` host settings
        "hugepages": ANY_KEY,  # `hugepages` host settings: name -> value
    },
    "secret_values": None,  # read by test_no_secret_value_in_any_output
    "known_gaps": dict(LISTS),  # read by test_expected_facts
}


class UnknownKeys(ValueError):
    """An expected.yaml holds keys no check reads."""


def unknown_keys(data: Any, node: Any = None, path: str = "") -> list[str]:
    """Every key of `data` that `node` (default: SCHEMA) does not know, as a message."""
    node = SCHEMA if node is None and not path else node
    out: list[str] = []
    if isinstance(node, dict) and isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            if key not in node:
                out.append(f"unknown key {where!r} (known at {path or 'top level'}: {', '.join(sorted(node))})")
            else:
                out += unknown_keys(value, node[key], where)
    elif isinstance(node, list) and isinstance(data, list):
        for i, item in enumerate(data):
            out += unknown_keys(item, node[0], f"{path}[{i}]")
    return out


def validate(exp: dict[str, Any], source: str = "expected facts") -> None:
    """Refuse a spec with a key this checker would not read."""
    bad = unknown_keys(exp)
    if bad:
        raise UnknownKeys(f"{source}: " + "; ".join(bad))


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
        if "instance" in spec and svc.instance != spec["instance"]:
            problems.append(f"{where}: instance {svc.instance!r}, expected {spec['instance']!r}")
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
        for key in ("classified", "working_dir"):
            if key in spec and getattr(svc, key) != spec[key]:
                problems.append(f"{where}: {key} {getattr(svc, key)!r}, expected {spec[key]!r}")
        for key, want_value in (spec.get("program") or {}).items():
            have_value = getattr(svc.program, key) if svc.program else None
            if have_value != want_value:
                problems.append(f"{where}: program.{key} {have_value!r}, expected {want_value!r}")
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
            missing_s = sorted(
                (s["key"], s["path"]) for s in spec["secrets"] if not any(_secret_is(x, s) for x in svc.secrets)
            )
            if missing_s:
                problems.append(f"{where}: secrets lack {missing_s}")
        for st in spec.get("identity_stores") or []:
            ok = any(
                all(getattr(x, k) == st[k] for k in ("store", "path", "host_accounts") if k in st)
                and ("users" not in st or list(x.users) == list(st["users"]))
                for x in svc.identity_stores
            )
            if not ok:
                have_st = [(x.store, x.path, list(x.users)) for x in svc.identity_stores]
                problems.append(f"{where}: identity stores {have_st}, lack {st}")
        problems += _check_started(svc, spec, where)
        problems += _check_attributes(svc, spec, where)
    return problems


def _check_started(svc: Service, spec: dict[str, Any], where: str) -> list[str]:
    problems: list[str] = []
    systems = {m.system for m in svc.started_by}
    for key in ("init", "managed_by"):
        if key in spec and INIT_ALIASES.get(spec[key], spec[key]) not in systems:
            problems.append(f"{where}: started by {sorted(systems)}, expected {key} {spec[key]!r}")
    if "units" in spec:
        names = {m.name for m in svc.started_by}
        missing = sorted(set(spec["units"]) - names)
        if missing:
            problems.append(f"{where}: started by units {sorted(names)}, lacks {missing}")
    if "command" in spec:
        want = shlex.split(str(spec["command"]))
        if list(svc.command[: len(want)]) != want:
            problems.append(f"{where}: command {list(svc.command)}, expected it to start with {want}")
    return problems


def _vhost_entries(text: str) -> list[tuple[str, list[tuple[str, str]], bool, list[str]]]:
    """The apache detector's `vhosts` attribute: `NAME ADDR... [tls] [-> TARGET, ...]`
    joined by "; ", NAME being `(default)` without a ServerName."""
    out = []
    for entry in filter(None, text.split("; ")):
        head, _, targets = entry.partition(" -> ")
        words = head.split()
        tls = words[-1] == "tls"
        addrs = [w.rpartition(":")[::2] for w in words[1 : -1 if tls else None]]
        out.append((words[0], addrs, tls, [t for t in targets.split(", ") if t]))
    return out


def _check_attributes(svc: Service, spec: dict[str, Any], where: str) -> list[str]:
    """Facts a detector keeps in Service.attributes (no typed field for them yet)."""
    problems: list[str] = []
    attrs = dict(svc.attributes)
    for key in ("zones", "shares"):
        if key in spec:
            missing = sorted(set(spec[key]) - set(attrs.get(key, "").split()))
            if missing:
                problems.append(f"{where}: {key} {attrs.get(key)!r}, lacks {missing}")
    for exp in spec.get("exports") or []:
        listing = [e.split() for e in attrs.get("exports", "").split("; ") if e]
        client = f"{exp.get('clients', '')}({exp.get('options', '')})"
        ok = any(
            words[0] == exp["path"]
            and ("clients" not in exp or any(c.partition("(")[0] == exp["clients"] for c in words[1:]))
            and ("options" not in exp or client in words[1:])
            for words in listing
        )
        if not ok:
            problems.append(f"{where}: exports {attrs.get('exports')!r}, lacks {exp}")
    for vh in spec.get("vhosts") or []:
        ok = any(
            ("server_name" not in vh or vh["server_name"] == name or any(vh["server_name"] == h for h, _ in addrs))
            and ("port" not in vh or any(p == str(vh["port"]) for _, p in addrs))
            and ("tls" not in vh or tls is bool(vh["tls"]))
            and ("proxy_pass" not in vh or vh["proxy_pass"] in targets)
            for name, addrs, tls, targets in _vhost_entries(attrs.get("vhosts", ""))
        )
        if not ok:
            problems.append(f"{where}: vhosts {attrs.get('vhosts')!r}, lacks {vh}")
    return problems


def _split_raw(raw: str) -> tuple[int | None, str, str | None]:
    """`[EPOCH:]VERSION[-RELEASE]` as a package manager writes it."""
    epoch, _, rest = raw.rpartition(":") if ":" in raw else (None, "", raw)
    version, _, release = rest.rpartition("-") if "-" in rest else (rest, "", None)
    return (int(epoch) if epoch else None), version, release


def _check_details(pkgs: list[Package], details: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    for d in details:
        have = [p for p in pkgs if p.name == d["name"]]
        ok = False
        for p in have:
            epoch, version, release = _split_raw(p.version.raw)
            got = {"epoch": epoch, "version": version, "release": release, "arch": p.arch}
            if all(str(got[k]) == str(v) for k, v in d.items() if k != "name"):
                ok = True
        if not ok:
            problems.append(f"package {d['name']}: {[(p.version.raw, p.arch) for p in have]}, expected {d}")
    return problems


def _secret_is(x: Secret, spec: dict[str, Any]) -> bool:
    return x.key == spec["key"] and x.path == spec["path"] and x.kind == spec.get("kind", x.kind)


def _all_secrets(inv: Inventory) -> list[Secret]:
    out = [x for s in inv.services for x in s.secrets]
    out += [x for u in inv.units for x in u.secrets]
    out += [x for m in inv.mounts for x in m.secrets]
    return out + list(inv.host_secrets)


def _norm_library(ecosystem: str, name: str) -> str:
    # PyPI names compare case-insensitively with runs of -_. as one (PEP 503)
    return re.sub(r"[-_.]+", "-", name).lower() if ecosystem == "pypi" else name


def _check_host(inv: Inventory, host: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    settings = inv.host_settings

    def has(category: str, name: str, value: object = None) -> bool:
        return any(
            h.category == category and h.name == name and (value is None or h.value == str(value)) for h in settings
        )

    for mod in host.get("kernel_modules") or []:
        if not has("kernel-module", mod):
            problems.append(f"host: kernel module {mod} missing")
    for name, value in (host.get("sysctl") or {}).items():
        if not has("sysctl", name, value):
            problems.append(f"host: sysctl {name}={value} missing")
    if "firewall" in host:
        fw = host["firewall"]
        ok = any(
            h.category == "firewall"
            and h.name == fw.get("type", h.name)
            and ("file" not in fw or any(e.path == fw["file"] for e in h.evidence))
            for h in settings
        )
        if not ok:
            problems.append(f"host: firewall {fw} not found")
    for category, key in (("device", "devices"), ("licence-dongle", "licence_dongles")):
        for name in host.get(key) or []:
            if not has(category, name):
                problems.append(f"host: {category} {name} missing")
    for name, value in (host.get("hugepages") or {}).items():
        if not has("hugepages", name, value):
            problems.append(f"host: hugepages {name}={value} missing")
    if "selinux" in host:
        se = host["selinux"]
        have_se = [(h.name, h.value) for h in settings if h.category == "selinux"]
        if se == "absent":
            if have_se:
                problems.append(f"host: selinux {have_se}, expected absent")
        elif not isinstance(se, dict):
            problems.append(f"host: selinux {se!r}: write `absent` or a mapping")
        elif "state" in se and not has("selinux", "mode", se["state"]):
            problems.append(f"host: selinux {have_se}, expected state {se['state']!r}")
    return problems


def check(inv: Inventory, exp: dict[str, Any], source: str = "expected facts") -> list[str]:
    validate(exp, source)
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
    problems += _check_details(
        [p for p in inv.packages if p.manager == pk.get("manager", p.manager)], pk.get("details") or []
    )
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
            and j.path == job.get("file", j.path)
            for j in inv.cron_jobs
        )
        if not ok:
            problems.append(f"cron job {job} not found")
    for m in exp.get("mounts") or []:
        ok = any(
            x.target == m["target"]
            and x.source == m.get("source", x.source)
            and x.fstype == m.get("type", x.fstype)
            and set(str(m.get("options", "")).split(",")) - {""} <= set(x.options)
            for x in inv.mounts
        )
        if not ok:
            problems.append(f"mount {m} not found")
    all_secrets = _all_secrets(inv)
    for sec in exp.get("secrets") or []:
        if not any(_secret_is(x, sec) for x in all_secrets):
            problems.append(f"secret {sec} not found anywhere in the inventory")
    for lib in exp.get("app_packages") or []:
        eco = lib.get("ecosystem")
        want = _norm_library(eco or "", lib["name"])
        ok = any(
            s.software == canon(lib.get("service", s.software))
            and any(
                (eco is None or x.ecosystem == eco)
                and _norm_library(x.ecosystem, x.name) == want
                and ("version" not in lib or x.version == str(lib["version"]))
                and ("source" not in lib or x.source == lib["source"])
                for x in s.libraries
            )
            for s in inv.services
        )
        if not ok:
            problems.append(f"app package {lib} not found")
    for n in exp.get("network_interfaces") or []:
        ok = any(
            x.name == n["name"]
            and all(getattr(x, k) == n[k] for k in ("kind", "parent", "vlan_id", "mode") if k in n)
            and ("members" not in n or list(x.members) == list(n["members"]))
            and ("file" not in n or any(e.path == n["file"] for e in x.evidence))
            for x in inv.network_interfaces
        )
        if not ok:
            problems.append(f"network interface {n} not found")
    problems += _check_host(inv, exp.get("host") or {})
    return problems
