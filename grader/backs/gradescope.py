"""Gradescope's autograder results.json, made from Result trees (only this module knows the format).

One test per exercise and check, scored by the check's share of the exercise's points. Tests graded on
the public seed are visible at once; those graded on the secret seed (hidden cases) are shown
"after_due_date". The submission's score is that of the hidden grading when there is one.
"""
from __future__ import annotations

from typing import Any

from ..model.results import PASS, SubmissionResult
from .text import safe


def _tests(result: SubmissionResult, visibility: str, label: str) -> list[dict[str, Any]]:
    tests = []
    for e in result.exercises:
        total_weight = sum(c.weight for c in e.checks) or 1.0
        for c in e.checks:
            max_score = e.max_points * c.weight / total_weight
            bad = [k for k in c.cases if not k.passed]
            output = "\n\n".join(f"{safe(k.title)}\n{safe(k.message)}" for k in bad[:5]) or "all cases pass"
            tests.append({
                "name": f"{e.id} {e.title} · {c.name}{label}",
                "score": round(max_score * c.score, 6),
                "max_score": round(max_score, 6),
                "status": "passed" if c.status == PASS else "failed",
                "output": output,
                "visibility": visibility,
            })
    return tests


def gradescope_results(public: SubmissionResult | None, hidden: SubmissionResult | None = None) -> dict[str, Any]:
    """The results.json object: public tests visible, hidden tests after the due date."""
    if public is None and hidden is None:
        raise ValueError("need a public or a hidden result")
    tests = _tests(public, "visible", "") if public is not None else []
    if hidden is not None:
        tests += _tests(hidden, "after_due_date", " (hidden cases)")
    graded = hidden if hidden is not None else public
    assert graded is not None
    lines = []
    if public is not None:
        lines.append(f"{public.course}: {public.points:g}/{public.max_points:g} on the public cases")
    if hidden is not None:
        lines.append("hidden cases are graded too; their results are shown after the due date")
    if graded.error:
        lines.append(f"this submission could not be graded: {safe(graded.error)}")
    return {
        "score": graded.points,
        "output": "; ".join(lines),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
