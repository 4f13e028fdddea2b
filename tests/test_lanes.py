"""Lanes: children grading exercises side by side give exactly the verdicts of one child, in course
order, and a hostile exercise in one lane costs only itself."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from grader.engine.grading import Options, grade
from grader.model.course import Course
from grader.model.results import ExerciseResult, SubmissionResult, to_json

from .conftest import SOLUTIONS, make_submission
from .hostile_cases import sigmoid


def verdicts(result: SubmissionResult) -> Any:
    """The JSON without what differs from run to run: wall times, and the figures of the stochastic
    check (the learner's dropout draws from numpy's global generator, seeded by the OS)."""
    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            if node.get("name") == "stochastic":
                return {"name": "stochastic", "status": node["status"], "score": node.get("score")}
            return {k: strip(v) for k, v in node.items() if k not in ("duration_s", "timings")}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node
    return strip(json.loads(to_json(result)))


def test_two_lanes_grade_the_whole_course_like_one(course: Course) -> None:
    seen: list[str] = []

    def record(ex: ExerciseResult) -> None:
        seen.append(ex.id)

    one = grade(course, SOLUTIONS, Options(lanes=1))
    two = grade(course, SOLUTIONS, Options(lanes=2), on_exercise=record)
    assert two.points == two.max_points == course_points(course)
    assert verdicts(two) == verdicts(one)
    assert sorted(seen) == sorted(ex.id for ex in course.exercises)  # once each


def course_points(course: Course) -> float:
    return sum(ex.points for ex in course.exercises)


HOSTILE_LOSS = """
class MSELoss:
    def __init__(self, reduction="mean"):
        self.reduction = reduction
    def forward(self, pred, target):
        import os
        os._exit(0)
    def backward(self):
        return None
"""


@pytest.mark.parametrize("lanes", [1, 2])
def test_hostile_exercises_cost_only_themselves_in_any_lane(fast_course: Course, tmp_path: Path, lanes: int) -> None:
    sub = make_submission(tmp_path / "sub", append={"activations": sigmoid("while True:\n    pass"),
                                                   "losses": HOSTILE_LOSS})
    wanted = ["1.1", "1.2", "1.3", "1.4", "1.10", "1.11", "1.12", "2.1"]
    start = time.perf_counter()
    result = grade(fast_course, sub, Options(lanes=lanes, exercises=wanted))
    elapsed = time.perf_counter() - start
    status = {e.id: e.status for e in result.exercises}
    assert [e.id for e in result.exercises] == wanted  # course order, whatever lane finished first
    assert status["1.1"] == "timeout"
    assert status["1.11"] == "error"
    assert all(status[i] == "pass" for i in wanted if i not in ("1.1", "1.11"))
    assert elapsed < 20


def test_a_lane_per_exercise_at_most(course: Course) -> None:
    result = grade(course, SOLUTIONS, Options(lanes=8, exercises=["1.1"]))
    assert [e.status for e in result.exercises] == ["pass"]


def test_a_zygote_forked_child_is_as_confined_as_a_spawned_one(course: Course) -> None:
    """Batch grading forks children from a warm zygote; they must reach the same isolation tier as a
    spawned child (a forked child once inherited 'not dumpable' and fell from tier B to A unnoticed)."""
    from grader.sandbox.runner import Zygote

    zygote = Zygote()
    try:
        forked = grade(course, SOLUTIONS, Options(exercises=["1.1"]), zygote=zygote)
    finally:
        zygote.close()
    spawned = grade(course, SOLUTIONS, Options(exercises=["1.1"]))
    assert forked.isolation == spawned.isolation != "?"
    assert forked.passed and spawned.passed


def test_lanes_follow_the_free_cores_not_only_their_number() -> None:
    from grader.engine.grading import default_lanes

    assert default_lanes(cores=2, load=0.3) == 2
    assert default_lanes(cores=2, load=1.0) == 2  # one busy process beside: one core is still free
    assert default_lanes(cores=2, load=6.0) == 1  # measured: two lanes are slower than one at load 6
    assert default_lanes(cores=1, load=0.0) == 1
    assert default_lanes(cores=16, load=3.0) == 2
