"""Apache httpd configuration, read the way httpd 2.4 reads it at start-up.

Rules followed (server/util.c, server/config.c, core.c):
* a line ending in `\\` continues on the next one (comments too); leading blanks are
  dropped; a line whose first character is `#` is a comment (there are no trailing
  comments); words split on blanks, `"..."`/`'...'` quote, `\\` escapes a quote;
* `<Section args>` ... `</Section>` nest; directive and section names are case-blind;
* the file is processed in order: `LoadModule` takes effect at once, so an
  `<IfModule>` sees only modules loaded above it; `<IfModule>` accepts the module
  identifier (`ssl_module`) or its source file name (`mod_ssl.c`), `!` negates;
  `<IfDefine>` tests `-D` / `Define` names; `<IfFile>` tests a path;
* `${VAR}` expands from `Define` and from the environment (envvars on Debian);
* `Include`/`IncludeOptional` are relative to `ServerRoot`; a directory includes
  every file below it; wildcards (fnmatch, a leading `.` not matched) expand in sorted
  order; `IncludeOptional` ignores what matches nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from modernize.snapshot import Snapshot
from modernize.snapshot import paths as P
from modernize.snapshot.declarations import has_magic

MAX_DEPTH = 30
# Built in to Debian's apache2 binary (`apache2 -l`); RHEL loads the same set from
# conf.modules.d/00-base.conf, so they count as loaded on both.
STATIC_MODULES = (
    "core_module",
    "so_module",
    "http_module",
    "watchdog_module",
    "log_config_module",
    "logio_module",
    "version_module",
    "unixd_module",
)
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ApacheSyntaxError(ValueError):
    pass


@dataclass
class Node:
    name: str  # as written
    args: list[str]
    path: str
    line: int
    children: list[Node] | None = None  # a <Section>'s body

    @property
    def key(self) -> str:
        return self.name.lower()


def split_words(text: str) -> list[str]:
    """ap_getword_conf: blank-separated words, quotes group, `\\"` inside quotes."""
    words: list[str] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            break
        if text[i] in "\"'":
            q = text[i]
            i += 1
            buf = []
            while i < n and text[i] != q:
                if text[i] == "\\" and i + 1 < n and text[i + 1] in (q, "\\"):
                    i += 1
                buf.append(text[i])
                i += 1
            i += 1
            words.append("".join(buf))
        else:
            j = i
            while j < n and text[j] not in " \t":
                j += 1
            words.append(text[i:j])
            i = j
    return words


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    pending, start = "", 0
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        if not pending:
            start = no
            line = line.lstrip()
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        full, pending = pending + line, ""
        full = full.strip()
        if full and not full.startswith("#"):
            yield start, full
    if pending.strip() and not pending.lstrip().startswith("#"):
        yield start, pending.strip()


def parse(text: str, path: str = "<text>") -> list[Node]:
    root: list[Node] = []
    stack: list[Node] = []
    for no, line in logical_lines(text):
        body = stack[-1].children if stack else root
        assert body is not None
        if line.startswith("</"):
            name = line[2:].rstrip(">").strip()
            if not stack or stack[-1].key != name.lower():
                raise ApacheSyntaxError(f"{path}:{no}: </{name}> without matching section")
            stack.pop()
        elif line.startswith("<"):
            inner = line[1:]
            inner = inner[:-1] if inner.endswith(">") else inner
            words = split_words(inner)
            if not words:
                raise ApacheSyntaxError(f"{path}:{no}: empty section")
            node = Node(words[0], words[1:], path, no, [])
            body.append(node)
            stack.append(node)
        else:
            words = split_words(line)
            body.append(Node(words[0], words[1:], path, no))
    if stack:
        raise ApacheSyntaxError(f"{path}:{stack[-1].line}: <{stack[-1].name}> is not closed")
    return root


def module_names(identifier: str) -> set[str]:
    """`ssl_module` -> {ssl_module, mod_ssl.c}: the two names <IfModule> accepts."""
    out = {identifier}
    if identifier.endswith("_module"):
        out.add("mod_" + identifier[: -len("_module")] + ".c")
    if identifier == "http_module":
        out.add("http_core.c")
    if identifier == "core_module":
        out.add("core.c")
    return out


@dataclass
class Effective:
    """A directive that applies, with its variables expanded and its enclosing sections."""

    name: str
    args: list[str]
    path: str
    line: int
    via: tuple[str, ...]
    sections: tuple[tuple[str, tuple[str, ...]], ...]  # (lower-case name, args), outermost first
    scope: tuple[int, ...] = ()  # indexes in ApacheConfig.sections of those sections

    @property
    def key(self) -> str:
        return self.name.lower()

    def section(self, name: str) -> tuple[str, ...] | None:
        for sec, args in reversed(self.sections):
            if sec == name:
                return args
        return None

    def excerpt(self) -> str:
        return " ".join([self.name, *(_quote(a) for a in self.args)])


def _quote(arg: str) -> str:
    return f'"{arg}"' if (" " in arg or not arg) else arg


@dataclass
class ApacheConfig:
    main: str
    server_root: str
    env: dict[str, str]
    defines: dict[str, str] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)  # identifier -> file
    directives: list[Effective] = field(default_factory=list)
    sections: list[Effective] = field(default_factory=list)  # <VirtualHost> etc. that apply
    files: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def loaded(self, name: str) -> bool:
        return any(name in module_names(m) for m in (*STATIC_MODULES, *self.modules))

    def expand(self, text: str) -> str:
        def sub(m: re.Match[str]) -> str:
            var = m.group(1)
            if var in self.defines:
                return self.defines[var]
            return self.env.get(var, m.group(0))

        return _VAR.sub(sub, text)

    def abspath(self, value: str) -> str:
        return P.absolute(value, self.server_root)


def load(
    snap: Snapshot,
    main: str,
    server_root: str,
    env: dict[str, str] | None = None,
    defines: dict[str, str] | None = None,
) -> ApacheConfig | None:
    text = snap.text(main)
    if text is None:
        return None
    cfg = ApacheConfig(main, server_root, dict(env or {}), dict(defines or {}))
    cfg.files.append((main, ()))
    try:
        nodes = parse(text, main)
    except ApacheSyntaxError as exc:
        cfg.errors.append((main, str(exc)))
        return cfg
    _run(snap, cfg, nodes, (main,), (), ())
    return cfg


def include_targets(snap: Snapshot, cfg: ApacheConfig, pattern: str) -> list[str]:
    path = cfg.abspath(pattern)
    if has_magic(path):
        out = []
        for p in snap.glob(path):
            if P.split(p)[-1].startswith("."):
                continue
            out.extend(_files_below(snap, p) if snap.is_dir(p) else [p])
        return out
    if snap.is_dir(path):
        return _files_below(snap, path)
    return [path]


def _files_below(snap: Snapshot, top: str) -> list[str]:
    out: list[str] = []
    for d, _dirs, files in snap.walk(top):
        out.extend(P.join(d, f) for f in files if snap.is_file(P.join(d, f)))
    return sorted(out)


def _run(
    snap: Snapshot,
    cfg: ApacheConfig,
    nodes: list[Node],
    chain: tuple[str, ...],
    sections: tuple[tuple[str, tuple[str, ...]], ...],
    scope: tuple[int, ...],
) -> None:
    for node in nodes:
        args = [cfg.expand(a) for a in node.args]
        key = node.key
        if node.children is not None:
            if key == "ifmodule":
                want = args[0] if args else ""
                neg = want.startswith("!")
                if cfg.loaded(want.lstrip("!")) == neg:
                    continue
            elif key == "ifdefine":
                want = args[0] if args else ""
                neg = want.startswith("!")
                if (want.lstrip("!") in cfg.defines) == neg:
                    continue
            elif key == "iffile":
                want = args[0] if args else ""
                neg = want.startswith("!")
                if snap.exists(cfg.abspath(want.lstrip("!"))) == neg:
                    continue
            inner, inner_scope = sections, scope
            if key not in ("ifmodule", "ifdefine", "iffile", "ifversion", "ifdirective", "ifsection"):
                cfg.sections.append(Effective(node.name, args, node.path, node.line, chain[:-1], sections, scope))
                inner = (*sections, (key, tuple(args)))
                inner_scope = (*scope, len(cfg.sections) - 1)
            _run(snap, cfg, node.children, chain, inner, inner_scope)
            continue
        if key == "define" and args:
            cfg.defines[args[0]] = args[1] if len(args) > 1 else ""
            continue
        if key == "undefine" and args:
            cfg.defines.pop(args[0], None)
            continue
        if key == "serverroot" and args:
            cfg.server_root = P.normalize(args[0])
        if key == "loadmodule" and len(args) >= 2:
            cfg.modules[args[0]] = cfg.abspath(args[1])
        if key in ("include", "includeoptional") and args:
            _include(snap, cfg, node, args[0], key == "includeoptional", chain, sections, scope)
            continue
        cfg.directives.append(Effective(node.name, args, node.path, node.line, chain[:-1], sections, scope))


def _include(
    snap: Snapshot,
    cfg: ApacheConfig,
    node: Node,
    pattern: str,
    optional: bool,
    chain: tuple[str, ...],
    sections: tuple[tuple[str, tuple[str, ...]], ...],
    scope: tuple[int, ...],
) -> None:
    targets = include_targets(snap, cfg, pattern)
    snap.want(targets)
    for target in targets:
        if target in chain or len(chain) > MAX_DEPTH:
            cfg.errors.append((node.path, f"line {node.line}: include loop through {target}"))
            continue
        text = snap.text(target)
        if text is None:
            if not optional and not has_magic(pattern):
                cfg.errors.append((node.path, f"line {node.line}: {target} cannot be read"))
            continue
        cfg.files.append((target, chain))
        try:
            nodes = parse(text, target)
        except ApacheSyntaxError as exc:
            cfg.errors.append((target, str(exc)))
            continue
        _run(snap, cfg, nodes, (*chain, target), sections, scope)
