"""Benchmark ``grader check solutions/``: wall time split by phase, as ratios to a bare torch import.

Every figure is measured in this run, on this machine: the baseline (``python -c "import torch"``) and
the grader, cold (empty reference cache: torch is imported and references computed) and warm (cache
filled: no torch import at all). Run: ``python benchmarks/bench_check.py [--repeat N]``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


CPU: dict[str, list[float]] = {}
"""CPU seconds (user + system, the command and every process it started) of each run, by label: on a
busy machine wall time is noise, CPU time much less."""


def wall(cmd: list[str], env: dict[str, str], label: str = "") -> float:
    before = os.times()
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    after = os.times()
    CPU.setdefault(label, []).append(after.children_user - before.children_user
                                     + after.children_system - before.children_system)
    return seconds


def check_run(env: dict[str, str], out: Path, *extra: str, label: str = "") -> tuple[float, dict[str, float]]:
    cmd = [sys.executable, "-m", "grader", "check", "solutions", "--json", str(out), *extra]
    seconds = wall(cmd, env, label)
    data = json.loads(out.read_text())
    assert data["points"] == data["max_points"], "solutions must get full marks"
    phases = {"interpreter+imports": seconds - data["duration_s"], **data["timings"]}
    per_assignment = {f"[{a['id']}]": sum(e["duration_s"] for e in a["exercises"]) for a in data["assignments"]}
    return seconds, {**phases, "in-process total": data["duration_s"], **per_assignment}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    env = {**os.environ}
    baseline = statistics.median(wall([sys.executable, "-c", "import torch"], env, "import torch")
                                 for _ in range(args.repeat))
    numpy_s = statistics.median(wall([sys.executable, "-c", "import numpy"], env, "import numpy")
                                for _ in range(args.repeat))
    rows = []
    variants = {  # label: extra arguments (the "table" row prints the report, to /dev/null)
        "cold": ["-q"], "warm": ["-q"], "warm -j 1": ["-q", "-j", "1"], "warm, table": [], "warm --html": ["-q"],
        "warm -e A7": ["-q", "-e", "A7"],  # the capstone alone: five networks trained, step by step
        "cold -e Affine": ["-q", "-e", "Affine"], "warm -e Affine": ["-q", "-e", "Affine"],
    }
    for label, extra in variants.items():
        runs = []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as cache:
                env["GRADER_CACHE"] = cache
                out = Path(cache) / "r.json"
                if label.startswith("warm"):
                    check_run(env, out, "-q")
                html = ["--html", str(Path(cache) / "r.html")] if "html" in label else []
                runs.append(check_run(env, out, *extra, *html, label=label))
        seconds = statistics.median(r[0] for r in runs)
        phases = {k: statistics.median(r[1].get(k, 0.0) for r in runs) for k in runs[0][1]}
        rows.append((label, seconds, phases))
    warm = dict((r[0], r[1]) for r in rows)
    print(f"baseline: python -c 'import torch'  {baseline:.3f} s (median of {args.repeat})")
    print(f"{'run':12} {'wall s':>8} {'x torch':>8}   phases (s, in-process; summed over the lanes)")
    for label, seconds, phases in rows:
        parts = "  ".join(f"{k} {v:.3f}" for k, v in phases.items())
        print(f"{label:12} {seconds:8.3f} {seconds / baseline:8.2f}   {parts}")
    cpu = {k: statistics.median(v) for k, v in CPU.items() if k}
    print("CPU s (median; all processes): " + "  ".join(f"{k} {v:.2f}" for k, v in cpu.items()))
    print(f"cold vs import torch: {warm['cold'] / baseline:.2f}x wall, {cpu['cold'] / cpu['import torch']:.2f}x CPU "
          f"(goal 3x); cold -e Affine: {warm['cold -e Affine'] / baseline:.2f}x wall, "
          f"{cpu['cold -e Affine'] / cpu['import torch']:.2f}x CPU (goal 1.5x)")
    calls = statistics.median(r[2].get("student calls", 0.0) for r in rows if r[0] == "warm -j 1")
    floor = numpy_s + calls
    print(f"warm floor (import numpy {numpy_s:.3f} s + the learner's own calls {calls:.3f} s, one lane): "
          f"{floor:.3f} s; warm -j 1 is {warm['warm -j 1'] / floor:.2f}x it, warm {warm['warm'] / floor:.2f}x (goal 2x)")
    print(f"two lanes (default on 2 cores) vs -j 1: {warm['warm -j 1'] / warm['warm']:.2f}x faster warm")
    per = {k: v for k, v in rows[1][2].items() if k.startswith("[")}
    print("warm, seconds per assignment (exercise grading, in-process, summed over the lanes): "
          + "  ".join(f"{k} {v:.3f}" for k, v in per.items()))
    print(f"figures: 'warm --html' costs {warm['warm --html'] / warm['warm']:.2f}x 'warm'; without --html/--plots "
          "no figure code is imported (matplotlib stays out: see tests/test_refcache.py)")


if __name__ == "__main__":
    main()
