"""inventory.json loads back into the same typed inventory; other schema versions are refused."""

from __future__ import annotations

import dataclasses
import enum
import json

import pytest

from modernize.errors import UserError
from modernize.serialize import dumps, load_inventory, to_data
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


def _stdlib(obj: object) -> str:
    return json.dumps(to_data(obj), indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("scenario", sorted(p.name for p in FIXTURES.iterdir() if (p / "root").is_dir()))
def test_dumps_writes_what_the_stdlib_encoder_writes(scenario: str) -> None:
    from modernize.detector import Registry
    from modernize.scan import scan
    from modernize.snapshot import open_snapshot

    snap = open_snapshot(str(FIXTURES / scenario / "root"))
    inv = scan(snap, Registry.from_entry_points(autoload=False)).inventory
    assert dumps(inv) == _stdlib(inv)


@dataclasses.dataclass
class _Empty:
    pass


class _Color(enum.StrEnum):
    RED = "red"


@dataclasses.dataclass
class _Odd:
    text: str = 'quote " backslash \\ tab \t nul \x00 bell \x07 é 中 \u2028 😀'
    floats: tuple[float, ...] = (0.1, -0.0, 1e300, float("inf"), -float("inf"), float("nan"), 3.0)
    ints: list[int] = dataclasses.field(default_factory=lambda: [0, -1, 2**70, True, False])
    nothing: None = None
    empty: _Empty = dataclasses.field(default_factory=_Empty)
    empty_list: tuple[int, ...] = ()
    empty_map: dict[str, int] = dataclasses.field(default_factory=dict)
    nested: dict[str, object] = dataclasses.field(
        default_factory=lambda: {"b": [[], {}, [1, [2]]], "a": {"z": None, "y": (_Empty(),)}}
    )
    numbered: dict[int, str] = dataclasses.field(default_factory=lambda: {10: "ten", 9: "nine"})
    color: _Color = _Color.RED


def test_dumps_matches_the_stdlib_on_odd_values() -> None:
    odd = _Odd()
    assert dumps(odd) == _stdlib(odd)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps(_Odd(nothing=object()))  # type: ignore[arg-type]


OLDEST = FIXTURES.parent / "tests" / "golden" / "compat" / "python-web-1.0.json"


def test_the_oldest_minor_of_this_major_still_loads_and_validates() -> None:
    """A 1.0 inventory (written before `libraries` existed) loads with the new
    field at its default and validates against today's schema."""
    import jsonschema

    from modernize.serialize import inventory_schema

    text = OLDEST.read_text()
    data = json.loads(text)
    assert data["schema_version"] == "1.0"
    jsonschema.validate(data, inventory_schema())
    inv = load_inventory(text)
    app = next(s for s in inv.services if s.id == "python-app:/srv/intranet")
    assert app.libraries == () and app.command[0].endswith("gunicorn")


def test_a_newer_minor_loads_and_its_new_fields_are_ignored() -> None:
    data = json.loads(OLDEST.read_text())
    data["schema_version"] = "1.99"
    data["a_field_from_the_future"] = {"x": 1}
    data["services"][0]["another_new_field"] = [1, 2]
    inv = load_inventory(json.dumps(data))
    assert inv.schema_version == "1.99" and len(inv.services) == len(data["services"])


@pytest.mark.parametrize("version", ["2.0", "1", "1.x", None, 1.0])
def test_another_major_or_a_malformed_version_is_refused(version: object) -> None:
    data = json.loads(OLDEST.read_text())
    data["schema_version"] = version
    with pytest.raises(UserError, match="schema_version"):
        load_inventory(json.dumps(data))


def test_a_broken_inventory_is_a_user_error_not_a_traceback() -> None:
    with pytest.raises(UserError, match="not JSON"):
        load_inventory("{")
    with pytest.raises(UserError, match="not a valid inventory"):
        load_inventory(json.dumps({"schema_version": "1.0", "host": 5}))
