"""A readiness rule: a record (id, title, category, severity, weight, effort, remediation,
links) and a small function over the inventory that says where it fires and why."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from importlib.metadata import entry_points

from modernize.errors import RegistryError, UserError
from modernize.model import Inventory, Service
from modernize.plan.model import Plan

GROUP = "modernize.rules"
SEVERITIES = ("blocker", "major", "minor", "info")
MIGRATION = ("mandatory", "optional", "potential")  # Konveyor's rule categories
CATEGORIES = (
    "host coupling", "process model", "state", "configuration", "identity and access", "software",
    "operations", "coverage",
)  # fmt: skip


@dataclass(frozen=True)
class Hit:
    """Where a rule fired: a service (None: the host), what it saw, and the evidence."""

    service: str | None
    message: str
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Context:
    inventory: Inventory
    plan: Plan | None
    as_of: date

    def services(self) -> Iterator[Service]:
        """The services a grade is about: what runs an app, not the host's plumbing."""
        return (s for s in self.inventory.services if not s.plumbing)


Check = Callable[[Context], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    category: str
    severity: str
    effort_hours: float
    assumptions: str
    remediation: str
    check: Check = field(repr=False, compare=False)
    links: tuple[str, ...] = ()
    weight: int | None = None  # default from the severity
    needs_plan: bool = False
    migration: str | None = None  # Konveyor's category; default from the severity
    labels: tuple[str, ...] = ()  # extra key=value labels to filter by

    @property
    def migration_category(self) -> str:
        """Konveyor's reading: mandatory (must change to run in a container), optional
        (should change), potential (worth a look)."""
        return self.migration or {"blocker": "mandatory", "major": "mandatory", "minor": "optional"}.get(
            self.severity, "potential"
        )

    @property
    def all_labels(self) -> list[str]:
        slug = self.category.replace(" ", "-")
        return ["konveyor.io/source=linux", "konveyor.io/target=containers", f"modernize.dev/category={slug}",
                *self.labels]  # fmt: skip

    @property
    def score_weight(self) -> int:
        return (
            self.weight
            if self.weight is not None
            else {"blocker": 40, "major": 15, "minor": 5, "info": 0}[self.severity]
        )

    def record(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "category": self.category,
            "severity": self.severity,
            "weight": self.score_weight,
            "effort_hours": self.effort_hours,
            "assumptions": self.assumptions,
            "remediation": self.remediation,
            "links": list(self.links),
            "needs_plan": self.needs_plan,
            "migration": self.migration_category,
            "labels": self.all_labels,
        }


class RuleSet:
    """The installed rules (entry-point group `modernize.rules`; each entry is a Rule
    or a list of them), selected by id or category."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules: dict[str, Rule] = {}
        for r in rules:
            if r.id in self.rules:
                raise RegistryError(f"rule id {r.id} is defined twice")
            if r.migration not in (None, *MIGRATION):
                raise RegistryError(f"rule {r.id}: migration must be one of {', '.join(MIGRATION)}")
            if r.severity not in SEVERITIES or r.category not in CATEGORIES:
                raise RegistryError(f"rule {r.id}: unknown severity {r.severity!r} or category {r.category!r}")
            self.rules[r.id] = r

    @classmethod
    def installed(cls) -> RuleSet:
        found: list[Rule] = []
        for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
            try:
                obj = ep.load()
            except Exception as exc:  # a broken plugin is named, not a traceback
                raise RegistryError(f"rules {ep.name!r} failed to load: {exc}") from exc
            found.extend(obj if isinstance(obj, list | tuple) else [obj])
        return cls(found)

    def select(self, only: Iterable[str] = (), skip: Iterable[str] = ()) -> RuleSet:
        only, skip = list(only), list(skip)
        known = set(self.rules) | {r.category for r in self.rules.values()}
        for name in [*only, *skip]:
            if name not in known:
                raise UserError(f"no rule or category {name!r} (see `modernize rules list`)")

        def picked(r: Rule, names: list[str]) -> bool:
            return r.id in names or r.category in names

        return RuleSet(r for r in self.rules.values() if (not only or picked(r, only)) and not picked(r, skip))

    def __iter__(self) -> Iterator[Rule]:
        return iter(sorted(self.rules.values(), key=lambda r: r.id))

    def __len__(self) -> int:
        return len(self.rules)
