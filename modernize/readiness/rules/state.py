"""State: where services keep data, logs and backups, and what ties it to this host."""

from __future__ import annotations

import re
from collections.abc import Iterator

from modernize.model import cite
from modernize.readiness.rule import Context, Hit, Rule
from modernize.readiness.rules._util import under

_BACKUP = re.compile(r"\b(pg_dump|pg_dumpall|mysqldump|mariadb-dump|mongodump|tar|rsync|borg|restic)\b")


def _log_files(ctx: Context) -> Iterator[Hit]:
    for s in ctx.services():
        files = [r for r in s.log_paths if r.path.endswith(".log") or r.kind == "dir"]
        if files:
            yield Hit(s.id, f"logs to {len(files)} file(s): {', '.join(r.path for r in files[:4])}",
                      tuple(e for r in files[:3] for e in cite(r.evidence)))  # fmt: skip


def _shared_data(ctx: Context) -> Iterator[Hit]:
    data = {r.path for s in ctx.inventory.services for r in s.data_dirs}
    for sp in ctx.inventory.shared_paths:
        if sp.path in data:
            for sid in sp.services:
                yield Hit(sid, f"{sp.path} is written and read by {len(sp.services)} services", cite(sp.evidence)[:3])


def _home_data(ctx: Context) -> Iterator[Hit]:
    for s in ctx.services():
        for r in s.data_dirs:
            if r.path.startswith(("~", "/home/")):
                yield Hit(s.id, f"keeps data in users' home directories ({r.path})", cite(r.evidence)[:2])


def _local_backups(ctx: Context) -> Iterator[Hit]:
    for job in ctx.inventory.cron_jobs:
        m = _BACKUP.search(job.command)
        if m:
            yield Hit(None, f"`{job.schedule}` runs {m.group(1)} as {job.user}: backups kept on this host's disk?",
                      (f"{job.path}:{job.line}" if job.line else job.path,))  # fmt: skip


def _tmp_state(ctx: Context) -> Iterator[Hit]:
    for s in ctx.services():
        for r in (*s.data_dirs, *s.content_paths):
            if under(r.path, "/tmp") or under(r.path, "/var/tmp"):
                yield Hit(s.id, f"keeps state in {r.path}", cite(r.evidence)[:1])


def _large_data(ctx: Context) -> Iterator[Hit]:
    for s in ctx.services():
        size = sum(r.size_bytes or 0 for r in s.data_dirs)
        if size >= 50 * 2**30:
            yield Hit(s.id, f"{size / 2**30:.0f} GiB of data to move", tuple(r.path for r in s.data_dirs))


def _hostname_state(ctx: Context) -> Iterator[Hit]:
    for s in ctx.services():
        node = dict(s.attributes).get("node_name") if s.software == "rabbitmq" else None
        if node and not node.endswith("@localhost"):  # a fixed @localhost node moves as it is
            evs = [e for e in s.evidence if node in f"{e.excerpt} {e.detail}"]
            yield Hit(s.id, f"RabbitMQ keeps its database under the node name {node}, which holds the host name",
                      cite(evs)[:3])  # fmt: skip


RULES = [
    Rule(
        "ST001", "Logs written to files", "state", "minor", 1,
        "the software can log to stdout/stderr or a link to them",
        "Send logs to stdout/stderr (the generated images link the files there) or mount a log volume and ship it.",
        _log_files, ("https://docs.docker.com/engine/logging/",),
    ),
    Rule(
        "ST002", "Data shared between services on local disk", "state", "minor", 4,
        "one named volume (or shared storage) serves all of them",
        "Mount one volume into each service (read-only where it only reads), or move the files to object storage.",
        _shared_data,
    ),
    Rule(
        "ST003", "Backups written on the host", "state", "major", 4,
        "the backup moves to a job with its own volume or to the platform's backups",
        "Run the dump from a scheduled container into a backup volume or object storage, and test a restore.",
        _local_backups,
    ),
    Rule(
        "ST004", "Data in users' home directories", "state", "major", 6,
        "the homes become a volume",
        "Move per-user data to a dedicated volume, or a managed mail/file service.", _home_data,
    ),
    Rule(
        "ST005", "State in /tmp", "state", "minor", 2,
        "what is there can be lost or moved to a volume",
        "Put state the service needs to keep on a volume; /tmp is memory in the generated containers.", _tmp_state,
    ),
    Rule(
        "ST006", "A lot of data to move", "state", "minor", 8,
        "a copy window and network bandwidth for 50 GiB or more",
        "Plan the copy: a first rsync while the service runs, a short stop, a final sync; or keep the data on "
        "shared storage.", _large_data,
    ),
    Rule(
        "ST007", "State keyed by the host name", "state", "minor", 2,
        "the container's hostname can be set to the old node name",
        "Set `hostname:` in compose to the old name, or migrate the node's data to the new name.",
        _hostname_state, ("https://www.rabbitmq.com/docs/clustering#node-names",),
    ),
]  # fmt: skip


def _uploads(ctx: Context) -> Iterator[Hit]:
    for s in ctx.services():
        for r in s.data_dirs:
            if r.role == "uploads":
                yield Hit(s.id, f"users' uploads live on local disk in {r.path}", cite(r.evidence)[:1])


def _local_disks(ctx: Context) -> Iterator[Hit]:
    mounts = [m for m in ctx.inventory.mounts if m.kind == "local" and m.target not in ("/", "none")]
    for s in ctx.services():
        for m in mounts:
            if any(r.path == m.target or r.path.startswith(m.target.rstrip("/") + "/") for r in s.data_dirs):
                yield Hit(
                    s.id, f"its data is on the separate disk {m.source} mounted at {m.target}", cite(m.evidence)[:1]
                )


RULES += [
    Rule(
        "ST008", "Uploads on local disk", "state", "minor", 3,
        "one volume (or object storage) holds them for every replica",
        "Keep uploads on a volume shared by every service that reads them, or move them to object storage "
        "so the app can run more than one replica.", _uploads,
    ),
    Rule(
        "ST009", "Data on a separate local disk", "state", "minor", 2,
        "the disk's contents move to a volume or stay attached to the container host",
        "Give the volume the same storage class as the disk had (size, speed), or attach the disk to the "
        "container host and bind-mount it.", _local_disks,
    ),
]  # fmt: skip


def _databases(ctx: Context) -> Iterator[Hit]:
    for s in ctx.services():
        if s.kind == "database" and s.data_dirs:
            size = sum(r.size_bytes or 0 for r in s.data_dirs)
            yield Hit(s.id, f"{s.software} data to migrate ({size / 2**20:.0f} MiB on disk)",
                      tuple(e for r in s.data_dirs for e in cite(r.evidence))[:2])  # fmt: skip


RULES += [
    Rule(
        "ST010", "A database to migrate", "state", "minor", 4,
        "a dump and restore fits the downtime window; replication otherwise",
        "Plan the data move: a dump and restore (MIGRATION.md gives the commands) or replication and a "
        "switch-over; test the restore first.", _databases,
    ),
]  # fmt: skip
