"""The Snapshot protocol: one read-only view of a server, wherever its bytes are.

Promises every implementation keeps (tests/test_snapshot_contract.py checks each):

* Paths are absolute POSIX paths as the server sees them. Symlinks (absolute or
  relative, chains included) resolve inside the snapshot's root: an absolute
  target means the snapshot's root, `..` stops at the root, loops are detected.
  Nothing ever reaches the machine running modernize.
* FIFOs, devices and sockets are never opened; `/proc`, `/sys` and `/dev` are never
  read. A file above the size bound is recorded as skipped, not read.
* Every failed read says why (`ReadStatus`) and is recorded in `coverage`, so
  "permission denied" never reads as "not installed".
* Nothing is ever written to the inspected system.

Subclasses implement three primitives on canonical (symlink-free) paths:
`_entry` (an lstat), `_children` (a directory listing) and `_load` (bytes).
Resolution, glob and walk live here, once.
"""

from __future__ import annotations

import enum
import fnmatch
import functools
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from modernize.snapshot import paths as P
from modernize.snapshot.declarations import Declaration, ReadMode, has_magic

if TYPE_CHECKING:
    from modernize.snapshot.readlog import ReadLog

DEFAULT_MAX_FILE_SIZE = 8 * 1024 * 1024
MAX_SYMLINK_HOPS = 40

FILE, DIR, SYMLINK, FIFO, CHAR, BLOCK, SOCKET = (
    "file",
    "dir",
    "symlink",
    "fifo",
    "char",
    "block",
    "socket",
)
SPECIAL_KINDS = frozenset({FIFO, CHAR, BLOCK, SOCKET})


@dataclass(slots=True)
class FileInfo:
    """What `lstat` tells of one entry. `size` of a hard link is its target's."""

    path: str
    kind: str
    size: int = 0
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    mtime: float = 0.0
    linkname: str | None = None  # symlink target as stored
    hardlink_to: str | None = None  # tarball hard links: the canonical target path


class ReadStatus(enum.Enum):
    OK = "ok"
    MISSING = "missing"
    DENIED = "denied"
    TOO_LARGE = "too-large"
    SPECIAL = "special-file"
    PSEUDO = "pseudo-filesystem"
    LOOP = "symlink-loop"
    NOT_A_FILE = "not-a-file"
    UNREADABLE = "unreadable"  # the archive was damaged before the member


@dataclass(frozen=True, slots=True)
class ReadResult:
    status: ReadStatus
    data: bytes = b""
    info: FileInfo | None = None
    resolved: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is ReadStatus.OK


class ReadFailed(Exception):
    """A read did not return the file; `status` says why."""

    def __init__(self, path: str, status: ReadStatus) -> None:
        super().__init__(f"{path}: {status.value}")
        self.path = path
        self.status = status


class NotYetRead(BaseException):
    """The source has not fetched these files yet; the scanner fetches them in one
    batched pass and calls the detector again. BaseException so that a detector's
    own `except Exception` cannot swallow it. Each request is a declaration of one
    canonical path (with its read mode and size bound)."""

    def __init__(self, requests: Iterable[str | Declaration]) -> None:
        reqs = {r if isinstance(r, Declaration) else Declaration(r) for r in requests}
        self.requests = tuple(sorted(reqs, key=lambda d: (d.pattern, d.mode.value, d.size, d.max_size)))
        self.paths = tuple(sorted({d.pattern for d in self.requests}))
        super().__init__(", ".join(self.paths))


class UndeclaredRead(AssertionError):
    """A strict (test) snapshot was asked for a path no declaration covers."""


@dataclass(slots=True)
class Coverage:
    """What could not be read, and why. Feeds the inventory's coverage section."""

    reads: dict[str, ReadStatus] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def record(self, path: str, status: ReadStatus) -> None:
        if status not in (ReadStatus.OK, ReadStatus.MISSING):
            self.reads[path] = status

    def note(self, path: str, why: str) -> None:
        self.notes[path] = why


@dataclass(frozen=True, slots=True)
class Resolved:
    status: ReadStatus
    path: str | None = None  # canonical path when found
    info: FileInfo | None = None


@functools.lru_cache(maxsize=512)
def _name_matcher(part: str) -> Callable[[str], object]:
    """fnmatchcase for one glob component, compiled once."""
    return re.compile(fnmatch.translate(part)).match


def parts_match(pattern: list[str], names: list[str]) -> bool:
    """Do these path components match these glob components, all of them, with
    `**` spanning any number of names?"""
    if not pattern:
        return not names
    if pattern[0] == "**":
        return any(parts_match(pattern[1:], names[k:]) for k in range(len(names) + 1))
    return bool(names) and _name_matcher(pattern[0])(names[0]) is not None and parts_match(pattern[1:], names[1:])


class Snapshot(ABC):
    """A read-only, rooted view of a server's filesystem."""

    kind: str = "abstract"

    def __init__(self, location: str, *, max_file_size: int = DEFAULT_MAX_FILE_SIZE) -> None:
        self.location = location
        self.max_file_size = max_file_size
        self.coverage = Coverage()
        self.passes = 0
        self.complete = True  # False when the source was damaged part way
        self.errors: list[str] = []
        self.warnings: list[str] = []  # the source was read whole, with something odd about it
        self._spans: dict[str, list[str]] = {}  # see _dirs_below
        self.log: ReadLog | None = None  # `modernize capture` records what was read

    # -- primitives -----------------------------------------------------------
    @abstractmethod
    def _entry(self, cpath: str) -> FileInfo | None:
        """lstat of a canonical path (no symlink in its parents)."""

    @abstractmethod
    def _children(self, cpath: str) -> list[str]:
        """Sorted names in a canonical directory."""

    @abstractmethod
    def _load(self, cpath: str, info: FileInfo, decl: Declaration | None) -> bytes:
        """Bytes of a regular file (whole, head or tail as `decl` says).
        May raise NotYetRead, PermissionError or ReadFailed."""

    # -- hooks for sources that fetch ahead --------------------------------
    def begin(self) -> None:  # noqa: B027 - optional hook
        """Start reading ahead before the declarations are known (a tarball starts
        inflating while the detectors load)."""

    def prefetch(self, declarations: list[Declaration]) -> None:  # noqa: B027 - optional hook
        """Fetch everything the declarations cover, in as few passes as the source allows."""

    def want(self, paths: Iterable[str | Declaration]) -> None:  # noqa: B027 - optional hook
        """Say which extra files are about to be read (a path reads whole; a Declaration
        of one path says head/tail or a larger size bound). Sources that fetch ahead
        raise NotYetRead for those not fetched yet, so the scanner batches them."""

    def fetch_more(self, requests: Iterable[Declaration]) -> None:  # noqa: B027 - optional hook
        """Fetch these files in one more pass (called by the scanner)."""

    def settle(self) -> None:  # noqa: B027 - optional hook
        """No more passes will be made: unfetched files now read as failed."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the source holds."""

    # -- resolution ---------------------------------------------------------------
    def resolve(self, path: str, *, follow: bool = True) -> Resolved:
        """Follow symlinks inside the root. `follow=False` leaves the last one."""
        stack = list(reversed(P.split(path)))
        cur = "/"
        hops = 0
        info = self._entry("/")
        while stack:
            name = stack.pop()
            if name == ".":
                continue
            if name == "..":
                cur = P.parent(cur)
                info = self._entry(cur)
                continue
            cand = P.join(cur, name)
            if P.is_pseudo(cand):
                return Resolved(ReadStatus.PSEUDO, cand)
            ent = self._entry(cand)
            if ent is None:
                return Resolved(ReadStatus.MISSING)
            if ent.kind == SYMLINK and (stack or follow):
                hops += 1
                if hops > MAX_SYMLINK_HOPS:
                    return Resolved(ReadStatus.LOOP)
                target = ent.linkname or ""
                if target.startswith("/"):
                    cur = "/"
                stack.extend(reversed(P.split(target)))
                continue
            if stack and ent.kind != DIR:
                return Resolved(ReadStatus.MISSING)
            cur, info = cand, ent
        return Resolved(ReadStatus.OK, cur, info)

    # -- public reads -----------------------------------------------------------
    def exists(self, path: str) -> bool:
        return self.resolve(path).status is ReadStatus.OK

    def lexists(self, path: str) -> bool:
        return self.resolve(path, follow=False).status is ReadStatus.OK

    def stat(self, path: str, *, follow: bool = True) -> FileInfo | None:
        res = self.resolve(path, follow=follow)
        return res.info if res.status is ReadStatus.OK else None

    def is_dir(self, path: str) -> bool:
        info = self.stat(path)
        return info is not None and info.kind == DIR

    def is_file(self, path: str) -> bool:
        info = self.stat(path)
        return info is not None and info.kind == FILE

    def readlink(self, path: str) -> str | None:
        info = self.stat(path, follow=False)
        return info.linkname if info is not None and info.kind == SYMLINK else None

    def realpath(self, path: str) -> str | None:
        """The canonical path inside the snapshot, or None."""
        return self.resolve(path).path

    def listdir(self, path: str) -> list[str]:
        res = self.resolve(path)
        if res.status is not ReadStatus.OK or res.info is None or res.info.kind != DIR:
            return []
        return self._children(res.path or "/")

    def read(self, path: str, decl: Declaration | None = None) -> ReadResult:
        """Read a file; never raises for a missing or skipped file (see `status`)."""
        res = self.resolve(path)
        if res.status is not ReadStatus.OK or res.info is None or res.path is None:
            self.coverage.record(path, res.status)
            return ReadResult(res.status)
        info = res.info
        if info.kind in SPECIAL_KINDS:
            self.coverage.record(path, ReadStatus.SPECIAL)
            return ReadResult(ReadStatus.SPECIAL, info=info, resolved=res.path)
        if info.kind != FILE:
            return ReadResult(ReadStatus.NOT_A_FILE, info=info, resolved=res.path)
        mode = decl.mode if decl else ReadMode.WHOLE
        limit = decl.max_size if decl and decl.max_size else self.max_file_size
        if mode in (ReadMode.WHOLE, ReadMode.LINES) and info.size > limit:
            self.coverage.record(path, ReadStatus.TOO_LARGE)
            return ReadResult(ReadStatus.TOO_LARGE, info=info, resolved=res.path)
        log = self.log
        try:
            data = self._load(res.path, info, decl)
        except PermissionError:
            self.coverage.record(path, ReadStatus.DENIED)
            if log is not None:
                log.refuse(info.hardlink_to or res.path)
            return ReadResult(ReadStatus.DENIED, info=info, resolved=res.path)
        except ReadFailed as exc:
            self.coverage.record(path, exc.status)
            if log is not None:
                log.fail(info.hardlink_to or res.path, exc.status.value)
            return ReadResult(exc.status, info=info, resolved=res.path)
        if log is not None:
            log.keep(info.hardlink_to or res.path, mode, data, info.size, decl.lines if decl else "")
        return ReadResult(ReadStatus.OK, data, info, res.path)

    def read_bytes(self, path: str) -> bytes:
        result = self.read(path)
        if not result.ok:
            raise ReadFailed(path, result.status)
        return result.data

    def read_text(self, path: str) -> str:
        return decode(self.read_bytes(path))

    def text(self, path: str) -> str | None:
        """The file as text, or None when it cannot be read (the reason is in coverage)."""
        result = self.read(path)
        return decode(result.data) if result.ok else None

    def head(self, path: str, n: int) -> bytes | None:
        result = self.read(path, Declaration(path, ReadMode.HEAD, n))
        return result.data if result.ok else None

    def tail(self, path: str, n: int) -> bytes | None:
        result = self.read(path, Declaration(path, ReadMode.TAIL, n))
        return result.data if result.ok else None

    # -- enumeration ---------------------------------------------------------------
    def glob(self, pattern: str) -> list[str]:
        """Paths matching a glob (`*`, `?`, `[...]`, `**`), as the server sees them.

        Directories named by literal parts or `*` are entered through symlinks
        (so `/lib/systemd/system/*` works on merged-/usr); `**` does not descend
        into symlinked directories, which keeps it finite.
        """
        parts = P.split(pattern)
        found: set[str] = set()
        self._glob("/", "/", parts, 0, found)
        return sorted(found)

    def _glob(self, view: str, cdir: str, parts: list[str], i: int, found: set[str]) -> None:
        if i == len(parts):
            found.add(view)
            return
        part = parts[i]
        last = i + 1 == len(parts)
        if part == "**":
            if i + 2 == len(parts) and not has_magic(parts[i + 1]):
                # `**/NAME` (wp-config.php, package.json): one lookup per directory
                name = parts[i + 1]
                for rel in self._dirs_below(cdir):
                    sub = f"{rel}/{name}" if rel else name
                    child = P.join(cdir, sub)
                    if not P.is_pseudo(child) and self._entry(child) is not None:
                        found.add(P.join(view, sub))
                return
            for rel in self._dirs_below(cdir):
                if rel:
                    self._glob(P.join(view, rel), P.join(cdir, rel), parts, i + 1, found)
                else:
                    self._glob(view, cdir, parts, i + 1, found)
            return
        if has_magic(part):
            matches = _name_matcher(part)
            names = [n for n in self._children(cdir) if matches(n)]
        else:
            names = [part]
        for name in names:
            child = P.join(cdir, name)
            if P.is_pseudo(child):
                continue
            ent = self._entry(child)
            if ent is None:
                continue
            if last:
                found.add(P.join(view, name))
                continue
            if ent.kind == SYMLINK:
                res = self.resolve(child)
                if res.status is not ReadStatus.OK or res.info is None or res.info.kind != DIR:
                    continue
                self._glob(P.join(view, name), res.path or "/", parts, i + 1, found)
            elif ent.kind == DIR:
                self._glob(P.join(view, name), child, parts, i + 1, found)

    def _dirs_below(self, cdir: str) -> list[str]:
        """The directories `**` spans from a canonical one: itself (`""`) and every
        directory below it, relative to it, symlinks not entered. Kept, because a
        scan globs the same trees (`/srv/**`, `/etc/**`) over and over."""
        spans = self._spans.get(cdir)
        if spans is None:
            spans = [""]
            stack = [""]
            while stack:
                rel = stack.pop()
                here = P.join(cdir, rel) if rel else cdir
                for name in self._children(here):
                    child = P.join(here, name)
                    ent = self._entry(child)
                    if ent is not None and ent.kind == DIR and not P.is_pseudo(child):
                        sub = f"{rel}/{name}" if rel else name
                        spans.append(sub)
                        stack.append(sub)
            self._spans[cdir] = spans
        return spans

    def walk(self, top: str = "/") -> Iterator[tuple[str, list[str], list[str]]]:
        """Like os.walk, top-down and sorted; symlinks (to dirs too) are listed as files
        and never followed."""
        res = self.resolve(top)
        if res.status is not ReadStatus.OK or res.info is None or res.info.kind != DIR:
            return
        stack = [(P.normalize(top), res.path or "/")]
        while stack:
            view, cdir = stack.pop()
            dirs: list[str] = []
            files: list[str] = []
            for name in self._children(cdir):
                child = P.join(cdir, name)
                if P.is_pseudo(child):
                    continue
                ent = self._entry(child)
                if ent is None:
                    continue
                (dirs if ent.kind == DIR else files).append(name)
            yield view, dirs, files
            for name in reversed(dirs):
                stack.append((P.join(view, name), P.join(cdir, name)))

    def du(self, path: str) -> int:
        """Bytes of regular files below a directory (from metadata only, nothing read;
        a hard link counts once), over the directories `**` spans."""
        res = self.resolve(path)
        if res.status is not ReadStatus.OK or res.info is None or res.info.kind != DIR or res.path is None:
            return 0
        total = 0
        for rel in self._dirs_below(res.path):
            here = P.join(res.path, rel) if rel else res.path
            for name in self._children(here):
                child = P.join(here, name)
                ent = self._entry(child)
                if ent is None or ent.kind != FILE or ent.hardlink_to is not None:
                    continue
                if here != "/" or not P.is_pseudo(child):  # pseudo-filesystems sit at the root
                    total += ent.size
        return total

    def index(self) -> Iterator[FileInfo]:
        """Every entry's metadata (lstat), the root first, pseudo-filesystems left out:
        what a bundle keeps of the files it does not carry."""
        root = self._entry("/")
        if root is None:
            return
        yield root
        stack = ["/"]
        while stack:
            cdir = stack.pop()
            for name in self._children(cdir):
                child = P.join(cdir, name)
                if P.is_pseudo(child):
                    continue
                ent = self._entry(child)
                if ent is None:
                    continue
                yield ent
                if ent.kind == DIR:
                    stack.append(child)

    def describe(self) -> dict[str, object]:
        return {"kind": self.kind, "location": self.location}


def decode(data: bytes) -> str:
    """Config files are UTF-8 in practice; legacy ones may be Latin-1."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")
