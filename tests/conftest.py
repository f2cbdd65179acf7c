from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def _fingerprint_key(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A fixed fingerprint key, so golden files do not depend on the tester's home."""
    key = tmp_path_factory.mktemp("key") / "fingerprint.key"
    key.write_text("0" * 64)
    os.environ["MODERNIZE_FINGERPRINT_KEY"] = str(key)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/* from the current output")


@pytest.fixture(params=["compiled", "python"])
def tar_parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with the tar reader's compiled fast path and with the pure-Python
    parser alone (tarstream._scan switched off)."""
    from modernize.snapshot import tarstream

    if request.param == "compiled" and tarstream._scan is None:
        pytest.skip("the compiled fast path is not built here")
    if request.param == "python":
        monkeypatch.setattr(tarstream, "_scan", None)
        monkeypatch.setenv("MODERNIZE_NO_TARSCAN", "1")  # for the scans a test runs as a process
    return str(request.param)
