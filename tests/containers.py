"""Build and run containers in tests, on machines with no Docker engine and no registry.

`scripts/container-rig.sh` installs buildah and podman, writes a containers.conf
(runc, ulimits root may set, cgroupfs, netavark) and makes `debian:12-slim` locally.
The session fixture `container_rig` runs it once and points CONTAINERS_CONF at its
config; the functions here then build with buildah and run with podman.

Every container, volume, network and image a test makes is named with `unique()`:
one prefix per test session (`mzt-<pid>-<random>-`), so parallel sessions and leftovers
of killed ones do not clash. Tests remove what they made with `cleanup()` in a
finally; the fixture also sweeps the session's prefix at its end, and at its start
removes what sessions whose process is gone left behind.

Use it from a test module (the import registers the fixture there):

    from tests.containers import container_rig  # noqa: F401
    pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("container_rig")]
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import NoReturn

import pytest

REPO = Path(__file__).resolve().parent.parent
RIG_SCRIPT = REPO / "scripts" / "container-rig.sh"
# podman's own default (nofile 1048576) is more than root may set on these machines
ULIMITS = ("--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096")
RUN_FLAGS = ("--runtime", "runc", "--pull=never", *ULIMITS)
# the host's CA bundle: pass it to builds whose pip/npm/curl must trust an intercepting proxy
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")

_PREFIX_RE = re.compile(r"^(?:localhost/)?mzt-(\d+)-([0-9a-f]{6})-")
PREFIX = f"mzt-{os.getpid()}-{secrets.token_hex(3)}-"


def unique(name: str) -> str:
    """`name` with this session's prefix: use it for everything a test creates."""
    return PREFIX + name


def _owned(name: str) -> str:
    """Refuse a name without the session's prefix (the sweep could not find it)."""
    bare = name.removeprefix("localhost/")
    if not bare.startswith(PREFIX):
        raise ValueError(f"{name!r} lacks this session's prefix: name it with tests.containers.unique()")
    return name


def _run(args: Sequence[str], *, timeout: float = 120, check: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=timeout, check=check
    )


def output(proc: subprocess.CompletedProcess[str], limit: int = 4000) -> str:
    """The end of a process's stdout and stderr, for an assertion message."""
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout[-limit:]}\n--- stderr\n{proc.stderr[-limit:]}"


# -- the session fixture ------------------------------------------------------


def _unavailable(reason: str) -> NoReturn:
    # CI installs and runs everything: there a rig that does not come up is a failure
    if os.environ.get("CI"):
        pytest.fail(f"container rig unavailable in CI: {reason}", pytrace=False)
    pytest.skip(f"container rig unavailable: {reason}")


@pytest.fixture(scope="session")
def container_rig() -> Iterator[Path]:
    """Run scripts/container-rig.sh once per session; CONTAINERS_CONF points at its config.
    Yields that config's path."""
    if os.geteuid() != 0:
        _unavailable("needs root (apt-get, debootstrap and rootful podman); CI runs as root")
    try:
        proc = _run(["bash", str(RIG_SCRIPT)], timeout=1800)
    except subprocess.TimeoutExpired:
        _unavailable(f"{RIG_SCRIPT.name} did not finish in 30 minutes")
    if proc.returncode != 0:
        _unavailable(f"{RIG_SCRIPT.name} failed\n{output(proc)}")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("export CONTAINERS_CONF=")]
    if not lines:
        _unavailable(f"{RIG_SCRIPT.name} printed no CONTAINERS_CONF\n{output(proc)}")
    conf = Path(lines[-1].split("=", 1)[1])
    previous = os.environ.get("CONTAINERS_CONF")
    os.environ["CONTAINERS_CONF"] = str(conf)
    reap_stale()
    try:
        yield conf
    finally:
        sweep(PREFIX)
        if previous is None:
            os.environ.pop("CONTAINERS_CONF", None)
        else:
            os.environ["CONTAINERS_CONF"] = previous


# -- images -------------------------------------------------------------------


def build(
    context_dir: Path,
    tag: str,
    *,
    dockerfile: Path | None = None,
    build_args: Mapping[str, str] | None = None,
    build_secrets: Mapping[str, Path] | None = None,
    extra: Sequence[str] = (),
    timeout: float = 900,
) -> subprocess.CompletedProcess[str]:
    """`buildah build` the context into `tag` (named with unique()). Does not raise on
    failure: assert on the returncode, with output(proc) as the message.

    --format docker keeps HEALTHCHECK (the OCI format drops it); --isolation chroot
    runs RUN steps without a runtime; --pull=never resolves FROM locally only. No
    layer cache: every build starts from its FROM, and a failed build leaves nothing.
    `build_secrets` maps ids to files for `RUN --mount=type=secret,id=ID` (e.g. the
    host's CA bundle under HOST_CA_BUNDLE), which never end up in the image."""
    args = ["buildah", "build", "--isolation", "chroot", "--pull=never", "--format", "docker"]
    args += ["-t", _owned(tag)]
    if dockerfile is not None:
        args += ["-f", str(dockerfile)]
    for key, value in (build_args or {}).items():
        args += ["--build-arg", f"{key}={value}"]
    for ident, src in (build_secrets or {}).items():
        args += ["--secret", f"id={ident},src={src}"]
    args += [*extra, str(context_dir)]
    return _run(args, timeout=timeout)


def save(image: str, dest: Path, timeout: float = 300) -> None:
    """`podman save` the image as a docker-archive tarball: every layer as its own
    uncompressed tar (`<digest>.tar`), plus the image config (ENV, history) as JSON.
    What a registry would hold, layer by layer: read it to check what an image carries."""
    _run(["podman", "save", "--format", "docker-archive", "-o", str(dest), image], timeout=timeout, check=True)


# -- containers ---------------------------------------------------------------


def run_detached(
    image: str,
    name: str,
    *,
    ports: Iterable[int | tuple[int, int]] | None = None,
    network: str | None = None,
    env: Mapping[str, str] | None = None,
    volumes: Mapping[str, str] | None = None,
    extra: Sequence[str] = (),
    command: Sequence[str] = (),
) -> str:
    """Start a container (named with unique()) in the background; return its id.

    ports: a container port (published on a free loopback port: see host_port()) or
    (host port, container port); always on 127.0.0.1. volumes: source (a named volume
    or an absolute host path) to target, e.g. {vol: "/data"} or {"/srv": "/srv:ro"}.
    network: a network from network_create(); its containers find each other by name.
    Raises CalledProcessError when podman cannot start it."""
    args = ["podman", "run", "-d", "--name", _owned(name), *RUN_FLAGS]
    for port in ports or ():
        host, inner = port if isinstance(port, tuple) else ("", port)
        args += ["-p", f"127.0.0.1:{host}:{inner}"]
    if network is not None:
        args += ["--network", network]
    for key, value in (env or {}).items():
        args += ["-e", f"{key}={value}"]
    for src, target in (volumes or {}).items():
        args += ["-v", f"{src}:{target}"]
    args += [*extra, image, *command]
    proc = _run(args)
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, args, proc.stdout, proc.stderr)
    return proc.stdout.strip()


def run_once(
    image: str,
    name: str,
    *command: str,
    network: str | None = None,
    extra: Sequence[str] = (),
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run a command in a new container to its end (`podman run --rm`); does not raise."""
    args = ["podman", "run", "--rm", "--name", _owned(name), *RUN_FLAGS]
    if network is not None:
        args += ["--network", network]
    try:
        return _run([*args, *extra, image, *command], timeout=timeout)
    finally:
        cleanup(name)  # after a timeout, --rm never ran


def exec_in(
    container: str, *command: str, user: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`podman exec` a command in a running container; does not raise."""
    args = ["podman", "exec", *(["--user", user] if user else []), container, *command]
    return _run(args, timeout=timeout)


def stop(container: str, timeout: int = 10) -> None:
    _run(["podman", "stop", "-t", str(timeout), container], timeout=timeout + 30, check=True)


def start(container: str) -> None:
    _run(["podman", "start", container], check=True)


def is_running(container: str) -> bool:
    proc = _run(["podman", "inspect", "-f", "{{.State.Running}}", container])
    return proc.returncode == 0 and proc.stdout.strip() == "true"


def logs(container: str) -> str:
    """The container's output, stdout then stderr."""
    proc = _run(["podman", "logs", container])
    return proc.stdout + proc.stderr


def host_port(container: str, port: int) -> int:
    """The loopback port that a published container port landed on."""
    proc = _run(["podman", "port", container, f"{port}/tcp"], check=True)
    return int(proc.stdout.split()[0].rsplit(":", 1)[1])


def listening_ports(container: str) -> set[int]:
    """TCP ports listening in the container's network namespace, read from the host in
    /proc/PID/net/tcp{,6} of its main process: the image needs no tools for this."""
    proc = _run(["podman", "inspect", "-f", "{{.State.Pid}}", container])
    pid = proc.stdout.strip()
    if proc.returncode != 0 or not pid.isdigit() or pid == "0":
        return set()
    ports: set[int] = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:  # the process is gone, or the kernel has no IPv6
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[3] == "0A":  # TCP_LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def wait_listening(container: str, port: int, timeout: float = 20.0) -> float:
    """Wait until `port` listens inside the container; return the seconds it took.
    Raises AssertionError, with the container's logs, on timeout or if it stops."""
    start_at = time.monotonic()
    deadline = start_at + timeout
    while True:
        if port in listening_ports(container):
            return time.monotonic() - start_at
        if not is_running(container):
            raise AssertionError(f"{container} stopped before port {port} listened\n{logs(container)[-4000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(
                f"port {port} not listening in {container} after {timeout} s\n{logs(container)[-4000:]}"
            )
        time.sleep(0.2)


def wait_healthy(container: str, timeout: float = 60.0, interval: float = 1.0) -> float:
    """Run the image's HEALTHCHECK by hand (`podman healthcheck run`: without systemd
    podman never runs it itself) until it passes; return the seconds it took."""
    start_at = time.monotonic()
    deadline = start_at + timeout
    while True:
        proc = _run(["podman", "healthcheck", "run", container], timeout=max(timeout, 30))
        if proc.returncode == 0:
            return time.monotonic() - start_at
        if not is_running(container):
            raise AssertionError(f"{container} stopped before it was healthy\n{logs(container)[-4000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{container} not healthy after {timeout} s: {output(proc)}\n{logs(container)[-4000:]}"
            )
        time.sleep(interval)


# -- networks and volumes -----------------------------------------------------


def network_create(name: str, *, internal: bool = False) -> str:
    """A user-defined bridge network (netavark, DNS by aardvark-dns): containers on it
    reach each other by container name."""
    args = ["podman", "network", "create", *(["--internal"] if internal else []), _owned(name)]
    _run(args, check=True)
    return name


def network_remove(name: str) -> None:
    _run(["podman", "network", "rm", "-f", name])


def volume_create(name: str) -> str:
    _run(["podman", "volume", "create", _owned(name)], check=True)
    return name


# -- cleanup ------------------------------------------------------------------


def cleanup(*names: str) -> None:
    """Remove whatever exists under these names: containers first (with their
    anonymous volumes), then named volumes, networks and images. Never raises."""
    for name in names:
        if _run(["podman", "container", "exists", name]).returncode == 0:
            _run(["podman", "rm", "-f", "-v", "-t", "0", name], timeout=60)
    for name in names:
        if _run(["podman", "volume", "exists", name]).returncode == 0:
            _run(["podman", "volume", "rm", "-f", name])
        if _run(["podman", "network", "exists", name]).returncode == 0:
            _run(["podman", "network", "rm", "-f", name])
        if _run(["podman", "image", "exists", name]).returncode == 0:
            _run(["podman", "rmi", "-f", name], timeout=60)


def _names(args: Sequence[str]) -> list[str]:
    proc = _run(args)
    return [ln.strip() for ln in proc.stdout.splitlines() if ln.strip()] if proc.returncode == 0 else []


def resources(prefix: str = "mzt-") -> list[str]:
    """Names of containers, volumes, networks and images that start with the prefix."""
    found = _names(["podman", "ps", "-a", "--format", "{{.Names}}"])
    found += _names(["podman", "volume", "ls", "--format", "{{.Name}}"])
    found += _names(["podman", "network", "ls", "--format", "{{.Name}}"])
    found += _names(["podman", "images", "--format", "{{.Repository}}:{{.Tag}}"])
    return [n for n in found if n.removeprefix("localhost/").startswith(prefix)]


def sweep(prefix: str) -> None:
    cleanup(*resources(prefix))


def reap_stale() -> None:
    """Remove what sessions whose process no longer runs left behind."""
    stale = []
    for name in resources():
        match = _PREFIX_RE.match(name)
        if match and not Path(f"/proc/{match[1]}").exists():
            stale.append(name)
    if stale:
        cleanup(*stale)
