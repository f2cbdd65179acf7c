"""A snapshot held as an index of entries plus the file contents fetched so far.

Shared by the tarball source (which fills it in sequential passes) and the
in-memory test source (which is built from a dict).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

from modernize.snapshot import paths as P
from modernize.snapshot.base import (
    DIR,
    FILE,
    SYMLINK,
    FileInfo,
    NotYetRead,
    ReadFailed,
    ReadStatus,
    Resolved,
    Snapshot,
)
from modernize.snapshot.declarations import Declaration, ReadMode, keep_lines

_NO_DIR = FileInfo("", "missing")


def merge_requests(requests: Iterable[Declaration]) -> dict[str, Declaration]:
    """Second-order reads by path, one each: a whole read covers a head or a tail."""
    wanted: dict[str, Declaration] = {}
    for d in requests:
        old = wanted.get(d.pattern)
        if old is None or (old.mode is not ReadMode.WHOLE and d.mode is ReadMode.WHOLE):
            wanted[d.pattern] = d
    return wanted


class IndexedSnapshot(Snapshot):
    def __init__(self, location: str, **kwargs: int) -> None:
        super().__init__(location, **kwargs)
        self.entries: dict[str, FileInfo] = {"/": FileInfo("/", DIR, mode=0o755)}
        self._kids: dict[str, set[str]] = {"/": set()}
        self._sorted: dict[str, list[str]] = {}
        # canonical path -> (mode, bytes); WHOLE content serves HEAD, TAIL and LINES too
        self.contents: dict[str, tuple[ReadMode, bytes]] = {}
        self.line_filters: dict[str, str] = {}  # canonical path -> the filter its LINES content went through
        self.unreadable: set[str] = set()
        self.settled = False  # after the last pass: unfetched files read as unreadable

    # -- building -------------------------------------------------------------------
    def add(self, info: FileInfo) -> None:
        path = info.path
        if path == "/":
            if info.kind == DIR:
                self.entries["/"] = info
            return
        cut = path.rfind("/")
        parent = path[:cut] or "/"
        kids = self._kids.get(parent)
        if kids is None or self.entries.get(parent, _NO_DIR).kind != DIR:
            self._ensure_parent(parent)
            kids = self._kids[parent]
        old = self.entries.get(path)
        self.entries[path] = info
        if old is None:
            kids.add(path[cut + 1 :])
            if self._sorted:
                self._sorted.pop(parent, None)
        elif old.kind == DIR and info.kind != DIR:
            # a later member replaced a directory: drop what was below it
            self._drop_below(path)
        if info.kind == DIR:
            self._kids.setdefault(path, set())
        if self.contents:
            self.contents.pop(path, None)
        if self._spans:
            self._spans.clear()

    def _ensure_parent(self, path: str) -> None:
        ent = self.entries.get(path)
        if ent is not None and ent.kind == DIR:
            return
        if ent is not None:
            # a file where a directory must be: the later member wins, as tar would
            self.entries.pop(path)
        self._ensure_parent(P.parent(path))
        self.entries[path] = FileInfo(path, DIR, mode=0o755)
        self._kids.setdefault(path, set())
        self._kids[P.parent(path)].add(path.rsplit("/", 1)[1])
        self._sorted.pop(P.parent(path), None)

    def _drop_below(self, path: str) -> None:
        for name in self._kids.pop(path, set()):
            child = P.join(path, name)
            self.entries.pop(child, None)
            self.contents.pop(child, None)
            self._drop_below(child)

    def put(self, cpath: str, mode: ReadMode, data: bytes, lines: str = "") -> None:
        have = self.contents.get(cpath)
        if have is not None and have[0] is ReadMode.WHOLE:
            return
        self.contents[cpath] = (mode, data)
        if mode is ReadMode.LINES:
            self.line_filters[cpath] = lines

    def _serves(self, source: str, decl: Declaration) -> bool:
        """Do the contents held for SOURCE answer DECL (a whole file answers every mode)?"""
        have = self.contents.get(source)
        if have is None:
            return False
        if have[0] is ReadMode.WHOLE:
            return True
        if have[0] is not decl.mode:
            return False
        return decl.mode is not ReadMode.LINES or self.line_filters.get(source) == decl.lines

    # -- primitives -----------------------------------------------------------------
    def resolve(self, path: str, *, follow: bool = True) -> Resolved:
        # Every key of the index is canonical (a member below a symlink replaces the
        # link with a directory, as tar would), so a path found there as anything
        # but a symlink resolves to itself: one lookup instead of one per component.
        info = self.entries.get(path)
        if info is not None and info.kind != SYMLINK and not P.is_pseudo(path):
            return Resolved(ReadStatus.OK, path, info)
        return super().resolve(path, follow=follow)

    def _entry(self, cpath: str) -> FileInfo | None:
        return self.entries.get(cpath)

    def index(self) -> Iterator[FileInfo]:
        return (info for path, info in self.entries.items() if not P.is_pseudo(path))

    def _children(self, cpath: str) -> list[str]:
        names = self._sorted.get(cpath)
        if names is None:
            names = sorted(self._kids.get(cpath, ()))
            self._sorted[cpath] = names
        return names

    def _load(self, cpath: str, info: FileInfo, decl: Declaration | None) -> bytes:
        source = info.hardlink_to or cpath
        if source in self.unreadable:
            raise ReadFailed(cpath, ReadStatus.UNREADABLE)
        ask = replace(decl, pattern=source, exclude=()) if decl else Declaration(source)
        if not self._serves(source, ask):
            if self.settled:
                raise ReadFailed(cpath, ReadStatus.UNREADABLE)
            raise NotYetRead([ask])
        have_mode, data = self.contents[source]
        if have_mode is ReadMode.WHOLE and decl is not None:
            if decl.mode is ReadMode.HEAD:
                return data[: decl.size]
            if decl.mode is ReadMode.TAIL:
                return data[-decl.size :] if decl.size else b""
            if decl.mode is ReadMode.LINES:
                return keep_lines(data, decl.lines)
        return data

    # -- batching --------------------------------------------------------------------
    def missing_contents(self, paths: Iterable[str | Declaration]) -> list[Declaration]:
        """Requests (canonical path, mode, bound) for the regular files among `paths`
        whose bytes are not fetched yet in the way asked (a head is no whole file)."""
        out = []
        for item in paths:
            decl = item if isinstance(item, Declaration) else Declaration(item)
            res = self.resolve(decl.pattern)
            if res.status is not ReadStatus.OK or res.info is None or res.info.kind != FILE:
                continue
            source = res.info.hardlink_to or res.path or decl.pattern
            ask = replace(decl, pattern=source, exclude=())
            if source in self.unreadable or self._serves(source, ask):
                continue
            if decl.mode in (ReadMode.WHOLE, ReadMode.LINES) and res.info.size > (decl.max_size or self.max_file_size):
                continue  # it will read as too large: no pass can change that
            out.append(ask)
        return out

    def settle(self) -> None:
        self.settled = True

    def want(self, paths: Iterable[str | Declaration]) -> None:
        if self.settled:
            return
        missing = self.missing_contents(paths)
        if missing:
            raise NotYetRead(missing)
