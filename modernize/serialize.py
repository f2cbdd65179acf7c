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
from collections.abc import Callable
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from modernize import model
from modernize.model import SCHEMA_VERSION, Inventory
from modernize.secrets import escape_surrogates

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
    """`json.dumps(to_data(inv), indent=2, ensure_ascii=False)` and a newline,
    written in one walk: the stdlib encoder is pure Python whenever it indents,
    and building the dicts first doubled the work."""
    out: list[str] = []
    _emit(inv, out, "\n")
    out.append("\n")
    # names that are not UTF-8 are escaped in a scan's inventory already; one built
    # another way is made valid UTF-8 here all the same
    return escape_surrogates("".join(out), in_json=True)


@functools.cache
def _fields_of(cls: type) -> tuple[str, ...] | None:
    """The field names of a dataclass, None for any other type."""
    return tuple(f.name for f in dataclasses.fields(cls)) if dataclasses.is_dataclass(cls) else None


def _emit(obj: Any, out: list[str], nl: str) -> None:
    """Append OBJ as JSON; NL is a newline and the current indent. Same checks in
    the same order as `to_data` and then `json`'s encoder."""
    cls: type = type(obj)
    names = _fields_of(cls)
    items: list[tuple[str, Any]]
    if names is not None:
        items = [(n, getattr(obj, n)) for n in names]
    elif isinstance(obj, tuple | list):
        if not obj:
            out.append("[]")
            return
        inner = nl + "  "
        sep = "[" + inner
        for x in obj:
            out.append(sep)
            sep = "," + inner
            _emit(x, out, inner)
        out.append(nl + "]")
        return
    elif isinstance(obj, dict):
        items = [(str(k), v) for k, v in sorted(obj.items())]
    elif isinstance(obj, str):
        out.append(_encode_str(obj))
        return
    elif obj is None:
        out.append("null")
        return
    elif obj is True:
        out.append("true")
        return
    elif obj is False:
        out.append("false")
        return
    elif isinstance(obj, int):
        out.append(int.__repr__(obj))
        return
    elif isinstance(obj, float):
        out.append(_encode_float(obj))
        return
    else:
        raise TypeError(f"Object of type {cls.__name__} is not JSON serializable")
    if not items:
        out.append("{}")
        return
    inner = nl + "  "
    sep = "{" + inner
    for key, value in items:
        out.append(sep)
        sep = "," + inner
        out.append(_encode_str(key))
        out.append(": ")
        _emit(value, out, inner)
    out.append(nl + "}")


_encode_str = json.encoder.encode_basestring  # the C one where there is one, as json uses


def _encode_float(x: float) -> str:
    if x != x:
        return "NaN"
    if x == float("inf"):
        return "Infinity"
    if x == -float("inf"):
        return "-Infinity"
    return float.__repr__(x)


# -- loading --------------------------------------------------------------------------
def from_data(cls: type[T], data: Any) -> T:
    return typing.cast(T, _loader(typing.cast(Any, cls))(data))


def _identity(data: Any) -> Any:
    return data


@functools.cache
def _loader(tp: Any) -> Callable[[Any], Any]:
    """A converter from JSON data to TP, built once per type (a fleet report loads
    hundreds of inventories: resolving the type on every value cost seconds)."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        inner = _loader(next(a for a in get_args(tp) if a is not type(None)))
        return lambda data: None if data is None else inner(data)
    if origin is tuple:
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            item = _loader(args[0])
            if item is _identity:
                return tuple
            return lambda data: tuple(item(x) for x in data)
        items = [_loader(a) for a in args]
        return lambda data: tuple(f(x) for f, x in zip(items, data, strict=True))
    if origin is dict:
        value = _loader(get_args(tp)[1])
        return lambda data: {k: value(x) for k, x in data.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        # fields a newer MINOR added are ignored; fields an older one lacked take their defaults
        hints = _hints(tp)
        fields = [(f.name, _loader(hints[f.name])) for f in dataclasses.fields(tp)]
        cls = tp

        def load(data: Any) -> Any:
            return cls(**{name: conv(data[name]) for name, conv in fields if name in data})

        return load
    return _identity


@functools.cache
def _hints(tp: type) -> dict[str, Any]:
    return get_type_hints(tp)  # resolving string annotations is slow; once per class


def same_major(version: object, current: str) -> bool:
    """True when VERSION ('MAJOR.MINOR') has CURRENT's major: readers accept any minor."""
    if not isinstance(version, str):
        return False
    major, _, minor = version.partition(".")
    return major == current.partition(".")[0] and minor.isdigit()


def load_inventory(text: str, where: str = "inventory") -> Inventory:
    """Load inventory.json of any MINOR version of this MAJOR; anything else is a
    UserError naming WHERE."""
    from modernize.errors import UserError

    try:
        data = json.loads(text)
    except ValueError as exc:
        raise UserError(f"{where}: not JSON ({exc})") from None
    version = data.get("schema_version") if isinstance(data, dict) else None
    if not same_major(version, SCHEMA_VERSION):
        raise UserError(
            f"{where}: inventory schema_version {version!r} is not {SCHEMA_VERSION.partition('.')[0]}.x "
            f"(this modernize writes {SCHEMA_VERSION}): scan again"
        )
    try:
        return from_data(Inventory, data)
    except (KeyError, TypeError, ValueError, AttributeError, StopIteration) as exc:
        raise UserError(f"{where}: not a valid inventory ({type(exc).__name__}: {exc})") from None


# -- schema ---------------------------------------------------------------------------
_PRIMS: dict[Any, dict[str, str]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
}


def _schema_of(tp: Any, defs: dict[str, Any], strict: bool = False) -> dict[str, Any]:
    """JSON Schema of a type. Not STRICT (a file modernize writes and a newer MINOR may
    extend): only fields without a default are required and unknown ones are allowed.
    STRICT (a file a person edits): unknown fields are refused, to catch typos."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return {"anyOf": [_schema_of(a, defs, strict) for a in get_args(tp)]}
    if tp is type(None):
        return {"type": "null"}
    if origin is tuple:
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": _schema_of(args[0], defs, strict)}
        return {
            "type": "array",
            "prefixItems": [_schema_of(a, defs, strict) for a in args],
            "minItems": len(args),
            "maxItems": len(args),
        }
    if origin is dict:
        return {"type": "object", "additionalProperties": _schema_of(get_args(tp)[1], defs, strict)}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}  # placeholder against recursion
            hints = _hints(tp)
            fields = dataclasses.fields(tp)
            defs[name] = {
                "type": "object",
                "description": (tp.__doc__ or "").strip().split("\n\n")[0],
                "properties": {f.name: _schema_of(hints[f.name], defs, strict) for f in fields},
                "required": [f.name for f in fields if _required(f)],
                "additionalProperties": not strict,
            }
        return {"$ref": f"#/$defs/{name}"}
    if tp in _PRIMS:
        return dict(_PRIMS[tp])
    raise TypeError(f"no schema for {tp!r}")


def _required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def inventory_schema() -> dict[str, Any]:
    defs: dict[str, Any] = {}
    root = _schema_of(model.Inventory, defs)
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://modernize.dev/schema/inventory-{SCHEMA_VERSION.partition('.')[0]}.json",
        "title": "modernize inventory",
        **root,
        "$defs": defs,
    }
    major = SCHEMA_VERSION.partition(".")[0]
    defs["Inventory"]["properties"]["schema_version"] = {"type": "string", "pattern": rf"^{major}\.[0-9]+$"}
    return schema
