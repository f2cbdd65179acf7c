"""The inflating helper hands over the archive's bytes exactly, in large chunks
while compressed input remains and in small ones after, so that the parser's
work on the last chunk (the part that cannot overlap) stays short."""

from __future__ import annotations

import gzip
import lzma
import os
import time
from pathlib import Path

import pytest
import zstandard

from modernize import inflate

COMPRESS = {
    "gzip": lambda data: gzip.compress(data, compresslevel=1),
    "zstd": lambda data: zstandard.ZstdCompressor(level=1).compress(data),
    "xz": lambda data: lzma.compress(data, preset=0),
}


@pytest.fixture(params=["process", "thread"])
def helper(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test here runs with the inflater in a child process and on a thread."""
    monkeypatch.setattr(inflate, "USE_FORK", request.param == "process")
    return str(request.param)


@pytest.mark.parametrize("kind", sorted(COMPRESS))
def test_chunks_are_exact_and_small_once_the_input_is_read(kind: str, tmp_path: Path, helper: str) -> None:
    # compressible as a server's tree is (more so): the compressed file is all
    # read well before its last bytes come out
    data = os.urandom(16 << 10) * (4 * inflate.CHUNK // (16 << 10))
    path = tmp_path / f"x.{kind}"
    path.write_bytes(COMPRESS[kind](data))
    stream, closers, _position = inflate.open_stream(str(path), kind)
    try:
        chunks = []
        while chunk := stream.read():
            chunks.append(bytes(chunk))
            stream.recycle(chunk)  # type: ignore[attr-defined]
    finally:
        inflate.close_all(closers)
    assert b"".join(chunks) == data
    assert len(chunks[0]) == inflate.CHUNK
    assert max(len(c) for c in chunks[-8:]) <= inflate.TAIL_CHUNK


def _inflated(path: Path, kind: str, *, depth: int = inflate.DEPTH, helper: type | None = None) -> bytes:
    """Everything the stream hands over, each chunk handed back as a reader does."""
    stream, closers, _position = inflate.open_stream(str(path), kind, depth=depth)
    out = bytearray()
    try:
        assert helper is None or isinstance(stream, helper)
        while chunk := stream.read():
            out += chunk
            stream.recycle(chunk)  # type: ignore[attr-defined]
    finally:
        inflate.close_all(closers)
    return bytes(out)


@pytest.mark.parametrize("kind", sorted(COMPRESS))
def test_more_chunks_than_the_ring_holds(kind: str, tmp_path: Path, helper: str) -> None:
    """Two slots for a stream of many chunks: the reader hands each one back and
    the helper fills it again; the bytes come out exact and in order."""
    data = os.urandom(64 << 10) * (5 * inflate.CHUNK // (64 << 10)) + b"end"
    path = tmp_path / f"x.{kind}"
    path.write_bytes(COMPRESS[kind](data))
    assert _inflated(path, kind, depth=2) == data


def _error_of(kind: str, path: Path) -> tuple[str, str]:
    stream, closers, _position = inflate.open_stream(str(path), kind)
    try:
        while chunk := stream.read():
            stream.recycle(chunk)  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - what is raised is the subject
        return type(exc).__name__, str(exc)
    finally:
        inflate.close_all(closers)
    return "none", ""


@pytest.mark.parametrize("damage", ["truncated", "garbled"])
@pytest.mark.parametrize("kind", sorted(COMPRESS))
def test_a_damaged_stream_raises_the_same_error_from_the_child(
    kind: str, damage: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child process hands its decompressor's exception over as it is: the
    snapshot tells damage from other failures by type, with either helper."""
    blob = bytearray(COMPRESS[kind](os.urandom(1 << 20) * 3))
    if damage == "truncated":
        del blob[len(blob) // 2 :]
    else:
        for at in range(len(blob) // 3, len(blob) // 3 + 64):
            blob[at] ^= 0x5A
    path = tmp_path / f"x.{kind}"
    path.write_bytes(blob)
    monkeypatch.setattr(inflate, "USE_FORK", False)
    on_thread = _error_of(kind, path)
    monkeypatch.setattr(inflate, "USE_FORK", True)
    in_child = _error_of(kind, path)
    # the same type (zstd words its complaint by where the damage falls within the
    # pieces it was handed, which differ between the two)
    assert in_child[0] == on_thread[0]
    assert in_child[0] == "none" or in_child[1]
    assert in_child[0] != "none" or damage == "truncated"  # a cut stream may just end early


def test_a_reader_that_keeps_every_chunk_is_told_not_left_waiting(tmp_path: Path) -> None:
    path = tmp_path / "x.zstd"
    path.write_bytes(COMPRESS["zstd"](os.urandom(1 << 20) * (6 * inflate.CHUNK >> 20)))
    stream, closers, _position = inflate.open_stream(str(path), "zstd", depth=2)
    assert isinstance(stream, inflate._Forked)
    try:
        stream.read()
        stream.read()
        with pytest.raises(RuntimeError, match="recycle"):
            stream.read()
    finally:
        inflate.close_all(closers)


def _collected(pid: int) -> bool:
    """Has the child that was let go exited and been collected (within 10 s)?"""
    deadline = time.monotonic() + 10
    while pid in inflate._exited and time.monotonic() < deadline:
        time.sleep(0.01)
        inflate.reap()
    return pid not in inflate._exited


def test_closing_ends_and_reaps_the_child(tmp_path: Path) -> None:
    path = tmp_path / "x.zstd"
    path.write_bytes(COMPRESS["zstd"](os.urandom(1 << 20) * 40))
    stream, closers, position = inflate.open_stream(str(path), "zstd", depth=2)
    assert isinstance(stream, inflate._Forked)
    first = stream.read()
    assert len(first) == inflate.CHUNK and 0 < position() <= path.stat().st_size
    inflate.close_all(closers)
    # killed mid-stream, then collected without a wait: no orphan, and no zombie
    # once it has exited
    assert _collected(stream._pid)
    with pytest.raises(ProcessLookupError):
        os.kill(stream._pid, 0)


def test_at_the_end_the_child_waits_for_the_reader_to_let_go(tmp_path: Path) -> None:
    """After the last chunk the child keeps the ring mapped until the reader has
    unmapped it (so the child, not the reader, frees the pages), then exits."""
    path = tmp_path / "x.zstd"
    path.write_bytes(COMPRESS["zstd"](os.urandom(1 << 20) * 3))
    stream, closers, _position = inflate.open_stream(str(path), "zstd")
    assert isinstance(stream, inflate._Forked)
    while chunk := stream.read():
        stream.recycle(chunk)
    time.sleep(0.2)
    assert os.waitpid(stream._pid, os.WNOHANG) == (0, 0)  # still there, waiting
    inflate.close_all(closers)
    assert _collected(stream._pid)


def test_no_child_process_to_be_had_falls_back_to_a_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A host that refuses a fork (process limits, no memory to share) still scans."""

    def refuse() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(inflate.os, "fork", refuse)
    data = os.urandom(1 << 20) * 3
    path = tmp_path / "x.zstd"
    path.write_bytes(COMPRESS["zstd"](data))
    assert _inflated(path, "zstd", helper=inflate._Prefetching) == data


def test_two_children_at_once_each_ends_when_its_reader_lets_go(tmp_path: Path) -> None:
    """A second child must not hold the first one's pipes open (it would keep the
    first waiting after its reader let go)."""
    path = tmp_path / "x.zstd"
    path.write_bytes(COMPRESS["zstd"](os.urandom(1 << 20) * 3))
    first, first_closers, _ = inflate.open_stream(str(path), "zstd")
    while chunk := first.read():
        first.recycle(chunk)  # type: ignore[attr-defined]
    second, second_closers, _ = inflate.open_stream(str(path), "zstd")
    try:
        assert isinstance(first, inflate._Forked) and isinstance(second, inflate._Forked)
        inflate.close_all(first_closers)
        assert _collected(first._pid)  # ended while the second still runs
    finally:
        inflate.close_all(second_closers)
