"""The capstone (A7): whole networks from the learner's own classes, trained and graded step by step.

The planted bugs (tests/mutants.py, check "training") are graded in tests/test_planted_bugs.py; here: the
shipped digits, ``-e`` with an assignment id, full marks for the solutions and none for the stubs, a
malformed network in a course file, and the training-curve figure.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest
import tomllib
import yaml

from grader.backs import html, plots
from grader.coursefile import load_course
from grader.data import HERE, digits
from grader.model.course import Course
from grader.model.errors import CourseError
from grader.model.results import NOT_IMPLEMENTED

from .conftest import EXERCISES, ROOT, SOLUTIONS, make_submission, run_grade
from .mutants import find

A7 = [str(e["id"]) for a in yaml.safe_load((ROOT / "course.yml").read_text())["assignments"] if a["id"] == "A7"
      for e in a["exercises"]]
"""The capstone's exercise ids, as course.yml lists them (never counted here)."""


def test_digits_ship_with_their_licence_and_a_fixed_split() -> None:
    X_train, y_train, X_test, y_test = digits()
    assert X_train.shape == (1437, 64) and X_test.shape == (360, 64)
    assert y_train.dtype == np.int64 and set(np.unique(np.concatenate([y_train, y_test]))) == set(range(10))
    assert X_train.min() == 0.0 and X_train.max() == 1.0
    again = digits()
    assert all(np.array_equal(a, b) for a, b in zip((X_train, y_train, X_test, y_test), again))
    assert (HERE / "digits.npz").stat().st_size < 100_000
    assert "CC BY 4.0" in (HERE / "LICENSE").read_text()
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert set(package_data["grader.data"]) >= {"digits.npz", "LICENSE"}


def test_digits_are_scikit_learns() -> None:
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    bundled = sklearn_datasets.load_digits()
    X_train, y_train, X_test, y_test = digits()
    X = np.concatenate([X_train, X_test]) * 16
    y = np.concatenate([y_train, y_test])
    # the same 1,797 images, in the split's order: every image with its label, once
    ours = sorted(zip(map(bytes, X.astype(np.uint8)), y))
    theirs = sorted(zip(map(bytes, bundled.data.astype(np.uint8)), bundled.target))
    assert ours == theirs


def test_an_assignment_id_selects_its_exercises(course: Course) -> None:
    assert [e.id for e in course.select("A7")] == A7
    assert [e.id for e in course.select("7.3")] == ["7.3"]
    with pytest.raises(CourseError, match="no exercise"):
        course.select("A99")


def test_solutions_get_full_marks_and_the_digits_mlp_matches_torch(course: Course) -> None:
    result = run_grade(course, SOLUTIONS, "A7")
    assert [e.id for e in result.exercises] == A7
    for ex in result.exercises:
        assert ex.points == ex.max_points, (ex.id, ex.reason)
    digits_mlp = next(e for e in result.exercises if e.id == "7.5")
    accuracy = next(c for c in digits_mlp.checks[0].cases if c.name.endswith("accuracy"))
    assert accuracy.details["yours"] >= 0.9 and abs(accuracy.details["yours"] - accuracy.details["torch"]) <= 0.01
    cnn = next(e for e in result.exercises if e.id == "7.6")
    accuracy = next(c for c in cnn.checks[0].cases if c.name.endswith("accuracy"))
    assert accuracy.details["yours"] == accuracy.details["torch"] >= 0.8
    xor = next(e for e in result.exercises if e.id == "7.4")
    assert [c.details["yours"] for c in xor.checks[0].cases if c.name.endswith("accuracy")] == [1.0, 1.0, 1.0]


def test_stubs_score_zero_as_not_implemented(course: Course) -> None:
    result = run_grade(course, EXERCISES, "A7")
    for ex in result.exercises:
        assert ex.points == 0 and ex.status == NOT_IMPLEMENTED, (ex.id, ex.status, ex.reason)
        assert "is not implemented yet" in ex.reason


@pytest.mark.parametrize("change, problem", [
    ("[[Affine, 6, 8], ReLU, [Affine, 8, 8], Tanh, [Affine, 8, 3]]", "unknown layer 'Softsign'"),
    ("driver: steps", "driver must be one of"),
])
def test_a_malformed_network_is_a_course_error(tmp_path: Path, change: str, problem: str) -> None:
    text = (ROOT / "course.yml").read_text()
    bad = {"[[Affine, 6, 8], ReLU, [Affine, 8, 8], Tanh, [Affine, 8, 3]]": "[[Affine, 6, 8], Softsign]",
           "driver: steps": "driver: by_hand"}[change]
    assert text.count(change) == 1
    for folder in ("solutions", "tests"):
        (tmp_path / folder).mkdir()
    (tmp_path / "course.yml").write_text(text.replace(change, bad))
    with pytest.raises(CourseError, match=re.escape(problem)) as caught:
        load_course(tmp_path / "course.yml")
    assert "hyper" in str(caught.value) and "7.1" not in problem


def test_a_failing_run_draws_both_loss_curves(course: Course, tmp_path: Path) -> None:
    sub = find("train_xor", "adds its gradients").submission(tmp_path / "sub")
    result = run_grade(course, sub, "7.4")
    figures = [f for f in plots.figures(result) if f.check == "training"]
    assert figures and figures[0].png.startswith(b"\x89PNG")
    case = next(c for c in result.exercises[0].checks[0].cases if not c.passed)
    losses = case.details["losses"]
    assert len(losses["torch"]) == len(losses["yours"]) == 300 and case.details["first_step"] == 2
    # XOR's picture: both trained networks (W1, b1, W2, b2) and the 4 points, drawn beside the curves
    hidden = case.details["hidden"]
    assert [np.shape(a) for a in hidden["yours"]] == [(2, 2), (2,), (2, 1), (1,)] and len(hidden["X"]) == 4
    page = html.render(result)
    assert page.count('<img alt="[7.4 XOR] training') == len(figures)
    # the report's image of that case holds both: the curves, and XOR's points in input and hidden space
    shown = re.findall(r'<img alt="(\[7\.4 XOR\] training · case \d+ · steps[^"]*)" src="data:image/png;base64,', page)
    assert shown and all("loss per step, yours and torch&#x27;s; XOR&#x27;s 4 points in input space and in each "
                         "hidden space" in alt for alt in shown), shown


def test_a_training_run_has_its_own_time_limit(course: Course, tmp_path: Path) -> None:
    """Long exercises state their own wall-clock limit per call plan (course.yml ``timeout_s``); a learner's
    training that hangs is stopped at that limit and the message says so."""
    digits_mlp = course.exercise("7.5")
    assert digits_mlp.timeout_s == 30 and course.exercise("7.1").timeout_s is None
    quick = dataclasses.replace(course, assignments=tuple(
        dataclasses.replace(a, exercises=tuple(dataclasses.replace(e, timeout_s=1.5) for e in a.exercises))
        if a.id == "A7" else a for a in course.assignments))
    # a loop that swallows the soft deadline's exception runs into the hard limit, which kills the child
    sub = make_submission(tmp_path / "sub", append={"networks": (
        "def train_xor(rng, epochs=300):\n    while True:\n        try:\n            while True:\n"
        "                pass\n        except BaseException:\n            pass\n")})
    result = run_grade(quick, sub, "7.4")
    (xor,) = result.exercises
    assert xor.points == 0 and "longer than 1.5 s" in xor.reason


def test_too_slow_training_names_the_slowest_layer(course: Course, tmp_path: Path) -> None:
    """Before the hard limit, the child stops a training run and says which layer took the time."""
    quick = dataclasses.replace(course, assignments=tuple(
        dataclasses.replace(a, exercises=tuple(dataclasses.replace(e, timeout_s=2.0) for e in a.exercises))
        if a.id == "A7" else a for a in course.assignments))
    slow_relu = find("train_xor", "lr 0.05")  # any submission; then ReLU.backward made slow
    sub = make_submission(tmp_path / "sub", replace={"networks": slow_relu.source().replace(
        "SGD(lr=0.05)", "SGD(lr=0.5)")}, append={"activations": (
            "import time as _time\n_backward = ReLU.backward\n"
            "def _slow(self, dout):\n    _time.sleep(0.01)\n    return _backward(self, dout)\n"
            "ReLU.backward = _slow\n")})
    result = run_grade(quick, sub, "7.4")
    (xor,) = result.exercises
    assert xor.points == 0
    message = next(c.message for c in xor.checks[0].cases if not c.passed)
    assert "TrainingTooSlow: training still running after 1.6 s" in message, message
    shares = re.search(r"time per layer so far: ReLU\.backward (\d+)%", message)
    assert shares and int(shares.group(1)) > 80, message


def test_a_failing_digits_run_draws_the_confusion_matrix_and_misclassified_digits(course: Course,
                                                                                   tmp_path: Path) -> None:
    sub = find("train_digits", "bias correction").submission(tmp_path / "sub")
    result = run_grade(course, sub, "7.5")
    case = next(c for c in result.exercises[0].checks[0].cases if not c.passed)
    accuracy = case.details["losses"]["accuracy"]  # per epoch, both runs, drawn beside the loss per step
    assert accuracy["steps_per_epoch"] == 96 and len(accuracy["torch"]) == len(accuracy["yours"]) == 2
    confusion = case.details["confusion"]
    matrix = np.array(confusion["matrix"])
    assert matrix.shape == (10, 10) and matrix.sum() == 360
    assert 0 < len(confusion["wrong"]) <= 8 and all(len(w["image"]) == 64 for w in confusion["wrong"])
    assert all(w["true"] != w["predicted"] for w in confusion["wrong"])
    (figure,) = [f for f in plots.figures(result) if f.check == "training"]
    assert figure.png.startswith(b"\x89PNG")


def test_a_departing_layer_names_its_own_failing_exercise(course: Course, tmp_path: Path) -> None:
    sub = find("train_digits", "db the mean").submission(tmp_path / "sub")
    alone = run_grade(course, sub, "7.5")
    assert "fails its own exercise" not in alone.exercises[0].reason  # Affine not graded: nothing claimed
    both = run_grade(course, sub, "7.5", "1.10")
    network = next(e for e in both.exercises if e.id == "7.5")
    steps = next(c for c in network.checks[0].cases if not c.passed)
    assert "layer 6 (Affine) b" in steps.message
    assert "your Affine fails its own exercise 1.10 too" in steps.message and "fix that first" in steps.message


def test_a_watched_method_is_put_back_when_the_plan_ends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The child records a class's method calls (every instance's) for one plan only: the class outlives
    the plan in the child, and a later plan (another exercise) must find it as it was."""
    spec = importlib.util.spec_from_file_location("_child_under_test", ROOT / "grader" / "sandbox" / "child.py")
    child = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(child)  # type: ignore[union-attr]
    (tmp_path / "stepper.py").write_text("class Step:\n    def update(self, params, grads):\n"
                                         "        for p, g in zip(params, grads):\n            p -= g\n"
                                         "def run(p, g):\n    s = Step()\n    s.update([p], [g])\n    s.update([p], [g])\n"
                                         "    raise ValueError('stops here')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import stepper  # type: ignore[import-not-found]

    original = stepper.Step.update
    steps = [{"op": "watch", "target": "stepper.Step", "method": "update", "limit": 5},
             {"op": "func", "target": "stepper.run", "args": ["$p", "$g"], "kwargs": {}}]
    reply, _ = child.run_plan({"vars": ["p", "g"], "steps": steps}, [np.zeros(2), np.ones(2)], str(tmp_path))
    assert reply["error"]["message"] == "ValueError: stops here"  # the plan ended by the learner's exception
    assert stepper.Step.update is original and "update" in vars(stepper.Step)
    steps = [{"op": "new", "target": "stepper.Step", "args": [], "kwargs": {}},
             {"op": "watch", "obj": 0, "method": "update", "keep": [0, 1]},
             {"op": "call", "obj": 0, "method": "update", "args": [["$p"], ["$g"]]},
             {"op": "watched", "step": 1}]
    reply, arrays = child.run_plan({"vars": ["p", "g"], "steps": steps}, [np.zeros(2), np.ones(2)], str(tmp_path))
    assert reply["error"] is None and reply["results"][3]["done"] == 1
    assert np.array_equal(arrays[0], [[-1.0, -1.0]]) and np.array_equal(arrays[1], [[1.0, 1.0]])  # p after, g


def test_a_history_of_numpy_arrays_is_as_good_as_lists(course: Course, tmp_path: Path) -> None:
    sub = make_submission(tmp_path / "sub", append={"networks": (
        "_fit = fit\n\n\ndef fit(*args, **kwargs):\n    history = _fit(*args, **kwargs)\n"
        "    return {k: np.array(v) for k, v in history.items()}\n")})
    result = run_grade(course, sub, "7.3", "7.4")
    assert [(e.id, e.points) for e in result.exercises] == [("7.3", 4.0), ("7.4", 3.0)], \
        [e.reason for e in result.exercises]


def test_an_inline_check_shows_the_training_curves(tmp_path: Path) -> None:
    """check("TwoLayerNet") in a notebook: the Report's HTML holds the training figure (loss per step, yours
    against torch's), as the file report does."""
    from grader.notebook import check

    sub = find("TwoLayerNet", "backward doubles").submission(tmp_path / "sub")
    report = check("TwoLayerNet", source=sub, course=ROOT / "course.yml")
    assert not report.passed
    page = report._repr_html_()
    assert re.search(r'<img alt="\[7\.2 TwoLayerNet\] training · case 0 · steps: loss per step, yours and '
                     r'torch&#x27;s[^"]*" src="data:image/png;base64,', page), page[:2000]
    assert "step 1 of 12 (epoch 1, batch 1)" in page


ACCEPTANCE_BUGS = [
    # (exercise, words of the mutant's name, texts the first failing message must hold: step, layer, cause)
    ("train_digits", "db the mean", ["step 1 of 192 (epoch 1, batch 1), in the gradient of layer 6 (Affine) b",
                                    "the error is in layer 6's backward"]),
    ("train_xor", "adds its gradients", ["step 2 of 300 (epoch 2, batch 1), in the gradient of layer 2 (Affine) b",
                                         "gradients are added up across steps"]),
    ("fit", "batches not shuffled", ["step 1 of 12 (epoch 1, batch 1), in the batch's labels",
                                     "the batches are not shuffled"]),
    ("fit", "X shuffled without y", ["step 1 of 12 (epoch 1, batch 1), in the batch's labels",
                                     "X was shuffled without y"]),
    ("train_digits", "bias correction", ["step 1 of 192 (epoch 1, batch 1), in layer 0 (Affine) W after the update",
                                         "the bias correction of Adam's moments is missing"]),
    ("Sequential", "BatchNorm1d stays", ["after model.eval(), layer 1 (BatchNorm1d) of Sequential([Dropout, "
                                        "BatchNorm1d]) has train True, expected False"]),
    ("Sequential", "backward skips", ["step 1 of 8 (epoch 1, batch 1), in the gradient of layer 0 (Affine) b",
                                      "backward never wrote it (does the network's backward reach layer 0?"]),
]


@pytest.mark.parametrize("exercise, words, texts", ACCEPTANCE_BUGS, ids=[f"{e}-{w}" for e, w, _ in ACCEPTANCE_BUGS])
def test_the_issues_planted_bugs_name_the_step_and_the_layer(course: Course, tmp_path: Path, exercise: str,
                                                            words: str, texts: list[str]) -> None:
    """The planted bugs the capstone's issue lists: the training check's first failing case names the first
    departing step (of how many, in which epoch and batch), the layer by position and class, and the cause."""
    ex = next(e for e in course.exercises if e.name == exercise)
    (graded,) = run_grade(course, find(exercise, words).submission(tmp_path / "sub"), ex.id).exercises
    failing = [c for c in graded.checks[0].cases if not c.passed]
    assert graded.points < graded.max_points and failing
    for text in texts:
        assert text in failing[0].message, failing[0].message


SOMETIMES_WRONG = (  # TwoLayerNet whose b2 gradient is doubled at every 4th step only (SGD keeps no state)
    "_backward = TwoLayerNet.backward\n\n\ndef _sometimes_wrong(self, dout=1.0):\n"
    "    self.calls = getattr(self, 'calls', 0) + 1\n    dx = _backward(self, dout)\n"
    "    if self.calls % 4 == 0:\n        self.grads[3][...] *= 2\n    return dx\n\n\n"
    "TwoLayerNet.backward = _sometimes_wrong\n")


def test_teacher_forcing_finds_every_departing_step(course: Course, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Free-running, everything after the first error departs; teacher-forced (each step restarted from
    torch's parameters) only the steps that are wrong themselves do: 4, 8 and 12, not 5-7 or 9-11."""
    from grader.kinds import networks

    forced: list[bool] = []
    plan = networks.plan
    monkeypatch.setattr(networks, "plan", lambda *a, **k: forced.append(len(a) > 7 or "force" in k) or plan(*a, **k))
    sub = make_submission(tmp_path / "sub", append={"networks": SOMETIMES_WRONG})
    (graded,) = run_grade(course, sub, "7.2").exercises
    (case,) = [c for c in graded.checks[0].cases if not c.passed]
    assert "at step 4 of 12 (epoch 1, batch 4), in the gradient of layer 2 (Affine) b" in case.message
    assert ("teacher-forced (every step restarted from torch's parameters, your optimizer's state kept): 3 of the 12 "
            "steps compared depart: the gradient of layer 2 (Affine) b at steps 4, 8, 12; every other step agrees"
            ) in case.message, case.message
    assert case.details["departing_steps"] == [4, 8, 12] and forced == [False, True]


def test_no_teacher_forcing_under_a_secret_seed(course: Course, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Teacher forcing sends torch's parameters (reference values) into the child: only with the public
    seed, whose references a learner can have anyway (grader case); a secret seed's stay in the parent."""
    from grader.kinds import networks

    forced: list[bool] = []
    plan = networks.plan
    monkeypatch.setattr(networks, "plan", lambda *a, **k: forced.append(len(a) > 7 or "force" in k) or plan(*a, **k))
    sub = make_submission(tmp_path / "sub", append={"networks": SOMETIMES_WRONG})
    (graded,) = run_grade(course, sub, "7.2", seed=987654321).exercises
    assert graded.points == 0 and forced == [False]


HANG_IF_FORCED = (  # an SGD that hangs (deaf to the soft deadline) once its parameters change behind its back
    "import numpy as _np\n_update = SGD.update\n\n\ndef _update_or_hang(self, params, grads):\n"
    "    seen = getattr(self, 'seen', None)\n"
    "    if seen is not None and any(not _np.array_equal(p, s) for p, s in zip(params, seen)):\n"
    "        while True:\n            try:\n                while True:\n                    pass\n"
    "            except BaseException:\n                pass\n"
    "    _update(self, params, grads)\n    self.seen = [p.copy() for p in params]\n\n\n"
    "SGD.update = _update_or_hang\n")


def test_a_teacher_forced_run_that_hangs_changes_no_verdict(course: Course, tmp_path: Path) -> None:
    """The forced run is a diagnosis, run after every case is judged: when it hangs and the child is killed,
    the verdicts and points stay those of the free run, and the message says nothing of it."""
    quick = dataclasses.replace(course, assignments=tuple(
        dataclasses.replace(a, exercises=tuple(dataclasses.replace(e, timeout_s=2.0) for e in a.exercises))
        if a.id == "A7" else a for a in course.assignments))
    sub = make_submission(tmp_path / "sub", append={"networks": SOMETIMES_WRONG, "optim": HANG_IF_FORCED})
    (graded,) = run_grade(quick, sub, "7.2").exercises
    assert graded.status == "fail" and graded.points == 0
    (case,) = graded.checks[0].cases
    assert "at step 4 of 12" in case.message and "teacher-forced" not in case.message, case.message


def test_teacher_forcing_reaches_a_learners_own_training_loop(course: Course, tmp_path: Path) -> None:
    """train_xor runs its own loop (fit): the child forces the parameters its optimizer's update(params, grads)
    was given, the very arrays the layers use, so only the steps that are wrong themselves depart."""
    sub = make_submission(tmp_path / "sub", append={"layers": (
        "_affine_backward = Affine.backward\n\n\ndef _sometimes(self, dout):\n"
        "    self.calls = getattr(self, 'calls', 0) + 1\n    dx = _affine_backward(self, dout)\n"
        "    if self.calls % 4 == 0:\n        self.grads[1][...] *= 2\n    return dx\n\n\n"
        "Affine.backward = _sometimes\n")})
    (graded,) = run_grade(course, sub, "7.4").exercises
    case = next(c for c in graded.checks[0].cases if not c.passed)
    assert "at step 4 of 300 (epoch 4, batch 1), in the gradient of layer 2 (Affine) b" in case.message
    assert ("12 of the 50 steps compared depart: the gradient of layer 2 (Affine) b at steps 4, 8, 12, 16, 20, "
            "24, 28, 32, ...; every other step agrees") in case.message, case.message
    assert case.details["departing_steps"] == list(range(4, 51, 4))


def test_a_networks_public_case_file_replays_torchs_run(course: Course, monkeypatch: pytest.MonkeyPatch) -> None:
    """grader case XOR 1: the data, the learner's rng seed, the initial parameters and torch's run, so the
    learner can replay it (the public seed's references are theirs: teacher forcing may send them to the child)."""
    from grader.engine import casefile

    values = casefile.case_values(course, course.exercise("7.4"), 1)
    assert int(values["rng_seed"]) == 14 and values["expected_loss"].shape == (300,)
    assert values["expected_param0"].shape == (50, 2, 2) and "init0" in values
    import sys

    before = set(sys.modules)
    monkeypatch.syspath_prepend(str(SOLUTIONS))
    try:
        from networks import train_xor  # type: ignore[import-not-found]

        _, history = train_xor(np.random.default_rng(int(values["rng_seed"])), 300)
    finally:  # the solution's modules leave with the path (other tests import their own copies by name)
        for name in set(sys.modules) - before:
            if str(getattr(sys.modules[name], "__file__", "") or "").startswith(str(SOLUTIONS)):
                del sys.modules[name]
    np.testing.assert_allclose(history["loss"], values["expected_loss"], rtol=1e-10, atol=1e-12)
