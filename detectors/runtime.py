"""Runtime facts of a live host, captured as files under `/.modernize/runtime/`.

A live source (SSH, local) writes these files into the snapshot it presents, and
`modernize capture` saves them in a bundle, so detectors and tests read runtime
facts like any other file. The formats are fixed here (JSON Lines: one object
per line; unknown keys are ignored, so later captures may add fields):

processes.jsonl  {"pid": 812, "ppid": 1, "user": "www-data", "exe": "/usr/sbin/nginx",
                  "cmdline": ["nginx: worker process"], "cwd": "/", "unit": "nginx.service"}
                 (unit: the systemd unit of the process's cgroup, when known)
listening.jsonl  {"proto": "tcp", "address": "0.0.0.0", "port": 80, "pid": 812}
                 {"proto": "unix", "path": "/run/php/php8.2-fpm.sock", "pid": 901}
                 (proto is tcp or udp; IPv6 addresses as "::" / "::1")
mounts.jsonl     {"source": "/dev/vda1", "target": "/", "fstype": "ext4", "options": "rw,relatime"}
modules.txt      loaded kernel modules, one name per line (lsmod's first column)
units.jsonl      {"unit": "nginx.service", "load": "loaded", "active": "active",
                  "sub": "running", "enabled": "enabled"}
"""

from __future__ import annotations

import json
from typing import Any

from detectors.host_coupling import mount_kind
from modernize.detector import Detector
from modernize.facts import Found, Listener
from modernize.model import Evidence, HostSetting, Mount
from modernize.snapshot import Snapshot
from modernize.snapshot.declarations import whole

RUNTIME = "/.modernize/runtime"


def jsonl(snap: Snapshot, found: Found, name: str) -> list[tuple[int, dict[str, Any]]]:
    path = f"{RUNTIME}/{name}"
    text = snap.text(path)
    out = []
    for no, line in enumerate((text or "").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            found.unparsable(path, f"line {no}: {exc.msg}")
            continue
        if isinstance(obj, dict):
            out.append((no, obj))
    return out


class RuntimeDetector(Detector):
    name = "runtime"
    tags = ("host", "runtime")
    reads = whole(f"{RUNTIME}/*")

    def detect(self, snap: Snapshot, found: Found) -> None:
        procs = {p.get("pid"): p for _, p in jsonl(snap, found, "processes.jsonl")}
        for no, s in jsonl(snap, found, "listening.jsonl"):
            proc = procs.get(s.get("pid")) or {}
            cmd = proc.get("cmdline") or []
            found.add(
                Listener(
                    proto=str(s.get("proto", "tcp")).rstrip("6"),
                    address=s.get("address"),
                    port=s.get("port"),
                    path=s.get("path"),
                    pid=s.get("pid"),
                    exe=proc.get("exe"),
                    cmdline=tuple(str(c) for c in cmd),
                    user=proc.get("user"),
                    unit=proc.get("unit"),
                    evidence=(Evidence("runtime", f"{RUNTIME}/listening.jsonl", no),),
                )
            )
        for no, m in jsonl(snap, found, "mounts.jsonl"):
            opts = str(m.get("options", "")).split(",")
            fstype = str(m.get("fstype", ""))
            if mount_kind(fstype, opts) == "pseudo":
                continue  # /proc, /sys, cgroups: every host has them
            found.add(
                Mount(
                    source=str(m.get("source", "")),
                    target=str(m.get("target", "")),
                    fstype=fstype,
                    options=tuple(opts),
                    kind=mount_kind(fstype, opts),
                    evidence=(Evidence("runtime", f"{RUNTIME}/mounts.jsonl", no),),
                )
            )
        text = snap.text(f"{RUNTIME}/modules.txt")
        for no, line in enumerate((text or "").splitlines(), 1):
            name = line.split()[0] if line.split() else ""
            if name and name != "Module":
                found.add(
                    HostSetting("kernel-module", name, "loaded", (Evidence("runtime", f"{RUNTIME}/modules.txt", no),))
                )
