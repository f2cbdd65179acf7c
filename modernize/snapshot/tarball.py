"""A tarball of a server's root (`tar -C / -cf - .`, `tar -cf- /`), read without unpacking.

The first pass builds the index of every member (metadata only) and keeps the
bytes of every member the detectors declared, plus, within a memory budget, the
small files under the usual config and app roots, so that reads discovered
later (an EnvironmentFile, an include) rarely cost another pass. Paths are seen
through the server's own symlinks, whatever order the members come in: the
index is resolved after the pass, and anything a declaration covers only
through a symlink that was not fetched speculatively costs one batched pass.
"""

from __future__ import annotations

import bz2
import collections
import io
import lzma
import os
import sys
import threading
import zlib
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO

from modernize.errors import CorruptArchiveError, SourceError
from modernize.snapshot import paths as P
from modernize.snapshot.base import DEFAULT_MAX_FILE_SIZE, DIR, FILE, SYMLINK, FileInfo
from modernize.snapshot.declarations import Declaration, Matcher, ReadMode, has_magic, literal_prefix
from modernize.snapshot.indexed import IndexedSnapshot
from modernize.snapshot.tarstream import Member, TarFormatError, TarReader

# Kept speculatively in the first pass (small files only, within the budget).
CONFIG_ROOTS = ("/etc/", "/srv/", "/opt/", "/var/www/", "/home/", "/root/", "/usr/local/", "/var/spool/")
SPECULATIVE_MAX = 128 * 1024
SPECULATIVE_BUDGET = 64 * 1024 * 1024
# Bulky trees that are never worth keeping speculatively.
NOISE_DIRS = ("/node_modules/", "/site-packages/", "/dist-packages/", "/.git/", "/__pycache__/", "/.cache/")
# usrmerge: on Debian 12 and RHEL 9, /lib, /bin, /sbin are links into /usr.
USRMERGE = ("/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/")

SWITCH_INTERVAL = 0.0001  # seconds; see _pass
# The inflating helper's chunks and how many may wait for the parser (deeper
# queues and a larger head start while the plugins load measured no faster).
CHUNK = 8 << 20
DEPTH = 6

COMPRESSIONS = {
    b"\x1f\x8b": "gzip",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"\xfd7zXZ\x00": "xz",
    b"BZh": "bzip2",
}


def sniff(path: str) -> str:
    with open(path, "rb") as f:
        head = f.read(264)
    for magic, name in COMPRESSIONS.items():
        if head.startswith(magic):
            return name
    return "none"  # a plain tar, or the reader will say it is not one


class _Incremental(io.RawIOBase):
    """A compressed stream decoded chunk by chunk with a decompressor object (zlib,
    lzma, bz2 API): on a truncated file it hands over every byte before the damage,
    where file-like readers lose their whole last read. Concatenated streams (as
    `pigz`/`pxz` write) are followed through `unused_data`."""

    def __init__(self, raw: BinaryIO, make: Callable[[], Any]) -> None:
        self._raw = raw
        self._make = make
        self._d = make()
        self._out = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._out:
            chunk = self._raw.read(1 << 20)
            if not chunk:
                # at the end: whatever decodes is handed over; a truncated stream then
                # ends early and the tar layer reports the member it ended in
                flush = getattr(self._d, "flush", None)
                self._out = flush() if callable(flush) and not self._d.eof else b""
                if not self._out:
                    return 0
                break
            self._out = self._d.decompress(chunk)
            while self._d.eof and self._d.unused_data:
                rest = self._d.unused_data
                self._d = self._make()
                self._out += self._d.decompress(rest)
        n = min(len(b), len(self._out))
        b[:n] = self._out[:n]
        self._out = self._out[n:]
        return n


def _gzip_decompressor() -> Any:
    try:
        from isal import isal_zlib

        return isal_zlib.decompressobj(31)
    except ImportError:  # pragma: no cover
        return zlib.decompressobj(31)


def _gzip_reader(raw: BinaryIO) -> BinaryIO:
    """ISA-L's C gzip reader (what `isal.igzip_threaded` runs on its thread), fed
    8 MB of compressed input at a time: every refill makes the inflating thread
    wait for the interpreter lock, so few large refills keep it inflating."""
    try:
        from isal.isal_zlib import _GzipReader

        return _GzipReader(raw, 8 << 20)  # type: ignore[return-value]
    except ImportError:  # pragma: no cover - isal is a dependency; stdlib fallback
        import gzip

        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]


class _Prefetching(io.RawIOBase):
    """Runs a decompressor in a helper thread, ahead of the parser. ISA-L,
    zstandard, lzma and bz2 release the GIL while they inflate, so inflating and
    parsing overlap on two cores. The parser gets the helper's chunks as they are
    (no copy). Each chunk costs the helper one wait for the interpreter lock, so
    chunks are large. Inflating starts while the plugins load (see
    `TarballSnapshot.begin`)."""

    _END = b""

    def __init__(self, stream: BinaryIO, chunk: int = CHUNK, depth: int = DEPTH) -> None:
        self._stream = stream
        self._chunk = chunk
        self._items: collections.deque[bytes | BaseException] = collections.deque()
        self._ready = threading.Condition()
        self._depth = depth
        self._buf = b""
        self._done = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="modernize-inflate", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                data = self._stream.read(self._chunk)
                self._put(data)
                if not data:
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
            self._put(exc)

    def _put(self, item: bytes | BaseException) -> None:
        with self._ready:
            while len(self._items) >= self._depth and not self._stop.is_set():
                self._ready.wait(0.1)
            self._items.append(item)
            self._ready.notify_all()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:  # type: ignore[override]
        if self._buf:
            out, self._buf = self._buf, b""
            return out
        if self._done:
            return self._END
        with self._ready:
            while not self._items:
                self._ready.wait()
            item = self._items.popleft()
            self._ready.notify_all()
        if isinstance(item, BaseException):
            self._done = True
            raise item
        if not item:
            self._done = True
        return item

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._buf or self.read()
        n = min(len(b), len(data))
        b[:n] = data[:n]
        self._buf = data[n:]
        return n

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        super().close()


def open_stream(path: str, kind: str, *, careful: bool = False) -> tuple[BinaryIO, list[object], Callable[[], int]]:
    """A decompressed byte stream of the archive, what must be closed after, and a
    function telling how far into the compressed file the reading is (for progress).

    The decompressors read the file object directly, not through a Python wrapper:
    a wrapper would make the inflating thread wait for the interpreter lock that
    the parsing thread holds, and the overlap of the two is where the speed is.
    `kind` is what `sniff` said of the file."""
    raw = open(path, "rb", buffering=1 << 20)  # noqa: SIM115 - closed by the caller through the returned list
    fd = raw.fileno()

    def position() -> int:
        return os.lseek(fd, 0, os.SEEK_CUR)

    closers: list[object] = [raw]
    stream: BinaryIO
    if kind == "gzip" and careful:
        stream = io.BufferedReader(_Incremental(raw, _gzip_decompressor), buffer_size=4 << 20)  # type: ignore[assignment]
    elif kind == "gzip":
        stream = _Prefetching(_gzip_reader(raw))  # type: ignore[assignment]
    elif kind == "zstd":
        import zstandard

        inner: BinaryIO = zstandard.ZstdDecompressor().stream_reader(raw, read_size=8 << 20)
        stream = _Prefetching(inner)  # type: ignore[assignment]
        closers.insert(0, inner)
    elif kind in ("xz", "bzip2"):
        make = lzma.LZMADecompressor if kind == "xz" else bz2.BZ2Decompressor
        inner = io.BufferedReader(_Incremental(raw, make), buffer_size=4 << 20)  # type: ignore[arg-type]
        stream = _Prefetching(inner)  # type: ignore[assignment]
        closers.insert(0, inner)
    else:
        stream = raw
    if stream is not raw:
        closers.insert(0, stream)
    return stream, closers, position


def _close_all(closers: list[object]) -> None:
    for c in closers:
        try:
            c.close()  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001, S110 - closing a broken stream must not mask its error
            pass


_KINDS = {"file": FILE, "hardlink": FILE, "symlink": SYMLINK, "dir": DIR}


class TarballSnapshot(IndexedSnapshot):
    kind = "tarball"

    def __init__(
        self,
        path: str,
        *,
        max_file_size: int = DEFAULT_MAX_FILE_SIZE,
        progress: Callable[[int, int], None] | None = None,
        speculative_budget: int = SPECULATIVE_BUDGET,
    ) -> None:
        if not os.path.isfile(path):
            raise SourceError(f"{path}: no such file")
        super().__init__(os.path.abspath(path), max_file_size=max_file_size)
        self.file = path
        self.compression = sniff(path)
        self.total_bytes = os.path.getsize(path)
        self._progress = progress
        self._budget = speculative_budget
        self._indexed = False
        self._hardlinks: list[tuple[FileInfo, str]] = []  # (link, target) as met in the stream
        self._partial: Callable[[str], Declaration | None] | None = None
        self._chase: dict[str, Declaration] = {}
        self._declared_links: list[tuple[str, Declaration]] = []
        self.bytes_kept = 0
        self._early: tuple[BinaryIO, list[object], Callable[[], int]] | None = None

    def begin(self) -> None:
        """Start inflating now, while the caller loads its detectors; the first pass
        picks up the running stream (the helper thread's queue bounds what waits)."""
        if self._early is None and self.passes == 0:
            self._early = self._open()

    def close(self) -> None:
        if self._early is not None:
            _close_all(self._early[1])
            self._early = None

    def _open(self, *, careful: bool = False) -> tuple[BinaryIO, list[object], Callable[[], int]]:
        try:
            return open_stream(self.file, self.compression, careful=careful)
        except OSError as exc:
            raise SourceError(f"{self.file}: {exc.strerror or exc}") from exc

    # -- passes ---------------------------------------------------------------------
    def prefetch(self, declarations: list[Declaration]) -> None:
        decls = list(declarations)
        decls += [self._usrmerge_twin(d) for d in decls if d.pattern.startswith(USRMERGE)]
        matcher = Matcher(decls)
        self._partial = matcher.partial
        self._pass(matcher.match, build_index=True)
        self._check_hardlinks()
        # Second pass only for what a declaration covers through a symlink we could
        # not foresee (e.g. an unusual link to another disk's tree).
        # Declared symlinks whose target came earlier in the stream:
        needed = self.missing_contents(
            Declaration(link, d.mode, d.size, d.max_size) for link, d in self._declared_links
        )
        for decl in declarations:
            # `**` never follows symlinked directories (as glob does): where nothing but
            # `**` can cross a directory link, the in-stream match already saw every member
            if decl.mode is ReadMode.META or not self._may_cross_links(decl.pattern):
                continue
            hits = self.glob(decl.pattern) if has_magic(decl.pattern) else [decl.pattern]
            needed += self.missing_contents(
                Declaration(h, decl.mode, decl.size, decl.max_size) for h in hits if not self._excluded(h, decl)
            )
        if needed:
            self.fetch_more(needed)

    def _may_cross_links(self, pattern: str) -> bool:
        """Could this pattern reach a file through a directory symlink? Yes when its
        literal directory part is not canonical (`/lib/...` on merged-/usr) or when a
        wildcard other than `**` names a directory (`/etc/php/*/fpm/...`)."""
        if pattern.startswith("**"):
            return False
        prefix = literal_prefix(pattern)
        pdir = prefix.rsplit("/", 1)[0] or "/"
        if self.realpath(pdir) != pdir:
            return True
        dirs = pattern[len(pdir) :].strip("/").split("/")[:-1]
        return any(has_magic(c) and c != "**" for c in dirs)

    @staticmethod
    def _excluded(path: str, decl: Declaration) -> bool:
        return any(f"/{x}/" in path for x in decl.exclude)

    @staticmethod
    def _usrmerge_twin(decl: Declaration) -> Declaration:
        return Declaration("/usr" + decl.pattern, decl.mode, decl.size, decl.max_size, decl.exclude)

    def fetch_more(self, requests: Iterable[Declaration]) -> None:
        wanted: dict[str, Declaration] = {}
        for d in requests:
            old = wanted.get(d.pattern)
            # one path asked for twice: a whole read covers a head or tail
            if old is None or (old.mode is not ReadMode.WHOLE and d.mode is ReadMode.WHOLE):
                wanted[d.pattern] = d
        if not wanted:
            return
        if not self.complete:
            self.unreadable.update(wanted)  # the damage is still there: do not read again
            return
        self._pass(wanted.get, build_index=False)
        self.unreadable.update(p for p in wanted if p not in self.contents)

    def _pass(self, match: Callable[[str], Declaration | None], *, build_index: bool, careful: bool = False) -> None:
        self.passes += 1
        if self._early is not None and not careful:
            (stream, closers, position), self._early = self._early, None
        else:
            stream, closers, position = self._open(careful=careful)
        progress = self._progress

        def tick(_n: int) -> None:
            if progress is not None:
                progress(min(position(), self.total_bytes), self.total_bytes)

        reader = TarReader(stream, on_read=tick)
        # The inflating thread needs the interpreter lock for a moment after each
        # chunk; by default it may wait 5 ms for the parser to let go, idling about
        # a tenth of the pass. A shorter interval makes the parser yield sooner.
        interval = sys.getswitchinterval()
        sys.setswitchinterval(min(interval, SWITCH_INTERVAL))
        try:
            for member in reader:
                self._member(reader, member, match, build_index)
        except (TarFormatError, EOFError, OSError, zlib.error, lzma.LZMAError, ValueError) as exc:
            if not careful and self.compression == "gzip" and isinstance(exc, EOFError | OSError | zlib.error):
                # read it again block by block to keep everything before the damage
                self.passes -= 1
                self._pass(match, build_index=build_index, careful=True)
                return
            if build_index and reader.members_seen == 0:
                raise CorruptArchiveError(f"{self.file}: not a readable tar archive ({exc})") from exc
            self.complete = False
            self.errors.append(
                f"{self.file}: archive is truncated or corrupt after {reader.offset} bytes "
                f"(last member {reader.last_name!r}): {exc}; the inventory covers what was read"
            )
        except Exception as exc:  # zstandard raises its own ZstdError
            if type(exc).__name__ != "ZstdError":
                raise
            self.complete = False
            self.errors.append(f"{self.file}: archive is corrupt after {reader.offset} bytes: {exc}")
        finally:
            sys.setswitchinterval(interval)
            _close_all(closers)

    def _member(
        self,
        reader: TarReader,
        m: Member,
        match: Callable[[str], Declaration | None],
        build_index: bool,
    ) -> None:
        path = P.member_to_path(m.name)
        if path is None:
            if build_index:
                self.coverage.note(m.name, "unsafe member name (climbs out with '..'): ignored")
            return
        if path == "/" or P.is_pseudo(path):
            return
        size = m.logical_size
        if build_index:
            kind = _KINDS.get(m.type, m.type)
            info = FileInfo(path, kind, size, m.mode, m.uid, m.gid, m.mtime)
            if m.type == "symlink":
                info.linkname = m.linkname
                info.size = len(m.linkname)
                decl = match(path)
                # a link a detector named (not one that merely lies in a declared tree,
                # like /etc/alternatives/* under /etc/**): keep its target too
                if decl is not None and "**" not in decl.pattern:
                    base = "/" if m.linkname.startswith("/") else P.parent(path)
                    self._chase[P.normalize(P.join(base, m.linkname))] = decl
                    self._declared_links.append((path, decl))
            elif m.type == "hardlink":
                target = P.member_to_path(m.linkname)
                if target is None:
                    self.coverage.note(path, f"hard link to unsafe name {m.linkname!r}: ignored")
                    return
                info.hardlink_to = target
                self._hardlinks.append((info, target))
            self.add(info)
        if m.type != "file" or (not m.size and m.sparse is None):
            if m.type == "file" and build_index:
                self.put(path, ReadMode.WHOLE, b"")
            return
        decl = match(path) or self._chase.get(path)
        if decl is None:
            if (
                build_index
                and size <= SPECULATIVE_MAX
                and self.bytes_kept < self._budget
                and path.startswith(CONFIG_ROOTS)
                and not any(d in path for d in NOISE_DIRS)
            ):
                decl = Declaration(path)
            else:
                return
        if decl.mode is ReadMode.META:
            return
        limit = decl.max_size or self.max_file_size
        if decl.mode is ReadMode.WHOLE and size > limit:
            partial = self._partial(path) if self._partial else None
            if partial is None:
                return  # recorded as too large when someone reads it
            decl = partial
        if decl.mode is ReadMode.WHOLE:
            data = reader.read_data(m)
        elif m.sparse is not None and size > limit:
            return  # a head or tail of a sparse file means inflating all of it
        elif decl.mode is ReadMode.HEAD:
            data = reader.read_head(m, decl.size)
        else:
            data = reader.read_tail(m, decl.size)
        self.bytes_kept += len(data)
        self.put(path, decl.mode, data)

    def _check_hardlinks(self) -> None:
        for info, to in self._hardlinks:
            if self.entries.get(info.path) is not info:
                continue  # a later member replaced the link
            target = self.entries.get(to)
            if target is None or target.kind != FILE:
                self.unreadable.add(to)
                self.coverage.note(info.path, f"hard link to {to}, which the archive does not hold")
            else:
                info.size = target.size

    def describe(self) -> dict[str, object]:
        return {"kind": self.kind, "location": self.location, "compression": self.compression}
