"""Per-software knowledge for the planner: the counterpart of a detector.

A knowledge module says how its software runs in a container: the foreground
start command (a server's `daemon on` or `/bin/true` wrapper unit does not
run there), the user, the healthcheck, which bind address to open, what
hardening it survives. Built-in modules register through the
`modernize.software` entry-point group exactly as a third party's would.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import ClassVar

from modernize.errors import RegistryError
from modernize.model import Service
from modernize.plan.draft import Context, Draft
from modernize.plan.model import Healthcheck

GROUP = "modernize.software"
LOOPBACK = ("127.0.0.1", "::1", "localhost", "[::1]")


class Knowledge:
    """What the planner knows of one software. Subclasses set `name` and
    `software` (the inventory's software names it covers) and override
    `distro` and `official`; the defaults keep the server's own command."""

    name: ClassVar[str] = "generic"
    software: ClassVar[tuple[str, ...]] = ()
    #: on an image of the server's own distribution, the process starts as root and drops privileges
    starts_as_root: ClassVar[bool] = False

    def image_key(self, svc: Service, ctx: Context) -> tuple[str, str | None, dict[str, str]] | None:
        """Which images.yaml entry and series run SVC (and extra facts its tag rule
        uses), or None when no official image fits it."""
        from modernize.plan.planner import image_series

        return svc.software, image_series(svc), {}

    def no_official_reason(self, svc: Service, ctx: Context) -> str:
        key = self.image_key(svc, ctx)
        if key is None:
            return f"no official image fits {svc.software} as this server runs it"
        return f"no official image known for {key[0]} {key[1] or '(no version)'}"

    def distro(self, d: Draft, ctx: Context) -> None:
        keep_command(d)
        if d.svc.user and d.svc.user != "root":
            d.user = d.svc.user
        tcp_healthcheck(d)

    def official(self, d: Draft, ctx: Context) -> None:
        if d.entry and d.entry.healthcheck:
            d.healthcheck = Healthcheck(d.entry.healthcheck)
            d.decide("healthcheck", "the image's own check, from images.yaml")
        else:
            tcp_healthcheck(d)


def keep_command(d: Draft) -> None:
    """The server's command, with a loopback bind opened to the container network."""
    if not d.svc.command:
        return
    d.command = tuple(open_bind(arg) for arg in d.svc.command)
    d.workdir = d.svc.working_dir
    d.decide("command", "the command the server runs", tuple(cite_start(d)))
    unresolved = [a for a in d.command if "$" in a]
    if unresolved:
        # an init script's variables ($cfgfile, $OPTIONS): an exec-form CMD does not expand them
        d.command = tuple(a for a in d.command if "$" not in a)
        d.decide("command", f"left out, as nothing sets them in a container: {' '.join(unresolved)}")
    if d.command != d.svc.command:
        d.decide("command", "a loopback bind address is opened (0.0.0.0): other containers reach it by name")


def cite_start(d: Draft) -> list[str]:
    return [f"{m.system}: {m.name}" for m in d.svc.started_by]


def open_bind(arg: str) -> str:
    """`127.0.0.1:8000` -> `0.0.0.0:8000`; anything else unchanged."""
    for lo in LOOPBACK:
        if arg.startswith(lo + ":") and arg[len(lo) + 1 :].isdigit():
            return "0.0.0.0:" + arg[len(lo) + 1 :]
        if arg == lo:
            return "0.0.0.0"
    return arg


def first_port(d: Draft) -> int | None:
    tcp = [p.port for p in d.ports if p.proto == "tcp"]
    return min(tcp) if tcp else None


def tcp_healthcheck(d: Draft) -> None:
    """A connect to the service's first TCP port, with bash's /dev/tcp (every
    Debian image has bash; no curl or nc needed)."""
    port = first_port(d)
    if port is None:
        return
    d.healthcheck = Healthcheck(("CMD", "bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{port}"))
    d.decide("healthcheck", f"a TCP connect to port {port}; the image has no HTTP client")


def python_tcp_healthcheck(d: Draft, python: str) -> None:
    port = first_port(d)
    if port is None:
        return
    code = f"import socket; socket.create_connection(('127.0.0.1', {port}), 3)"
    d.healthcheck = Healthcheck(("CMD", python, "-c", code))
    d.decide("healthcheck", f"a TCP connect to port {port} with the app's own Python")


def load_knowledge() -> dict[str, Knowledge]:
    """software name -> knowledge, from the entry-point group."""
    out: dict[str, Knowledge] = {}
    owner: dict[str, str] = {}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        try:
            cls = ep.load()
            know = cls()
        except Exception as exc:  # a broken plugin must not take the planner down
            raise RegistryError(f"software knowledge {ep.name!r} failed to load: {exc}") from exc
        for sw in know.software:
            if sw in owner:
                raise RegistryError(f"software {sw!r} is claimed by both {owner[sw]!r} and {ep.name!r}")
            owner[sw] = ep.name
            out[sw] = know
    return out
