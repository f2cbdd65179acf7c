"""Tool output from a live host turned into the runtime files detectors/runtime.py reads
(`/.modernize/runtime/*.jsonl`, `modules.txt`). Pure functions over bytes: testable offline."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable
from typing import Any

from modernize.live.frames import Survey


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def users(passwd: bytes) -> dict[int, str]:
    out: dict[int, str] = {}
    for line in _text(passwd).splitlines():
        f = line.split(":")
        if len(f) >= 3 and f[2].isdigit():
            out.setdefault(int(f[2]), f[0])
    return out


def unit_of(cgroup: str) -> str | None:
    """The systemd unit of a process, from /proc/PID/cgroup (v2 `0::/...`, or v1's name=systemd)."""
    for line in cgroup.splitlines():
        _, controllers, path = [*line.split(":", 2), "", ""][:3]
        if controllers in ("", "name=systemd"):
            for part in reversed(path.split("/")):
                if part.endswith((".service", ".socket", ".scope")) and not part.startswith("session-"):
                    return part
    return None


def processes(survey: Survey) -> list[dict[str, Any]]:
    names = users(survey.sections.get("passwd", b""))
    out = []
    for frames in survey.processes:
        pid_text = _text(frames.get("P", b""))
        if not pid_text.isdigit():
            continue
        status: dict[str, str] = {}
        for line in _text(frames.get("status", b"")).splitlines():
            key, _, value = line.partition(":")
            status[key] = value.strip()
        cmd = [_text(a) for a in frames.get("C", b"").rstrip(b"\n").split(b"\0")]
        while cmd and cmd[-1] == "":
            cmd.pop()
        if not cmd:
            continue  # a kernel thread
        uid_text = status.get("Uid", "").split("\t")[0].split()[0] if status.get("Uid") else ""
        uid = int(uid_text) if uid_text.isdigit() else None
        proc: dict[str, Any] = {
            "pid": int(pid_text),
            "ppid": int(status["PPid"]) if status.get("PPid", "").isdigit() else None,
            "user": names.get(uid, str(uid)) if uid is not None else None,
            "uid": uid,
            "exe": _text(frames.get("X", b"")).removesuffix(" (deleted)") or None,
            "cmdline": cmd,
            "cwd": _text(frames.get("W", b"")) or None,
            "unit": unit_of(_text(frames.get("G", b""))),
        }
        out.append(proc)
    return sorted(out, key=lambda p: p["pid"])


# -- sockets -----------------------------------------------------------------------
_SS_USERS = re.compile(r"pid=(\d+)")


def _split_hostport(text: str) -> tuple[str, int] | None:
    host, _, port = text.rpartition(":")
    if not port.isdigit():
        return None
    host = host.strip("[]").split("%", 1)[0]
    if host in ("*", ""):
        host = "0.0.0.0"
    return host, int(port)


def from_ss(text: str) -> list[dict[str, Any]]:
    out = []
    for line in text.splitlines():
        f = line.split()
        if len(f) < 5 or f[0] not in ("tcp", "udp") or f[1] not in ("LISTEN", "UNCONN"):
            continue
        hp = _split_hostport(f[4])
        if hp is None:
            continue
        pids = _SS_USERS.findall(" ".join(f[6:]))
        out.append({"proto": f[0], "address": hp[0], "port": hp[1], "pid": int(pids[0]) if pids else None})
    return out


def from_netstat(text: str) -> list[dict[str, Any]]:
    out = []
    for line in text.splitlines():
        f = line.split()
        if len(f) < 6 or not f[0].startswith(("tcp", "udp")):
            continue
        if f[0].startswith("tcp") and (len(f) < 7 or f[5] != "LISTEN"):
            continue
        hp = _split_hostport(f[3])
        if hp is None:
            continue
        owner = f[-1].split("/", 1)[0]
        host = "::" if hp[0] == "::" else hp[0]
        out.append(
            {"proto": f[0].rstrip("6"), "address": host, "port": hp[1], "pid": int(owner) if owner.isdigit() else None}
        )
    return out


def _hex_address(text: str) -> tuple[str, int]:
    addr, _, port = text.partition(":")
    raw = bytes.fromhex(addr)
    # /proc/net prints each 32-bit word in the host's (little-endian) order
    raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(raw)), int(port, 16)


def socket_owners(ls_output: str) -> dict[int, int]:
    """socket inode -> pid, from `ls -l /proc/[0-9]*/fd/`."""
    owners: dict[int, int] = {}
    pid = None
    for line in ls_output.splitlines():
        if line.startswith("/proc/") and line.endswith(":"):
            part = line.split("/")[2]
            pid = int(part) if part.isdigit() else None
            continue
        m = re.search(r"-> socket:\[(\d+)\]$", line)
        if m and pid is not None:
            owners.setdefault(int(m.group(1)), pid)
    return owners


def from_proc_net(sections: dict[str, bytes], owners: dict[int, int]) -> list[dict[str, Any]]:
    out = []
    for name in ("tcp", "tcp6", "udp", "udp6"):
        for line in _text(sections.get(f"net_{name}", b"")).splitlines()[1:]:
            f = line.split()
            if len(f) < 10:
                continue
            listening = f[3] == "0A" if name.startswith("tcp") else f[3] == "07" and f[2].endswith(":0000")
            if not listening:
                continue
            try:
                host, port = _hex_address(f[1])
            except ValueError:
                continue
            inode = int(f[9]) if f[9].isdigit() else 0
            out.append({"proto": name.rstrip("6"), "address": host, "port": port, "pid": owners.get(inode)})
    for line in _text(sections.get("net_unix", b"")).splitlines()[1:]:
        f = line.split()
        # Num RefCount Protocol Flags Type St Inode Path; flag 00010000 = accepting connections
        if len(f) >= 8 and f[3] == "00010000" and f[7].startswith("/"):
            inode = int(f[6]) if f[6].isdigit() else 0
            out.append({"proto": "unix", "path": f[7], "pid": owners.get(inode)})
    return out


def socket_source(survey: Survey) -> str:
    """Which listing the listening sockets come from: "ss", "netstat" or "proc" (/proc/net)."""
    for tool in ("ss", "netstat"):
        if survey.sections.get(tool, b"").strip():
            return tool
    return "proc"


def socket_note(survey: Survey) -> str | None:
    """The coverage note for a host without ss (none when ss listed the sockets)."""
    source = socket_source(survey)
    if source == "netstat":
        return "listening sockets from netstat -tulnp (the host has no ss)"
    if source == "proc":
        return (
            "listening sockets from /proc/net/{tcp,tcp6,udp,udp6,unix} (the host has neither ss nor netstat); "
            "owners from the /proc/PID/fd the login may read"
        )
    return None


def listening(survey: Survey) -> list[dict[str, Any]]:
    """ss, else netstat, else /proc/net; owners ss/netstat could not name come from /proc."""
    s = survey.sections
    owners = socket_owners(_text(s.get("fds", b"")))
    proc = from_proc_net(s, owners)
    source = socket_source(survey)
    if source == "ss":
        found = from_ss(_text(s["ss"]))
    elif source == "netstat":
        found = from_netstat(_text(s["netstat"]))
    else:
        found = [p for p in proc if p["proto"] != "unix"]
    by_key = {(p["proto"], p["address"], p["port"]): p["pid"] for p in proc if p["proto"] != "unix"}
    for item in found:
        if item["pid"] is None:
            item["pid"] = by_key.get((item["proto"], item["address"], item["port"]))
    found += [p for p in proc if p["proto"] == "unix"]
    return unique(found)


def unique(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for item in items:
        seen.setdefault(json.dumps(item, sort_keys=True), item)
    return [seen[k] for k in sorted(seen)]


def mounts(text: str) -> list[dict[str, str]]:
    out = []
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 4:
            src, target = (_octal(x) for x in f[:2])
            out.append({"source": src, "target": target, "fstype": f[2], "options": f[3]})
    return out


def _octal(text: str) -> str:
    """/proc/mounts writes a space in a path as \\040."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), text)


def units(list_units: str, unit_files: str) -> list[dict[str, str]]:
    enabled: dict[str, str] = {}
    for line in unit_files.splitlines():
        f = line.split()
        if len(f) >= 2:
            enabled[f[0]] = f[1]
    out = []
    for line in list_units.splitlines():
        f = line.split()
        if len(f) >= 4 and "." in f[0]:
            out.append({"unit": f[0], "load": f[1], "active": f[2], "sub": f[3], "enabled": enabled.get(f[0], "")})
    return sorted(out, key=lambda u: u["unit"])


def jsonl(items: Iterable[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(i, sort_keys=True) + "\n" for i in items).encode("utf-8", "surrogateescape")


def runtime_files(survey: Survey) -> dict[str, bytes]:
    """File name under /.modernize/runtime/ -> contents, from the collector's survey."""
    s = survey.sections
    modules = [ln.split()[0] for ln in _text(s.get("modules", b"")).splitlines() if ln.split()]
    unit_list = units(_text(s["units"]), _text(s.get("unit_files", b""))) if "units" in s else None
    return write_runtime(
        processes=processes(survey),
        listening=listening(survey),
        mounts=mounts(_text(s.get("mounts", b""))),
        modules=modules,
        units=unit_list,
        containers=_text(s.get("containers", b"")).split(),
    )


def write_runtime(
    *,
    processes: list[dict[str, Any]],
    listening: list[dict[str, Any]],
    mounts: list[dict[str, str]],
    modules: list[str],
    units: list[dict[str, str]] | None,
    containers: list[str],
) -> dict[str, bytes]:
    """The runtime files in detectors/runtime.py's formats, whatever gathered the facts
    (the SSH collector, or psutil on this machine)."""
    files = {
        "processes.jsonl": jsonl(processes),
        "listening.jsonl": jsonl(listening),
        "mounts.jsonl": jsonl(mounts),
        "modules.txt": "".join(m + "\n" for m in modules).encode(),
    }
    if units is not None:
        files["units.jsonl"] = jsonl(units)
    if containers:
        files["containers.txt"] = "".join(c + "\n" for c in sorted(containers)).encode()
    return files
