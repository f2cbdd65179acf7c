"""dovecot.conf (Dovecot 2.x) as its config parser reads it.

* `#` at the start of a line, or after whitespace outside quotes, starts a comment;
  a trailing `\\` joins the next line;
* `key = value` (the last one wins), `key = <path` reads the value from a file;
* `type [name] {` opens a section, `}` closes it (`service imap-login {`,
  `inet_listener imaps {`, `protocol imap {`);
* `!include path` / `!include_try path` are read in place: globs, sorted, relative to
  the including file's directory; `!include` of a missing file is an error,
  `!include_try` is not.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from modernize.snapshot import paths as P


@dataclass
class Setting:
    key: str
    value: str
    path: str
    line: int
    via: tuple[str, ...]
    from_file: bool = False  # `key = <path`


@dataclass
class Section:
    type: str
    name: str
    path: str = ""
    line: int = 0
    via: tuple[str, ...] = ()
    settings: list[Setting] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)

    def get(self, key: str) -> Setting | None:
        hits = [s for s in self.settings if s.key == key]
        return hits[-1] if hits else None

    def children(self, type_: str, name: str | None = None) -> list[Section]:
        return [s for s in self.sections if s.type == type_ and (name is None or s.name == name)]


@dataclass
class DovecotConf:
    root: Section
    files: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)


Reader = Callable[[str], str | None]
Globber = Callable[[str], list[str]]
_SECTION = re.compile(r"^([A-Za-z0-9_!-]+)(?:\s+(\"[^\"]*\"|[^{\s][^{]*?))?\s*\{\s*$")
_KV = re.compile(r"^([A-Za-z0-9_/.-]+)\s*=\s*(.*)$")


def _strip_comment(line: str) -> str:
    quote = ""
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


def _unquote(v: str) -> str:
    v = v.strip()
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
        return v[1:-1].replace('\\"', '"')
    return v


def parse(
    main: str, read: Reader, glob: Globber, want: Callable[[list[str]], None] | None = None
) -> DovecotConf | None:
    text = read(main)
    if text is None:
        return None
    conf = DovecotConf(Section("", "", main, 0))
    _parse(conf, main, text, [conf.root], read, glob, want, (), 0)
    return conf


def _parse(
    conf: DovecotConf,
    path: str,
    text: str,
    stack: list[Section],
    read: Reader,
    glob: Globber,
    want: Callable[[list[str]], None] | None,
    via: tuple[str, ...],
    depth: int,
) -> None:
    conf.files.append((path, via))
    pending = ""
    start = 0
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if pending:
            line, pending = pending + line, ""
            no = start
        if line.endswith("\\"):
            pending, start = line[:-1] + " ", no
            continue
        line = _strip_comment(line).strip()
        if not line:
            continue
        if line.startswith("!include"):
            word, _, arg = line.partition(" ")
            optional = word == "!include_try"
            pattern = _unquote(arg)
            pat = pattern if pattern.startswith("/") else P.join(P.parent(path), pattern)
            targets = sorted(glob(P.normalize(pat)))
            if want:
                want(targets)
            if not targets and not optional and not any(ch in pattern for ch in "*?["):
                conf.missing.append((pat, f"{path}:{no}"))
            if depth < 16:
                for t in targets:
                    sub = read(t)
                    if sub is not None:
                        _parse(conf, t, sub, stack, read, glob, want, (*via, path), depth + 1)
            continue
        if line == "}":
            if len(stack) > 1:
                stack.pop()
            continue
        m = _SECTION.match(line)
        if m:
            sec = Section(m.group(1), _unquote(m.group(2) or ""), path, no, via)
            stack[-1].sections.append(sec)
            stack.append(sec)
            continue
        kv = _KV.match(line)
        if kv:
            value = kv.group(2).strip()
            from_file = value.startswith("<")
            if from_file:
                value = value[1:].strip()
            stack[-1].settings.append(Setting(kv.group(1), _unquote(value), path, no, via, from_file))
