"""Run every selected detector over a snapshot and build the inventory.

The union of all detectors' declarations is fetched up front (one pass over a
tarball). A detector that reads a file nobody fetched yet is stopped with
NotYetRead; the scanner batches every such ask into one more pass and runs those
detectors (and the ones that require them) again. Detectors are pure functions
of the snapshot, so running one again is safe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from modernize.detector import Detector, Registry
from modernize.facts import Found
from modernize.merge import build_inventory
from modernize.model import Finding, Inventory
from modernize.secrets import scrub_inventory
from modernize.snapshot import Declaration, NotYetRead, Snapshot, UndeclaredRead

MAX_EXTRA_PASSES = 3


@dataclass
class ScanResult:
    inventory: Inventory
    found: Found
    failed: list[str]


def run_detectors(
    snap: Snapshot,
    registry: Registry,
    *,
    on_detector: Callable[[str], None] | None = None,
) -> tuple[Found, list[str], list[str]]:
    detectors = registry.ordered()
    snap.prefetch([d for det in detectors for d in det.reads])
    found = Found()
    failed: list[str] = []
    for err in registry.load_errors:
        found.finding("error", "detector-load-failed", err)
    ran: list[str] = []
    pending: list[Detector] = detectors
    for extra in range(MAX_EXTRA_PASSES + 1):
        if extra == MAX_EXTRA_PASSES:
            snap.settle()  # last round: what is still missing reads as unreadable
        asks: set[Declaration] = set()
        deferred: list[Detector] = []
        waiting: set[str] = set()
        for det in pending:
            if waiting.intersection(det.requires):
                deferred.append(det)
                waiting.add(det.name)
                continue
            if on_detector is not None:
                on_detector(det.name)
            scratch = found.child(det.name)
            try:
                det.detect(snap, scratch)
            except NotYetRead as more:
                asks.update(more.requests)
                deferred.append(det)
                waiting.add(det.name)
                continue
            except UndeclaredRead:
                raise  # a test-time contract violation, never swallowed
            except Exception as exc:  # noqa: BLE001 - a failing detector becomes a finding
                failed.append(det.name)
                found.detector = det.name
                found.finding("error", "detector-failed", f"detector {det.name} failed: {type(exc).__name__}: {exc}")
                found.detector = ""
                continue
            found.commit(scratch)
            ran.append(det.name)
        if not deferred:
            break
        snap.fetch_more(asks)
        pending = deferred
    if registry.load_errors:
        failed.append("(plugin load)")
    return found, sorted(set(ran)), sorted(failed)


def scan(
    snap: Snapshot,
    registry: Registry,
    *,
    on_detector: Callable[[str], None] | None = None,
) -> ScanResult:
    found, ran, failed = run_detectors(snap, registry, on_detector=on_detector)
    inventory = scrub_inventory(build_inventory(found, snap, ran, failed))
    return ScanResult(_with_run_warnings(inventory, snap), found, failed)


def _with_run_warnings(inventory: Inventory, snap: Snapshot) -> Inventory:
    """Findings about how the scan ran: odd bytes after the archive, fingerprints left out."""
    from modernize.secrets import key_problem

    extra = [Finding("warning", "source-trailing-data", w) for w in snap.warnings]
    problem = key_problem()
    holders = [s.secrets for s in inventory.services] + [u.secrets for u in inventory.units]
    if problem and (inventory.host_secrets or any(holders)):
        extra.append(Finding("warning", "fingerprints-omitted", problem))
    if not extra:
        return inventory
    findings = sorted((*inventory.findings, *extra), key=lambda f: (f.level, f.code, f.path or "", f.message))
    return replace(inventory, findings=tuple(findings))
