"""What a detector reads, declared as data.

A declaration is a glob over server paths plus a read mode. Being data lets a
tarball source fetch the union of all declarations in one sequential pass, lets
a future SSH source turn them into one remote `find`/`tar`, and lets a scan
compile them all into one regular expression instead of millions of fnmatch calls.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass


class ReadMode(enum.Enum):
    WHOLE = "whole"  # the whole file, bounded by the size limit
    HEAD = "head"  # the first `size` bytes (ELF headers, magic numbers)
    TAIL = "tail"  # the last `size` bytes (a zip's central directory)
    META = "meta"  # metadata only: existence, owner, size; nothing read
    LINES = "lines"  # only the lines matching `lines` (apt's 50 MB lists for two fields)


@dataclass(frozen=True, slots=True)
class Declaration:
    """`pattern` is an absolute glob: `/etc/nginx/**`, `**/package.json`.

    `size` is the byte count for HEAD/TAIL; `max_size` overrides the source's size
    bound for WHOLE and LINES reads (e.g. an rpmdb.sqlite). `exclude` names directories
    never to descend into for this declaration (e.g. `node_modules`). `lines` is the
    LINES filter: an extended regular expression anchored at `^`, no blanks, that
    means the same to Python's `re` and to `grep -E` (a live host filters remotely).
    """

    pattern: str
    mode: ReadMode = ReadMode.WHOLE
    size: int = 0
    max_size: int = 0
    exclude: tuple[str, ...] = ()
    lines: str = ""

    def __post_init__(self) -> None:
        if not self.pattern.startswith("/") and not self.pattern.startswith("**"):
            raise ValueError(f"declaration pattern must be absolute: {self.pattern!r}")
        if (self.mode is ReadMode.LINES) != bool(self.lines):
            raise ValueError(f"{self.pattern}: a LINES read needs a line filter, and only it has one")
        if self.lines and (not self.lines.startswith("^") or re.search(r"[\s\\]", self.lines)):
            raise ValueError(f"{self.pattern}: line filter {self.lines!r} must start with ^ and hold no blank or \\")

    def describe(self) -> str:
        extra = ""
        if self.mode in (ReadMode.HEAD, ReadMode.TAIL):
            extra = f" ({self.mode.value} {self.size} B)"
        elif self.mode is ReadMode.META:
            extra = " (metadata)"
        elif self.mode is ReadMode.LINES:
            extra = f" (lines matching {self.lines})"
        if self.exclude:
            extra += " (not in " + ", ".join(self.exclude) + ")"
        return self.pattern + extra


def whole(*patterns: str, max_size: int = 0, exclude: tuple[str, ...] = ()) -> tuple[Declaration, ...]:
    return tuple(Declaration(p, ReadMode.WHOLE, max_size=max_size, exclude=exclude) for p in patterns)


def head(size: int, *patterns: str) -> tuple[Declaration, ...]:
    return tuple(Declaration(p, ReadMode.HEAD, size=size) for p in patterns)


def tail(size: int, *patterns: str) -> tuple[Declaration, ...]:
    return tuple(Declaration(p, ReadMode.TAIL, size=size) for p in patterns)


def matching_lines(regex: str, *patterns: str, max_size: int = 0) -> tuple[Declaration, ...]:
    return tuple(Declaration(p, ReadMode.LINES, max_size=max_size, lines=regex) for p in patterns)


def keep_lines(data: bytes, regex: str) -> bytes:
    """The lines of DATA that REGEX matches, each ending in a newline (as `grep -E` prints them)."""
    heads = _literal_heads(regex)
    if heads is not None:  # `^(Package|Version):`: C-speed finds, 5x a regex over apt's 50 MB list
        return _lines_starting(data, heads)
    rx = re.compile(b"(?:" + regex.encode() + b").*", re.MULTILINE)
    return b"".join(m.group(0) + b"\n" for m in rx.finditer(data))


_LITERAL = r"[A-Za-z0-9_:/=-]+"
_HEADS = re.compile(rf"\^(?:\(({_LITERAL}(?:\|{_LITERAL})*)\))?({_LITERAL})?")


def _literal_heads(regex: str) -> tuple[bytes, ...] | None:
    """`^(a|b)c` as the literal line starts (b"ac", b"bc"); None for anything richer."""
    m = _HEADS.fullmatch(regex)
    if m is None or not (m.group(1) or m.group(2)):
        return None
    alts = (m.group(1) or "").split("|")
    return tuple(dict.fromkeys((a + (m.group(2) or "")).encode() for a in alts))


def _lines_starting(data: bytes, heads: tuple[bytes, ...]) -> bytes:
    starts: set[int] = set()
    for head in heads:
        if data.startswith(head):
            starts.add(0)
        needle = b"\n" + head
        i = data.find(needle)
        while i >= 0:
            starts.add(i + 1)
            i = data.find(needle, i + 1)
    out = []
    for start in sorted(starts):
        end = data.find(b"\n", start)
        out.append(data[start:] + b"\n" if end < 0 else data[start : end + 1])
    return b"".join(out)


def glob_to_regex(pattern: str) -> str:
    """Translate a path glob to a regex over absolute paths. `**` spans directories."""
    pat = _abs(pattern)
    out: list[str] = []
    i, n = 0, len(pat)
    while i < n:
        c = pat[i]
        if pat.startswith("/**/", i):
            out.append("(?:/.*)?/")
            i += 4
        elif pat.startswith("/**", i) and i + 3 == n:
            out.append("(?:/.*)?")
            i += 3
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            j = pat.find("]", i + 2)
            if j < 0:
                out.append(re.escape(c))
                i += 1
                continue
            body = pat[i + 1 : j]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = j + 1
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


def _one(decl: Declaration) -> str:
    rx = glob_to_regex(decl.pattern)
    if decl.exclude:
        names = "|".join(re.escape(x) for x in decl.exclude)
        rx = f"(?!.*/(?:{names})/)" + rx
    return rx


_PRIORITY = {ReadMode.WHOLE: 0, ReadMode.LINES: 1, ReadMode.TAIL: 2, ReadMode.HEAD: 3, ReadMode.META: 4}


_WILD = re.compile(r"[*?\[]")


def has_magic(pattern: str) -> bool:
    return _WILD.search(pattern) is not None


def literal_prefix(pattern: str) -> str:
    """The part of a pattern before its first wildcard (`/etc/nginx/` of `/etc/nginx/*.conf`)."""
    m = _WILD.search(pattern)
    return pattern if m is None else pattern[: m.start()]


def _literal_chunks(pattern: str) -> list[str]:
    return [c for c in re.split(r"\*\*|[*?]|\[[^\]]*\]", pattern) if len(c) > 2]


class _Alternation:
    """Declarations compiled into one regex; the first alternative that matches wins."""

    def __init__(self, items: list[tuple[int, Declaration]]) -> None:
        self.index = [i for i, _ in items]
        self.items = items
        self.rx: re.Pattern[str] | None = None  # compiled on first use: most file names never occur

    def match(self, path: str) -> int | None:
        if self.rx is None:
            alternatives = "|".join(f"(?P<d{k}>{_one(d)})" for k, (_, d) in enumerate(self.items))
            self.rx = re.compile(f"(?:{alternatives})\\Z", re.DOTALL)  # the anchor binds every alternative
        m = self.rx.match(path)
        if m is None or m.lastgroup is None:
            return None
        return self.index[int(m.lastgroup[1:])]


class _Group:
    """Declarations sharing a first path component. Most paths match none, so a
    path is looked up by its file name first (most declarations end in a literal
    name: `package.json`, `pg_hba.conf`); only those ending in a wildcard are tried
    as one regex, and only past C-level tests of their literal prefixes and, when
    they all have one, their literal suffixes (`.conf` of `*.conf`)."""

    def __init__(self, items: list[tuple[int, Declaration]]) -> None:
        by_name: dict[str, list[tuple[int, Declaration]]] = {}
        wild: list[tuple[int, Declaration]] = []
        for i, d in items:
            base = _abs(d.pattern).rsplit("/", 1)[1]
            if _WILD.search(base) is None:
                by_name.setdefault(base, []).append((i, d))
            else:
                wild.append((i, d))
        self.named = {name: _Alternation(group) for name, group in by_name.items()}
        self.wild = _Alternation(wild) if wild else None
        self.prefixes = tuple(sorted({_filter_prefix(_abs(d.pattern)) for _, d in wild}))
        tails = [_literal_tail(_abs(d.pattern)) for _, d in wild]
        self.suffixes: tuple[str, ...] | None = tuple(sorted(set(tails))) if all(tails) else None

    def match(self, path: str) -> int | None:
        best: int | None = None
        named = self.named.get(path[path.rfind("/") + 1 :])
        if named is not None:
            best = named.match(path)
        if (
            self.wild is not None
            and path.startswith(self.prefixes)
            and (self.suffixes is None or path.endswith(self.suffixes))
        ):
            other = self.wild.match(path)
            if other is not None and (best is None or other < best):
                best = other
        return best


def _filter_prefix(pattern: str) -> str:
    """What every path a pattern matches starts with: its literal prefix, less the
    slash before a `**` (`/etc/**` matches `/etc` itself)."""
    prefix = literal_prefix(pattern)
    if prefix.endswith("/") and pattern.startswith("**", len(prefix)):
        return prefix[:-1]
    return prefix


def _literal_tail(pattern: str) -> str:
    """The part of a pattern after its last wildcard (`.conf` of `/etc/*.conf`)."""
    ends = [m.end() for m in _WILD.finditer(pattern)]
    if not ends:
        return pattern
    # a `[...]` class ends at its `]`
    last = ends[-1]
    if pattern[last - 1] == "[":
        close = pattern.find("]", last + 1)
        return "" if close < 0 else pattern[close + 1 :]
    return pattern[last:]


def _abs(pattern: str) -> str:
    return pattern if pattern.startswith("/") else "/" + pattern


class Matcher:
    """All declarations compiled for one scan; `match(path)` gives the winning
    declaration (WHOLE beats TAIL beats HEAD; a larger size bound wins).

    Most members of a server tarball match nothing, so the work per path is kept
    small: declarations are grouped by their first path component (one regex per
    group, entered only past a C-level `startswith` over the group's literal
    prefixes); patterns that may match anywhere (`**/webapps/*.war`) are entered
    only when the path holds one of their literal pieces."""

    def __init__(self, declarations: Iterable[Declaration]) -> None:
        decls = sorted(set(declarations), key=lambda d: (_PRIORITY[d.mode], -d.max_size, -d.size, d.pattern))
        self.declarations = tuple(decls)
        self._each: list[tuple[Declaration, re.Pattern[str]]] | None = None  # LINES/HEAD/TAIL, compiled when used
        by_top: dict[str, list[tuple[int, Declaration]]] = {}
        anywhere: list[tuple[int, Declaration]] = []
        for i, d in enumerate(decls):
            pat = _abs(d.pattern)
            top = pat.split("/")[1]
            if top and not _WILD.search(top):
                by_top.setdefault(top, []).append((i, d))
            else:
                anywhere.append((i, d))
        self._groups = {top: _Group(items) for top, items in by_top.items()}
        self._anywhere = _Group(anywhere) if anywhere else None
        chunks = [_literal_chunks(_abs(d.pattern)) for _, d in anywhere]
        if anywhere and all(chunks):
            self._pieces: re.Pattern[str] | None = re.compile("|".join(re.escape(max(c, key=len)) for c in chunks))
        else:
            self._pieces = None  # some anywhere-pattern has no literal piece: always try

    def match(self, path: str) -> Declaration | None:
        end = path.find("/", 1)
        group = self._groups.get(path[1:end] if end > 0 else path[1:])
        best: int | None = None
        if group is not None:
            best = group.match(path)
        if self._anywhere is not None and (self._pieces is None or self._pieces.search(path)):
            other = self._anywhere.match(path)
            if other is not None and (best is None or other < best):
                best = other
        return None if best is None else self.declarations[best]

    def partial(self, path: str, size: int, bound: int) -> Declaration | None:
        """The best LINES, HEAD or TAIL declaration for a file of SIZE bytes too large to
        read whole (a LINES one only within its own bound, else BOUND)."""
        if self._each is None:
            self._each = [
                (d, re.compile(_one(d) + "\\Z", re.DOTALL))
                for d in self.declarations
                if d.mode in (ReadMode.LINES, ReadMode.HEAD, ReadMode.TAIL)
            ]
        return next(
            (
                decl
                for decl, rx in self._each
                if (decl.mode is not ReadMode.LINES or size <= (decl.max_size or bound)) and rx.match(path)
            ),
            None,
        )
