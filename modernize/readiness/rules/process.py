"""Process model: how services are started and whether that survives one process
per container."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from modernize.model import InitUnit, Service, cite
from modernize.readiness.rule import Context, Hit, Rule


def _shared_starter(ctx: Context) -> Iterator[Hit]:
    by_starter: dict[tuple[str, str], list[str]] = defaultdict(list)
    for s in ctx.services():
        for m in s.started_by:
            if m.system in ("supervisord", "sysv", "pm2", "openrc", "systemd"):
                by_starter[(m.system, m.name)].append(s.id)
    for (system, name), ids in sorted(by_starter.items()):
        if len(ids) > 1:
            for sid in ids:
                yield Hit(sid, f"{system} {name} starts {len(ids)} services: {', '.join(sorted(ids))}", ())
    for s in ctx.services():
        if any(m.system == "supervisord" for m in s.started_by):
            yield Hit(s.id, "started by supervisord, a process manager the container replaces", cite(s.evidence)[:2])


def _sysv(ctx: Context) -> Iterator[Hit]:
    for s in ctx.services():
        m = next((m for m in s.started_by if m.system in ("sysv", "openrc")), None)
        if m is not None and not any(x.system == "systemd" for x in s.started_by):
            yield Hit(s.id, f"started by the init script {m.name}: its logic must become the container's command",
                      cite(m.evidence)[:2])  # fmt: skip


def _inside_web_server(ctx: Context) -> Iterator[Hit]:
    for s in ctx.services():
        if s.kind == "app" and not s.ports and not s.command and s.runtime:
            yield Hit(s.id, f"{s.name} ({s.runtime}) has no process or port of its own: it runs inside a server",
                      cite(s.evidence)[:2])  # fmt: skip


def _systemd_features(ctx: Context) -> Iterator[Hit]:
    sockets = [u for u in ctx.inventory.units if u.type == "socket" and u.triggers and u.enabled]
    for s in ctx.services():
        for m in s.started_by:
            for u in sockets:
                if u.triggers == m.name:
                    yield Hit(s.id, f"socket-activated by {u.name}: the container must listen itself", (u.path,))


def _unclassified(ctx: Context) -> Iterator[Hit]:
    for s in ctx.services():
        if not s.classified:
            yield Hit(
                s.id, f"{s.name}: no detector knows what this is ({' '.join(s.command)[:80]})", cite(s.evidence)[:3]
            )


def _systemd_units(ctx: Context, s: Service) -> list[InitUnit]:
    """The systemd service units that start S (by name or alias)."""
    names = {m.name for m in s.started_by if m.system == "systemd"}
    return [
        u
        for u in ctx.inventory.units
        if u.system == "systemd" and u.type == "service" and (u.name in names or names & set(u.aliases))
    ]


def _forking(ctx: Context) -> Iterator[Hit]:
    for s in ctx.services():
        units = _systemd_units(ctx, s)
        forking = next((u for u in units if u.service_type == "forking"), None)
        if forking is not None:
            yield Hit(s.id, f"its unit {forking.name} says Type=forking: the program puts itself in the background",
                      cite(forking.evidence)[:2])  # fmt: skip
            continue
        if any(u.service_type for u in units):
            continue  # its unit runs it in the foreground (Type=simple, exec, notify ...): the unit is the fact
        cmd = " ".join(s.command)
        for flag in ("daemon on;", "--daemonize yes", " --daemon ", " start-stop-daemon "):
            if flag in f" {cmd} ":
                yield Hit(s.id, f"its command daemonizes ({flag.strip()}): the container needs it in the foreground",
                          cite(s.evidence)[:1])  # fmt: skip
                break


RULES = [
    Rule(
        "PM001", "Several services under one starter or a process manager", "process model", "major", 6,
        "each program becomes its own container",
        "Split the programs into one container each (compose services); drop supervisord/pm2 in favour of the "
        "engine's restart policy.", _shared_starter,
        ("https://docs.docker.com/engine/containers/multi-service_container/",),
    ),
    Rule(
        "PM002", "Started by a SysV/OpenRC init script", "process model", "minor", 3,
        "the script's logic (environment, checks, pid files) is short",
        "Read the init script and carry what it does before starting the program into the Dockerfile or an "
        "entrypoint; run the program itself in the foreground.", _sysv,
    ),
    Rule(
        "PM003", "An app that lives inside a server", "process model", "minor", 4,
        "the app moves with its server's image (mod_php, PHP-FPM, Passenger, mod_wsgi)",
        "Build the app into the image of the server that runs it, or move it to its own app server "
        "(PHP-FPM, gunicorn) behind a web server container.", _inside_web_server,
    ),
    Rule(
        "PM004", "Socket activation by systemd", "process model", "major", 4,
        "the program can listen on its own",
        "Configure the program to open its port itself; containers have no systemd to hand sockets over.",
        _systemd_features, ("https://www.freedesktop.org/software/systemd/man/latest/systemd.socket.html",),
    ),
    Rule(
        "PM005", "Software no detector recognised", "process model", "major", 8,
        "someone who knows it can say how it runs",
        "Find out what the program is, what it reads and writes and what it listens on; the plan lifts it "
        "with the whole host until then.", _unclassified,
    ),
    Rule(
        "PM006", "A daemon that forks into the background", "process model", "minor", 1,
        "the program has a foreground switch",
        "Run it in the foreground (nginx `daemon off;`, redis `--daemonize no`); the generated Dockerfile does.",
        _forking,
    ),
]  # fmt: skip


def _workers(ctx: Context) -> Iterator[Hit]:
    for s in ctx.services():
        if s.kind == "worker":
            yield Hit(s.id, f"{s.name} is a background worker of {s.instance or 'an app'}: it scales on its own",
                      cite(s.evidence)[:1])  # fmt: skip


RULES += [
    Rule(
        "PM007", "A background worker", "process model", "info", 1,
        "the worker runs from the app's image with another command",
        "Run it as its own service from the app's image (the generated compose does); scale it on queue length.",
        _workers,
    ),
]  # fmt: skip


def _timers(ctx: Context) -> Iterator[Hit]:
    changed = {c.path for c in ctx.inventory.config_changes if c.status in ("modified", "unowned")}
    for u in ctx.inventory.units:
        if u.type == "timer" and u.enabled and u.path in changed:
            yield Hit(None, f"the systemd timer {u.name} ({', '.join(u.schedule) or 'scheduled'}) runs {u.triggers}",
                      (u.path,))  # fmt: skip


RULES += [
    Rule(
        "PM008", "Work run by a systemd timer", "process model", "minor", 1,
        "the platform's scheduler can run the same command",
        "Run the timer's command from the host's or platform's scheduler with `docker compose run` (or a "
        "Kubernetes CronJob); containers have no systemd.", _timers,
    ),
]  # fmt: skip


def _notify(ctx: Context) -> Iterator[Hit]:
    for s in ctx.services():
        for u in _systemd_units(ctx, s):
            if u.service_type in ("notify", "notify-reload"):
                yield Hit(s.id, f"its unit {u.name} says Type={u.service_type}: it reports readiness to systemd "
                                "through sd_notify, which no container engine listens for",
                          cite(u.evidence)[:2])  # fmt: skip
                break


RULES += [
    Rule(
        "PM009", "Needs systemd's sd_notify (Type=notify)", "process model", "minor", 1,
        "the program starts without NOTIFY_SOCKET (most do: sd_notify is then a no-op) and has another way to "
        "tell it is ready",
        "Run the program in the foreground without systemd: readiness comes from a healthcheck instead "
        "(`healthcheck:` in compose, a readiness probe in Kubernetes), and reload (notify-reload) becomes a "
        "signal sent with `docker kill -s HUP`. Check the program does not wait for or require NOTIFY_SOCKET "
        "and that its watchdog (WatchdogSec=) is replaced by the healthcheck.",
        _notify,
        ("https://www.freedesktop.org/software/systemd/man/latest/systemd.service.html#Type=",
         "https://www.freedesktop.org/software/systemd/man/latest/sd_notify.html",
         "https://docs.docker.com/reference/compose-file/services/#healthcheck"),
    ),
]  # fmt: skip
