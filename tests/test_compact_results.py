"""Results JSON without the bulk of passing cases: a passing exercise keeps its case names and scores,
one that did not pass keeps every detail, and every reader (reports, HTML, Gradescope, --failed, a batch
rerun) gets the same answers from either form; --full-results keeps everything."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader import cli
from grader.backs.gradescope import gradescope_results
from grader.backs.html import render
from grader.coursefile import load_course
from grader.engine.grading import Options, grade
from grader.model.course import Course
from grader.model.results import PASS, SubmissionResult, from_dict, to_json

from .conftest import SOLUTIONS, make_submission, small_course
from .mutants import MUTANTS

EXERCISES = ["1.1", "1.10", "2.4", "3.6"]
BUG = next(m for m in MUTANTS if m.exercise == "Affine" and m.check == "reference")


@pytest.fixture(scope="module")
def passing(course: Course) -> SubmissionResult:
    return grade(course, SOLUTIONS, Options(exercises=EXERCISES, plots=True))


@pytest.fixture(scope="module")
def buggy(course: Course, tmp_path_factory: pytest.TempPathFactory) -> SubmissionResult:
    text = BUG.apply((SOLUTIONS / f"{BUG.module}.py").read_text())
    sub = make_submission(tmp_path_factory.mktemp("bug") / "sub", replace={BUG.module: text})
    return grade(course, sub, Options(exercises=EXERCISES, plots=True))


def _summary(result: SubmissionResult) -> list[tuple]:
    return [(e.id, e.status, e.points, [(c.name, c.score, c.status, [k.name for k in c.cases]) for c in e.checks])
            for e in result.exercises]


def test_a_passing_submission_is_written_in_under_a_quarter_of_the_full_size(passing: SubmissionResult) -> None:
    full, compact = to_json(passing), to_json(passing, full=False)
    assert passing.passed
    assert len(compact) < 0.25 * len(full), (len(compact), len(full))
    back = from_dict(json.loads(compact))
    assert _summary(back) == _summary(passing)  # scores, statuses and every case's name survive
    assert back.points == passing.points and back.passed


def test_an_exercise_that_did_not_pass_keeps_every_detail(buggy: SubmissionResult) -> None:
    full = {e["id"]: e for a in json.loads(to_json(buggy))["assignments"] for e in a["exercises"]}
    compact = {e["id"]: e for a in json.loads(to_json(buggy, full=False))["assignments"] for e in a["exercises"]}
    failing = [i for i, e in full.items() if e["status"] != PASS]
    assert failing == ["1.10"]
    assert compact["1.10"] == full["1.10"]
    assert any(k["details"].get("arrays") for c in compact["1.10"]["checks"] for k in c["cases"])  # figures' data
    for i in set(full) - set(failing):
        assert compact[i]["compact"] is True and all("cases" not in c for c in compact[i]["checks"])
        assert "compact" not in full[i]


def test_every_report_reads_the_compact_form_as_the_full_one(buggy: SubmissionResult) -> None:
    full = from_dict(json.loads(to_json(buggy)))
    compact = from_dict(json.loads(to_json(buggy, full=False)))
    assert _summary(compact) == _summary(full)
    page = render(compact)
    assert page == render(full)  # passing exercises show counts only; failures' figures drawn from the JSON
    assert page.count("data:image/png;base64,") >= 1
    assert gradescope_results(compact) == gradescope_results(full)


def test_check_writes_compact_json_unless_full_results(tmp_path: Path) -> None:
    small, big = tmp_path / "small.json", tmp_path / "big.json"
    base = ["check", str(SOLUTIONS), "-e", "1.10", "-q", "-j", "1"]
    assert cli.main([*base, "--json", str(small)]) == 0
    assert cli.main([*base, "--json", str(big), "--full-results"]) == 0
    small_data, big_data = json.loads(small.read_text()), json.loads(big.read_text())
    assert small_data["assignments"][0]["exercises"][0]["compact"] is True
    assert all(k["details"] for c in big_data["assignments"][0]["exercises"][0]["checks"] for k in c["cases"])
    assert small.stat().st_size < 0.25 * big.stat().st_size
    assert cli.main(["report", str(small)]) == 0  # the terminal report from the compact form


def test_grade_writes_compact_results_a_rerun_keeps_and_full_results_on_grade(tmp_path: Path) -> None:
    from grader.executors.batch import BatchOptions, grade_batch

    course_file = small_course(tmp_path / "course", ["1.1", "1.10"])
    subs = tmp_path / "subs"
    make_submission(subs / "alice", base=course_file.parent / "solutions")
    text = BUG.apply((SOLUTIONS / f"{BUG.module}.py").read_text())
    make_submission(subs / "carol", base=course_file.parent / "solutions", replace={BUG.module: text})
    out = tmp_path / "out"
    assert cli.main(["grade", str(subs), "--out", str(out), "--course", str(course_file), "-q"]) == 0
    alice, carol = (json.loads((out / f"{n}.json").read_text()) for n in ("alice", "carol"))
    assert all(e.get("compact") for e in alice["assignments"][0]["exercises"])
    affine = next(e for e in carol["assignments"][0]["exercises"] if e["id"] == "1.10")
    assert "compact" not in affine and all(k["message"] for c in affine["checks"] for k in c["cases"])
    course = load_course(course_file)
    assert grade_batch(course, subs, out, BatchOptions()).skipped == ["alice", "carol"]  # compact is current
    rows = (out / "gradebook.csv").read_text()
    assert "alice" in rows and "carol" in rows
    assert cli.main(["grade", str(subs), "--out", str(out), "--course", str(course_file), "-q", "--force",
                     "--full-results"]) == 0
    alice = json.loads((out / "alice.json").read_text())
    assert not any(e.get("compact") for e in alice["assignments"][0]["exercises"])
