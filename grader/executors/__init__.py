"""Where a whole class is graded: an executor takes tasks (one submission each) and hands back rows.

The parent that owns the references and writes the results stays single (executors/batch.py); an
executor only grades and returns texts, never a file. Every executor has one signature:
``executor.run(tasks, on_row)`` calls ``on_row(task, row)`` as each submission is done, and stops
early when on_row returns False. batch.EXECUTORS names them: ``local`` is a pool of worker processes on
this machine, each with a warm fork server; ``dask`` sends each submission to a Dask cluster
(dask_cluster.py, docs/scaling.md).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple, Protocol

from .. import __version__
from ..judge.redact import redact
from ..model.course import Course
from ..model.results import (
    ERROR,
    AssignmentResult,
    CaseResult,
    CheckResult,
    ExerciseResult,
    SubmissionResult,
    to_json,
)


@dataclass(frozen=True)
class Task:
    """One submission to grade, in terms a worker process on any machine can take (plain values)."""

    course_path: str
    submission: str
    student: str
    seed: int | None
    device: str
    gradescope: bool
    full_results: bool = False
    """Keep every case's detail in the result's JSON (``--full-results``); else passing exercises are compact."""
    data: tuple[tuple[str, str], ...] = ()
    """``--data NAME=DIR`` as (name, folder) pairs, applied to the course where the task is graded
    (grader.kinds.networks.with_data)."""


class Row(NamedTuple):
    """What a worker hands back: the texts to write (the parent alone writes files) and a summary."""

    student: str
    points: float
    max_points: float
    error: str
    result_json: str
    gradescope_json: str | None


OnRow = Callable[[Task, Row], bool]
"""Called with each finished task's row; returning False stops the executor (the disk is full, say)."""


class Executor(Protocol):
    def run(self, tasks: list[Task], on_row: OnRow) -> None:
        """Grade the tasks, calling on_row as each one is done (a failed task gets an error row)."""


def error_result(course: Course, submission: Path, message: str, seed_kind: str, device: str,
                 seed: int | None = None) -> SubmissionResult:
    """A result for a submission that could not be graded: every exercise at 0 with the reason, so that
    reports and the gradebook still show the full point scale."""
    result = SubmissionResult(submission=str(submission), course=course.title, course_digest=course.digest,
                              seed=seed_kind, device=device, isolation="?", grader_version=__version__, error=message,
                              seed_digest=course.seed_digest(seed))
    for a in course.assignments:
        result.assignments.append(AssignmentResult(a.id, a.title, [
            ExerciseResult(e.id, e.title, e.target, e.points,
                           [CheckResult("submission", 1.0, [CaseResult("submission", ERROR, message)])])
            for e in a.exercises]))
    return result


def result_row(result: SubmissionResult, course: Course, student: str, secret: bool, gradescope: bool,
               public: SubmissionResult | None = None, full_results: bool = False) -> Row:
    """The texts of a result (redacted under a secret seed), ready for the parent to write; ``public``:
    with a secret seed and ``gradescope``, the submission graded on the public seed (visible tests)."""
    result.student = student
    if secret:
        redact(result, course)
    data = None
    if gradescope:
        from ..backs.gradescope import gradescope_results

        data = json.dumps(gradescope_results(result, public), indent=2)
    return Row(student, result.points, result.max_points, result.error, to_json(result, full_results), data)


def error_row(course: Course, task: Task, message: str) -> Row:
    """The row of a task that could not be graded (its worker died, the grader failed on it)."""
    secret = course.is_secret(task.seed)
    result = error_result(course, Path(task.submission), message, "secret" if secret else "public", task.device,
                          task.seed)
    return result_row(result, course, task.student, secret, task.gradescope, full_results=task.full_results)
