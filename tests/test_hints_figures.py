"""Cause hints reach the message and the figure: transposed, off by a factor of N (its value named),
sign flipped, shifted by one; each planted in a real submission and graded end to end."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader.backs import plots
from grader.judge.compare import compare
from grader.judge.hints import Clues
from grader.model.course import Course, Tolerance
from grader.model.values import Value

from .conftest import SOLUTIONS, make_submission, run_grade
from .mutants import find


def _bug(exercise: str, name_part: str) -> str:
    """The whole mutated module of the planted bug (it replaces the solution's module)."""
    return find(exercise, name_part).source()


TRANSPOSED = '''
class Affine:
    def __init__(self, W, b):
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]
    def forward(self, x):
        self.x = x
        return x @ self.params[0] + self.params[1]
    def backward(self, dout):
        self.grads[0][...] = (self.x.T @ dout).T
        self.grads[1][...] = dout.sum(axis=0)
        return dout @ self.params[0].T
'''


@pytest.mark.parametrize(("module", "exercise", "code", "quantity", "hint"), [
    ("layers", "1.10", (SOLUTIONS / "layers.py").read_text() + "\n\n" + TRANSPOSED, "dW", "transposed"),
    ("losses", "1.11", _bug("MSELoss", "1/M"), "dpred", "off by a factor of N = 12 (number of elements)"),
    ("activations", "1.1", _bug("Sigmoid", "sign flip"), "dx", "sign"),
])
def test_hint_in_message_and_figure(module: str, exercise: str, code: str, quantity: str, hint: str,
                                    course: Course, tmp_path: Path) -> None:
    sub = make_submission(tmp_path / "sub", replace={module: code})
    result = run_grade(course, sub, exercise)
    reference = next(c for c in result.exercises[0].checks if c.name == "reference")
    # (a non-square dW transposed cannot even be stored: only the square case shows the values)
    case = next(k for k in reference.cases if not k.passed and k.name.endswith(quantity) and k.details.get("hint"))
    assert hint in case.details["hint"], case.message
    assert f"hint: {case.details['hint']}" in case.message
    figs = [f for f in plots.figures(result) if f.check == "reference" and f.case == case.name]
    assert figs and figs[0].png.startswith(b"\x89PNG")
    assert hint in figs[0].title + case.details["hint"]


def test_shifted_by_one() -> None:
    expected = np.arange(12.0).reshape(3, 4) + 1
    got = Value("array", "numpy.ndarray", (np.roll(expected, 1, axis=1),))
    verdict = compare("out", expected, got, Tolerance())
    assert "shifted by +1 along axis 1" in verdict.message


@pytest.mark.parametrize(("broken", "hint"), [
    (lambda x, y: np.where(x < -1, x, y), "wrong only for the smallest inputs"),
    (lambda x, y: np.where(x > 1, 0.0, y), "wrong only for the largest inputs"),
    (lambda x, y: np.where(np.abs(x) > 2, 0.5, y), "wrong only at the saturated ends"),
])
def test_region_hints(broken, hint: str) -> None:  # noqa: ANN001
    x = np.linspace(-3, 3, 24).reshape(4, 6) + 0.01
    y = np.tanh(x)
    got = Value("array", "numpy.ndarray", (broken(x, y),))
    verdict = compare("out", y, got, Tolerance(), inputs=x, clues=Clues(family="tanh"))
    assert hint in verdict.message, verdict.message
    # the same values from a layer that is not element-wise (max-pooling): no sentence about x's range
    pooled = compare("out", y, got, Tolerance(), inputs=x, clues=Clues(family="max_pool2d"))
    assert "wrong only" not in pooled.message
