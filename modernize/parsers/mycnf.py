"""MySQL / MariaDB option files, following the servers' own reader (mysys my_default.c,
"Using Option Files" in the MySQL and MariaDB manuals).

- `[group]` headers; an option line is `name`, `name = value` or `name value`-less;
- lines starting with `#` or `;` are comments; `#` also starts a trailing comment
  outside quotes; a value in matching single or double quotes is unquoted and its
  escapes (`\\n \\t \\\\ \\" \\' \\s`) are processed;
- `!include FILE` reads that file at that point; `!includedir DIR` reads the files of
  DIR ending in `.cnf` in sorted order (what current servers do);
- in option names `-` and `_` are the same (`bind-address` == `bind_address`), and
  the `loose-` prefix only tells the server not to fail on unknown options;
- every file's options are kept per group in reading order: the caller picks the
  groups the program reads and the last value wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from modernize.snapshot import Snapshot
from modernize.snapshot.paths import absolute, join, parent

MAX_DEPTH = 10
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "s": " ", '"': '"', "'": "'", "\\": "\\"}


@dataclass(frozen=True)
class Option:
    group: str  # lower-cased group name
    name: str  # canonical: lower-case, `_` -> `-`, no `loose-`
    value: str | None  # None for a bare option (`skip-name-resolve`)
    path: str
    line: int
    raw: str
    via: tuple[str, ...] = ()


@dataclass
class OptionFiles:
    options: list[Option] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # every file read, in order
    groups_of: dict[str, set[str]] = field(default_factory=dict)  # file -> group headers in it
    errors: list[tuple[str, str]] = field(default_factory=list)

    def effective(self, groups: set[str]) -> dict[str, Option]:
        """name -> the option that wins among `groups` (the last one read)."""
        out: dict[str, Option] = {}
        for opt in self.options:
            if opt.group in groups:
                out[opt.name] = opt
        return out


def canonical(name: str) -> str:
    name = name.strip().lower().replace("_", "-")
    return name.removeprefix("loose-")


def strip_comment(text: str) -> str:
    quote = ""
    for i, c in enumerate(text):
        if quote:
            if c == "\\":
                continue
            if c == quote and (i == 0 or text[i - 1] != "\\"):
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "#":
            return text[:i]
    return text


def unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        body, out, i = value[1:-1], [], 0
        while i < len(body):
            if body[i] == "\\" and i + 1 < len(body):
                out.append(_ESCAPES.get(body[i + 1], "\\" + body[i + 1]))
                i += 2
            else:
                out.append(body[i])
                i += 1
        return "".join(out)
    return value


def includedir_files(snap: Snapshot, directory: str) -> list[str]:
    return [join(directory, n) for n in sorted(snap.listdir(directory)) if n.endswith(".cnf")]


def _directives(text: str, path: str) -> list[tuple[str, str]]:
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        for kw in ("!includedir", "!include"):
            if line.startswith(kw) and line[len(kw) : len(kw) + 1].isspace():
                target = line[len(kw) :].strip()
                out.append((kw, target if target.startswith("/") else join(parent(path), target)))
                break
    return out


def load(snap: Snapshot, path: str, files: OptionFiles | None = None, *, via: tuple[str, ...] = ()) -> OptionFiles:
    files = files if files is not None else OptionFiles()
    text = snap.text(path)
    if text is None:
        return files
    if len(via) >= MAX_DEPTH or path in via:
        files.errors.append((path, "include loop or nesting too deep"))
        return files
    files.files.append(path)
    wanted: list[str] = []
    for kw, target in _directives(text, path):
        wanted.extend(includedir_files(snap, target) if kw == "!includedir" else [target])
    if wanted:
        snap.want(wanted)
    group = ""
    inner = (*via, path)
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("!"):
            word, _, target = line.partition(" ")
            target = target.strip()
            if not target:
                continue
            target = absolute(target, parent(path))
            if word == "!includedir":
                for f in includedir_files(snap, target):
                    load(snap, f, files, via=inner)
            elif word == "!include":
                load(snap, target, files, via=inner)
            continue
        if line.startswith("["):
            end = line.find("]")
            if end < 0:
                files.errors.append((path, f"line {no}: unterminated group header"))
                continue
            group = line[1:end].strip().lower()
            files.groups_of.setdefault(path, set()).add(group)
            continue
        if not group:
            files.errors.append((path, f"line {no}: option outside any group"))
            continue
        body = strip_comment(line).strip()
        name, sep, value = body.partition("=")
        if not name.strip():
            continue
        val = unquote(value.strip()) if sep else None
        files.options.append(Option(group, canonical(name), val, path, no, raw.strip(), via))
    return files
