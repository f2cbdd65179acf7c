"""An in-memory snapshot for tests, built from `{path: content}` in one line.

It is strict: reading a path that no declaration (nor a `want`) covers raises
UndeclaredRead, so a detector that forgot to declare a read fails in its own unit
test, not only later on a real tarball where the file was never fetched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from modernize.snapshot import paths as P
from modernize.snapshot.base import DIR, FILE, SYMLINK, FileInfo, ReadResult, UndeclaredRead
from modernize.snapshot.declarations import Declaration, Matcher, ReadMode
from modernize.snapshot.indexed import IndexedSnapshot


@dataclass(frozen=True)
class Link:
    target: str


@dataclass(frozen=True)
class Dir:
    mode: int = 0o755
    uid: int = 0
    gid: int = 0


@dataclass(frozen=True)
class Special:
    kind: str  # fifo, char, block, socket


@dataclass(frozen=True)
class File:
    content: bytes | str
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    size: int | None = None  # pretend a larger size (for size-bound tests)


Content = str | bytes | Link | Dir | Special | File


class MemorySnapshot(IndexedSnapshot):
    kind = "memory"

    def __init__(
        self, files: Mapping[str, Content], *, strict: bool = True, location: str = "memory", **kwargs: int
    ) -> None:
        super().__init__(location, **kwargs)
        self.strict = strict
        self._matcher: Matcher | None = None
        self._wanted: set[str] = set()
        for raw, value in sorted(files.items()):
            path = P.normalize(raw)
            if isinstance(value, Link):
                self.add(FileInfo(path, SYMLINK, len(value.target), 0o777, linkname=value.target))
            elif isinstance(value, Dir):
                self.add(FileInfo(path, DIR, 0, value.mode, value.uid, value.gid))
            elif isinstance(value, Special):
                self.add(FileInfo(path, value.kind, 0, 0o644))
            else:
                f = value if isinstance(value, File) else File(value)
                data = f.content.encode() if isinstance(f.content, str) else f.content
                size = f.size if f.size is not None else len(data)
                self.add(FileInfo(path, FILE, size, f.mode, f.uid, f.gid))
                self.put(path, ReadMode.WHOLE, data)
        self.passes = 1

    def prefetch(self, declarations: list[Declaration]) -> None:
        self._matcher = Matcher(declarations)

    def want(self, paths: Iterable[str | Declaration]) -> None:
        self._wanted.update(P.normalize(p.pattern if isinstance(p, Declaration) else p) for p in paths)

    def read(self, path: str, decl: Declaration | None = None) -> ReadResult:
        if self.strict and not self._covered(P.normalize(path)):
            raise UndeclaredRead(f"read of {path} is not covered by any declaration or want()")
        return super().read(path, decl)

    def _covered(self, path: str) -> bool:
        if path in self._wanted:
            return True
        if self._matcher is None:
            return False
        if self._matcher.match(path) is not None:
            return True
        real = self.realpath(path)
        return real is not None and self._matcher.match(real) is not None
