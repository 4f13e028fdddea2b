"""The Python API: what each command does, without argument parsing.

The CLI parses options and calls one function here per command; notebooks, pytest and other front ends
call the same functions. Hidden-case grading (a secret seed) is decided here once: the result is
redacted before any back sees it, and Gradescope's results.json carries the public grading beside it.
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Callable

from . import backs
from .model.course import Course
from .model.errors import CourseError, GraderError
from .model.results import SubmissionResult

MIN_SECRET_BITS = 64
"""A secret seed guessable by brute force hides nothing."""


def course_file(path: str | Path) -> Path:
    """A course file, or a course folder's course.yml (a course is a folder: course.yml, solutions/, twins)."""
    path = Path(path)
    return path / "course.yml" if path.is_dir() else path


def find_course(explicit: str | Path | None, near: Path) -> Path:
    """--course (a file or a course folder), else $GRADER_COURSE (the same), else course.yml here or in a
    parent of the submission, else the course that comes with the grader (a wheel's learner kit:
    grader.release.kit)."""
    from .release.kit import bundled_course

    if explicit:
        return course_file(explicit)
    if os.environ.get("GRADER_COURSE"):
        return course_file(os.environ["GRADER_COURSE"])
    for folder in [Path.cwd(), *near.resolve().parents]:
        if (folder / "course.yml").exists():
            return folder / "course.yml"
    bundled = bundled_course()
    if bundled is not None:
        return bundled
    raise GraderError("no course.yml found here or above the submission; pass --course FILE")


def load(path: str | Path) -> Course:
    from .coursefile import load_course

    return load_course(course_file(path))


def with_data(course: Course, given: list[str] | None) -> Course:
    """The course with the data sets of ``--data NAME=DIR`` (grader.kinds.networks.with_data: MNIST's
    IDX files switch the digits MLP to the course text's 784-64-64-64-10 setup)."""
    sets = data_sets(given)
    if not sets:
        return course
    from .kinds.networks import with_data as switch

    return switch(course, sets)


def data_sets(given: list[str] | None) -> dict[str, Path]:
    """``--data NAME=DIR`` items as {name: folder}."""
    sets = {}
    for item in given or []:
        name, sep, folder = item.partition("=")
        if not sep or not folder:
            raise GraderError(f"--data {item}: expected NAME=DIR (mnist=FOLDER of MNIST's IDX files)")
        sets[name] = Path(folder)
    return sets


def require_strong(course: Course, seed: int | None) -> None:
    """Refuse a secret seed under 64 bits (``grader secret`` makes a fresh 128-bit one)."""
    if course.is_secret(seed) and abs(seed).bit_length() < MIN_SECRET_BITS:  # type: ignore[arg-type]
        raise GraderError(f"a secret seed needs at least {MIN_SECRET_BITS} bits, this one has "
                          f"{abs(seed).bit_length()}: make one with `grader secret`")  # type: ignore[arg-type]


def secret() -> int:
    """A fresh secret seed: 128 bits from the OS's CSPRNG (top bit set, so always 128 bits long)."""
    import secrets

    return secrets.randbits(127) | 1 << 127


def check(course: Course, submission: Path, options: object, targets: dict[str, Path] | None = None,
          gradescope: Path | None = None, on_figure: Callable[[int, int], None] | None = None) -> SubmissionResult:
    """Grade one submission (``options``: grader.engine.grading.Options); with a secret seed the result is
    redacted before it is returned or written. ``targets`` names file backs (json, html, plots);
    ``on_figure`` is told (drawn, in all) as their figures are drawn."""
    from .engine.grading import grade

    targets = targets or {}
    if any(backs.BACKS[name].needs_plots for name in targets):
        options = dataclasses.replace(options, plots=True)  # type: ignore[type-var]
    try:
        result = grade(course, submission, options)  # type: ignore[arg-type]
    except GraderError as e:
        if gradescope is not None:  # an empty or unreadable upload: 0 with the reason, in results.json too
            write_gradescope(course, submission, options, _error_result(course, submission, str(e), options), gradescope)
        raise
    if course.is_secret(options.seed):  # type: ignore[attr-defined]
        from .judge.redact import redact

        redact(result, course)  # hidden cases: every back below is made from the redacted result
    if gradescope is not None:
        write_gradescope(course, submission, options, result, gradescope)
    backs.write(result, targets, getattr(options, "full_results", False), on_figure)
    return result


def _error_result(course: Course, submission: Path, message: str, options: object) -> SubmissionResult:
    from .executors import error_result
    from .judge.redact import redact

    secret = course.is_secret(options.seed)  # type: ignore[attr-defined]
    result = error_result(course, submission, message, "secret" if secret else "public",
                          options.device, options.seed)  # type: ignore[attr-defined]
    return redact(result, course) if secret else result


def write_gradescope(course: Course, submission: Path, options: object, result: SubmissionResult,
                     out: Path) -> None:
    """results.json for Gradescope (:func:`grader.backs.gradescope.gradescope_results`): with a secret
    seed, ``result`` (already redacted) is joined by the submission graded on the public seed, whose
    tests are visible before the due date."""
    from .backs.gradescope import gradescope_results
    from .engine.grading import grade
    from .files import write_atomically

    public = None
    if course.is_secret(options.seed) and not result.error:  # type: ignore[attr-defined]
        try:
            public = grade(course, submission, dataclasses.replace(options, seed=None))  # type: ignore[type-var]
        except GraderError:
            public = None
    write_atomically(out, json.dumps(gradescope_results(result, public), indent=2))


def grade_class(course: Course, submissions: Path, out: Path, options: object,
                on_done: Callable[[str, float, float, str], None] | None = None) -> object:
    """Grade a folder of submissions (``options``: grader.executors.batch.BatchOptions) into RESULTS."""
    from .executors.batch import grade_batch

    require_strong(course, options.seed)  # type: ignore[attr-defined]
    return grade_batch(course, submissions, out, options, on_done)  # type: ignore[arg-type]


def bundle(course_path: Path, out: Path, seed: int | None, references: bool = True) -> Path:
    """A Gradescope autograder zip for the course, with its references computed now (unless not
    ``references``: setup.sh then computes them)."""
    from .release.gradescope_bundle import build_bundle

    course_path = course_file(course_path)
    require_strong(load(course_path), seed)
    return build_bundle(course_path, out, seed, references)


def nbgrader_course(course_path: Path, out: Path, assignments: list[str] | None = None,
                    solutions: Path | None = None) -> list[Path]:
    """An nbgrader course in ``out``: ``nbgrader_config.py`` and ``source/<id>/<id>.ipynb`` per assignment
    (solutions from ``solutions``, default the course's ``solutions/``). Returns the files written."""
    from .release.nbgrader_course import write_course

    course = load(course_path)
    return write_course(course, Path(out), Path(solutions) if solutions else Path(course_path).parent / "solutions",
                        assignments)


def validate(path: str | Path) -> Course:
    """Load a course file, then check it against its solutions/ and its torch twins (which imports torch):
    grader.authoring.validation."""
    from .authoring.validation import validate as deep

    course = load(path)
    deep(course)
    return course


def case(course: Course, exercise: str, index: int, out: Path, seed: int | None = None) -> list[str]:
    """Write public case ``index`` of an exercise (inputs, upstream gradients, reference values) to ``out``
    (.npz) and return the lines to print: what the file holds and how to load it. Refused under a secret
    seed: its cases are the hidden ones."""
    from .engine import casefile

    if course.is_secret(seed):
        raise GraderError("grader case writes public cases only, and a secret seed is in effect (--seed or "
                          "$GRADER_SEED): unset it to save the public case")
    ex = course.exercise(exercise)
    values = casefile.case_values(course, ex, index)
    casefile.write(values, out)
    setting = ex.setting("case", index)
    return ([f"wrote {out}: exercise {ex.id} ({ex.title}), case {index}" + (f" ({setting})" if setting else ""),
             *casefile.describe(values), "load it:"] + [f"  {line}" for line in casefile.snippet(ex, values, out)])


def roster(path: str | Path | None) -> dict[str, dict[str, str]] | None:
    """Student identifier -> name and email, from a roster CSV (None without one)."""
    from .backs.gradebook import read_roster

    return read_roster(Path(path)) if path else None


def report(results: Path) -> SubmissionResult:
    """A Result tree read back from its JSON file."""
    from .model.results import from_dict

    try:
        return from_dict(json.loads(Path(results).read_text()))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise GraderError(f"{results}: not a results file this grader can read ({e})") from None


__all__ = ["CourseError", "GraderError", "bundle", "case", "check", "find_course", "grade_class", "load",
           "nbgrader_course", "report", "require_strong", "secret", "validate", "write_gradescope"]
