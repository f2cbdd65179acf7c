"""Test helpers: a snapshot from `{path: content}` in one line, and a scan of it."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from modernize.detector import Detector, Registry
from modernize.model import Inventory, Service
from modernize.scan import ScanResult, scan
from modernize.snapshot.memory import Content, Link, MemorySnapshot

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"


def snapshot(files: Mapping[str, Content], **kwargs: object) -> MemorySnapshot:
    return MemorySnapshot(files, **kwargs)  # type: ignore[arg-type]


def run(detectors: Iterable[type[Detector] | Detector], files: Mapping[str, Content]) -> ScanResult:
    """Scan an in-memory (strict) snapshot with just these detectors."""
    return scan(snapshot(files), Registry(list(detectors)))


def inventory(detectors: Iterable[type[Detector] | Detector], files: Mapping[str, Content]) -> Inventory:
    result = run(detectors, files)
    errors = [f for f in result.inventory.findings if f.code == "detector-failed"]
    assert not errors, errors
    return result.inventory


def service(inv: Inventory, software: str) -> Service:
    hits = [s for s in inv.services if s.software == software]
    assert hits, f"no {software} service in {[s.id for s in inv.services]}"
    return hits[0]


def ports(svc: Service) -> set[tuple[str | None, int | None]]:
    return {(p.address, p.port) for p in svc.ports}


def fixture_tree(scenario: str, *tops: str) -> dict[str, Content]:
    """A fixture server's files under `tops` (files or directories) as `{path: content}`,
    symlinks kept as links, ready for `snapshot()`/`inventory()`."""
    base = FIXTURES / scenario / "root"
    out: dict[str, Content] = {}
    for top in tops:
        full_top = base / top.lstrip("/")
        if full_top.is_file() and not full_top.is_symlink():
            out["/" + top.lstrip("/")] = full_top.read_bytes()
            continue
        for dirpath, dirs, files in os.walk(full_top):
            for name in files + [d for d in dirs if os.path.islink(os.path.join(dirpath, d))]:
                full = os.path.join(dirpath, name)
                path = "/" + os.path.relpath(full, base)
                out[path] = Link(os.readlink(full)) if os.path.islink(full) else Path(full).read_bytes()
    return out
