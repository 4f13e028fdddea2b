"""Benchmark batch grading: 100 copies of solutions/ with -j 1 and -j 2, on a Dask LocalCluster of 2
workers (when the dask extra is installed), against running ``grader check`` on each copy one after
another, all measured in this run on this machine; and the CPU seconds one submission costs (the
figure docs/scaling.md's cost model starts from).

Run: ``python benchmarks/bench_grade.py [--copies N]``. The reference cache is warmed first, so every
figure measures grading, not torch.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


CPU: dict[str, float] = {}
"""CPU seconds (user + system, the command and all its processes) of each timed run."""


def run(cmd: list[str], env: dict[str, str], name: str = "") -> float:
    before = os.times()
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = os.times()
    CPU[name] = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        subs = root / "subs"
        subs.mkdir()
        for i in range(args.copies):
            shutil.copytree(ROOT / "solutions", subs / f"s{i:03d}")
        env = {**os.environ, "GRADER_CACHE": str(root / "cache")}
        grader = [sys.executable, "-m", "grader"]
        run([*grader, "check", "solutions", "-q"], env)  # warm the reference cache
        timings = {}
        for jobs in (1, 2):
            name = f"grade -j {jobs}"
            timings[name] = run([*grader, "grade", str(subs), "--out", str(root / f"out{jobs}"),
                                 "-j", str(jobs), "-q"], env, name)
        if importlib.util.find_spec("distributed"):
            timings["grade --dask local:2"] = run([*grader, "grade", str(subs), "--out", str(root / "outd"),
                                                   "--dask", "local:2", "-q"], env)
        start = time.perf_counter()
        for sub in sorted(subs.iterdir()):
            subprocess.run([*grader, "check", str(sub), "-q"], cwd=ROOT, env=env, check=True)
        timings["sequential grader check"] = time.perf_counter() - start
    base = timings["sequential grader check"]
    print(f"{args.copies} copies of solutions/ on {os.cpu_count()} cores")
    print(f"{'run':26} {'wall s':>8} {'subs/s':>8} {'speed-up vs sequential check':>30}")
    for name, seconds in timings.items():
        print(f"{name:26} {seconds:8.2f} {args.copies / seconds:8.1f} {base / seconds:30.2f}")
    print(f"-j 2 vs -j 1: {timings['grade -j 1'] / timings['grade -j 2']:.2f}x")
    if "grade --dask local:2" in timings:
        print(f"--dask local:2 vs -j 2: {timings['grade -j 2'] / timings['grade --dask local:2']:.2f}x")
    print(f"CPU seconds per submission (grade -j 1, all processes): {CPU['grade -j 1'] / args.copies:.3f}")


if __name__ == "__main__":
    main()
