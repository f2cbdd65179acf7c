"""Test helpers: a snapshot from `{path: content}` in one line, and a scan of it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from modernize.detector import Detector, Registry
from modernize.model import Inventory, Service
from modernize.scan import ScanResult, scan
from modernize.snapshot.memory import Content, MemorySnapshot

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
