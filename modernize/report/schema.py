"""The JSON Schema of report.json (`modernize schema report`)."""

from __future__ import annotations

from typing import Any

from modernize.report.build import REPORT_VERSION

_STR = {"type": "string"}
_NUM = {"type": "number"}
_INT = {"type": "integer"}
_GRADE = {"enum": ["A", "B", "C", "D", "E", "F"]}
_SEVERITY = {"enum": ["blocker", "major", "minor", "info"]}


def _obj(props: dict[str, Any], *optional: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": [k for k in props if k not in optional],
        "additionalProperties": False,
    }


FINDING = _obj(
    {
        "rule": _STR, "severity": _SEVERITY, "title": _STR, "message": _STR,
        "evidence": {"type": "array", "items": _STR}, "remediation": _STR,
        "links": {"type": "array", "items": _STR},
    }
)  # fmt: skip


def report_schema() -> dict[str, Any]:
    major = REPORT_VERSION.partition(".")[0]
    service = _obj(
        {
            "id": _STR, "name": _STR, "kind": _STR, "software": _STR, "version": {"type": ["string", "null"]},
            "app": {"type": ["string", "null"]}, "plumbing": {"type": "boolean"}, "score": _INT, "grade": _GRADE,
            "effort_hours": _NUM, "findings": {"type": "array", "items": FINDING},
        }
    )  # fmt: skip
    app = _obj(
        {"id": _STR, "services": {"type": "array", "items": _STR}, "score": _INT, "grade": _GRADE, "effort_hours": _NUM}
    )
    host = _obj(
        {
            "hostname": _STR, "os": {"type": ["string", "null"]}, "complete": {"type": "boolean"}, "score": _INT,
            "grade": _GRADE, "effort_hours": _NUM, "failed_rules": {"type": "array", "items": _STR},
            "apps": {"type": "array", "items": app}, "services": {"type": "array", "items": service},
            "host_findings": {"type": "array", "items": FINDING},
        }
    )  # fmt: skip
    rule = _obj(
        {
            "id": _STR, "title": _STR, "category": _STR, "severity": _SEVERITY, "weight": _INT, "effort_hours": _NUM,
            "assumptions": _STR, "remediation": _STR, "links": {"type": "array", "items": _STR},
            "needs_plan": {"type": "boolean"},
            "migration": {"enum": ["mandatory", "optional", "potential"]}, "labels": {"type": "array", "items": _STR},
        }
    )  # fmt: skip
    summary = _obj(
        {
            "hosts": _INT, "apps": _INT, "services": _INT, "incomplete_hosts": {"type": "array", "items": _STR},
            "grade_counts": {"type": "object", "additionalProperties": _INT}, "effort_hours": _NUM,
            "top_blockers": {"type": "array", "items": _obj(
                {"rule": _STR, "title": _STR, "severity": _SEVERITY, "count": _INT})},
            "move_first": {"type": "array", "items": _obj(
                {"host": _STR, "app": _STR, "grade": _GRADE, "score": _INT, "effort_hours": _NUM})},
        }
    )  # fmt: skip
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://modernize.dev/schema/report-{major}.json",
        "title": "modernize readiness report",
        **_obj(
            {
                "schema_version": {"type": "string", "pattern": rf"^{major}\.[0-9]+$"}, "tool_version": _STR,
                "as_of": {"type": "string", "format": "date"},
                "grades": {"type": "array", "items": _obj({"grade": _GRADE, "min_score": _INT, "label": _STR})},
                "scoring": _STR, "summary": summary, "rules": {"type": "object", "additionalProperties": rule},
                "hosts": {"type": "array", "items": host},
            }
        ),
    }  # fmt: skip
