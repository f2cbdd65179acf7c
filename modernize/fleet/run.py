"""Scan a fleet: each host by its own `modernize scan` process, at most JOBS at once.

A process per host keeps hosts apart (one that crashes, hangs up or eats memory
takes only itself down), lets scans use every core (detectors are Python), and
each child already bounds itself (SSH connect and command timeouts). A failed
host is recorded and the others go on; the summary (`fleet.json`) says which.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from modernize.fleet.targets import Target, file_names

SUMMARY = "fleet.json"
KIND = "modernize-fleet"


@dataclass
class HostResult:
    name: str
    source: str
    inventory: str | None  # file name in the folder, when one was written
    status: str  # ok, problems (an inventory with recorded problems), failed (none)
    exit_code: int
    error: str | None
    seconds: float
    hostname: str | None = None  # as the scan found it


def _why(stderr: str) -> str | None:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    errors = [ln.removeprefix("error: ") for ln in lines if ln.startswith(("error:", "internal error:"))]
    picked = errors[-3:] or lines[-1:]
    return "; ".join(picked) or None


class Display:
    """One line per finished host; on a terminal, a status line of the hosts being scanned."""

    def __init__(self, total: int, *, tty: bool, quiet: bool) -> None:
        self.total = total
        self.tty = tty and not quiet
        self.quiet = quiet
        self.lock = threading.Lock()
        self.running: dict[str, float] = {}
        self.done = 0
        self.failed = 0
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def start(self) -> None:
        if self.tty:
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            with self.lock:
                self._status()

    def _status(self) -> None:
        now = time.monotonic()
        names = ", ".join(f"{n} {now - t:.0f}s" for n, t in sorted(self.running.items(), key=lambda kv: kv[1])[:4])
        more = f" +{len(self.running) - 4}" if len(self.running) > 4 else ""
        line = f"{self.done}/{self.total} done, {self.failed} failed" + (f"; scanning {names}{more}" if names else "")
        width = os.get_terminal_size(sys.stderr.fileno()).columns if sys.stderr.isatty() else 120
        sys.stderr.write("\r\033[K" + line[: max(width - 1, 20)])
        sys.stderr.flush()

    def begin(self, name: str) -> None:
        with self.lock:
            self.running[name] = time.monotonic()
            if self.tty:
                self._status()

    def end(self, result: HostResult) -> None:
        with self.lock:
            self.running.pop(result.name, None)
            self.done += 1
            self.failed += result.status == "failed"
            if self.quiet:
                return
            mark = {"ok": "ok", "problems": "problems", "failed": "FAILED"}[result.status]
            what = result.inventory if result.status != "failed" else result.error
            text = f"[{self.done}/{self.total}] {mark:8} {result.name} ({result.seconds:.1f} s): {what}"
            sys.stderr.write(("\r\033[K" if self.tty else "") + text + "\n")
            if self.tty:
                self._status()
            sys.stderr.flush()

    def stop(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        if self.tty:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def scan_fleet(
    targets: list[Target],
    out: Path,
    *,
    jobs: int,
    scan_args: list[str],
    identity: str | None,
    env: dict[str, str],
    display: Display,
) -> list[HostResult]:
    """Scan every target into OUT/<name>.json, JOBS at a time; results in the targets' order."""
    stems = file_names(targets)
    children: set[subprocess.Popen[str]] = set()
    lock = threading.Lock()
    stopping = threading.Event()

    def one(target: Target, stem: str) -> HostResult:
        file = f"{stem}.json"
        key = target.identity or identity
        cmd = [sys.executable, "-m", "modernize", "scan", "-q", target.source, "-o", str(out / file), *scan_args]
        if key:
            cmd += ["--identity", key]
        display.begin(target.name)
        earlier = _stamp(out / file)
        started = time.monotonic()
        if stopping.is_set():
            return HostResult(target.name, target.source, None, "failed", 130, "interrupted", 0.0)
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env
        )
        with lock:
            children.add(proc)
        _, stderr = proc.communicate()
        with lock:
            children.discard(proc)
        code = proc.returncode
        took = round(time.monotonic() - started, 2)
        written = code in (0, 1) and _stamp(out / file) not in (None, earlier)
        error = None if code == 0 else _why(stderr) or f"exit {code}"
        if not written and earlier is not None:
            # an earlier run's inventory must not pass for this one's (`report fleet/*.json`); kept aside
            os.replace(out / file, out / f"{file}.previous")
            error = f"{error or 'no inventory written'}; an earlier run's inventory is now {file}.previous"
        result = HostResult(
            target.name,
            target.source,
            file if written else None,
            "ok" if code == 0 and written else "problems" if written else "failed",
            code,
            error,
            took,
            _hostname(out / file) if written else None,
        )
        display.end(result)
        return result

    display.start()
    try:
        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="fleet") as pool:
            futures = [pool.submit(one, t, s) for t, s in zip(targets, stems, strict=True)]
            try:
                return [f.result() for f in futures]
            except BaseException:
                stopping.set()
                for f in futures:
                    f.cancel()
                with lock:
                    for proc in children:
                        proc.terminate()
                raise
    finally:
        display.stop()


def _stamp(path: Path) -> tuple[int, int] | None:
    """Which file is at PATH (inode, modification time), or None."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns)


def _hostname(path: Path) -> str | None:
    try:
        host = json.loads(path.read_text(encoding="utf-8")).get("host") or {}
    except (OSError, ValueError):
        return None
    name = host.get("hostname") if isinstance(host, dict) else None
    return str(name) if name else None


def summary_json(results: list[HostResult]) -> bytes:
    data = {"kind": KIND, "version": 1, "hosts": [asdict(r) for r in results]}
    return (json.dumps(data, indent=2) + "\n").encode()


def summary_table(results: list[HostResult], out: Path) -> str:
    width = max((len(r.name) for r in results), default=4)
    lines = [f"{'host':<{width}}  {'status':<8}  inventory or error"]
    for r in results:
        what = r.inventory if r.status == "ok" else f"{r.inventory}: {r.error}" if r.inventory else r.error
        lines.append(f"{r.name:<{width}}  {r.status:<8}  {what}")
    failed = sum(r.status == "failed" for r in results)
    lines.append(
        f"{len(results) - failed} of {len(results)} hosts scanned into {out}"
        + (f", {failed} failed" if failed else "")
        + f"; summary in {out / SUMMARY}; fleet report: modernize report {out / SUMMARY} -o report"
    )
    return "\n".join(lines)


def inventories_of(path: str, read: Callable[[str], str]) -> list[str] | None:
    """The inventories a fleet summary lists (those written), or None when PATH is no summary."""
    text = read(path)
    if KIND not in text[:200]:  # summary_json writes the kind first: no need to parse an inventory
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        return None
    base = os.path.dirname(path)
    hosts = data.get("hosts") or []
    return [os.path.join(base, h["inventory"]) for h in hosts if isinstance(h, dict) and h.get("inventory")]
