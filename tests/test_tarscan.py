"""The compiled fast path of the tar reader (`_tarscan.scan`) against the pure-Python
parser it stands in for, and the chunk-recycling contract between the reader and
the inflating helper.

The fast path takes only plain ustar/GNU headers and leaves everything else to
Python, so on any input the two must give the same members, the same data and
the same errors: checked on what GNU tar and Python's tarfile write in every
format, and on thousands of damaged variants of them."""

from __future__ import annotations

import io
import os
import random
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from modernize.snapshot import tarstream
from modernize.snapshot.tarstream import TarFormatError, TarReader

FORMATS = [
    ["--format=gnu"],
    ["--format=gnu", "--sparse"],
    ["--format=posix"],
    ["--format=posix", "--sparse", "--sparse-version=1.0"],
    ["--format=oldgnu"],
    ["--format=ustar"],
    ["--format=v7"],
]

needs_scan = pytest.mark.skipif(tarstream._scan is None, reason="the compiled fast path is not built here")


def test_the_compiled_fast_path_is_built_where_ci_runs() -> None:
    """CI installs a compiler: there the fast path must be built, or every other
    test here would compare the Python parser with itself."""
    if tarstream._scan is None and not os.environ.get("CI"):
        pytest.skip("no compiled fast path on this machine (no C compiler at install time)")
    assert tarstream._scan is not None


def _tree(root: Path) -> None:
    """A small server-like tree with what real archives hold: long names, a long
    link, a hard link, a sparse file, odd owners and modes, empty files."""
    rng = random.Random(7)
    for d in ("etc/nginx/sites-enabled", "usr/share/doc/pkg", "srv/app", "var/lib/db"):
        (root / d).mkdir(parents=True)
    for i in range(60):
        size = rng.choice([0, 1, 511, 512, 513, 4096, 20_000])
        (root / "usr/share/doc/pkg" / f"file{i}.txt").write_bytes(rng.randbytes(size))
    long_dir = root / "srv/app" / "/".join(["deep-directory-name-for-paths"] * 5)
    long_dir.mkdir(parents=True)
    (long_dir / "settings.py").write_text("DEBUG = False\n")
    (root / "etc/nginx/nginx.conf").write_text("worker_processes auto;\n")
    os.link(root / "etc/nginx/nginx.conf", root / "etc/nginx/hard.conf")
    os.symlink("../sites-available/default", root / "etc/nginx/sites-enabled/default")
    os.symlink("/opt/" + "t" * 120, root / "etc/long-link")
    os.chmod(root / "etc/nginx/nginx.conf", 0o4750)
    os.chown(root / "srv/app", 1001, 33)
    with open(root / "var/lib/db/sparse", "wb") as f:
        f.seek(200_000)
        f.write(b"data")
    os.utime(root / "etc/nginx/nginx.conf", (1_700_000_000.5, 1_700_000_000.5))


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    base = tmp_path_factory.mktemp("tarscan")
    root = base / "root"
    root.mkdir()
    _tree(root)
    out: dict[str, bytes] = {}
    for flags in FORMATS:
        path = base / "t.tar"
        proc = subprocess.run(["tar", "-C", str(root), *flags, "-cf", str(path), "."], capture_output=True)
        if proc.returncode == 0:  # ustar and v7 cannot hold every name: skip those
            out[" ".join(flags)] = path.read_bytes()
    for fmt in (tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
            for path in sorted(root.rglob("*")):
                if fmt == tarfile.USTAR_FORMAT and len(str(path.relative_to(root))) > 99:
                    continue
                if fmt == tarfile.USTAR_FORMAT and path.is_symlink() and len(os.readlink(path)) > 99:
                    continue
                tf.add(path, arcname=str(path.relative_to(root)), recursive=False)
        out[f"tarfile {fmt}"] = buf.getvalue()
    return out


class _Pieces(io.RawIOBase):
    """Hands the archive over in pieces of the given sizes, as `kind` chunks. With
    recycling, a piece handed back is overwritten at once: a reader that kept any
    reference into it would read garbage and fail the comparison."""

    def __init__(self, data: bytes, sizes: list[int], kind: str = "bytes") -> None:
        self._data, self._sizes, self._kind = data, sizes, kind
        self._pos = self._i = 0
        self.recycled = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes | bytearray | memoryview:  # type: ignore[override]
        n = self._sizes[self._i % len(self._sizes)]
        self._i += 1
        piece = self._data[self._pos : self._pos + n]
        self._pos += len(piece)
        if self._kind == "bytearray":
            return bytearray(piece)
        if self._kind == "memoryview":
            return memoryview(bytearray(piece))
        return piece

    def recycle(self, chunk: bytearray | memoryview) -> None:
        assert self._kind != "bytes"
        chunk[:] = b"\xaa" * len(chunk)
        self.recycled += 1


def _walk(reader: TarReader) -> Iterator[tuple[object, ...]]:
    """Every member with its fields and, in turn, its data, head or tail."""
    for i, m in enumerate(reader):
        fields = (m.name, m.type, m.size, m.mode, m.uid, m.gid, m.mtime, m.linkname, m.realsize, m.sparse)
        if m.type != "file":
            yield fields
        elif i % 3 == 0:
            yield (*fields, reader.read_data(m))
        elif i % 3 == 1:
            yield (*fields, reader.read_head(m, 700))
        else:
            yield (*fields, reader.read_tail(m, 700))


def _outcome(data: bytes, *, fast: bool, sizes: list[int], kind: str = "bytes") -> tuple[list[tuple[object, ...]], str]:
    reader = TarReader(_Pieces(data, sizes, kind), fast=fast)  # type: ignore[arg-type]
    got: list[tuple[object, ...]] = []
    try:
        for item in _walk(reader):
            got.append(item)
    except TarFormatError as exc:
        return got, f"{type(exc).__name__}: {exc} @{reader.offset}"
    return got, f"end @{reader.offset}"


@needs_scan
@pytest.mark.parametrize("sizes", [[8 << 20], [4096, 100_003], [1_000_000, 512, 7]], ids=str)
def test_same_members_and_data_as_the_python_parser(archives: dict[str, bytes], sizes: list[int]) -> None:
    for name, data in archives.items():
        slow = _outcome(data, fast=False, sizes=sizes)
        fast = _outcome(data, fast=True, sizes=sizes)
        assert fast == slow, name
        assert slow[1].startswith("end") and len(slow[0]) > 70, name


def test_the_python_parser_agrees_with_tarfile(archives: dict[str, bytes]) -> None:
    """The reference itself, against the standard library's reading of the same archives."""
    for name, data in archives.items():
        got = {
            m.name.rstrip("/"): m.logical_size if m.type == "file" else m.type
            for m in TarReader(_Pieces(data, [8 << 20]), fast=False)  # type: ignore[arg-type]
        }
        kinds = {tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "symlink", tarfile.LNKTYPE: "hardlink"}
        with tarfile.open(fileobj=io.BytesIO(data)) as tf:
            want = {m.name.rstrip("/"): m.size if m.isfile() else kinds[m.type] for m in tf}
        assert got == want, name


@needs_scan
def test_same_outcome_on_damaged_archives(archives: dict[str, bytes]) -> None:
    """Flip bytes in headers (and anywhere), cut archives short: whatever the
    damage, the fast path and the Python parser see the same members and stop
    with the same error at the same offset. Seeded, so a failure reproduces."""
    rng = random.Random(1234)
    names = sorted(archives)
    for trial in range(1500):
        data = bytearray(archives[names[trial % len(names)]])
        headers = [i for i in range(0, min(len(data), 400_000), 512) if data[i + 257 : i + 262] == b"ustar"]
        for _ in range(rng.randint(1, 4)):
            at = (
                rng.choice(headers) + rng.randrange(512) if headers and rng.random() < 0.9 else rng.randrange(len(data))
            )
            data[at] = rng.choice([0, 0x20, 0x30, 0x37, 0x38, 0x80, 0xFF, rng.randrange(256)])
        if rng.random() < 0.2:
            del data[rng.randrange(len(data)) :]
        sizes = rng.choice([[8 << 20], [4096, 100_003]])
        assert _outcome(bytes(data), fast=True, sizes=sizes) == _outcome(bytes(data), fast=False, sizes=sizes), trial


@pytest.mark.parametrize("kind", ["bytearray", "memoryview"])
@pytest.mark.usefixtures("tar_parser")
def test_recycled_chunks_are_never_read_again(archives: dict[str, bytes], kind: str) -> None:
    """The inflating helpers refill a chunk the reader hands back. Every chunk is
    poisoned the moment it is handed back, so any data, name or header the
    reader kept a reference into would come out wrong."""
    for name, data in archives.items():
        for sizes in ([8 << 20], [4096, 100_003], [1_000_000, 512, 7]):
            stream = _Pieces(data, sizes, kind)
            reader = TarReader(stream)  # type: ignore[arg-type]
            got = list(_walk(reader))
            want, end = _outcome(data, fast=False, sizes=sizes)
            assert end.startswith("end")
            assert got == want, (name, sizes)
            if len(data) > sum(sizes) * 2:
                assert stream.recycled > 0
