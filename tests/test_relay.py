"""`modernize collector --relay`: a collection carried round by round by someone else
(docs/ansible/collect.yml; its run against a real sshd is in test_ssh_live.py).

Here the relay is this test: it runs each round's script with sh against a fixture tree
(MZ_ROOT) and saves what it printed, mangled as a terminal would mangle it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from modernize.errors import UserError
from modernize.live.collector import library
from modernize.snapshot.relay import decode_output
from tests.fixture_tree import materialize

MORE = 10


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "modernize", *args], capture_output=True, text=True, timeout=300)


def run_round(script: Path, root: Path) -> bytes:
    done = subprocess.run(
        ["sh", str(script)], capture_output=True, env={**os.environ, "MZ_ROOT": str(root)}, timeout=120
    )
    # what Ansible's script module hands back over a terminal: CRLF line ends, a banner after
    return done.stdout.replace(b"\n", b"\r\n") + b"Shared connection to web01 closed.\r\n"


def relay(rounds: Path, root: Path, bundle: Path, limit: int = 8) -> tuple[int, list[str]]:
    said = []
    for n in range(1, limit + 1):
        step = cli("collector", "--relay", str(rounds), "-o", str(bundle), "--name", "web01")
        said.append(step.stdout)
        if step.returncode != MORE:
            assert step.returncode == 0, step.stderr
            return n - 1, said
        assert f"round {n}: run {rounds}/round-{n}.sh on the host" in step.stdout
        (rounds / f"round-{n}.out").write_bytes(run_round(rounds / f"round-{n}.sh", root))
    raise AssertionError(f"no bundle after {limit} rounds: {said}")


@pytest.fixture(scope="module")
def relayed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, int]:
    work = tmp_path_factory.mktemp("relay")
    root = materialize("python-web", work / "fixture")
    rounds, bundle = work / "web01.rounds", work / "web01.tar.zst"
    n, _ = relay(rounds, root, bundle)
    return root, rounds, bundle, n


def test_rounds_end_in_a_bundle_that_scans_like_the_tree(relayed: tuple[Path, Path, Path, int], tmp_path: Path) -> None:
    root, rounds, bundle, n = relayed
    assert 2 <= n <= 5  # survey, fetch, second-order reads, the files a plan copies: a fixed few
    assert sorted(p.name for p in rounds.glob("round-*.sh")) == [f"round-{i}.sh" for i in range(1, n + 1)]
    assert cli("scan", "-q", str(bundle), "-o", str(tmp_path / "relay.json")).returncode == 0
    assert cli("scan", "-q", str(root), "-o", str(tmp_path / "dir.json")).returncode == 0
    got, want = (json.loads((tmp_path / f).read_text()) for f in ("relay.json", "dir.json"))
    assert got["source"]["captured_kind"] == "relay" and got["source"]["captured_from"] == "relay:web01"
    for key in ("host", "packages", "users", "cron_jobs", "package_sources"):
        assert got[key] == want[key], key
    # the same services from the files; the machine running the test may add what it runs
    same = {s["id"]: s["config_files"] for s in want["services"]}
    assert {s["id"]: s["config_files"] for s in got["services"] if s["id"] in same} == same


def test_a_finished_collection_replays_without_another_round(
    relayed: tuple[Path, Path, Path, int], tmp_path: Path
) -> None:
    _, rounds, _, n = relayed
    again = cli("collector", "--relay", str(rounds), "-o", str(tmp_path / "again.tar.zst"))
    assert again.returncode == 0, again.stderr
    assert f"in {n} rounds" in again.stdout and (tmp_path / "again.tar.zst").exists()


def test_a_round_this_modernize_would_not_send_is_refused(
    relayed: tuple[Path, Path, Path, int], tmp_path: Path
) -> None:
    _, rounds, _, _ = relayed
    copy = tmp_path / "rounds"
    shutil.copytree(rounds, copy)
    (copy / "round-2.sh").write_bytes((copy / "round-2.sh").read_bytes() + b"# edited\n")
    done = cli("collector", "--relay", str(copy), "-o", str(tmp_path / "b.tar.zst"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "round-2.sh" in done.stderr and "start again in an empty folder" in done.stderr
    assert not (tmp_path / "b.tar.zst").exists()


def test_an_output_that_is_not_the_collectors_is_a_clear_error(
    relayed: tuple[Path, Path, Path, int], tmp_path: Path
) -> None:
    _, rounds, _, _ = relayed
    copy = tmp_path / "rounds"
    shutil.copytree(rounds, copy)
    (copy / "round-1.out").write_text("sh: 1: round-1.sh: Permission denied\n")
    done = cli("collector", "--relay", str(copy), "-o", str(tmp_path / "b.tar.zst"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "no collector output" in done.stderr and "Permission denied" in done.stderr
    text = (copy / "round-2.out").read_bytes()
    cut = text.index(b"MZ-END")
    (copy / "round-2.out").write_bytes(text[: cut // 2] + b"!!" + text[cut // 2 + 3 :])  # a byte lost mid-way
    (copy / "round-1.out").write_bytes((rounds / "round-1.out").read_bytes())
    damaged = cli("collector", "--relay", str(copy), "-o", str(tmp_path / "b.tar.zst"))
    assert damaged.returncode == 2 and "damaged" in damaged.stderr and "Traceback" not in damaged.stderr


def test_without_base64_the_host_sends_hex(tmp_path: Path) -> None:
    """busybox without its base64 applet, an old Unix: od is POSIX."""
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("od", "cat"):
        found = shutil.which(tool)
        assert found is not None
        (tools / tool).symlink_to(found)
    data = bytes(range(256)) * 3
    script = library() + "cat | mz_encode\n"
    done = subprocess.run(
        [shutil.which("sh") or "/bin/sh", "-c", script],
        input=data,
        capture_output=True,
        env={"PATH": str(tools)},
        check=True,
        timeout=60,
    )
    assert done.stdout.startswith(b"MZ-BEGIN hex\n")
    assert decode_output(done.stdout.replace(b"\n", b"\r\n"), "test") == data
    with_base64 = subprocess.run(["sh", "-c", script], input=data, capture_output=True, check=True, timeout=60)
    assert with_base64.stdout.startswith(b"MZ-BEGIN base64\n")
    assert decode_output(with_base64.stdout, "test") == data
    with pytest.raises(UserError, match="no collector output"):
        decode_output(b"", "test")
