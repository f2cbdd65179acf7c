"""plan.yaml: written readable (empty fields left out, fields in model order),
read strictly (its JSON Schema refuses unknown keys; errors name the line)."""

from __future__ import annotations

import dataclasses
from typing import Any

import yaml

from modernize.errors import UserError
from modernize.plan.model import API_VERSION, KIND, STRATEGIES, Plan
from modernize.serialize import _schema_of, from_data, same_major


def _prune(obj: Any) -> Any:
    """Data of OBJ with None, empty lists and default-valued flags left out."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if value is None or value == () or (value is False and f.default is False):
                continue
            data = _prune(value)
            if data == {}:
                continue
            out[f.name] = data
        return out
    if isinstance(obj, tuple | list):
        return [_prune(x) for x in obj]
    return obj


# libyaml's emitter and parser where PyYAML has them (5x faster on a plan)
_BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Dumper(_BaseDumper):  # type: ignore[valid-type,misc]
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_plan(plan: Plan) -> str:
    head = (
        "# modernize plan: the decisions behind the generated files, one entry per service.\n"
        "# Edit it and run `modernize generate` again; `why` says where each decision came from.\n"
        "# Schema: `modernize schema plan`.\n"
    )
    body = yaml.dump(_prune(plan), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return head + body


def plan_schema() -> dict[str, Any]:
    defs: dict[str, Any] = {}
    root = _schema_of(Plan, defs, strict=True)
    major = API_VERSION.split("/")[1].partition(".")[0]
    defs["Plan"]["properties"]["apiVersion"] = {"type": "string", "pattern": rf"^modernize/{major}\.[0-9]+$"}
    defs["Plan"]["properties"]["kind"] = {"const": KIND}
    defs["ServicePlan"]["properties"]["strategy"] = {"enum": list(STRATEGIES)}
    defs["ServicePlan"]["properties"]["name"] = {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://modernize.dev/schema/plan-{major}.json",
        "title": "modernize plan",
        **root,
        "$defs": defs,
    }


def _lines(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    """Line (1-based) of every key and item in a composed YAML document."""
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, key.value)
            out[child] = key.start_mark.line + 1
            _lines(value, child, out)
            out[child] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, (*path, i), out)


def load_plan(text: str, where: str = "plan.yaml") -> Plan:
    """Parse and check a plan; any problem is a UserError naming the line and field."""
    import jsonschema

    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise UserError(f"{where}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise UserError(f"{where}: not a modernize plan (expected a mapping with apiVersion: {API_VERSION})")
    version = str(data.get("apiVersion", "")).removeprefix("modernize/")
    if data.get("kind") != KIND or not same_major(version, API_VERSION.removeprefix("modernize/")):
        raise UserError(
            f"{where}: apiVersion {data.get('apiVersion')!r} kind {data.get('kind')!r} is not a "
            f"modernize plan of this version ({API_VERSION}, {KIND})"
        )
    lines: dict[tuple[Any, ...], int] = {}
    if node is not None:
        _lines(node, (), lines)
    validator = jsonschema.Draft202012Validator(plan_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        found = []
        for err in errors:
            path = tuple(err.absolute_path)
            line = lines.get(path)
            while line is None and path:
                path = path[:-1]
                line = lines.get(path)
            field = ".".join(str(p) for p in err.absolute_path) or "(top)"
            found.append((line or 1, f"{where}:{line or 1}: {field}: {err.message}"))
        found.sort()
        more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
        raise UserError("\n".join(msg for _, msg in found[:3]) + more)
    plan = from_data(Plan, data)
    names = [s.name for s in plan.services]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UserError(f"{where}: service names must be unique; repeated: {', '.join(dupes)}")
    return plan
