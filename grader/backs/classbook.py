"""A class summarised in one pass over its results folder, one file at a time.

The gradebook and the dashboard need a few numbers per student and a few counters per exercise, not
the result trees (about 0.8 MB each in memory): reading every result first made the batch's last step
grow with the class (271 MiB for 300 students). Here each result is read, folded into a
:class:`ClassSummary` and dropped, so memory stays flat in the class size.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from ..model.results import PASS, TIMEOUT, SubmissionResult, from_dict

_NUMBER = re.compile(r"(?<![/\w])-?\d+(\.\d+)?(e[-+]?\d+)?(?![/\w])")


def cause(message: str, hint: str | None, status: str = "fail") -> str:
    """A failure's cause, comparable across students: the hint, or the message's first line, numbers blanked."""
    if status == "not-implemented":
        return "not implemented"
    text = hint or (message.splitlines()[0] if message else "(no message)")
    return _NUMBER.sub("#", text)


@dataclass
class StudentLine:
    """What the gradebook and the dashboard keep of one student's result."""

    student: str
    assignments: dict[str, float]
    exercises: dict[str, float]
    points: float
    max_points: float
    status: str
    """pass, incomplete or error."""
    reason: str
    """The grading error's message (status error), else empty."""
    seconds: float
    first_problem: str
    """The first exercise that did not pass and the first line of why ("1.10 Affine: reference: ...")."""
    timeouts: list[str] = field(default_factory=list)
    """Exercises that ran out of time."""


def student_line(result: SubmissionResult, name: str) -> StudentLine:
    first = ""
    timeouts = []
    for e in result.exercises:
        if e.status == TIMEOUT:
            timeouts.append(f"{e.id} {e.title}")
        if not first and e.status != PASS:
            first = f"{e.id} {e.title}: {(e.reason.splitlines() or [e.status])[0]}"
    return StudentLine(
        student=name, assignments={a.id: a.points for a in result.assignments},
        exercises={e.id: e.points for e in result.exercises}, points=result.points, max_points=result.max_points,
        status="error" if result.error else ("pass" if result.passed else "incomplete"), reason=result.error,
        seconds=result.duration_s, first_problem=first, timeouts=timeouts)


@dataclass
class ClassSummary:
    """Per-student lines and per-exercise counters, folded one result at a time."""

    course: str = ""
    lines: list[StudentLine] = field(default_factory=list)
    assignment_ids: list[str] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)
    """Exercise id -> title, in course order of first appearance."""
    passes: Counter[str] = field(default_factory=Counter)
    seen: Counter[str] = field(default_factory=Counter)
    causes: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(exercise id, "check: cause") -> submissions, one count per check and submission."""

    def add(self, result: SubmissionResult, name: str | None = None) -> None:
        self.course = self.course or result.course
        self.lines.append(student_line(result, name or result.student or Path(result.submission).name))
        for a in result.assignments:
            if a.id not in self.assignment_ids:
                self.assignment_ids.append(a.id)
        for e in result.exercises:
            self.titles.setdefault(e.id, e.title)
            self.seen[e.id] += 1
            self.passes[e.id] += e.status == PASS
            for c in e.checks:
                for k in c.cases:
                    if not k.passed:
                        self.causes[(e.id, f"{c.name}: {cause(k.message, k.details.get('hint'), k.status)}")] += 1
                        break

    @property
    def max_points(self) -> float:
        return max((line.max_points for line in self.lines), default=0.0)


def summarize(results: Iterable[tuple[str, SubmissionResult]]) -> ClassSummary:
    summary = ClassSummary()
    for name, result in results:
        summary.add(result, name)
    return summary


def read_results(folder: Path) -> Iterator[tuple[str, SubmissionResult]]:
    """(student name, result) for each readable results file, one at a time; an unreadable file is
    skipped (one bad file loses nothing else). The name is the result's ``student`` field, else the
    file stem (results from before it)."""
    for path in sorted(folder.glob("*.json")):
        if path.name.endswith(".gradescope.json"):
            continue
        try:
            result = from_dict(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        yield result.student or path.stem, result
