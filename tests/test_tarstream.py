"""The tar reader against what real GNU tar writes: long names and links, PAX
headers, sparse files in every sparse format, hard links, `./` or bare members."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from modernize.snapshot import Declaration, TarballSnapshot
from modernize.snapshot.tarstream import TarReader

pytestmark = pytest.mark.usefixtures("tar_parser")  # each test with both header parsers

LONG_DIR = "srv/" + "/".join(["a-rather-long-directory-name"] * 6)
LONG_TARGET = "/opt/" + "x" * 150 + "/target.conf"


def _tree(root: Path) -> None:
    (root / LONG_DIR).mkdir(parents=True)
    (root / LONG_DIR / "app.conf").write_text("listen = 8080\n")
    (root / "etc").mkdir()
    (root / "etc" / "main.conf").write_text("main\n")
    os.link(root / "etc" / "main.conf", root / "etc" / "hard.conf")
    os.symlink(LONG_TARGET, root / "etc" / "long-link")
    with open(root / "etc" / "sparse.db", "wb") as f:
        f.seek(300_000)
        f.write(b"tail-data")
        f.seek(1_000_000)
        f.write(b"end")
    os.utime(root / "etc" / "main.conf", (1700000000.25, 1700000000.25))


@pytest.mark.parametrize(
    "flags",
    [
        ["--format=gnu"],
        ["--format=gnu", "--sparse"],
        ["--format=posix"],
        ["--format=posix", "--sparse", "--sparse-version=0.0"],
        ["--format=posix", "--sparse", "--sparse-version=0.1"],
        ["--format=posix", "--sparse", "--sparse-version=1.0"],
        ["--format=ustar"],
    ],
    ids=lambda f: " ".join(f),
)
@pytest.mark.parametrize("dot", [True, False], ids=["./members", "bare-members"])
def test_gnu_tar_formats(tmp_path: Path, flags: list[str], dot: bool) -> None:
    root = tmp_path / "root"
    _tree(root)
    out = tmp_path / "t.tar"
    members = ["."] if dot else sorted(os.listdir(root))
    proc = subprocess.run(["tar", "-C", str(root), *flags, "-cf", str(out), *members], capture_output=True, text=True)
    if proc.returncode != 0:
        assert flags == ["--format=ustar"], proc.stderr  # ustar cannot hold the long link target
        return
    snap = TarballSnapshot(str(out))
    snap.prefetch([Declaration("/**")])
    assert snap.read_text(f"/{LONG_DIR}/app.conf") == "listen = 8080\n"
    assert snap.readlink("/etc/long-link") == LONG_TARGET
    assert snap.read_text("/etc/hard.conf") == "main\n"  # a hard link reads as its target
    sparse = snap.read_bytes("/etc/sparse.db")
    assert len(sparse) == 1_000_003
    assert sparse[300_000:300_009] == b"tail-data" and sparse[-3:] == b"end" and sparse[:10] == bytes(10)
    info = snap.stat("/etc/main.conf")
    assert info is not None and info.size == 5
    if "posix" in flags[0]:
        assert info.mtime == pytest.approx(1700000000.25)


def test_large_sizes_in_pax_and_base256(tmp_path: Path) -> None:
    """A member over 8 GiB needs a PAX size or a base-256 size field; stat must say so
    and a whole read must be refused as too large, without reading 8 GiB."""
    root = tmp_path / "root"
    root.mkdir()
    with open(root / "huge.img", "wb") as f:
        f.truncate(9 * 1024**3)
    (root / "after.txt").write_text("still read\n")
    for fmt in ("posix", "gnu"):
        out = tmp_path / f"{fmt}.tar"
        subprocess.run(
            ["tar", "-C", str(root), f"--format={fmt}", "--sparse", "-cf", str(out), "huge.img", "after.txt"],
            check=True,
        )
        snap = TarballSnapshot(str(out))
        snap.prefetch([Declaration("/**")])
        info = snap.stat("/huge.img")
        assert info is not None and info.size == 9 * 1024**3
        assert snap.read("/huge.img").status.value == "too-large"
        assert snap.read_text("/after.txt") == "still read\n"


class _Ragged(io.RawIOBase):
    """A stream that hands its bytes over in pieces of uneven, unaligned sizes, as
    a decompressor may: headers and data straddle every kind of boundary."""

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        self._data, self._pos, self._sizes, self._i = data, 0, sizes, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        n = self._sizes[self._i % len(self._sizes)]
        self._i += 1
        out = self._data[self._pos : self._pos + n]
        self._pos += len(out)
        return out


@pytest.mark.parametrize("sizes", [[1], [511, 513, 7], [100_003, 4096, 1_000_000], [3_000_000]], ids=str)
def test_reads_the_same_whatever_the_pieces(tmp_path: Path, sizes: list[int]) -> None:
    root = tmp_path / "root"
    _tree(root)
    (root / "etc" / "big.bin").write_bytes(os.urandom(2_500_000))
    out = tmp_path / "t.tar"
    subprocess.run(["tar", "-C", str(root), "--format=gnu", "-cf", str(out), "."], check=True)
    data = out.read_bytes()
    kinds = {tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "symlink", tarfile.LNKTYPE: "hardlink"}
    want: dict[str, bytes | str] = {}
    with tarfile.open(out) as tf:
        for m in tf:
            f = tf.extractfile(m) if m.isfile() else None
            want[m.name] = f.read() if f is not None else kinds[m.type]
    got: dict[str, bytes | str] = {}
    reader = TarReader(_Ragged(data, sizes))  # type: ignore[arg-type]
    for i, member in enumerate(reader):
        name = member.name.rstrip("/")
        if member.type != "file":
            got[name] = member.type
        elif i % 3 == 0:
            got[name] = reader.read_data(member)
        elif i % 3 == 1:  # heads and tails cross the pieces too
            head = reader.read_head(member, 700_000)
            assert head == want[name][:700_000]
            got[name] = want[name] if len(head) < member.size else head
        else:
            tail = reader.read_tail(member, 700_000)
            assert tail == want[name][-700_000:]
            got[name] = want[name] if len(tail) < member.size else tail
    assert got == want
    assert any(isinstance(v, bytes) and len(v) == 2_500_000 for v in got.values())
