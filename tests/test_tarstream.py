"""The tar reader against what real GNU tar writes: long names and links, PAX
headers, sparse files in every sparse format, hard links, `./` or bare members."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from modernize.snapshot import Declaration, TarballSnapshot

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
