"""A compressed archive as a byte stream, inflated ahead of the parser.

The inflater runs in a child process (`_Forked`) that writes into a ring of
chunks shared with this one; where the platform cannot fork, or with
MODERNIZE_INFLATE=thread, on a helper thread (`_Prefetching`). Either way the
reader gets each chunk as the helper made it and hands it back (`recycle`) to be
filled again.

Kept apart from the snapshot package and free of heavy imports so that the
console entry can start inflating the tarball a scan names before the CLI
framework and the detector plugins load (see `head_start`).
"""

from __future__ import annotations

import atexit
import bz2
import collections
import io
import lzma
import mmap
import os
import pickle
import signal
import stat
import struct
import sys
import threading
import zlib
from collections.abc import Callable
from typing import Any, BinaryIO

Stream = tuple[BinaryIO, list[object], Callable[[], int]]

SWITCH_INTERVAL = 0.0001  # seconds; see _SwitchInterval
# The helper's chunks and how many may wait for the parser (the ring's slots). A head start
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
        # bytes after the last complete stream that start no stream (gzip: "trailing
        # garbage ignored"): counted and skipped, as gzip and GNU tar do
        self.trailing = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._out:
            chunk = self._raw.read(1 << 20)
            if not chunk:
                # at the end: whatever decodes is handed over; a truncated stream then
                # ends early and the tar layer reports the member it ended in
                flush = getattr(self._d, "flush", None)
                self._out = flush() if callable(flush) and not self._d.eof and not self.trailing else b""
                if not self._out:
                    return 0
                break
            if self.trailing:
                self.trailing += len(chunk)
                continue
            self._out = self._d.decompress(chunk)
            while self._d.eof and self._d.unused_data:
                rest = self._d.unused_data
                self._d = self._make()
                try:
                    self._out += self._d.decompress(rest)
                except Exception:  # noqa: BLE001 - zlib, ISA-L, lzma and bz2 each raise their own
                    self.trailing = len(rest)  # what follows the last stream is not one
                    break
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
    """Runs a decompressor in a helper thread, ahead of the parser: the fallback
    where `_Forked` cannot run. ISA-L, zstandard, lzma and bz2 release the GIL
    while they inflate, so inflating and parsing overlap on two cores, but the
    helper needs the lock a few times per chunk, and every hand-over between the
    cores costs (see `_Forked`). The parser gets the helper's chunks as they are
    (no copy) and hands them back to be filled again. Inflating starts before the
    CLI and the plugins load (see `head_start` and `TarballSnapshot.begin`)."""

    def __init__(
        self, stream: BinaryIO, chunk: int = CHUNK, depth: int = DEPTH, at_end: Callable[[], bool] | None = None
    ) -> None:
        self._stream: Any = stream  # a reader with readinto (ISA-L, zstandard, a BufferedReader)
        self._chunk = chunk
        self._at_end = at_end  # has the compressed input all been read?
        self._items: collections.deque[bytearray | BaseException] = collections.deque()
        self._ready = threading.Condition()
        self._depth = depth
        self._done = False
        self._stop = threading.Event()
        self._spare: dict[int, list[bytearray]] = {}  # chunks handed back by the reader, by size
        self._thread = threading.Thread(target=self._run, name="modernize-inflate", daemon=True)
        _switch_interval.enter()
        self._thread.start()

    def _run(self) -> None:
        try:
            chunk = self._chunk
            while not self._stop.is_set():
                if chunk != TAIL_CHUNK and self._at_end is not None and self._at_end():
                    chunk = TAIL_CHUNK
                spare = self._spare.get(chunk)
                buf = spare.pop() if spare else bytearray(chunk)
                n = self._stream.readinto(buf)
                if n < chunk:
                    del buf[n:]  # the end of the stream: this one is not reused
                self._put(buf)
                if not n:
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
            self._put(exc)

    def _put(self, item: bytearray | BaseException) -> None:
        with self._ready:
            while len(self._items) >= self._depth and not self._stop.is_set():
                self._ready.wait(0.1)
            self._items.append(item)
            self._ready.notify_all()

    def readable(self) -> bool:
        return True

    def recycle(self, chunk: bytearray) -> None:
        """The reader is done with CHUNK (nothing refers to it): fill it again. A
        buffer reused costs the helper no page faults, where a fresh one costs about
        2,000 per 8 MB, paid on the inflating core."""
        if len(chunk) in (self._chunk, TAIL_CHUNK):
            self._spare.setdefault(len(chunk), []).append(chunk)

    def read(self, size: int = -1) -> bytearray:  # type: ignore[override]
        """The next chunk as the helper made it, whatever SIZE asks."""
        if self._done:
            return bytearray()
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


# The child leaves through the real os._exit, taken now: nothing a caller wraps
# around it (a test's spy, an at-exit hook) may run in the child.
_child_exit = os._exit
_MSG = struct.Struct("<qqq")  # slot (-1: an error follows, pickled), bytes in it, compressed bytes read


class _Forked(io.RawIOBase):
    """Inflates in a child process into a ring of chunks in memory shared with it.

    Why a process and not a thread: a helper thread needs the interpreter lock a
    few times per chunk (to call the file's read, to return), and each time the
    parser on the other core must hand it over. On the virtual machines scans run
    on, a hand-over between cores costs a cross-CPU wake-up, measured here at 1-2 ms
    of lost time each (hundreds per server), and the helper's waits add up on
    the critical path. The child has an interpreter of its own and spends its time
    in the C inflater; the two speak over two pipes, once per 8 MB chunk, and the
    chunks are never copied. A chunk the reader hands back (`recycle`) is filled
    again, so the shared pages are touched once and not faulted in anew.

    The child only reads the archive and writes into the ring: it is forked before
    the parent does anything else with the file, inherits no threads that matter,
    and ends with `os._exit` (no buffers flushed twice, no handlers run)."""

    def __init__(self, path: str, kind: str, *, chunk: int = CHUNK, depth: int = DEPTH) -> None:
        self._chunk = chunk
        self._depth = depth
        self._ring = mmap.mmap(-1, chunk * depth)
        self._view = memoryview(self._ring)
        self._out: dict[int, tuple[memoryview, int]] = {}  # id(chunk) -> (chunk, slot)
        self._position = 0
        self._done = False
        ready_r, ready_w = os.pipe()
        free_r, free_w = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            for fd in (ready_r, ready_w, free_r, free_w):
                os.close(fd)
            self._view.release()
            self._ring.close()
            raise
        if pid == 0:  # pragma: no cover - runs in the child (its exit status is checked)
            code = 0
            try:
                # the reader's ends of this pipe pair and of any other child's: a
                # child holding another's free pipe open would keep that one waiting
                for fd in (ready_r, free_w, *_reader_fds):
                    os.close(fd)
                _inflate_into_ring(path, kind, self._view, chunk, depth, ready_w, free_r)
            except BaseException:  # noqa: BLE001 - the child must end here, whatever happens
                code = 1
            finally:
                _child_exit(code)
        os.close(ready_w)
        os.close(free_r)
        self._pid = pid
        self._ready = os.fdopen(ready_r, "rb", buffering=0)
        self._free = free_w
        _reader_fds.update((ready_r, free_w))

    def position(self) -> int:
        return self._position

    def readable(self) -> bool:
        return True

    def _read_exactly(self, n: int) -> bytes:
        parts = []
        while n:
            got = self._ready.read(n)
            if not got:
                raise EOFError("the inflating process ended without a word (killed?)")
            parts.append(got)
            n -= len(got)
        return b"".join(parts)

    def read(self, size: int = -1) -> memoryview | bytes:  # type: ignore[override]
        """The next chunk, a view of the ring, whatever SIZE asks."""
        if self._done:
            return b""
        if len(self._out) >= self._depth:  # the child would wait for a slot forever
            raise RuntimeError("the reader holds every chunk of the ring: hand them back with recycle()")
        slot, n, self._position = _MSG.unpack(self._read_exactly(_MSG.size))
        if slot < 0:
            self._done = True
            raise _unpickle_error(self._read_exactly(n))
        if not n:
            self._done = True
            return b""
        start = slot * self._chunk
        view = self._view[start : start + n]
        self._out[id(view)] = (view, slot)
        return view

    def recycle(self, chunk: memoryview) -> None:
        """The reader is done with CHUNK: nothing refers to it any more, fill it again."""
        # an id in the table is a live view's, and CHUNK is alive: no other object has it
        entry = self._out.pop(id(chunk), None)
        if entry is not None:
            entry[0].release()
            try:
                os.write(self._free, bytes([entry[1]]))
            except OSError:  # the child has ended: nothing left to fill
                pass

    def close(self) -> None:
        """Unmap the ring, then let the child go: at the end of the stream it waits
        for that, otherwise it is killed, and either way its exit frees the ring's
        pages on its own core. It is reaped without waiting (see `reap`)."""
        if self.closed:
            return
        for view, _ in self._out.values():
            view.release()
        self._out.clear()
        self._view.release()
        try:
            self._ring.close()
        except BufferError:  # a chunk still held by a caller: the mapping goes with it
            pass
        if not self._done:  # the reader stopped early (or at the archive's end marker)
            try:
                os.kill(self._pid, signal.SIGKILL)
            except ProcessLookupError:  # pragma: no cover - already reaped
                pass
        _reader_fds.difference_update((self._ready.fileno(), self._free))
        self._ready.close()
        os.close(self._free)
        _exited.append(self._pid)
        reap()
        super().close()


# This process's ends of every open child's pipes, closed in each new child.
_reader_fds: set[int] = set()

# Children that were let go and may still be exiting; `reap` collects them
# without waiting, and once more (waiting) when the interpreter exits.
_exited: list[int] = []


def reap(*, wait: bool = False) -> None:
    """Collect the inflating children that have exited (all of them, if WAIT)."""
    for pid in list(_exited):
        try:
            done, _status = os.waitpid(pid, 0 if wait else os.WNOHANG)
        except ChildProcessError:  # reaped elsewhere
            done = pid
        if done:
            _exited.remove(pid)


atexit.register(reap, wait=True)


def _inflate_into_ring(
    path: str, kind: str, ring: memoryview, chunk: int, depth: int, ready: int, free: int
) -> None:  # pragma: no cover - runs in the child
    """The child's loop: inflate into free slots, say which one is ready, reuse
    the slots handed back before touching fresh ones."""
    raw = open(path, "rb", buffering=1 << 20)  # noqa: SIM115 - the process ends with it
    fd = raw.fileno()
    size = os.fstat(fd).st_size
    fresh = list(range(depth - 1, -1, -1))
    handed_back: list[int] = []
    os.set_blocking(free, False)
    try:
        stream = _decompressing_reader(raw, kind)
        tail = False
        while True:
            try:
                handed_back.extend(os.read(free, 4096))
            except BlockingIOError:
                pass
            if not handed_back and not fresh:
                os.set_blocking(free, True)
                got = os.read(free, 4096)
                os.set_blocking(free, False)
                if not got:
                    return  # the reader is gone
                handed_back.extend(got)
            slot = handed_back.pop() if handed_back else fresh.pop()
            # once the compressed file is all read, small pieces: the parse of the
            # last one is all that does not overlap the inflate
            tail = tail or os.lseek(fd, 0, os.SEEK_CUR) >= size
            want = TAIL_CHUNK if tail else chunk
            start = slot * chunk
            n = stream.readinto(ring[start : start + want])
            os.write(ready, _MSG.pack(slot, n, os.lseek(fd, 0, os.SEEK_CUR)))
            if not n:
                # stay until the reader lets go of the ring: the last process to
                # unmap it frees its pages (some 30 ms for a deep ring), and that
                # should be this one, on its own core, not the reader
                os.set_blocking(free, True)
                while os.read(free, 4096):
                    pass
                return
    except Exception as exc:  # noqa: BLE001 - handed to the reader, who reports it
        data = _pickle_error(exc)
        os.write(ready, _MSG.pack(-1, len(data), os.lseek(fd, 0, os.SEEK_CUR)) + data)


def _pickle_error(exc: BaseException) -> bytes:
    try:
        return pickle.dumps(exc)
    except Exception:  # noqa: BLE001 - an exception that does not pickle goes as its text
        return pickle.dumps(OSError(f"{type(exc).__name__}: {exc}"))


def _unpickle_error(data: bytes) -> BaseException:
    try:
        exc = pickle.loads(data)  # written by our own child process
    except Exception as err:  # noqa: BLE001
        return OSError(f"the inflating process failed ({err})")
    return exc if isinstance(exc, BaseException) else OSError(repr(exc))


def _decompressing_reader(raw: BinaryIO, kind: str, *, on_thread: bool = False) -> Any:
    """A reader with `readinto` that inflates RAW (a file read directly: no
    Python wrapper between the decompressor and the file).

    zstd reads its input in zstandard's own small pieces (128 KB), which inflates
    about 10% faster here than 8 MB pieces, whose input no longer sits in the
    cache; a helper thread (ON_THREAD) still takes 8 MB, since each piece costs
    it a wait for the interpreter lock."""
    if kind == "gzip":
        return _gzip_reader(raw)
    if kind == "zstd":
        import zstandard

        if on_thread:
            return zstandard.ZstdDecompressor().stream_reader(raw, read_size=8 << 20)
        return zstandard.ZstdDecompressor().stream_reader(raw)
    make = lzma.LZMADecompressor if kind == "xz" else bz2.BZ2Decompressor
    return io.BufferedReader(_Incremental(raw, make), buffer_size=4 << 20)  # type: ignore[arg-type]


# The inflater runs in a child process where the platform can fork (see _Forked);
# MODERNIZE_INFLATE=thread keeps it on a helper thread of this process.
USE_FORK = hasattr(os, "fork") and os.environ.get("MODERNIZE_INFLATE", "") != "thread"


def open_stream(path: str, kind: str, *, careful: bool = False, depth: int = DEPTH) -> Stream:
    """A decompressed byte stream of the archive, what must be closed after, and a
    function telling how far into the compressed file the reading is (for progress).

    The decompressors read the file object directly, not through a Python wrapper:
    a wrapper would make the inflating thread wait for the interpreter lock that
    the parsing thread holds, and the overlap of the two is where the speed is.
    `kind` is what `sniff` said of the file."""
    if USE_FORK and not careful and kind in HEAD_DEPTH:
        reap()
        try:
            forked = _Forked(path, kind, depth=depth)
        except OSError:  # no fork or no shared memory to be had here: a thread does it
            pass
        else:
            return forked, [forked], forked.position  # type: ignore[return-value]
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
        closers.insert(0, stream)
    elif kind in HEAD_DEPTH:
        inner = _decompressing_reader(raw, kind, on_thread=True)
        stream = _Prefetching(inner, depth=depth, at_end=at_end)  # type: ignore[assignment]
        closers[:0] = [stream, inner]
    else:
        stream = raw
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
