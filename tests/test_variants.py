"""No false failures: correct implementations, the reference solutions and a second set written
differently, get full marks on every seed."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.model.course import Course
from grader.model.results import PASS

from .conftest import SOLUTIONS, VARIANTS, run_grade

SEEDS = list(range(20))


def _covered(course: Course, submission: Path) -> list[str]:
    """Exercises whose module the submission has (the variants cover part of the course)."""
    return [e.id for e in course.exercises if (submission / f"{e.module}.py").exists()]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("submission", [SOLUTIONS, VARIANTS], ids=["solutions", "variants"])
def test_full_marks_on_every_seed(submission: Path, seed: int, course: Course) -> None:
    exercises = _covered(course, submission)
    result = run_grade(course, submission, *exercises, seed=seed)
    failing = {e.title: e.reason for e in result.exercises if e.status != PASS}
    assert failing == {}
    assert result.points == result.max_points == sum(course.exercise(i).points for i in exercises)
    if submission == SOLUTIONS:
        assert len(exercises) == len(course.exercises)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(20, 220))
@pytest.mark.parametrize("submission", [SOLUTIONS, VARIANTS], ids=["solutions", "variants"])
def test_full_marks_wide_sweep(submission: Path, seed: int, course: Course) -> None:
    result = run_grade(course, submission, *_covered(course, submission), seed=seed)
    assert {e.title: e.reason for e in result.exercises if e.status != PASS} == {}
