"""inventory.json loads back into the same typed inventory; other schema versions are refused."""

from __future__ import annotations

import json

import pytest

from modernize.errors import UserError
from modernize.serialize import dumps, load_inventory
from tests.helpers import FIXTURES


def test_round_trip_of_a_real_scan() -> None:
    from modernize.detector import Registry
    from modernize.scan import scan
    from modernize.snapshot import open_snapshot

    inv = scan(open_snapshot(str(FIXTURES / "lamp" / "root")), Registry.from_entry_points(autoload=False)).inventory
    text = dumps(inv)
    again = load_inventory(text)
    assert again == inv
    assert dumps(again) == text


def test_other_schema_versions_are_refused() -> None:
    with pytest.raises(UserError, match="schema_version"):
        load_inventory(json.dumps({"schema_version": "0.1"}))
