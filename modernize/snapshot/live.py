"""A live host's files as an index plus fetched contents: what the SSH source fills in.

The collector's listing gives every entry's metadata (as a tarball's headers do),
so globs, walks and sizes answer from the index. The files the detectors declared
are then fetched in one tar stream, the runtime facts sit under
`/.modernize/runtime/`, and a file the host would not let us read says "denied".
"""

from __future__ import annotations

import stat as st
from collections.abc import Iterable
from dataclasses import replace

from modernize.live.frames import Survey
from modernize.snapshot import paths as P
from modernize.snapshot.base import (
    BLOCK,
    CHAR,
    DIR,
    FIFO,
    FILE,
    SOCKET,
    SYMLINK,
    FileInfo,
    ReadStatus,
    Resolved,
)
from modernize.snapshot.declarations import Declaration, Matcher, ReadMode, has_magic, literal_prefix
from modernize.snapshot.indexed import IndexedSnapshot
from modernize.snapshot.tarball import NOISE_DIRS, SPECULATIVE_MAX, USRMERGE

RUNTIME = "/.modernize/runtime"
# Kept speculatively from a live host: a tarball's pass sees every byte anyway, a link
# does not. /etc is where second-order reads land (includes, a unit's EnvironmentFile);
# app trees (/srv, /opt, /home) are mostly data and cost the wire more than the round
# trip they might save (10,000 small files under /srv: +0.5 s).
LIVE_SPECULATIVE_ROOTS = ("/etc/",)
LIVE_SPECULATIVE_BUDGET = 16 * 1024 * 1024
_FIND_KINDS = {"f": FILE, "d": DIR, "l": SYMLINK, "p": FIFO, "c": CHAR, "b": BLOCK, "s": SOCKET}


def _stat_kind(mode: int) -> str:
    for test, kind in (
        (st.S_ISREG, FILE),
        (st.S_ISDIR, DIR),
        (st.S_ISLNK, SYMLINK),
        (st.S_ISFIFO, FIFO),
        (st.S_ISCHR, CHAR),
        (st.S_ISBLK, BLOCK),
    ):
        if test(mode):
            return kind
    return SOCKET


def _name(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def parse_listing(survey: Survey) -> list[FileInfo]:
    """The collector's listing: GNU find's `-printf` records, or `stat -c` lines plus link targets."""
    out: list[FileInfo] = []
    if survey.listing_format == "gnu":
        items = survey.listing.split(b"\0")
        for i in range(0, len(items) - 1, 2):
            fields = items[i].split(b" ", 6)
            if len(fields) < 7:
                continue
            path = P.member_to_path(_name(fields[6]))
            kind = _FIND_KINDS.get(fields[0].decode(), SOCKET)
            if path is None:
                continue
            try:
                info = FileInfo(
                    path, kind, int(fields[4]), int(fields[1], 8), int(fields[2]), int(fields[3]), float(fields[5])
                )
            except ValueError:
                continue
            if kind == SYMLINK:
                info.linkname = _name(items[i + 1])
            out.append(info)
        return out
    links = {}
    lines = survey.links.split(b"\n")
    for i in range(0, len(lines) - 1, 2):
        links[_name(lines[i])] = _name(lines[i + 1])
    for line in survey.listing.split(b"\n"):
        fields = line.split(b" ", 5)
        if len(fields) < 6:
            continue
        try:
            mode = int(fields[0], 16)
            info = FileInfo("", _stat_kind(mode), int(fields[3]), st.S_IMODE(mode), int(fields[1]), int(fields[2]))
            info.mtime = float(fields[4])
        except ValueError:
            continue
        name = _name(fields[5])
        path = P.member_to_path(name)
        if path is None:
            continue
        info.path = path
        if info.kind == SYMLINK:
            info.linkname = links.get(name, "")
        out.append(info)
    return out


class LiveSnapshot(IndexedSnapshot):
    """The index of a live host, with what its user may read. Subclasses fetch."""

    def __init__(self, location: str, **kwargs: int) -> None:
        super().__init__(location, **kwargs)
        self.uid = -1
        self.gids: set[int] = set()
        self.denied: set[str] = set()  # files the host would not let us read
        self.closed_dirs: list[str] = []  # directories we may not list or enter
        self._closed_set: frozenset[str] = frozenset()

    # -- building the index ------------------------------------------------------------
    def load_survey(self, survey: Survey, runtime: dict[str, bytes]) -> None:
        ident = survey.sections.get("id", b"").split(b"\n")
        if ident and ident[0].strip().isdigit():
            self.uid = int(ident[0])
        if len(ident) > 1:
            self.gids = {int(g) for g in ident[1].split() if g.isdigit()}
        for info in parse_listing(survey):
            self.add(info)
        self.find_closed_dirs()
        self.add(FileInfo("/.modernize", DIR, mode=0o755))
        self.add(FileInfo(RUNTIME, DIR, mode=0o755))
        for name, data in runtime.items():
            path = f"{RUNTIME}/{name}"
            self.add(FileInfo(path, FILE, len(data), 0o644))
            self.put(path, ReadMode.WHOLE, data)

    def find_closed_dirs(self) -> None:
        """The directories our user may not list or enter, by their mode bits."""
        if self.uid != 0:
            self.closed_dirs = sorted(i.path for i in self.entries.values() if i.kind == DIR and not self._may(i, 0o5))
            self._closed_set = frozenset(self.closed_dirs)

    def _may(self, info: FileInfo, bits: int) -> bool:
        """May our user read (4) / enter (1) this entry, by its mode bits?"""
        if self.uid == 0:
            return True
        if info.uid == self.uid:
            shift = 6
        elif info.gid in self.gids:
            shift = 3
        else:
            shift = 0
        return (info.mode >> shift) & bits == bits

    # -- denied reads --------------------------------------------------------------------
    def resolve(self, path: str, *, follow: bool = True) -> Resolved:
        res = super().resolve(path, follow=follow)
        if res.status is ReadStatus.MISSING and self.closed_dirs and self._below_closed(P.normalize(path)):
            return Resolved(ReadStatus.DENIED)
        return res

    def _below_closed(self, path: str) -> bool:
        closed = self._closed_set
        while path != "/":
            path = P.parent(path)
            if path in closed:
                return True
        return False

    def _load(self, cpath: str, info: FileInfo, decl: Declaration | None) -> bytes:
        if cpath in self.denied:
            raise PermissionError(cpath)
        return super()._load(cpath, info, decl)

    def missing_contents(self, paths: Iterable[str | Declaration]) -> list[Declaration]:
        return [d for d in super().missing_contents(paths) if d.pattern not in self.denied]

    def note_denied(self) -> None:
        """Directories we could not list are coverage facts whether or not a detector asked."""
        for d in self.closed_dirs:
            if not any(d.startswith(c + "/") for c in self.closed_dirs if c != d):
                self.coverage.record(d, ReadStatus.DENIED)

    # -- what to fetch -------------------------------------------------------------------
    def plan(self, declarations: list[Declaration]) -> dict[str, Declaration]:
        """Canonical path -> how to read it: what the declarations cover (through the
        host's symlinks) plus, within a budget, small files under the config roots (so
        that second-order reads rarely cost another round trip), as a tarball pass keeps."""
        decls = list(declarations)
        decls += [replace(d, pattern="/usr" + d.pattern) for d in decls if d.pattern.startswith(USRMERGE)]
        matcher = Matcher(decls)
        wanted: dict[str, Declaration] = {}
        budget = LIVE_SPECULATIVE_BUDGET
        for path, info in self.entries.items():
            if info.kind != FILE or path in self.contents:
                continue
            decl = matcher.match(path)
            if decl is None:
                if (
                    info.size <= SPECULATIVE_MAX
                    and budget > 0
                    and path.startswith(LIVE_SPECULATIVE_ROOTS)
                    and not any(n in path for n in NOISE_DIRS)
                ):
                    budget -= info.size
                    wanted[path] = Declaration(path)
                continue
            if decl.mode is ReadMode.META:
                continue
            if decl.mode in (ReadMode.WHOLE, ReadMode.LINES) and info.size > (decl.max_size or self.max_file_size):
                partial = matcher.partial(path, info.size, self.max_file_size)
                if partial is None:
                    continue
                decl = partial
            wanted[path] = replace(decl, pattern=path, exclude=())
        # what a declaration reaches only through a symlink (a named link, /etc/php/*/ ...)
        for decl in declarations:
            if decl.mode is ReadMode.META or decl.pattern.startswith("**"):
                continue
            if has_magic(decl.pattern) and not self._may_cross(decl.pattern):
                continue
            hits = self.glob(decl.pattern) if has_magic(decl.pattern) else [decl.pattern]
            for hit in hits:
                if any(f"/{x}/" in hit for x in decl.exclude):
                    continue
                for req in self.missing_contents([replace(decl, pattern=hit, exclude=())]):
                    wanted.setdefault(req.pattern, req)
        return wanted

    def _may_cross(self, pattern: str) -> bool:
        prefix = literal_prefix(pattern)
        pdir = prefix.rsplit("/", 1)[0] or "/"
        if self.realpath(pdir) != pdir:
            return True
        dirs = pattern[len(pdir) :].strip("/").split("/")[:-1]
        return any(has_magic(c) and c != "**" for c in dirs)

    def split_requests(self, wanted: dict[str, Declaration]) -> tuple[list[str], list[tuple[str, str, str]]]:
        """Whole files (one tar) and pieces: (head|tail, bytes, path) of a file larger than
        the piece, (lines, filter, path) for the lines of a file the host filters."""
        files: list[str] = []
        pieces: list[tuple[str, str, str]] = []
        for path in sorted(wanted):
            decl = wanted[path]
            info = self.entries.get(path)
            if info is None:
                continue
            if decl.mode is ReadMode.LINES:
                pieces.append((decl.mode.value, decl.lines, path))
            elif decl.mode is ReadMode.WHOLE or info.size <= decl.size:
                files.append(path)
            else:
                pieces.append((decl.mode.value, str(decl.size), path))
        return files, pieces
