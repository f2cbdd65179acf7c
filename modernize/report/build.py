"""Hosts' grades -> the report's data (what report.json holds and the views show)."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import date
from typing import Any

from modernize import __version__
from modernize.readiness.assess import GRADES, SCORING, Finding, HostGrade, grade_of
from modernize.readiness.rule import RuleSet

REPORT_VERSION = "1.0"
_SEVERITY_ORDER = {"blocker": 0, "major": 1, "minor": 2, "info": 3}


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule.id,
        "severity": f.rule.severity,
        "title": f.rule.title,
        "message": f.hit.message,
        "evidence": list(f.hit.evidence),
        "remediation": f.rule.remediation,
        "links": list(f.rule.links),
    }


def _sorted(findings: list[Finding]) -> list[dict[str, Any]]:
    return [
        _finding(f)
        for f in sorted(findings, key=lambda f: (_SEVERITY_ORDER[f.rule.severity], f.rule.id, f.hit.message))
    ]


def build(hosts: list[HostGrade], rules: RuleSet, as_of: date) -> dict[str, Any]:
    hosts = sorted(hosts, key=lambda h: h.hostname)
    grade_counts = Counter(grade_of(s.score) for h in hosts for s in h.services)
    blockers: Counter[str] = Counter()
    for h in hosts:
        for f in [*h.host_findings, *(f for s in h.services for f in s.findings)]:
            if f.rule.severity in ("blocker", "major"):
                blockers[f.rule.id] += 1
    by_id = {r.id: r for r in rules}
    top = sorted(blockers.items(), key=lambda kv: (_SEVERITY_ORDER[by_id[kv[0]].severity], -kv[1], kv[0]))[:10]
    apps = [(h, a) for h in hosts for a in h.apps]
    move_first = sorted(apps, key=lambda ha: (-ha[1].score, ha[1].effort_hours, ha[0].hostname, ha[1].id))[:10]
    names = {s.id: s.name for h in hosts for s in h.services}
    return {
        "schema_version": REPORT_VERSION,
        "tool_version": __version__,
        "as_of": as_of.isoformat(),
        "grades": [{"grade": g, "min_score": low, "label": label} for g, low, label in GRADES],
        "scoring": SCORING,
        "summary": {
            "hosts": len(hosts),
            "apps": len(apps),
            "services": sum(len(h.services) for h in hosts),
            "incomplete_hosts": [h.hostname for h in hosts if not h.complete],
            "grade_counts": {g: grade_counts.get(g, 0) for g, _, _ in GRADES},
            "effort_hours": round(sum(h.effort_hours for h in hosts), 1),
            "top_blockers": [
                {"rule": rid, "title": by_id[rid].title, "severity": by_id[rid].severity, "count": n} for rid, n in top
            ],
            "move_first": [
                {
                    "host": h.hostname,
                    "app": a.id,
                    "grade": grade_of(a.score),
                    "score": a.score,
                    "effort_hours": round(a.effort_hours, 1),
                }
                for h, a in move_first
            ],
        },
        "rules": {r.id: r.record() for r in rules},
        "hosts": [
            {
                "hostname": h.hostname,
                "os": h.os,
                "complete": h.complete,
                "score": h.score,
                "grade": grade_of(h.score),
                "effort_hours": round(h.effort_hours, 1),
                "failed_rules": h.failed_rules,
                "apps": [
                    {
                        "id": a.id,
                        "services": [names[s.id] for s in a.services],
                        "score": a.score,
                        "grade": grade_of(a.score),
                        "effort_hours": round(a.effort_hours, 1),
                    }
                    for a in h.apps
                ],
                "services": [
                    {
                        "id": s.id,
                        "name": s.name,
                        "kind": s.kind,
                        "software": s.software,
                        "version": s.version,
                        "app": s.app,
                        "plumbing": False,
                        "score": s.score,
                        "grade": grade_of(s.score),
                        "effort_hours": round(s.effort_hours, 1),
                        "findings": _sorted(s.findings),
                    }
                    for s in sorted(h.services, key=lambda s: s.id)
                ],
                "host_findings": _sorted(h.host_findings),
            }
            for h in hosts
        ],
    }


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def services_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(
        ["host", "app", "service", "kind", "software", "version", "grade", "score", "effort_hours", "top_blockers"]
    )
    for h in report["hosts"]:
        for s in h["services"]:
            worst = [f["rule"] for f in s["findings"] if f["severity"] in ("blocker", "major")][:3]
            w.writerow([h["hostname"], s["app"] or "", s["name"], s["kind"], s["software"], s["version"] or "",
                        s["grade"], s["score"], s["effort_hours"], " ".join(worst)])  # fmt: skip
    return out.getvalue()


def findings_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["host", "service", "rule", "severity", "title", "message", "evidence", "remediation"])
    for h in report["hosts"]:
        rows = [(None, f) for f in h["host_findings"]] + [(s["name"], f) for s in h["services"] for f in s["findings"]]
        for service, f in rows:
            w.writerow([h["hostname"], service or "", f["rule"], f["severity"], f["title"], f["message"],
                        " ".join(f["evidence"]), f["remediation"]])  # fmt: skip
    return out.getvalue()
