"""The command line as a user meets it: help everywhere, exit codes, clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.helpers import FIXTURES

ENV = {**os.environ, "MODERNIZE_DISABLE_PLUGIN_AUTOLOAD": "1"}


def modernize(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modernize", *args],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )


def test_version() -> None:
    from modernize import __version__

    proc = modernize("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"modernize {__version__}"


def _commands() -> list[list[str]]:
    """Every command and group of the real CLI, found by walking it."""
    import typer

    from modernize.cli import app

    out: list[list[str]] = [[]]

    def walk(group: object, prefix: list[str]) -> None:
        for name, cmd in sorted(getattr(group, "commands", {}).items()):
            out.append([*prefix, name])
            walk(cmd, [*prefix, name])

    walk(typer.main.get_command(app), [])
    return out


@pytest.mark.parametrize("cmd", _commands(), ids=lambda c: " ".join(c) or "(top)")
def test_every_command_has_help(cmd: list[str]) -> None:
    proc = modernize(*cmd, "--help")
    assert proc.returncode == 0, proc.stderr
    assert "Usage:" in proc.stdout and len(proc.stdout.splitlines()) > 3


def test_scan_writes_inventory_and_summary(tmp_path: Path) -> None:
    out = tmp_path / "inv.json"
    proc = modernize("scan", str(FIXTURES / "python-web" / "root"), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    inv = json.loads(out.read_text())
    assert inv["host"]["hostname"] == "web01"
    assert "web01: Debian GNU/Linux 12 (bookworm)" in proc.stdout
    assert "inventory written to" in proc.stdout
    assert "\r" not in proc.stderr  # no progress display when not on a terminal


def test_scan_to_stdout_is_only_json(tmp_path: Path) -> None:
    proc = modernize("scan", str(FIXTURES / "debian-minbase" / "root"), "-o", "-")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["host"]["hostname"] == "minbase01"


def test_quiet_prints_nothing(tmp_path: Path) -> None:
    proc = modernize("scan", str(FIXTURES / "debian-minbase" / "root"), "-o", str(tmp_path / "i.json"), "--quiet")
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == ""


def test_only_and_skip_select_detectors(tmp_path: Path) -> None:
    out = tmp_path / "i.json"
    proc = modernize(
        "scan", str(FIXTURES / "lamp" / "root"), "-o", str(out), "-q", "--only", "os", "--only", "accounts"
    )
    assert proc.returncode == 0, proc.stderr
    inv = json.loads(out.read_text())
    assert inv["coverage"]["detectors_run"] == ["accounts", "os"]
    assert inv["packages"] == [] and inv["users"]
    proc = modernize("scan", str(FIXTURES / "lamp" / "root"), "-o", str(out), "-q", "--skip", "host")
    run = json.loads(out.read_text())["coverage"]["detectors_run"]
    assert "os" not in run and "dpkg" not in run and run


@pytest.mark.parametrize(
    "args, message",
    [
        (["scan", "/nonexistent/server"], "no such file or directory"),
        (["scan", str(FIXTURES / "README.md")], "not a readable tar archive"),
        (["scan", str(FIXTURES / "lamp" / "root"), "--only", "no-such-detector"], "no detector or tag named"),
        (["scan"], "Missing argument"),
    ],
)
def test_bad_input_exits_2_without_traceback(args: list[str], message: str, tmp_path: Path) -> None:
    proc = modernize(*args, "-o", str(tmp_path / "x.json")) if len(args) > 1 else modernize(*args)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_detectors_list_shows_builtins_with_globs() -> None:
    proc = modernize("detectors", "list", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = {r["name"]: r for r in json.loads(proc.stdout)}
    assert {"os", "dpkg", "rpm", "apk", "systemd", "cron", "accounts"} <= set(rows)
    assert rows["dpkg"]["origin"] == "builtin"
    assert "/var/lib/dpkg/status" in rows["dpkg"]["reads"]
    text = modernize("detectors", "list").stdout
    assert "dpkg  [host, packages]  (builtin)" in text


def test_schema_validates_a_real_inventory(tmp_path: Path) -> None:
    schema = json.loads(modernize("schema", "inventory").stdout)
    out = tmp_path / "inv.json"
    assert modernize("scan", str(FIXTURES / "mail-dns-files" / "root"), "-o", str(out), "-q").returncode == 0
    jsonschema.validate(json.loads(out.read_text()), schema)
    broken = json.loads(out.read_text())
    broken["services"][0]["ports"] = "80"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_scan_is_deterministic(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    src = str(FIXTURES / "python-web" / "root")
    assert modernize("scan", src, "-o", str(a), "-q").returncode == 0
    assert modernize("scan", src, "-o", str(b), "-q").returncode == 0
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize("command", ["scan", "capture", "run", "generate"])
def test_every_command_that_reads_a_live_host_takes_the_ssh_options(command: str, tmp_path: Path) -> None:
    """One declaration (live/options.py ssh_options) for all four: each parses every option
    and still has its own (an unreachable host fails on the connection, not on the options)."""
    args = ["--ssh-config", str(tmp_path / "none"), "--identity", str(tmp_path / "none"), "--accept-new-host-key",
            "--sudo", "--connect-timeout", "1", "--command-timeout", "2"]  # fmt: skip
    target = "ssh://127.0.0.1:1"
    if command == "generate":
        (tmp_path / "plan.yaml").write_text("not: a plan\n")
        target = str(tmp_path / "plan.yaml")
    done = modernize(command, target, *args, "-o", str(tmp_path / "out"))
    assert done.returncode == 2, done.stderr
    assert "No such option" not in done.stderr and "Traceback" not in done.stderr
    assert "none: no such key file" in done.stderr or "plan.yaml" in done.stderr
