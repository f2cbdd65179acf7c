"""The container engine verify drives: Docker or Podman through their command lines
(the two take the same flags for what verify needs), or Buildah for builds alone.

verify starts containers one by one rather than through a compose tool: Podman 4 has
no `podman compose`, Debian's podman-compose ignores health conditions, and without
systemd Podman never runs a healthcheck on its own. One code path then serves every
engine: start in dependency order, run the healthcheck by hand, remove by name."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from modernize.errors import UserError

ENGINES = ("docker", "podman", "buildah")


@dataclass(frozen=True)
class Call:
    """What one engine command did (a timeout reads as exit 124)."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def tail(self, limit: int = 3000) -> str:
        text = (self.stdout + ("\n" if self.stdout and self.stderr else "") + self.stderr).strip()
        return text[-limit:]


def call(args: Sequence[str], timeout: float = 120, stdin: str | None = None) -> Call:
    try:
        proc = subprocess.run(
            list(args),
            capture_output=True,
            text=True,
            errors="replace",
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return Call(tuple(args), 124, out, f"timed out after {timeout:.0f} s")
    except OSError as exc:
        return Call(tuple(args), 127, "", str(exc))
    return Call(tuple(args), proc.returncode, proc.stdout, proc.stderr)


class Engine:
    """One engine's command line. `runs` is False for Buildah: it builds only."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.exe = shutil.which(name) or name
        self.runs = name != "buildah"

    def _c(self, *args: str, timeout: float = 120) -> Call:
        return call([self.exe, *args], timeout=timeout)

    # -- images ---------------------------------------------------------------
    def build(
        self,
        context: str,
        tag: str,
        dockerfile: str | None,
        build_args: Mapping[str, str],
        secrets: Mapping[str, str],
        timeout: float,
    ) -> Call:
        args = ["build", "-t", tag]
        if self.name != "docker":
            args += ["--format", "docker"]  # the OCI format drops HEALTHCHECK
        if dockerfile:
            args += ["-f", dockerfile]
        for key, value in build_args.items():
            args += ["--build-arg", f"{key}={value}"]
        for ident, src in secrets.items():
            args += ["--secret", f"id={ident},src={src}"]
        return self._c(*args, context, timeout=timeout)

    def remove_image(self, tag: str) -> None:
        self._c("rmi", "-f", tag, timeout=120)

    # -- networks and volumes -------------------------------------------------
    def network_create(self, name: str) -> Call:
        return self._c("network", "create", name)

    def volume_create(self, name: str) -> Call:
        return self._c("volume", "create", name)

    # -- containers -------------------------------------------------------------
    def run(self, name: str, image: str, flags: Sequence[str], command: Sequence[str]) -> Call:
        return self._c("run", "-d", "--name", name, *flags, image, *command, timeout=180)

    def running(self, name: str) -> bool:
        c = self._c("inspect", "-f", "{{.State.Running}}", name)
        return c.ok and c.stdout.strip() == "true"

    def health(self, name: str) -> Call:
        """Run the image's HEALTHCHECK once (Podman), or read its status (Docker runs it)."""
        if self.name == "podman":
            return self._c("healthcheck", "run", name, timeout=60)
        c = self._c("inspect", "-f", "{{if .State.Health}}{{.State.Health.Status}}{{end}}", name)
        status = c.stdout.strip()
        return Call(c.args, 0 if status == "healthy" else 1, status, c.stderr)

    def has_healthcheck(self, image: str) -> bool:
        c = self._c("image", "inspect", "-f", "{{json .Config.Healthcheck}}", image)
        if not c.ok:
            return False
        try:
            check = json.loads(c.stdout or "null")
        except json.JSONDecodeError:
            return False
        test = (check or {}).get("Test") or []
        return bool(test) and test[0] != "NONE"

    def exec(
        self, name: str, command: Sequence[str], user: str | None = None, env: Mapping[str, str] | None = None
    ) -> Call:
        args = ["exec"]
        if user:
            args += ["--user", user]
        for key, value in (env or {}).items():
            args += ["-e", f"{key}={value}"]
        return self._c(*args, name, *command, timeout=90)

    def logs(self, name: str) -> str:
        return self._c("logs", name).tail(4000)

    def diff(self, name: str) -> Call:
        return self._c("diff", name)

    def host_port(self, name: str, port: int) -> int | None:
        c = self._c("port", name, f"{port}/tcp")
        for line in c.stdout.split():
            head, _, tail = line.rpartition(":")
            if head and tail.isdigit():
                return int(tail)
        return None

    def restart(self, name: str) -> Call:
        stopped = self._c("stop", "-t", "20", name, timeout=60)
        return stopped if not stopped.ok else self._c("start", name, timeout=60)

    def remove(self, containers: Sequence[str], volumes: Sequence[str], networks: Sequence[str]) -> list[str]:
        """Remove what verify made, by name; returns what could not be removed."""
        left: list[str] = []
        for name in containers:
            if not self._c("rm", "-f", "-v", name, timeout=90).ok and self._exists("container", name):
                left.append(f"container {name}")
        for name in volumes:
            if not self._c("volume", "rm", "-f", name).ok and self._exists("volume", name):
                left.append(f"volume {name}")
        for name in networks:
            if not self._c("network", "rm", "-f", name).ok and self._exists("network", name):
                left.append(f"network {name}")
        return left

    def _exists(self, kind: str, name: str) -> bool:
        return self._c(kind, "inspect", name).ok


def _works(name: str) -> bool:
    if shutil.which(name) is None:
        return False
    probe = ["version"] if name != "docker" else ["info", "--format", "{{.ServerVersion}}"]
    return call([name, *probe], timeout=30).ok


def find_engine(choice: str | None) -> Engine:
    """The engine asked for, else the first of Docker, Podman, Buildah that works."""
    if choice is not None:
        if choice not in ENGINES:
            raise UserError(f"--engine {choice!r}: choose one of {', '.join(ENGINES)}")
        if not _works(choice):
            raise UserError(f"--engine {choice}: `{choice}` is not installed or does not answer")
        return Engine(choice)
    for name in ENGINES:
        if _works(name):
            return Engine(name)
    raise UserError(
        "no container engine found: verify needs Docker, Podman (apt-get install podman) "
        "or, to check builds only, Buildah"
    )
