"""The checks without a torch twin of assignment A4B: ``scripted`` (EarlyStopping) and ``batching``
(minibatches) pass the solutions on many seeds and name the planted bugs precisely.

The course used is assignment A4B alone (from course.yml once merged there, else from its fragment), so
that each seed's references cost almost nothing.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from grader.coursefile import load_course
from grader.model.course import Course, Exercise
from grader.model.results import PASS

from .conftest import ROOT, run_grade
from .mutants import MUTANTS, Mutant

FRAGMENT = ROOT / "course_fragments" / "a4b_training.yml"


@pytest.fixture(scope="module")
def a4b(tmp_path_factory: pytest.TempPathFactory) -> Course:
    full = yaml.safe_load((ROOT / "course.yml").read_text())
    assignment = next((a for a in full["assignments"] if a["id"] == "A4B"), None)
    if assignment is None:
        (assignment,) = yaml.safe_load(FRAGMENT.read_text())
    course = {"version": 1, "title": "A4B", "seed": 0, "limits": {"timeout_s": 10},
              "hide": [], "assignments": [assignment]}  # solutions hidden by GRADER_HIDE (conftest)
    path = tmp_path_factory.mktemp("a4b") / "course.yml"
    path.write_text(yaml.safe_dump(course))
    return load_course(path)


def _exercise(course: Course, name: str) -> Exercise:
    return next(e for e in course.exercises if e.name == name)


@pytest.mark.parametrize("seed", range(10))
def test_solutions_pass(a4b: Course, seed: int) -> None:
    ids = [_exercise(a4b, "EarlyStopping").id, _exercise(a4b, "minibatches").id]
    result = run_grade(a4b, ROOT / "solutions", *ids, seed=seed)
    graded = [e for a in result.assignments for e in a.exercises]
    assert [e.id for e in graded] == ids
    for ex in graded:
        failing = [(c.name, c.message) for ch in ex.checks for c in ch.cases if not c.passed]
        assert not failing, failing
        assert ex.points == ex.max_points
        assert sum(len(ch.cases) for ch in ex.checks) >= 20


def _bug(name: str) -> Mutant:
    (bug,) = [b for b in MUTANTS if b.module == "training" and b.name == name]
    return bug


EXPECTED = [
    # (bug name, rule of a failing case, texts its message must contain)
    ("a tie counts as an improvement (<=)", "stop decisions",
     ["patience 3, min_delta 0 · plateau", "epoch 6 (val 0.9375; best 0.9375 at epoch 3): you returned False, "
      "expected True: patience 3 is used up", "NOT an improvement (it must be strictly below best - min_delta)"]),
    ("stops one epoch late (counter > patience)", "stop decisions",
     ["you returned False, expected True", "hint: your counter is 3 = patience: stop when counter >= patience"]),
    ("the counter is never reset", "stop decisions",
     ["patience 3, min_delta 0 · recovery", "you returned True, expected False: only 1 epoch(s) without improvement",
      "resets the counter to 0"]),
    ("drops the last partial batch", "every sample once",
     ["N=100, batch_size=32", "the epoch yielded 96 samples", "the last, partial batch of 4 sample(s) was dropped"]),
    ("X and y shuffled with different permutations", "X and y aligned",
     ["X_batch holds sample", "but y_batch says sample", "SAME permutation"]),
    ("the same permutation every epoch (fixed seed)", "other seed, other order",
     ["gave the same order", "a fixed seed (default_rng(0))"]),
]


@pytest.mark.parametrize("name,rule,texts", EXPECTED, ids=[e[0][:30] for e in EXPECTED])
def test_planted_bug_message(a4b: Course, tmp_path: Path, name: str, rule: str, texts: list[str]) -> None:
    bug = _bug(name)
    ex = _exercise(a4b, bug.exercise)
    sub = bug.submission(tmp_path / "sub")
    (graded,) = [e for a in run_grade(a4b, sub, ex.id).assignments for e in a.exercises]
    check = next(c for c in graded.checks if c.name == bug.check)
    assert check.status != PASS and graded.points < graded.max_points
    about = [c for c in check.cases if not c.passed and c.details.get("rule") == rule]
    assert about, [(c.name, c.details.get("rule")) for c in check.cases if not c.passed]
    text = about[0].name + "\n" + about[0].message
    for t in texts:
        assert t in text, text


def test_batch_sizes_message_names_the_partial_batch(a4b: Course, tmp_path: Path) -> None:
    bug = _bug("drops the last partial batch")
    sub = bug.submission(tmp_path / "sub")
    (graded,) = [e for a in run_grade(a4b, sub, _exercise(a4b, "minibatches").id).assignments for e in a.exercises]
    sizes = [c for ch in graded.checks for c in ch.cases if c.details.get("rule") == "batch sizes" and not c.passed]
    assert any("batch sizes 3 × 32, expected 3 × 32, then 4" in c.message for c in sizes), [c.message for c in sizes]
