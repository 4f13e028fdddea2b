"""No false failures: correct implementations, the reference solutions and a second set written
differently, get full marks on every seed; so do the solutions of every course folder of the repository."""
from __future__ import annotations

import functools
from pathlib import Path

import pytest

from grader.coursefile import load_course
from grader.model.course import Course
from grader.model.results import PASS

from .conftest import (
    COURSE_FOLDERS,
    ROOT,
    SOLUTIONS,
    VARIANTS,
    make_submission,
    run_grade,
)
from .mutants import STYLES, TEXTBOOK, Mutant, combined

SEEDS = list(range(20))
CORRECT = [pytest.param(ROOT, SOLUTIONS, id="solutions"), pytest.param(ROOT, VARIANTS, id="variants"),
           *(pytest.param(f, f / "solutions", id=f"{f.name}-solutions") for f in COURSE_FOLDERS if f != ROOT)]
"""(course folder, correct submission): the bundled course's solutions and variants, each example's solutions."""


@functools.lru_cache(maxsize=None)
def course_of(folder: Path) -> Course:
    return load_course(folder)


def _covered(course: Course, submission: Path) -> list[str]:
    """Exercises whose module the submission has (the variants cover part of the course)."""
    return [e.id for e in course.exercises if (submission / f"{e.module}.py").exists()]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("folder, submission", CORRECT)
def test_full_marks_on_every_seed(folder: Path, submission: Path, seed: int) -> None:
    course = course_of(folder)
    exercises = _covered(course, submission)
    result = run_grade(course, submission, *exercises, seed=seed)
    failing = {e.title: e.reason for e in result.exercises if e.status != PASS}
    assert failing == {}
    assert result.points == result.max_points == sum(course.exercise(i).points for i in exercises)
    if submission.name == "solutions":
        assert len(exercises) == len(course.exercises)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(20, 220))
@pytest.mark.parametrize("folder, submission", CORRECT)
def test_full_marks_wide_sweep(folder: Path, submission: Path, seed: int) -> None:
    course = course_of(folder)
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
