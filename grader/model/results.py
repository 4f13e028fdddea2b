"""The Result tree: submission → assignment → exercise → check → case, and its one JSON form.

Every report (terminal, JSON, CSV, Gradescope, HTML) is made from this tree, and the JSON written by
:func:`to_json` is the canonical form: ``grader report`` rebuilds any other format from it alone.
The schema is documented in ``docs/results-schema.md`` and versioned by :data:`SCHEMA_VERSION`.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA_VERSION = 1

PASS, PARTIAL, FAIL, ERROR, TIMEOUT, NOT_IMPLEMENTED = "pass", "partial", "fail", "error", "timeout", "not-implemented"
STATUSES = (PASS, PARTIAL, FAIL, ERROR, TIMEOUT, NOT_IMPLEMENTED)


@dataclass(frozen=True)
class CaseId:
    """What a case is, as data (the engine stamps it on every case a check yields): redaction keeps what
    it may show by these fields instead of parsing the case's name. It lives in memory only; the JSON
    form keeps the case's name, so results read back from JSON have none."""

    check: str
    purpose: str = ""
    """Which list of cases ``index`` points into: "case" (the exercise's) or a check's own ("stability")."""
    index: int | None = None
    quantity: str = ""
    rule: str = ""


@dataclass
class CaseResult:
    """One compared quantity of one input case (e.g. ``case 2 · dW``)."""

    name: str
    status: str
    """pass, fail, error, timeout or not-implemented."""
    message: str = ""
    """Human-readable verdict, general to precise: quantity, worst element, expected vs got, tolerance, hint."""
    details: dict[str, Any] = field(default_factory=dict)
    """Numbers behind the message (worst index, expected, got, errors, tolerance, hint) for plots and tools."""
    id: CaseId | None = field(default=None, compare=False)
    """The case's structured identity (in memory only, see :class:`CaseId`)."""
    setting: str = ""
    """The case's public setting (``padding=same; x (2, 2, 5, 5)``, from course.yml), so a learner need not
    count cases in the course file; empty where the case has none (a whole-submission error)."""

    @property
    def passed(self) -> bool:
        return self.status == PASS

    @property
    def title(self) -> str:
        """The name with the setting after the case's number: ``case 3 (padding=same; x (2, 2, 5, 5)) · out``."""
        head, sep, rest = self.name.partition(" · ")
        if not self.setting or "(" in head:  # no setting, or the check named the case by its own already
            return self.name
        return f"{head} ({self.setting}){sep}{rest}"


@dataclass
class CheckResult:
    """One check of one exercise; its score is the fraction of its cases that pass."""

    name: str
    weight: float
    cases: list[CaseResult] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(c.passed for c in self.cases) / len(self.cases) if self.cases else 0.0

    @property
    def status(self) -> str:
        return _combine([c.status for c in self.cases])

    @property
    def reason(self) -> str:
        """The first failing case's message, the one a learner should read first."""
        return next((c.message for c in self.cases if not c.passed), "")


@dataclass
class ExerciseResult:
    id: str
    title: str
    target: str
    max_points: float
    checks: list[CheckResult] = field(default_factory=list)
    output: str = ""
    """What the learner's code printed (cut), shown for debugging and never parsed."""
    duration_s: float = 0.0
    plot_data: dict[str, Any] = field(default_factory=dict)
    """Extra data collected for figures only when plots are asked for (e.g. ``curve``: f and f' over a range)."""

    @property
    def fraction(self) -> float:
        total = sum(c.weight for c in self.checks)
        return sum(c.weight * c.score for c in self.checks) / total if total else 0.0

    @property
    def points(self) -> float:
        return round(self.max_points * self.fraction, 4)

    @property
    def status(self) -> str:
        return _combine([c.status for c in self.checks])

    @property
    def reason(self) -> str:
        return next((f"{c.name}: {c.reason}" for c in self.checks if c.status != PASS), "")


@dataclass
class AssignmentResult:
    id: str
    title: str
    exercises: list[ExerciseResult] = field(default_factory=list)

    @property
    def points(self) -> float:
        return round(sum(e.points for e in self.exercises), 4)

    @property
    def max_points(self) -> float:
        return round(sum(e.max_points for e in self.exercises), 4)


@dataclass
class SubmissionResult:
    submission: str
    course: str
    course_digest: str
    seed: str
    """"public" or "secret": the value of a secret seed is never written anywhere."""
    device: str
    isolation: str
    """Tier the sandbox reached: A (rlimits and session only), B (user namespaces), C (root dropped)."""
    grader_version: str
    assignments: list[AssignmentResult] = field(default_factory=list)
    duration_s: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    error: str = ""
    """Why the submission as a whole could not be graded (unsafe archive, grader failure); empty otherwise."""
    student: str = ""
    """The student's name as given in a batch (file names are an escaped form of it); empty otherwise."""
    seed_digest: str = ""
    """A one-way tag of the seed (Course.seed_digest): with course_digest and grader_version, the key a
    batch rerun compares to decide whether a result is still current."""
    notes: list[str] = field(default_factory=list)
    """What the grader left out of the submission's notebooks (``carol.ipynb, cell 7: ...``); empty, and
    absent from the JSON, for a submission of .py files (whose JSON stays as it was)."""

    @property
    def exercises(self) -> list[ExerciseResult]:
        return [e for a in self.assignments for e in a.exercises]

    @property
    def points(self) -> float:
        return round(sum(a.points for a in self.assignments), 4)

    @property
    def max_points(self) -> float:
        return round(sum(a.max_points for a in self.assignments), 4)

    @property
    def passed(self) -> bool:
        return not self.error and bool(self.exercises) and all(e.status == PASS for e in self.exercises)


def _combine(statuses: list[str]) -> str:
    """The status of a parent from its children's: pass only if all pass, the worst kind of failure otherwise."""
    if not statuses:
        return ERROR
    if all(s == PASS for s in statuses):
        return PASS
    if all(s == NOT_IMPLEMENTED for s in statuses):
        return NOT_IMPLEMENTED
    for s in (TIMEOUT, ERROR):
        if s in statuses:
            return s
    return PARTIAL if PASS in statuses or PARTIAL in statuses else FAIL


def to_dict(result: SubmissionResult, full: bool = True) -> dict[str, Any]:
    """The canonical JSON form, with derived numbers (points, statuses) written out for other tools.

    Not ``full``: each exercise that passed is written compactly (:func:`_compact`), since a passing
    case's numbers are never read again; an exercise that did not pass keeps every detail."""
    out: dict[str, Any] = {"schema_version": SCHEMA_VERSION, **asdict(result)}
    if not result.notes:
        del out["notes"]  # a .py submission's JSON is unchanged
    out.update(points=result.points, max_points=result.max_points, passed=result.passed)
    for a_dict, a in zip(out["assignments"], result.assignments):
        a_dict.update(points=a.points, max_points=a.max_points)
        for e_dict, e in zip(a_dict["exercises"], a.exercises):
            e_dict.update(points=e.points, status=e.status, reason=e.reason)
            for c_dict, c in zip(e_dict["checks"], e.checks):
                c_dict.update(score=round(c.score, 6), status=c.status)
                for k_dict in c_dict["cases"]:
                    del k_dict["id"]  # in memory only: the schema is unchanged
            if not full and e.status == PASS:
                _compact(e_dict)
    return out


def _compact(e_dict: dict[str, Any]) -> None:
    """A passing exercise without its bulk: each check keeps its score and the names of its cases
    (``passed_cases``) in place of ``cases`` (messages, details, settings), and figure data goes; every
    report, the gradebook and a rerun need only the counts (a results file shrinks ~7x)."""
    e_dict["compact"] = True
    e_dict["plot_data"] = {}
    for c_dict in e_dict["checks"]:
        c_dict["passed_cases"] = [k["name"] for k in c_dict.pop("cases")]


def to_json(result: SubmissionResult, full: bool = True) -> str:
    """The JSON text; ``full=False`` writes passing exercises compactly (see :func:`to_dict`)."""
    return json.dumps(_finite(to_dict(result, full)), indent=2, allow_nan=False, default=_json_number)


def _cases(c: dict[str, Any]) -> list[CaseResult]:
    """A check's cases from JSON: in full, or (a compact passing check) rebuilt passing from their names."""
    if "passed_cases" in c and "cases" not in c:
        return [CaseResult(str(name), PASS) for name in c["passed_cases"]]
    return [CaseResult(**k) for k in c["cases"]]


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: such numbers, wherever a check put them, become "nan", "inf", "-inf"."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if hasattr(value, "item") and hasattr(value, "dtype"):  # numpy scalars
        return _finite(value.item())
    return value


def _json_number(value: Any) -> Any:
    """numpy scalars and non-finite floats in details become JSON-safe values."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def from_dict(data: dict[str, Any]) -> SubmissionResult:
    """Rebuild the tree from its JSON form (derived fields are recomputed, not trusted)."""
    if data.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"results schema version {data.get('schema_version')!r}; this grader reads {SCHEMA_VERSION}")
    assignments = [
        AssignmentResult(
            a["id"], a["title"],
            [
                ExerciseResult(
                    e["id"], e["title"], e["target"], e["max_points"],
                    [CheckResult(c["name"], c["weight"], _cases(c)) for c in e["checks"]],
                    e.get("output", ""), e.get("duration_s", 0.0), e.get("plot_data", {}),
                )
                for e in a["exercises"]
            ],
        )
        for a in data["assignments"]
    ]
    keys = ("submission", "course", "course_digest", "seed", "device", "isolation", "grader_version")
    return SubmissionResult(**{k: data[k] for k in keys}, assignments=assignments,
                            duration_s=data.get("duration_s", 0.0), timings=data.get("timings", {}),
                            error=data.get("error", ""), student=data.get("student", ""),
                            notes=[str(n) for n in data.get("notes", [])],
                            seed_digest=str(data.get("seed_digest", "")))
