"""Run the rules over one host's inventory and grade it: service -> app -> host.

A service's score starts at 100 and loses each distinct rule's weight that fired on
it; a blocker caps it at 39. An app scores as its worst service (one blocker blocks
the move). The host scores as the mean of its apps, less the weights of host-level
findings. Fewer findings never lower a score, more never raise it (monotonic)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from modernize.model import Inventory
from modernize.plan.model import Plan
from modernize.readiness.rule import Context, Hit, Rule, RuleSet

GRADES = (
    ("A", 90, "ready: move now"),
    ("B", 75, "ready with small changes"),
    ("C", 60, "needs work"),
    ("D", 40, "major work"),
    ("E", 20, "hard: rearchitect parts"),
    ("F", 0, "not a container candidate: rehost or rebuild"),
)
BLOCKER_CAP = 39
HOST_WEIGHT_CAP = 15  # host-level findings (short of a blocker) take at most this much off
SCORING = (
    "Each service starts at 100 and loses the weight of each rule that fires on it (blocker 40, major 15, "
    "minor 5, info 0, unless a rule says otherwise); any blocker caps it at 39. An app (services that depend "
    "on each other) scores as its worst service: one blocker holds the whole app back. A host scores as the "
    "mean of its apps, less the weight of the findings about the host itself (kernel, mounts, accounts; "
    "at most 15); a blocker anywhere on the host caps it at 39 too. "
    "Effort adds up each rule's estimate once per service it fires on. A finding never raises a score."
)


def grade_of(score: int) -> str:
    return next(g for g, low, _ in GRADES if score >= low)


@dataclass
class Finding:
    rule: Rule
    hit: Hit


@dataclass
class ServiceGrade:
    id: str
    name: str
    kind: str
    software: str
    version: str | None
    app: str | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def score(self) -> int:
        rules = {f.rule.id: f.rule for f in self.findings}
        score = max(0, 100 - sum(r.score_weight for r in rules.values()))
        if any(r.severity == "blocker" for r in rules.values()):
            score = min(score, BLOCKER_CAP)
        return score

    @property
    def effort_hours(self) -> float:
        return sum({f.rule.id: f.rule.effort_hours for f in self.findings}.values())


@dataclass
class AppGrade:
    id: str
    services: list[ServiceGrade]

    @property
    def score(self) -> int:
        return min((s.score for s in self.services), default=100)

    @property
    def effort_hours(self) -> float:
        return sum(s.effort_hours for s in self.services)


@dataclass
class HostGrade:
    hostname: str
    os: str | None
    complete: bool
    services: list[ServiceGrade]
    apps: list[AppGrade]
    host_findings: list[Finding]
    failed_rules: list[str] = field(default_factory=list)

    @property
    def score(self) -> int:
        base = sum(a.score for a in self.apps) / len(self.apps) if self.apps else 100
        weights = sum({f.rule.id: f.rule.score_weight for f in self.host_findings}.values())
        score = max(0, round(base - min(HOST_WEIGHT_CAP, weights)))
        blocked = [*self.host_findings, *(f for s in self.services for f in s.findings)]
        if any(f.rule.severity == "blocker" for f in blocked):
            score = min(score, BLOCKER_CAP)  # a host with something that cannot move cannot be emptied
        return score

    @property
    def effort_hours(self) -> float:
        return sum(a.effort_hours for a in self.apps) + sum(
            {f.rule.id: f.rule.effort_hours for f in self.host_findings}.values()
        )


def assess(inventory: Inventory, rules: RuleSet, plan: Plan | None = None, as_of: date | None = None) -> HostGrade:
    ctx = Context(inventory, plan, as_of or date.today())
    graded = [s for s in inventory.services if not s.plumbing]
    services = {
        s.id: ServiceGrade(s.id, s.name, s.kind, s.software, s.version.upstream if s.version else None, s.app, [])
        for s in graded
    }
    host: list[Finding] = []
    failed: list[str] = []
    for rule in rules:
        if rule.needs_plan and plan is None:
            continue
        try:
            hits = list(rule.check(ctx))
        except Exception:  # noqa: BLE001 - a broken rule is reported, the others still run
            failed.append(rule.id)
            continue
        for hit in hits:
            target = services.get(hit.service) if hit.service else None
            (target.findings if target else host).append(Finding(rule, hit))
    apps: list[AppGrade] = []
    placed: set[str] = set()
    for app in inventory.apps:
        members = [services[s] for s in app.services if s in services]
        if members:
            apps.append(AppGrade(app.id, members))
            placed.update(m.id for m in members)
    for sid, svc in services.items():
        if sid not in placed:
            apps.append(AppGrade(f"app:{sid}", [svc]))
    os_info = inventory.host.os
    os_text = " ".join(x for x in (os_info.id, os_info.version_id) if x) or None
    if os_text and os_info.codename:
        os_text += f" ({os_info.codename})"
    return HostGrade(
        inventory.host.hostname or inventory.source.get("location", "host"),
        os_text,
        inventory.coverage.complete,
        list(services.values()),
        sorted(apps, key=lambda a: a.id),
        host,
        failed,
    )
