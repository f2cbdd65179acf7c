"""Operations: scheduled jobs, mail, memory sizing, agents on the host."""

from __future__ import annotations

import re
from collections.abc import Iterator

from modernize.model import cite
from modernize.readiness.rule import Context, Hit, Rule

_HEAP = re.compile(r"-Xmx(\d+[kmgKMG]?)")


def _cron(ctx: Context) -> Iterator[Hit]:
    changed = {c.path for c in ctx.inventory.config_changes if c.status in ("modified", "unowned")}
    for job in ctx.inventory.cron_jobs:
        if job.path in changed or job.source == "user-crontab":
            where = f"{job.path}:{job.line}" if job.line else job.path
            yield Hit(None, f"`{job.schedule}` {job.command[:80]} (as {job.user})", (where,))


def _local_mta(ctx: Context) -> Iterator[Hit]:
    mail = [s for s in ctx.inventory.services if s.kind == "mail" and any(p.port == 25 for p in s.ports)]
    if mail:
        apps = [s for s in ctx.services() if s.kind in ("app", "worker")]
        for s in apps:
            yield Hit(
                s.id, f"mail from this host goes through the local {mail[0].software}", cite(mail[0].evidence)[:1]
            )


def _heap(ctx: Context) -> Iterator[Hit]:
    for s in ctx.services():
        text = " ".join(s.command) + " " + " ".join(v for _, v in s.attributes)
        m = _HEAP.search(text)
        if m:
            yield Hit(s.id, f"a fixed JVM heap (-Xmx{m.group(1)}): the container's memory limit must match",
                      cite(s.evidence)[:1])  # fmt: skip


def _agents(ctx: Context) -> Iterator[Hit]:
    for s in ctx.inventory.services:
        if s.kind == "monitoring" or s.software in ("zabbix-agent", "prometheus-node-exporter", "datadog-agent"):
            yield Hit(None, f"{s.software} watches this host: the containers need their own monitoring",
                      cite(s.evidence)[:1])  # fmt: skip


def _syslog(ctx: Context) -> Iterator[Hit]:
    for d in ctx.inventory.dependencies:
        if d.via == "omfwd" or (d.source == "rsyslog" and d.external):
            yield Hit(None, f"the host forwards its logs to {d.host}", cite(d.evidence)[:1])


RULES = [
    Rule(
        "OP001", "Scheduled jobs", "operations", "minor", 2,
        "each job runs in its service's image from the host's or platform's scheduler",
        "Run each job with `docker compose run` from a scheduler (host cron, systemd timer, Kubernetes CronJob); "
        "MIGRATION.md lists them.", _cron,
    ),
    Rule(
        "OP002", "Mail through a local MTA", "operations", "minor", 2,
        "an SMTP relay is reachable from the containers",
        "Point the apps at an SMTP relay (a mail service or an MTA container) by name.", _local_mta,
    ),
    Rule(
        "OP003", "A fixed JVM heap", "operations", "minor", 1,
        "the container's memory limit is set with it",
        "Set the container's memory limit and size the heap from it (-XX:MaxRAMPercentage) instead of -Xmx.",
        _heap, ("https://docs.oracle.com/en/java/javase/17/docs/specs/man/java.html",),
    ),
    Rule(
        "OP004", "Monitoring agents on the host", "operations", "info", 2,
        "the platform has its own monitoring",
        "Monitor the containers (cAdvisor, the platform's agent) and the apps' own metrics endpoints.", _agents,
    ),
    Rule(
        "OP005", "Logs forwarded by the host's syslog", "operations", "minor", 1,
        "the engine's log driver can forward the same way",
        "Configure the engine's log driver (syslog, fluentd, journald) to forward container logs.", _syslog,
        ("https://docs.docker.com/engine/logging/configure/",),
    ),
]  # fmt: skip


def _logrotate(ctx: Context) -> Iterator[Hit]:
    changed = [c.path for c in ctx.inventory.config_changes
               if c.path.startswith("/etc/logrotate.d/") and c.status in ("modified", "unowned")]  # fmt: skip
    if changed:
        yield Hit(None, f"log rotation set up by hand: {', '.join(changed)}", tuple(changed)[:4])


RULES += [
    Rule(
        "OP006", "Log rotation set up by hand", "operations", "info", 0.5,
        "the logs go to the engine, which rotates them",
        "Drop the rotation: log to stdout/stderr and set the engine's log rotation (max-size, max-file).",
        _logrotate, ("https://docs.docker.com/engine/logging/drivers/json-file/",),
    ),
]  # fmt: skip
