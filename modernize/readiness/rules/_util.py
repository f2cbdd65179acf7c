"""Small helpers the rule modules share."""

from __future__ import annotations

import ipaddress

from modernize.model import Inventory, Service

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def by_id(inv: Inventory) -> dict[str, Service]:
    return {s.id: s for s in inv.services}


def is_ip(host: str | None) -> bool:
    if not host:
        return False
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def under(path: str, top: str) -> bool:
    return path == top or path.startswith(top.rstrip("/") + "/")
