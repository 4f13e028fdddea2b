"""A class of 30 submissions mixing correct, buggy and hostile ones: every hostile one is graded to a
non-passing verdict within a time bound, the rest of each hostile submission still grades, and the
correct and buggy ones get exactly their expected scores."""
from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from grader.coursefile import load_course
from grader.executors.batch import BatchOptions, grade_batch
from grader.model.course import Course

from .conftest import ROOT, SOLUTIONS, make_submission
from .hostile_cases import CASES, Hostile, sigmoid
from .mutants import MUTANTS

BOUND_S = 20.0
"""Longest a single hostile submission may take to grade (its per-call timeout is 2 s)."""


def _fast_course(tmp: Path) -> Course:
    """The bundled course with a 2 s per-call timeout (the real solutions and tests stay hidden: conftest
    sets GRADER_HIDE)."""
    text = (ROOT / "course.yml").read_text()
    text = text.replace("limits: {timeout_s: 10, memory_mb: 1024, cpu_s: 120}",
                        "limits: {timeout_s: 2, memory_mb: 1024, cpu_s: 60}")
    text = text.replace("hide: [solutions, tests]", "hide: []")  # masked through GRADER_HIDE (conftest)
    assert "timeout_s: 2" in text
    path = tmp / "course.yml"
    path.write_text(text)
    return load_course(path)


def _slug(name: str) -> str:
    return "h_" + "".join(c if c.isalnum() else "_" for c in name)


def _build(case: Hostile, dest: Path) -> None:
    code = sigmoid(case.forward) if case.forward else ""
    make_submission(dest, append={"activations": code + "\n" + case.module_code})
    for name, text in case.files.items():
        (dest / name).write_text(text)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    root = tmp_path_factory.mktemp("class")
    course = _fast_course(root)
    subs = root / "subs"
    subs.mkdir()
    for case in CASES:
        _build(case, subs / _slug(case.name))
    with zipfile.ZipFile(subs / "h_zip_slip.zip", "w") as z:
        z.writestr("../../outside.py", "x = 1")
    with zipfile.ZipFile(subs / "h_symlink.zip", "w") as z:
        info = zipfile.ZipInfo("activations.py")
        info.external_attr = 0o120777 << 16
        z.writestr(info, str(ROOT / "solutions" / "activations.py"))
    for i in range(2):
        shutil.copytree(SOLUTIONS, subs / f"correct_{i}")
    bugs = [b for b in MUTANTS if b.check in ("reference", "gradcheck")][:2]
    for i, bug in enumerate(bugs):
        bug.submission(subs / f"buggy_{i}")
    assert len(list(subs.iterdir())) >= 30
    out = root / "results"
    summary = grade_batch(course, subs, out, BatchOptions(jobs=2))
    results = {p.stem: json.loads(p.read_text()) for p in out.glob("*.json")}
    return course, results, bugs, summary


def _exercise(result: dict, ex_id: str) -> dict:
    return next(e for a in result["assignments"] for e in a["exercises"] if e["id"] == ex_id)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hostile_never_passes_and_costs_only_its_exercise(case: Hostile, graded) -> None:  # noqa: ANN001
    course, results, _, _ = graded
    result = results[_slug(case.name)]
    assert not result["passed"]
    assert result["duration_s"] < BOUND_S
    sigmoid_result = _exercise(result, "1.1")
    assert sigmoid_result["status"] in case.statuses, (sigmoid_result["status"], sigmoid_result["reason"])
    assert sigmoid_result["points"] < sigmoid_result["max_points"]
    # the capstone's networks (A7) are built from the learner's own Sigmoid, ReLU...: they may suffer too
    composed = {e.id for e in course.exercises if e.target.startswith("networks.")}
    if case.module_code or case.module_wide:  # the whole module is broken: only its exercises may suffer
        others = [e for a in result["assignments"] for e in a["exercises"]
                  if not course.exercise(e["id"]).target.startswith("activations.") and e["id"] not in composed]
    else:
        others = [e for a in result["assignments"] for e in a["exercises"] if e["id"] not in {"1.1", *composed}]
    assert others and all(e["status"] == "pass" for e in others), [(e["title"], e["reason"]) for e in others
                                                                  if e["status"] != "pass"]


def test_printed_text_stays_in_the_output_field(graded) -> None:  # noqa: ANN001
    _, results, _, _ = graded
    result = results[_slug("fake score printed")]
    sig = _exercise(result, "1.1")
    assert "57/57" in sig["output"]
    assert "57/57" not in sig["reason"]
    flood = _exercise(results[_slug("output flood")], "1.1")
    assert len(flood["output"]) < 10_000


@pytest.mark.parametrize("name", ["h_zip_slip", "h_symlink"])
def test_unsafe_archives_get_an_error_result(name: str, graded) -> None:  # noqa: ANN001
    _, results, _, summary = graded
    assert results[name]["error"] and results[name]["points"] == 0
    assert name in summary.errors


def test_correct_and_buggy_members_of_the_class(graded) -> None:  # noqa: ANN001
    course, results, bugs, _ = graded
    total = sum(e.points for e in course.exercises)
    for i in range(2):
        assert results[f"correct_{i}"]["points"] == total
    for i, bug in enumerate(bugs):
        result = results[f"buggy_{i}"]
        failing = [e["title"] for a in result["assignments"] for e in a["exercises"] if e["status"] != "pass"
                   and not e["target"].startswith("networks.")]  # the capstone composes the buggy class too
        assert failing == [bug.exercise]
