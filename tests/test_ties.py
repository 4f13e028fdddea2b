"""Tied maxima: max-style layers get cases drawn from a small set and from ReLU outputs, judged by torch's
rule (the whole gradient to the first maximum in scanning order); finite differences skip them."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from grader.kinds.inputs import draw, rng_for
from grader.model.course import ArraySpec, Course
from grader.model.results import PASS

from .conftest import run_grade
from .mutants import find


def test_torch_routes_a_tie_to_the_first_maximum_in_scanning_order() -> None:
    """The rule the docstrings state and np.argmax follows, checked on this torch (a change would show here)."""
    import torch
    import torch.nn.functional as F

    x = torch.tensor([[0.0, 2.0, 1.0], [2.0, 2.0, 0.0], [1.0, 0.0, 2.0]], dtype=torch.float64)
    x = x.reshape(1, 1, 3, 3).requires_grad_()
    F.max_pool2d(x, 2, 1).sum().backward()
    windows = [x.detach()[0, 0, i:i + 2, j:j + 2].reshape(-1).numpy() for i in range(2) for j in range(2)]
    expected = np.zeros((3, 3))
    for (i, j), w in zip([(0, 0), (0, 1), (1, 0), (1, 1)], windows):
        k = int(np.argmax(w))
        expected[i + k // 2, j + k % 2] += 1
    assert np.array_equal(x.grad[0, 0].numpy(), expected)
    groups = torch.tensor([[1.0, 1.0, 0.0, 2.0, 2.0, 2.0]], dtype=torch.float64, requires_grad=True)
    groups.unflatten(1, (-1, 3)).max(dim=2).values.sum().backward()
    assert groups.grad.tolist() == [[1.0, 0.0, 0.0, 1.0, 0.0, 0.0]]


def test_relu_and_choice_draws_tie() -> None:
    relu = draw(ArraySpec(shape=(400,), low=-3.0, high=1.0, relu=True), rng_for(0, "t", "relu"))
    assert relu.min() == 0.0 and 0.6 < np.mean(relu == 0) < 0.9
    picks = draw(ArraySpec(shape=(400,), choices=(0.0, 1.0, 2.0)), rng_for(0, "t", "choices"))
    assert set(np.unique(picks)) == {0.0, 1.0, 2.0}


def test_spreading_the_gradient_over_ties_fails_with_the_rule_named(course: Course, tmp_path: Path) -> None:
    result = run_grade(course, find("MaxPool2d", "every tied maximum").submission(tmp_path / "sub"), "3.7")
    reference = next(c for c in result.exercises[0].checks if c.name == "reference")
    failing = [c for c in reference.cases if not c.passed]
    assert failing and all(c.details.get("quantity") == "dx" for c in failing)
    assert all("FIRST of them" in c.message for c in failing)
    gradcheck = next(c for c in result.exercises[0].checks if c.name == "gradcheck")
    assert gradcheck.status == PASS  # the tie cases are not finite-differenced


def test_a_bug_seen_on_smooth_inputs_gets_no_tie_hint(course: Course, tmp_path: Path) -> None:
    """Routing dout to every element of the window is wrong everywhere: the tie rule is not its cause."""
    result = run_grade(course, find("MaxPool2d", "every element of the window").submission(tmp_path / "sub"), "3.7")
    reference = next(c for c in result.exercises[0].checks if c.name == "reference")
    failing = [c for c in reference.cases if not c.passed]
    assert failing and not any("FIRST of them" in c.message for c in failing)
