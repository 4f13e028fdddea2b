"""Conv2d, MaxPool2d and AvgPool2d graded over random shapes and hyper-parameters (hypothesis).

Each example turns the course's own exercise (assignment A3) into a one-case exercise with a drawn shape,
kernel, stride and padding, grades the reference solution with every check of the exercise (it must get
full marks), and, for Conv2d, a kernel-flipping convolution (it must fail the reference check: flipping is
invisible to gradcheck, only torch can tell). Only combinations torch accepts are drawn: "same" padding
with stride 1, outputs of at least one pixel.

Until A3 is merged into course.yml, its exercises come from course_fragments/a3_cnn.yml appended to
course.yml's assignments; once merged, from course.yml itself.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from grader.coursefile import load_course
from grader.engine.grading import Options, grade
from grader.model.course import ArraySpec, Assignment, Case, Course, Exercise
from grader.model.results import PASS

from .conftest import ROOT, SOLUTIONS
from .mutants import find

FRAGMENT = ROOT / "course_fragments" / "a3_cnn.yml"
SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@functools.lru_cache(maxsize=1)
def a3_course() -> Course:
    """course.yml with assignment A3: as merged there, or with the fragment's assignment appended."""
    base = load_course(ROOT / "course.yml")
    if any(ex.target == "cnn.Conv2d" for ex in base.exercises):
        return base
    data = yaml.safe_load((ROOT / "course.yml").read_text())
    data["assignments"] += yaml.safe_load(FRAGMENT.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "course.yml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        merged = load_course(path)
    return dataclasses.replace(merged, path=base.path, hide=base.hide)  # hide paths resolve from the real file


def exercise(target: str) -> Exercise:
    return next(ex for ex in a3_course().exercises if ex.target == target)


def grade_one(ex: Exercise, case: Case, submission: Path, cache: Path) -> Any:
    """Grade ``submission`` on ``ex`` reduced to the single ``case``; return the exercise's result."""
    one = dataclasses.replace(ex, cases=(case,))
    course = dataclasses.replace(a3_course(), assignments=(Assignment("H", "hypothesis", (one,)),),
                                 digest="hyp-" + hashlib.sha256(repr(case).encode()).hexdigest()[:12])
    result = grade(course, submission, Options(cache=cache, use_cache=False))
    (graded,) = result.exercises
    return graded


def describe(graded: Any) -> str:
    return "\n".join(f"{c.name}: {c.status}: {c.message}" for ch in graded.checks for c in ch.cases if not c.passed)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hyp-cache")


@pytest.fixture(scope="module")
def flipped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The solutions with Conv2d replaced by a true convolution (kernel flipped)."""
    return find("Conv2d", "kernel flipped").submission(tmp_path_factory.mktemp("flipped") / "sub")


# --------------------------------------------------------------------------- strategies

sizes = st.integers(1, 3)
pairs = st.tuples(st.integers(1, 3), st.integers(1, 3))


def _resolve(padding: Any, kh: int, kw: int) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) as torch pads."""
    if padding == "valid":
        return 0, 0, 0, 0
    if padding == "same":
        return (kh - 1) // 2, kh - 1 - (kh - 1) // 2, (kw - 1) // 2, kw - 1 - (kw - 1) // 2
    ph, pw = padding if isinstance(padding, tuple) else (padding, padding)
    return ph, ph, pw, pw


@st.composite
def conv_cases(draw: st.DrawFn, padded: bool = True) -> Case:
    """A Conv2d case torch accepts; ``padded=False``: no zeros added, so every kernel entry meets pixels."""
    n, c_in, c_out = draw(sizes), draw(sizes), draw(sizes)
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = draw(st.one_of(st.integers(1, 3), pairs))
    paddings = [st.just("valid"), st.integers(0, 2), st.tuples(st.integers(0, 2), st.integers(0, 2))]
    if not padded:
        paddings = [st.just("valid"), st.just(0), st.just((0, 0))]
    elif stride in (1, (1, 1)):
        paddings.append(st.just("same"))
    padding = draw(st.one_of(*paddings))
    top, bottom, left, right = _resolve(padding, kh, kw)
    h = draw(st.integers(max(1, kh - top - bottom), 8))
    w = draw(st.integers(max(1, kw - left - right), 8))
    assume(n * c_in * h * w <= 400)
    return Case(arrays={"x": ArraySpec(shape=(n, c_in, h, w)),
                        "W": ArraySpec(shape=(c_out, c_in, kh, kw), low=-1.0, high=1.0),
                        "b": ArraySpec(shape=(c_out,))},
                hyper={"stride": stride, "padding": padding})


@st.composite
def pool_cases(draw: st.DrawFn) -> Case:
    kernel = draw(st.one_of(st.integers(1, 3), pairs))
    stride = draw(st.one_of(st.none(), st.integers(1, 3), pairs))
    kh, kw = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    n, c = draw(sizes), draw(sizes)
    h, w = draw(st.integers(kh, 8)), draw(st.integers(kw, 8))
    assume(n * c * h * w <= 400)
    hyper = {"kernel": kernel} if stride is None else {"kernel": kernel, "stride": stride}
    return Case(arrays={"x": ArraySpec(shape=(n, c, h, w))}, hyper=hyper)


# --------------------------------------------------------------------------- tests


@SETTINGS
@given(case=conv_cases())
def test_conv2d_solution_passes(case: Case, cache: Path) -> None:
    graded = grade_one(exercise("cnn.Conv2d"), case, SOLUTIONS, cache)
    assert graded.points == graded.max_points, describe(graded)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=conv_cases(padded=False))
def test_conv2d_flipped_kernel_fails_reference(case: Case, cache: Path, flipped: Path) -> None:
    kh, kw = case.arrays["W"].shape[2:]
    # a 1x1 kernel is its own flip; with padding, a kernel entry may meet only zeros and the flip go unseen
    assume(kh * kw > 1)
    graded = grade_one(exercise("cnn.Conv2d"), case, flipped, cache)
    checks = {c.name: c.status for c in graded.checks}
    assert checks["reference"] != PASS, describe(graded)
    assert checks["gradcheck"] == PASS  # flipped consistently: only the reference can tell


@SETTINGS
@given(case=pool_cases())
def test_maxpool2d_solution_passes(case: Case, cache: Path) -> None:
    graded = grade_one(exercise("cnn.MaxPool2d"), case, SOLUTIONS, cache)
    assert graded.points == graded.max_points, describe(graded)


@SETTINGS
@given(case=pool_cases())
def test_avgpool2d_solution_passes(case: Case, cache: Path) -> None:
    graded = grade_one(exercise("cnn.AvgPool2d"), case, SOLUTIONS, cache)
    assert graded.points == graded.max_points, describe(graded)
