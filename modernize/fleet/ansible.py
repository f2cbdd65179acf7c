"""Ansible inventory files (INI and YAML) read into hosts with their connection variables.

What matters for a scan: each host's name, and `ansible_host`, `ansible_user`,
`ansible_port`, `ansible_ssh_private_key_file`, `ansible_connection` (with the
older `ansible_ssh_*` spellings). Variables apply as Ansible applies them: `all`
first, then groups from parent to child, then the host's own. Host ranges
(`web[01:20].example.com`, `db-[a:f]`) expand; `host:port` is a port.
Anything else (plugins, scripts, Jinja in values) is out of scope: a value is
taken as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from modernize.errors import UserError

CONNECTION_VARS = {
    "ansible_host": "host",
    "ansible_ssh_host": "host",
    "ansible_user": "user",
    "ansible_ssh_user": "user",
    "ansible_port": "port",
    "ansible_ssh_port": "port",
    "ansible_ssh_private_key_file": "key",
    "ansible_private_key_file": "key",
    "ansible_connection": "connection",
}
MAX_HOSTS = 100_000  # a range typo (`[1:9999999]`) must not eat the machine
_RANGE = re.compile(r"\[([0-9a-zA-Z]+):([0-9a-zA-Z]+)(?::(\d+))?\]")


@dataclass
class AnsibleHost:
    name: str
    vars: dict[str, str] = field(default_factory=dict)  # host, user, port, key, connection

    @property
    def address(self) -> str:
        return self.vars.get("host") or self.name


@dataclass
class _Group:
    hosts: dict[str, dict[str, str]] = field(default_factory=dict)  # host -> its own vars, in order
    vars: dict[str, str] = field(default_factory=dict)
    children: list[str] = field(default_factory=list)


def expand_range(pattern: str, where: str) -> list[str]:
    """`web[01:03]` -> web01, web02, web03 (leading zeros kept); `[a:c]` letters; `[0:10:5]` a stride."""
    m = _RANGE.search(pattern)
    if m is None:
        return [pattern]
    lo, hi, step_text = m.group(1), m.group(2), m.group(3)
    step = int(step_text) if step_text else 1
    head, tail = pattern[: m.start()], pattern[m.end() :]
    if lo.isdigit() and hi.isdigit():
        width = len(lo) if lo.startswith("0") else 0
        values = [str(n).zfill(width) for n in range(int(lo), int(hi) + 1, max(step, 1))]
    elif len(lo) == len(hi) == 1 and lo.isalpha() and hi.isalpha():
        values = [chr(c) for c in range(ord(lo), ord(hi) + 1, max(step, 1))]
    else:
        raise UserError(f"{where}: {pattern!r}: a host range is [FROM:TO] of numbers or single letters")
    if not values:
        raise UserError(f"{where}: {pattern!r}: the range is empty")
    if len(values) > MAX_HOSTS:
        raise UserError(f"{where}: {pattern!r} names more than {MAX_HOSTS} hosts")
    out: list[str] = []
    for v in values:
        out.extend(expand_range(head + v + tail, where))
    return out


def _conn_vars(raw: dict[str, Any]) -> dict[str, str]:
    return {CONNECTION_VARS[k]: str(v) for k, v in raw.items() if k in CONNECTION_VARS and v is not None}


def _split_port(name: str) -> tuple[str, dict[str, str]]:
    """`host:2222` (not an IPv6 address) carries its port."""
    if name.count(":") == 1:
        host, port = name.split(":")
        if port.isdigit():
            return host, {"port": port}
    return name, {}


# -- INI --------------------------------------------------------------------------------
def _ini_pairs(text: str, where: str) -> dict[str, str]:
    import shlex

    try:
        words = shlex.split(text, comments=True)
    except ValueError as exc:
        raise UserError(f"{where}: {exc}") from None
    out = {}
    for word in words:
        key, eq, value = word.partition("=")
        if not eq:
            raise UserError(f"{where}: {word!r} is not KEY=VALUE")
        out[key] = value
    return out


def parse_ini(text: str, where: str) -> dict[str, _Group]:
    groups: dict[str, _Group] = {"all": _Group(), "ungrouped": _Group()}
    current, section = "ungrouped", "hosts"
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        at = f"{where}:{no}"
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            m = re.fullmatch(r"\[([^\]:\s]+)(?::(vars|children|hosts))?\]", line)
            if m is None:
                raise UserError(f"{at}: {line!r} is not a [group], [group:vars] or [group:children] header")
            current, section = m.group(1), m.group(2) or "hosts"
            groups.setdefault(current, _Group())
            continue
        group = groups[current]
        if section == "vars":
            key, eq, value = line.partition("=")
            if not eq:
                raise UserError(f"{at}: {line!r} is not KEY=VALUE")
            group.vars.update(_conn_vars({key.strip(): _ini_value(value.strip())}))
        elif section == "children":
            group.children.append(line.split()[0])
            groups.setdefault(line.split()[0], _Group())
        else:
            name, _, rest = line.partition(" ")
            own = _conn_vars(_ini_pairs(rest, at)) if rest.strip() else {}
            for host in expand_range(name, at):
                host, port = _split_port(host)
                group.hosts.setdefault(host, {}).update({**port, **own})
    return groups


def _ini_value(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value.split(" #", 1)[0].strip()


# -- YAML -------------------------------------------------------------------------------
def parse_yaml(data: Any, where: str) -> dict[str, _Group]:
    groups: dict[str, _Group] = {"all": _Group(), "ungrouped": _Group()}
    if not isinstance(data, dict):
        raise UserError(f"{where}: a YAML inventory is a mapping of groups (all: hosts: ...)")

    def group(name: str, body: Any, depth: int) -> None:
        if depth > 64:
            raise UserError(f"{where}: groups nested more than 64 deep")
        g = groups.setdefault(str(name), _Group())
        if body is None:
            return
        if not isinstance(body, dict):
            raise UserError(f"{where}: group {name!r} must be a mapping (hosts, vars, children)")
        hosts = body.get("hosts") or {}
        if isinstance(hosts, list):  # not Ansible's form, but a list of names is unambiguous
            hosts = dict.fromkeys(hosts)
        if not isinstance(hosts, dict):
            raise UserError(f"{where}: hosts of group {name!r} must be a mapping of host names")
        for pattern, hvars in hosts.items():
            own = _conn_vars(hvars) if isinstance(hvars, dict) else {}
            for host in expand_range(str(pattern), where):
                host, port = _split_port(host)
                g.hosts.setdefault(host, {}).update({**port, **own})
        gvars = body.get("vars") or {}
        if isinstance(gvars, dict):
            g.vars.update(_conn_vars(gvars))
        children = body.get("children") or {}
        if not isinstance(children, dict):
            raise UserError(f"{where}: children of group {name!r} must be a mapping of groups")
        for child, cbody in children.items():
            if str(child) not in g.children:
                g.children.append(str(child))
            group(str(child), cbody, depth + 1)

    for name, body in data.items():
        group(str(name), body, 0)
    return groups


# -- both -------------------------------------------------------------------------------
def hosts_of(groups: dict[str, _Group]) -> list[AnsibleHost]:
    """Every host once, in the order first met, with its variables applied in Ansible's order."""
    parents: dict[str, list[str]] = {}
    for name, g in groups.items():
        for child in g.children:
            parents.setdefault(child, []).append(name)

    def depth(name: str, seen: frozenset[str] = frozenset()) -> int:
        if name in seen:
            return 0  # a loop in children: Ansible refuses it; here it only ends the count
        return 1 + max((depth(p, seen | {name}) for p in parents.get(name, []) if p != "all"), default=0)

    order: dict[str, list[str]] = {}  # host -> groups it is in directly
    own: dict[str, dict[str, str]] = {}
    for name, g in groups.items():
        for host, hvars in g.hosts.items():
            order.setdefault(host, []).append(name)
            own.setdefault(host, {}).update(hvars)
    out = []
    for host, direct in order.items():
        member: set[str] = set()
        stack = list(direct)
        while stack:
            name = stack.pop()
            if name not in member:
                member.add(name)
                stack.extend(parents.get(name, []))
        values = dict(groups["all"].vars)
        for name in sorted(member - {"all"}, key=lambda n: (depth(n), n)):
            values.update(groups[name].vars)
        values.update(own[host])
        out.append(AnsibleHost(host, values))
    return out


def parse(text: str, where: str) -> list[AnsibleHost]:
    """The hosts of an INI or YAML inventory; a YAML one starts with a mapping of groups."""
    import yaml

    body = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith(("#", ";"))]
    first = body[0].strip() if body else ""
    if first.startswith("[") or not body:
        groups = parse_ini(text, where)
    else:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            data = None
        # `host:2222` alone is a YAML mapping too: YAML only when it is one of groups
        yaml_groups = isinstance(data, dict) and all(v is None or isinstance(v, dict) for v in data.values())
        groups = parse_yaml(data, where) if yaml_groups else parse_ini(text, where)
    hosts = hosts_of(groups)
    if not hosts:
        raise UserError(f"{where}: no hosts in this inventory")
    return hosts
