"""SysV init scripts (`/etc/init.d` + `/etc/rc?.d` links) and OpenRC services
(`/etc/init.d` + `/etc/runlevels/*`).

A SysV script that has a native systemd unit of the same name is shadowed:
systemd's sysv generator ignores it, so it is not counted as running twice.
"""

from __future__ import annotations

import re

from modernize.detector import Detector
from modernize.facts import Found
from modernize.model import Evidence, InitUnit
from modernize.parsers.shell import assignments, split_command
from modernize.secrets import redact_argv
from modernize.snapshot import Snapshot
from modernize.snapshot.declarations import whole

_LSB = re.compile(r"^#\s*([A-Za-z-]+):\s*(.*)$")
_RC = re.compile(r"^([SK])(\d\d)(.+)$")
SKIP = {"README", "skeleton", "rc", "rcS", "functions", "halt", "reboot", "single", "killprocs", ".depend.boot"}


_DEFAULT_ASSIGN = re.compile(r"^\s*:\s*\$\{(\w+):?=(.*)\}\s*$")
_EXPAND = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}|\$(\w+)")


def _openrc_user(text: str, values: dict[str, str]) -> str | None:
    """`command_user="redis:redis"`, or the idiom `: ${command_user:="${REDIS_USER:-redis}"}`,
    expanded with the service's /etc/conf.d values."""
    raw = values.get("command_user")
    if raw is None:
        for line in text.splitlines():
            m = _DEFAULT_ASSIGN.match(line)
            if m and m.group(1) == "command_user":
                raw = m.group(2).strip().strip("\"'")
    if not raw:
        return None
    expanded = _EXPAND.sub(lambda m: values.get(m.group(1) or m.group(3), m.group(2) or ""), raw)
    return expanded.split(":")[0] or None


class SysvDetector(Detector):
    name = "sysv"
    tags = ("host", "init")
    requires = ("systemd",)
    reads = (
        *whole("/etc/init.d/*", "/etc/rc.d/init.d/*"),
        *whole("/etc/rc?.d/*", "/etc/rc.d/rc?.d/*"),
        *whole("/etc/runlevels/*/*", "/etc/conf.d/*"),
    )

    def detect(self, snap: Snapshot, found: Found) -> None:
        native = {n for u in found.units if u.system == "systemd" for n in (u.name, *u.aliases)}
        openrc = bool(snap.glob("/etc/runlevels/*"))
        links = self._rc_links(snap)
        runlevels = self._runlevels(snap)
        for path in snap.glob("/etc/init.d/*") + snap.glob("/etc/rc.d/init.d/*"):
            name = path.rsplit("/", 1)[1]
            if name in SKIP or name.startswith(".") or name.endswith((".sh", ".dpkg-old", ".dpkg-dist", "~")):
                continue
            text = snap.text(path)
            if text is None or not snap.is_file(path):
                continue
            if openrc and text.startswith("#!/sbin/openrc-run"):
                found.add(self._openrc(snap, name, path, text, runlevels.get(name, [])))
                continue
            lsb = {m.group(1).lower(): m.group(2).strip() for m in map(_LSB.match, text.splitlines()) if m}
            starts = [lvl for lvl, kind, _ in links.get(name, []) if kind == "S"]
            ev = [Evidence("unit", path, detail=f"LSB: {lsb.get('short-description', '')}".strip())]
            ev += [Evidence("symlink", link) for _, kind, link in links.get(name, []) if kind == "S"][:4]
            if f"{name}.service" in native:
                state, enabled = "shadowed", None
            elif starts:
                state, enabled = "enabled", True
            else:
                state, enabled = "disabled", False
            found.add(
                InitUnit(
                    name=name,
                    system="sysv",
                    type="script",
                    path=path,
                    enabled=enabled,
                    state=state,
                    description=lsb.get("short-description") or lsb.get("description"),
                    exec_start=self._daemon(text),
                    evidence=tuple(ev),
                )
            )

    @staticmethod
    def _rc_links(snap: Snapshot) -> dict[str, list[tuple[str, str, str]]]:
        out: dict[str, list[tuple[str, str, str]]] = {}
        for link in snap.glob("/etc/rc?.d/*") + snap.glob("/etc/rc.d/rc?.d/*"):
            level = link.rsplit("/", 2)[1][2]
            m = _RC.match(link.rsplit("/", 1)[1])
            if not m or level not in "2345":
                continue
            target = snap.readlink(link)
            name = target.rsplit("/", 1)[1] if target else m.group(3)
            out.setdefault(name, []).append((level, m.group(1), link))
        return out

    @staticmethod
    def _runlevels(snap: Snapshot) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for link in snap.glob("/etc/runlevels/*/*"):
            out.setdefault(link.rsplit("/", 1)[1], []).append(link)
        return out

    @staticmethod
    def _daemon(text: str) -> tuple[tuple[str, ...], ...]:
        """The program a classic init script starts: its DAEMON= (Debian skeleton) or
        the first absolute path handed to start-stop-daemon / daemon."""
        values = {k: v for _, k, v in assignments(text)}
        daemon = values.get("DAEMON")
        if daemon and daemon.startswith("/"):
            args = values.get("DAEMON_ARGS") or values.get("DAEMON_OPTS") or ""
            return (redact_argv((daemon, *split_command(args))),)
        m = re.search(r"(?:--exec|--startas|daemon)\s+(/[^\s;\"']+)", text)
        return ((m.group(1),),) if m else ()

    @staticmethod
    def _openrc(snap: Snapshot, name: str, path: str, text: str, levels: list[str]) -> InitUnit:
        values = {k: v for _, k, v in assignments(text)}
        conf = snap.text(f"/etc/conf.d/{name}")
        if conf:
            values.update({k: v for _, k, v in assignments(conf)})
        command = values.get("command")
        argv: tuple[tuple[str, ...], ...] = ()
        if command:
            argv = (redact_argv((command, *split_command(values.get("command_args", "")))),)
        user = _openrc_user(text, values)
        ev = [Evidence("unit", path)] + [Evidence("symlink", lvl) for lvl in levels]
        return InitUnit(
            name=name,
            system="openrc",
            type="script",
            path=path,
            enabled=bool(levels),
            state="enabled" if levels else "disabled",
            description=values.get("description"),
            exec_start=argv,
            user=user,
            evidence=tuple(ev),
        )
