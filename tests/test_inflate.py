"""The inflating helper hands over the archive's bytes exactly, in large chunks
while compressed input remains and in small ones after, so that the parser's
work on the last chunk (the part that cannot overlap) stays short."""

from __future__ import annotations

import gzip
import lzma
import os
from pathlib import Path

import pytest
import zstandard

from modernize import inflate

COMPRESS = {
    "gzip": lambda data: gzip.compress(data, compresslevel=1),
    "zstd": lambda data: zstandard.ZstdCompressor(level=1).compress(data),
    "xz": lambda data: lzma.compress(data, preset=0),
}


@pytest.mark.parametrize("kind", sorted(COMPRESS))
def test_chunks_are_exact_and_small_once_the_input_is_read(kind: str, tmp_path: Path) -> None:
    # compressible as a server's tree is (more so): the compressed file is all
    # read well before its last bytes come out
    data = os.urandom(16 << 10) * (4 * inflate.CHUNK // (16 << 10))
    path = tmp_path / f"x.{kind}"
    path.write_bytes(COMPRESS[kind](data))
    stream, closers, _position = inflate.open_stream(str(path), kind)
    try:
        chunks = []
        while chunk := stream.read():
            chunks.append(chunk)
    finally:
        inflate.close_all(closers)
    assert b"".join(chunks) == data
    assert len(chunks[0]) == inflate.CHUNK
    assert max(len(c) for c in chunks[-8:]) <= inflate.TAIL_CHUNK
