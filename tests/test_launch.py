"""The console entry's head start: a tarball scan starts inflating before the CLI
framework loads, the snapshot takes that stream over, and nothing is left running
when the guess was wrong or the scan never reads."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import typer

from modernize import inflate
from modernize.cli import app
from modernize.launch import VALUE_OPTIONS, entry, scan_source
from tests.fixture_tree import materialize, tarball


@pytest.mark.parametrize(
    ("argv", "source"),
    [
        (["scan", "s.tar.gz"], "s.tar.gz"),
        (["scan", "-o", "out.json", "s.tar.gz", "--quiet"], "s.tar.gz"),
        (["scan", "--only", "nginx", "--skip", "dpkg", "--max-file-size", "9", "s.tar.gz"], "s.tar.gz"),
        (["scan", "--output=out.json", "-q", "s.tar.gz"], "s.tar.gz"),
        (["scan", "-qo", "out.json", "s.tar.gz"], "s.tar.gz"),
        (["scan", "-oout.json", "s.tar.gz"], "s.tar.gz"),
        (["scan", "--", "-odd-name.tar"], "-odd-name.tar"),
        (["scan", "a.tar.gz", "b.tar.gz", "-j", "2"], None),  # a fleet: each child starts its own
        (["scan", "@hosts.txt"], None),
        (["scan", "-j", "4", "s.tar.gz"], "s.tar.gz"),
        (["run", "--strategy", "distro", "--image-map", "a=b", "-o", "out", "s.tar.zst"], "s.tar.zst"),
        (["run", "s.tar.zst", "--templates", "t"], "s.tar.zst"),
        (["plan", "inventory.json"], None),
        (["scan", "--help"], None),
        (["detectors", "list"], None),
        ([], None),
        (["--version"], None),
    ],
)
def test_scan_source_guesses_the_positional(argv: list[str], source: str | None) -> None:
    assert scan_source(argv) == source


@pytest.mark.parametrize("command", sorted(VALUE_OPTIONS))
def test_value_options_are_those_of_the_real_command(command: str) -> None:
    # typer vendors click in newer releases: the objects are looked at, not imported
    cmd = typer.main.get_command(app).commands[command]  # type: ignore[attr-defined]
    takes_value = {
        opt
        for p in cmd.params
        if p.param_type_name == "option" and not p.is_flag
        for opt in (*p.opts, *p.secondary_opts)
    }
    assert takes_value == VALUE_OPTIONS[command]


@pytest.fixture(scope="module")
def server_tgz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("launch")
    return tarball(materialize("python-web", base), base, "gz")


# Runs the console entry in a fresh interpreter and reports, for every stream
# opened, whether typer had been imported by then.
PROBE = """
import json, sys
from modernize import inflate
opened = []
real = inflate.open_stream
def spy(*args, **kwargs):
    opened.append("typer" in sys.modules)
    return real(*args, **kwargs)
inflate.open_stream = spy
import modernize.snapshot.tarball as tarball  # its own reference, used when nothing was claimed
tarball.open_stream = spy
from modernize.launch import entry
sys.argv = ["modernize", *sys.argv[1:]]
try:
    entry()
except SystemExit as exc:
    code = exc.code
print(json.dumps({"opened_after_typer": opened, "code": code}))
"""


def test_tarball_scan_inflates_before_the_cli_loads_and_once(server_tgz: Path, tmp_path: Path) -> None:
    out = tmp_path / "inv.json"
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, "scan", str(server_tgz), "-o", str(out), "--quiet"],
        capture_output=True,
        text=True,
        env={**os.environ, "MODERNIZE_DISABLE_PLUGIN_AUTOLOAD": "1"},  # the test's fingerprint key too
        stdin=subprocess.DEVNULL,
    )
    report = json.loads(probe.stdout.strip().splitlines()[-1])
    assert report == {"opened_after_typer": [False], "code": 0}, probe.stderr
    # the taken-over stream gives the inventory a scan without a head start gives
    plain = tmp_path / "plain.json"
    from modernize.cli import main

    sys_argv = sys.argv
    try:
        sys.argv = ["modernize", "scan", str(server_tgz), "-o", str(plain), "--quiet"]
        with pytest.raises(SystemExit) as exc:
            main()
    finally:
        sys.argv = sys_argv
    assert exc.value.code == 0
    assert json.loads(out.read_text()) == json.loads(plain.read_text())


@pytest.mark.parametrize(
    "args",
    [
        ["--only", "no-such-detector"],  # fails before any pass reads the stream
        ["--max-file-size", "not-a-number"],  # fails in the argument parser
    ],
)
def test_unclaimed_head_start_stops(server_tgz: Path, tmp_path: Path, args: list[str]) -> None:
    before = set(threading.enumerate())
    fds_before = len(os.listdir("/proc/self/fd"))
    interval = sys.getswitchinterval()
    argv = sys.argv
    try:
        sys.argv = ["modernize", "scan", str(server_tgz), "-o", str(tmp_path / "x.json"), "--quiet", *args]
        with pytest.raises(SystemExit) as exc:
            entry()
    finally:
        sys.argv = argv
        gc.unfreeze()
    assert exc.value.code == 2
    assert not inflate._head_starts
    for t in set(threading.enumerate()) - before:
        t.join(timeout=5)
        assert not t.is_alive(), t.name
    assert len(os.listdir("/proc/self/fd")) == fds_before
    assert sys.getswitchinterval() == interval


def test_head_start_of_a_replaced_file_is_not_taken(server_tgz: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.tar.gz"
    copy.write_bytes(server_tgz.read_bytes())
    inflate.head_start(str(copy))
    try:
        assert len(inflate._head_starts) == 1
        replacement = tmp_path / "new.tar.gz"
        replacement.write_bytes(server_tgz.read_bytes())
        os.replace(replacement, copy)
        assert inflate.claim(str(copy)) is None
    finally:
        inflate.drop_head_starts()
    assert not inflate._head_starts


def test_no_head_start_for_a_directory_or_plain_tar(tmp_path: Path) -> None:
    plain = tmp_path / "s.tar"
    subprocess.run(["tar", "-C", str(tmp_path), "-cf", str(plain), "--files-from", "/dev/null"], check=True)
    for path in (tmp_path, plain, tmp_path / "missing.tar.gz"):
        inflate.head_start(str(path))
        assert not inflate._head_starts
    inflate.drop_head_starts()


# The installed command's way out, in a fresh interpreter: what `hold` kept and
# what `os._exit` was given, recorded before the real exit.
CONSOLE_PROBE = """
import gc, json, os, sys
from modernize import launch
real_exit = os._exit
def spy(code):
    sys.stderr.write("PROBE " + json.dumps({"code": code, "held": [type(o).__name__ for o in launch._held],
                                           "frozen": gc.get_freeze_count() > 0}) + "\\n")
    sys.stderr.flush()
    real_exit(code)
os._exit = spy
sys.stdout.write("unflushed ")  # a pipe's stdout keeps this in its buffer
if sys.argv[1] == "--message":
    launch.entry = lambda: sys.exit("stopped: a message")
    sys.argv = ["modernize"]
else:
    sys.argv = ["modernize", *sys.argv[1:]]
launch.console()
"""


def _console(*args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, object]]:
    proc = subprocess.run(
        [sys.executable, "-c", CONSOLE_PROBE, *args],
        capture_output=True,
        text=True,
        # buffered output, as a user's shell has it
        env={
            **{k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},
            "MODERNIZE_DISABLE_PLUGIN_AUTOLOAD": "1",
        },
        stdin=subprocess.DEVNULL,
    )
    probe = [line for line in proc.stderr.splitlines() if line.startswith("PROBE ")]
    assert len(probe) == 1, proc.stderr
    return proc, json.loads(probe[0].removeprefix("PROBE "))


def test_console_keeps_the_scan_for_the_exit_and_flushes_everything(server_tgz: Path, tmp_path: Path) -> None:
    proc, probe = _console("scan", str(server_tgz), "-o", "-")
    assert proc.returncode == 0 and probe["code"] == 0
    assert probe["held"] == ["TarballSnapshot", "ScanResult"] and probe["frozen"]
    # everything written to the pipe before the quick exit arrives, whole
    inv = json.loads(proc.stdout.removeprefix("unflushed "))
    assert inv["host"]["hostname"] == "web01"
    out = tmp_path / "inv.json"
    proc, probe = _console("scan", str(server_tgz), "-o", str(out))
    assert proc.returncode == 0 and "inventory written to" in proc.stdout.splitlines()[-1]
    assert json.loads(out.read_text()) == inv
    proc, probe = _console("scan", str(server_tgz), "-o", str(out), "--quiet")
    assert proc.returncode == 0 and proc.stdout == "unflushed "


def test_console_exit_statuses(tmp_path: Path) -> None:
    proc, probe = _console("scan", str(tmp_path / "missing.tar.gz"))
    assert proc.returncode == 2 and probe == {"code": 2, "held": [], "frozen": True}
    assert "missing.tar.gz" in proc.stderr and "Traceback" not in proc.stderr
    proc, probe = _console("--message")
    assert proc.returncode == 1 and probe["code"] == 1
    assert "stopped: a message" in proc.stderr


def test_hold_keeps_nothing_outside_the_console(server_tgz: Path, tmp_path: Path) -> None:
    from modernize.cli import main
    from modernize.launch import _held

    frozen = gc.get_freeze_count()
    argv = sys.argv
    try:
        sys.argv = ["modernize", "scan", str(server_tgz), "-o", str(tmp_path / "i.json"), "--quiet"]
        with pytest.raises(SystemExit) as exc:
            main()
    finally:
        sys.argv = argv
    assert exc.value.code == 0
    assert _held == [] and gc.get_freeze_count() == frozen
