"""The distro-strategy output of fixtures/python-web, built and started for real.

`modernize run --strategy distro` writes one Dockerfile per service and a compose.yaml.
Nothing here runs Docker Compose (podman 4.3 has none that honours depends_on
conditions): the test reads compose.yaml and does what `docker compose up` would, with
buildah and podman (tests/containers.py): it builds every service with a `build`,
writes throwaway secrets, starts the services on one network in dependency order with
the compose environment, volumes, secrets and hardening, and checks that every server
listens, that the worker stays up and that redis keeps its data over a restart.

`restart:` is deliberately not translated: a crash loop must show, not be hidden.
"""

from __future__ import annotations

import json
import re
import secrets
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import containers as ct
from tests.containers import container_rig  # noqa: F401  (registers the session fixture here)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("container_rig")]

FIXTURE = ct.REPO / "fixtures" / "python-web" / "root"
LISTEN_TIMEOUT = 30.0
WORKER_SETTLE = 10.0
SELF_SIGNED = ("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=test", "-days", "1")
_VAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}")


def _subst(value: Any, env: Mapping[str, str]) -> str:
    """Compose's ${VAR} and ${VAR:-default} interpolation."""
    return _VAR_RE.sub(lambda m: env.get(m[1]) or (m[2] or ""), str(value))


def _tail(container: str, limit: int = 3000) -> str:
    return f"--- podman logs {container} (tail)\n{ct.logs(container)[-limit:]}"


@dataclass
class Stack:
    out: Path
    compose: dict[str, Any]
    password: str
    env: dict[str, str]
    network: str = ""
    images: dict[str, str] = field(default_factory=dict)  # service -> image tag
    containers: dict[str, str] = field(default_factory=dict)  # service -> container name
    volumes: dict[str, str] = field(default_factory=dict)  # compose volume -> podman volume
    ports: dict[str, list[int]] = field(default_factory=dict)  # service -> container ports
    timings: dict[str, float] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)  # service -> why it did not start

    @property
    def services(self) -> dict[str, Any]:
        return self.compose["services"]

    def names(self) -> list[str]:
        return [*self.containers.values(), *self.volumes.values(), self.network, *set(self.images.values())]


# -- generate, build, secrets -----------------------------------------------


def _generate(out: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "modernize", "run", str(FIXTURE), "-o", str(out), "--strategy", "distro", "-q"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ct.REPO,
    )
    assert proc.returncode == 0, ct.output(proc)
    compose = yaml.safe_load((out / "compose.yaml").read_text())
    assert compose.get("services"), compose
    return compose


def _env_values(out: Path, password: str) -> dict[str, str]:
    """Every .env.example variable gets the one throwaway password, except those the
    file already fills in (MODERNIZE_CA_BUNDLE)."""
    env: dict[str, str] = {}
    for line in (out / ".env.example").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        env[key.strip()] = value.strip() or password
    env["MODERNIZE_CA_BUNDLE"] = str(ct.HOST_CA_BUNDLE)
    return env


def _write_secrets(stack: Stack) -> None:
    """secrets/X from secrets/X.example with CHANGE-ME replaced; a *.key secret and
    its *.crt sibling get a fresh self-signed pair. All mode 0644 (containers run as
    other users)."""
    secret_dir = stack.out / "secrets"
    secret_dir.mkdir(exist_ok=True)
    for name, spec in (stack.compose.get("secrets") or {}).items():
        src = _subst(spec.get("file", ""), stack.env)
        if not src.startswith("./secrets/"):
            continue  # ca_bundle: a build secret from the host
        target = stack.out / src
        if target.exists():
            continue
        if target.suffix in (".key", ".crt"):
            key, crt = target.with_suffix(".key"), target.with_suffix(".crt")
            proc = subprocess.run(
                [*SELF_SIGNED, "-keyout", str(key), "-out", str(crt)],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert proc.returncode == 0, ct.output(proc)
            for path in (key, crt):
                path.chmod(0o644)
            continue
        example = target.with_name(target.name + ".example")
        assert example.is_file(), f"secret {name}: neither {target} nor {example} exists"
        target.write_text(example.read_text().replace("CHANGE-ME", stack.password))
        target.chmod(0o644)


def _build_all(stack: Stack) -> None:
    """One image per build context (intranet-worker reuses intranet's); builds run in
    parallel, and every failure is reported, not only the first."""
    by_context: dict[Path, list[str]] = {}
    for service, spec in stack.services.items():
        if "build" not in spec:
            continue
        build = spec["build"]
        context = (stack.out / (build if isinstance(build, str) else build["context"])).resolve()
        by_context.setdefault(context, []).append(service)

    def one(context: Path, service: str) -> tuple[str, float, subprocess.CompletedProcess[str]]:
        build = stack.services[service]["build"]
        build_secrets: dict[str, Path] = {}
        for sec in build.get("secrets", []) if isinstance(build, dict) else []:
            sec_name = sec if isinstance(sec, str) else sec["source"]
            src = _subst(stack.compose["secrets"][sec_name]["file"], stack.env)
            build_secrets[sec_name] = (stack.out / src).resolve()
        dockerfile = context / build["dockerfile"] if isinstance(build, dict) and "dockerfile" in build else None
        tag = stack.images[service]
        began = time.monotonic()
        proc = ct.build(context, tag, dockerfile=dockerfile, build_secrets=build_secrets, timeout=1200)
        return service, time.monotonic() - began, proc

    for services in by_context.values():
        tag = ct.unique(f"{services[0]}:test")
        for service in services:
            stack.images[service] = tag
    failures = []
    with ThreadPoolExecutor(max_workers=len(by_context) or 1) as pool:
        jobs = [pool.submit(one, ctx, services[0]) for ctx, services in by_context.items()]
        for job in jobs:
            service, took, proc = job.result()
            stack.timings[f"build {service}"] = took
            if proc.returncode != 0:
                failures.append(f"build of {service} failed:\n{ct.output(proc)}")
    assert not failures, "\n\n".join(failures)


# -- start ----------------------------------------------------------------------


def _order(services: Mapping[str, Any]) -> list[str]:
    """Services so that each comes after what it depends_on."""
    done: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"depends_on cycle: {' -> '.join((*path, name))}"
        if name in done:
            return
        deps = services[name].get("depends_on") or []
        for dep in deps if isinstance(deps, list) else list(deps):
            visit(dep, (*path, name))
        done.append(name)

    for name in sorted(services):
        visit(name, ())
    return done


def _exposed(image: str) -> list[int]:
    proc = subprocess.run(
        ["podman", "image", "inspect", "-f", "{{range $p, $v := .Config.ExposedPorts}}{{$p}} {{end}}", image],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, ct.output(proc)
    return [int(p.split("/")[0]) for p in proc.stdout.split() if p.endswith("/tcp")]


def _run_args(stack: Stack, service: str) -> tuple[list[str], list[str]]:
    """podman run flags and command for one compose service."""
    spec = stack.services[service]
    args = ["--network", stack.network, "--network-alias", service, "--hostname", service]
    env = spec.get("environment") or {}
    items = env.items() if isinstance(env, dict) else (e.split("=", 1) for e in env)
    for key, value in items:
        args += ["-e", f"{key}={_subst(value, stack.env)}"]
    for vol in spec.get("volumes") or []:
        src, target = vol.split(":", 1) if isinstance(vol, str) else (vol["source"], vol["target"])
        if src in (stack.compose.get("volumes") or {}):
            if src not in stack.volumes:
                stack.volumes[src] = ct.volume_create(ct.unique(src))
            src = stack.volumes[src]
        else:
            src = str((stack.out / src).resolve())
        args += ["-v", f"{src}:{target}"]
    for sec in spec.get("secrets") or []:
        name, target = (sec, None) if isinstance(sec, str) else (sec["source"], sec.get("target"))
        target = target or f"/run/secrets/{name}"
        src = (stack.out / _subst(stack.compose["secrets"][name]["file"], stack.env)).resolve()
        args += ["-v", f"{src}:{target}:ro"]
    if spec.get("read_only"):
        # podman's --read-only adds tmpfs on /tmp, /var/tmp and /run unless told not to:
        # Docker adds none, so only compose's own tmpfs list counts
        args += ["--read-only", "--read-only-tmpfs=false"]
    tmpfs = spec.get("tmpfs") or []
    for path in [tmpfs] if isinstance(tmpfs, str) else tmpfs:
        args += ["--tmpfs", path]
    for cap in spec.get("cap_drop") or []:
        args += ["--cap-drop", cap]
    for cap in spec.get("cap_add") or []:
        args += ["--cap-add", cap]
    for opt in spec.get("security_opt") or []:
        args += ["--security-opt", opt]
    if "user" in spec:
        args += ["--user", str(spec["user"])]
    if "working_dir" in spec:
        args += ["--workdir", spec["working_dir"]]
    if "entrypoint" in spec:
        entry = spec["entrypoint"]
        entry = shlex.split(entry) if isinstance(entry, str) else entry
        args += ["--entrypoint", json.dumps(entry)]
    command = spec.get("command") or []
    command = shlex.split(command) if isinstance(command, str) else [str(c) for c in command]
    return args, command


def _start_all(stack: Stack) -> None:
    """In depends_on order; each dependency first listening on its ports (the stand-in
    for condition: service_healthy). A service that fails to start is recorded, and the
    rest still start, so that one run reports every service."""
    stack.network = ct.network_create(ct.unique("web-net"))
    for service in _order(stack.services):
        spec = stack.services[service]
        image = stack.images.get(service) or spec["image"]
        ports = [int(str(p).rsplit(":", 1)[-1].split("/")[0]) for p in spec.get("ports") or []]
        # the image's EXPOSE counts for the image's own command, not for a service that
        # runs another (intranet-worker runs celery in the gunicorn image)
        exposed = set() if spec.get("command") else set(_exposed(image))
        stack.ports[service] = sorted(set(ports) | exposed)
        # started even when a dependency failed: one run then reports every service
        failed_deps = [d for d in spec.get("depends_on") or [] if d in stack.problems]
        name = ct.unique(f"web-{service}")
        stack.containers[service] = name
        args, command = _run_args(stack, service)
        began = time.monotonic()
        try:
            ct.run_detached(image, name, extra=args, command=command)
        except subprocess.CalledProcessError as err:
            stack.problems[service] = f"podman run failed: {err.stderr}\n{err.cmd}"
            continue
        try:
            for port in stack.ports[service]:
                ct.wait_listening(name, port, timeout=LISTEN_TIMEOUT)
            stack.timings[f"up {service}"] = time.monotonic() - began
        except AssertionError as err:
            after = f" (after failed dependencies {failed_deps})" if failed_deps else ""
            stack.problems[service] = f"{err}{after}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    out = tmp_path_factory.mktemp("generated") / "out"
    compose = _generate(out)
    password = secrets.token_hex(16)
    made = Stack(out=out, compose=compose, password=password, env=_env_values(out, password))
    try:
        _write_secrets(made)
        _build_all(made)
        _start_all(made)
        yield made
    finally:
        print("\ntimings: " + ", ".join(f"{k} {v:.1f} s" for k, v in made.timings.items()))
        ct.cleanup(*made.names())


# -- the checks -----------------------------------------------------------------


def test_every_server_listens(stack: Stack) -> None:
    servers = [s for s, ports in stack.ports.items() if ports]
    assert set(servers) >= {"intranet", "nginx", "postgresql", "redis"}, stack.ports
    report = []
    for service in servers:
        if service in stack.problems:
            report.append(f"== {service}: {stack.problems[service]}")
            continue
        name = stack.containers[service]
        missing = set(stack.ports[service]) - ct.listening_ports(name)
        if missing or not ct.is_running(name):
            report.append(f"== {service}: ports {sorted(missing)} not listening\n{_tail(name)}")
    assert not report, "\n\n".join(report)


def test_worker_stays_up(stack: Stack) -> None:
    """The worker has no port: it must still run after a while (celery retries the
    broker; a crash, e.g. a wrong user or a read-only path, ends the container)."""
    workers = [s for s, ports in stack.ports.items() if not ports]
    assert workers == ["intranet-worker"], stack.ports
    for service in workers:
        assert service not in stack.problems, stack.problems[service]
        name = stack.containers[service]
        # celery logs this once the broker took the password: redis' requirepass and
        # REDIS_REQUIREPASS in the URL agree
        deadline = time.monotonic() + WORKER_SETTLE
        while "Connected to redis://" not in ct.logs(name) and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(max(0.0, deadline - time.monotonic()))
        assert ct.is_running(name), f"{service} stopped\n{_tail(name)}"
        assert "Traceback" not in ct.logs(name), _tail(name)
        assert "Connected to redis://" in ct.logs(name), f"{service} never reached the broker\n{_tail(name)}"


def test_redis_keeps_its_data_over_a_restart(stack: Stack) -> None:
    assert "redis" not in stack.problems, stack.problems["redis"]
    name = stack.containers["redis"]
    cli = ("redis-cli", "--no-auth-warning", "-a", stack.password)
    for step in (("set", "survivor", "kept"), ("save",)):
        proc = ct.exec_in(name, *cli, *step)
        assert proc.returncode == 0 and proc.stdout.strip() == "OK", f"{ct.output(proc)}\n{_tail(name)}"
    ct.stop(name)
    assert not ct.is_running(name)
    ct.start(name)
    ct.wait_listening(name, 6379, timeout=LISTEN_TIMEOUT)
    proc = ct.exec_in(name, *cli, "get", "survivor")
    assert proc.stdout.strip() == "kept", f"{ct.output(proc)}\n{_tail(name)}"
