"""nginx configuration, read the way nginx's own `ngx_conf_file.c` reads it.

Rules followed:
* tokens are separated by whitespace; `;` ends a simple directive, `{` opens a block
  and `}` closes it;
* `#` starts a comment only at the start of a token (`a#b` is one token);
* `"..."` and `'...'` quote, with `\\` escaping the next character;
* `include` is replaced in place by the directives of the files it names; a relative
  path is relative to the configuration prefix (the directory of nginx.conf); a glob
  is expanded in sorted order and may match nothing, a plain path must exist;
* includes nest, and a cycle is an error (as nginx fails on deep recursion).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from modernize.snapshot import Snapshot
from modernize.snapshot import paths as P
from modernize.snapshot.declarations import has_magic

MAX_INCLUDE_DEPTH = 20


class NginxSyntaxError(ValueError):
    def __init__(self, path: str, line: int, why: str) -> None:
        super().__init__(f"{path}:{line}: {why}")
        self.path = path
        self.line = line


@dataclass
class Directive:
    name: str
    args: list[str]
    path: str
    line: int
    block: list[Directive] | None = None
    via: tuple[str, ...] = ()  # include chain that led to `path`, outermost first

    def children(self, name: str | None = None) -> Iterator[Directive]:
        for d in self.block or ():
            if name is None or d.name == name:
                yield d

    def excerpt(self) -> str:
        text = " ".join([self.name, *self.args])
        return text + (" {" if self.block is not None else ";")


def tokenize(text: str, path: str = "<text>") -> Iterator[tuple[str, int, bool]]:
    """(token, line, quoted). `;`, `{` and `}` come out as their own unquoted tokens."""
    i, n, line = 0, len(text), 1
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c in " \t\r":
            i += 1
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif c in ";{}":
            yield c, line, False
            i += 1
        elif c in "\"'":
            start_line, buf = line, []
            i += 1
            while i < n and text[i] != c:
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                if text[i] == "\n":
                    line += 1
                buf.append(text[i])
                i += 1
            if i >= n:
                raise NginxSyntaxError(path, start_line, "unterminated quoted string")
            i += 1
            yield "".join(buf), start_line, True
        else:
            start_line, buf = line, []
            while i < n and text[i] not in " \t\r\n;{}\"'":
                if text[i] == "\\" and i + 1 < n:
                    buf.append(text[i])
                    i += 1
                buf.append(text[i])
                i += 1
                # `${var}` keeps its braces inside one token
                if buf[-1] == "$" and i < n and text[i] == "{":
                    j = text.find("}", i)
                    if j > 0:
                        buf.append(text[i : j + 1])
                        i = j + 1
            yield "".join(buf), start_line, False


def parse(text: str, path: str = "<text>") -> list[Directive]:
    """The directives of one file, blocks nested; includes left as `include` directives."""
    root: list[Directive] = []
    stack: list[list[Directive]] = [root]
    words: list[str] = []
    start = 0
    for tok, line, quoted in tokenize(text, path):
        if not quoted and tok == ";":
            if not words:
                raise NginxSyntaxError(path, line, "unexpected ';'")
            stack[-1].append(Directive(words[0], words[1:], path, start))
            words = []
        elif not quoted and tok == "{":
            if not words:
                raise NginxSyntaxError(path, line, "unexpected '{'")
            d = Directive(words[0], words[1:], path, start, [])
            stack[-1].append(d)
            assert d.block is not None
            stack.append(d.block)
            words = []
        elif not quoted and tok == "}":
            if words or len(stack) == 1:
                raise NginxSyntaxError(path, line, "unexpected '}'")
            stack.pop()
        else:
            if not words:
                start = line
            words.append(tok)
    if words:
        raise NginxSyntaxError(path, start, "unexpected end of file, expecting ';' or '}'")
    if len(stack) != 1:
        raise NginxSyntaxError(path, start, "unexpected end of file, expecting '}'")
    return root


@dataclass
class Config:
    """A whole configuration with its includes expanded in place."""

    main: str
    directives: list[Directive]
    files: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # (path, via)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, why)

    def walk(self) -> Iterator[tuple[Directive, tuple[Directive, ...]]]:
        """Every directive with its enclosing blocks, outermost first."""

        def rec(
            items: list[Directive], ctx: tuple[Directive, ...]
        ) -> Iterator[tuple[Directive, tuple[Directive, ...]]]:
            for d in items:
                yield d, ctx
                if d.block is not None:
                    yield from rec(d.block, (*ctx, d))

        return rec(self.directives, ())


def include_targets(snap: Snapshot, pattern: str, prefix: str) -> list[str]:
    pat = pattern if pattern.startswith("/") else P.join(prefix, pattern)
    pat = P.normalize(pat)
    if has_magic(pat):
        # glob(3) as nginx calls it: `*` does not match a leading dot
        return [p for p in snap.glob(pat) if not P.split(p)[-1].startswith(".") and snap.is_file(p)]
    return [pat]


def load(snap: Snapshot, main: str, prefix: str | None = None) -> Config | None:
    """Read `main` and everything it includes. None when `main` cannot be read."""
    prefix = prefix or P.parent(main)
    text = snap.text(main)
    if text is None:
        return None
    cfg = Config(main, [])
    cfg.files.append((main, ()))
    try:
        top = parse(text, main)
    except NginxSyntaxError as exc:
        cfg.errors.append((main, str(exc)))
        return cfg
    cfg.directives = _expand(snap, top, prefix, (main,), cfg)
    return cfg


def _expand(
    snap: Snapshot, items: list[Directive], prefix: str, chain: tuple[str, ...], cfg: Config
) -> list[Directive]:
    # every include of this level first, so a fetching source gets them in one batch
    wanted: list[str] = []
    for d in _includes(items):
        if d.args:
            wanted.extend(include_targets(snap, d.args[0], prefix))
    snap.want(wanted)
    return _expand_level(snap, items, prefix, chain, cfg)


def _includes(items: list[Directive]) -> Iterator[Directive]:
    for d in items:
        if d.name == "include" and d.block is None:
            yield d
        elif d.block is not None:
            yield from _includes(d.block)


def _expand_level(
    snap: Snapshot, items: list[Directive], prefix: str, chain: tuple[str, ...], cfg: Config
) -> list[Directive]:
    out: list[Directive] = []
    for d in items:
        d.via = chain[:-1]
        if d.block is not None:
            d.block = _expand_level(snap, d.block, prefix, chain, cfg)
            out.append(d)
            continue
        if d.name != "include" or not d.args:
            out.append(d)
            continue
        for target in include_targets(snap, d.args[0], prefix):
            if target in chain or len(chain) > MAX_INCLUDE_DEPTH:
                cfg.errors.append((d.path, f"line {d.line}: include loop through {target}"))
                continue
            text = snap.text(target)
            if text is None:
                if not has_magic(d.args[0]):
                    cfg.errors.append((d.path, f"line {d.line}: include {target} cannot be read"))
                continue
            cfg.files.append((target, chain))
            try:
                sub = parse(text, target)
            except NginxSyntaxError as exc:
                cfg.errors.append((target, str(exc)))
                continue
            out.extend(_expand(snap, sub, prefix, (*chain, target), cfg))
    return out
