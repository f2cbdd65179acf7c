"""inventory.json: deterministic JSON, its JSON Schema, and loading it back.

The schema is generated from the dataclasses themselves, so the file, the
schema and the code cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from modernize import model
from modernize.model import SCHEMA_VERSION, Inventory

T = TypeVar("T")


def to_data(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_data(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple | list):
        return [to_data(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): to_data(v) for k, v in sorted(obj.items())}
    return obj


def dumps(inv: Inventory) -> str:
    return json.dumps(to_data(inv), indent=2, ensure_ascii=False) + "\n"


# -- loading --------------------------------------------------------------------------
def from_data(cls: type[T], data: Any) -> T:
    return typing.cast(T, _load(cls, data))


def _load(tp: Any, data: Any) -> Any:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        if data is None:
            return None
        return _load(next(a for a in get_args(tp) if a is not type(None)), data)
    if origin is tuple:
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_load(args[0], x) for x in data)
        return tuple(_load(a, x) for a, x in zip(args, data, strict=True))
    if origin is dict:
        _k, v = get_args(tp)
        return {k: _load(v, x) for k, x in data.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        kwargs = {f.name: _load(hints[f.name], data[f.name]) for f in dataclasses.fields(tp) if f.name in data}
        return tp(**kwargs)
    return data


@functools.cache
def _hints(tp: type) -> dict[str, Any]:
    return get_type_hints(tp)  # resolving string annotations is slow; once per class


def load_inventory(text: str) -> Inventory:
    data = json.loads(text)
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        from modernize.errors import UserError

        raise UserError(f"inventory schema_version {version!r} is not {SCHEMA_VERSION!r}: scan again")
    return from_data(Inventory, data)


# -- schema ---------------------------------------------------------------------------
_PRIMS: dict[Any, dict[str, str]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
}


def _schema_of(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return {"anyOf": [_schema_of(a, defs) for a in get_args(tp)]}
    if tp is type(None):
        return {"type": "null"}
    if origin is tuple:
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": _schema_of(args[0], defs)}
        return {
            "type": "array",
            "prefixItems": [_schema_of(a, defs) for a in args],
            "minItems": len(args),
            "maxItems": len(args),
        }
    if origin is dict:
        return {"type": "object", "additionalProperties": _schema_of(get_args(tp)[1], defs)}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}  # placeholder against recursion
            hints = _hints(tp)
            fields = dataclasses.fields(tp)
            defs[name] = {
                "type": "object",
                "description": (tp.__doc__ or "").strip().split("\n\n")[0],
                "properties": {f.name: _schema_of(hints[f.name], defs) for f in fields},
                "required": [f.name for f in fields],
                "additionalProperties": False,
            }
        return {"$ref": f"#/$defs/{name}"}
    if tp in _PRIMS:
        return dict(_PRIMS[tp])
    raise TypeError(f"no schema for {tp!r}")


def inventory_schema() -> dict[str, Any]:
    defs: dict[str, Any] = {}
    root = _schema_of(model.Inventory, defs)
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://modernize.dev/schema/inventory-{SCHEMA_VERSION}.json",
        "title": "modernize inventory",
        **root,
        "$defs": defs,
    }
    defs["Inventory"]["properties"]["schema_version"] = {"const": SCHEMA_VERSION}
    return schema
