"""How much does `modernize run` cost over `modernize scan` alone?

The target: `run` (scan + plan + generate) at most 1.3x `scan` on the bench
server, for its tarballs and for the unpacked tree. For each form, each round
times `modernize scan SRC -o TMP/inv.json -q` and `modernize run SRC -o TMP/out -q`
(a fresh, empty OUT each time), the pair's order alternating from round to round;
both go through the installed console script, as users run them. The table gives
the median scan, the median run, the median of the rounds' run/scan ratios with
the lowest and highest round, and each command's peak RSS (wait4's rusage). Then
what run wrote, and, unless --no-stages, one more run of each form under a
recorder that times run's stages (the tarball passes, the detectors, plan,
collect, render, the compose check, the writer, the cyclic GC).
A benchmark, not a test: run it by hand on a quiet machine.

    sudo bench/make_server.sh                 # builds the server once, outside git
    .venv/bin/python bench/run_speed.py [--runs 5] [--forms zst,gz,dir] [--check]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from scan_speed import compile_modernize

TARGET = 1.3

# Run inside the child by --stages: wraps the functions below as their modules
# load (an import hook, so the console's head start and the import order stay
# those of a plain run), and appends one line per call to the file in argv[1],
# as the call ends (the console leaves through os._exit: no atexit).
RECORDER = r"""
import gc, importlib.abc, importlib.util, json, sys, time
log = open(sys.argv[1], "a", buffering=1)
T0 = time.perf_counter()
depth = [0]
def note(**kw):
    log.write(json.dumps(kw) + "\n")
def wrap(owner, attr, label):
    fn = getattr(owner, attr)
    def timed(*a, **k):
        t = time.perf_counter()
        depth[0] += 1
        try:
            return fn(*a, **k)
        finally:
            depth[0] -= 1
            extra = {}
            if attr == "_pass":
                extra["index"] = k.get("build_index")
            note(stage=label, start=t - T0, secs=time.perf_counter() - t, depth=depth[0], **extra)
    setattr(owner, attr, timed)
STAGES = {
    "modernize.snapshot.tarball": [("TarballSnapshot._pass", "tarball pass")],
    "modernize.scan": [("scan", "scan: pass(es) + detectors + merge")],
    "modernize.serialize": [("dumps", "inventory JSON")],
    "modernize.pipeline": [("make_plan", "plan"), ("write_plan", "write plan.yaml"), ("generate", "generate")],
    "modernize.generate.collect": [("collect", "collect (server files)")],
    "modernize.generate.render": [("render", "render (templates)"), ("check_compose", "compose schema check")],
    "modernize.generate.writer": [("OutputWriter.write", "writer")],
}
class Hook(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in STAGES:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        run = spec.loader.exec_module
        def exec_module(module):
            run(module)
            for dotted, label in STAGES[name]:
                owner = module
                *outer, attr = dotted.split(".")
                for part in outer:
                    owner = getattr(owner, part)
                wrap(owner, attr, label)
        spec.loader.exec_module = exec_module
        return spec
sys.meta_path.insert(0, Hook())
gc_at = [0.0, 0.0, 0]
def on_gc(phase, info):
    if phase == "start":
        gc_at[0] = time.perf_counter()
    else:
        gc_at[1] += time.perf_counter() - gc_at[0]
        gc_at[2] += 1
        if info["generation"] == 2:
            note(stage="gc gen2", start=gc_at[0] - T0, secs=time.perf_counter() - gc_at[0], depth=0)
gc.callbacks.append(on_gc)
import modernize.launch
_exit = modernize.launch.os._exit
def leave(code):
    note(stage="total after interpreter start", start=0.0, secs=time.perf_counter() - T0, depth=0)
    note(stage="cyclic GC (all generations)", start=0.0, secs=gc_at[1], depth=0, count=gc_at[2])
    _exit(code)
modernize.launch.os._exit = leave
sys.argv = ["modernize"] + sys.argv[2:]
modernize.launch.console()
"""


def console_script() -> str:
    """The installed `modernize` beside this interpreter (a venv's bin/), else on PATH."""
    here = Path(sys.executable).parent / "modernize"
    found = str(here) if here.exists() else shutil.which("modernize")
    if not found:
        raise SystemExit("no `modernize` console script: pip install -e .")
    return found


def timed_child(cmd: list[str]) -> tuple[float, float, int]:
    """Wall time, peak RSS (MB, wait4's rusage: the largest of the command's own
    and its reaped children's) and exit code of one command."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # 1: findings or detector errors, still a full run
        raise SystemExit(f"{' '.join(cmd[:3])} ... failed ({code}): {err.decode(errors='replace')[-2000:]}")
    return wall, usage.ru_maxrss / 1024, code


class Rounds(NamedTuple):
    scan: float  # median seconds
    run: float
    ratio: float  # median of the rounds' run/scan
    low: float
    high: float
    scan_rss: float  # largest peak RSS over the rounds, MB
    run_rss: float
    run_code: int


def rounds(exe: str, source: Path, tmp: Path, runs: int) -> Rounds:
    scans, runs_t, ratios, s_rss, r_rss, code = [], [], [], 0.0, 0.0, 0
    inv, out = tmp / "inv.json", tmp / "out"

    def scan() -> float:
        nonlocal s_rss
        inv.unlink(missing_ok=True)
        t, rss, _ = timed_child([exe, "scan", str(source), "-o", str(inv), "-q"])
        s_rss = max(s_rss, rss)
        return t

    def run() -> float:
        nonlocal r_rss, code
        shutil.rmtree(out, ignore_errors=True)
        t, rss, code = timed_child([exe, "run", str(source), "-o", str(out), "-q"])
        r_rss = max(r_rss, rss)
        return t

    for i in range(runs):
        if i % 2 == 0:
            s = scan()
            r = run()
        else:
            r = run()
            s = scan()
        scans.append(s)
        runs_t.append(r)
        ratios.append(r / s)
    return Rounds(
        statistics.median(scans),
        statistics.median(runs_t),
        statistics.median(ratios),
        min(ratios),
        max(ratios),
        s_rss,
        r_rss,
        code,
    )


def written(out: Path) -> tuple[int, int, list[tuple[str, int]]]:
    """Files and bytes under OUT (the manifest included), and the largest few."""
    sizes = [(str(p.relative_to(out)), p.stat().st_size) for p in out.rglob("*") if p.is_file()]
    sizes.sort(key=lambda x: -x[1])
    return len(sizes), sum(s for _, s in sizes), sizes[:5]


def stages(source: Path, tmp: Path) -> tuple[float, list[dict[str, object]]]:
    """One run under the recorder: its wall time and the stages it logged."""
    out, log = tmp / "out-stages", tmp / "stages.jsonl"
    shutil.rmtree(out, ignore_errors=True)
    log.unlink(missing_ok=True)
    cmd = [sys.executable, "-c", RECORDER, str(log), "run", str(source), "-o", str(out), "-q"]
    wall, _, _ = timed_child(cmd)
    return wall, [json.loads(line) for line in log.read_text().splitlines()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default=os.environ.get("MODERNIZE_BENCH_DIR", "/var/cache/modernize-bench"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--forms", default="zst,gz,dir", help="which forms to measure (comma-separated)")
    ap.add_argument("--no-stages", action="store_true", help="skip the extra run that times run's stages")
    ap.add_argument("--check", action="store_true", help=f"exit 1 when run is over {TARGET}x scan")
    args = ap.parse_args()
    base = Path(args.dir)
    sources = {"zst": base / "server.tar.zst", "gz": base / "server.tar.gz", "dir": base / "server"}
    forms = [f for f in args.forms.split(",") if f in sources and sources[f].exists()]
    if not forms:
        raise SystemExit(f"nothing to time in {base}: build it with bench/make_server.sh")
    exe = console_script()
    compile_modernize()
    tmp = Path(tempfile.mkdtemp(prefix="run-speed-"))
    names = {"zst": "server.tar.zst", "gz": "server.tar.gz", "dir": "directory"}
    results: dict[str, Rounds] = {}
    for form in forms:
        print(f"timing {names[form]} ({args.runs} rounds) ...", file=sys.stderr, flush=True)
        results[form] = rounds(exe, sources[form], tmp, args.runs)

    width = max(len(names[f]) for f in forms)
    print(f"{'form':<{width}}  {'scan s':>7}  {'run s':>7}  {'run/scan':>8}  {'rounds':>11}  "
          f"{'target':>7}  {'scan RSS':>8}  {'run RSS':>8}")  # fmt: skip
    misses = []
    for form in forms:
        r = results[form]
        ok = r.ratio <= TARGET
        if not ok:
            misses.append(f"{names[form]} {r.ratio:.2f}x")
        print(
            f"{names[form]:<{width}}  {r.scan:7.2f}  {r.run:7.2f}  {r.ratio:7.2f}x  "
            f"{r.low:.2f}-{r.high:.2f}x  {'ok' if ok else 'MISSED':>7}  {r.scan_rss:6.0f}MB  {r.run_rss:6.0f}MB"
        )
    n, size, largest = written(tmp / "out")
    print(f"run wrote {n} files, {size:,} bytes (last form's OUT; run's exit code {results[forms[-1]].run_code})")
    print("  largest: " + ", ".join(f"{p} {s:,}" for p, s in largest))

    if not args.no_stages:
        for form in forms:
            wall, log = stages(sources[form], tmp)
            print(f"\nstages of one run of {names[form]} (wall {wall:.2f} s with the interpreter start):")
            passes = [e for e in log if e["stage"] == "tarball pass"]
            for e in sorted(log, key=lambda e: (float(e["start"]), -int(e["depth"]))):
                if e["stage"] == "gc gen2" and float(e["secs"]) < 0.01:
                    continue
                label = str(e["stage"])
                if label == "tarball pass":
                    label += " (index)" if e.get("index") else " (files generate asked for)"
                extra = f"  ({e['count']} collections)" if "count" in e else ""
                at = f"at {float(e['start']):5.2f}" if e["start"] else "        "
                print(f"  {at}  {'  ' * int(e['depth'])}{label:<42} {float(e['secs']):6.3f} s{extra}")
            if form != "dir":
                print(f"  tarball passes: {len(passes)}")
    if misses:
        print(f"target missed (run <= {TARGET}x scan): " + "; ".join(misses))
    shutil.rmtree(tmp, ignore_errors=True)
    return 1 if (args.check and misses) else 0


if __name__ == "__main__":
    raise SystemExit(main())
