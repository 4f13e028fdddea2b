"""Feedback on hidden cases: say what failed and under which setting, never the inputs or the numbers.

Redaction is an allow-list, not a deny-list: each case of a secret-seed result is *rebuilt* from the few
things known to carry no hidden data, and everything else is dropped, whatever a check or a learner put
there. A hidden case keeps

* its name and status (the grader makes both; the status is the one bit grading must reveal),
* the quantity (``dW``) or rule (``x not modified``) it judged,
* its public setting (hyper-parameters and input shapes from course.yml, :func:`setting`), shown once,
  in the case's title,
* a cause in words chosen from fixed phrases by the kind of details (wrong shape, some or every
  element wrong, an exception of a builtin type at the learner's file:line),
* the hint, with only the numbers that occur in the public setting (``N = 4 (batch size)`` when 4 is
  a shape dimension) and a few template constants; any other number is blanked.

Dropped: every message the checks wrote (they quote expected and got values), learner output and
exception text (a learner can print or raise the hidden inputs, in digits or in words), exact counts of
wrong elements (``12/20`` would be a channel of ~4 bits per case), learner-chosen shapes and dtypes,
per-exercise and total durations (a learner can sleep ``x[0]`` seconds), timings and figure data.
"""
from __future__ import annotations

import builtins
import re
from typing import Any

from ..model.course import Course
from ..model.results import (
    ERROR,
    NOT_IMPLEMENTED,
    PASS,
    TIMEOUT,
    CaseId,
    CaseResult,
    SubmissionResult,
)

_NUMBER = re.compile(r"(?<![\w.^])\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.]|/[A-Za-z])")
"""A number standing alone in a hint: not a part of a name (``beta1``, ``dW2``) nor the 1 of ``1/N``."""
_TEMPLATE_NUMBERS = frozenset({"0", "1", "2"})
"""Constants of the hint templates (``1 - beta1^t``, ``a factor 2``, ``axis 0``): they say almost nothing."""

_KNOWN_HINTS = {
    "unstable": "numerically unstable on extreme inputs: an exp of a large number overflowed or a log/division "
                "met 0; use a stable form (subtract the max, log-sum-exp, exp(-|x|))",
}
"""Hints stored as a code in details, with the words the learner reads (see checks.failed_case)."""

_GRADER_EXCEPTIONS = frozenset({"MissingModule", "MissingName"})
_WHERE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*\.py)(?::(\d{1,5}))?\b")
"""``layers.py:12 in forward`` -> file and line; the function name (which code can forge) is not kept."""
_NOTEBOOK_WHERE = re.compile(r"^([\w .-]{1,100}\.ipynb), cell (\d{1,5}), line (\d{1,5})\b")
"""``carol.ipynb, cell 3, line 2 in forward`` (a notebook graded by its definitions) -> notebook, cell, line."""


def setting(course: Course, exercise_id: str, case: CaseId | None) -> str:
    """``stride=2, padding=1; x (2, 3, 5, 5)``: the public description of the case a result is about,
    read from its identity (none for a case without one: say less rather than guess)."""
    if case is None or case.index is None:
        return ""
    try:
        ex = course.exercise(exercise_id)
    except Exception:  # noqa: BLE001 - an exercise no longer in the course: no setting to show
        return ""
    return ex.setting(case.purpose, case.index)


def public_hint(hint: str, where: str) -> str:
    """The hint with every number that is not in the public setting (nor a template constant) blanked."""
    hint = _KNOWN_HINTS.get(hint, hint)
    public = set(_NUMBER.findall(where)) | _TEMPLATE_NUMBERS
    return _NUMBER.sub(lambda m: m.group(0) if m.group(0) in public else "…", hint)


def _exception_type(name: str) -> str:
    """A builtin exception's name, or a neutral word: a class name is code the learner writes."""
    if name in _GRADER_EXCEPTIONS:
        return name
    obj = getattr(builtins, name, None)
    if isinstance(obj, type) and issubclass(obj, BaseException):
        return name
    return "an exception of the submission's own type"


def _where(where: str, modules: frozenset[str]) -> str:
    """``layers.py:12`` when the file is one of the course's modules, or a notebook's cell and line; 5-digit
    numbers at most."""
    nb = _NOTEBOOK_WHERE.match(where or "")
    if nb:
        return f"{nb.group(1)}, cell {nb.group(2)}, line {nb.group(3)}"
    m = _WHERE.match(where or "")
    if not m or m.group(1) not in modules:
        return ""
    return m.group(1) + (f":{m.group(2)}" if m.group(2) else "")


def _cause(k: CaseResult, modules: frozenset[str]) -> str:
    """What went wrong, in fixed words picked by the kind of details the check recorded."""
    d = k.details
    if k.status == PASS:
        return "passes"
    if k.status == NOT_IMPLEMENTED:
        return "not implemented"
    if "exception" in d:
        where = _where(str(d.get("where", "")), modules)
        return f"{_exception_type(str(d['exception']))} raised" + (f" ({where})" if where else "")
    if k.status == TIMEOUT:
        return "stopped: a call took too long"
    if k.status == ERROR:
        return "the child process failed (crashed, or sent a malformed reply)"
    if "expected_shape" in d:
        return "wrong shape"
    if "dtype" in d:
        return "wrong dtype (float64 expected)"
    if "numerical" in d:
        return "your backward disagrees with finite differences of your own forward"
    if "first_step" in d and "losses" in d:  # a network's training (the step itself stays hidden)
        return "departs from the torch twin's training"
    if "first_step" in d:
        return "diverges from torch.optim"
    if "n_bad" in d and "n" in d:
        return "every element wrong" if d["n_bad"] == d["n"] else "some elements wrong"
    return "wrong"


def _whole_submission_error(message: str) -> str:
    """Why nothing was graded (an unsafe archive...); of an internal error only its type, not its text."""
    head, _, rest = message.partition(": ")
    if head == "internal grader error":
        return f"{head}: {_exception_type(rest.partition(':')[0].strip())}"
    return message


def redact_case(k: CaseResult, where: str, modules: frozenset[str]) -> CaseResult:
    """The case rebuilt from allowed fields only (see the module docstring)."""
    d = k.details
    head = str(d.get("quantity") or d.get("rule") or k.name.split(" · ")[-1])
    lines = [f"{head}: {_cause(k, modules)}"]
    details: dict[str, Any] = {"hidden": True}
    for key in ("quantity", "rule"):
        if d.get(key):
            details[key] = str(d[key])
    if k.status != PASS:  # the setting is not repeated here: the case's title carries it (CaseResult.title)
        hint = str(d.get("hint") or "")
        if not hint and "expected_shape" in d and d.get("shape") == list(d["expected_shape"])[::-1] \
                and len(d["expected_shape"]) == 2:
            hint = "your result is transposed"
        if hint:
            details["hint"] = public_hint(hint, where)
            lines.append(f"  hint: {details['hint']}")
    return CaseResult(k.name, k.status, "\n".join(lines), details, setting=where)


def redact(result: SubmissionResult, course: Course) -> SubmissionResult:
    """Rebuild every case of a secret-seed result from allowed fields, in place; return the result.

    Every report (JSON, HTML, CSV, Gradescope, terminal) must be made from the result after this."""
    modules = frozenset(f"{e.target.split('.')[0]}.py" for e in course.exercises)
    result.error = _whole_submission_error(result.error)
    result.duration_s = 0.0
    result.timings = {}
    for e in result.exercises:
        e.plot_data = {}
        e.output = ""
        e.duration_s = 0.0
        for c in e.checks:
            c.cases = [_redact_submission_case(k, result.error) if k.name == "submission" and result.error
                       else redact_case(k, setting(course, e.id, k.id), modules) for k in c.cases]
    return result


def _redact_submission_case(k: CaseResult, error: str) -> CaseResult:
    """The stand-in case of a submission that could not be graded: it says why (already redacted)."""
    return CaseResult(k.name, k.status, error, {"hidden": True})
