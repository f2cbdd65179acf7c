"""POSIX path handling for paths inside a snapshot.

Every path a detector sees is absolute and relative to the server's root:
"/etc/nginx/nginx.conf". Nothing here touches the machine running modernize.
"""

from __future__ import annotations

# Pseudo filesystems of a live Linux host: never read, even when a tarball holds them.
PSEUDO_ROOTS = ("/proc", "/sys", "/dev")


def normalize(path: str) -> str:
    """Absolute, no trailing slash, no `.`; `..` is clamped at the root."""
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/" + "/".join(parts)


def split(path: str) -> list[str]:
    return [p for p in path.split("/") if p]


def join(base: str, name: str) -> str:
    return base.rstrip("/") + "/" + name if base != "/" else "/" + name


def absolute(path: str, base: str) -> str:
    """PATH as written in a config file: absolute, or relative to the directory BASE."""
    return normalize(path if path.startswith("/") else join(base, path))


def parent(path: str) -> str:
    head = path[: path.rfind("/")]
    return head or "/"


_PSEUDO_PREFIXES = tuple(r + "/" for r in PSEUDO_ROOTS)


def is_pseudo(path: str) -> bool:
    return path.startswith(_PSEUDO_PREFIXES) or path in PSEUDO_ROOTS


def member_to_path(name: str) -> str | None:
    """Map a tar member name (`./etc/x`, `etc/x`, `/etc/x`) to a snapshot path.

    Returns None for names that try to climb out with `..`: such a member is
    reported as unsafe and never placed anywhere.
    """
    if name.startswith("./"):
        name = name[2:]
    if ".." not in name and "//" not in name and "/./" not in name and not name.endswith("/."):
        return "/" + name.strip("/")  # the common case, without splitting
    parts: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            return None
        parts.append(part)
    return "/" + "/".join(parts)
