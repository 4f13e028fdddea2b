"""The pytest plugin: ``pytest --grade my_work/`` runs one test item per exercise of the course.

Learners already know pytest, and so do their IDEs: with an item per exercise (``A1/1.10-Affine``),
``-k Affine``, ``--lf``, ``-x`` and test explorers work unchanged. Grading goes through the same
engine as ``grader check`` (:class:`grader.engine.grading.Session`: one sandboxed child per pytest
session, references from the cache), and only the items left after deselection are graded.

Registered as a ``pytest11`` entry point, so it is loaded into every pytest run where the package is
installed: without ``--grade`` it only adds its options. Everything heavy is imported inside the hooks.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .engine.grading import Session
    from .model.course import Course, Exercise
    from .model.results import ExerciseResult

MAX_CASES_SHOWN = 3
"""Failing cases shown per check, as in the terminal report."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("nn-grader", "grading a submission with nn-grader")
    group.addoption("--grade", metavar="DIR", default=None,
                    help="grade the submission DIR: one test item per exercise of the course "
                         "(the project's own tests are not collected)")
    group.addoption("--grade-course", metavar="FILE", default=None,
                    help="the course file (default: $GRADER_COURSE, else course.yml here or above DIR)")


def pytest_configure(config: pytest.Config) -> None:
    """Only with --grade: load the course and register the hooks that collect and grade exercises."""
    submission = config.getoption("grade")
    if submission is None:
        return
    from . import api
    from .model.errors import GraderError

    path = Path(submission)
    if not path.exists():
        raise pytest.UsageError(f"--grade {submission}: no such file or folder")
    try:
        course = api.load(api.find_course(config.getoption("grade_course"), path))
    except GraderError as e:
        raise pytest.UsageError(f"--grade: {e}") from None
    config.pluginmanager.register(_Grading(config, course, path), "nn-grader-grading")


class _Grading:
    """The hooks of a --grade run: exercises instead of test files, one grading session shared."""

    def __init__(self, config: pytest.Config, course: Course, submission: Path):
        self.config, self.course, self.submission = config, course, submission
        self.session: Session | None = None
        self.failure: str | None = None
        """Why the submission could not be graded at all (every item then fails with it)."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_make_collect_report(self, collector: pytest.Collector) -> pytest.CollectReport | None:
        """The session collects the course's assignments, never the arguments' test files: the
        submission is learner code and the project's tests are not what --grade asks for."""
        if not isinstance(collector, pytest.Session):
            return None
        result = [AssignmentCollector.from_parent(collector, name=a.id, nodeid=_sanitise(a.id),
                                                  exercises=a.exercises)
                  for a in self.course.assignments]
        return pytest.CollectReport(collector.nodeid, "passed", None, result)

    def pytest_report_header(self) -> str:
        return f"nn-grader: {self.submission} against {self.course.path} (public seed)"

    def grade(self, ex: Exercise) -> ExerciseResult:
        """The exercise's result; the session (child, references) is started at the first item run."""
        if self.failure is None and self.session is None:
            from .engine.grading import Options, Session
            from .model.errors import GraderError

            try:
                self.session = Session(self.course, self.submission, Options())
            except GraderError as e:
                self.failure = str(e)
        if self.session is None:
            raise GradeError(f"{self.submission} cannot be graded: {self.failure}")
        return self.session.grade(ex.id)

    def pytest_sessionfinish(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None


class AssignmentCollector(pytest.Collector):
    """One assignment: its exercises in course order."""

    def __init__(self, *, exercises: list[Exercise], **kwargs: Any):
        super().__init__(**kwargs)
        self.exercises = exercises

    def collect(self) -> list[ExerciseItem]:
        return [ExerciseItem.from_parent(self, name=_sanitise(f"{ex.id}-{ex.title}"),
                                         nodeid=f"{self.nodeid}/{_sanitise(f'{ex.id}-{ex.title}')}", exercise=ex)
                for ex in self.exercises]


class ExerciseItem(pytest.Item):
    """One exercise: passes when every check passes, fails with the grader's message otherwise."""

    def __init__(self, *, exercise: Exercise, **kwargs: Any):
        super().__init__(**kwargs)
        self.exercise = exercise

    def runtest(self) -> None:
        grading: _Grading = self.config.pluginmanager.get_plugin("nn-grader-grading")  # type: ignore[assignment]
        result = grading.grade(self.exercise)
        if result.output.strip():
            from .backs.text import safe

            self.add_report_section("call", "output", safe(result.output))
        from .model.results import PASS

        if result.status != PASS:
            raise ExerciseFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, (ExerciseFailed, GradeError)):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        module = self.exercise.target.split(".")[0]
        grading: _Grading = self.config.pluginmanager.get_plugin("nn-grader-grading")  # type: ignore[assignment]
        path = grading.submission / f"{module}.py"
        return (path if path.exists() else grading.submission), None, f"{self.exercise.id} {self.exercise.title}"


class GradeError(Exception):
    """The submission as a whole cannot be graded (unreadable folder, unsafe archive)."""


class ExerciseFailed(Exception):
    """An exercise did not pass; its text is what the terminal report says about it."""

    def __init__(self, result: ExerciseResult):
        super().__init__(failure_text(result))
        self.result = result


def failure_text(result: ExerciseResult) -> str:
    """The points, then each failing check's first few case messages (learner text made inert)."""
    from .backs.text import safe
    from .model.results import NOT_IMPLEMENTED

    head = f"{result.id} {result.title}: {result.points:g}/{result.max_points:g} points"
    if result.status == NOT_IMPLEMENTED:
        first = result.reason.splitlines()[0] if result.reason else ""
        return safe(f"{head}, not implemented\n  {first}".rstrip())
    lines = [f"{head} ({result.status})"]
    for check in result.checks:
        bad = [case for case in check.cases if not case.passed]
        for case in bad[:MAX_CASES_SHOWN]:
            lines.append(f"  ✗ {check.name} · {case.title}")
            lines.append("    " + case.message.replace("\n", "\n    "))
        if len(bad) > MAX_CASES_SHOWN:
            lines.append(f"    ... and {len(bad) - MAX_CASES_SHOWN} more failing case(s) of {check.name}")
    return safe("\n".join(lines))


def _sanitise(text: str) -> str:
    """A node name that survives shells, -k expressions and nodeids: runs of other characters become '-'."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "exercise"
