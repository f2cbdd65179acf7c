"""Scheduled work: system and user crontabs, run-parts directories, anacron and
systemd timers. `@reboot` jobs also become init units: they run at boot like a
service does, and must not be left out of the service list."""

from __future__ import annotations

import re

from modernize.detector import Detector
from modernize.facts import Found
from modernize.model import CronJob, Evidence, InitUnit
from modernize.parsers.shell import split_command
from modernize.secrets import redact_command
from modernize.snapshot import Snapshot
from modernize.snapshot.declarations import whole

PERIODIC = {"hourly": "@hourly", "daily": "@daily", "weekly": "@weekly", "monthly": "@monthly"}
# run-parts and Debian's cron only run names made of these characters
_RUN_PARTS_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\s*=")
_SPECIAL = {"@reboot", "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}


def parse_crontab(text: str, *, system: bool) -> list[tuple[int, str, str | None, str]]:
    """(line, schedule, user or None, command) for each job line."""
    out = []
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#") or _ENV.match(line):
            continue
        parts = line.split(None, 1)
        if parts[0] in _SPECIAL:
            sched, rest = parts[0], parts[1] if len(parts) > 1 else ""
        else:
            fields = line.split(None, 5)
            if len(fields) < 6:
                continue
            sched, rest = " ".join(fields[:5]), fields[5]
        user = None
        if system:
            bits = rest.split(None, 1)
            if len(bits) < 2:
                continue
            user, rest = bits
        out.append((no, sched, user, rest.strip()))
    return out


class CronDetector(Detector):
    name = "cron"
    tags = ("host", "scheduler")
    requires = ("systemd",)
    reads = whole(
        "/etc/crontab",
        "/etc/cron.d/*",
        "/etc/cron.hourly/*",
        "/etc/cron.daily/*",
        "/etc/cron.weekly/*",
        "/etc/cron.monthly/*",
        "/etc/anacrontab",
        "/var/spool/cron/crontabs/*",
        "/var/spool/cron/*",
        "/etc/crontabs/*",
    )

    def detect(self, snap: Snapshot, found: Found) -> None:
        jobs: list[CronJob] = []
        if snap.is_file("/etc/crontab"):
            jobs += self._tab(snap, "/etc/crontab", "crontab", system=True)
        for path in snap.glob("/etc/cron.d/*"):
            if _RUN_PARTS_NAME.match(path.rsplit("/", 1)[1]) and snap.is_file(path):
                jobs += self._tab(snap, path, "cron.d", system=True)
        for period, sched in PERIODIC.items():
            for path in snap.glob(f"/etc/cron.{period}/*"):
                name = path.rsplit("/", 1)[1]
                if _RUN_PARTS_NAME.match(name) and snap.is_file(path):
                    jobs.append(CronJob(sched, "root", path, "periodic", path, None, (Evidence("file", path),)))
        # Debian keeps user crontabs in crontabs/, RHEL directly in /var/spool/cron/, Alpine in /etc/crontabs
        user_tabs = (
            snap.glob("/var/spool/cron/crontabs/*")
            + snap.glob("/etc/crontabs/*")
            + [p for p in snap.glob("/var/spool/cron/*") if snap.is_file(p)]
        )
        for path in user_tabs:
            if snap.is_file(path):
                jobs += self._tab(snap, path, "user-crontab", system=False, user=path.rsplit("/", 1)[1])
        jobs += self._anacron(snap)
        services = {u.name: u for u in found.units if u.system == "systemd"}
        for unit in found.units:
            if unit.type == "timer" and unit.enabled:
                # what runs is the service the timer triggers, as that service's user
                svc = services.get(unit.triggers or "")
                user = (svc.user if svc else None) or "root"
                command = " ; ".join(" ".join(a) for a in svc.exec_start) if svc and svc.exec_start else None
                for sched in unit.schedule or ("(timer)",):
                    when = sched.split("=", 1)[1] if sched.startswith("OnCalendar=") else sched
                    jobs.append(
                        CronJob(
                            when,
                            user,
                            command or unit.triggers or unit.name,
                            "systemd-timer",
                            unit.path,
                            None,
                            unit.evidence[:1],
                        )
                    )
        found.add(*jobs)
        for job in jobs:
            if job.schedule == "@reboot":
                argv = split_command(job.command)
                found.add(
                    InitUnit(
                        name=f"@reboot:{job.path}:{job.line}",
                        system="cron",
                        type="script",
                        path=job.path,
                        enabled=True,
                        state="enabled",
                        exec_start=(argv,) if argv else (),
                        user=job.user,
                        evidence=job.evidence,
                    )
                )

    @staticmethod
    def _tab(snap: Snapshot, path: str, source: str, *, system: bool, user: str | None = None) -> list[CronJob]:
        text = snap.text(path)
        if text is None:
            return []
        return [
            CronJob(sched, u or user or "root", redact_command(cmd), source, path, no, (Evidence("config", path, no),))
            for no, sched, u, cmd in parse_crontab(text, system=system)
        ]

    @staticmethod
    def _anacron(snap: Snapshot) -> list[CronJob]:
        text = snap.text("/etc/anacrontab")
        out = []
        for no, raw in enumerate((text or "").splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#") or _ENV.match(line):
                continue
            f = line.split(None, 3)
            if len(f) == 4:
                sched = f[0] if f[0].startswith("@") else f"every {f[0]} days"
                out.append(
                    CronJob(
                        sched,
                        "root",
                        f[3],
                        "anacron",
                        "/etc/anacrontab",
                        no,
                        (Evidence("config", "/etc/anacrontab", no),),
                    )
                )
        return out
