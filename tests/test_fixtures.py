"""Every fixture server end to end: the hand-written facts, the golden inventory,
the directory and tarball forms agreeing, and no secret anywhere in the output.

Refresh the golden files with `pytest tests/test_fixtures.py --update-golden`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from modernize.detector import Registry
from modernize.scan import scan
from modernize.serialize import dumps
from modernize.snapshot import open_snapshot
from tests.expected import check, validate
from tests.fixture_tree import materialize, scenarios, tarball
from tests.helpers import FIXTURES, REPO

GOLDEN = REPO / "tests" / "golden"


def _registry() -> Registry:
    reg = Registry.from_entry_points(autoload=False)
    assert not reg.load_errors, reg.load_errors
    return reg


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("fixtures")
    return {name: materialize(name, base) for name in scenarios()}


def _scan(path: Path) -> str:
    snap = open_snapshot(str(path))
    inv = scan(snap, _registry()).inventory
    return dumps(inv)


def _without_source(text: str) -> dict[str, object]:
    data = json.loads(text)
    data.pop("source")
    return data


@pytest.mark.parametrize("name", scenarios())
def test_expected_facts(name: str, trees: dict[str, Path]) -> None:
    path = FIXTURES / name / "expected.yaml"
    exp = yaml.safe_load(path.read_text())
    validate(exp, str(path.relative_to(REPO)))  # before scanning: no key goes unread
    snap = open_snapshot(str(trees[name]))
    inv = scan(snap, _registry()).inventory
    failed = [f for f in inv.findings if f.code == "detector-failed"]
    assert not failed, failed
    problems = check(inv, exp, str(path.relative_to(REPO)))
    assert not problems, "\n".join(problems)
    # Facts the author wrote down that modernize does not find yet: each must still
    # fail, so a fix shows up here and the fact moves back into the main list.
    for key, items in (exp.get("known_gaps") or {}).items():
        for item in items:
            assert check(inv, {key: [item]}), f"known gap now found, move it back into {key}: {item}"


@pytest.mark.parametrize("name", scenarios())
def test_golden_inventory(name: str, trees: dict[str, Path], request: pytest.FixtureRequest) -> None:
    if os.geteuid() != 0:
        pytest.skip("owners from manifest.tsv need root")
    text = _scan(trees[name])
    data = _without_source(text)
    golden = GOLDEN / name / "inventory.json"
    if request.config.getoption("--update-golden"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    assert golden.exists(), f"no golden file: run pytest {__file__} --update-golden"
    assert data == json.loads(golden.read_text()), f"{name}: inventory drifted from {golden}"


@pytest.mark.parametrize("name", scenarios())
def test_tarball_and_directory_agree(name: str, trees: dict[str, Path], tmp_path: Path) -> None:
    by_dir = _without_source(_scan(trees[name]))
    for comp in ("gz", "zst"):
        by_tar = _without_source(_scan(tarball(trees[name], tmp_path, comp)))
        assert by_tar == by_dir, f"{name}: .tar.{comp} and directory inventories differ"


@pytest.mark.parametrize("name", scenarios())
def test_no_secret_value_in_any_output(name: str, trees: dict[str, Path], tmp_path: Path) -> None:
    exp = yaml.safe_load((FIXTURES / name / "expected.yaml").read_text())
    values = [str(v) for v in exp.get("secret_values") or []]
    if not values:
        pytest.skip("no secrets in this fixture")
    out = tmp_path / "inventory.json"
    proc = subprocess.run(
        [sys.executable, "-m", "modernize", "scan", str(tarball(trees[name], tmp_path)), "-o", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "MODERNIZE_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    everything = out.read_text() + proc.stdout + proc.stderr
    leaked = [v for v in values if v in everything]
    assert not leaked, f"secret values in the output: {leaked}"
    # the fingerprints are there instead, keyed (never a bare hash of the value),
    # unless the fixture says the scan does not find its secrets yet (known_gaps)
    if not (exp.get("known_gaps") or {}).get("secrets"):
        assert "hmac-sha256:" in out.read_text()
