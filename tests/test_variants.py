"""No false failures: correct implementations, the reference solutions and a second set written
differently, get full marks on every seed."""
from __future__ import annotations

import pytest

from grader.course import Course
from grader.results import PASS

from .conftest import SOLUTIONS, VARIANTS, run_grade

SEEDS = list(range(20))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("submission", [SOLUTIONS, VARIANTS], ids=["solutions", "variants"])
def test_full_marks_on_every_seed(submission, seed: int, course: Course) -> None:
    result = run_grade(course, submission, seed=seed)
    failing = {e.title: e.reason for e in result.exercises if e.status != PASS}
    assert failing == {}
    assert result.points == result.max_points == 32


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(20, 220))
def test_variants_full_marks_wide_sweep(seed: int, course: Course) -> None:
    result = run_grade(course, VARIANTS, seed=seed)
    assert {e.title: e.reason for e in result.exercises if e.status != PASS} == {}
