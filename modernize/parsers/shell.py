"""Shell-style assignments: os-release, /etc/default/*, env files, LSB headers."""

from __future__ import annotations

import re
import shlex

_ASSIGN = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)=(.*)$")


def unquote(value: str) -> str:
    value = value.strip()
    try:
        parts = shlex.split(value, comments=True, posix=True)
    except ValueError:
        return value.strip("\"'")
    return " ".join(parts)


def assignments(text: str) -> list[tuple[int, str, str]]:
    """`KEY=value` lines as (line, key, unquoted value); comments and other lines ignored.
    Multi-line quoted values (as in systemd EnvironmentFile) are joined."""
    out: list[tuple[int, str, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        raw = lines[i].strip()
        no = i + 1
        i += 1
        if not raw or raw.startswith(("#", ";")):
            continue
        m = _ASSIGN.match(raw)
        if not m:
            continue
        key, value = m.group(1), m.group(2)
        # a quoted value may continue on the next lines
        while value.count('"') % 2 == 1 and i < len(lines) and not value.endswith('\\"'):
            value += "\n" + lines[i]
            i += 1
        while value.endswith("\\") and i < len(lines):
            value = value[:-1] + lines[i].strip()
            i += 1
        out.append((no, key, unquote(value)))
    return out


def as_dict(text: str) -> dict[str, str]:
    return {k: v for _, k, v in assignments(text)}


def split_command(line: str) -> tuple[str, ...]:
    try:
        return tuple(shlex.split(line, posix=True))
    except ValueError:
        return tuple(line.split())
