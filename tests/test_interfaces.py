"""Existing assignment shapes graded as they are (course.yml's ``interface:``, grader/kinds/interfaces.py).

The example course examples/cs231n/ holds CS231n's shapes (function pairs with a cache, a loss returning
its gradient, config-dict update rules) and one "Deep Learning from Scratch" layer (gradient attributes,
torch's weight layout). Its solutions earn every point and its stubs none; a planted bug gets the very
message and hint the class protocol's equivalent bug gets in the bundled course (both graded on the same
cases); a result of the wrong shape fails closed with a message naming the function and what it returned;
a malformed ``interface:`` is refused naming file, line and key.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from grader.coursefile import load_course
from grader.model.course import Course
from grader.model.errors import CourseError
from grader.model.results import PASS, SubmissionResult
from grader.release.stubs import diff_release

from .conftest import ROOT, SOLUTIONS, make_submission, run_grade
from .mutants import Mutant, find

EXAMPLE = ROOT / "examples" / "cs231n"


@pytest.fixture(scope="module")
def cs231n() -> Course:
    return load_course(EXAMPLE / "course.yml")


def _mutated(dest: Path, base: Path, module: str, changes: list[tuple[str, str]]) -> Path:
    """A copy of ``base`` with text replacements in one module, each of which must occur exactly once."""
    text = (base / f"{module}.py").read_text()
    for old, new in changes:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {module}.py"
        text = text.replace(old, new)
    return make_submission(dest, base=base, replace={module: text})


def _failing(result: SubmissionResult) -> dict[str, list[tuple[str, str, str]]]:
    """Per check, the failing cases' (name, status, message): what a learner reads."""
    (ex,) = result.exercises
    return {c.name: [(k.name, k.status, k.message) for k in c.cases if not k.passed] for c in ex.checks}


def test_example_solutions_earn_every_point(cs231n: Course) -> None:
    result = run_grade(cs231n, EXAMPLE / "solutions")
    assert [e.id for e in result.exercises] == [e.id for e in cs231n.exercises]
    for ex in result.exercises:
        assert ex.points == ex.max_points > 0, (ex.id, [k.message for c in ex.checks for k in c.cases
                                                         if not k.passed])


def test_example_stubs_earn_nothing_and_are_released_from_the_solutions(cs231n: Course) -> None:
    assert diff_release(EXAMPLE / "solutions", EXAMPLE / "exercises") == []
    result = run_grade(cs231n, EXAMPLE / "exercises")
    for ex in result.exercises:
        assert ex.points == 0, ex.id
        assert any("not implemented yet" in k.message for c in ex.checks for k in c.cases), ex.id


# ------------------------------------------------------------------ the same bug, the same message

PAIRS = {
    # cs231n exercise: the bundled exercise (title) whose class protocol it is compared with
    "affine": "Affine",
    "relu": "ReLU",
    "softmax_loss": "SoftmaxCrossEntropy",
    "sgd_momentum": "Momentum",
    "adam": "Adam",
    "rnn": "RNN",
}

BUGS = [
    # (cs231n exercise, cs231n module, its change, the class protocol's same bug (tests/mutants.py), the check)
    ("affine", "layers", [("dw = x.reshape(x.shape[0], -1).T.dot(dout)",
                           "dw = x.reshape(x.shape[0], -1).T.dot(dout) / x.shape[0]")],
     find("Affine", "dW divided by the batch size"), "gradcheck"),
    ("relu", "layers", [("dx = dout * (x > 0)", "dx = dout * (x < 0)")],
     find("ReLU", "inverted mask: gradient passed where x < 0"), "gradcheck"),
    ("softmax_loss", "layers", [("    dx /= N\n", "")], find("SoftmaxCrossEntropy", "misses the 1/N"), "gradcheck"),
    ("adam", "optim", [('mb / (np.sqrt(vb) + config["epsilon"])',
                        'config["m"] / (np.sqrt(config["v"]) + config["epsilon"])')],
     find("Adam", "no bias correction"), "trajectory"),
    ("rnn", "rnn_layers", [("dh0 = dprev_h", "dh0 = np.zeros_like(dprev_h)")], find("RNN", "dh0 returned as zeros"),
     "reference"),
    ("rnn", "rnn_layers", [("dWx += dWxt", "dWx = dWxt"), ("dWh += dWht", "dWh = dWht"), ("db += dbt", "db = dbt")],
     find("RNN", "= instead of +="), "reference"),
    ("sgd_momentum", "optim", [("next_w = w + v", "next_w = w - v")],
     Mutant("Momentum", "optim", "momentum step taken with the wrong sign", "trajectory", "param",
            old='p -= self.lr * state["momentum_buffer"]', new='p += self.lr * state["momentum_buffer"]'),
     "trajectory"),
]


@pytest.fixture(scope="module")
def class_twins(tmp_path_factory: pytest.TempPathFactory, cs231n: Course) -> Course:
    """The bundled course's class-protocol exercises paired with the example's, each under the example
    exercise's id and with its cases and checks: the same inputs, so the same messages are expected."""
    folder = tmp_path_factory.mktemp("class_twins")
    bundled = yaml.safe_load((ROOT / "course.yml").read_text())
    example = yaml.safe_load((EXAMPLE / "course.yml").read_text())
    blocks = {e["title"]: e for a in bundled["assignments"] for e in a["exercises"]}
    mine = {e["id"]: e for a in example["assignments"] for e in a["exercises"]}
    exercises = []
    for ex_id, title in PAIRS.items():
        block = dict(blocks[title])
        block.update(id=ex_id, cases=mine[ex_id]["cases"], checks=mine[ex_id]["checks"])
        exercises.append(block)
    data = {k: v for k, v in bundled.items() if k != "assignments"}
    data.update(hide=["solutions"], assignments=[{"id": "T", "title": "class twins", "exercises": exercises}])
    (folder / "course.yml").write_text(yaml.safe_dump(data, sort_keys=False))
    shutil.copytree(SOLUTIONS, folder / "solutions")
    return load_course(folder / "course.yml")


@pytest.mark.parametrize("bug", BUGS, ids=[f"{b[0]}-{i}" for i, b in enumerate(BUGS)])
def test_a_planted_bug_gets_the_class_protocols_message(bug, cs231n: Course, class_twins: Course,
                                                        tmp_path: Path) -> None:
    ex_id, module, changes, mutant, check = bug
    theirs = _failing(run_grade(cs231n, _mutated(tmp_path / "theirs", EXAMPLE / "solutions", module, changes),
                                ex_id))
    ours = _failing(run_grade(class_twins, mutant.submission(tmp_path / "ours"), ex_id))
    assert theirs[check], f"{check} did not catch the bug in {ex_id}"
    assert theirs == ours


def test_the_twins_of_the_comparison_pass_unchanged(class_twins: Course) -> None:
    """The comparison course itself grades the bundled solutions to full marks (else equal messages could
    be equal failures of something else)."""
    for ex in run_grade(class_twins, SOLUTIONS).exercises:
        assert ex.points == ex.max_points, ex.id


# ------------------------------------------------------------------ results of the wrong shape fail closed

SHAPES = [
    ("affine", "layers", [("    return out, cache\n\n\ndef affine_backward", "    return out\n\n\ndef affine_backward")],
     "layers.affine_forward returned an array of shape (4, 3), expected a tuple of 2: (out, cache)"),
    ("affine", "layers", [("db = np.sum(dout, axis=0)\n    ### END SOLUTION\n    return dx, dw, db\n",
                           "db = np.sum(dout, axis=0)\n    ### END SOLUTION\n    return dx, dw\n")],
     "layers.affine_backward returned a tuple of 2 (ndarray, ndarray), expected a tuple of 3: (dx, dW, db)"),
    ("softmax_loss", "layers", [("    return loss, dx\n", "    return loss\n")],
     "layers.softmax_loss returned a float64, expected a tuple of 2: (out, dpred)"),
    ("adam", "optim", [("    ### END SOLUTION\n    return next_w, config\n", "    ### END SOLUTION\n    return next_w\n")],
     "optim.adam returned an array of shape"),
    ("sgd", "optim", [("    return w, config\n", "    return config, w\n")],
     "optim.sgd returned an array of shape (3,) as its config, expected the config dict"),
    ("scratch_affine", "layers", [("self.dW = dout.T @ self.x", "self.dw = dout.T @ self.x")],
     "layers.FromScratchAffine has no attribute dW after backward"),
]


@pytest.mark.parametrize("bad", SHAPES, ids=[f"{s[0]}-{i}" for i, s in enumerate(SHAPES)])
def test_a_result_of_the_wrong_shape_fails_closed(bad, cs231n: Course, tmp_path: Path) -> None:
    ex_id, module, changes, says = bad
    (ex,) = run_grade(cs231n, _mutated(tmp_path / "sub", EXAMPLE / "solutions", module, changes), ex_id).exercises
    assert ex.points < ex.max_points
    failing = [k for c in ex.checks for k in c.cases if not k.passed]
    assert failing and all(k.status != PASS for k in failing)
    assert any(says in k.message for k in failing), [k.message for k in failing][:3]


def test_gradients_in_the_wrong_layout_are_caught(cs231n: Course, tmp_path: Path) -> None:
    """A from-scratch layer that stores dW in the course's (in, out) layout, not its own (out, in)."""
    sub = _mutated(tmp_path / "sub", EXAMPLE / "solutions", "layers",
                   [("self.dW = dout.T @ self.x", "self.dW = self.x.T @ dout")])
    (ex,) = run_grade(cs231n, sub, "scratch_affine").exercises
    reference = next(c for c in ex.checks if c.name == "reference")
    assert any(k.name.endswith("dW") and not k.passed for k in reference.cases)


# ------------------------------------------------------------------ a malformed interface: file, line, key

AFFINE = """version: 1
title: t
hide: []
assignments:
  - id: A
    title: a
    exercises:
      - id: "1"
        title: affine
        kind: {kind}
        target: layers.affine_forward
        reference: affine
        points: 1
        params: [W, b]
        interface:
{interface}
        cases:
          - {{x: [4, 5], W: [5, 3], b: [3], hyper: {{lr: 0.1}}}}
        checks: {{reference: 1}}
"""

MALFORMED = [
    ("layer", "style: funtions", 16, "style must be one of functions, class, config, got 'funtions'; did you "
     "mean 'functions'?"),
    ("loss", "style: class\ngrads: {W: dW}", 16, "a loss exercise takes style functions"),
    ("layer", "style: functions\nreturns: [out, cache]\nbackward: affine_backward\ngives: [dx, dW]", 19,
     "interface.gives: lacks the gradient(s) db"),
    ("layer", "style: functions\nreturns: [out, cache]\nbackward: affine_backward", 18, "'backward' and 'gives'"),
    ("layer", "style: functions\nreturns: [cache]", 17, "interface.returns: lacks the output(s) out"),
    ("layer", "style: functions\nreturns: [out, cash]\ngives: [dx]\nbackward: b", 17, "cash is not an output"),
    ("layer", "style: class\ngrads: {W: dW}", 17, "interface.grads: must name each parameter (W, b) once; "
     "missing: b"),
    ("layer", "style: class\ngrads: {W: dW, b: db}\naxes: {W: [1, 1]}", 18, "must be a permutation"),
    ("layer", "style: class\ngrads: {W: dW, b: db}\naxes: {V: [1, 0]}", 18, "names 'V', which is no array"),
    ("layer", "style: class\ngrads: {W: dW, b: db}\nbakward: x", 18, "unknown key 'bakward' for style"),
    ("layer", "style: class\ngrds: {W: dW, b: db}", 17, "unknown key 'grds' for style 'class'; did you mean 'grads'?"),
    ("layer", "style: class\ngrads: {W: dW, b: db}\nbackward: x", 18,
     "unknown key 'backward' for style 'class' (a key of style functions)"),
    ("layer", "style: class\naxes: {x: [0, 2, 1]}", 17, "x: [0, 2, 1] permutes 3 axes, but case 0's x has 2"),
    ("optimizer", "style: config\nconfig: {learning_rate: l r}", 17, "expected a hyper-parameter name"),
    ("optimizer", "style: config\nconfig: {momentum: momentum}", 17, "hyper-parameter(s) lr have no key"),
    ("layer", "style: functions\nreturns: [out, cache]\nbackward: b\ngives: [dx, dW, db]\nconfig: {rate: alpha}",
     20, "hyper-parameter(s) lr have no key"),
]


@pytest.mark.parametrize("kind, interface, line, says", MALFORMED, ids=[m[3][:30] for m in MALFORMED])
def test_a_malformed_interface_names_file_line_and_key(kind, interface, line, says, tmp_path: Path) -> None:
    text = AFFINE.format(kind=kind, interface="\n".join("          " + s for s in interface.splitlines()))
    if kind == "optimizer":
        text = text.replace("params: [W, b]\n", "problems: [quadratic]\n").replace(
            "{x: [4, 5], W: [5, 3], b: [3], hyper: {lr: 0.1}}", "{hyper: {lr: 0.1}}").replace(
            "{reference: 1}", "{trajectory: 1}").replace("reference: affine", "reference: sgd")
    if kind == "loss":
        text = text.replace("params: [W, b]\n", "margin: 0.01\n")
    path = tmp_path / "course.yml"
    path.write_text(text)
    with pytest.raises(CourseError) as e:
        load_course(path)
    assert f"{path}:{line}:" in str(e.value) and says in str(e.value), str(e.value)


# ------------------------------------------------------------------ batch-first sequences, by declaration

BATCH_FIRST = '''
class BatchFirstRNN(RNN):
    """The same RNN with batch-first sequences: xs (N, T, D) -> hs (N, T, H)."""

    def forward(self, xs, h0):
        return super().forward(xs.transpose(1, 0, 2), h0).transpose(1, 0, 2)

    def backward(self, dhs):
        dxs, dh0 = super().backward(dhs.transpose(1, 0, 2))
        return dxs.transpose(1, 0, 2), dh0
'''


def test_batch_first_sequences_are_mapped_by_declaration(tmp_path: Path) -> None:
    """The bundled (time-first) RNN exercise, declared batch-first: a batch-first class earns every point,
    its grads checked in place as in the class protocol; one that reads the sequence time-first does not."""
    bundled = yaml.safe_load((ROOT / "course.yml").read_text())
    block = next(e for a in bundled["assignments"] for e in a["exercises"] if e["title"] == "RNN")
    block.update(target="recurrent.BatchFirstRNN",
                 interface={"style": "class", "axes": {"xs": [1, 0, 2], "out": [1, 0, 2]}})
    data = {k: v for k, v in bundled.items() if k != "assignments"}
    data.update(hide=[], assignments=[{"id": "S", "title": "sequences", "exercises": [block]}])
    (tmp_path / "course.yml").write_text(yaml.safe_dump(data, sort_keys=False))
    course = load_course(tmp_path / "course.yml")
    good = make_submission(tmp_path / "good", append={"recurrent": BATCH_FIRST})
    (ex,) = run_grade(course, good).exercises
    assert ex.points == ex.max_points, [k.message for c in ex.checks for k in c.cases if not k.passed]
    contract = next(c for c in ex.checks if c.name == "contract")
    assert any("grads written in place" in k.name for k in contract.cases)
    time_first = make_submission(tmp_path / "bad", append={"recurrent": BATCH_FIRST.replace(
        "super().forward(xs.transpose(1, 0, 2), h0).transpose(1, 0, 2)", "super().forward(xs, h0)")})
    (ex,) = run_grade(course, time_first).exercises
    assert ex.points == 0


def test_a_backward_by_finite_differences_of_the_forward_function_is_caught(cs231n: Course, tmp_path: Path) -> None:
    """As for a class's forward: a backward that calls affine_forward many times estimates, not derives."""
    numeric = '''
    dx = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += 1e-6
        xm[i] -= 1e-6
        dx[i] = np.sum((affine_forward(xp, w, b)[0] - affine_forward(xm, w, b)[0]) * dout) / 2e-6
'''
    sub = _mutated(tmp_path / "sub", EXAMPLE / "solutions", "layers",
                   [("    dx = dout.dot(w.T).reshape(x.shape)\n", numeric)])
    (ex,) = run_grade(cs231n, sub, "affine").exercises
    reference = next(c for c in ex.checks if c.name == "reference")
    dx = [k for k in reference.cases if k.name.endswith("· dx")]
    assert dx and all(not k.passed and "backward calls forward" in k.message for k in dx), [k.message for k in dx]


def test_a_notebook_defining_the_function_pair_is_graded(cs231n: Course, tmp_path: Path) -> None:
    """The backward function is looked up in the notebooks as the target is (one cell per function)."""
    import ast
    import json

    source = (EXAMPLE / "solutions" / "layers.py").read_text()
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    cells = ["import numpy as np\n"] + ["".join(lines[n.lineno - 1:n.end_lineno]) for n in tree.body
                                       if isinstance(n, ast.FunctionDef) and n.name.startswith("affine_")]
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "work.ipynb").write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": c} for c in cells]}))
    (ex,) = run_grade(cs231n, sub, "affine").exercises
    assert ex.points == ex.max_points, [k.message for c in ex.checks for k in c.cases if not k.passed][:3]


@pytest.mark.parametrize("ex_id", ["relu", "softmax_loss"])
def test_figures_draw_the_learners_curve(ex_id: str, cs231n: Course) -> None:
    """The curve plan (f and f' over a range) runs through the interface as the checks' plans do."""
    from grader.engine.grading import Options, grade

    (ex,) = grade(cs231n, EXAMPLE / "solutions", Options(exercises=[ex_id], all_figures=True, plots=True)).exercises
    curve = ex.plot_data["curve"]
    assert "yours" in curve["f"] and "yours" in curve["df"]
    assert curve["f"]["yours"]["shape"] == curve["f"]["reference"]["shape"]
    assert curve["f"]["yours"]["data"] == pytest.approx(curve["f"]["reference"]["data"], abs=1e-9)
