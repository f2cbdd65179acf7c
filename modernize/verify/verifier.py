"""`modernize verify OUT`: build every image, start the services in dependency order,
make the plan's probes, look where each container wrote, and check that the data
survives the container being replaced; then remove everything it made, by name."""

from __future__ import annotations

import os
import re
import secrets as random
import socket
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from modernize.plan.model import Plan, ServicePlan
from modernize.verify import databases, state
from modernize.verify.engine import Engine
from modernize.verify.probes import run_probe
from modernize.verify.project import PROXY_VARS, Project, build_secrets, command_of, deps_of, prepare, run_flags
from modernize.verify.results import Outcome, ServiceResult

# "open() "/var/x" failed (30: Read-only file system)", "[Errno 30] Read-only file system: '/x'"
_READ_ONLY = re.compile(
    r"""["'(]?(/[^\s"'():]+)["')]?[^\n]{0,80}?Read-only file system"""
    r"""|Read-only file system[^\n]{0,40}?["'(](/[^\s"'()]+)"""
)
DB_SOFTWARE = ("postgresql", "mysql", "mariadb")
SETTLE = 5.0  # a service with no healthcheck must stay up this long to count as started


def _published(spec: dict[str, Any], plan: ServicePlan | None) -> list[int]:
    """The container ports to publish on loopback: compose's and the probes'."""
    ports = set()
    for p in spec.get("ports") or []:
        text = str(p.get("target")) if isinstance(p, dict) else str(p)
        if "/udp" not in text:
            ports.add(int(text.rsplit(":", 1)[-1].split("/")[0].split("-")[0]))
    for probe in plan.probes if plan else ():
        if probe.kind in ("http", "tcp") and probe.port:
            ports.add(probe.port)
    return sorted(ports)


class Verifier:
    def __init__(self, project: Project, engine: Engine, timeout: float) -> None:
        self.p, self.engine, self.timeout = project, engine, timeout
        self.plans = {s.name: s for s in project.plan.services}
        self.results = {name: ServiceResult(name, self._software(name)) for name in project.order()}
        for name, why in project.skipped.items():
            self.results[name] = ServiceResult(name, self._software(name), note=why)
        self.images: dict[str, str] = {}
        self.containers: dict[str, str] = {}
        self.volumes: dict[str, str] = {}
        self.networks: list[str] = []
        self.publish: dict[str, list[int]] = {}

    def _software(self, name: str) -> str:
        plan = self.plans.get(name)
        return plan.software if plan else "?"

    # -- build -------------------------------------------------------------------
    def build_all(self) -> None:
        """One image per build context (a worker that runs its app's image shares it);
        in parallel, since builds wait on package mirrors as much as on the CPU."""
        contexts: dict[tuple[str, str], list[str]] = {}
        for name, spec in self.p.services.items():
            build = spec.get("build")
            if build is None:
                self.results[name].build = "image"
                self.images[name] = str(spec.get("image", ""))
                continue
            ctx = build if isinstance(build, str) else build.get("context", ".")
            dockerfile = "" if isinstance(build, str) else str(build.get("dockerfile", ""))
            contexts.setdefault((str((self.p.work / ctx).resolve()), dockerfile), []).append(name)
        build_args = {k: os.environ[k] for k in PROXY_VARS if os.environ.get(k)}

        def one(key: tuple[str, str], names: list[str]) -> None:
            context, dockerfile = key
            tag = f"localhost/{self.p.name(names[0])}:verify"
            began = time.monotonic()
            secrets = build_secrets(self.p, self.p.services[names[0]])
            file = str(Path(context) / dockerfile) if dockerfile else None
            c = self.engine.build(context, tag, file, build_args, secrets, 3600)
            took = time.monotonic() - began
            for n in names:
                r = self.results[n]
                r.build = ("ok" if n == names[0] else f"shared with {names[0]}") if c.ok else "failed"
                r.seconds["build"] = round(took, 1)
                if c.ok:
                    self.images[n] = tag
                else:
                    r.problems.append(f"build failed: {_failed_step(c.tail(6000))}")
                    r.log_tail = c.tail(4000)

        with ThreadPoolExecutor(max_workers=min(4, len(contexts) or 1)) as pool:
            for job in [pool.submit(one, key, names) for key, names in contexts.items()]:
                job.result()

    # -- start ---------------------------------------------------------------------
    def start_all(self) -> None:
        net = self.p.name("net")
        made = self.engine.network_create(net)
        if not made.ok:
            raise RuntimeError(f"{self.engine.name} network create {net} failed: {made.tail(500)}")
        self.networks.append(net)
        for vol in sorted(self.p.compose.get("volumes") or {}):
            name = self.p.name(vol)
            if self.engine.volume_create(name).ok:
                self.volumes[vol] = name
        for name in self.p.order():
            self._start(name)

    def _start(self, name: str) -> None:
        r, spec = self.results[name], self.p.services[name]
        if name not in self.images:
            r.started = "no"
            r.problems.append("not started: no image")
            return
        failed_deps = [d for d in deps_of(spec) if self.results.get(d) and not self.results[d].up]
        self.publish[name] = _published(spec, self.plans.get(name))
        container = self.p.name(name)
        flags = run_flags(self.p, name, self.volumes, self.publish[name])
        began = time.monotonic()
        c = self.engine.run(container, self.images[name], flags, command_of(spec))
        if not c.ok:
            r.started = "failed"
            r.problems.append(f"{self.engine.name} run failed: {c.tail(800)}")
            return
        self.containers[name] = container
        r.started = "ok"
        ok, why = self._wait_ready(name, container, began)
        r.seconds["ready"] = round(time.monotonic() - began, 1)
        r.healthy = "ok" if ok else "failed"
        if not ok:
            r.problems.append(why + (f" (after failed dependencies: {', '.join(failed_deps)})" if failed_deps else ""))
            r.log_tail = self.engine.logs(container)
            if spec.get("read_only"):
                m = _READ_ONLY.search(r.log_tail)
                if m:
                    r.problems.append(f"read_only: it tried to write {m[1] or m[2]}: give that path a volume or tmpfs")
            return
        if r.software in DB_SOFTWARE:
            self._logins(name, container)

    def _wait_ready(self, name: str, container: str, began: float) -> tuple[bool, str]:
        """Healthy by the image's or compose's healthcheck, run by hand; with none, up
        and accepting connections on every published port, and still up a few seconds on."""
        deadline = began + self.timeout
        spec = self.p.services[name]
        check = spec.get("healthcheck") or {}
        has_check = not check.get("disable") and (
            bool(check.get("test")) or self.engine.has_healthcheck(self.images[name])
        )
        last = ""
        while True:
            if not self.engine.running(container):
                return False, "the container stopped"
            if has_check:
                c = self.engine.health(container)
                if c.ok:
                    return True, ""
                last = c.tail(300)
            else:
                closed = [p for p in self.publish[name] if not _connects(self.engine.host_port(container, p))]
                if not closed and time.monotonic() > began + SETTLE:
                    return True, ""
                last = f"not listening on {', '.join(map(str, closed))}" if closed else ""
            if time.monotonic() > deadline:
                return False, f"not healthy after {self.timeout:.0f} s" + (f": {last}" if last else "")
            time.sleep(1.0)

    def _logins(self, name: str, container: str) -> None:
        r = self.results[name]
        settings = {other: databases.settings_of(self.p, other) for other in self.p.services if other != name}
        for login in databases.logins_for(name, r.software, settings):
            c = databases.create(self.engine, container, r.software, login)
            what = f"role {login.user}" + (f" and database {login.database}" if login.database else "")
            if c.ok:
                r.notes.append(f"made {what} for {login.wanted_by}")
            else:
                r.problems.append(f"could not make {what} for {login.wanted_by}: {c.tail(400)}")

    # -- probes, diff, restart -------------------------------------------------------
    def probe_all(self) -> None:
        for name, container in self.containers.items():
            plan = self.plans.get(name)
            deadline = time.monotonic() + min(30.0, self.timeout)
            for probe in plan.probes if plan else ():
                self.results[name].probes.append(run_probe(self.engine, container, probe, deadline))
            if any(not p.ok for p in self.results[name].probes) and not self.results[name].log_tail:
                self.results[name].log_tail = self.engine.logs(container)

    def diff_all(self) -> None:
        for name, container in self.containers.items():
            derived = state.derived_paths(self.plans.get(name))
            self.results[name].written = state.written_outside(self.engine.diff(container), self._mounts(name), derived)

    def _mounts(self, name: str) -> list[str]:
        spec = self.p.services[name]
        mounts = []
        for vol in spec.get("volumes") or []:
            target = vol.split(":")[1] if isinstance(vol, str) else vol["target"]
            mounts.append(target)
        tmpfs = spec.get("tmpfs") or []
        mounts += [str(t).split(":")[0] for t in ([tmpfs] if isinstance(tmpfs, str) else tmpfs)]
        for sec in spec.get("secrets") or []:
            name_ = sec if isinstance(sec, str) else sec["source"]
            mounts.append((sec.get("target") if isinstance(sec, dict) else None) or f"/run/secrets/{name_}")
        return mounts

    def restart_all(self) -> None:
        """Leave a marker, replace the container (remove it, run it again with the same
        volumes), wait until it is ready, read the marker."""
        for name, container in list(self.containers.items()):
            r, plan = self.results[name], self.plans.get(name)
            if plan is None or not r.up:
                continue
            token = "mzv" + random.token_hex(6)
            markers = state.marker_for(plan, token, self.p.password)
            left = []
            for m in markers:
                c = state.leave(self.engine, container, m)
                if c.ok:
                    left.append(m)
                else:
                    r.restart.append(f"{m.how}: could not be written ({c.tail(300)})")
            if not left:
                continue
            self.engine.remove([container], [], [])
            began = time.monotonic()
            c = self.engine.run(container, self.images[name], run_flags(self.p, name, self.volumes, self.publish[name]),
                                command_of(self.p.services[name]))  # fmt: skip
            ok, why = (
                (False, f"could not run it again: {c.tail(500)}")
                if not c.ok
                else self._wait_ready(name, container, began)
            )
            if not ok:
                r.restart_ok = False
                r.restart.append(f"not ready after the restart: {why}")
                r.log_tail = self.engine.logs(container)
                continue
            results = [state.still_there(self.engine, container, m, token) for m in left]
            r.restart += [msg for _, msg in results]
            r.restart_ok = all(kept for kept, _ in results)

    def teardown(self, keep: bool) -> list[str]:
        if keep:
            return []
        left = self.engine.remove(list(self.containers.values()), list(self.volumes.values()), self.networks)
        for tag in sorted(set(t for n, t in self.images.items() if self.results[n].build == "ok")):
            self.engine.remove_image(tag)
        return left


def _connects(port: int | None) -> bool:
    if port is None:
        return False
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return True
    except OSError:
        return False


def _failed_step(log: str) -> str:
    """The build step that failed and its last lines of output."""
    steps = [ln for ln in log.splitlines() if re.match(r"^(STEP \d+/\d+: |#\d+ \[|Step \d+/\d+ : )", ln)]
    tail = "\n".join(log.splitlines()[-12:])
    return (f"{steps[-1]}\n" if steps else "") + tail


def verify(
    out: Path,
    engine: Engine,
    *,
    keep: bool = False,
    suggest: bool = False,
    image_map: list[str] | None = None,
    ca_cert: str | None = None,
    timeout: float = 120.0,
    echo: Callable[[str], None] = lambda s: None,
) -> tuple[Outcome, Plan, str]:
    """Returns what was found, the plan it read, and the run's throwaway password (to
    keep it out of what is written and printed)."""
    with tempfile.TemporaryDirectory(prefix="modernize-verify-") as tmp:
        project = prepare(out, Path(tmp) / "out", engine.name, image_map or [], ca_cert)
        v = Verifier(project, engine, timeout)
        echo(f"verify: building {len(project.services)} service(s) with {engine.name}")
        v.build_all()
        left: list[str] = []
        if engine.runs:
            try:
                echo("verify: starting in dependency order")
                v.start_all()
                v.probe_all()
                v.diff_all()
                echo("verify: replacing stateful containers to check their data stays")
                v.restart_all()
            finally:
                left = v.teardown(keep)
        outcome = Outcome(engine.name, [v.results[n] for n in sorted(v.results)], left, keep,
                          dict(v.containers) if keep else {})  # fmt: skip
        outcome.suggested = suggest
        outcome.prefix = project.prefix
    return outcome, project.plan, project.password
