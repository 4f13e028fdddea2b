"""No false failures: correct implementations, the reference solutions and a second set written
differently, get full marks on every seed."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.model.course import Course
from grader.model.results import PASS

from .conftest import SOLUTIONS, VARIANTS, make_submission, run_grade
from .mutants import STYLES, TEXTBOOK, Mutant, combined

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


def _groups(forms: list[Mutant]) -> list[list[Mutant]]:
    """The forms in as few submissions as possible (one form per target in each)."""
    groups: list[list[Mutant]] = []
    for form in forms:
        group = next((g for g in groups if all((m.module, m.target) != (form.module, form.target) for m in g)), None)
        if group is None:
            groups.append([form])
        else:
            group.append(form)
    return groups


@pytest.mark.parametrize("seed", SEEDS)
def test_textbook_styles_full_marks_on_every_seed(seed: int, course: Course, tmp_path: Path) -> None:
    """The textbook forms (naive sigmoid, np.where ELU, velocity momentum, loops...) on 20 seeds."""
    for n, group in enumerate(_groups(TEXTBOOK + STYLES)):
        sub = make_submission(tmp_path / f"g{n}", replace=combined(group))
        exercises = sorted({e.id for m in group for e in course.exercises if e.name == m.exercise})
        result = run_grade(course, sub, *exercises, seed=seed)
        assert {e.title: e.reason for e in result.exercises if e.status != PASS} == {}
