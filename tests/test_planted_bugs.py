"""Every planted bug is caught by the check it belongs to, with a message that points at the element.

Each bug is a mutant of the reference solution (tests/mutants.py: a small text replacement inside one
class or function of the real solutions/ module); only that exercise is graded, so the test also proves
the failure is attributed to the right exercise and check. Every mutant must still apply to the current
solutions, and change them: a solution that drifts away from a mutant fails here, loudly, instead of the
mutant silently planting some other bug (or none).
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from grader.model.course import Course, Exercise
from grader.model.results import PASS, ExerciseResult

from .conftest import SOLUTIONS, run_grade
from .mutants import MUTANTS, Mutant, MutantDoesNotApply, submissions

BUGS = MUTANTS

CONTRACT_RULES = {
    "x modified": "{x} not modified",
    "dout modified": "dout not modified",
    "not deterministic": "same result on a second call",
    "grads rebound": "grads written in place",
    "running_mean rebound": "running_mean updated in place",
    "running_var rebound": "running_var updated in place",
    "grads modified": "grads not modified",
    "g0 unchanged": "g0 modified in place",
}


def _label(bug: Mutant, ex: Exercise) -> str:
    """The quantity's name as messages print it (losses say loss/dpred, layers out/dx/dW; a layer's declared
    outputs and buffers by their own names: h_next, running_var)."""
    kind = ex.kind
    if bug.quantity.endswith(" after"):  # an argument changed in place (clip_grad_norm's grads)
        return bug.quantity
    if bug.quantity != "out" and bug.quantity in (*ex.outputs, *ex.buffers):
        return bug.quantity
    if bug.quantity == "out":
        return "loss" if kind == "loss" else "out"
    if bug.quantity == "dx":
        return "dpred" if kind == "loss" else "dx"
    return "d" + bug.quantity


@pytest.mark.parametrize("bug", BUGS, ids=lambda b: f"{b.exercise}-{b.name[:40]}")
def test_mutant_applies_cleanly(bug: Mutant) -> None:
    """The loud failure on drift: every ``old`` occurs exactly as often as the mutant says inside its target
    of the CURRENT solution (Mutant.source raises otherwise), the result still compiles, and it differs
    from the solution (a no-op mutant would plant nothing and "catch" nothing)."""
    solution = (SOLUTIONS / f"{bug.module}.py").read_text()
    mutated = bug.source()
    compile(mutated, f"{bug.module}.py", "exec")
    assert mutated != solution, f"{bug.bug_id}: the mutation changes nothing"


def test_bug_ids_are_unique_and_submissions_cover_every_mutant() -> None:
    ids = [bug_id for bug_id, _, _ in submissions()]
    assert len(ids) == len(set(ids)) == len(MUTANTS)
    for (bug_id, exercise, modules), bug in zip(submissions(), MUTANTS):
        assert bug_id == f"{exercise}/{bug.name}" and list(modules) == [bug.module]


def test_a_drifted_solution_fails_loudly(tmp_path: Path) -> None:
    """A solution whose line a mutant replaces was rewritten (or duplicated): the mutant refuses to apply."""
    bug = next(b for b in MUTANTS if b.count == 1 and not b.also and " " in b.old and "\n" not in b.old)
    text = (SOLUTIONS / f"{bug.module}.py").read_text()
    (tmp_path / f"{bug.module}.py").write_text(text.replace(bug.old, bug.old.replace(" ", "  ", 1)))
    with pytest.raises(MutantDoesNotApply, match="occurs 0 time"):
        bug.source(tmp_path)
    (tmp_path / f"{bug.module}.py").write_text(text.replace(bug.old, f"{bug.old}  # was {bug.old}"))
    with pytest.raises(MutantDoesNotApply, match="occurs 2 time"):
        bug.source(tmp_path)


HINTED = [b for b in BUGS if b.hint]

KNOWN_CAUSES = ("look-ahead is done twice", "lacks torch's look-ahead", "1 - dampening", "bias correction with",
                "bias correction of the moments is missing", "eps inside the square root", "eps hard-coded",
                "you keep the velocity", "weight the old running value", "biased batch variance",
                "gates are read in the order", "non-inverted dropout", "KEEP probability",
                "keeps only the diagonal", "float32 numbers", "batch-first", "unchanged after the call",
                "derivative of a square", "keep the mask", "scales the kept ones differently")
"""Phrases of the hints that name a cause: each may appear only for the bug that has that cause."""


def _no_wrong_known_cause(bug: Mutant, graded: ExerciseResult) -> None:
    """A hint that does not apply is worse than none: a known cause is named only for a bug that declares it."""
    for c in graded.checks:
        for k in c.cases:
            for line in k.message.splitlines():
                if "hint:" not in line:
                    continue
                named = [p for p in KNOWN_CAUSES if p in line]
                assert not named or (bug.hint and bug.hint in line), \
                    f"{bug.bug_id}: {c.name} {k.name} names a cause the bug does not have: {line}"


@pytest.mark.parametrize("bug", HINTED, ids=lambda b: f"{b.exercise}-{b.name[:40]}")
def test_known_cause_is_named(bug: Mutant, course: Course, tmp_path: Path) -> None:
    """A bug with a known cause gets the hint that names it, in the message a learner reads (its own check's,
    or the reference check's where torch's values show the cause: softmax's diagonal Jacobian is caught by
    gradcheck and named by the reference check)."""
    ex = next(e for e in course.exercises if e.name == bug.exercise)
    (graded,) = run_grade(course, bug.submission(tmp_path / "sub"), ex.id).exercises
    hints = [line.strip() for c in graded.checks for k in c.cases if not k.passed
             for line in k.message.splitlines() if line.strip().startswith("hint:")]
    assert any(bug.hint in h for h in hints), hints


def test_at_least_three_bugs_per_exercise(course: Course) -> None:
    counts = Counter(b.exercise for b in BUGS)
    for ex in course.exercises:
        assert counts[ex.name] >= 3, f"{ex.title} has only {counts[ex.name]} planted bugs"


@pytest.mark.parametrize("bug", BUGS, ids=lambda b: f"{b.exercise}-{b.name[:40]}")
def test_bug_is_caught_by_its_check(bug: Mutant, course: Course, tmp_path: Path) -> None:
    ex = next(e for e in course.exercises if e.name == bug.exercise)
    sub = bug.submission(tmp_path / "sub")
    result = run_grade(course, sub, ex.id)
    (graded,) = result.exercises
    assert graded.id == ex.id
    assert graded.points < graded.max_points
    _no_wrong_known_cause(bug, graded)
    check = next(c for c in graded.checks if c.name == bug.check)
    assert check.status != PASS, f"{bug.check} did not catch {bug.name!r}"
    failing = [c for c in check.cases if not c.passed]
    if bug.check == "contract":
        rule = CONTRACT_RULES[bug.quantity].format(x="pred" if ex.kind == "loss" else "x")
        assert any(rule in c.name for c in failing), [c.name for c in failing]
        return
    if bug.check == "trajectory":
        # the first divergence from torch.optim is named: the parameter, or the state entry that left first
        message = failing[0].message
        assert "first divergence from torch.optim at step" in message, message
        assert (bug.quantity == "param" and "param " in message) or f"'{bug.quantity}'" in message, message
        return
    if bug.check == "training":
        # a whole network's run: the first departing step, layer (position and class) and quantity are named
        message = failing[0].message
        assert bug.quantity in message, message
        return
    if bug.check in ("scripted", "batching"):
        # no torch reference: the quantity names the rule whose case must fail
        assert any(c.details.get("rule") == bug.quantity for c in failing), [c.name for c in failing]
        return
    if bug.check == "statistics" or (bug.check == "stochastic" and bug.quantity == "out"):
        # the law of the random factors (or fresh draws per call) is broken: a rule case fails, by name
        assert any("rule" in c.details for c in failing), [c.name for c in failing]
        return
    label = _label(bug, ex)
    about = [c for c in failing if c.name.endswith(f"· {label}")] or failing
    message = about[0].message
    assert message.startswith(label) or f"{label}:" in message.splitlines()[0] or label in about[0].name
    # the message points at the element (worst entry), shows both integer results, or names the learner's line
    assert "worst" in message or "yours" in message or f"{bug.module}.py:" in message \
        or "but the reference has shape" in message, message
