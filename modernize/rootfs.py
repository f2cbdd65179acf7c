"""Is the source a server's root filesystem at all? And the warnings about how a scan ran.

An empty folder, or the folder above a root (`backup/` holding `root/`), scans
without a single fact; an inventory of nothing is not a result. The scan then
says no operating system was found and where a root filesystem probably is.
"""

from __future__ import annotations

from modernize.model import Inventory
from modernize.snapshot.base import Snapshot

# findings about the run itself (not the server), printed as warnings as well
RUN_WARNINGS = frozenset({"fingerprints-omitted", "source-trailing-data"})

_OS_MARKS = ("etc/os-release", "usr/lib/os-release", "etc/debian_version", "etc/redhat-release", "etc/alpine-release")
_MAX_DIRS = 400  # a bounded look below the source


def found_os(inv: Inventory) -> bool:
    os = inv.host.os
    return bool(os.id or os.name or os.pretty_name or inv.packages or inv.users or inv.units)


def is_root(snap: Snapshot, path: str = "/") -> bool:
    """PATH holds an operating system's files: an os-release or release file, or etc/ and usr/."""
    top = "" if path == "/" else path
    return any(snap.exists(f"{top}/{mark}") for mark in _OS_MARKS) or (
        snap.is_dir(f"{top}/etc") and snap.is_dir(f"{top}/usr")
    )


def roots_below(snap: Snapshot, depth: int = 3) -> list[str]:
    """Folders below the snapshot's top that look like a root filesystem, nearest first."""
    found: list[str] = []
    level = ["/"]
    seen = 0
    for _ in range(depth):
        nxt: list[str] = []
        for top in level:
            for name in snap.listdir(top):
                path = top.rstrip("/") + "/" + name
                if seen >= _MAX_DIRS or snap.stat(path, follow=False) is None or not snap.is_dir(path):
                    continue
                seen += 1
                if is_root(snap, path):
                    found.append(path)
                else:
                    nxt.append(path)
        level = nxt
    return found


def no_os_message(inv: Inventory, source: str, snap: Snapshot) -> str | None:
    """None when SOURCE holds an operating system; else what to tell the user."""
    if found_os(inv) or is_root(snap):
        return None
    if not snap.listdir("/"):
        return f"{source}: empty: no operating system found. Scan a server's root filesystem (or a tarball of it)"
    roots = roots_below(snap)
    if roots and snap.kind == "directory":
        hint = f"a root filesystem seems to be at {source.rstrip('/')}{roots[0]}: scan that"
    elif roots:
        hint = (
            f"the archive holds a root filesystem below {roots[0]}: pack the root itself "
            "(`tar -C ROOT -cf ... .`, see the README)"
        )
    else:
        hint = "scan the folder that holds etc/, usr/ and var/ of the server (or a tarball of it)"
    return f"{source}: no operating system found (no os-release, packages, users or init units); {hint}"
