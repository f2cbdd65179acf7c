"""named.conf (BIND 9) as named's own lexer reads it.

* comments: `//` and `#` to the end of the line, `/* ... */` across lines;
* strings in double quotes (a `\\` escapes the next character);
* a statement is words and `{ ... }` blocks, ended by `;` (blocks nest);
* `include "path";` is replaced by the statements of that file, at any level;
  relative paths are taken from the including file's directory.

A statement is kept with its file, line and the include chain that led there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from modernize.snapshot import paths as P


@dataclass
class Stmt:
    items: list[str | list[Stmt]]
    path: str
    line: int
    via: tuple[str, ...] = ()

    @property
    def words(self) -> list[str]:
        return [i for i in self.items if isinstance(i, str)]

    @property
    def keyword(self) -> str:
        w = self.words
        return w[0].lower() if w else ""

    @property
    def blocks(self) -> list[list[Stmt]]:
        return [i for i in self.items if isinstance(i, list)]

    def block(self) -> list[Stmt]:
        b = self.blocks
        return b[0] if b else []

    def after(self, word: str) -> str | None:
        """The word that follows `word` (e.g. `port` -> `53`)."""
        items = self.items
        for i, it in enumerate(items[:-1]):
            if isinstance(it, str) and it.lower() == word and isinstance(items[i + 1], str):
                return items[i + 1]  # type: ignore[return-value]
        return None


@dataclass
class Token:
    kind: str  # word, string, punct
    value: str
    line: int


def tokens(text: str) -> Iterator[Token]:
    i, n, line = 0, len(text), 1
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif c == "#" or text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            line += text.count("\n", i, j)
            i = j
        elif c == '"':
            j = i + 1
            buf = []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(text[j])
                j += 1
            yield Token("string", "".join(buf), line)
            line += text.count("\n", i, j)
            i = j + 1
        elif c in "{};":
            yield Token("punct", c, line)
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in '{};"#' and not text.startswith("//", j):
                j += 1
            if j == i:  # a lone character the rules above do not take
                j = i + 1
            yield Token("word", text[i:j], line)
            i = j


@dataclass
class NamedConf:
    statements: list[Stmt] = field(default_factory=list)
    files: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def top(self, keyword: str) -> list[Stmt]:
        return [s for s in self.statements if s.keyword == keyword]


Reader = Callable[[str], str | None]


def parse(main: str, read: Reader, want: Callable[[list[str]], None] | None = None) -> NamedConf | None:
    conf = NamedConf()
    text = read(main)
    if text is None:
        return None
    conf.statements = _parse_text(conf, main, text, read, want, (), 0)
    return conf


def _parse_text(
    conf: NamedConf,
    path: str,
    text: str,
    read: Reader,
    want: Callable[[list[str]], None] | None,
    via: tuple[str, ...],
    depth: int,
) -> list[Stmt]:
    conf.files.append((path, via))
    toks = list(tokens(text))
    pos = 0

    def block() -> list[Stmt]:
        nonlocal pos
        out: list[Stmt] = []
        cur: list[str | list[Stmt]] = []
        start = 0
        while pos < len(toks):
            t = toks[pos]
            pos += 1
            if t.kind == "punct" and t.value == "}":
                if cur:  # a missing `;` before `}`: keep what was there
                    out.append(Stmt(cur, path, start, via))
                return out
            if t.kind == "punct" and t.value == "{":
                if not cur:
                    start = t.line
                cur.append(block())
                continue
            if t.kind == "punct" and t.value == ";":
                if cur:
                    out.append(Stmt(cur, path, start, via))
                cur = []
                continue
            if not cur:
                start = t.line
            cur.append(t.value)
        if cur:
            out.append(Stmt(cur, path, start, via))
        return out

    raw = block()
    return _expand(conf, raw, path, read, want, via, depth)


def _expand(
    conf: NamedConf,
    stmts: list[Stmt],
    path: str,
    read: Reader,
    want: Callable[[list[str]], None] | None,
    via: tuple[str, ...],
    depth: int,
) -> list[Stmt]:
    out: list[Stmt] = []
    includes = [_resolve(s.words[1], path) for s in stmts if s.keyword == "include" and len(s.words) > 1 and depth < 16]
    if includes and want:
        want(includes)
    for s in stmts:
        if s.keyword == "include" and len(s.words) > 1:
            if depth >= 16:
                continue
            target = _resolve(s.words[1], path)
            text = read(target)
            if text is None:
                conf.errors.append((target, f"included from {path}:{s.line} but not readable"))
                continue
            out.extend(_parse_text(conf, target, text, read, want, (*via, path), depth + 1))
            continue
        items: list[str | list[Stmt]] = []
        for it in s.items:
            items.append(_expand(conf, it, path, read, want, via, depth) if isinstance(it, list) else it)
        out.append(Stmt(items, s.path, s.line, s.via))
    return out


def _resolve(name: str, including: str) -> str:
    return P.absolute(name, P.parent(including))


def walk(stmts: list[Stmt]) -> Iterator[Stmt]:
    for s in stmts:
        yield s
        for b in s.blocks:
            yield from walk(b)
