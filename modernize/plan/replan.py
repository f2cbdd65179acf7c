"""Re-planning over a plan.yaml the user edited: field by field, against the plan
modernize wrote last time (the base), the user's value wins wherever they changed it,
the fresh plan's everywhere else.

- a service field the user changed (a strategy, an image, a port list, a volume) is
  kept and listed in the service's `user_fields`; listing a field there by hand pins it;
- a service the user deleted stays deleted; a service the user added stays;
- a service new in the inventory is added; one that disappeared from it is kept,
  marked `gone: true`, for the user to delete;
- `why` is the generator's account of its own decisions: always the fresh one.

The user's file is updated in place with a round-trip YAML library, so their comments
and key order survive."""

from __future__ import annotations

from dataclasses import dataclass, field
from io import StringIO
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from modernize.errors import UserError
from modernize.plan.io import dump_plan, load_plan
from modernize.plan.model import Plan

GENERATED = ("why",)  # the generator's own: never the user's
BOOKKEEPING = ("user_fields", "gone")
_MISSING = object()


@dataclass
class Replanned:
    text: str
    kept: dict[str, list[str]] = field(default_factory=dict)  # service id -> the user's fields kept
    added: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # deleted by the user: stay deleted


def _yaml() -> YAML:
    y = YAML()  # round-trip
    y.preserve_quotes = True
    y.width = 100
    y.indent(mapping=2, sequence=2, offset=0)
    return y


def replan(base_text: str, user_text: str, fresh: Plan, where: str = "plan.yaml") -> Replanned:
    load_plan(user_text, where)  # an invalid edit stops here, with its line
    base = yaml.safe_load(base_text) or {}
    fresh_data = yaml.safe_load(dump_plan(fresh)) or {}
    try:
        doc = _yaml().load(user_text)
    except YAMLError as exc:
        raise UserError(f"{where}: cannot be read for re-planning: {exc}") from None
    if not isinstance(doc, CommentedMap):
        raise UserError(f"{where}: expected a mapping")
    out = Replanned("")
    for key in list(fresh_data):
        if key == "services":
            continue
        if key in ("apiVersion", "kind") or _get(doc, key) == _get(base, key):
            _set(doc, key, fresh_data[key])
    for key in [k for k in doc if k not in fresh_data and k != "services"]:
        if _get(doc, key) == _get(base, key):
            del doc[key]  # the generator dropped it and the user did not touch it
    _services(doc, base.get("services") or [], fresh_data.get("services") or [], out)
    stream = StringIO()
    _yaml().dump(doc, stream)
    out.text = stream.getvalue()
    load_plan(out.text, where)  # what we write must load
    return out


def _services(doc: CommentedMap, base: list[Any], fresh: list[Any], out: Replanned) -> None:
    by_base = {s.get("id"): s for s in base if isinstance(s, dict)}
    by_fresh = {s.get("id"): s for s in fresh if isinstance(s, dict)}
    mine = doc.get("services")
    if not isinstance(mine, CommentedSeq):
        mine = CommentedSeq()
        doc["services"] = mine
    seen = set()
    for svc in mine:
        sid = svc.get("id") if isinstance(svc, dict) else None
        seen.add(sid)
        if sid in by_fresh:
            kept = _service(svc, by_base.get(sid) or {}, by_fresh[sid])
            if kept:
                out.kept[str(sid)] = kept
            if svc.get("gone"):
                del svc["gone"]
        elif sid in by_base and not svc.get("gone"):
            svc["gone"] = True  # it was ours and the inventory no longer has it
            out.gone.append(str(sid))
    for sid, svc in by_fresh.items():
        if sid in seen:
            continue
        if sid in by_base:
            out.dropped.append(str(sid))  # the user deleted it
            continue
        mine.append(_commented(svc))
        out.added.append(str(sid))


def _service(svc: CommentedMap, base: dict[str, Any], fresh: dict[str, Any]) -> list[str]:
    pinned = [str(x) for x in svc.get("user_fields") or []]
    users = list(pinned)
    keys = list(dict.fromkeys([*svc.keys(), *fresh.keys(), *base.keys()]))
    for key in keys:
        if key in BOOKKEEPING:
            continue
        mine, was, new = svc.get(key, _MISSING), base.get(key, _MISSING), fresh.get(key, _MISSING)
        if key not in GENERATED and (key in pinned or mine != was):
            if key not in users:
                users.append(key)
            continue  # the user's value (or the user's deletion) stays
        if new is _MISSING:
            svc.pop(key, None)
        elif mine != new:
            _set(svc, key, new)
    if users:
        svc["user_fields"] = CommentedSeq(sorted(users))
    return sorted(users)


def _get(data: Any, key: str) -> Any:
    return data.get(key, _MISSING) if isinstance(data, dict) else _MISSING


def _set(doc: CommentedMap, key: str, value: Any) -> None:
    """Set KEY keeping its place (and the comments around it); a new key goes last."""
    doc[key] = _commented(value)


def _commented(value: Any) -> Any:
    if isinstance(value, dict):
        m = CommentedMap()
        for k, v in value.items():
            m[k] = _commented(v)
        return m
    if isinstance(value, list):
        return CommentedSeq(_commented(v) for v in value)
    return value
