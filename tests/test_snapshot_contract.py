"""One contract, every snapshot source: directory, tarballs (plain, gz, xz, zst; member
orders that put symlinks last), a capture bundle of the directory, and the in-memory test snapshot."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import zstandard

from modernize.snapshot import (
    Declaration,
    DirectorySnapshot,
    MemorySnapshot,
    ReadStatus,
    Snapshot,
    TarballSnapshot,
    UndeclaredRead,
    open_snapshot,
)
from modernize.snapshot.declarations import ReadMode
from modernize.snapshot.indexed import IndexedSnapshot
from modernize.snapshot.memory import Dir, File, Link, Special

# The server tree every source is built from. Symlinks are absolute and relative,
# chained, climbing above the root, looping, and merged-/usr style.
TREE: dict[str, object] = {
    "/etc/hostname": "web01\n",
    "/etc/os-release": Link("../usr/lib/os-release"),
    "/usr/lib/os-release": 'ID=debian\nVERSION_ID="12"\n',
    "/lib": Link("usr/lib"),
    "/usr/lib/systemd/system/nginx.service": "[Service]\nExecStart=/usr/sbin/nginx\n",
    "/usr/lib/systemd/system/redis.service": "[Service]\nExecStart=/usr/bin/redis-server\n",
    "/etc/alternatives/my.cnf": Link("/etc/mysql/mariadb.cnf"),
    "/etc/mysql/my.cnf": Link("/etc/alternatives/my.cnf"),
    "/etc/mysql/mariadb.cnf": "[mysqld]\nport = 3306\n",
    "/etc/shadow-link": Link("/etc/shadow"),  # the scanning machine's shadow must never be read
    "/srv/app/up": Link("../../../../../../etc/hostname"),  # `..` stops at the snapshot's root
    "/srv/app/loop1": Link("loop2"),
    "/srv/app/loop2": Link("loop1"),
    "/srv/app/dangling": Link("/nonexistent/file"),
    "/srv/app/big.bin": File(b"x" * 4096, mode=0o600, uid=33, gid=33),
    "/srv/app/package.json": '{"name": "shop"}\n',
    "/srv/app/node_modules/express/package.json": '{"name": "express"}\n',
    "/var/lib/dpkg/status": "Package: bash\nStatus: install ok installed\n",
    "/var/lib/apt/lists/deb_Packages": "Package: bash\nVersion: 5.2\nDescription: GNU shell\n\n" * 40,
    "/var/empty": Dir(mode=0o711),
    "/proc/cpuinfo": "processor : 0\n",
    "/run/pipe": Special("fifo"),
}
MAX = 1024  # size bound for these tests: big.bin (4096 B) is over it
LISTS = "/var/lib/apt/lists/deb_Packages"  # 1760 B, over the bound: read by its lines
KEPT = Declaration(LISTS, ReadMode.LINES, max_size=4 * MAX, lines="^(Package|Version):")
EVERYTHING = [Declaration("/**"), Declaration("/srv/app/big.bin", ReadMode.HEAD, 16), KEPT]


def _write_dir(root: Path) -> None:
    for path, value in TREE.items():
        host = root / path.lstrip("/")
        host.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(value, Link):
            os.symlink(value.target, host)
        elif isinstance(value, Dir):
            host.mkdir(exist_ok=True)
            host.chmod(value.mode)
        elif isinstance(value, Special):
            os.mkfifo(host)
        else:
            f = value if isinstance(value, File) else File(value)  # type: ignore[arg-type]
            data = f.content.encode() if isinstance(f.content, str) else f.content
            host.write_bytes(data)
            host.chmod(f.mode)
            os.chown(host, f.uid, f.gid)


def _tar_bytes(order: Callable[[list[str]], list[str]]) -> bytes:
    """A tarball written member by member in a chosen order (tarfile, GNU format)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for path in order(sorted(TREE)):
            value = TREE[path]
            info = tarfile.TarInfo("./" + path.lstrip("/"))
            info.mtime = 1700000000
            data = b""
            if isinstance(value, Link):
                info.type = tarfile.SYMTYPE
                info.linkname = value.target
            elif isinstance(value, Dir):
                info.type = tarfile.DIRTYPE
                info.mode = value.mode
            elif isinstance(value, Special):
                info.type = tarfile.FIFOTYPE
            else:
                f = value if isinstance(value, File) else File(value)  # type: ignore[arg-type]
                data = f.content.encode() if isinstance(f.content, str) else f.content
                info.size, info.mode, info.uid, info.gid = len(data), f.mode, f.uid, f.gid
            tar.addfile(info, io.BytesIO(data) if data else None)
    return buf.getvalue()


def _symlinks_last(paths: list[str]) -> list[str]:
    return [p for p in paths if not isinstance(TREE[p], Link)] + [p for p in paths if isinstance(TREE[p], Link)]


def _compress(data: bytes, kind: str, dest: Path) -> Path:
    if kind == "gz":
        out = dest.with_suffix(".tar.gz")
        out.write_bytes(subprocess.run(["gzip", "-c"], input=data, capture_output=True, check=True).stdout)
    elif kind == "xz":
        out = dest.with_suffix(".tar.xz")
        out.write_bytes(subprocess.run(["xz", "-c"], input=data, capture_output=True, check=True).stdout)
    elif kind == "zst":
        out = dest.with_suffix(".tar.zst")
        out.write_bytes(zstandard.ZstdCompressor().compress(data))
    else:
        out = dest.with_suffix(".tar")
        out.write_bytes(data)
    return out


SOURCES = ["directory", "tar", "tar.gz", "tar.xz", "tar.zst", "tar-symlinks-last", "gnu-tar.gz", "memory", "capture"]


def _capture(root: Path, dest: Path) -> Path:
    """A bundle of a scan of ROOT that read every file the contract reads (big.bin's head only)."""
    from modernize.snapshot.bundle import ScanState, write_bundle
    from modernize.snapshot.readlog import ReadLog

    source = DirectorySnapshot(str(root), max_file_size=MAX)
    source.log = ReadLog()
    for info in source.index():
        if info.kind == "file":
            source.read(info.path)
    source.read("/srv/app/big.bin", Declaration("/srv/app/big.bin", ReadMode.HEAD, 16))
    source.read(LISTS, KEPT)
    with open(dest, "wb") as f:
        write_bundle(f, source.index(), source.log, ScanState.of(source))
    return dest


@pytest.fixture(params=SOURCES)
def snap(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Snapshot]:
    kind: str = request.param
    s: Snapshot
    if kind == "memory":
        s = MemorySnapshot(TREE, max_file_size=MAX)  # type: ignore[arg-type]
    elif kind == "directory":
        _write_dir(tmp_path / "root")
        s = DirectorySnapshot(str(tmp_path / "root"), max_file_size=MAX)
    elif kind == "capture":
        _write_dir(tmp_path / "root")
        s = open_snapshot(str(_capture(tmp_path / "root", tmp_path / "server.tar.zst")), max_file_size=MAX)
        assert s.kind == "capture"
    elif kind == "gnu-tar.gz":
        _write_dir(tmp_path / "root")
        out = tmp_path / "server.tar.gz"
        subprocess.run(["tar", "-C", str(tmp_path / "root"), "--numeric-owner", "-czf", str(out), "."], check=True)
        s = TarballSnapshot(str(out), max_file_size=MAX)
    else:
        order = _symlinks_last if kind == "tar-symlinks-last" else (lambda p: p)
        comp = kind.split(".")[1] if "." in kind else ""
        s = TarballSnapshot(str(_compress(_tar_bytes(order), comp, tmp_path / "server")), max_file_size=MAX)
    s.begin()  # as the CLI does: a tarball starts inflating before the declarations are known
    s.prefetch(EVERYTHING)
    yield s
    s.close()


def test_reads_a_file(snap: Snapshot) -> None:
    assert snap.read_text("/etc/hostname") == "web01\n"
    assert snap.exists("/etc/hostname") and snap.is_file("/etc/hostname")


def test_missing_file_says_missing(snap: Snapshot) -> None:
    result = snap.read("/etc/nope")
    assert result.status is ReadStatus.MISSING and not result.ok
    assert snap.text("/etc/nope") is None


def test_relative_symlink_resolves_inside(snap: Snapshot) -> None:
    assert snap.read_text("/etc/os-release").startswith("ID=debian")
    assert snap.readlink("/etc/os-release") == "../usr/lib/os-release"
    assert snap.realpath("/etc/os-release") == "/usr/lib/os-release"


def test_absolute_symlink_chain_resolves_in_the_snapshot(snap: Snapshot) -> None:
    assert snap.read_text("/etc/mysql/my.cnf") == "[mysqld]\nport = 3306\n"
    assert snap.realpath("/etc/mysql/my.cnf") == "/etc/mysql/mariadb.cnf"


def test_link_to_host_file_never_reaches_the_host(snap: Snapshot) -> None:
    # /etc/shadow exists on the machine running the tests, but not in the snapshot
    assert snap.read("/etc/shadow-link").status is ReadStatus.MISSING


def test_dotdot_stops_at_the_root(snap: Snapshot) -> None:
    assert snap.read_text("/srv/app/up") == "web01\n"
    assert snap.read_text("/../../etc/hostname") == "web01\n"


def test_symlink_loop_is_detected(snap: Snapshot) -> None:
    assert snap.read("/srv/app/loop1").status is ReadStatus.LOOP
    assert snap.read("/srv/app/dangling").status is ReadStatus.MISSING


def test_merged_usr_paths_are_seen_as_the_server_sees_them(snap: Snapshot) -> None:
    assert snap.glob("/lib/systemd/system/*.service") == [
        "/lib/systemd/system/nginx.service",
        "/lib/systemd/system/redis.service",
    ]
    assert "nginx" in snap.read_text("/lib/systemd/system/nginx.service")


def test_special_files_are_never_opened(snap: Snapshot) -> None:
    assert snap.read("/run/pipe").status is ReadStatus.SPECIAL
    assert snap.coverage.reads["/run/pipe"] is ReadStatus.SPECIAL


def test_pseudo_filesystems_are_skipped(snap: Snapshot) -> None:
    assert snap.read("/proc/cpuinfo").status in (ReadStatus.PSEUDO, ReadStatus.MISSING)
    assert not snap.glob("/proc/*")
    assert all(not top.startswith("/proc") for top, _, _ in snap.walk("/"))


def test_files_over_the_size_bound_are_skipped_and_recorded(snap: Snapshot) -> None:
    result = snap.read("/srv/app/big.bin")
    assert result.status is ReadStatus.TOO_LARGE
    assert snap.coverage.reads["/srv/app/big.bin"] is ReadStatus.TOO_LARGE
    info = snap.stat("/srv/app/big.bin")
    assert info is not None and info.size == 4096


def test_metadata(snap: Snapshot) -> None:
    info = snap.stat("/srv/app/big.bin")
    assert info is not None and (info.mode, info.uid, info.gid) == (0o600, 33, 33)
    empty = snap.stat("/var/empty")
    assert empty is not None and empty.kind == "dir"


def test_glob_doublestar_and_walk(snap: Snapshot) -> None:
    assert snap.glob("/srv/**/package.json") == ["/srv/app/node_modules/express/package.json", "/srv/app/package.json"]
    # from the root: links are named but not entered (/lib), pseudo-filesystems skipped
    assert snap.glob("/**/os-release") == ["/etc/os-release", "/usr/lib/os-release"]
    assert snap.glob("/lib/**/os-release") == ["/lib/os-release"]  # named as the pattern names it
    assert snap.glob("/**/cpuinfo") == snap.glob("/**/proc") == snap.glob("/**/nothing-here") == []
    assert snap.glob("/srv/app/**/dangling") == ["/srv/app/dangling"]
    walked = {top: (dirs, files) for top, dirs, files in snap.walk("/srv")}
    assert walked["/srv/app"][0] == ["node_modules"]
    assert "loop1" in walked["/srv/app"][1] and "package.json" in walked["/srv/app"][1]


def test_head_and_tail_reads(snap: Snapshot) -> None:
    big = snap.read("/srv/app/big.bin", Declaration("/srv/app/big.bin", ReadMode.HEAD, 16))
    # a head read of a file over the bound is allowed (only whole reads are bounded)
    assert big.ok and big.data == b"x" * 16
    assert snap.tail("/etc/hostname", 3) == b"01\n"


def test_lines_reads_keep_the_matching_lines_of_a_file_over_the_bound(snap: Snapshot) -> None:
    assert snap.read(LISTS).status is ReadStatus.TOO_LARGE
    kept = snap.read(LISTS, KEPT)
    assert kept.ok and kept.data == b"Package: bash\nVersion: 5.2\n" * 40
    over = snap.read(LISTS, replace(KEPT, max_size=MAX))  # the filter's bound is on the file read
    assert over.status is ReadStatus.TOO_LARGE


def test_memory_snapshot_is_strict() -> None:
    s = MemorySnapshot({"/etc/hostname": "a\n", "/etc/other": "b\n"})
    s.prefetch([Declaration("/etc/hostname")])
    assert s.read_text("/etc/hostname") == "a\n"
    with pytest.raises(UndeclaredRead):
        s.read_text("/etc/other")
    s.want(["/etc/other"])
    assert s.read_text("/etc/other") == "b\n"


def test_directory_root_given_through_a_link(tmp_path: Path) -> None:
    _write_dir(tmp_path / "real")
    os.symlink(tmp_path / "real", tmp_path / "link")
    s = DirectorySnapshot(str(tmp_path / "link"))
    s.prefetch(EVERYTHING)
    assert s.read_text("/etc/hostname") == "web01\n"
    assert s.glob("/lib/systemd/system/*.service")


def test_unlistable_directory_is_recorded_not_taken_as_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A non-root scan meets directories it cannot list: that is "denied", not "empty".
    (Tests run as root, so the denial is simulated at the os.scandir boundary.)"""
    _write_dir(tmp_path / "root")
    locked = str(tmp_path / "root" / "srv" / "app")
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        if path == locked:
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    s = DirectorySnapshot(str(tmp_path / "root"))
    assert s.listdir("/srv/app") == []
    assert "denied" in s.coverage.notes["/srv/app"]


@pytest.mark.parametrize("comp", ["gz", "zst", "xz"])
def test_begun_tarball_closed_unread_stops_its_helper(tmp_path: Path, comp: str) -> None:
    """A scan that fails between begin() and the first pass (a bad --only, say)
    must not leave an inflating thread or an open file behind."""
    before = set(threading.enumerate())
    fds_before = len(os.listdir("/proc/self/fd"))
    s = TarballSnapshot(str(_compress(_tar_bytes(lambda p: p), comp, tmp_path / "server")), max_file_size=MAX)
    s.begin()
    s.close()
    for t in set(threading.enumerate()) - before:
        t.join(timeout=5)
        assert not t.is_alive(), t.name
    assert len(os.listdir("/proc/self/fd")) == fds_before


def test_index_lookup_resolves_as_the_walk_does(snap: Snapshot) -> None:
    """The indexed sources answer a canonical path with one lookup; it must agree
    with resolving component by component, for every path they hold and for
    paths through links, loops and pseudo-filesystems."""
    if not isinstance(snap, IndexedSnapshot):
        pytest.skip("only indexed sources take the shortcut")
    paths = [*snap.entries, "/lib/systemd/system/nginx.service", "/srv/app/loop1/x", "/proc/cpuinfo", "/etc/./hostname"]
    for path in paths:
        for follow in (True, False):
            assert snap.resolve(path, follow=follow) == Snapshot.resolve(snap, path, follow=follow), (path, follow)


def test_du_counts_regular_files_below_a_directory(snap: Snapshot) -> None:
    """Sizes from metadata only: regular files, not links or pseudo-filesystems,
    through a directory named by a link too; the same on every source."""
    srv = 4096 + len('{"name": "shop"}\n') + len('{"name": "express"}\n')
    assert snap.du("/srv") == srv
    assert snap.du("/srv/app/node_modules") == len('{"name": "express"}\n')
    sizes = [len(v) if isinstance(v, str) else len(v.content) for v in TREE.values() if isinstance(v, str | File)]
    assert snap.du("/") == sum(sizes) - len("processor : 0\n")  # all but /proc/cpuinfo
    assert snap.du("/lib/systemd") == snap.du("/usr/lib/systemd") > 0
    assert snap.du("/proc") == 0 and snap.du("/etc/hostname") == 0 and snap.du("/nonexistent") == 0
