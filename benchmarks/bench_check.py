"""Benchmark ``grader check solutions/``: wall time split by phase, as ratios to a bare torch import.

Every figure is measured in this run, on this machine: the baseline (``python -c "import torch"``) and
the grader, cold (empty reference cache: torch is imported and references computed) and warm (cache
filled: no torch import at all). Run: ``python benchmarks/bench_check.py [--repeat N]``.

Each row also gives the CPU time of the run ("cpu s": the grader and its sandboxed children, user + system,
sampled from /proc): on a machine shared with other work the wall time measures the neighbours too, the
CPU time far less.
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


def wall(cmd: list[str], env: dict[str, str]) -> float:
    return timed(cmd, env)[0]


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds of the grader and all its descendants (user + system).

    The sandboxed children are killed, not waited for by a parent of theirs (a tier-B reaper dies with
    its PID 1), so the kernel's accounting of waited-for children misses them: the CPU time of every
    process of the tree is sampled from /proc instead (each process's last reading, every SAMPLE_S)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ticks: dict[tuple[int, int], int] = {}  # (pid, start time): utime + stime, in clock ticks
    while proc.poll() is None:
        _sample_tree(proc.pid, ticks)
        time.sleep(SAMPLE_S)
    seconds = time.perf_counter() - start
    return seconds, sum(ticks.values()) / os.sysconf("SC_CLK_TCK")


SAMPLE_S = 0.02


def _sample_tree(root: int, ticks: dict[tuple[int, int], int]) -> None:
    """Record the CPU ticks of ``root`` and every process descending from it."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            table[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[19]))
    parents: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        parents.setdefault(ppid, []).append(pid)
    todo = [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            _, cpu, started = table[pid]
            ticks[(pid, started)] = max(cpu, ticks.get((pid, started), 0))
        todo += parents.get(pid, [])


def check_run(env: dict[str, str], out: Path, *extra: str) -> tuple[float, dict[str, float]]:
    cmd = [sys.executable, "-m", "grader", "check", "solutions", "--json", str(out), *extra]
    seconds, cpu = timed(cmd, env)
    data = json.loads(out.read_text())
    assert data["points"] == data["max_points"], "solutions must get full marks"
    phases = {"cpu s": cpu, "interpreter+imports": seconds - data["duration_s"], **data["timings"]}
    per_assignment = {f"[{a['id']}]": sum(e["duration_s"] for e in a["exercises"]) for a in data["assignments"]}
    return seconds, {**phases, "in-process total": data["duration_s"], **per_assignment}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--busy", type=int, default=0, metavar="N",
                        help="only the cold check against import torch, beside N busy processes (issue 15: "
                             "at load 4, two beside it on two cores, cold stays within 4x)")
    args = parser.parse_args()
    if args.busy:
        cold_beside_busy(args.busy, args.repeat)
        return
    env = {**os.environ}
    imports = {name: [timed([sys.executable, "-c", f"import {name}"], env) for _ in range(args.repeat)]
               for name in ("torch", "numpy")}
    baseline = statistics.median(w for w, _ in imports["torch"])
    torch_cpu = statistics.median(c for _, c in imports["torch"])
    numpy_s = statistics.median(w for w, _ in imports["numpy"])
    rows = []
    variants = {  # label: extra arguments (the "table" row prints the report, to /dev/null)
        # -j 2 where rows are compared: the default follows the load average, which this benchmark raises
        "cold": ["-q", "-j", "2"], "warm": ["-q", "-j", "2"], "warm -j 1": ["-q", "-j", "1"],
        "warm, table": ["-j", "2"], "warm --html": ["-q", "-j", "2"],
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
                runs.append(check_run(env, out, *extra, *html))
        seconds = statistics.median(r[0] for r in runs)
        phases = {k: statistics.median(r[1].get(k, 0.0) for r in runs) for k in runs[0][1]}
        rows.append((label, seconds, phases))
    warm = dict((r[0], r[1]) for r in rows)
    print(f"baseline: python -c 'import torch'  {baseline:.3f} s (median of {args.repeat})")
    print(f"{'run':12} {'wall s':>8} {'x torch':>8}   phases (s, in-process; summed over the lanes)")
    for label, seconds, phases in rows:
        parts = "  ".join(f"{k} {v:.3f}" for k, v in phases.items())
        print(f"{label:12} {seconds:8.3f} {seconds / baseline:8.2f}   {parts}")
    print(f"two lanes (default on 2 cores) vs -j 1: {warm['warm -j 1'] / warm['warm']:.2f}x faster warm")
    per = {k: v for k, v in rows[1][2].items() if k.startswith("[")}
    print("warm, seconds per assignment (exercise grading, in-process, summed over the lanes): "
          + "  ".join(f"{k} {v:.3f}" for k, v in per.items()))
    cpu = {label: phases["cpu s"] for label, _, phases in rows}
    print(f"cold vs import torch: {warm['cold'] / baseline:.2f}x wall, {cpu['cold'] / torch_cpu:.2f}x CPU (goal 3x); "
          f"cold -e Affine: {warm['cold -e Affine'] / baseline:.2f}x wall, {cpu['cold -e Affine'] / torch_cpu:.2f}x "
          "CPU (goal 1.5x)")
    calls = statistics.median(r[2].get("student calls", 0.0) for r in rows if r[0] == "warm -j 1")
    floor = numpy_s + calls
    print(f"warm floor (import numpy {numpy_s:.3f} s + the learner's own calls {calls:.3f} s, one lane): "
          f"{floor:.3f} s; warm -j 1 is {warm['warm -j 1'] / floor:.2f}x it, warm {warm['warm'] / floor:.2f}x (goal 2x)")
    print(f"figures: 'warm --html' costs {warm['warm --html'] / warm['warm']:.2f}x 'warm'; without --html/--plots "
          "no figure code is imported (matplotlib stays out: see tests/test_refcache.py)")



def cold_beside_busy(busy: int, repeat: int) -> None:
    """Cold whole-course check and ``import torch``, interleaved, while ``busy`` processes spin."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
    try:
        time.sleep(2)
        env = {**os.environ}
        torch_s, cold_s = [], []
        for _ in range(repeat):
            torch_s.append(wall([sys.executable, "-c", "import torch"], env))
            with tempfile.TemporaryDirectory() as cache:
                env["GRADER_CACHE"] = cache
                cold_s.append(wall([sys.executable, "-m", "grader", "check", "solutions", "-q"], env))
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    t, c = statistics.median(torch_s), statistics.median(cold_s)
    print(f"beside {busy} busy processes (1-min load average {os.getloadavg()[0]:.1f}): import torch {t:.3f} s, cold check "
          f"{c:.3f} s = {c / t:.2f}x (goal 4x at load 4)")


if __name__ == "__main__":
    main()
