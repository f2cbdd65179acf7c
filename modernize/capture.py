"""`modernize capture`: scan a source, and keep what the scan read and what a plan
would copy in one bundle (see snapshot/bundle.py) that scans and runs offline.

Nothing is written on the source: everything is read through the Snapshot, and
the bundle is written on this machine (never into a directory being scanned).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from modernize.detector import Registry
from modernize.model import Inventory
from modernize.outpath import write_atomic_with
from modernize.scan import ScanResult, scan
from modernize.snapshot.base import Snapshot
from modernize.snapshot.bundle import ScanState, write_bundle
from modernize.snapshot.readlog import ReadLog

# the plans whose copied files a bundle keeps: whatever strategy a later `run` picks
STRATEGIES = (None, "official", "distro")


@dataclass
class Captured:
    result: ScanResult
    files: int  # files carried whole
    pieces: int  # heads and tails of large files
    entries: int  # entries in the index
    bytes_kept: int
    errors: list[str]  # what went wrong after the scan (copied files not fetched)


def capture(
    snap: Snapshot,
    registry: Registry,
    write: Callable[[Callable[[BinaryIO], object]], None],
    *,
    on_detector: Callable[[str], None] | None = None,
    check: Callable[[Inventory], None] | None = None,
) -> Captured:
    """Scan SNAP, read what any plan of it copies, and hand the bundle's writer to WRITE.
    CHECK may refuse the inventory (no operating system found) before anything is written."""
    from modernize.generate.collect import copied_paths, read_files
    from modernize.pipeline import make_plan

    log = ReadLog()
    snap.log = log
    result = scan(snap, registry, on_detector=on_detector)
    if check is not None:
        check(result.inventory)
    state = ScanState.of(snap)  # as the scan left it: the bundle's scan must say the same
    seen_errors = len(snap.errors)
    wanted: set[str] = set()
    for strategy in STRATEGIES:
        plan = make_plan(
            result.inventory,
            strategy=strategy,
            images=[],
            image_map=[],
            services=[],
            skip_services=[],
            source=snap.location,
            inventory_path=None,
        )
        wanted.update(copied_paths(plan, snap, every_service=True)[0])
    read_files(snap, sorted(wanted), [])
    snap.log = None
    entries = list(snap.index())
    write(lambda out: write_bundle(out, entries, log, state))
    return Captured(result, len(log.whole), len(log.pieces), len(entries), log.bytes_kept, snap.errors[seen_errors:])


def to_file(target: Path) -> Callable[[Callable[[BinaryIO], object]], None]:
    """Write the bundle beside TARGET and move it into place whole: never half a bundle."""

    def write(body: Callable[[BinaryIO], object]) -> None:
        # the customer's files, secrets included: the owner's alone
        write_atomic_with(target, body, 0o600)

    return write
