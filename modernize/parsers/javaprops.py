"""Java `.properties` files, by java.util.Properties.load rules.

- `#` and `!` start a comment line (only as the first non-blank character);
- the key ends at the first unescaped `=`, `:` or whitespace; blanks around the
  separator are dropped;
- a line ending in an odd number of backslashes continues on the next line, whose
  leading blanks are dropped;
- escapes: `\\t \\n \\r \\f`, `\\uXXXX`, and `\\X` is X (so `\\=`, `\\:`, `\\ ` and `\\#`).
Later keys override earlier ones (the line of the winning one is kept).
"""

from __future__ import annotations

_ESC = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def _unescape(text: str) -> str:
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            if n == "u" and i + 6 <= len(text):
                try:
                    out.append(chr(int(text[i + 2 : i + 6], 16)))
                    i += 6
                    continue
                except ValueError:
                    pass
            out.append(_ESC.get(n, n))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _odd_backslashes(line: str) -> bool:
    n = len(line) - len(line.rstrip("\\"))
    return n % 2 == 1


def logical_lines(text: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        no = i + 1
        line = lines[i].lstrip(" \t\f")
        i += 1
        if not line or line[0] in "#!":
            continue
        while _odd_backslashes(line) and i < len(lines):
            line = line[:-1] + lines[i].lstrip(" \t\f")
            i += 1
        if _odd_backslashes(line):
            line = line[:-1]
        out.append((no, line))
    return out


def split_entry(line: str) -> tuple[str, str]:
    i = 0
    while i < len(line):
        c = line[i]
        if c == "\\":
            i += 2
            continue
        if c in "=: \t\f":
            break
        i += 1
    key = line[:i]
    rest = line[i:].lstrip(" \t\f")
    if rest[:1] in ("=", ":"):
        rest = rest[1:].lstrip(" \t\f")
    return _unescape(key), _unescape(rest)


def parse(text: str) -> dict[str, tuple[str, int]]:
    """key -> (value, line)."""
    out: dict[str, tuple[str, int]] = {}
    for no, line in logical_lines(text):
        key, value = split_entry(line)
        if key:
            out[key] = (value, no)
    return out
