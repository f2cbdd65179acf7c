"""Postfix main.cf and master.cf, by postconf(5) and master(5).

main.cf: `name = value`; a line starting with whitespace continues the previous
logical line; a line whose first non-blank character is `#` is a comment (a `#`
later in a line is text); the last assignment of a name wins; `$name`, `${name}`
and `$(name)` expand when the value is used.

master.cf: one service per logical line (continuations start with whitespace):
`service type private unpriv chroot wakeup maxproc command [args]`; an `inet`
service is `[host:]port` where port is a number or a services(5) name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# `postconf -d` values this module needs when main.cf does not set them
DEFAULTS = {
    "inet_interfaces": "all",
    "inet_protocols": "all",
    "queue_directory": "/var/spool/postfix",
    "data_directory": "/var/lib/postfix",
    "config_directory": "/etc/postfix",
    "mail_owner": "postfix",
    "maillog_file": "",
}


@dataclass
class Param:
    name: str
    value: str
    line: int
    text: str


def logical_lines(text: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for no, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if raw[0] in " \t" and out:
            out[-1] = (out[-1][0], out[-1][1] + " " + stripped)
        else:
            out.append((no, stripped))
    return out


def parse_main(text: str) -> dict[str, Param]:
    params: dict[str, Param] = {}
    for no, line in logical_lines(text):
        name, sep, value = line.partition("=")
        if not sep:
            continue
        name = name.strip()
        if re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            params[name] = Param(name, value.strip(), no, line)
    return params


def expand(value: str, params: dict[str, Param], depth: int = 0) -> str:
    if depth > 10:
        return value

    def sub(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2) or m.group(3) or ""
        name = name.split("?", 1)[0].split(":", 1)[0]
        if name in params:
            return expand(params[name].value, params, depth + 1)
        return DEFAULTS.get(name, "")

    return re.sub(r"\$(?:\{([^}]*)\}|\(([^)]*)\)|([A-Za-z0-9_]+))", sub, value)


def get(params: dict[str, Param], name: str) -> str:
    if name in params:
        return expand(params[name].value, params)
    return DEFAULTS.get(name, "")


def split_list(value: str) -> list[str]:
    return [x for x in re.split(r"[\s,]+", value) if x]


@dataclass
class MasterService:
    service: str
    type: str
    command: str
    args: list[str]
    line: int
    text: str

    @property
    def host_port(self) -> tuple[str | None, str]:
        """`127.0.0.1:10025` -> ('127.0.0.1', '10025'); `[::1]:25`; `smtp` -> (None, 'smtp')."""
        m = re.fullmatch(r"\[([^\]]+)\]:(.+)", self.service)
        if m:
            return m.group(1), m.group(2)
        host, sep, port = self.service.rpartition(":")
        if sep:
            return host, port
        return None, self.service

    def option(self, name: str) -> str | None:
        """`-o name=value` overrides on the service's command line (the last wins)."""
        val = None
        for i, a in enumerate(self.args):
            if a == "-o" and i + 1 < len(self.args) and self.args[i + 1].startswith(name + "="):
                val = self.args[i + 1].split("=", 1)[1]
            elif a.startswith("-o" + name + "="):
                val = a.split("=", 1)[1]
        return val


def parse_master(text: str) -> list[MasterService]:
    out = []
    for no, line in logical_lines(text):
        f = line.split()
        if len(f) < 8:
            continue
        out.append(MasterService(f[0], f[1], f[7], f[8:], no, line))
    return out


def map_refs(value: str) -> list[tuple[str, str]]:
    """`hash:/etc/aliases, proxy:mysql:/etc/postfix/x.cf` -> [(type, name)]."""
    out = []
    for item in split_list(value):
        t, sep, name = item.partition(":")
        if not sep:
            continue
        if t == "proxy":
            t, _, name = name.partition(":")
        out.append((t, name))
    return out
