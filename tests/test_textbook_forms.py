"""Correct code that makes numpy warn keeps full marks: a floating-point warning alone is advice, never a
lost point (issue 11); wrong values on extreme inputs still fail, with the place that broke down."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.model.course import Course
from grader.model.results import FAIL, PASS

from .conftest import run_grade
from .mutants import STYLES, TEXTBOOK, Mutant, find


@pytest.mark.parametrize("form", TEXTBOOK, ids=lambda m: f"{m.exercise}-{m.name[:40]}")
def test_textbook_form_with_a_harmless_warning_gets_full_marks(form: Mutant, course: Course, tmp_path: Path) -> None:
    ex = next(e for e in course.exercises if e.name == form.exercise)
    (graded,) = run_grade(course, form.submission(tmp_path / "sub"), ex.id).exercises
    assert graded.status == PASS and graded.points == graded.max_points, graded.reason
    label = {"dx": "dpred" if ex.kind == "loss" else "dx", "out": "loss" if ex.kind == "loss" else "out"}[form.quantity]
    stability = next(c for c in graded.checks if c.name == "stability")
    advised = [c for c in stability.cases if c.name.endswith(f"· {label}") and "advice" in c.details]
    assert advised, [c.message for c in stability.cases]
    assert "overflow in numpy at " in advised[0].details["advice"]
    assert advised[0].details["advice"].endswith("harmless here, but a stable form avoids it")
    assert f"{form.module}.py:" in advised[0].details["advice"]


def test_wrong_values_with_a_warning_still_fail_and_say_where(course: Course, tmp_path: Path) -> None:
    """The naive tanh gives inf/inf = nan for x = 1000: values are wrong, so the case fails, naming the overflow."""
    bug = find("Tanh", "naive")
    (graded,) = run_grade(course, bug.submission(tmp_path / "sub"), "1.2").exercises
    stability = next(c for c in graded.checks if c.name == "stability")
    failing = [c for c in stability.cases if c.status == FAIL]
    assert failing
    assert "hint: numerically unstable on extreme inputs: overflow in numpy at activations.py:" in failing[0].message


@pytest.mark.parametrize("form", TEXTBOOK + STYLES, ids=lambda m: f"{m.exercise}-{m.name[:40]}")
def test_correct_code_in_another_style_gets_no_hint(form: Mutant, course: Course, tmp_path: Path) -> None:
    """Full marks, and not one case with a hint: a cause named for correct code would send a learner hunting."""
    ex = next(e for e in course.exercises if e.name == form.exercise)
    (graded,) = run_grade(course, form.submission(tmp_path / "sub"), ex.id).exercises
    assert graded.points == graded.max_points, graded.reason
    hinted = [k.name for c in graded.checks for k in c.cases if k.details.get("hint") or "hint:" in k.message]
    assert hinted == []
