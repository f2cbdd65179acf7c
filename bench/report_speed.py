"""How long does `modernize report` take over a fleet, and how much memory?

The target (issue: reports for a fleet): `modernize report` of 500 inventories
in under 10 s and under 500 MB peak RSS on the project's 2-core machine.

The fleet is built in a temporary folder from the golden inventories
(tests/golden/*/inventory.json), copied round-robin: N files, each with the
hostname `<fixture>-NNN` and, decided by a seeded random so that every run
builds the same fleet, a few changes of its own: some services dropped (with the
apps, dependencies and shared paths that name them), some versions moved (a
patch release up or down, now and then the series before), and some coverage
marked incomplete (a detector failed, a path skipped). Each round then runs
`modernize report FLEET/*.json -o TMP/out --as-of 2026-12-06` through the
installed console script, as users run it (a fresh, empty OUT each time). The
table gives the median wall time with the fastest and slowest round, the peak
RSS (wait4's rusage), the sizes of what report wrote, and PASS/MISS against the
targets. On a miss, or with --profile, one more run in process under cProfile
prints the functions with the most own time and the most cumulative time.
A benchmark, not a test: run it by hand on a quiet machine.

    .venv/bin/python bench/report_speed.py [--hosts 500] [--runs 3] [--seed 9] [--profile] [--keep]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from run_speed import console_script
from scan_speed import compile_modernize

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
AS_OF = "2026-12-06"
TARGET_SECS = 10.0
TARGET_MB = 500.0
HUGE_HTML = 20 * 1024 * 1024
OUTPUTS = ("report.html", "report.json", "report.md", "report.csv", "findings.csv")

# Run in a child by the profile: the report command in process under cProfile.
# The console leaves through os._exit, so the stats are written around `entry`,
# which raises SystemExit with the command's code.
PROFILER = r"""
import cProfile, sys
out = sys.argv[1]
sys.argv = ["modernize"] + sys.argv[2:]
import modernize.launch
prof = cProfile.Profile()
prof.enable()
try:
    modernize.launch.entry()
except SystemExit:
    pass
finally:
    prof.disable()
    prof.dump_stats(out)
"""


def golden() -> list[tuple[str, dict[str, Any]]]:
    """The golden inventories, by fixture name, each with a `source` if it has none."""
    found = []
    for path in sorted(GOLDEN.glob("*/inventory.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        data.setdefault("source", {"kind": "directory", "location": "x"})
        found.append((path.parent.name, data))
    if not found:
        raise SystemExit(f"no inventories under {GOLDEN}")
    return found


def moved(version: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """VERSION a patch release up or down, or (one time in four) in the series
    before, with its raw form following the upstream one."""
    upstream, series = version.get("upstream"), version.get("series")
    if not upstream or not series or not upstream.startswith(series):
        return version
    head = series.split(".")
    if rng.random() < 0.25 and head[-1].isdigit() and int(head[-1]) > 0:
        head[-1] = str(int(head[-1]) - 1)
    new_series = ".".join(head)
    tail = upstream[len(series) :].lstrip(".")
    patch = tail.split(".")[0] if tail else ""
    if patch.isdigit():
        patch = str(max(0, int(patch) + rng.choice((-3, -2, -1, 1, 2, 5))))
    else:
        patch = str(rng.randint(0, 9))
    new_upstream = f"{new_series}.{patch}"
    raw = version.get("raw") or upstream
    return {**version, "upstream": new_upstream, "series": new_series, "raw": raw.replace(upstream, new_upstream, 1)}


def variant(name: str, base: dict[str, Any], n: int, rng: random.Random) -> dict[str, Any]:
    """Copy N of the fixture NAME, changed as the module's docstring says."""
    inv = copy.deepcopy(base)
    inv["host"]["hostname"] = f"{name}-{n:03d}"
    services = inv.get("services", [])
    # Drop services: each plumbing one with p=0.2, and in one host of four one that is not.
    dropped = {s["id"] for s in services if s.get("plumbing") and rng.random() < 0.2}
    apps = [s["id"] for s in services if not s.get("plumbing")]
    if len(apps) > 1 and rng.random() < 0.25:
        dropped.add(rng.choice(apps))
    inv["services"] = [s for s in services if s["id"] not in dropped]
    inv["apps"] = [
        {**a, "services": kept} for a in inv.get("apps", []) if (kept := [s for s in a["services"] if s not in dropped])
    ]
    inv["dependencies"] = [
        d for d in inv.get("dependencies", []) if d["source"] not in dropped and d.get("target") not in dropped
    ]
    inv["shared_paths"] = [
        {**p, "services": kept}
        for p in inv.get("shared_paths", [])
        if len(kept := [s for s in p["services"] if s not in dropped]) > 1
    ]
    cov = inv.setdefault("coverage", {"complete": True, "detectors_run": [], "detectors_failed": []})
    cov["unclassified"] = [s for s in cov.get("unclassified", []) if s not in dropped]
    # Versions: each service's with p=0.3, and the package of the same name with it.
    for s in inv["services"]:
        if s.get("version") and rng.random() < 0.3:
            old = s["version"]
            s["version"] = moved(old, rng)
            for p in inv.get("packages", []):
                if p.get("version") == old:
                    p["version"] = s["version"]
    # Coverage: one host in five incomplete.
    if rng.random() < 0.2 and cov.get("detectors_run"):
        cov["complete"] = False
        failed = rng.choice(cov["detectors_run"])
        cov["detectors_run"] = [d for d in cov["detectors_run"] if d != failed]
        cov["detectors_failed"] = sorted({*cov.get("detectors_failed", []), failed})
        if rng.random() < 0.5:
            cov["skipped"] = [*cov.get("skipped", []), {"path": "/var/lib/big.img", "reason": "too-large"}]
    return inv


def build_fleet(folder: Path, hosts: int, seed: int) -> tuple[list[Path], int]:
    """HOSTS inventories in FOLDER; their paths and total bytes."""
    rng = random.Random(seed)
    bases = golden()
    paths, size = [], 0
    for n in range(hosts):
        name, base = bases[n % len(bases)]
        path = folder / f"{name}-{n:03d}.json"
        path.write_text(json.dumps(variant(name, base, n, rng), indent=2), encoding="utf-8")
        paths.append(path)
        size += path.stat().st_size
    return paths, size


def timed_child(cmd: list[str]) -> tuple[float, float, int, str]:
    """Wall time, peak RSS (MB, wait4's rusage), exit code and stderr of one command."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # 1: warnings (problems), still a full report
        raise SystemExit(f"{' '.join(cmd[:3])} ... failed ({code}): {err[-2000:]}")
    return wall, usage.ru_maxrss / 1024, code, err


def profile(paths: list[Path], out: Path, tmp: Path, top: int) -> None:
    """One report in process under cProfile: the functions with the most own time,
    then the most cumulative time."""
    import io
    import pstats

    stats_file = tmp / "report.prof"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-c", PROFILER, str(stats_file), "report", *map(str, paths), "-o", str(out)]
    wall, rss, _, _ = timed_child([*cmd, "--as-of", AS_OF])
    print(f"\nprofile: one report under cProfile, wall {wall:.2f} s, peak RSS {rss:.0f} MB (cProfile adds time)")
    for key, title in (("tottime", "own time"), ("cumulative", "cumulative time")):
        buf = io.StringIO()
        stats = pstats.Stats(str(stats_file), stream=buf)
        stats.strip_dirs().sort_stats(key).print_stats(top)
        lines = buf.getvalue().splitlines()
        start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), 0)
        print(f"\ntop {top} by {title}:")
        for line in lines[start:]:
            if line.strip():
                print("  " + line.rstrip())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=500, help="inventories in the fleet")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=9, help="seed of the fleet's variations")
    ap.add_argument("--profile", action="store_true", help="profile one report even when the targets are met")
    ap.add_argument("--no-profile", action="store_true", help="never profile")
    ap.add_argument("--top", type=int, default=25, help="rows of each profile table")
    ap.add_argument("--keep", action="store_true", help="keep the fleet and the last report (path printed)")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args()

    exe = console_script()
    compile_modernize()
    tmp = Path(tempfile.mkdtemp(prefix="report-speed-"))
    fleet, out = tmp / "fleet", tmp / "out"
    fleet.mkdir()
    t = time.perf_counter()
    paths, size = build_fleet(fleet, args.hosts, args.seed)
    print(
        f"fleet: {len(paths)} inventories, {size / 1e6:.1f} MB, built in {time.perf_counter() - t:.1f} s "
        f"(seed {args.seed}, from {len({p.name.rsplit('-', 1)[0] for p in paths})} fixtures)",
        file=sys.stderr,
        flush=True,
    )
    cmd = [exe, "report", *map(str, paths), "-o", str(out), "--as-of", AS_OF]
    walls, rss, code, err = [], 0.0, 0, ""
    for i in range(args.runs):
        shutil.rmtree(out, ignore_errors=True)
        wall, peak, code, err = timed_child(cmd)
        print(f"  round {i + 1}: {wall:.2f} s, {peak:.0f} MB", file=sys.stderr, flush=True)
        walls.append(wall)
        rss = max(rss, peak)
    median = statistics.median(walls)
    time_ok, rss_ok = median < TARGET_SECS, rss < TARGET_MB

    print(f"modernize report of {len(paths)} inventories ({size / 1e6:.1f} MB of JSON), {args.runs} rounds:")
    print(f"  wall     {median:6.2f} s  (rounds {min(walls):.2f}-{max(walls):.2f})  "
          f"target < {TARGET_SECS:.0f} s    {'PASS' if time_ok else 'MISS'}")  # fmt: skip
    print(f"  peak RSS {rss:6.0f} MB  (largest of the rounds)     "
          f"target < {TARGET_MB:.0f} MB  {'PASS' if rss_ok else 'MISS'}")  # fmt: skip
    print(f"  exit code {code}" + (f"; stderr's last line: {err.strip().splitlines()[-1]}" if err.strip() else ""))
    print("written:")
    for name in OUTPUTS:
        p = out / name
        if p.exists():
            s = p.stat().st_size
            print(f"  {name:<12} {s:>13,} bytes  ({s / 1e6:.1f} MB)")
        else:
            print(f"  {name:<12} (missing)")
    html = out / "report.html"
    if html.exists() and html.stat().st_size > HUGE_HTML:
        print(f"  report.html is HUGE: {html.stat().st_size / 1e6:.0f} MB (> {HUGE_HTML // 2**20} MiB) for a browser")

    if not args.no_profile and (args.profile or not (time_ok and rss_ok)):
        profile(paths, out, tmp, args.top)
    if args.keep:
        print(f"\nkept: {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if (args.check and not (time_ok and rss_ok)) else 0


if __name__ == "__main__":
    raise SystemExit(main())
