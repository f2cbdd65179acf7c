"""Capture bundles: what a scan read from a server, kept to be scanned again offline.

A bundle is a tar (zstd-compressed) that GNU tar can list and unpack:

    .modernize/capture/manifest.json   first: the format, the source, how its scan ran
    .modernize/capture/index           every entry's metadata (what a tarball's headers say)
    .modernize/capture/head/PATH       the longest head a detector read of a large file
    .modernize/capture/tail/PATH       likewise its tail
    .modernize/capture/lines/PATH      the lines of a file a detector filtered (the filter: in the manifest)
    PATH ...                           every file read whole, at its own path

Files that were never read are in the index only (their names, sizes and owners
still answer globs, walks and sizes); reading one offline fails as "unreadable",
never as missing. Reads the server refused stay denied. The runtime facts of a
live host are files under /.modernize/runtime/ like any other.
"""

from __future__ import annotations

import json
import os
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from modernize import __version__
from modernize.errors import SourceError
from modernize.inflate import sniff
from modernize.snapshot import paths as P
from modernize.snapshot.base import DEFAULT_MAX_FILE_SIZE, FILE, SYMLINK, FileInfo, ReadFailed, ReadStatus, Snapshot
from modernize.snapshot.declarations import Declaration, ReadMode
from modernize.snapshot.live import LiveSnapshot
from modernize.snapshot.readlog import ReadLog
from modernize.snapshot.tarstream import TarFormatError, TarReader

FORMAT = "modernize-capture"
VERSION = 1
META = ".modernize/capture/"
MANIFEST = META + "manifest.json"
INDEX = META + "index"
_PIECE_DIRS = {ReadMode.HEAD: META + "head/", ReadMode.TAIL: META + "tail/"}
_LINES_DIR = META + "lines/"
HARDLINK = "hardlink"  # the index's kind for a file that is a hard link to another


# -- the index -------------------------------------------------------------------------
def _enc(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def encode_index(entries: Iterable[FileInfo]) -> bytes:
    """One record per entry: `KIND MODE UID GID SIZE MTIME\\0PATH\\0TARGET\\0` (TARGET: a
    symlink's text or a hard link's path, else empty), sorted by path."""
    out = []
    for e in sorted(entries, key=lambda e: e.path):
        kind = HARDLINK if e.hardlink_to else e.kind
        target = e.hardlink_to or (e.linkname if e.kind == SYMLINK else "") or ""
        out.append(b"%s %o %d %d %d %r\0%s\0%s\0" % (_enc(kind), e.mode, e.uid, e.gid, e.size, e.mtime,
                                                     _enc(e.path), _enc(target)))  # fmt: skip
    return b"".join(out)


def decode_index(data: bytes) -> list[FileInfo]:
    items = data.split(b"\0")
    out = []
    for i in range(0, len(items) - 2, 3):
        head = items[i].split(b" ")
        if len(head) != 6:
            raise ValueError(f"index record {i // 3 + 1} is damaged")
        kind = head[0].decode()
        path = items[i + 1].decode("utf-8", "surrogateescape")
        target = items[i + 2].decode("utf-8", "surrogateescape")
        info = FileInfo(path, FILE if kind == HARDLINK else kind, int(head[4]), int(head[1], 8),
                        int(head[2]), int(head[3]), float(head[5]))  # fmt: skip
        if kind == HARDLINK:
            info.hardlink_to = target
        elif kind == SYMLINK:
            info.linkname = target
        out.append(info)
    return out


# -- writing ---------------------------------------------------------------------------
@dataclass
class ScanState:
    """How the scan of the source ran, as the inventory records it (kept before anything
    else is read, so that the bundle's scan says the same)."""

    kind: str
    location: str
    complete: bool
    errors: list[str]
    warnings: list[str]
    notes: dict[str, str]
    uid: int | None = None  # a live source's login: which directories it could not enter
    gids: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, snap: Snapshot) -> ScanState:
        live = isinstance(snap, LiveSnapshot) and snap.uid >= 0
        return cls(
            kind=str(snap.describe().get("captured_kind", snap.kind)),
            location=str(snap.describe().get("captured_from", snap.location)),
            complete=snap.complete,
            errors=list(snap.errors),
            warnings=list(snap.warnings),
            notes=dict(snap.coverage.notes),
            uid=snap.uid if live and isinstance(snap, LiveSnapshot) else None,
            gids=sorted(snap.gids) if live and isinstance(snap, LiveSnapshot) else [],
        )


def manifest(state: ScanState, log: ReadLog) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "tool_version": __version__,
        "source": {"kind": state.kind, "location": state.location},
        "complete": state.complete,
        "errors": state.errors,
        "warnings": state.warnings,
        "coverage_notes": dict(sorted(state.notes.items())),
        "login": None if state.uid is None else {"uid": state.uid, "gids": state.gids},
        "denied": sorted(log.denied),
        "failed": dict(sorted(log.failed.items())),
        "line_filters": {path: log.lines[path][0] for path in sorted(log.lines)},
    }


def _member(
    name: str, size: int, *, mode: int = 0o644, uid: int = 0, gid: int = 0, mtime: float = 0
) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = mode & 0o7777
    info.uid, info.gid = uid, gid
    info.mtime = int(mtime)
    return info


def write_bundle(out: BinaryIO, entries: Iterable[FileInfo], log: ReadLog, state: ScanState, *, level: int = 10) -> int:
    """Write the bundle to OUT (zstd over tar, deterministic); return how many files it carries."""
    import io

    import zstandard

    index = {e.path: e for e in entries}
    writer = zstandard.ZstdCompressor(level=level, threads=-1).stream_writer(out, closefd=False)
    with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT, encoding="utf-8") as tar:

        def add(info: tarfile.TarInfo, data: bytes) -> None:
            tar.addfile(info, io.BytesIO(data))

        head = json.dumps(manifest(state, log), indent=1, sort_keys=True).encode()
        add(_member(MANIFEST, len(head)), head)
        listing = encode_index(index.values())
        add(_member(INDEX, len(listing)), listing)
        for (path, mode), data in sorted(log.pieces.items(), key=lambda kv: (kv[0][0], kv[0][1].value)):
            add(_member(_PIECE_DIRS[mode] + path.lstrip("/"), len(data)), data)
        for path in sorted(log.lines):
            data = log.lines[path][1]
            add(_member(_LINES_DIR + path.lstrip("/"), len(data)), data)
        for path in sorted(log.whole):
            data = log.whole[path]
            e = index.get(path) or FileInfo(path, FILE)
            add(_member(path.lstrip("/"), len(data), mode=e.mode, uid=e.uid, gid=e.gid, mtime=e.mtime), data)
    writer.close()  # type: ignore[no-untyped-call]
    return len(log.whole)


# -- reading ---------------------------------------------------------------------------
def _reader(raw: BinaryIO, kind: str) -> BinaryIO:
    from modernize.inflate import _decompressing_reader

    return raw if kind == "none" else _decompressing_reader(raw, kind)  # type: ignore[no-any-return]


def is_bundle(path: str) -> bool:
    """Does this file start with a capture manifest? (One header read, nothing more.)"""
    try:
        kind = sniff(path)
        if kind not in ("none", "zstd", "gzip", "xz"):
            return False
        with open(path, "rb") as raw:
            block = _reader(raw, kind).read(512)
    except Exception:  # noqa: BLE001 - not ours to judge here: the tarball reader will say what is wrong
        return False
    return block[:100].rstrip(b"\0") == MANIFEST.encode()


class BundleSnapshot(LiveSnapshot):
    """A capture bundle: the index, the bytes the scan read, and its refusals, replayed."""

    kind = "capture"

    def __init__(self, path: str, *, max_file_size: int = DEFAULT_MAX_FILE_SIZE) -> None:
        super().__init__(os.path.abspath(path), max_file_size=max_file_size)
        self.file = path
        self.pieces: dict[tuple[str, ReadMode], bytes] = {}
        self.failed: dict[str, ReadStatus] = {}
        self.origin: dict[str, str] = {}
        self.manifest_filters: dict[str, str] = {}
        self.passes = 1
        self._open()
        self.settled = True  # nothing more can be fetched: a file not carried is unreadable

    def _open(self) -> None:
        try:
            with open(self.file, "rb") as raw:
                self._read(TarReader(_reader(raw, sniff(self.file))))
        except OSError as exc:
            raise SourceError(f"{self.file}: {exc.strerror or exc}") from exc

    def _read(self, reader: TarReader) -> None:
        members: Iterator[Any] = iter(reader)
        try:
            first = next(members, None)
            if first is None or first.name != MANIFEST:
                raise SourceError(f"{self.file}: not a modernize capture bundle (no {MANIFEST} first)")
            self._manifest(json.loads(reader.read_data(first)))
            second = next(members, None)
            if second is None or second.name != INDEX:
                raise SourceError(f"{self.file}: the capture bundle has no index")
            for info in decode_index(reader.read_data(second)):
                self.add(info)
            for m in members:
                if m.type == "file":
                    self._content(m.name, reader.read_data(m))
        except (TarFormatError, EOFError, ValueError, UnicodeDecodeError) as exc:
            if not self.origin:
                raise SourceError(f"{self.file}: not a readable capture bundle ({exc})") from exc
            self.complete = False
            self.errors.append(f"{self.file}: the bundle is damaged after {reader.offset} bytes ({exc}); "
                               "the inventory covers what was read")  # fmt: skip
        except Exception as exc:  # zstandard raises its own ZstdError
            if type(exc).__name__ != "ZstdError" or not self.origin:
                raise
            self.complete = False
            self.errors.append(f"{self.file}: the bundle is damaged ({exc}); the inventory covers what was read")
        self.find_closed_dirs()
        self.note_denied()

    def _manifest(self, data: Any) -> None:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise SourceError(f"{self.file}: not a modernize capture bundle")
        if not isinstance(data.get("version"), int) or data["version"] > VERSION:
            raise SourceError(
                f"{self.file}: capture format {data.get('version')} was made by a newer modernize "
                f"({data.get('tool_version')}); this one reads format {VERSION}"
            )
        source = data.get("source") or {}
        self.origin = {"kind": str(source.get("kind", "")), "location": str(source.get("location", ""))}
        self.complete = bool(data.get("complete", True))
        self.errors.extend(str(e) for e in data.get("errors", []))
        self.warnings.extend(str(w) for w in data.get("warnings", []))
        for path, why in (data.get("coverage_notes") or {}).items():
            self.coverage.note(str(path), str(why))
        login = data.get("login")
        if isinstance(login, dict):
            self.uid = int(login.get("uid", -1))
            self.gids = {int(g) for g in login.get("gids", [])}
        else:
            self.uid = 0  # a disk's files: nothing closed to us
        self.denied.update(str(p) for p in data.get("denied", []))
        for path, status in (data.get("failed") or {}).items():
            self.failed[str(path)] = ReadStatus(status)
        self.manifest_filters = {str(p): str(f) for p, f in (data.get("line_filters") or {}).items()}

    def _content(self, name: str, data: bytes) -> None:
        for mode, prefix in _PIECE_DIRS.items():
            if name.startswith(prefix):
                path = P.member_to_path(name[len(prefix) :])
                if path is not None:
                    self.pieces[(path, mode)] = data
                return
        if name.startswith(_LINES_DIR):
            path = P.member_to_path(name[len(_LINES_DIR) :])
            if path is not None and path in self.manifest_filters:
                self.put(path, ReadMode.LINES, data, self.manifest_filters[path])
            return
        if name.startswith(META):
            return  # a later format's extra: not a file of the server
        path = P.member_to_path(name)
        if path is not None:
            self.contents[path] = (ReadMode.WHOLE, data)

    def _load(self, cpath: str, info: FileInfo, decl: Declaration | None) -> bytes:
        source = info.hardlink_to or cpath
        status = self.failed.get(source)
        if status is not None and source not in self.contents:
            raise ReadFailed(cpath, status)
        if source in self.contents or source in self.denied:
            return super()._load(cpath, info, decl)
        mode = decl.mode if decl else ReadMode.WHOLE
        piece = self.pieces.get((source, mode))
        if piece is None or decl is None or len(piece) < decl.size:
            raise ReadFailed(cpath, ReadStatus.UNREADABLE)  # the scan that made the bundle never read it
        if mode is ReadMode.HEAD:
            return piece[: decl.size]
        return piece[len(piece) - decl.size :] if decl.size else b""

    def describe(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "location": self.location,
            "captured_kind": self.origin.get("kind", ""),
            "captured_from": self.origin.get("location", ""),
        }
