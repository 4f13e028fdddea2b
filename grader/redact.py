"""Feedback on hidden cases: say what failed and under which setting, never the inputs or the numbers.

When grading with a secret seed, a learner's report keeps each failing case's category (the quantity,
how many elements, the case's setting such as stride 2, and the cause hint) but drops the worst
element's index and values, the arrays kept for figures, and anything else computed from the hidden
inputs or the reference.
"""
from __future__ import annotations

import re

from .course import Course
from .results import SubmissionResult

_DROP = ("worst_index", "expected", "got", "abs_error", "rel_error", "arrays", "numerical", "analytic", "path",
         "first_step")
_NUMBERS = re.compile(r"-?\d+\.\d+(e[-+]?\d+)?|-?\d+e[-+]?\d+")


def setting(course: Course, exercise_id: str, case_name: str) -> str:
    """``stride=2, padding=1; x (2, 3, 5, 5)``: the public description of case k of an exercise."""
    m = re.match(r"case (\d+)", case_name)
    try:
        ex = course.exercise(exercise_id)
    except Exception:  # noqa: BLE001 - an exercise no longer in the course: no setting to show
        return ""
    if not m or int(m.group(1)) >= len(ex.cases):
        return ""
    case = ex.cases[int(m.group(1))]
    hyper = {**ex.hyper, **case.hyper}
    parts = [", ".join(f"{k}={v}" for k, v in hyper.items()), "; ".join(f"{n} {s.shape}" for n, s in case.arrays.items())]
    return "; ".join(p for p in parts if p)


def redact(result: SubmissionResult, course: Course) -> SubmissionResult:
    """Strip hidden-case numbers from every failing case, in place; return the result."""
    for e in result.exercises:
        e.plot_data = {}
        for c in e.checks:
            for k in c.cases:
                if k.passed:
                    continue
                first = k.message.splitlines()[0] if k.message else ""
                hint = k.details.get("hint") or ""
                where = setting(course, e.id, k.name)
                lines = [_NUMBERS.sub("…", first)]
                if where:
                    lines.append(f"  hidden case setting: {where}")
                if hint:
                    lines.append(f"  hint: {_NUMBERS.sub('…', hint)}")
                k.message = "\n".join(lines)
                k.details = {key: v for key, v in k.details.items() if key not in _DROP}
                k.details["hidden"] = True
    return result
