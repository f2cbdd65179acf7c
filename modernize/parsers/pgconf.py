"""postgresql.conf, following PostgreSQL's own rules (guc-file.l, "Setting Parameters").

- one `name = value` per line; the `=` is optional; names are case-insensitive;
- `#` starts a comment anywhere outside a quoted value;
- a value is a bare word or a single-quoted string (`''` and `\\'` escape a quote);
- `include 'file'`, `include_if_exists 'file'` and `include_dir 'dir'` are processed
  where they appear; relative paths are relative to the including file's directory;
  `include_dir` takes the `*.conf` files not starting with `.`, in file-name order;
- the last setting of a parameter wins; nesting stops at depth 10 (as the server does).

The same syntax is used by the Debian `environment` file and `postgresql.auto.conf`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from modernize.snapshot import Snapshot
from modernize.snapshot.paths import absolute, join, parent

MAX_DEPTH = 10


@dataclass(frozen=True)
class PgSetting:
    name: str  # lower-cased
    value: str
    path: str
    line: int
    raw: str  # the line as written (for evidence excerpts)
    via: tuple[str, ...] = ()


@dataclass
class PgConf:
    settings: dict[str, PgSetting] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)  # every file read, in order
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, why)

    def get(self, name: str) -> PgSetting | None:
        return self.settings.get(name.lower())

    def value(self, name: str) -> str | None:
        s = self.get(name)
        return s.value if s else None


def parse_line(line: str) -> tuple[str, str] | None:
    """(name, value) of one line, or None for a blank/comment line.
    Raises ValueError on a syntax error."""
    i, n = 0, len(line)
    while i < n and line[i].isspace():
        i += 1
    if i == n or line[i] == "#":
        return None
    start = i
    while i < n and (line[i].isalnum() or line[i] in "_.$-" or ord(line[i]) >= 0x80):
        i += 1
    name = line[start:i]
    if not name:
        raise ValueError(f"syntax error near {line.strip()[:40]!r}")
    while i < n and line[i].isspace():
        i += 1
    if i < n and line[i] == "=":
        i += 1
        while i < n and line[i].isspace():
            i += 1
    if i < n and line[i] == "'":
        i += 1
        out: list[str] = []
        while True:
            if i >= n:
                raise ValueError("unterminated quoted string")
            c = line[i]
            if c == "\\" and i + 1 < n:
                out.append(line[i + 1])
                i += 2
            elif c == "'" and i + 1 < n and line[i + 1] == "'":
                out.append("'")
                i += 2
            elif c == "'":
                i += 1
                break
            else:
                out.append(c)
                i += 1
        value = "".join(out)
    else:
        start = i
        while i < n and not line[i].isspace() and line[i] != "#":
            i += 1
        value = line[start:i]
        if not value:
            raise ValueError(f"missing value for {name}")
    while i < n and line[i].isspace():
        i += 1
    if i < n and line[i] != "#":
        raise ValueError(f"syntax error after {name}")
    return name, value


def _targets(text: str, path: str) -> list[tuple[str, str]]:
    """The include directives of one file: (kind, absolute path)."""
    out = []
    for raw in text.splitlines():
        try:
            parsed = parse_line(raw)
        except ValueError:
            continue
        if parsed and parsed[0].lower() in ("include", "include_if_exists", "include_dir"):
            out.append((parsed[0].lower(), _absolute(parsed[1], path)))
    return out


def _absolute(target: str, path: str) -> str:
    return absolute(target, parent(path))


def include_dir_files(snap: Snapshot, directory: str) -> list[str]:
    names = [n for n in snap.listdir(directory) if n.endswith(".conf") and not n.startswith(".")]
    return [join(directory, n) for n in sorted(names)]


def load(snap: Snapshot, path: str, conf: PgConf | None = None, *, via: tuple[str, ...] = ()) -> PgConf:
    """Parse `path` and what it includes into `conf` (later settings win). Second-order
    files are announced with `snap.want` (all of one file's includes at once)."""
    conf = conf if conf is not None else PgConf()
    text = snap.text(path)
    if text is None:
        return conf
    _apply(snap, conf, path, text, via)
    return conf


def _apply(snap: Snapshot, conf: PgConf, path: str, text: str, via: tuple[str, ...]) -> None:
    conf.files.append(path)
    if len(via) >= MAX_DEPTH:
        conf.errors.append((path, "includes nested too deeply"))
        return
    wanted: list[str] = []
    for kind, target in _targets(text, path):
        wanted.extend(include_dir_files(snap, target) if kind == "include_dir" else [target])
    if wanted:
        snap.want(wanted)
    for no, raw in enumerate(text.splitlines(), 1):
        try:
            parsed = parse_line(raw)
        except ValueError as exc:
            conf.errors.append((path, f"line {no}: {exc}"))
            continue
        if parsed is None:
            continue
        name, value = parsed[0].lower(), parsed[1]
        inner = (*via, path)
        if name == "include_dir":
            directory = _absolute(value, path)
            if not snap.is_dir(directory):
                conf.errors.append((path, f"line {no}: include_dir {directory} does not exist"))
            for f in include_dir_files(snap, directory):
                load(snap, f, conf, via=inner)
        elif name in ("include", "include_if_exists"):
            target = _absolute(value, path)
            if not snap.exists(target):
                if name == "include":
                    conf.errors.append((path, f"line {no}: include {target} does not exist"))
                continue
            load(snap, target, conf, via=inner)
        else:
            conf.settings[name] = PgSetting(name, value, path, no, raw.strip(), via)


def split_list(value: str) -> list[str]:
    """`'localhost, 10.0.0.5'` -> ['localhost', '10.0.0.5'] (list-valued GUCs)."""
    return [v.strip().strip('"') for v in value.split(",") if v.strip()]
