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
