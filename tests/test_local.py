"""`modernize scan local`: this machine, read-only, with its runtime facts from psutil."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from modernize.snapshot import open_snapshot
from modernize.snapshot.base import ReadStatus
from modernize.snapshot.local import LocalSnapshot

ENV = {**os.environ, "MODERNIZE_DISABLE_PLUGIN_AUTOLOAD": "1"}
MARKER = "modernize-local-test-listener"


@pytest.fixture()
def listener() -> Iterator[tuple[int, int]]:
    """A process of our own listening on loopback: (its pid, its port)."""
    code = (
        "import socket, sys, time\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
        "print(s.getsockname()[1], flush=True)\n"
        "time.sleep(120)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, MARKER], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield proc.pid, port
    finally:
        proc.kill()
        proc.wait()


def os_release_id() -> str:
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        if os.path.exists(path):
            for line in Path(path).read_text().splitlines():
                if line.startswith("ID="):
                    return line[3:].strip().strip('"')
    pytest.skip("this machine has no os-release")


def test_scan_local_finds_this_machine_and_our_listener(listener: tuple[int, int], tmp_path: Path) -> None:
    _pid, port = listener
    out = tmp_path / "local.json"
    done = subprocess.run(
        [sys.executable, "-m", "modernize", "scan", "-q", "local", "-o", str(out)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=600,
    )
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stderr
    inv = json.loads(out.read_text())
    assert inv["source"]["kind"] == "local"
    assert inv["host"]["os"]["id"] == os_release_id()
    ours = [
        s for s in inv["services"] if any(p.get("port") == port and p.get("source") == "observed" for p in s["ports"])
    ]
    assert ours, f"no service listening on {port}"
    assert MARKER in ours[0]["command"], ours[0]["command"]


def test_the_runtime_facts_name_the_owner_of_a_socket(listener: tuple[int, int]) -> None:
    pid, port = listener
    snap = open_snapshot("local")
    assert isinstance(snap, LocalSnapshot)
    sockets = [json.loads(line) for line in snap.read_text("/.modernize/runtime/listening.jsonl").splitlines()]
    assert {"proto": "tcp", "address": "127.0.0.1", "port": port, "pid": pid} in sockets
    procs = {p["pid"]: p for p in map(json.loads, snap.read_text("/.modernize/runtime/processes.jsonl").splitlines())}
    assert procs[pid]["cmdline"][-1] == MARKER and procs[pid]["exe"]
    assert "/.modernize" in [f"/{n}" for n in snap.listdir("/")]
    mounts = [json.loads(line) for line in snap.read_text("/.modernize/runtime/mounts.jsonl").splitlines()]
    assert any(m["target"] == "/" for m in mounts)


def test_network_and_special_mounts_are_not_entered(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/hostname").write_text("box\n")
    (root / "mnt/share/deep").mkdir(parents=True)
    (root / "mnt/share/deep/secret.conf").write_text("on another server\n")
    (root / "net/host").mkdir(parents=True)
    (root / "proc/1").mkdir(parents=True)
    runtime = {"listening.jsonl": b'{"proto": "tcp", "address": "0.0.0.0", "port": 22, "pid": 1}\n'}
    mounts = [("/", "ext4"), ("/mnt/share", "nfs4"), ("/net", "autofs"), ("/proc", "proc")]
    snap = LocalSnapshot(str(root), runtime=runtime, mounts=mounts)
    assert snap.read_text("/etc/hostname") == "box\n"
    assert snap.listdir("/mnt/share") == [] and snap.listdir("/net") == []
    assert snap.read("/mnt/share/deep/secret.conf").status is ReadStatus.MISSING
    assert snap.glob("/mnt/**/*.conf") == [] and snap.glob("/**/host") == []
    assert "network file system (nfs4)" in snap.coverage.notes["/mnt/share"]
    assert "autofs" in snap.coverage.notes["/net"]
    assert snap.read_text("/.modernize/runtime/listening.jsonl").startswith('{"proto": "tcp"')
    assert snap.glob("/.modernize/runtime/*") == ["/.modernize/runtime/listening.jsonl"]
    assert not snap.glob("/proc/**")
