"""A compressed archive as a byte stream, inflated ahead on a helper thread.

Kept apart from the snapshot package and free of heavy imports so that the
console entry can start inflating the tarball a scan names before the CLI
framework and the detector plugins load (see `head_start`).
"""

from __future__ import annotations

import bz2
import collections
import io
import lzma
import os
import stat
import sys
import threading
import zlib
from collections.abc import Callable
from typing import Any, BinaryIO

Stream = tuple[BinaryIO, list[object], Callable[[], int]]

SWITCH_INTERVAL = 0.0001  # seconds; see _SwitchInterval
# The helper's chunks and how many may wait for the parser. A head start
# (`head_start`) runs while the CLI and the plugins load, 0.2-0.3 s, and should
# not stall before the parser comes: zstd inflates twice as fast as gzip, so it
# may run twice as far ahead (256 MB; 128 MB for the others). The parser is
# faster than any inflater and soon drains what waits. A chunk waiting is
# memory touched for the first time, so the queue is no deeper than that.
CHUNK = 8 << 20
DEPTH = 6
# Once the whole compressed file is read, what is left is handed over in small
# chunks: the parser's work after the last one is all that does not overlap.
TAIL_CHUNK = 1 << 20
HEAD_DEPTH = {"zstd": 32, "gzip": 16, "xz": 16, "bzip2": 16}

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


class _SwitchInterval:
    """While any helper inflates, the interpreter lock changes hands every 0.1 ms
    (the default is 5 ms): the helper needs the lock for a moment after every
    chunk, and a parser or an import holding it longer leaves the inflating core
    idle. Restored when the last helper is closed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._helpers = 0
        self._before = 0.0

    def enter(self) -> None:
        with self._lock:
            if self._helpers == 0:
                self._before = sys.getswitchinterval()
                sys.setswitchinterval(min(self._before, SWITCH_INTERVAL))
            self._helpers += 1

    def leave(self) -> None:
        with self._lock:
            self._helpers -= 1
            if self._helpers == 0:
                sys.setswitchinterval(self._before)


_switch_interval = _SwitchInterval()


class _Prefetching(io.RawIOBase):
    """Runs a decompressor in a helper thread, ahead of the parser. ISA-L,
    zstandard, lzma and bz2 release the GIL while they inflate, so inflating and
    parsing overlap on two cores. The parser gets the helper's chunks as they are
    (no copy). Each chunk costs the helper one wait for the interpreter lock, so
    chunks are large. Inflating starts before the CLI and the plugins load (see
    `head_start` and `TarballSnapshot.begin`)."""

    _END = b""

    def __init__(
        self, stream: BinaryIO, chunk: int = CHUNK, depth: int = DEPTH, at_end: Callable[[], bool] | None = None
    ) -> None:
        self._stream = stream
        self._chunk = chunk
        self._at_end = at_end  # has the compressed input all been read?
        self._items: collections.deque[bytes | BaseException] = collections.deque()
        self._ready = threading.Condition()
        self._depth = depth
        self._done = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="modernize-inflate", daemon=True)
        _switch_interval.enter()
        self._thread.start()

    def _run(self) -> None:
        try:
            chunk = self._chunk
            while not self._stop.is_set():
                if chunk != TAIL_CHUNK and self._at_end is not None and self._at_end():
                    chunk = TAIL_CHUNK
                data = self._stream.read(chunk)
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
        """The next chunk as the helper made it, whatever SIZE asks."""
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

    def close(self) -> None:
        if not self._stop.is_set():
            self._stop.set()
            _switch_interval.leave()
        self._thread.join(timeout=5)
        super().close()


def open_stream(path: str, kind: str, *, careful: bool = False, depth: int = DEPTH) -> Stream:
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

    size = os.fstat(fd).st_size

    def at_end() -> bool:
        return position() >= size

    closers: list[object] = [raw]
    stream: BinaryIO
    if kind == "gzip" and careful:
        stream = io.BufferedReader(_Incremental(raw, _gzip_decompressor), buffer_size=4 << 20)  # type: ignore[assignment]
    elif kind == "gzip":
        stream = _Prefetching(_gzip_reader(raw), depth=depth, at_end=at_end)  # type: ignore[assignment]
    elif kind == "zstd":
        import zstandard

        inner: BinaryIO = zstandard.ZstdDecompressor().stream_reader(raw, read_size=8 << 20)
        stream = _Prefetching(inner, depth=depth, at_end=at_end)  # type: ignore[assignment]
        closers.insert(0, inner)
    elif kind in ("xz", "bzip2"):
        make = lzma.LZMADecompressor if kind == "xz" else bz2.BZ2Decompressor
        inner = io.BufferedReader(_Incremental(raw, make), buffer_size=4 << 20)  # type: ignore[arg-type]
        stream = _Prefetching(inner, depth=depth, at_end=at_end)  # type: ignore[assignment]
        closers.insert(0, inner)
    else:
        stream = raw
    if stream is not raw:
        closers.insert(0, stream)
    return stream, closers, position


def close_all(closers: list[object]) -> None:
    for c in closers:
        try:
            c.close()  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001, S110 - closing a broken stream must not mask its error
            pass


# -- head start -------------------------------------------------------------------
# Streams started by the console entry, until the snapshot of the same file
# claims one. Keyed by the file's identity: a file replaced in between is not it.
_head_starts: dict[tuple[int, int, int, int], Stream] = {}


def _identity(path: str) -> tuple[int, int, int, int] | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def head_start(path: str) -> None:
    """Start inflating PATH now if it is a compressed file; nothing otherwise. A
    file that cannot be read is left for the scan to report."""
    key = _identity(path)
    if key is None or key in _head_starts:
        return
    try:
        kind = sniff(path)
        if kind not in HEAD_DEPTH:  # a plain tar gains nothing from a helper
            return
        _head_starts[key] = open_stream(path, kind, depth=HEAD_DEPTH[kind])
    except (OSError, ImportError):
        return


def claim(path: str) -> Stream | None:
    """The running stream of PATH that `head_start` began, once."""
    key = _identity(path)
    return _head_starts.pop(key, None) if key is not None else None


def drop_head_starts() -> None:
    """Stop every stream nobody claimed."""
    while _head_starts:
        close_all(_head_starts.popitem()[1][1])
