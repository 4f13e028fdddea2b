"""The terminal report as a learner meets it: it fits 80 columns without cutting a score or a status,
numbers are rounded for people, each problem is told once (a missing module once, with its exercises),
there is a legend and a next step."""
from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from grader.backs.terminal import LEGEND, points, render
from grader.model.course import Course
from grader.model.results import (
    CaseResult,
    CheckResult,
    ExerciseResult,
    SubmissionResult,
)

from .conftest import ROOT, SOLUTIONS


def test_points_are_rounded_for_people() -> None:
    assert [points(x) for x in (0.7142857, 18.251, 2.0, 0.0, 186.0, 0.005)] == ["0.71", "18.25", "2", "0", "186", "0.01"]


def _cli(*args: str, columns: int = 80) -> list[str]:
    env = {"PATH": "/usr/bin:/bin", "COLUMNS": str(columns), "NO_COLOR": "1",
           **{k: v for k, v in __import__("os").environ.items() if k.startswith("GRADER_") or k == "HOME"}}
    proc = subprocess.run([sys.executable, "-m", "grader", "check", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    return proc.stdout.splitlines()


def test_stubs_fit_80_columns_one_line_per_exercise(course: Course) -> None:
    lines = _cli("exercises/")
    assert max(len(line) for line in lines) <= 80
    assert len(lines) <= len(course.exercises) + len(course.assignments) + 12
    for e in course.exercises:
        row = next(line for line in lines if re.match(rf"^│{re.escape(e.id)} ", line))
        assert f" 0/{e.points:g} │todo " in row  # score and status whole
    assert LEGEND in "\n".join(lines)
    assert lines[-1] == "next: 1.1 Sigmoid — grader check exercises -e 1.1"


def test_missing_modules_are_told_once_each(course: Course, tmp_path: Path) -> None:
    sub = tmp_path / "two"
    sub.mkdir()
    for name in ("activations.py", "layers.py"):
        (sub / name).write_bytes((SOLUTIONS / name).read_bytes())
    text = "\n".join(_cli(str(sub)))
    assert max(len(line) for line in text.splitlines()) <= 80
    # (the capstone's networks import the other modules: their first missing one is what they report)
    for module in sorted({e.module for e in course.exercises} - {"activations", "layers", "networks"}):
        assert len(re.findall(rf"^  {module}\.py is not in the submission$", text, re.M)) == 1, module
    assert len(text.splitlines()) < 200


def test_a_repeated_message_is_printed_once_with_its_count() -> None:
    boom = "Traceback: ValueError: boom at layers.py:12"
    cases = [CaseResult(f"case {i} · out", "error", boom) for i in range(9)]
    ex = ExerciseResult("1.10", "Affine", "layers.Affine", 4.0, [CheckResult("reference", 1.0, cases)])
    result = SubmissionResult("sub", "course", "d", "public", "cpu", "C", "0")
    result.assignments.append(__import__("grader.model.results", fromlist=["x"]).AssignmentResult("A1", "A", [ex]))
    out = io.StringIO()
    render(result, Console(file=out, width=100, no_color=True))
    text = out.getvalue().split(LEGEND)[1]  # the details, below the table (whose row shows the first line)
    assert text.count(boom) == 1 and "(and 8 more cases with the same message)" in text


def test_failed_reruns_only_what_did_not_pass(tmp_path: Path) -> None:
    import json
    import os

    from .conftest import make_submission

    sub = make_submission(tmp_path / "sub", append={"activations": "class Tanh:\n    pass\n"})
    env = {**os.environ, "GRADER_CACHE": str(tmp_path / "cache"), "NO_COLOR": "1", "COLUMNS": "120"}
    env.pop("GRADER_SEED", None)

    def check(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "grader", "check", str(sub), *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)

    never = check("--failed")
    assert never.returncode == 2 and "no earlier check" in never.stderr
    first = check("-e", "Sigmoid", "-e", "Tanh", "-e", "ReLU", "-q")
    assert first.returncode == 1
    again = check("--failed", "--json", str(tmp_path / "r.json"), "-q")
    graded = [e["id"] for a in json.loads((tmp_path / "r.json").read_text())["assignments"] for e in a["exercises"]]
    assert again.returncode == 1 and graded[0] == "1.2" and "1.1" not in graded and "1.4" not in graded
    assert "1.10" in graded  # never checked counts as unfinished


def test_watch_regrades_the_changed_module(tmp_path: Path) -> None:
    import os
    import queue
    import signal
    import threading
    import time

    from .conftest import make_submission

    sub = make_submission(tmp_path / "sub")
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120", "PYTHONUNBUFFERED": "1"}
    env.pop("GRADER_SEED", None)
    proc = subprocess.Popen([sys.executable, "-m", "grader", "check", str(sub), "-e", "Sigmoid", "-e", "Affine",
                             "--watch"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    out: list[str] = []
    readers = [threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True),  # type: ignore[union-attr]
               threading.Thread(target=lambda: [out.append(line) for line in proc.stdout], daemon=True)]  # type: ignore[union-attr]
    for r in readers:
        r.start()

    def wait_for(text: str) -> str:
        seen = ""
        deadline = time.monotonic() + 120
        while text not in seen and time.monotonic() < deadline:
            try:
                seen += lines.get(timeout=1)
            except queue.Empty:
                pass
        return seen

    try:
        assert "watching" in wait_for("watching")
        time.sleep(0.2)
        with open(sub / "layers.py", "a") as f:
            f.write("\n\nclass Affine:\n    pass\n")
        assert "layers.py changed: regrading 1 exercise(s)" in wait_for("regrading")
        deadline = time.monotonic() + 120
        while "".join(out).count("Total: ") < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        for r in readers:
            r.join(10)
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
    text = "".join(out)
    assert text.count("Total: ") == 2 and "Total: 0/4" in text
