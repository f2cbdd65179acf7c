"""Ordinary mistakes and odd input, met as a user meets them (the CLI in a subprocess):
each gets its exit code and a clear message, never a traceback; nothing is written
outside the output path, and no temporary file is left anywhere."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from modernize.errors import UserError
from tests.fixture_tree import materialize, tarball
from tests.helpers import FIXTURES

ROOT = Path(__file__).resolve().parent.parent
PYTHONPATH = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
SMALL = FIXTURES / "alpine" / "root"
LEFTOVER = re.compile(r"\.tmp$|\.tmp\d+$|^\.modernize-probe-")


def modernize(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "modernize", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": PYTHONPATH, **(env or {})},
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "internal error" not in proc.stderr, proc.stderr
    return proc


def tree(path: Path) -> dict[str, bytes | None]:
    """Every entry under PATH with its content (None for directories)."""
    out: dict[str, bytes | None] = {}
    for top, dirs, files in os.walk(path):
        for d in dirs:
            out[os.path.relpath(os.path.join(top, d), path)] = None
        for f in files:
            p = os.path.join(top, f)
            out[os.path.relpath(p, path)] = b"link" if os.path.islink(p) else Path(p).read_bytes()
    return out


def no_leftovers(*dirs: Path) -> None:
    for d in dirs:
        for top, _dirs, files in os.walk(d):
            bad = [f for f in files if LEFTOVER.search(f)]
            assert not bad, f"temporary files left in {top}: {bad}"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def odd_names(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """python-web with file names that are not UTF-8: in /etc, in the app's code, in /srv."""
    base = tmp_path_factory.mktemp("names")
    root = materialize("python-web", base)
    for where, name in (
        (b"etc/nginx/conf.d/", b"caf\xe9.conf"),
        (b"srv/intranet/app/", b"r\xe9sum\xe9.txt"),
        (b"srv/", b"\xff\xfe-odd"),
    ):
        Path(os.fsdecode(os.fsencode(root) + b"/" + where + name)).write_bytes(b"x = 1\n")
    return root


# -- -o ---------------------------------------------------------------------------------
def test_an_existing_directory_gets_inventory_json_inside(tmp_path: Path) -> None:
    out = tmp_path / "results"
    out.mkdir()
    proc = modernize("scan", str(SMALL), "-o", str(out), "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(out)) == ["inventory.json"]
    assert json.loads((out / "inventory.json").read_text())["host"]["os"]["id"] == "alpine"
    no_leftovers(tmp_path)


@pytest.mark.parametrize("command", ["scan", "run"])
def test_an_empty_output_path_is_refused(tmp_path: Path, command: str) -> None:
    proc = modernize(command, str(SMALL), "-o", "", "-q", cwd=tmp_path)
    assert proc.returncode == 2
    assert "-o ''" in proc.stderr
    assert os.listdir(tmp_path) == []


def test_an_output_that_cannot_be_written_is_refused_before_scanning(tmp_path: Path) -> None:
    # a file where a folder should be, and a folder nobody may write in (/proc, even for root)
    (tmp_path / "file").write_text("x")
    for target in (str(tmp_path / "file" / "inventory.json"), "/proc/inventory.json"):
        proc = modernize("scan", str(SMALL), "-o", target, cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        assert target in proc.stderr
        assert "detector" not in proc.stdout and "inventory written" not in proc.stdout  # no scan ran
    assert sorted(os.listdir(tmp_path)) == ["file"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in a read-only folder")
def test_a_read_only_folder_is_refused_before_scanning(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o555)
    proc = modernize("scan", str(SMALL), "-o", str(ro / "inventory.json"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "cannot write" in proc.stderr and "Permission denied" in proc.stderr
    assert os.listdir(ro) == []


def test_writing_fails_cleanly_and_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from modernize import outpath

    def full(*_a: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(UserError, match="No space left on device"):
        outpath.write_atomic(tmp_path / "inventory.json", b"{}")
    assert os.listdir(tmp_path) == []


def test_the_source_tarball_is_never_overwritten(tmp_path: Path) -> None:
    archive = tarball(materialize("alpine", tmp_path), tmp_path)
    before = sha(archive)
    for args in (
        ("scan", str(archive), "-o", str(archive)),
        ("scan", str(archive), "-o", archive.name),  # the same file, said another way
        ("run", str(archive), "-o", str(archive)),
    ):
        proc = modernize(*args, "-q", cwd=tmp_path)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "source" in proc.stderr or "not a directory" in proc.stderr
    assert sha(archive) == before
    assert sorted(os.listdir(tmp_path)) == ["alpine", archive.name]


def test_nothing_is_written_into_the_source_tree(tmp_path: Path) -> None:
    root = materialize("alpine", tmp_path)
    before = tree(root)
    cases = [
        ("scan", str(root), "-o", str(root / "inventory.json")),
        ("scan", str(root), "-o", str(root / "etc")),
        ("run", str(root), "-o", str(root / "out")),
        ("run", str(root), "-o", str(root)),
    ]
    for args in cases:
        proc = modernize(*args, "-q", cwd=tmp_path)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "inside the source" in proc.stderr or "that is the source" in proc.stderr, proc.stderr
    assert tree(root) == before


def test_plan_report_and_generate_refuse_their_own_sources(tmp_path: Path) -> None:
    root = materialize("alpine", tmp_path)
    out = tmp_path / "out"
    assert modernize("run", str(root), "-o", str(out), "-q", cwd=tmp_path).returncode in (0, 1)
    inv, plan = out / "inventory.json", out / "plan.yaml"
    before = {p: sha(p) for p in (inv, plan)}
    src_before = tree(root)
    cases = [
        ("plan", str(inv), "-o", str(inv)),
        ("plan", str(inv), "-o", str(root / "plan.yaml")),  # into the scanned server
        ("report", str(inv), "-o", str(inv)),
        ("report", str(inv), "-o", str(root / "report")),
        ("generate", str(plan), "-o", str(plan)),
        ("generate", str(plan), "-o", str(root / "out")),
    ]
    for args in cases:
        proc = modernize(*args, cwd=tmp_path)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.startswith("error: "), proc.stderr
    assert {p: sha(p) for p in (inv, plan)} == before
    assert tree(root) == src_before


# -- what the source holds ------------------------------------------------------------
def test_an_empty_directory_is_not_a_server(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    proc = modernize("scan", "empty", "-o", "inventory.json", cwd=tmp_path)
    assert proc.returncode == 2
    assert "no operating system found" in proc.stderr
    assert sorted(os.listdir(tmp_path)) == ["empty"]


def test_the_parent_of_a_root_says_where_the_root_is(tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    backup.mkdir()
    materialize("alpine", backup).rename(backup / "root")
    for command in ("scan", "run"):
        proc = modernize(command, "backup", "-o", "out", cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        assert "no operating system found" in proc.stderr
        assert "backup/root" in proc.stderr
        assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


def test_a_tarball_of_the_parent_says_where_the_root_is(tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    backup.mkdir()
    materialize("alpine", backup).rename(backup / "root")
    archive = tarball(backup, tmp_path)
    proc = modernize("scan", str(archive), "-o", "inventory.json", cwd=tmp_path)
    assert proc.returncode == 2
    assert "no operating system found" in proc.stderr and "/root" in proc.stderr
    assert not (tmp_path / "inventory.json").exists()


def test_file_names_that_are_not_utf8_are_kept_escaped(tmp_path: Path, odd_names: Path) -> None:
    proc = modernize("scan", str(odd_names), "-o", "inv.json", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "inv.json").read_bytes().decode("utf-8")  # valid UTF-8
    inv = json.loads(text)
    assert inv["services"], "the rest of the inventory is there"
    assert "/etc/nginx/conf.d/caf\\xe9.conf" in json.dumps(inv, ensure_ascii=False).replace("\\\\", "\\")
    # a tarball of the same tree gives the same names
    archive = tarball(odd_names, tmp_path)
    proc = modernize("scan", str(archive), "-o", "tar.json", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    by_tar = json.loads((tmp_path / "tar.json").read_bytes().decode("utf-8"))
    assert by_tar["config_changes"] == inv["config_changes"]


def test_stdout_is_always_valid_utf8_json(tmp_path: Path, odd_names: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "modernize", "scan", str(odd_names), "-o", "-", "-q"],
        capture_output=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": PYTHONPATH},
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    inv = json.loads(proc.stdout.decode("utf-8"))
    assert any("\\xe9" in c["path"] for c in inv["config_changes"])
    assert os.listdir(tmp_path) == []


def test_run_carries_on_with_names_that_are_not_utf8(tmp_path: Path, odd_names: Path) -> None:
    proc = modernize("run", str(odd_names), "-o", "out", "-q", cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    assert (tmp_path / "out" / "compose.yaml").exists()
    (tmp_path / "out" / "plan.yaml").read_bytes().decode("utf-8")
    no_leftovers(tmp_path)


def test_a_gzip_with_trailing_garbage_is_read_with_a_warning(tmp_path: Path) -> None:
    root = materialize("alpine", tmp_path)
    clean = tarball(root, tmp_path)
    dirty = tmp_path / "dirty.tar.gz"
    dirty.write_bytes(clean.read_bytes() + b"this is not gzip\n" * 4)
    # GNU tar lists it (and says so); so does modernize
    assert gzip.decompress(clean.read_bytes())  # the fixture tarball itself is sound
    a = modernize("scan", str(clean), "-o", "clean.json", "-q", cwd=tmp_path)
    b = modernize("scan", str(dirty), "-o", "dirty.json", "-q", cwd=tmp_path)
    assert a.returncode == 0 and b.returncode == 0, b.stderr
    assert "warning:" in b.stderr and "trailing garbage" in b.stderr
    ca, cb = (json.loads((tmp_path / n).read_text()) for n in ("clean.json", "dirty.json"))
    warn = [f for f in cb["findings"] if f["code"] == "source-trailing-data"]
    assert len(warn) == 1 and "68 bytes" in warn[0]["message"]
    assert cb["coverage"]["complete"]
    for key in ("services", "packages", "users", "units", "config_changes"):
        assert ca[key] == cb[key], key


# -- options ----------------------------------------------------------------------------
@pytest.mark.parametrize("size", ["0", "-1", "-64M", "lots", "0K"])
def test_a_max_file_size_that_is_not_a_positive_size_is_refused(tmp_path: Path, size: str) -> None:
    proc = modernize("scan", str(SMALL), "--max-file-size", size, "-o", "i.json", cwd=tmp_path)
    assert proc.returncode == 2
    assert "--max-file-size" in proc.stderr
    assert os.listdir(tmp_path) == []


def test_sizes_take_suffixes_and_only_takes_commas(tmp_path: Path) -> None:
    proc = modernize(
        "scan", str(SMALL), "--max-file-size", "64M", "--only", "os,accounts", "-o", "i.json", "-q", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "i.json").read_text())["coverage"]["detectors_run"] == ["accounts", "os"]
    # a bound of 1K skips what is larger, so the suffix is read as kibibytes
    proc = modernize("scan", str(SMALL), "--max-file-size", "1K", "-o", "k.json", "-q", cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    skipped = json.loads((tmp_path / "k.json").read_text())["coverage"]["skipped"]
    assert any(s["reason"] == "too-large" for s in skipped)


def test_a_fingerprint_key_that_cannot_be_kept_is_said_and_output_stays_the_same(tmp_path: Path) -> None:
    (tmp_path / "keydir").mkdir()  # a directory where the key file should be: unreadable
    env = {"MODERNIZE_FINGERPRINT_KEY": str(tmp_path / "keydir")}
    src = str(FIXTURES / "python-web" / "root")
    a = modernize("scan", src, "-o", "a.json", "-q", cwd=tmp_path, env=env)
    b = modernize("scan", src, "-o", "b.json", "-q", cwd=tmp_path, env=env)
    assert a.returncode == 0 and b.returncode == 0, a.stderr
    assert "fingerprints omitted" in a.stderr
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    inv = json.loads((tmp_path / "a.json").read_text())
    assert [f["code"] for f in inv["findings"] if f["code"] == "fingerprints-omitted"] == ["fingerprints-omitted"]
    secrets = [x for s in inv["services"] for x in s["secrets"]]
    assert secrets and all(x["fingerprint"] == "" for x in secrets)
    # a key that can be written is made once and used from then on
    env = {"MODERNIZE_FINGERPRINT_KEY": str(tmp_path / "k" / "fingerprint.key")}
    c = modernize("scan", src, "-o", "c.json", "-q", cwd=tmp_path, env=env)
    assert modernize("scan", src, "-o", "d.json", "-q", cwd=tmp_path, env=env).returncode == 0
    assert "fingerprints omitted" not in c.stderr
    assert (tmp_path / "c.json").read_bytes() == (tmp_path / "d.json").read_bytes()
    assert '"fingerprint": "hmac-sha256:' in (tmp_path / "c.json").read_text()


def test_the_readme_documents_every_exit_code() -> None:
    from modernize import cli

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Exit codes") :].split("\n## ", 1)[0]
    codes = {int(c) for c in re.findall(r"^\| `(\d+)` \|", section, re.MULTILINE)}
    wanted = {
        cli.EXIT_OK,
        cli.EXIT_DETECTOR_ERRORS,
        cli.EXIT_BAD_INPUT,
        cli.EXIT_INTERNAL,
        cli.EXIT_ANOTHER_ROUND,
        120,
        130,
    }
    assert codes == wanted
