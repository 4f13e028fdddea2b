"""Benchmark batch grading: 100 copies of solutions/ with -j 1 and -j 2, against running
``grader check`` on each copy one after another, all measured in this run on this machine.

Run: ``python benchmarks/bench_grade.py [--copies N]``. The reference cache is warmed first, so every
figure measures grading, not torch.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


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
            timings[f"grade -j {jobs}"] = run([*grader, "grade", str(subs), "--out", str(root / f"out{jobs}"),
                                               "-j", str(jobs), "-q"], env)
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


if __name__ == "__main__":
    main()
