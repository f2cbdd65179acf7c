"""PHP config files (wp-config.php, settings.php, version.php), read without running PHP.

Follows the PHP lexer: code only between `<?php`/`<?=` and `?>`; comments `//`, `#`
(not `#[`, an attribute) and `/* */`, a `?>` ends a line comment; single-quoted strings
unescape only `\\'` and `\\\\`; double-quoted and heredoc strings with a `$` interpolation
are unknown; nowdoc is literal. Statements recognised, in file order:

- `define('NAME', EXPR)` and `const NAME = EXPR;`            -> ("define", NAME, value, line)
- `$var['a']['b'] = EXPR;` (array(...) / [...] literals)      -> ("assign", (var, a, b), value, line)
- `require|include[_once] EXPR;`                              -> ("include", path or UNKNOWN, None, line)

EXPR is a literal, an array literal, a `.` concatenation of known parts, `__DIR__`,
`dirname(__FILE__)` or a constant defined earlier in the same walk; anything else
(`getenv()`, `$_SERVER[...]`, calls) is `UNKNOWN`. A PHP constant cannot be redefined, so
the first `define` of a name wins; a variable's last assignment wins.
"""

from __future__ import annotations

import re
from typing import Any

from modernize.parsers.jsobject import skip_expression
from modernize.snapshot import paths as P


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Any = _Unknown()

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<close>\?>)
  | (?P<comment>(?://|\#(?!\[))(?:(?!\?>)[^\n])*|/\*.*?\*/)
  | (?P<sq>'(?:\\.|[^'\\])*')
  | (?P<dq>"(?:\\.|[^"\\])*")
  | (?P<heredoc><<<[ \t]*(?P<q>["']?)(?P<label>[A-Za-z_]\w*)(?P=q)\r?\n(?P<body>.*?)\r?\n[ \t]*(?P=label)\b)
  | (?P<var>\$[A-Za-z_]\w*)
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<id>\\?[A-Za-z_][\w\\]*)
  | (?P<punct>=>|::|->|\?\?=?|\.=|===|!==|==|!=|<=|>=|&&|\|\||[-+*/%.=<>!?:;,()\[\]{}@&|^~])
    """,
    re.VERBOSE | re.DOTALL,
)
_OPEN = re.compile(r"<\?(?:php\b|=)?", re.IGNORECASE)
_DQ_ESC = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "v": "\v",
    "f": "\f",
    "0": "\0",
    "\\": "\\",
    '"': '"',
    "$": "$",
    "e": "\x1b",
}


def tokens(text: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos = 0
    line = 1
    while pos < len(text):
        m = _OPEN.search(text, pos)
        if m is None:
            break
        line += text.count("\n", pos, m.end())
        pos = m.end()
        while pos < len(text):
            t = _TOKEN.match(text, pos)
            if t is None:
                pos += 1
                continue
            kind = t.lastgroup or ""
            if t.group("heredoc"):
                kind = "nowdoc" if t.group("q") == "'" else "heredoc"
                out.append((kind, t.group("body"), line))
            elif kind == "close":
                line += t.group().count("\n")
                pos = t.end()
                break
            elif kind not in ("ws", "comment"):
                out.append((kind, t.group(), line))
            line += t.group().count("\n")
            pos = t.end()
    return out


def _sq(raw: str) -> str:
    return re.sub(r"\\([\\'])", r"\1", raw[1:-1])


def _dq(body: str) -> Any:
    if re.search(r"(?<!\\)\$[A-Za-z_{]|\{\$", body):
        return UNKNOWN
    return re.sub(r"\\(.)", lambda m: _DQ_ESC.get(m.group(1), "\\" + m.group(1)), body, flags=re.DOTALL)


class _Walker:
    def __init__(self, toks: list[tuple[str, str, int]], path: str, consts: dict[str, Any]) -> None:
        self.t = toks
        self.i = 0
        self.path = path
        self.consts = consts  # constants known so far (for ABSPATH . 'x')

    def peek(self, k: int = 0) -> tuple[str, str, int]:
        j = self.i + k
        return self.t[j] if j < len(self.t) else ("eof", "", 0)

    def expr(self) -> Any:
        """A value up to `,` `)` `]` `;` at depth 0."""
        parts = [self.term()]
        while self.peek()[1] == ".":
            self.i += 1
            parts.append(self.term())
        if self.peek()[1] not in (",", ")", "]", ";", "=>", "eof", ""):
            self.skip()
            return UNKNOWN
        if len(parts) == 1:
            return parts[0]
        if all(isinstance(p, (str, int, float)) and not isinstance(p, bool) for p in parts):
            return "".join(str(p) for p in parts)
        return UNKNOWN

    def skip(self) -> None:
        self.i = skip_expression(self.t, self.i)

    def term(self) -> Any:
        kind, text, _ = self.peek()
        self.i += 1
        if kind == "sq":
            return _sq(text)
        if kind == "dq":
            return _dq(text[1:-1])
        if kind == "nowdoc":
            return text
        if kind == "heredoc":
            return _dq(text)
        if kind == "num":
            return float(text) if "." in text else int(text)
        if kind == "punct" and text == "(":
            v = self.expr()
            if self.peek()[1] == ")":
                self.i += 1
            return v
        if kind == "punct" and text == "[":
            return self.array("]")
        if kind == "punct" and text in ("-", "+") and self.peek()[0] == "num":
            n = self.term()
            return -n if text == "-" else n
        if kind == "id":
            low = text.lower()
            if low == "array" and self.peek()[1] == "(":
                self.i += 1
                return self.array(")")
            if low in ("true", "false", "null"):
                return {"true": True, "false": False, "null": None}[low]
            if text == "__DIR__":
                return P.parent(self.path)
            if text == "__FILE__":
                return self.path
            if low == "dirname" and self.peek()[1] == "(":
                self.i += 1
                arg = self.expr()
                if self.peek()[1] == ")":
                    self.i += 1
                return P.parent(arg) if isinstance(arg, str) and arg.startswith("/") else UNKNOWN
            if self.peek()[1] == "(":
                self.i += 1
                self.skip()
                if self.peek()[1] == ")":
                    self.i += 1
                return UNKNOWN
            if self.peek()[1] == "::":
                self.i += 2
                return UNKNOWN
            return self.consts.get(text, UNKNOWN)
        if kind == "var":
            while self.peek()[1] in ("[", "->"):
                if self.peek()[1] == "[":
                    self.i += 1
                    self.skip()
                    self.i += 1
                else:
                    self.i += 2
            return UNKNOWN
        self.i -= 1
        self.skip()
        return UNKNOWN

    def array(self, close: str) -> Any:
        out: dict[Any, Any] = {}
        n = 0
        while self.i < len(self.t):
            if self.peek()[1] == close:
                self.i += 1
                return out
            if self.peek()[1] == ",":
                self.i += 1
                continue
            first = self.expr()
            if self.peek()[1] == "=>":
                self.i += 1
                value = self.expr()
                key = first if isinstance(first, (str, int)) and first is not UNKNOWN else f"?{n}"
                out[key] = value
                if isinstance(first, int):
                    n = max(n, first + 1)
            else:
                out[n] = first
                n += 1
            if self.peek()[1] not in (",", close):
                self.skip()
                if self.peek()[1] not in (",", close):
                    self.i += 1
        return out


def statements(text: str, path: str, consts: dict[str, Any] | None = None) -> list[tuple[str, Any, Any, int]]:
    """The recognised statements of one file, in order (see the module docstring).
    `consts` holds constants defined before this file runs; it is updated as defines pass."""
    known = consts if consts is not None else {}
    w = _Walker(tokens(text), path, known)
    out: list[tuple[str, Any, Any, int]] = []
    while w.i < len(w.t):
        kind, text_, line = w.peek()
        low = text_.lower()
        if kind == "id" and low == "define" and w.peek(1)[1] == "(":
            w.i += 2
            name = w.expr()
            value: Any = UNKNOWN
            if w.peek()[1] == ",":
                w.i += 1
                value = w.expr()
            if isinstance(name, str):
                out.append(("define", name, value, line))
                known.setdefault(name, value)
            continue
        if kind == "id" and low == "const" and w.peek(1)[0] == "id" and w.peek(2)[1] == "=":
            name = w.peek(1)[1]
            w.i += 3
            value = w.expr()
            out.append(("define", name, value, line))
            known.setdefault(name, value)
            continue
        if kind == "id" and low in ("require", "require_once", "include", "include_once"):
            w.i += 1
            target = w.expr()
            out.append(("include", target if isinstance(target, str) else UNKNOWN, None, line))
            continue
        if kind == "var" and text_ not in ("$this",):
            keys: list[Any] = [text_[1:]]
            j = w.i
            w.i += 1
            ok = True
            while w.peek()[1] == "[":
                w.i += 1
                k = w.expr()
                if w.peek()[1] != "]":
                    ok = False
                    break
                w.i += 1
                keys.append(k)
            if ok and w.peek()[1] == "=" and all(isinstance(k, (str, int)) and k is not UNKNOWN for k in keys):
                w.i += 1
                value = w.expr()
                out.append(("assign", tuple(keys), value, line))
                continue
            w.i = j + 1
            continue
        w.i += 1
    return out


def variables(stmts: list[tuple[str, Any, Any, int]]) -> dict[str, Any]:
    """Assignments folded into nested dicts: `$databases['default']['default'] = [...]`."""
    out: dict[str, Any] = {}
    for kind, keys, value, _line in stmts:
        if kind != "assign":
            continue
        cur: dict[Any, Any] = out
        for k in keys[:-1]:
            nxt = cur.get(k)
            if not isinstance(nxt, dict):
                nxt = {}
                cur[k] = nxt
            cur = nxt
        cur[keys[-1]] = value
    return out
