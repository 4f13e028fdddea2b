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
    for module in sorted({e.module for e in course.exercises} - {"activations", "layers"}):
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
