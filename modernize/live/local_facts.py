"""Runtime facts of the machine modernize runs on, from psutil (and, where psutil has
no answer, the kernel's own read-only interfaces and `systemctl list-*`), written
by the same writer as the SSH source's (runtime_facts.write_runtime)."""

from __future__ import annotations

import shutil
import socket
import subprocess
from typing import Any

import psutil

from modernize.live.runtime_facts import unique, unit_of, units, write_runtime

CONTAINER_TOOLS = ("docker", "podman", "containerd", "crio", "lxc", "lxd", "kubelet")


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            return f.read()
    except OSError:
        return ""


def processes() -> list[dict[str, Any]]:
    out = []
    for p in psutil.process_iter(["pid", "ppid", "uids", "username", "exe", "cmdline", "cwd"]):
        info = p.info
        cmd = info.get("cmdline") or []
        if not cmd:
            continue  # a kernel thread, or one we may not see
        uids = info.get("uids")
        out.append(
            {
                "pid": info["pid"],
                "ppid": info.get("ppid"),
                "user": info.get("username"),
                "uid": uids.real if uids is not None else None,
                "exe": info.get("exe") or None,
                "cmdline": list(cmd),
                "cwd": info.get("cwd") or None,
                "unit": unit_of(_read(f"/proc/{info['pid']}/cgroup")),
            }
        )
    return sorted(out, key=lambda p: p["pid"])


def listening() -> list[dict[str, Any]]:
    """TCP sockets listening, UDP sockets bound and unconnected, unix sockets with a path."""
    out: list[dict[str, Any]] = []
    try:
        conns = psutil.net_connections(kind="all")
    except psutil.AccessDenied:
        conns = []
    for c in conns:
        if c.family == socket.AF_UNIX:
            path = c.laddr if isinstance(c.laddr, str) else ""
            if path.startswith("/") and c.type == socket.SOCK_STREAM:
                out.append({"proto": "unix", "path": path, "pid": c.pid})
            continue
        if not c.laddr:
            continue
        tcp = c.type == socket.SOCK_STREAM
        if (tcp and c.status != psutil.CONN_LISTEN) or (not tcp and c.raddr):
            continue
        address = c.laddr.ip.split("%", 1)[0]
        out.append({"proto": "tcp" if tcp else "udp", "address": address, "port": c.laddr.port, "pid": c.pid})
    return unique(out)


def mounts() -> list[dict[str, str]]:
    return [
        {"source": m.device, "target": m.mountpoint, "fstype": m.fstype, "options": m.opts}
        for m in psutil.disk_partitions(all=True)
    ]


def _units() -> list[dict[str, str]] | None:
    systemctl = shutil.which("systemctl")
    if systemctl is None or not _is_systemd():
        return None
    try:
        listed = subprocess.run(
            [systemctl, "list-units", "--all", "--no-legend", "--no-pager", "--plain"],
            capture_output=True, text=True, timeout=30, check=False,
        ).stdout  # fmt: skip
        files = subprocess.run(
            [systemctl, "list-unit-files", "--no-legend", "--no-pager"],
            capture_output=True, text=True, timeout=30, check=False,
        ).stdout  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    return units(listed, files)


def _is_systemd() -> bool:
    import os

    return os.path.isdir("/run/systemd/system")


def runtime_files() -> dict[str, bytes]:
    """File name under /.modernize/runtime/ -> contents, for this machine now."""
    modules = [ln.split()[0] for ln in _read("/proc/modules").splitlines() if ln.split()]
    return write_runtime(
        processes=processes(),
        listening=listening(),
        mounts=mounts(),
        modules=modules,
        units=_units(),
        containers=[t for t in CONTAINER_TOOLS if shutil.which(t)],
    )
