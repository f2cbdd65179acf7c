"""JavaScript object literals, read without running any JavaScript.

For config files such as pm2's `ecosystem.config.js`: `module.exports = { apps: [...] }`,
`export default {...}`, or `const config = {...}; module.exports = config`. Comments (`//`,
`/* */`), single/double/backtick strings (with escapes), unquoted, quoted and numeric keys,
trailing commas and shorthand properties are understood. Anything computed (a call,
`process.env.X`, a template with `${}`, an operator) becomes `UNKNOWN`: the parser never
guesses a value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<line>//[^\n]*)
  | (?P<block>/\*.*?\*/)
  | (?P<str>"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`)
  | (?P<num>-?(?:0[xX][0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?))
  | (?P<id>[A-Za-z_$][A-Za-z0-9_$]*)
  | (?P<punct>\.\.\.|=>|[{}\[\](),:;=.?|&+\-*/!<>%])
  """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def tokens(text: str) -> list[tuple[str, str, int]]:
    """(kind, text, line) tokens; comments and whitespace dropped."""
    out: list[tuple[str, str, int]] = []
    pos, line = 0, 1
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            pos += 1  # a character we do not model (regex literal, unicode escape ...)
            continue
        kind = m.lastgroup or ""
        if kind not in ("ws", "line", "block"):
            out.append((kind, m.group(), line))
        line += m.group().count("\n")
        pos = m.end()
    return out


def _string(raw: str) -> Any:
    body = raw[1:-1]
    if raw[0] == "`" and "${" in body:
        return UNKNOWN
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt == "u" and re.match(r"[0-9a-fA-F]{4}", body[i + 2 : i + 6]):
                out.append(chr(int(body[i + 2 : i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def skip_expression(toks: Sequence[tuple[str, str, int]], i: int) -> int:
    """The index of the next `,` / `;` / closing bracket at the nesting depth of
    token `i` (or the end): the tokens of an expression nobody needs. Tokens are
    `(kind, text, line)`, as this lexer and php's make them."""
    depth = 0
    while i < len(toks):
        kind, text, _ = toks[i]
        if kind == "punct":
            if text in "([{":
                depth += 1
            elif text in ")]}":
                if depth == 0:
                    return i
                depth -= 1
            elif text in (",", ";") and depth == 0:
                return i
        i += 1
    return i


class _Parser:
    def __init__(self, toks: list[tuple[str, str, int]], start: int) -> None:
        self.toks = toks
        self.i = start
        self.lines: dict[str, int] = {}  # dotted key path -> line

    def peek(self) -> tuple[str, str, int]:
        return self.toks[self.i] if self.i < len(self.toks) else ("eof", "", 0)

    def value(self, path: str) -> Any:
        kind, text, _ = self.peek()
        if text == "{" and kind == "punct":
            return self.obj(path)
        if text == "[" and kind == "punct":
            return self.arr(path)
        start = self.i
        self.skip_expression()
        if self.i - start == 1:
            if kind == "str":
                return _string(text)
            if kind == "num":
                try:
                    return int(text, 0) if re.fullmatch(r"-?\d+|0[xX][0-9a-fA-F]+", text) else float(text)
                except ValueError:
                    return UNKNOWN
            if kind == "id":
                return {"true": True, "false": False, "null": None, "undefined": None}.get(text, UNKNOWN)
        return UNKNOWN

    def skip_expression(self) -> None:
        self.i = skip_expression(self.toks, self.i)

    def obj(self, path: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        self.i += 1  # {
        while self.i < len(self.toks):
            kind, text, line = self.peek()
            if kind == "punct" and text == "}":
                self.i += 1
                return out
            if kind == "punct" and text == ",":
                self.i += 1
                continue
            if kind == "punct" and text == "...":
                self.i += 1
                self.skip_expression()
                continue
            if kind in ("id", "str", "num"):
                key = _string(text) if kind == "str" else text
                self.i += 1
                nk, nt, _ = self.peek()
                full = f"{path}.{key}" if path else str(key)
                if nk == "punct" and nt == ":":
                    self.i += 1
                    self.lines[full] = line
                    out[str(key)] = self.value(full)
                elif nk == "punct" and nt == "(":  # a method: name() { ... }
                    self.skip_expression()
                else:  # shorthand `{ port }`
                    out[str(key)] = UNKNOWN
                continue
            self.skip_expression()  # computed keys and the like
            if self.peek()[1] not in (",", "}"):
                self.i += 1
        return out

    def arr(self, path: str) -> list[Any]:
        out: list[Any] = []
        self.i += 1  # [
        n = 0
        while self.i < len(self.toks):
            kind, text, _ = self.peek()
            if kind == "punct" and text == "]":
                self.i += 1
                return out
            if kind == "punct" and text == ",":
                self.i += 1
                continue
            out.append(self.value(f"{path}[{n}]"))
            n += 1
            if self.peek()[1] not in (",", "]"):
                self.i += 1
        return out


def _find_export(toks: list[tuple[str, str, int]]) -> int | None:
    """Index of the `{` the module exports."""
    names: dict[str, int] = {}
    exported: str | None = None
    for i, (kind, text, _) in enumerate(toks):
        nxt = toks[i + 1 : i + 4]
        if (
            kind == "id"
            and text in ("const", "let", "var")
            and len(nxt) >= 3
            and (nxt[0][0], nxt[1][1], nxt[2][1]) == ("id", "=", "{")
        ):
            names.setdefault(nxt[0][1], i + 3)
        if kind == "id" and text == "module" and [t[1] for t in nxt[:3]] == [".", "exports", "="]:
            after = toks[i + 4] if i + 4 < len(toks) else None
            if after and after[1] == "{":
                return i + 4
            if after and after[0] == "id":
                exported = after[1]
        if kind == "id" and text == "export" and len(nxt) >= 2 and nxt[0][1] == "default":
            if nxt[1][1] == "{":
                return i + 2
            if nxt[1][0] == "id":
                exported = nxt[1][1]
    if exported and exported in names:
        return names[exported]
    return None


def parse_exports(text: str) -> tuple[dict[str, Any] | None, dict[str, int]]:
    """The exported object literal, and the line of each key (dotted paths: `apps[0].env.PORT`)."""
    toks = tokens(text)
    start = _find_export(toks)
    if start is None:
        return None, {}
    p = _Parser(toks, start)
    return p.obj(""), p.lines
