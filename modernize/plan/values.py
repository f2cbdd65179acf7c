"""Small value rules the planner and the knowledge modules share."""

from __future__ import annotations

import re

_DEB_UPDATE = re.compile(r"^(.*[+~]deb\d+u)\d+$")


def pin_version(raw: str, family: str | None) -> tuple[str, str]:
    """How narrowly apt is asked for a version: the archive keeps only the newest
    security update of a release, so a `+debNNuM` revision is globbed."""
    if family not in ("debian", "ubuntu"):
        return raw, "the exact version found"
    m = _DEB_UPDATE.match(raw)
    if m:
        return m.group(1) + "*", f"found {raw}; the archive keeps only the newest update of it, so any update of it"
    return raw, "the exact version found"


def env_variable(service: str, key: str) -> str:
    """SERVICE_KEY in upper case (MARIADB_ROOT_PASSWORD for mariadb's MARIADB_ROOT_PASSWORD)."""
    svc = re.sub(r"[^A-Z0-9]+", "_", service.upper()).strip("_")
    name = re.sub(r"[^A-Z0-9]+", "_", key.upper()).strip("_")
    return name if name.startswith(svc + "_") else f"{svc}_{name}"
