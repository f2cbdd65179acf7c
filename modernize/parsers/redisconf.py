"""redis.conf / sentinel.conf, following Redis's own loader (config.c, sds.c sdssplitargs).

- one directive per line, the first word case-insensitive; `#` starts a comment line;
- arguments split like `sdssplitargs`: "double quotes" take `\\n \\t \\r \\b \\a \\\\ \\" \\xHH`
  escapes, 'single quotes' only `\\'`; a closing quote must end the argument;
- `include PATH` (a glob since Redis 7) reads the files at that point; later
  directives replace earlier ones (the caller decides which directives accumulate).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from modernize.snapshot import Snapshot
from modernize.snapshot.paths import absolute, parent

MAX_DEPTH = 10
_DQ = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "a": "\a", "\\": "\\", '"': '"'}


@dataclass(frozen=True)
class Directive:
    name: str  # lower-cased
    args: tuple[str, ...]
    path: str
    line: int
    via: tuple[str, ...] = ()


@dataclass
class RedisConf:
    directives: list[Directive] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def last(self, name: str) -> Directive | None:
        for d in reversed(self.directives):
            if d.name == name:
                return d
        return None

    def all(self, name: str) -> list[Directive]:
        return [d for d in self.directives if d.name == name]


def splitargs(line: str) -> list[str]:
    """Redis's sdssplitargs; raises ValueError on unbalanced quotes."""
    out: list[str] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i].isspace():
            i += 1
        if i >= n:
            return out
        cur: list[str] = []
        if line[i] == '"':
            i += 1
            while True:
                if i >= n:
                    raise ValueError("unbalanced double quotes")
                c = line[i]
                if c == "\\" and line[i + 1 : i + 2] == "x" and _hex(line[i + 2 : i + 4]):
                    cur.append(chr(int(line[i + 2 : i + 4], 16)))
                    i += 4
                elif c == "\\" and i + 1 < n:
                    cur.append(_DQ.get(line[i + 1], line[i + 1]))
                    i += 2
                elif c == '"':
                    i += 1
                    if i < n and not line[i].isspace():
                        raise ValueError("closing quote must be followed by a space")
                    break
                else:
                    cur.append(c)
                    i += 1
        elif line[i] == "'":
            i += 1
            while True:
                if i >= n:
                    raise ValueError("unbalanced single quotes")
                c = line[i]
                if c == "\\" and line[i + 1 : i + 2] == "'":
                    cur.append("'")
                    i += 2
                elif c == "'":
                    i += 1
                    if i < n and not line[i].isspace():
                        raise ValueError("closing quote must be followed by a space")
                    break
                else:
                    cur.append(c)
                    i += 1
        else:
            while i < n and not line[i].isspace():
                cur.append(line[i])
                i += 1
        out.append("".join(cur))


def _hex(s: str) -> bool:
    return len(s) == 2 and all(c in "0123456789abcdefABCDEF" for c in s)


def _include_targets(snap: Snapshot, pattern: str, path: str) -> list[str]:
    pat = absolute(pattern, parent(path))
    if any(c in pat for c in "*?["):
        return snap.glob(pat)
    return [pat]


def load(snap: Snapshot, path: str, conf: RedisConf | None = None, *, via: tuple[str, ...] = ()) -> RedisConf:
    conf = conf if conf is not None else RedisConf()
    text = snap.text(path)
    if text is None:
        return conf
    if len(via) >= MAX_DEPTH or path in via:
        conf.errors.append((path, "include loop or nesting too deep"))
        return conf
    conf.files.append(path)
    parsed: list[tuple[int, list[str]]] = []
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            args = splitargs(line)
        except ValueError as exc:
            conf.errors.append((path, f"line {no}: {exc}"))
            continue
        if args:
            parsed.append((no, args))
    wanted = [
        t for _, a in parsed if a[0].lower() == "include" and len(a) > 1 for t in _include_targets(snap, a[1], path)
    ]
    if wanted:
        snap.want(wanted)
    for no, args in parsed:
        name = args[0].lower()
        if name == "include" and len(args) > 1:
            for target in _include_targets(snap, args[1], path):
                load(snap, target, conf, via=(*via, path))
            continue
        conf.directives.append(Directive(name, tuple(args[1:]), path, no, via))
    return conf
