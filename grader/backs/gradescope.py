"""Gradescope's autograder results.json, made from Result trees (only this module knows the format).

One test per exercise and check, scored by the check's share of the exercise's points. Tests graded on
the public seed are ``visible`` at once; with a secret seed the same submission's hidden-case grading
(already redacted) is added as tests shown ``after_due_date``, and it is that grading's points that
count (the top-level ``score`` overrides Gradescope's sum of the tests). So before the due date a
learner sees the public tests, never a value of the hidden ones. ``grader check --gradescope`` and
``grader grade --format gradescope`` both write :func:`gradescope_results`.
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


def gradescope_results(result: SubmissionResult, public: SubmissionResult | None = None) -> dict[str, Any]:
    """The results.json object of one submission.

    Args:
        result: the grading that counts: on the public seed, or on a secret one (redacted).
        public: with a secret-seed ``result``, the same submission graded on the public seed (its tests
            are the visible ones); None when it could not be graded.
    """
    secret = result.seed == "secret"
    if not secret:
        public = result
    tests = _tests(public, "visible", " (public cases)" if secret else "") if public is not None else []
    if secret:
        tests += _tests(result, "after_due_date", " (hidden cases)")
    lines = []
    if result.error:
        lines.append(f"This submission could not be graded: {safe(result.error)}")
    elif public is not None:
        lines.append(f"{public.course}: {public.points:g}/{public.max_points:g} on the public cases")
    if secret and not result.error:
        lines.append("The hidden cases are graded too; their results are shown after the due date.")
    return {
        "score": result.points,
        "output": "\n".join(lines),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
