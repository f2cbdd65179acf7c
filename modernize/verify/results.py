"""What verify found, per service: a table on the terminal, OUT/verify/verify.json,
the logs of what failed, and with --suggest a plan with the missing volumes."""

from __future__ import annotations

import dataclasses
import json
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from modernize.plan.io import dump_plan
from modernize.plan.model import Decision, Plan, VolumePlan
from modernize.verify.probes import ProbeResult
from modernize.verify.state import Written

VERIFY_VERSION = "1.0"


@dataclass
class ServiceResult:
    name: str
    software: str
    build: str = "-"  # ok, failed, image, shared with X, -
    started: str = "-"  # ok, failed, no
    healthy: str = "-"  # ok, failed
    probes: list[ProbeResult] = field(default_factory=list)
    restart: list[str] = field(default_factory=list)
    restart_ok: bool | None = None  # None: nothing stateful to check, or not reached
    written: list[Written] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    log_tail: str = ""
    note: str = ""  # why it was not verified at all
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def up(self) -> bool:
        return self.started == "ok" and self.healthy == "ok"

    @property
    def failed(self) -> bool:
        if self.note:
            return False
        return bool(self.problems) or any(not p.ok for p in self.probes) or self.restart_ok is False

    def row(self) -> list[str]:
        passed = sum(p.ok for p in self.probes)
        probes = f"{passed}/{len(self.probes)}" if self.probes else "-"
        restart = {None: "-", True: "kept", False: "LOST"}[self.restart_ok]
        state = str(sum(not w.runtime for w in self.written)) if self.written else "0"
        if self.note:
            return [self.name, "skipped", "", "", "", "", ""]
        return [self.name, self.build, self.started, self.healthy, probes, restart, state]


@dataclass
class Outcome:
    engine: str
    services: list[ServiceResult]
    left_behind: list[str]
    kept: bool = False
    containers: dict[str, str] = field(default_factory=dict)
    suggested: bool = False
    prefix: str = ""  # every container, volume, network and image verify made starts with it

    @property
    def ok(self) -> bool:
        return not self.left_behind and not any(s.failed for s in self.services)

    def table(self) -> str:
        head = ["SERVICE", "BUILT", "STARTED", "HEALTHY", "PROBES", "RESTART", "WRITES OUTSIDE VOLUMES"]
        rows = [head, *(s.row() for s in self.services)]
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
        for s in self.services:
            if s.note:
                lines.append(f"\n{s.name}: not verified: {s.note}")
            for w in s.written:
                kind = "runtime files (no volume needed)" if w.runtime else "state written outside a volume"
                lines.append(f"{s.name}: {kind}: {w.path} ({', '.join(w.files[:3])})")
            if not s.failed:
                continue
            lines.append(f"\n== {s.name}: FAILED")
            lines += [f"  {p}" for p in s.problems]
            lines += [f"  probe {p.probe}: {p.answer}" for p in s.probes if not p.ok]
            lines += [f"  restart: {m}" for m in s.restart if s.restart_ok is False]
            if s.log_tail:
                lines.append("  --- log tail")
                lines += [f"  {ln}" for ln in s.log_tail.splitlines()[-25:]]
        if self.left_behind:
            lines.append("\ncould not remove: " + ", ".join(self.left_behind))
        if self.kept:
            lines.append("\n--keep: left running: " + ", ".join(sorted(self.containers.values())))
        lines.append("\nverify: " + ("all services passed" if self.ok else "FAILED"))
        return "\n".join(lines)

    def data(self) -> dict[str, object]:
        return {
            "verify_version": VERIFY_VERSION,
            "engine": self.engine,
            "ok": self.ok,
            "services": [
                {
                    "name": s.name,
                    "software": s.software,
                    "verified": not s.note,
                    "note": s.note or None,
                    "build": s.build,
                    "started": s.started,
                    "healthy": s.healthy,
                    "probes": [dataclasses.asdict(p) for p in s.probes],
                    "restart": {"kept": s.restart_ok, "checks": s.restart},
                    "written_outside_volumes": [dataclasses.asdict(w) for w in s.written],
                    "problems": s.problems,
                    "notes": s.notes,
                    "seconds": s.seconds,
                    "failed": s.failed,
                }
                for s in self.services
            ],
            "left_behind": self.left_behind,
            "names_prefix": self.prefix,
        }


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def write(outcome: Outcome, out: Path, plan: Plan, password: str) -> Path:
    """OUT/verify/: verify.json, logs/<service>.log for what failed, and with --suggest
    plan.suggested.yaml. The run's throwaway password never reaches them."""
    folder = out / "verify"
    (folder / "logs").mkdir(parents=True, exist_ok=True)
    for old in (folder / "logs").glob("*.log"):
        old.unlink()

    def clean(text: str) -> str:
        return text.replace(password, "********")  # the only secret the copy held

    text = json.dumps(outcome.data(), indent=2, sort_keys=True) + "\n"
    (folder / "verify.json").write_text(clean(text), encoding="utf-8")
    for s in outcome.services:
        if s.log_tail:
            (folder / "logs" / f"{_safe(s.name)}.log").write_text(clean(s.log_tail) + "\n", encoding="utf-8")
    if outcome.suggested:
        (folder / "plan.suggested.yaml").write_text(dump_plan(suggest(plan, outcome)), encoding="utf-8")
    return folder


def suggest(plan: Plan, outcome: Outcome) -> Plan:
    """The plan with a volume for every directory a service wrote outside its volumes
    (runtime files left out), each with the reason."""
    written = {s.name: [w for w in s.written if not w.runtime] for s in outcome.services}
    services = []
    for sp in plan.services:
        extra = written.get(sp.name) or []
        names = {v.name for v in sp.volumes}
        vols, why = list(sp.volumes), list(sp.why)
        for w in extra:
            base = f"{sp.name}-{_safe(posixpath.basename(w.path.rstrip('/')) or 'root')}".lower()
            name, n = base, 2
            while name in names:
                name, n = f"{base}-{n}", n + 1
            names.add(name)
            vols.append(VolumePlan(name=name, target=w.path, server_path=w.path, role="data"))
            why.append(Decision(f"volume {name}", "modernize verify saw the container write here", w.files[:3]))
        services.append(dataclasses.replace(sp, volumes=tuple(vols), why=tuple(why)) if extra else sp)
    return dataclasses.replace(plan, services=tuple(services))
