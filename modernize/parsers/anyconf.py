"""The settings of a config file whatever its format, for programs no detector knows.

JSON, YAML, Java properties, and the line formats: INI and simple TOML (`[section]`,
`key = value`), env files (`KEY=value`, `export KEY=value`), `key: value`, and
`Key value` as tinyproxy, redis or sshd write it. Each setting comes as a dotted key
(`section.key`, a YAML/JSON path), its value as written less quotes and trailing
comments, and its line. A commented-out line (`#port = 8080`, `; port = 8080`) is
no setting.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from modernize.parsers import javaprops, yamlflat
from modernize.parsers.lines import numbered


@dataclass(frozen=True)
class Setting:
    key: str  # server.port, listen, database.host
    value: str
    line: int | None


_KEY = r"[A-Za-z_][\w.-]*"
_ASSIGN = re.compile(rf"^(?:export\s+)?({_KEY})\s*[=:]\s*(.*)$")
_SPACED = re.compile(rf"^({_KEY})\s+(\S.*)$")
_YAMLISH = re.compile(rf"^\s*{_KEY}:(?:\s|$)", re.MULTILINE)


def settings(path: str, text: str) -> list[Setting] | None:
    """The settings of `text` (read from `path`); None when it is JSON or YAML by name
    but does not parse as one."""
    name = path.rsplit("/", 1)[-1].lower()
    if name.endswith(".json") or (not name.endswith((".yml", ".yaml")) and text.lstrip().startswith("{")):
        return _json(text)
    if name.endswith((".yml", ".yaml")):
        flat = yamlflat.flatten(text)
        return None if flat is None else [Setting(k, f.value, f.line) for k, f in flat.items()]
    if name.endswith(".properties"):
        return [Setting(k, v, line) for k, (v, line) in javaprops.parse(text).items()]
    if "[" not in text and _YAMLISH.search(text):  # a .conf written in YAML (key: {nested})
        flat = yamlflat.flatten(text)
        if flat is not None:
            return [Setting(k, f.value, f.line) for k, f in flat.items()]
    return _lines(text)


def _unquote(value: str) -> str:
    v = value.strip()
    if v[:1] in ("'", '"'):
        end = v.find(v[0], 1)
        return v[1:end] if end > 0 else v[1:]
    # a trailing comment after blank space: `port = 80  # http`
    return re.split(r"\s+[#;]", v, maxsplit=1)[0].strip()


def _lines(text: str) -> list[Setting]:
    out: list[Setting] = []
    section = ""
    for no, line in numbered(text, "#;"):
        if line.startswith("[") and line.endswith("]"):
            section = line.strip("[]").strip().strip("\"'")
            continue
        m = _ASSIGN.match(line) or _SPACED.match(line)
        if not m:
            continue
        key = f"{section}.{m.group(1)}" if section else m.group(1)
        out.append(Setting(key, _unquote(m.group(2)), no))
    return out


def _json(text: str) -> list[Setting] | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    # a key's line: the next `"name":` at or after its parent's line, in document order
    lines: dict[str, list[int]] = {}
    for no, raw in enumerate(text.splitlines(), 1):
        for m in re.finditer(r'"((?:[^"\\]|\\.)*)"\s*:', raw):
            lines.setdefault(m.group(1), []).append(no)
    out: list[Setting] = []

    def line_of(name: str, after: int) -> int | None:
        found = lines.get(name, [])
        for i, no in enumerate(found):
            if no >= after:
                del found[i]
                return no
        return None

    def walk(node: dict[str, object], prefix: str, after: int) -> None:
        for k, v in node.items():
            line = line_of(k, after)
            key = prefix + k
            if isinstance(v, dict):
                walk(v, key + ".", line or after)
            elif isinstance(v, list):
                scalars = [str(x) for x in v if isinstance(x, (str, int, float)) and not isinstance(x, bool)]
                out.append(Setting(key, ",".join(scalars), line))
                for i, item in enumerate(v):
                    if isinstance(item, dict):
                        walk(item, f"{key}.{i}.", line or after)
            elif v is not None:
                out.append(Setting(key, str(v).lower() if isinstance(v, bool) else str(v), line))

    walk(data, "", 1)
    return out
