"""A service's plan under construction: the planner and the per-software knowledge
fill it in, then `freeze` turns it into the immutable ServicePlan."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from modernize.model import Inventory, Service
from modernize.plan.images import ImageEntry, ImageMap
from modernize.plan.model import (
    Decision,
    EnvPlan,
    FileCopy,
    Hardening,
    Healthcheck,
    Job,
    Link,
    PackagePin,
    PlanFinding,
    PortPlan,
    Probe,
    ServicePlan,
    VolumePlan,
)


def _merge_copies(files: list[FileCopy]) -> list[FileCopy]:
    """One copy per (source, target): two reasons to copy a directory (an app in the
    web server, content it serves) make one COPY, leaving out what either leaves out."""
    from dataclasses import replace

    out: dict[tuple[str, str, bool], FileCopy] = {}
    for f in files:
        key = (f.source, f.target, f.secret)
        if key in out:
            old = out[key]
            out[key] = replace(
                old,
                exclude=tuple(sorted(set(old.exclude) | set(f.exclude))),
                rewrites=old.rewrites + tuple(r for r in f.rewrites if r not in old.rewrites),
                redact=tuple(sorted(set(old.redact) | set(f.redact))),
            )
        else:
            out[key] = f
    return list(out.values())


@dataclass
class Context:
    """What every service's planning may look at."""

    inventory: Inventory
    images: ImageMap
    names: dict[str, str]  # service id -> compose name
    strategy: str | None  # --strategy: official, distro, lift, or None for the default
    findings: list[PlanFinding] = field(default_factory=list)
    knowledge: dict[str, Any] = field(default_factory=dict)  # software -> Knowledge
    # app id -> the server it runs inside, over every service the inventory has (the probes'
    # health routes look through them), made once per plan
    inside: dict[str, str] = field(default_factory=dict)

    @functools.cached_property
    def changed(self) -> frozenset[str]:
        """Paths changed from their package or owned by none: what an image must carry."""
        return frozenset(c.path for c in self.inventory.config_changes if c.status in ("modified", "unowned"))

    @property
    def family(self) -> str | None:
        return self.inventory.host.os.family

    def package_version(self, name: str) -> str | None:
        for p in self.inventory.packages:
            if p.name == name and p.manager != "none":
                return p.version.raw
        return None

    def user_ids(self, name: str | None) -> tuple[int, int, str] | None:
        """(uid, gid, group name) of a server user."""
        if not name:
            return None
        for u in self.inventory.users:
            if u.name == name:
                group = next((g.name for g in self.inventory.groups if g.gid == u.gid), name)
                return u.uid, u.gid, group
        return None

    def finding(self, level: str, code: str, message: str, service: str | None, evidence: tuple[str, ...] = ()) -> None:
        self.findings.append(PlanFinding(level, code, message, service, evidence))


@dataclass
class Draft:
    svc: Service
    name: str
    strategy: str
    entry: ImageEntry | None = None
    image: str | None = None
    build_from: str | None = None
    packages: list[PackagePin] = field(default_factory=list)
    libraries: list[str] = field(default_factory=list)
    runtime: str | None = None
    files: list[FileCopy] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    setup: list[str] = field(default_factory=list)
    install: list[str] = field(default_factory=list)
    user: str | None = None
    workdir: str | None = None
    command: tuple[str, ...] = ()
    ports: list[PortPlan] = field(default_factory=list)
    volumes: list[VolumePlan] = field(default_factory=list)
    env: list[EnvPlan] = field(default_factory=list)
    healthcheck: Healthcheck | None = None
    depends_on: list[str] = field(default_factory=list)
    hardening: Hardening = field(default_factory=Hardening)
    probes: list[Probe] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    logs_to_stdout: list[str] = field(default_factory=list)
    size_estimate_mb: int | None = None
    replacement: str | None = None
    profiles: list[str] = field(default_factory=list)
    why: list[Decision] = field(default_factory=list)
    installed: list[str] = field(default_factory=list)  # directories a package the image installs provides

    def decide(self, what: str, why: str, evidence: tuple[str, ...] = ()) -> None:
        self.why.append(Decision(what, why, evidence))

    def port(self, number: int) -> bool:
        return any(p.port == number for p in self.ports)

    def freeze(self) -> ServicePlan:
        return ServicePlan(
            id=self.svc.id,
            name=self.name,
            software=self.svc.software,
            kind=self.svc.kind,
            strategy=self.strategy,
            image=self.image,
            build_from=self.build_from,
            packages=tuple(self.packages),
            libraries=tuple(self.libraries),
            runtime=self.runtime,
            files=tuple(sorted(_merge_copies(self.files), key=lambda f: (f.target, f.source))),
            links=tuple(sorted(set(self.links), key=lambda x: x.path)),
            setup=tuple(self.setup),
            install=tuple(self.install),
            user=self.user,
            workdir=self.workdir,
            command=self.command,
            ports=tuple(sorted(set(self.ports), key=lambda p: (p.port, p.proto))),
            volumes=tuple(sorted(self.volumes, key=lambda v: v.target)),
            env=tuple(sorted(self.env, key=lambda e: e.name)),
            healthcheck=self.healthcheck,
            depends_on=tuple(sorted(set(self.depends_on))),
            hardening=self.hardening,
            probes=tuple(self.probes),
            jobs=tuple(sorted(self.jobs, key=lambda j: (j.source, j.command))),
            logs_to_stdout=tuple(sorted(set(self.logs_to_stdout))),
            size_estimate_mb=self.size_estimate_mb,
            replacement=self.replacement,
            profiles=tuple(self.profiles),
            why=tuple(self.why),
        )
