"""The one-screen summary printed after a scan."""

from __future__ import annotations

from collections import Counter

from modernize.model import Inventory, Port
from modernize.render import render


def port_label(p: Port) -> str:
    if p.socket:
        return f"unix:{p.socket}"
    addr = p.address or "*"
    addr = f"[{addr}]" if ":" in addr else addr
    return f"{addr}:{p.port}/{p.proto}" + ("(default)" if p.source == "default" else "")


def summary(inv: Inventory) -> str:
    managers = Counter(p.manager for p in inv.packages)
    counts = {
        "packages": len(inv.packages),
        "managers": sorted(managers.items()),
        "human": sum(1 for u in inv.users if u.human),
        "system": sum(1 for u in inv.users if not u.human),
        "units": len(inv.units),
        "units_enabled": sum(1 for u in inv.units if u.enabled),
        "network_mounts": sum(1 for m in inv.mounts if m.kind == "network"),
        "unclassified": len(inv.coverage.unclassified),
        "errors": sum(1 for f in inv.findings if f.level == "error"),
        "warnings": sum(1 for f in inv.findings if f.level == "warning"),
    }
    services = [(s, " ".join(port_label(p) for p in s.ports)) for s in inv.services if not s.plumbing]
    plumbing = [s for s in inv.services if s.plumbing]
    return render("summary.txt.j2", inv=inv, counts=counts, services=services, plumbing=plumbing)
