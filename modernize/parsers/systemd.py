"""systemd unit files, following systemd's own rules (systemd.unit(5), systemd.exec(5)).

- later files override earlier ones key by key; drop-ins (`NAME.d/*.conf`, the
  type-wide `service.d/`, and a template's `foo@.service.d/`) are applied in
  lexical order of their file names;
- an empty assignment (`ExecStart=`) resets a list-valued setting;
- a trailing backslash continues a line; `#` and `;` start comments;
- `ExecStart=` prefixes (`-`, `@`, `+`, `!`, `!!`, `:`) are not part of the command;
- `Environment=` holds space-separated, optionally quoted assignments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from modernize.parsers.shell import split_command

# Settings whose values accumulate and are reset by an empty assignment.
LIST_KEYS = frozenset(
    {
        "ExecStart",
        "ExecStartPre",
        "ExecStartPost",
        "ExecStop",
        "ExecReload",
        "Environment",
        "EnvironmentFile",
        "WantedBy",
        "RequiredBy",
        "Alias",
        "Also",
        "ListenStream",
        "ListenDatagram",
        "ListenSequentialPacket",
        "OnCalendar",
        "OnBootSec",
        "OnUnitActiveSec",
        "OnUnitInactiveSec",
        "OnActiveSec",
        "OnStartupSec",
        "After",
        "Requires",
        "Wants",
        "ReadWritePaths",
        "LogsDirectory",
        "StateDirectory",
        "ConfigurationDirectory",
        "RuntimeDirectory",
        "CacheDirectory",
        "DeviceAllow",
    }
)


@dataclass
class Setting:
    value: str
    path: str
    line: int


@dataclass
class UnitFile:
    """Merged settings: section -> key -> list of values (scalars use the last one)."""

    sections: dict[str, dict[str, list[Setting]]] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)

    def get(self, section: str, key: str) -> Setting | None:
        values = self.sections.get(section, {}).get(key)
        return values[-1] if values else None

    def value(self, section: str, key: str) -> str | None:
        s = self.get(section, key)
        return s.value if s else None

    def values(self, section: str, key: str) -> list[Setting]:
        return list(self.sections.get(section, {}).get(key, []))

    def has_install(self) -> bool:
        inst = self.sections.get("Install", {})
        return any(inst.get(k) for k in ("WantedBy", "RequiredBy", "Alias", "Also", "UpheldBy"))


def parse_into(unit: UnitFile, text: str, path: str) -> None:
    unit.sources.append(path)
    section = ""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        no = i + 1
        line = lines[i].strip()
        i += 1
        if not line or line[0] in "#;":
            continue
        while line.endswith("\\") and i < len(lines):
            nxt = lines[i].strip()
            i += 1
            if nxt[:1] in ("#", ";"):
                continue  # comment lines inside a continuation are skipped
            line = line[:-1] + " " + nxt
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            unit.sections.setdefault(section, {})
            continue
        key, sep, value = line.partition("=")
        if not sep or not section:
            continue
        key, value = key.strip(), value.strip()
        bucket = unit.sections.setdefault(section, {})
        if key in LIST_KEYS:
            if value == "":
                bucket[key] = []  # empty assignment resets the list
            else:
                bucket.setdefault(key, []).append(Setting(value, path, no))
        else:
            bucket[key] = [Setting(value, path, no)]


def strip_exec_prefix(value: str) -> str:
    while value[:1] in ("-", "@", "+", "!", ":"):
        value = value[1:]
    return value


def split_exec(value: str) -> tuple[str, ...]:
    return split_command(strip_exec_prefix(value.strip()))


def environment(value: str) -> list[tuple[str, str]]:
    words = split_command(value)
    out = []
    for w in words:
        k, sep, v = w.partition("=")
        if sep and k:
            out.append((k, v))
    return out


def expand(value: str, name: str) -> str:
    """The specifiers a unit's commands commonly use (%i, %I, %n, %N, %p, %P, %%)."""
    stem = name.rpartition(".")[0]
    prefix, at, instance = stem.partition("@")
    table = {
        "%%": "\0",
        "%i": instance,
        "%I": instance.replace("-", "/"),
        "%n": name,
        "%N": stem,
        "%p": prefix,
        "%P": prefix,
        "%j": prefix.rsplit("-", 1)[-1],
    }
    if not at:
        table["%i"] = table["%I"] = ""
    for k, v in table.items():
        value = value.replace(k, v)
    return value.replace("\0", "%")
