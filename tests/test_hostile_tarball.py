"""A hostile tarball is scanned without reading anything of the scanning machine,
without a traceback, and without a hang."""

from __future__ import annotations

import builtins
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from modernize.cli import main

pytestmark = pytest.mark.usefixtures("tar_parser")  # each test with both header parsers

CANARY = "canary-4f1d9c-never-read"


def _member(tar: tarfile.TarFile, name: str, *, data: bytes = b"", **attrs: object) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for k, v in attrs.items():
        setattr(info, k, v)
    tar.addfile(info, io.BytesIO(data) if data else None)


@pytest.fixture()
def hostile(tmp_path: Path) -> tuple[Path, Path]:
    canary = tmp_path / "outside" / "canary.txt"
    canary.parent.mkdir()
    canary.write_text(CANARY)
    tree = tmp_path / "tree"
    (tree / "etc").mkdir(parents=True)
    (tree / "etc" / "hostname").write_text("evil01\n")
    (tree / "etc" / "os-release").write_text('ID=debian\nVERSION_ID="12"\n')
    os.mkfifo(tree / "etc" / "fifo")
    with open(tree / "sparse.img", "wb") as f:
        f.truncate(2 * 1024**3)  # 2 GB of holes
    plain = tmp_path / "hostile.tar"
    # explicit order: /etc first, so a cut near the end leaves it readable
    subprocess.run(["tar", "-C", str(tree), "-S", "-cf", str(plain), "./etc", "./sparse.img"], check=True)
    with tarfile.open(plain, "a", format=tarfile.GNU_FORMAT) as tar:
        _member(tar, "../../escape.txt", data=b"climbing out\n")
        _member(tar, "/etc/passwd", data=b"root:x:0:0:root:/root:/bin/bash\n")  # absolute name
        _member(tar, "etc/shadow", type=tarfile.SYMTYPE, linkname="/etc/shadow")  # the scanner's own
        _member(tar, "etc/canary", type=tarfile.SYMTYPE, linkname=str(canary))
        _member(tar, "etc/hard-out", type=tarfile.LNKTYPE, linkname="../../../etc/passwd")
        _member(tar, "etc/hard-missing", type=tarfile.LNKTYPE, linkname=str(canary).lstrip("/"))
        _member(tar, "etc/loop1", type=tarfile.SYMTYPE, linkname="loop2")
        _member(tar, "etc/loop2", type=tarfile.SYMTYPE, linkname="loop1")
        _member(tar, "etc/crontab", type=tarfile.SYMTYPE, linkname="/proc/self/environ")
        _member(tar, "etc/cron.d/dev", type=tarfile.SYMTYPE, linkname="/dev/zero")
        _member(tar, "srv/bulk.bin", data=os.urandom(256 * 1024))  # bulk to cut into
    gz = tmp_path / "hostile.tar.gz"
    gz.write_bytes(subprocess.run(["gzip", "-c", str(plain)], capture_output=True, check=True).stdout)
    return gz, canary


def _scan_recording_opens(
    monkeypatch: pytest.MonkeyPatch, source: Path, out: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, list[str], str]:
    opened: list[str] = []
    real_open, real_os_open = builtins.open, os.open

    def spy_open(file: object, *a: object, **k: object) -> object:
        opened.append(os.fspath(file) if isinstance(file, str | os.PathLike) else repr(file))
        return real_open(file, *a, **k)  # type: ignore[call-overload]

    def spy_os_open(path: object, *a: object, **k: object) -> int:
        opened.append(os.fspath(path))  # type: ignore[arg-type]
        return real_os_open(path, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "open", spy_open)
    monkeypatch.setattr(os, "open", spy_os_open)
    monkeypatch.setattr(sys, "argv", ["modernize", "scan", str(source), "-o", str(out)])
    with pytest.raises(SystemExit) as exc:
        main()
    captured = capsys.readouterr()
    return int(exc.value.code or 0), opened, captured.out + captured.err


def test_hostile_tarball_reads_nothing_outside(
    hostile: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    gz, canary = hostile
    out = tmp_path / "inv.json"
    code, opened, printed = _scan_recording_opens(monkeypatch, gz, out, capsys)
    assert code in (0, 1), printed
    assert "Traceback" not in printed
    # everything opened is the archive, the output, or modernize's own code and key
    suspicious = [
        p for p in opened if p.startswith(("/etc", "/proc", "/dev", "/root/.ssh")) or p == str(canary) or "escape" in p
    ]
    assert suspicious == []
    text = out.read_text()
    assert CANARY not in text
    inv = json.loads(text)
    assert inv["host"]["hostname"] == "evil01"
    # the absolute member name lands inside the snapshot, as /etc/passwd
    assert [u["name"] for u in inv["users"]] == ["root"]
    skipped = {s["path"]: s["reason"] for s in inv["coverage"]["skipped"]}
    assert any("unsafe member" in r for r in skipped.values())  # ../../escape.txt


@pytest.mark.parametrize("codec", ["gzip", "zstd", "xz"])
def test_truncated_tarball_gives_partial_inventory_and_clear_error(
    hostile: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    codec: str,
) -> None:
    gz, _ = hostile
    plain = subprocess.run(["gzip", "-dc", str(gz)], capture_output=True, check=True).stdout
    packed = subprocess.run([codec, "-c"], input=plain, capture_output=True, check=True).stdout
    cut = tmp_path / f"cut.tar.{codec}"
    data = packed
    cut.write_bytes(data[: len(data) * 4 // 5])
    out = tmp_path / "inv.json"
    code, _, printed = _scan_recording_opens(monkeypatch, cut, out, capsys)
    assert code == 1
    assert "Traceback" not in printed
    assert str(cut) in printed and "truncated or corrupt" in printed
    inv = json.loads(out.read_text())
    assert inv["coverage"]["complete"] is False
    assert inv["host"]["hostname"] == "evil01"  # what was read before the damage is kept


@pytest.mark.parametrize(
    "content, message",
    [(b"", "not a readable tar archive"), (b"hello, not a tarball at all" * 40, "not a readable tar archive")],
)
def test_not_a_tarball_is_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    bad = tmp_path / "bad.tar"
    bad.write_bytes(content)
    code, _, printed = _scan_recording_opens(monkeypatch, bad, tmp_path / "o.json", capsys)
    assert code == 2
    assert message in printed and "Traceback" not in printed
