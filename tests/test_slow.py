"""Tests that need the package registries for their setup (marked slow; CI runs them)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.fixture_tree import tarball
from tests.helpers import FIXTURES, REPO

pytestmark = pytest.mark.slow
MIRROR = os.environ.get("MODERNIZE_TEST_MIRROR", "http://deb.debian.org/debian")


def test_installed_wheel_works_from_anywhere(tmp_path: Path) -> None:
    """`pip install .` (not editable) into a fresh venv: entry points, the built-in
    detectors and the templates must ship in the wheel."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    src = tmp_path / "src"
    shutil.copytree(
        REPO, src, symlinks=True, ignore=shutil.ignore_patterns(".venv", ".git", "*.egg-info", "build", "__pycache__")
    )
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", str(src)], check=True)
    shutil.rmtree(src)  # nothing may still point into the source tree
    exe = env_dir / "bin" / "modernize"
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, cwd=cwd, check=True)
    assert version.stdout.startswith("modernize ")
    listing = subprocess.run([str(exe), "detectors", "list", "--json"], capture_output=True, text=True, cwd=cwd)
    assert listing.returncode == 0 and "failed to load" not in listing.stderr, listing.stderr
    rows = json.loads(listing.stdout)
    assert len(rows) >= 30 and {r["origin"] for r in rows} == {"builtin"}
    out = cwd / "inv.json"
    scan = subprocess.run(
        [str(exe), "scan", str(FIXTURES / "python-web" / "root"), "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=cwd,
    )
    assert scan.returncode == 0, scan.stderr
    assert "web01" in scan.stdout  # the summary template shipped
    assert json.loads(out.read_text())["host"]["hostname"] == "web01"
    # plan and generate from the installed wheel: images.yaml, the knowledge entry
    # points, the templates and the compose schema ship in it
    run = subprocess.run(
        [str(exe), "run", str(FIXTURES / "python-web" / "root"), "-o", str(cwd / "out"), "-q"],
        capture_output=True,
        text=True,
        cwd=cwd,
    )
    assert run.returncode == 0, run.stderr
    assert "postgres:15-bookworm" in (cwd / "out" / "services" / "postgresql" / "Dockerfile").read_text()
    # the compiled fast path of the tar reader ships where a compiler built it (CI
    # has one), and a tarball scan through the installed command (head start,
    # inflating child, fast path) gives the directory's inventory
    compiled = subprocess.run([str(py), "-c", "import modernize.snapshot._tarscan"], capture_output=True, cwd=cwd)
    if os.environ.get("CI"):
        assert compiled.returncode == 0, compiled.stderr
    out_tar = cwd / "inv-tar.json"
    archive = tarball(FIXTURES / "python-web" / "root", tmp_path, "zst")
    scan = subprocess.run([str(exe), "scan", str(archive), "-o", str(out_tar), "-q"], capture_output=True, cwd=cwd)
    assert scan.returncode == 0, scan.stderr
    from_dir, from_tar = json.loads(out.read_text()), json.loads(out_tar.read_text())
    from_dir.pop("source")
    from_tar.pop("source")
    assert from_tar == from_dir


@pytest.fixture(scope="module")
def debootstrapped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("debootstrap") is None:
        pytest.skip("debootstrap is not installed (.ci/run installs it)")
    root = tmp_path_factory.mktemp("real") / "root"
    proc = subprocess.run(
        ["debootstrap", "--variant=minbase", "bookworm", str(root), MIRROR], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return root


def test_real_debootstrap_system(debootstrapped: Path, tmp_path: Path) -> None:
    """A real system no one here wrote: package count as dpkg-query counts it, and the
    same inventory from the directory and from its tarball."""
    env = {**os.environ, "MODERNIZE_DISABLE_PLUGIN_AUTOLOAD": "1"}
    out_dir, out_tar = tmp_path / "dir.json", tmp_path / "tar.json"
    for src, out in ((debootstrapped, out_dir), (tarball(debootstrapped, tmp_path, "zst"), out_tar)):
        proc = subprocess.run(
            [sys.executable, "-m", "modernize", "scan", str(src), "-o", str(out), "-q"],
            capture_output=True,
            text=True,
            env=env,
        )
        assert proc.returncode == 0, proc.stderr
    inv = json.loads(out_dir.read_text())
    status = subprocess.run(
        ["dpkg-query", f"--admindir={debootstrapped / 'var/lib/dpkg'}", "-W", "-f", "${db:Status-Abbrev}\n"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert len([p for p in inv["packages"] if p["manager"] == "dpkg"]) == status.count("ii ")
    assert inv["host"]["os"]["id"] == "debian" and inv["host"]["os"]["version_id"] == "12"
    assert inv["host"]["arch"]
    a, b = json.loads(out_dir.read_text()), json.loads(out_tar.read_text())
    a.pop("source"), b.pop("source")
    assert a == b
    assert not [f for f in inv["findings"] if f["level"] == "error"]
