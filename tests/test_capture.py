"""`modernize capture`: a bundle of what a scan read scans and runs offline to the same result."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
import zstandard

from modernize.snapshot import open_snapshot
from modernize.snapshot.base import DIR, FILE, SYMLINK, FileInfo, ReadStatus
from modernize.snapshot.bundle import MANIFEST, BundleSnapshot, ScanState, decode_index, encode_index, write_bundle
from modernize.snapshot.declarations import Declaration, ReadMode
from modernize.snapshot.readlog import ReadLog
from tests.fixture_tree import materialize, tarball

ENV = {**os.environ, "MODERNIZE_DISABLE_PLUGIN_AUTOLOAD": "1"}


def modernize(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modernize", *args],
        capture_output=True,
        text=True,
        env=ENV,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )


def without_source(inv: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in inv.items() if k != "source"}


def tree_state(root: Path) -> list[tuple[str, int, int, int]]:
    out = []
    for top, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            st = os.lstat(os.path.join(top, name))
            out.append((os.path.join(top, name), st.st_mode, st.st_size, st.st_mtime_ns))
    return sorted(out)


def generated(out: Path) -> dict[str, bytes]:
    """Every file `run` wrote but its record of the source (inventory's `source`, plan's `source.path`)."""
    files = {}
    for path in sorted(out.rglob("*")):
        rel = str(path.relative_to(out))
        if path.is_file() and not rel.startswith(".modernize/") and rel != "inventory.json":
            data = path.read_bytes()
            if rel == "plan.yaml":
                data = b"\n".join(line for line in data.split(b"\n") if not line.startswith(b"  path: "))
            files[rel] = data
    return files


@pytest.mark.parametrize("scenario", ["python-web", "java-tomcat", "lamp"])
def test_a_capture_scans_and_runs_offline_as_the_directory_does(scenario: str, tmp_path: Path) -> None:
    root = materialize(scenario, tmp_path / "tree")
    before = tree_state(root)
    bundle = tmp_path / f"{scenario}.tar.zst"
    made = modernize("capture", str(root), "-o", str(bundle))
    assert made.returncode == 0, made.stderr
    assert "secret values included" in made.stdout
    assert tree_state(root) == before  # nothing written on the inspected system
    assert bundle.stat().st_mode & 0o077 == 0  # the customer's data: the owner's alone

    for src, name in ((root, "dir.json"), (bundle, "cap.json")):
        done = modernize("scan", "-q", str(src), "-o", str(tmp_path / name))
        assert done.returncode == 0, done.stderr
    disk = json.loads((tmp_path / "dir.json").read_text())
    cap = json.loads((tmp_path / "cap.json").read_text())
    assert without_source(cap) == without_source(disk)
    assert cap["source"]["kind"] == "capture" and cap["source"]["captured_from"] == str(root)

    for strategy in ([], ["--strategy", "distro"]):
        a, b = tmp_path / f"a{len(strategy)}", tmp_path / f"b{len(strategy)}"
        assert modernize("run", "-q", str(root), "-o", str(a), *strategy).returncode == 0
        done = modernize("run", "-q", str(bundle), "-o", str(b), *strategy)
        assert done.returncode == 0, done.stderr
        assert generated(b) == generated(a)
        assert any(rel.startswith("services/") for rel in generated(a))


def test_a_capture_of_a_tarball_is_the_tarball_scan(tmp_path: Path) -> None:
    root = materialize("php-fpm", tmp_path / "tree")
    tgz = tarball(root, tmp_path, "gz")
    bundle = tmp_path / "php.tar.zst"
    assert modernize("capture", "-q", str(tgz), "-o", str(bundle)).returncode == 0
    assert modernize("scan", "-q", str(tgz), "-o", str(tmp_path / "t.json")).returncode == 0
    assert modernize("scan", "-q", str(bundle), "-o", str(tmp_path / "c.json")).returncode == 0
    tar_inv = json.loads((tmp_path / "t.json").read_text())
    cap_inv = json.loads((tmp_path / "c.json").read_text())
    assert without_source(cap_inv) == without_source(tar_inv)
    assert cap_inv["source"]["captured_kind"] == "tarball"


def test_gnu_tar_lists_a_bundle_and_its_files_are_the_servers(tmp_path: Path) -> None:
    root = materialize("python-web", tmp_path / "tree")
    bundle = tmp_path / "b.tar.zst"
    assert modernize("capture", "-q", str(root), "-o", str(bundle)).returncode == 0
    names = subprocess.run(["tar", "--zstd", "-tf", str(bundle)], capture_output=True, text=True, check=True)
    listed = names.stdout.split()
    assert listed[0] == MANIFEST
    assert "etc/os-release" in listed or "usr/lib/os-release" in listed
    with tarfile.open(
        fileobj=io.BytesIO(zstandard.ZstdDecompressor().decompressobj().decompress(bundle.read_bytes()))
    ) as tar:
        member = tar.extractfile("etc/passwd")
        assert member is not None and member.read() == (root / "etc/passwd").read_bytes()


def _bundle(tmp_path: Path, entries: list[FileInfo], log: ReadLog, state: ScanState) -> BundleSnapshot:
    path = tmp_path / "unit.tar.zst"
    with open(path, "wb") as f:
        write_bundle(f, entries, log, state)
    snap = open_snapshot(str(path))
    assert isinstance(snap, BundleSnapshot)
    return snap


def test_a_bundle_replays_reads_refusals_pieces_and_metadata(tmp_path: Path) -> None:
    entries = [
        FileInfo("/", DIR, mode=0o755),
        FileInfo("/etc", DIR, mode=0o755),
        FileInfo("/etc/read", FILE, 5, 0o640, 0, 42, 1700000000.5),
        FileInfo("/etc/denied", FILE, 10, 0o600),
        FileInfo("/etc/unread", FILE, 7),
        FileInfo("/etc/link", SYMLINK, 4, 0o777, linkname="read"),
        FileInfo("/etc/hard", FILE, 5, hardlink_to="/etc/read"),
        FileInfo("/opt", DIR, mode=0o755),
        FileInfo("/opt/app.jar", FILE, 100_000),
        FileInfo("/opt/gone", FILE, 3),
    ]
    log = ReadLog()
    log.keep("/etc/read", ReadMode.WHOLE, b"hello", 5)
    log.refuse("/etc/denied")
    log.keep("/opt/app.jar", ReadMode.HEAD, b"PK\x03\x04" + bytes(60), 100_000)
    log.keep("/opt/app.jar", ReadMode.HEAD, b"PK\x03\x04", 100_000)  # the longer head stays
    log.keep("/opt/app.jar", ReadMode.TAIL, b"central-directory", 100_000)
    log.fail("/opt/gone", ReadStatus.UNREADABLE.value)
    state = ScanState("tarball", "/x.tgz", False, ["/x.tgz: truncated"], [], {"/weird": "unsafe member name"})
    snap = _bundle(tmp_path, entries, log, state)
    assert snap.read("/etc/link").data == b"hello"
    assert snap.read("/etc/hard").data == b"hello"
    assert snap.stat("/etc/read") == entries[2]
    assert snap.read("/etc/denied").status is ReadStatus.DENIED
    assert snap.read("/etc/unread").status is ReadStatus.UNREADABLE  # never read: not "missing"
    assert snap.read("/etc/nothing").status is ReadStatus.MISSING
    assert snap.read("/opt/gone").status is ReadStatus.UNREADABLE
    assert snap.head("/opt/app.jar", 4) == b"PK\x03\x04"
    assert snap.tail("/opt/app.jar", 9) == b"directory"
    assert snap.read("/opt/app.jar", Declaration("/opt/app.jar", ReadMode.HEAD, 1000)).status is ReadStatus.UNREADABLE
    assert snap.du("/etc") == 5 + 10 + 7  # a hard link counts once, as the source said
    assert snap.glob("/etc/*") == ["/etc/denied", "/etc/hard", "/etc/link", "/etc/read", "/etc/unread"]
    assert not snap.complete and snap.errors == ["/x.tgz: truncated"]
    assert snap.coverage.notes == {"/weird": "unsafe member name"}


def test_a_live_logins_closed_directories_stay_denied(tmp_path: Path) -> None:
    entries = [
        FileInfo("/", DIR, mode=0o755),
        FileInfo("/root", DIR, mode=0o700),
        FileInfo("/etc", DIR, mode=0o755),
    ]
    state = ScanState("ssh", "ssh://web01", True, [], [], {}, uid=1000, gids=[1000])
    snap = _bundle(tmp_path, entries, ReadLog(), state)
    assert snap.read("/root/.bash_history").status is ReadStatus.DENIED
    assert snap.coverage.reads.get("/root") is ReadStatus.DENIED
    assert snap.read("/etc/absent").status is ReadStatus.MISSING


def test_the_index_keeps_odd_names(tmp_path: Path) -> None:
    entries = [FileInfo("/srv/a b\nc\udcff", FILE, 3, 0o4755, 7, 8, 12.25), FileInfo("/x", SYMLINK, linkname="../y z")]
    assert decode_index(encode_index(entries)) == sorted(entries, key=lambda e: e.path)


def test_bad_bundles_and_outputs_exit_2_with_a_message(tmp_path: Path) -> None:
    root = materialize("debian-minbase", tmp_path / "tree")
    bundle = tmp_path / "b.tar.zst"
    assert modernize("capture", "-q", str(root), "-o", str(bundle)).returncode == 0
    # made by a newer modernize
    newer = tmp_path / "newer.tar.zst"
    data = zstandard.ZstdDecompressor().decompressobj().decompress(bundle.read_bytes())
    head = json.loads(data[512 : 512 + 4096].split(b"\0", 1)[0])
    head["version"] = 99
    body = json.dumps(head).encode()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    newer.write_bytes(zstandard.ZstdCompressor().compress(out.getvalue()))
    done = modernize("scan", str(newer), "-o", str(tmp_path / "n.json"))
    assert done.returncode == 2 and "newer modernize" in done.stderr and "Traceback" not in done.stderr
    # cut short: what was read, marked incomplete
    cut = tmp_path / "cut.tar.zst"
    cut.write_bytes(bundle.read_bytes()[: bundle.stat().st_size // 2])
    done = modernize("scan", str(cut), "-o", str(tmp_path / "c.json"))
    assert done.returncode in (1, 2) and "Traceback" not in done.stderr
    assert "damaged" in done.stderr or "not a readable" in done.stderr
    # -o into the source, and a source that is not there
    done = modernize("capture", str(root), "-o", str(root / "x.tar.zst"))
    assert done.returncode == 2 and "inside the source" in done.stderr and not (root / "x.tar.zst").exists()
    done = modernize("capture", str(tmp_path / "nope"), "-o", str(tmp_path / "y.tar.zst"))
    assert done.returncode == 2 and not (tmp_path / "y.tar.zst").exists()
    # a source with no operating system: nothing written
    (tmp_path / "empty").mkdir()
    done = modernize("capture", str(tmp_path / "empty"), "-o", str(tmp_path / "z.tar.zst"))
    assert done.returncode == 2 and not (tmp_path / "z.tar.zst").exists()
