"""The container rig (scripts/container-rig.sh, tests/containers.py): what tests of
generated Dockerfiles rely on, checked for real with buildah and podman."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import containers as ct
from tests.containers import container_rig  # noqa: F401  (registers the session fixture here)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("container_rig")]

DOCKERFILE = """\
FROM debian:12-slim
RUN apt-get update && apt-get install -y --no-install-recommends redis-server redis-tools && rm -rf /var/lib/apt/lists/*
USER redis
# redis-server without a config writes dump.rdb to its working directory, and refuses
# SIGTERM when that final save fails (podman then kills it after the stop timeout)
WORKDIR /var/lib/redis
HEALTHCHECK --interval=5s --timeout=3s CMD redis-cli ping | grep -q PONG
CMD ["redis-server", "--protected-mode", "no"]
"""


@pytest.fixture(scope="module")
def redis_image(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One image serves as server (redis-server) and client (redis-cli)."""
    request.getfixturevalue("container_rig")
    context = tmp_path_factory.mktemp("redis-image")
    (context / "Dockerfile").write_text(DOCKERFILE)
    tag = ct.unique("redis:test")
    try:
        proc = ct.build(context, tag)
        assert proc.returncode == 0, ct.output(proc)
        yield tag
    finally:
        ct.cleanup(tag)


def _redis(host_port: int, *command: bytes) -> bytes:
    """One RESP command over TCP from the host; the first reply line."""
    with socket.create_connection(("127.0.0.1", host_port), timeout=5) as sock:
        parts = [b"*%d\r\n" % len(command)] + [b"$%d\r\n%s\r\n" % (len(c), c) for c in command]
        sock.sendall(b"".join(parts))
        return sock.makefile("rb").readline().rstrip(b"\r\n")


def test_image_built_on_the_local_base(redis_image: str) -> None:
    """FROM debian:12-slim resolved to the debootstrapped base, whose apt sources have
    the updates and security pockets; the container gets the rig's ulimits and runs as
    the image's USER."""
    proc = ct.run_once(redis_image, ct.unique("probe"), "sh", "-c", "id -un; ulimit -n; cat /etc/apt/sources.list")
    assert proc.returncode == 0, ct.output(proc)
    user, nofile, *sources = proc.stdout.splitlines()
    assert user == "redis"
    assert nofile == "1024"
    suites = {line.split()[2] for line in sources if line.startswith("deb ")}
    assert suites == {"bookworm", "bookworm-updates", "bookworm-security"}


def test_server_listens_and_answers_on_a_published_port(redis_image: str) -> None:
    name = ct.unique("listen")
    try:
        ct.run_detached(redis_image, name, ports=[6379])
        waited = ct.wait_listening(name, 6379, timeout=20)
        assert waited < 20
        assert ct.is_running(name)
        assert 6379 in ct.listening_ports(name)
        assert _redis(ct.host_port(name, 6379), b"PING") == b"+PONG"
        assert "Ready to accept connections" in ct.logs(name)
    finally:
        ct.cleanup(name)
    assert not ct.is_running(name)
    assert ct.listening_ports(name) == set()


def test_healthcheck_is_run_by_hand(redis_image: str) -> None:
    """Without systemd podman never runs a HEALTHCHECK itself; wait_healthy runs it, and
    it is there at all only because the image was built in the docker format."""
    name = ct.unique("health")
    try:
        ct.run_detached(redis_image, name)
        ct.wait_healthy(name, timeout=30, interval=0.5)
        ct.stop(name, timeout=5)
        assert not ct.is_running(name)
        with pytest.raises(AssertionError, match="stopped before it was healthy"):
            ct.wait_healthy(name, timeout=5)
    finally:
        ct.cleanup(name)


def test_named_volume_survives_a_restart(redis_image: str) -> None:
    name, volume = ct.unique("volume"), ct.unique("data")
    try:
        ct.volume_create(volume)
        # the volume takes over the image's /var/lib/redis, owner included, as Docker does
        ct.run_detached(redis_image, name, volumes={volume: "/var/lib/redis"})
        ct.wait_listening(name, 6379)
        wrote = ct.exec_in(name, "sh", "-c", "echo kept > /var/lib/redis/marker")
        assert wrote.returncode == 0, ct.output(wrote)
        for step in (("redis-cli", "set", "answer", "42"), ("redis-cli", "save")):
            proc = ct.exec_in(name, *step)
            assert proc.returncode == 0 and proc.stdout.strip() == "OK", ct.output(proc)
        ct.stop(name)
        assert not ct.is_running(name)
        assert "ready to exit, bye bye" in ct.logs(name)  # SIGTERM, not the SIGKILL after the timeout
        ct.start(name)
        ct.wait_listening(name, 6379)
        marker = ct.exec_in(name, "cat", "/var/lib/redis/marker")
        assert marker.returncode == 0 and marker.stdout == "kept\n", ct.output(marker)
        answer = ct.exec_in(name, "redis-cli", "get", "answer")
        assert answer.stdout.strip() == "42", ct.output(answer)
    finally:
        ct.cleanup(name, volume)
    assert volume not in ct.resources(ct.PREFIX)


def test_containers_on_one_network_reach_each_other_by_name(redis_image: str) -> None:
    """What compose-like tests need: a user-defined network where a service's name
    resolves (netavark with aardvark-dns), and no reach from another network."""
    net, other = ct.unique("net"), ct.unique("other-net")
    server = ct.unique("server")
    try:
        ct.network_create(net)
        ct.network_create(other)
        ct.run_detached(redis_image, server, network=net)
        ct.wait_listening(server, 6379)
        same = ct.run_once(redis_image, ct.unique("client"), "redis-cli", "-h", server, "ping", network=net)
        assert same.returncode == 0 and same.stdout.strip() == "PONG", ct.output(same)
        apart = ct.run_once(redis_image, ct.unique("outsider"), "redis-cli", "-h", server, "ping", network=other)
        assert apart.stdout.strip() != "PONG", ct.output(apart)
        assert "Could not connect" in apart.stdout + apart.stderr, ct.output(apart)
    finally:
        ct.cleanup(server, net, other)
    assert not {net, other, server} & set(ct.resources(ct.PREFIX))


def test_failed_build_says_why_and_leaves_no_image(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:12-slim\nRUN echo step-ran-here && false\n")
    tag = ct.unique("broken:test")
    try:
        proc = ct.build(tmp_path, tag)
        assert proc.returncode != 0
        assert "step-ran-here" in proc.stdout + proc.stderr
        assert "exit status 1" in proc.stderr, ct.output(proc)
        assert tag not in " ".join(ct.resources(ct.PREFIX))
    finally:
        ct.cleanup(tag)


def test_build_secret_is_seen_by_the_build_and_not_kept(tmp_path: Path) -> None:
    """How a build trusts an intercepting proxy's CA: the host's bundle as a build
    secret, for the installing step only."""
    if not ct.HOST_CA_BUNDLE.is_file():
        pytest.skip(f"no {ct.HOST_CA_BUNDLE} on this machine")
    (tmp_path / "Dockerfile").write_text(
        "FROM debian:12-slim\nRUN --mount=type=secret,id=ca grep -c 'BEGIN CERTIFICATE' /run/secrets/ca > /ca-count\n"
    )
    tag = ct.unique("secret:test")
    try:
        proc = ct.build(tmp_path, tag, build_secrets={"ca": ct.HOST_CA_BUNDLE})
        assert proc.returncode == 0, ct.output(proc)
        probe = "cat /ca-count; if [ -e /run/secrets/ca ]; then echo kept; else echo gone; fi"
        seen = ct.run_once(tag, ct.unique("secret-probe"), "sh", "-c", probe)
        assert seen.returncode == 0, ct.output(seen)
        count, where = seen.stdout.split()
        assert int(count) == ct.HOST_CA_BUNDLE.read_text().count("BEGIN CERTIFICATE") > 0
        assert where == "gone"
    finally:
        ct.cleanup(tag)
