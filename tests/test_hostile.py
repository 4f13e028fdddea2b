"""Hostile or broken learner code planted in one exercise costs that exercise only, in bounded time.

Each case copies the reference solution and appends a redefinition of one class (``activations.Sigmoid``
unless said otherwise), then grades with ``fast_course`` (2 s a call). The planted exercise must not
pass and gets the expected status and points; every other graded exercise still passes with full
points; the submission as a whole is never ``passed``; and grading returns within a wall-time bound.
"""
from __future__ import annotations

import json
import os
import textwrap
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from grader.model.course import Course
from grader.model.results import (
    ERROR,
    PARTIAL,
    PASS,
    TIMEOUT,
    ExerciseResult,
    SubmissionResult,
    to_dict,
    to_json,
)

from .conftest import ROOT, make_submission, run_grade

WALL_LIMIT_S = 20.0
"""Upper bound on grading one hostile submission (the slowest cases, one 2 s timeout each, take 2.5 s on an
idle machine)."""
SIGMOID = "1.1"
NEIGHBOURS = ("1.2", "1.3", "1.11")
"""Graded beside the planted exercise: two more classes of activations.py and one of losses.py."""
STABLE_SIGMOID = "0.5 * (1.0 + np.tanh(0.5 * x))"
"""The right forward values, computed without overflow even on the stability check's +-1000 inputs."""


def sigmoid(body: str, prelude: str = "") -> str:
    """Code redefining activations.Sigmoid with ``body`` as its forward (backward stays correct)."""
    return textwrap.dedent(prelude) + "\n\nclass Sigmoid:\n" + textwrap.indent(textwrap.dedent(f"""\
        def __init__(self):
            self.params = []
            self.grads = []
            self.y = None

        def forward(self, x):
            self.y = {STABLE_SIGMOID}
        """), "    ") + textwrap.indent(textwrap.dedent(body), " " * 8) + textwrap.indent(textwrap.dedent("""
        def backward(self, dout):
            return dout * self.y * (1.0 - self.y)
        """), "    ")


@pytest.fixture(scope="module", autouse=True)
def warm_references(fast_course: Course, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Compute the references once (into the session's private cache), so that the wall times measured
    below are grading only; and make sure the untouched solution gets full marks under ``fast_course``."""
    result = run_grade(fast_course, make_submission(tmp_path_factory.mktemp("solutions")), SIGMOID, *NEIGHBOURS)
    assert [(e.id, e.status, e.points) for e in result.exercises] == [
        (ex_id, PASS, fast_course.exercise(ex_id).points) for ex_id in (SIGMOID, *NEIGHBOURS)]


def grade_timed(course: Course, submission: Path, *exercises: str) -> tuple[SubmissionResult, float]:
    t0 = time.monotonic()
    result = run_grade(course, submission, *exercises)
    elapsed = time.monotonic() - t0
    assert elapsed < WALL_LIMIT_S, f"grading took {elapsed:.1f} s"
    return result, elapsed


def by_id(result: SubmissionResult) -> dict[str, ExerciseResult]:
    return {e.id: e for e in result.exercises}


def all_cases(e: ExerciseResult) -> list[Any]:
    return [c for check in e.checks for c in check.cases]


NETWORK_PARTS = {"activations", "layers", "losses", "optim", "cnn", "regularization"}
"""The modules networks.py (the capstone) imports its layers, losses and optimizers from."""


def assert_only_these_fail(result: SubmissionResult, bad: set[str], graded: set[str]) -> None:
    """Exactly ``graded`` was graded; ``bad`` does not pass; every other exercise passes with full points;
    the submission as a whole (and its JSON form) is not passed."""
    exercises = by_id(result)
    assert set(exercises) == graded
    # the capstone's networks (A7) are built from the learner's own activations, layers, losses...: hostile
    # code in one of those modules may cost them too, so they are neither required to pass nor to fail
    parts = {exercises[b].target.split(".")[0] for b in bad if b in exercises}
    composed = {i for i, e in exercises.items() if e.target.startswith("networks.") and parts & NETWORK_PARTS}
    for ex_id, e in exercises.items():
        if ex_id in composed - bad:
            continue
        if ex_id in bad:
            assert e.status != PASS, ex_id
            assert e.points < e.max_points, ex_id
        else:
            assert e.status == PASS, f"{ex_id} was hit by the hostile code: {e.status} {e.reason}"
            assert e.points == e.max_points, ex_id
            assert all(c.passed for c in all_cases(e)), ex_id
    assert not result.error
    assert not result.passed
    assert result.points < result.max_points
    data = json.loads(to_json(result))
    assert data["passed"] is False
    assert data["points"] == result.points


def assert_verdict(e: ExerciseResult, status: str, some_points: bool | None = None) -> None:
    """The status, and the points that go with it: by default none for error/timeout/fail, some for
    partial (an error in one check only leaves the points of the others: ``some_points=True``)."""
    assert e.status == status, f"{e.id}: {e.status} ({e.reason})"
    if some_points is None:
        some_points = status == PARTIAL
    if some_points:
        assert 0 < e.points < e.max_points
        assert any(c.passed for c in all_cases(e))
    else:
        assert e.points == 0
        assert not any(c.passed for c in all_cases(e))


def course_ids(course: Course) -> set[str]:
    return {ex.id for ex in course.exercises}


# --------------------------------------------------------------------------- the child dies or hangs


def test_infinite_loop_in_forward_times_out(fast_course: Course, tmp_path: Path) -> None:
    sub = make_submission(tmp_path / "sub", append={"activations": sigmoid("while True:\n    pass\n")})
    result, _ = grade_timed(fast_course, sub)  # the whole course: later exercises get a fresh child
    assert_only_these_fail(result, {SIGMOID}, course_ids(fast_course))
    e = by_id(result)[SIGMOID]
    assert_verdict(e, TIMEOUT)
    timeout = fast_course.limits.timeout_s
    assert all(c.status == TIMEOUT for c in all_cases(e))
    first = e.checks[0].cases[0]
    assert first.name == "reference · aborted"
    assert first.message == (f"a call took longer than {timeout:g} s and was stopped (an infinite loop? a very "
                             "slow implementation?)")
    assert [c.cases[0].name for c in e.checks[1:]] == [f"{c.name} · skipped" for c in e.checks[1:]]
    assert all(c.cases[0].message.startswith("not run: a call took longer than 2 s") for c in e.checks[1:])
    # one hung call costs one timeout (the rest of the exercise is skipped, not re-run into the loop)
    assert timeout <= e.duration_s < timeout + 5


def test_os_exit_in_forward_is_an_error(fast_course: Course, tmp_path: Path) -> None:
    code = sigmoid("import os\nos._exit(0)\n")
    result, _ = grade_timed(fast_course, make_submission(tmp_path / "sub", append={"activations": code}))
    assert_only_these_fail(result, {SIGMOID}, course_ids(fast_course))
    e = by_id(result)[SIGMOID]
    assert_verdict(e, ERROR)
    assert e.checks[0].cases[0].message == "the child process ended (exit code 0: sys.exit or os._exit called?)"
    assert e.reason == "reference: the child process ended (exit code 0: sys.exit or os._exit called?)"
    assert all(c.cases[0].message == "not run: the child process ended (exit code 0: sys.exit or os._exit called?)"
               for c in e.checks[1:])


@pytest.mark.parametrize("statement, shown", [
    ("import sys\nsys.exit(0)", "SystemExit: 0"),
    ("raise SystemExit('Total: 32/32')", "SystemExit: Total: 32/32"),
    ("raise BaseException('out of here')", "BaseException: out of here"),
    ("raise KeyboardInterrupt", "KeyboardInterrupt"),
], ids=["sys.exit", "SystemExit-with-fake-score", "BaseException", "KeyboardInterrupt"])
def test_base_exceptions_in_forward_are_errors(fast_course: Course, tmp_path: Path, statement: str,
                                               shown: str) -> None:
    sub = make_submission(tmp_path / "sub", append={"activations": sigmoid(statement + "\n")})
    result, _ = grade_timed(fast_course, sub, SIGMOID, *NEIGHBOURS)
    assert_only_these_fail(result, {SIGMOID}, {SIGMOID, *NEIGHBOURS})
    e = by_id(result)[SIGMOID]
    assert_verdict(e, ERROR)
    assert all(c.status == ERROR for c in all_cases(e))
    first = e.checks[0].cases[0]
    assert first.name == "case 0 · out"
    assert first.message.startswith(f"forward: {shown} (activations.py:")
    assert "in forward)" in first.message.splitlines()[0]
    assert first.details["exception"] == shown.split(":")[0]


def test_memory_bomb_is_an_error_in_bounded_time(fast_course: Course, tmp_path: Path) -> None:
    """Asking for 800 GB, 800 MB at a time, meets the address-space limit at once: every call fails."""
    code = sigmoid("hog = [np.empty(10**8) for _ in range(1000)]\nreturn self.y\n")
    result, _ = grade_timed(fast_course, make_submission(tmp_path / "sub", append={"activations": code}))
    assert_only_these_fail(result, {SIGMOID}, course_ids(fast_course))
    e = by_id(result)[SIGMOID]
    assert_verdict(e, ERROR)
    for case in all_cases(e):
        line = case.message.splitlines()[0]
        # numpy's MemoryError, raised inside the learner's code (not a dead child)
        assert line.startswith(("forward: MemoryError: Unable to allocate 763. MiB for an array with shape "
                                "(100000000,)", "backward: MemoryError: Unable to allocate 763. MiB")), line
        assert "(activations.py:" in line


def test_touched_memory_bomb_once_then_the_child_recovers(fast_course: Course, tmp_path: Path) -> None:
    """The first forward fills memory (zeroed bytearrays) up to the limit, once; the same child then goes
    on to grade the rest of the exercise and the next exercises."""
    prelude = "BOMBED = []\n"
    code = sigmoid("""\
        if not BOMBED:
            BOMBED.append(True)
            hog = [bytearray(10**8) for _ in range(1000)]
        return self.y
        """, prelude)
    result, _ = grade_timed(fast_course, make_submission(tmp_path / "sub", append={"activations": code}),
                            SIGMOID, *NEIGHBOURS)
    assert_only_these_fail(result, {SIGMOID}, {SIGMOID, *NEIGHBOURS})
    e = by_id(result)[SIGMOID]
    first = e.checks[0].cases[0]
    if e.status == TIMEOUT:
        # zero-filling ~1 GiB takes ~0.3 s, but can pass the 2 s timeout on a loaded machine; then the
        # timeout stops the call instead of the limit, and the next exercise gets a fresh child
        assert_verdict(e, TIMEOUT)
        assert first.message.startswith("a call took longer than 2 s and was stopped")
        return
    assert_verdict(e, ERROR, some_points=True)
    assert first.name == "case 0 · out"
    assert first.message.startswith("forward: MemoryError (activations.py:")
    later = [c for c in all_cases(e) if not c.name.startswith("case 0 ")]
    assert later and all(c.status == PASS for c in later)


def test_garbage_written_to_every_descriptor_is_a_malformed_reply(fast_course: Course, tmp_path: Path) -> None:
    code = sigmoid("""\
        import os
        for fd in range(3, 256):
            try:
                os.write(fd, b"garbage!" * 64)
            except OSError:
                pass
        return self.y
        """)
    result, _ = grade_timed(fast_course, make_submission(tmp_path / "sub", append={"activations": code}),
                            SIGMOID, *NEIGHBOURS)
    assert_only_these_fail(result, {SIGMOID}, {SIGMOID, *NEIGHBOURS})
    e = by_id(result)[SIGMOID]
    assert_verdict(e, ERROR)
    assert e.checks[0].cases[0].message.startswith("the child sent a malformed reply (frame of ")
    assert "exceeds the cap of 1048576" in e.checks[0].cases[0].message


# --------------------------------------------------------------------------- lying about the result


def _occurrences(node: Any, needle: str, path: str = "") -> Iterator[str]:
    """Paths of every string in a JSON-like tree that contains ``needle``."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _occurrences(v, needle, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _occurrences(v, needle, f"{path}[{i}]")
    elif isinstance(node, str) and needle in node:
        yield path


def test_printed_fake_score_is_only_output(fast_course: Course, tmp_path: Path) -> None:
    code = sigmoid("""\
        import sys
        print("Total: 32/32 — all checks pass")
        print('{"score": 100}')
        print('{"score": 100, "passed": true}', file=sys.stderr)
        return np.zeros_like(x)
        """)
    result, _ = grade_timed(fast_course, make_submission(tmp_path / "sub", append={"activations": code}))
    assert_only_these_fail(result, {SIGMOID}, course_ids(fast_course))
    e = by_id(result)[SIGMOID]
    assert_verdict(e, PARTIAL)  # backward and the contract are right; every forward value is wrong
    out_cases = [c for c in e.checks[0].cases if c.name.endswith("· out")]
    assert out_cases and all(c.status == "fail" for c in out_cases)
    assert e.reason.startswith("reference: out (4, 5): 20/20 elements wrong (100%)")
    assert 'Total: 32/32 — all checks pass\n{"score": 100}\n' in e.output  # (stderr interleaves anywhere)
    assert '{"score": 100, "passed": true}' in e.output
    assert len(e.output.encode()) <= fast_course.limits.output_kb * 1024 + 100
    data = to_dict(result)
    where = next(i for i, x in enumerate(data["assignments"][0]["exercises"]) if x["id"] == SIGMOID)
    # only in output fields: the Sigmoid's, and those of the capstone's networks that run the same Sigmoid
    composed = {f".assignments[{a}].exercises[{i}].output" for a, asg in enumerate(data["assignments"])
                for i, x in enumerate(asg["exercises"]) if x["target"].startswith("networks.")}
    for needle in ("32/32", '"score": 100', '"passed": true'):
        found = list(_occurrences(data, needle))
        assert found[0] == f".assignments[0].exercises[{where}].output" and set(found[1:]) <= composed, needle


def test_monkeypatched_numpy_comparisons_do_not_help(fast_course: Course, tmp_path: Path) -> None:
    prelude = """\
        import numpy as np
        import numpy.testing

        np.allclose = lambda *a, **k: True
        np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), dtype=bool)
        np.array_equal = lambda *a, **k: True
        np.testing.assert_allclose = lambda *a, **k: None
        np.testing.assert_array_equal = lambda *a, **k: None
        """
    code = sigmoid("return np.full_like(x, 0.5)\n", prelude)
    result, _ = grade_timed(fast_course, make_submission(tmp_path / "sub", append={"activations": code}),
                            SIGMOID, *NEIGHBOURS)
    assert_only_these_fail(result, {SIGMOID}, {SIGMOID, *NEIGHBOURS})
    e = by_id(result)[SIGMOID]
    assert_verdict(e, PARTIAL)
    assert e.reason.startswith("reference: out (4, 5): 20/20 elements wrong (100%)")
    assert "yours 0.5, reference " in e.reason


def test_lying_ndarray_subclass_is_judged_by_its_data(fast_course: Course, tmp_path: Path) -> None:
    """Its ``__eq__`` always agrees and its ``__array__``, ``tolist`` and ``__float__`` report the right
    values; the buffer holds zeros, and only the buffer counts."""
    prelude = """\
        class Liar(np.ndarray):
            def __array_finalize__(self, obj):
                self.truth = getattr(obj, "truth", None)
            def __eq__(self, other):
                return True
            def __ne__(self, other):
                return False
            def __array__(self, dtype=None, copy=None):
                return self.truth
            def tolist(self):
                return self.truth.tolist()
            def __float__(self):
                return float(self.truth.flat[0])
            def copy(self, order="C"):
                return self.truth.copy()
            def view(self, *args, **kwargs):
                return self.truth
            def astype(self, *args, **kwargs):
                return self.truth
        """
    code = sigmoid("""\
        out = np.zeros_like(x).view(Liar)
        out.truth = self.y
        return out
        """, prelude)
    result, _ = grade_timed(fast_course, make_submission(tmp_path / "sub", append={"activations": code}),
                            SIGMOID, *NEIGHBOURS)
    assert_only_these_fail(result, {SIGMOID}, {SIGMOID, *NEIGHBOURS})
    e = by_id(result)[SIGMOID]
    assert_verdict(e, PARTIAL)
    first = e.checks[0].cases[0]
    assert first.name == "case 0 · out" and first.status == "fail"
    assert first.message.startswith("out (4, 5): 20/20 elements wrong (100%)\n  worst at ")
    assert ": yours 0, reference " in first.message
    assert first.details["got"] == 0.0


# --------------------------------------------------------------------------- wrong kinds of result


FLOATY = """\
    class Floaty:
        def __init__(self, value):
            self.value = value
        def __float__(self):
            return float(self.value.flat[0])
        def __array__(self, dtype=None, copy=None):
            return self.value
    """


@pytest.mark.parametrize("body, prelude, status, message", [
    ("return self.y.ravel().tolist()", "", PARTIAL, "out: returned builtins.list, expected a numpy array"),
    ("return self.y.astype(np.float32)", "", PARTIAL,
     "out: dtype float32, expected float64 (keep computing in float64; integer or float32 arrays lose precision)"),
    ("return None", "", PARTIAL, "out: returned None, expected a numpy array (forgot a return statement?)"),
    # gradcheck sends a dout of the returned shape, which backward cannot broadcast: an error, some points
    ("return self.y.ravel()", "", ERROR, "out: shape (20,), but the reference has shape (4, 5)"),
    ("return self.y.T", "", ERROR,
     "out: shape (5, 4), but the reference has shape (4, 5)\n  hint: your result is transposed"),
    ("return Floaty(self.y)", FLOATY, PARTIAL, "out: returned activations.Floaty, expected a numpy array"),
    ("return float(self.y.flat[0])", "", PARTIAL,
     "out: returned builtins.float, expected a numpy array of shape (4, 5)"),
], ids=["list", "float32", "None", "flattened", "transposed", "__float__-object", "python-float"])
def test_wrong_return_types_fail_that_exercise(fast_course: Course, tmp_path: Path, body: str, prelude: str,
                                               status: str, message: str) -> None:
    sub = make_submission(tmp_path / "sub", append={"activations": sigmoid(body + "\n", prelude)})
    result, _ = grade_timed(fast_course, sub, SIGMOID, *NEIGHBOURS)
    assert_only_these_fail(result, {SIGMOID}, {SIGMOID, *NEIGHBOURS})
    e = by_id(result)[SIGMOID]
    assert_verdict(e, status, some_points=True)  # the contract's "x not modified" still holds
    first = e.checks[0].cases[0]
    assert (first.name, first.status) == ("case 0 · out", "fail")
    assert first.message == message
    dx = e.checks[0].cases[1]  # backward is right, and judged on its own
    assert (dx.name, dx.status) == ("case 0 · dx", "pass")
    if status == ERROR:
        bad = next(c for c in e.checks[1].cases if c.status == ERROR)
        assert bad.message.startswith("backward: ValueError: operands could not be broadcast together")


# --------------------------------------------------------------------------- broken modules


def test_infinite_loop_at_import_costs_only_its_module(fast_course: Course, tmp_path: Path) -> None:
    sub = make_submission(tmp_path / "sub", replace={"layers": "import numpy as np\n\nwhile True:\n    pass\n"})
    graded = {"1.9", "1.10", "1.11", "5.1"}
    result, _ = grade_timed(fast_course, sub, *sorted(graded))
    assert_only_these_fail(result, {"1.10"}, graded)
    e = by_id(result)["1.10"]
    assert_verdict(e, TIMEOUT)
    assert e.target == "layers.Affine"
    assert e.reason == ("reference: layers.py did not finish importing within 2 s (a loop or a long computation at "
                        "the top level of the module?)")


def test_a_module_that_hangs_at_import_costs_its_time_once(fast_course: Course, tmp_path: Path) -> None:
    """Nine exercises live in activations.py: a hanging import used to cost 2 s for each of them (18 s);
    now the first pays the limit and the other eight say the same at once."""
    sub = make_submission(tmp_path / "sub", replace={"activations": "while True:\n    pass\n"})
    ids = [ex.id for ex in fast_course.exercises if ex.module == "activations"]
    assert len(ids) >= 5
    result, seconds = grade_timed(fast_course, sub, *ids, "1.10")
    assert_only_these_fail(result, set(ids), {*ids, "1.10"})
    for e in result.exercises:
        if e.id in ids:
            assert_verdict(e, TIMEOUT)
            assert "activations.py did not finish importing within 2 s" in e.reason
    assert seconds < 2 * fast_course.limits.timeout_s + 4, seconds


def test_a_module_that_ends_its_child_at_import_is_named_by_each_of_its_exercises(fast_course: Course,
                                                                                  tmp_path: Path) -> None:
    sub = make_submission(tmp_path / "sub", replace={"activations": "import os\nos._exit(3)\n"})
    result, _ = grade_timed(fast_course, sub, "1.1", "1.2", "1.10")
    assert_only_these_fail(result, {"1.1", "1.2"}, {"1.1", "1.2", "1.10"})
    for ex_id in ("1.1", "1.2"):
        e = by_id(result)[ex_id]
        assert_verdict(e, ERROR)
        assert "importing activations.py: the child process ended (exit code 3" in e.reason


def test_syntax_error_costs_only_its_module(fast_course: Course, tmp_path: Path) -> None:
    sub = make_submission(tmp_path / "sub", append={"losses": "def broken(:\n    pass"})
    lines = (sub / "losses.py").read_text().splitlines()
    lineno = next(i for i, line in enumerate(lines, 1) if line.startswith("def broken("))
    result, _ = grade_timed(fast_course, sub)
    bad = {ex.id for ex in fast_course.exercises if ex.module == "losses"}
    assert {"1.11", "1.12"} <= bad and len(bad) < len(fast_course.exercises)
    assert_only_these_fail(result, bad, course_ids(fast_course))
    for ex_id in sorted(bad):
        e = by_id(result)[ex_id]
        assert_verdict(e, ERROR)
        for case in all_cases(e):
            assert "SyntaxError: invalid syntax" in case.message
            assert f"(losses.py:{lineno})" in case.message
            assert case.details["where"] == f"losses.py:{lineno}"


def test_missing_class_names_module_and_class(fast_course: Course, tmp_path: Path) -> None:
    sub = make_submission(tmp_path / "sub", append={"activations": "del Tanh"})
    result, _ = grade_timed(fast_course, sub, SIGMOID, *NEIGHBOURS)
    assert_only_these_fail(result, {"1.2"}, {SIGMOID, *NEIGHBOURS})
    e = by_id(result)["1.2"]
    assert_verdict(e, ERROR)
    for case in all_cases(e):
        assert "activations.py defines no Tanh" in case.message
        assert case.details["exception"] == "MissingName"


def test_missing_module_names_the_file(fast_course: Course, tmp_path: Path) -> None:
    sub = make_submission(tmp_path / "sub")
    (sub / "losses.py").unlink()
    result, _ = grade_timed(fast_course, sub, "1.1", "1.10", "1.11", "1.12")
    assert_only_these_fail(result, {"1.11", "1.12"}, {"1.1", "1.10", "1.11", "1.12"})
    for ex_id in ("1.11", "1.12"):
        e = by_id(result)[ex_id]
        assert_verdict(e, ERROR)
        assert all("losses.py is not in the submission" in c.message for c in all_cases(e))


# --------------------------------------------------------------------------- output floods


def test_output_flood_is_capped_and_costs_only_its_exercise(fast_course: Course, tmp_path: Path) -> None:
    """17 MB of prints break the file-size limit in Sigmoid; Tanh, graded next by the same child, may
    still print its own debugging line."""
    code = sigmoid("for _ in range(17):\n    print('y' * 10**6)\n") + textwrap.dedent("""
        _Tanh = Tanh

        class Tanh(_Tanh):
            def forward(self, x):
                print("debug: Tanh.forward", x.shape)
                return super().forward(x)
        """)
    sub = make_submission(tmp_path / "sub", append={"activations": code})
    result, _ = grade_timed(fast_course, sub, SIGMOID, *NEIGHBOURS)
    assert_only_these_fail(result, {SIGMOID}, {SIGMOID, *NEIGHBOURS})
    e = by_id(result)[SIGMOID]
    assert_verdict(e, ERROR)
    assert e.checks[0].cases[0].message.startswith("forward: OSError: [Errno 27] File too large (activations.py:")
    cap = fast_course.limits.output_kb * 1024
    assert e.output.startswith("y" * 1000)
    head, _, note = e.output.rpartition("\n... (")
    assert len(head) == cap
    assert note.endswith(" more bytes cut)")
    tanh = by_id(result)["1.2"]
    assert tanh.output.startswith("debug: Tanh.forward (4, 5)\n")
    assert "y" * 100 not in tanh.output


# --------------------------------------------------------------------------- secrets out of reach


@pytest.mark.parametrize("what", ["solutions", "reference cache"])
def test_hidden_folders_cannot_be_read(fast_course: Course, tmp_path: Path, private_cache: Path,
                                       what: str) -> None:
    target = ROOT / "solutions" / "activations.py"
    if what == "solutions":
        assert target.is_file()
        peek = f"open({str(target)!r}).read()"
    else:
        peek = f"os.listdir({str(private_cache)!r})"
    code = sigmoid(f"{peek}\nreturn self.y\n", "import os\n")
    result, _ = grade_timed(fast_course, make_submission(tmp_path / "sub", append={"activations": code}),
                            SIGMOID, *NEIGHBOURS)
    others = by_id(result)
    assert all(others[i].status == PASS and others[i].points == others[i].max_points for i in NEIGHBOURS)
    if result.isolation == "A" and not _landlock():
        pytest.skip("isolation tier A without Landlock cannot hide folders from the child")
    assert_only_these_fail(result, {SIGMOID}, {SIGMOID, *NEIGHBOURS})
    e = others[SIGMOID]
    assert_verdict(e, ERROR)
    first = e.checks[0].cases[0].message.splitlines()[0]
    hidden = str(target if what == "solutions" else private_cache)
    # a masked folder is unreadable; one under /tmp is not even there (the child gets a private /tmp)
    assert first.startswith((f"forward: PermissionError: [Errno 13] Permission denied: {hidden!r}",
                             f"forward: FileNotFoundError: [Errno 2] No such file or directory: {hidden!r}"))
    if what == "solutions" and not hidden.startswith("/tmp/"):  # a checkout under /tmp is the second case
        assert first.startswith("forward: PermissionError: [Errno 13] Permission denied: ")


def test_banned_import_by_computed_name_is_refused_at_run_time(tmp_path: Path) -> None:
    """The static scan cannot see importlib.import_module("to" + "rch"); the child's import hook must."""
    from grader.fronts import prepare_workdir
    from grader.model.course import Limits
    from grader.sandbox.runner import Child

    (tmp_path / "h.py").write_text('import importlib\nclass H:\n    def go(self):\n'
                                   '        importlib.import_module("to" + "rch")\n        return 1.0\n')
    child = Child(prepare_workdir(tmp_path), Limits(timeout_s=10), [])
    try:
        reply = child.run([{"op": "new", "target": "h.H"}, {"op": "call", "obj": 0, "method": "go"}], {})
    finally:
        child.close()
    assert reply.failure is not None
    assert reply.failure.message == "ImportError: torch is not available here: the exercises are written in numpy by hand"


@pytest.mark.parametrize("lanes", [1, 2])
def test_no_process_of_the_learner_outlives_its_grading(fast_course: Course, tmp_path: Path, lanes: int) -> None:
    """A grandchild that tries to leave the session (setsid) and a fork bomb: tier C kills them by their
    uid, tier B by ending the child's PID namespace, tier A by the process group they cannot leave. All
    must be gone once grading returns."""
    from grader.engine.grading import Options, grade

    name = f"leftover{os.getpid() % 10000}-{lanes}"
    escape = (f"if os.fork() == 0:\n    try:\n        os.setsid()\n    except OSError:\n        pass\n"
              f"    ctypes.CDLL(None).prctl(15, b'{name}', 0, 0, 0)\n    time.sleep(60)\n    os._exit(0)\n"
              "return self.y\n")
    bomb = "class Tanh:\n    def forward(self, x):\n        while True:\n            os.fork()\n"
    sub = make_submission(tmp_path / "sub", append={"activations": sigmoid(escape, "import os, ctypes, time\n")
                                                    + "\n" + bomb})
    result = grade(fast_course, sub, Options(exercises=[SIGMOID, *NEIGHBOURS], lanes=lanes))
    # tier C kills by uid, B ends the PID namespace, A kills the process group the learner cannot leave
    # (setsid and setpgid are refused by the seccomp filter)
    assert by_id(result)["1.2"].status in (ERROR, TIMEOUT)  # the fork bomb's exercise
    assert all(by_id(result)[i].status == PASS for i in NEIGHBOURS[1:])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _processes_named(name):
        time.sleep(0.1)
    assert not _processes_named(name)


def _landlock() -> bool:
    """Whether this kernel has Landlock (then even tier A keeps the child out of the secret folders)."""
    import ctypes

    return ctypes.CDLL(None, use_errno=True).syscall(444, None, 0, 1) > 0


def _processes_named(name: str) -> list[int]:
    found = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == name:
                found.append(int(comm.parent.name))
        except OSError:
            pass
    return found
