"""The distro-strategy output of the fixture servers, built and started for real.

For each fixture server (python-web, lamp, node-app, java-tomcat, mail-dns-files,
debian-minbase), `modernize run --strategy distro` writes one Dockerfile per service and
a compose.yaml. Nothing here runs Docker Compose (podman 4.3 has none that honours
depends_on conditions): the test reads compose.yaml and does what `docker compose up`
would, with buildah and podman (tests/containers.py): it builds every service with a
`build` (not the lift image: that needs lift.sh run on the server), writes throwaway
secrets, starts the services on one network in dependency order with the compose
environment, volumes, secrets and hardening, and checks that every server listens on
its ports (compose's and the image's EXPOSE) and that services without ports stay up.

Secrets never reach an image: the server tree is a copy in which every secret value the
fixture's expected.yaml names is replaced by a fresh canary; every layer of every image
(`podman save`, so also what a later layer deletes, and the image config with its ENV
and history) is searched for the canaries, inside zip/jar/war and gzip members too,
and for the original values (left as they are inside archives). The containers get
their secrets at run time from throwaway values, as a user supplies them.

A service that cannot pass a check here is listed in KNOWN with the exact way it fails
(a generator bug, or what this rig or the fixture cannot provide): the test checks it
fails that way, and says when it no longer does. PROBES make requests where listening
alone does not show a service works (an app whose database host does not exist here must
fail on that host, not on its configuration).

`restart:` is deliberately not translated: a crash loop must show, not be hidden.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from modernize.verify.project import command_of, compose_flags, substitute, write_secrets
from tests import containers as ct
from tests.containers import container_rig  # noqa: F401  (registers the session fixture here)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("container_rig")]

FIXTURES = ct.REPO / "fixtures"
LISTEN_TIMEOUT = 30.0
SETTLE = 10.0  # a service without ports must still run this long after its start


@dataclass(frozen=True)
class Expected:
    """What one fixture's compose.yaml must hold: the services that listen, those without
    ports, and the lift image (not built: it is made from the server by lift.sh)."""

    servers: frozenset[str]
    portless: frozenset[str] = frozenset()
    lift: str | None = None
    archives: bool = False  # its images carry zip/jar/war files: the scan must open some
    disabled: frozenset[str] = frozenset()  # disabled on the server: in compose under a profile


EXPECTED: dict[str, Expected] = {
    "python-web": Expected(frozenset({"intranet", "nginx", "postgresql", "redis"}), frozenset({"intranet-worker"})),
    "lamp": Expected(frozenset({"apache2", "mariadb"})),
    "node-app": Expected(frozenset({"memcached", "shop"}), disabled=frozenset({"shop-legacy"})),
    "java-tomcat": Expected(frozenset({"reports", "tomcat"}), archives=True),
    "mail-dns-files": Expected(
        frozenset({"bind9", "dovecot", "postfix", "samba"}), lift="infra01-lift", disabled=frozenset({"samba-ad-dc"})
    ),
    "debian-minbase": Expected(frozenset()),
}


@dataclass(frozen=True)
class Known:
    """A service that cannot pass `check` here, and how it fails instead: the check's
    problem text (which ends with the container's logs) must match `shows`. When it
    passes, the test fails: drop the entry."""

    check: str  # "listen" | "stays-up" | "probe"
    shows: str
    why: str


KNOWN: dict[tuple[str, str], Known] = {
    ("java-tomcat", "reports"): Known(
        "listen",
        r"ClassNotFoundException: org\.springframework\.boot\.loader\.JarLauncher",
        "fixture: reports.jar leaves out Spring Boot's loader classes and has stub libraries "
        "(fixtures/java-tomcat/README.md), so it cannot run anywhere; the JVM starting, finding "
        "the jar and stopping exactly there shows the image's java, jar path, user and read-only root work",
    ),
}


def _http(port: int, path: str) -> tuple[str, ...]:
    """A GET with bash alone (the images have no HTTP client): prints the status line."""
    request = f"GET {path} HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n"
    return ("bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{port} && printf '{request}' >&3 && head -n 1 <&3")


@dataclass(frozen=True)
class Probe:
    """A request made inside a running service, for what listening does not show."""

    command: tuple[str, ...]
    output: str  # regex its stdout must match
    why: str
    log: str = ""  # regex the service's logs must match afterwards
    no_log: str = ""  # regex its logs must not match (a configuration or startup error)


PROBES: dict[tuple[str, str], Probe] = {
    ("node-app", "shop"): Probe(
        (
            "node",
            "-e",
            "require('http').get('http://127.0.0.1:3000/healthz', r => console.log('HTTP', r.statusCode))"
            ".on('error', e => console.log('ERR', e.message))",
        ),
        r"HTTP 500",
        "DATABASE_URL points at db.corp.example.com, which does not resolve in this rig: the app "
        "must start and listen, and /healthz must fail on that lookup, not on its configuration",
        log=r"(?s)ENOTFOUND.*db\.corp\.example\.com",
    ),
    ("java-tomcat", "tomcat"): Probe(
        _http(8080, "/billing/"),
        r"^HTTP/1\.1 200",
        "billing deploys from its WAR plus the Catalina/localhost/billing.xml context; its pool to "
        "10.20.30.40 (not reachable here) opens on first use only, so the deploy must be clean",
        no_log=r"SEVERE",
    ),
}


def _tail(container: str, limit: int = 3000) -> str:
    return f"--- podman logs {container} (tail)\n{ct.logs(container)[-limit:]}"


@dataclass
class Stack:
    fixture: str
    root: Path  # the copy of the server tree, with canaries
    out: Path
    compose: dict[str, Any]
    password: str
    env: dict[str, str]
    canaries: dict[str, str]  # original secret value -> the canary that replaced it in the copy
    lift: str | None = None
    network: str = ""
    images: dict[str, str] = field(default_factory=dict)  # service -> image tag
    containers: dict[str, str] = field(default_factory=dict)  # service -> container name
    volumes: dict[str, str] = field(default_factory=dict)  # compose volume -> podman volume
    ports: dict[str, list[int]] = field(default_factory=dict)  # service -> container ports
    started: dict[str, float] = field(default_factory=dict)  # service -> monotonic time of its start
    timings: dict[str, float] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)  # service -> why it did not start

    @property
    def services(self) -> dict[str, Any]:
        """The compose services this rig runs, as `docker compose up` would: all but
        the lift image and those in a profile (a service disabled on the server)."""
        return {
            k: v for k, v in (self.compose.get("services") or {}).items() if k != self.lift and not v.get("profiles")
        }

    def names(self) -> list[str]:
        network = [self.network] if self.network else []
        return [*self.containers.values(), *self.volumes.values(), *network, *set(self.images.values())]

    def summary(self) -> str:
        lines = []
        for service in sorted(self.services):
            built = self.timings.get(f"build {service}")
            up = self.timings.get(f"up {service}")
            state = "problem" if service in self.problems else ("listening" if self.ports.get(service) else "started")
            lines.append(
                f"  {self.fixture}/{service}: "
                + (f"built {built:.0f} s" if built is not None else "image shared")
                + f", {state}"
                + (f" after {up:.1f} s" if up is not None else "")
                + (f", ports {self.ports[service]}" if self.ports.get(service) else "")
            )
        return "\n".join(lines)


# -- the server tree with canaries ----------------------------------------------


def _secret_values(fixture: str) -> list[str]:
    expected = yaml.safe_load((FIXTURES / fixture / "expected.yaml").read_text()) or {}
    return [str(v) for v in expected.get("secret_values") or []]


def _canary(original: str, n: int) -> str:
    """A fresh value in the original's shape: base64 key material stays base64 (bind's
    rndc key), anything else becomes CANARY-N-HEX (fine in URLs, configs and PHP)."""
    token = secrets.token_hex(8)
    if re.fullmatch(r"[A-Za-z0-9+/]{16,}={1,2}", original):
        return base64.b64encode(f"CANARY-{n}-{token}".encode()).decode()
    return f"CANARY-{n}-{token}"


def _plant_canaries(src: Path, dst: Path, values: Iterable[str]) -> dict[str, str]:
    """Copy the server tree and replace every secret value in its files by a canary;
    returns original -> canary for those it replaced. Zip archives (jar, war) keep their
    bytes: a changed stored member would no longer match its CRC; the scan looks for
    their original values instead."""
    shutil.copytree(src, dst, symlinks=True)
    replace = {v: _canary(v, n) for n, v in enumerate(sorted(set(values), key=len, reverse=True)) if v}
    planted: dict[str, str] = {}
    for folder, _dirs, files in os.walk(dst):
        for name in files:
            path = Path(folder, name)
            if path.is_symlink() or not path.is_file():
                continue
            data = path.read_bytes()
            if data[:4] == b"PK\x03\x04":
                continue
            new = data
            for old, canary in replace.items():  # longest first: a value that holds another goes whole
                if old.encode() in new:
                    new = new.replace(old.encode(), canary.encode())
                    planted[old] = canary
            if new != data:
                path.write_bytes(new)
    return planted


# -- generate, build, secrets -----------------------------------------------


def _generate(root: Path, out: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "modernize", "run", str(root), "-o", str(out), "--strategy", "distro", "-q"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ct.REPO,
    )
    assert proc.returncode == 0, ct.output(proc)
    compose = yaml.safe_load((out / "compose.yaml").read_text())
    assert "services" in compose, compose
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
    """The secret files compose mounts, as a user writes them (what `modernize verify` makes:
    modernize.verify.project.write_secrets); each must have its .example to start from."""
    missing = write_secrets(stack.compose, stack.env, stack.out, stack.password)
    assert not missing, f"secrets with no .example to start from: {missing}"


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
            src = substitute(stack.compose["secrets"][sec_name]["file"], stack.env)
            build_secrets[sec_name] = (stack.out / src).resolve()
        dockerfile = context / build["dockerfile"] if isinstance(build, dict) and "dockerfile" in build else None
        tag = stack.images[service]
        began = time.monotonic()
        proc = ct.build(context, tag, dockerfile=dockerfile, build_secrets=build_secrets, timeout=1200)
        return service, time.monotonic() - began, proc

    for services in by_context.values():
        tag = ct.unique(f"{stack.fixture}-{services[0]}:test")
        for service in services:
            stack.images[service] = tag
    failures = []
    # all at once: they wait on the network (apt, npm, pip) as much as on the 2 cores
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
    """podman run flags and command for one compose service: what `modernize verify`
    makes of compose.yaml (modernize.verify.project), on this module's network and volumes."""
    spec = stack.services[service]
    for name in stack.compose.get("volumes") or {}:
        if name not in stack.volumes:
            stack.volumes[name] = ct.volume_create(ct.unique(name))
    args = ["--network", stack.network, "--network-alias", service, "--hostname", service]
    args += compose_flags(stack.compose, spec, stack.env, stack.out, stack.volumes, "podman")
    return args, command_of(spec)


def _start_all(stack: Stack) -> None:
    """In depends_on order; each dependency first listening on its ports (the stand-in
    for condition: service_healthy). A service that fails to start is recorded, and the
    rest still start, so that one run reports every service."""
    stack.network = ct.network_create(ct.unique(f"{stack.fixture}-net"))
    for service in _order(stack.services):
        spec = stack.services[service]
        image = stack.images.get(service) or spec["image"]
        ports = [int(str(p).rsplit(":", 1)[-1].split("/")[0]) for p in spec.get("ports") or [] if "/udp" not in str(p)]
        # the image's EXPOSE counts for the image's own command, not for a service that
        # runs another (intranet-worker runs celery in the gunicorn image)
        exposed = set() if spec.get("command") else set(_exposed(image))
        stack.ports[service] = sorted(set(ports) | exposed)
        # started even when a dependency failed: one run then reports every service
        failed_deps = [d for d in spec.get("depends_on") or [] if d in stack.problems]
        name = ct.unique(f"{stack.fixture}-{service}")
        stack.containers[service] = name
        args, command = _run_args(stack, service)
        began = time.monotonic()
        try:
            ct.run_detached(image, name, extra=args, command=command)
        except subprocess.CalledProcessError as err:
            stack.problems[service] = f"podman run failed: {err.stderr}\n{err.cmd}"
            continue
        stack.started[service] = began
        try:
            for port in stack.ports[service]:
                ct.wait_listening(name, port, timeout=LISTEN_TIMEOUT)
            stack.timings[f"up {service}"] = time.monotonic() - began
        except AssertionError as err:
            after = f" (after failed dependencies {failed_deps})" if failed_deps else ""
            stack.problems[service] = f"{err}{after}"


@pytest.fixture(scope="module", params=list(EXPECTED))
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    fixture = str(request.param)
    work = tmp_path_factory.mktemp(f"generated-{fixture}")
    root = work / "root"
    canaries = _plant_canaries(FIXTURES / fixture / "root", root, _secret_values(fixture))
    out = work / "out"
    compose = _generate(root, out)
    plan = yaml.safe_load((out / "plan.yaml").read_text())
    password = secrets.token_hex(16)
    made = Stack(
        fixture=fixture,
        root=root,
        out=out,
        compose=compose,
        password=password,
        env=_env_values(out, password),
        canaries=canaries,
        lift=(plan.get("lift") or {}).get("name"),
    )
    began = time.monotonic()
    try:
        _write_secrets(made)
        _build_all(made)
        _start_all(made)
        yield made
    finally:
        made.timings["total"] = time.monotonic() - began
        print(f"\n{fixture}: " + ", ".join(f"{k} {v:.1f} s" for k, v in made.timings.items()))
        print(made.summary())
        ct.cleanup(*made.names())


def _judge(stack: Stack, check: str, problems: Mapping[str, str], checked: Iterable[str]) -> None:
    """Fail on every problem, except a KNOWN one that shows exactly as recorded; fail
    too on a KNOWN one that no longer happens."""
    report = []
    for service in sorted(checked):
        known = KNOWN.get((stack.fixture, service))
        problem = problems.get(service)
        if known is not None and known.check == check:
            if problem is None:
                report.append(f"== {service}: passes now: drop KNOWN[{(stack.fixture, service)}] ({known.why})")
            elif not re.search(known.shows, problem):
                report.append(
                    f"== {service}: fails, but not as known ({known.why}; expected /{known.shows}/)\n{problem}"
                )
            continue
        if problem is not None:
            report.append(f"== {service}: {problem}")
    assert not report, "\n\n".join(report)


# -- the checks -----------------------------------------------------------------


def test_compose_holds_the_expected_services(stack: Stack) -> None:
    """Every buildable service is one this module checks, the lift image is the only one
    left out, and a server with nothing to move (debian-minbase) gets no service."""
    expected = EXPECTED[stack.fixture]
    assert stack.lift == expected.lift
    if expected.lift:
        assert expected.lift in stack.compose["services"], stack.compose["services"].keys()
    # a service disabled on the server is generated with the profile `disabled`: not
    # started by `docker compose up`, and not here
    profiled = {s for s, spec in stack.compose["services"].items() if spec.get("profiles")}
    assert profiled == expected.disabled
    assert all(stack.compose["services"][s]["profiles"] == ["disabled"] for s in profiled)
    buildable = {s for s, spec in stack.services.items() if "build" in spec}
    assert set(stack.services) == buildable, "a service without build: what does this test start for it?"
    assert buildable == expected.servers | expected.portless, stack.ports
    servers = {s for s, ports in stack.ports.items() if ports}
    assert servers == expected.servers, stack.ports


def test_canaries_cover_every_inventory_secret(stack: Stack) -> None:
    """Each secret the inventory lists lives in a file of the copy that now holds a canary
    (else the layer scan would not notice that secret leaking); for python-web, the two
    named in the brief by name."""
    inventory = json.loads((stack.out / "inventory.json").read_text())
    missing = []
    for svc in inventory["services"]:
        for sec in svc.get("secrets") or []:
            path = sec["path"]
            if "!/" in path:
                continue  # inside an archive: the scan looks for the original value there
            file = stack.root / path.lstrip("/")
            if not file.is_file():
                continue  # not in the snapshot (dovecot's key): nothing to leak
            text = file.read_bytes()
            if not any(c.encode() in text for c in stack.canaries.values()):
                missing.append(f"{svc['name']}: {sec['key']} in {path}")
    assert not missing, (
        "inventory secrets without a canary (add their values to expected.yaml secret_values):\n" + "\n".join(missing)
    )
    if stack.fixture == "python-web":
        env = (stack.root / "etc/intranet/intranet.env").read_text()
        conf = (stack.root / "etc/redis/redis.conf").read_text()
        assert re.search(r"^SECRET_KEY=CANARY-", env, re.M), env
        assert re.search(r"^requirepass CANARY-", conf, re.M)


ARCHIVE_DEPTH = 3  # a jar in a war in a tarball


def _search(
    name: str, data: bytes, needles: Mapping[bytes, str], hits: list[str], stats: dict[str, int], depth: int = 0
) -> None:
    """Every needle in DATA, and in the members of a zip (jar, war) or gzip it is."""
    for needle, label in needles.items():
        if needle in data:
            hits.append(f"{name}: {label}")
    if depth >= ARCHIVE_DEPTH:
        return
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                for info in zf.infolist():
                    if not info.is_dir():
                        stats["archive members"] += 1
                        _search(f"{name}!/{info.filename}", zf.read(info), needles, hits, stats, depth + 1)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError, zlib.error):
            stats["unreadable archives"] += 1
    elif data[:2] == b"\x1f\x8b":
        try:
            inner = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            stats["unreadable archives"] += 1
            return
        stats["gzip members"] += 1
        _search(f"{name}(gunzipped)", inner, needles, hits, stats, depth + 1)


def _scan_image(
    image: str, workdir: Path, needles: Mapping[bytes, str], seen: set[str], stats: dict[str, int]
) -> list[str]:
    """Search every layer of the image (each file in it, whole) and its config."""
    saved = workdir / "image.tar"
    ct.save(image, saved)
    hits: list[str] = []
    try:
        with tarfile.open(saved) as outer:
            for member in outer:
                if not member.isfile():
                    continue  # <id>/layer.tar: a symlink to a <digest>.tar
                fileobj = outer.extractfile(member)
                assert fileobj is not None
                if not member.name.endswith(".tar"):
                    _search(f"{image}:{member.name}", fileobj.read(), needles, hits, stats)
                    continue
                if member.name in seen:
                    continue  # the base layer, already searched in another image
                seen.add(member.name)
                stats["layers"] += 1
                with tarfile.open(fileobj=fileobj) as layer:
                    for entry in layer:
                        if entry.isfile():
                            stats["files"] += 1
                            content = layer.extractfile(entry)
                            assert content is not None
                            _search(f"{image}:/{entry.name}", content.read(), needles, hits, stats)
    finally:
        saved.unlink(missing_ok=True)
    return hits


def _controls(stack: Stack) -> dict[bytes, str]:
    """Needles that must be found, to show the search reaches what was copied: per
    build context a line of one copied file and, where it copies a zip (jar, war), a
    line of a compressed member (found only by opening the archive)."""
    controls: dict[bytes, str] = {}
    contexts = {stack.out / "services" / s for s in stack.images if (stack.out / "services" / s).is_dir()}
    for context in sorted(contexts):
        files = sorted(p for p in (context / "rootfs").rglob("*") if p.is_file() and not p.is_symlink())
        plain = [p for p in files if p.read_bytes()[:4] != b"PK\x03\x04"]
        for path in plain[:1]:
            line = max(path.read_bytes().splitlines() or [b""], key=len)
            if len(line) >= 16:
                controls[line] = f"control: a line of {path.relative_to(context)}"
        for path in [p for p in files if p not in plain][:1]:
            with zipfile.ZipFile(path) as zf:
                for info in zf.infolist():
                    if info.compress_type == zipfile.ZIP_DEFLATED and info.file_size >= 64:
                        line = max(zf.read(info).splitlines() or [b""], key=len)
                        if len(line) >= 16:
                            controls[line] = f"control: a line of {path.relative_to(context)}!/{info.filename}"
                            break
    return controls


def test_no_secret_in_any_image_layer(stack: Stack, tmp_path: Path) -> None:
    needles = {c.encode(): f"canary for a secret ({c})" for c in stack.canaries.values()}
    # values the copy still holds: inside archives (billing.war, reports.jar), in no file
    needles |= {v.encode(): f"original secret value {v!r}" for v in _secret_values(stack.fixture)}
    if stack.fixture == "python-web":
        assert len(stack.canaries) >= 4, stack.canaries
    controls = _controls(stack)
    needles |= controls
    hits: list[str] = []
    stats = {"layers": 0, "files": 0, "archive members": 0, "gzip members": 0, "unreadable archives": 0}
    seen: set[str] = set()
    began = time.monotonic()
    for image in sorted(set(stack.images.values())):
        hits += _scan_image(image, tmp_path, needles, seen, stats)
    print(f"\n{stack.fixture}: searched {stats} in {time.monotonic() - began:.1f} s")
    found = {label for label in controls.values() if any(h.endswith(f": {label}") for h in hits)}
    assert found == set(controls.values()), f"the search missed {set(controls.values()) - found}"
    hits = [h for h in hits if ": control: " not in h]
    assert not hits, "secrets in image layers:\n" + "\n".join(hits)
    if stack.images:
        assert stats["files"] > 1000, stats  # a sanity check of the search itself
    if EXPECTED[stack.fixture].archives:
        assert stats["archive members"] > 0, stats
        assert any("!/" in label for label in controls.values()), controls


def test_every_server_listens(stack: Stack) -> None:
    servers = [s for s, ports in stack.ports.items() if ports]
    problems = {}
    for service in servers:
        if service in stack.problems:
            problems[service] = stack.problems[service]
            continue
        name = stack.containers[service]
        missing = set(stack.ports[service]) - ct.listening_ports(name)
        if missing or not ct.is_running(name):
            problems[service] = f"ports {sorted(missing)} not listening (running: {ct.is_running(name)})\n{_tail(name)}"
    _judge(stack, "listen", problems, servers)


def test_services_without_ports_stay_up(stack: Stack) -> None:
    """No port to wait for: still running SETTLE seconds after its start (a crash, e.g.
    a wrong user, a read-only path or a missing file, ends the container)."""
    portless = [s for s, ports in stack.ports.items() if not ports]
    problems = {}
    for service in portless:
        if service in stack.problems:
            problems[service] = stack.problems[service]
            continue
        name = stack.containers[service]
        time.sleep(max(0.0, stack.started[service] + SETTLE - time.monotonic()))
        if not ct.is_running(name):
            code = subprocess.run(
                ["podman", "inspect", "-f", "{{.State.ExitCode}}", name], capture_output=True, text=True, timeout=60
            ).stdout.strip()
            problems[service] = f"stopped (exit code {code}) within {SETTLE:.0f} s of its start\n{_tail(name)}"
        elif "Traceback" in ct.logs(name):
            problems[service] = f"runs, but logged a Traceback\n{_tail(name)}"
    _judge(stack, "stays-up", problems, portless)


def test_probes(stack: Stack) -> None:
    """PROBES for this fixture: what listening alone does not show."""
    probes = {s: p for (f, s), p in PROBES.items() if f == stack.fixture}
    problems = {}
    for service, probe in probes.items():
        assert service in stack.services, f"PROBES names {service}, which compose does not have"
        if service in stack.problems:
            problems[service] = f"did not start: {stack.problems[service]}"
            continue
        name = stack.containers[service]
        proc = ct.exec_in(name, *probe.command)
        time.sleep(1)  # the log line of a failed request may trail its response
        logs = ct.logs(name)
        why = f"({probe.why})"
        if not re.search(probe.output, proc.stdout, re.M):
            problems[service] = f"{why}\nprobe {probe.command[-1]!r} printed no /{probe.output}/: {ct.output(proc)}"
        elif probe.log and not re.search(probe.log, logs):
            problems[service] = f"{why}\nno /{probe.log}/ in its logs after the probe"
        if probe.no_log and re.search(probe.no_log, logs):
            lines = [ln for ln in logs.splitlines() if re.search(probe.no_log, ln)]
            first = logs.splitlines().index(lines[0])
            context = "\n".join(logs.splitlines()[first : first + 3])
            problems[service] = (
                problems.get(service, why) + f"\n{len(lines)} log lines match /{probe.no_log}/, the first:\n{context}"
            )
        if service in problems:
            problems[service] += f"\n{_tail(name, 1500)}"
    _judge(stack, "probe", problems, probes)


# -- python-web only ------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["python-web"], indirect=True)
def test_worker_reaches_the_broker(stack: Stack) -> None:
    """celery logs this once the broker took the password: redis' requirepass and
    REDIS_REQUIREPASS in the URL agree (both from the throwaway secrets, not the canaries)."""
    name = stack.containers["intranet-worker"]
    deadline = time.monotonic() + SETTLE
    while "Connected to redis://" not in ct.logs(name) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert ct.is_running(name), f"intranet-worker stopped\n{_tail(name)}"
    assert "Traceback" not in ct.logs(name), _tail(name)
    assert "Connected to redis://" in ct.logs(name), f"intranet-worker never reached the broker\n{_tail(name)}"


@pytest.mark.parametrize("stack", ["python-web"], indirect=True)
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
