"""Tests for grader.judge.compare and grader.judge.hints: the exact text a learner reads for each kind of wrong value.

Values are built directly (``Value(kind, type, arrays)``), as the runner builds them from the child's reply.
"""
from __future__ import annotations

import numpy as np
import pytest

from grader.judge.compare import compare
from grader.judge.hints import Clues
from grader.model.course import Tolerance
from grader.model.values import Value

TOL = Tolerance(rtol=1e-6, atol=1e-8)
ALLOWED = "(allowed rtol 1e-06, atol 1e-08)"
REF = np.arange(1, 13, dtype=np.float64).reshape(3, 4) / 4  # 0.25 ... 3.0, no zeros
BATCH = {"N": (4, "batch size")}


def array(a: np.ndarray) -> Value:
    return Value("array", "ndarray", (np.asarray(a),))


def scalar(x: float) -> Value:
    return Value("scalar", "float", (np.array(x, dtype=np.float64),))


# --------------------------------------------------------------------------- type, shape, dtype


def test_returned_none() -> None:
    v = compare("dx", REF, Value("none", "NoneType"), TOL)
    assert not v.ok
    assert v.message == "dx: returned None, expected a numpy array (forgot a return statement?)"


def test_returned_none_for_a_loss_asks_for_a_float() -> None:
    v = compare("loss", np.array(1.5), Value("none", "NoneType"), TOL, scalar=True)
    assert v.message == "loss: returned None, expected a float (forgot a return statement?)"


def test_returned_a_list() -> None:
    got = Value("list", "list", (), (scalar(1.0), scalar(2.0)))
    v = compare("out", REF, got, TOL)
    assert not v.ok
    assert v.message == "out: returned list, expected a numpy array"


def test_returned_some_other_object() -> None:
    v = compare("out", REF, Value("other", "dict"), TOL)
    assert v.message == "out: returned dict, expected a numpy array"


def test_scalar_where_an_array_is_expected() -> None:
    v = compare("dx", REF, scalar(2.0), TOL)
    assert not v.ok
    assert v.message == "dx: returned float, expected a numpy array of shape (3, 4)"


def test_array_where_a_float_is_expected() -> None:
    v = compare("loss", np.array(1.5), array(REF), TOL, scalar=True)
    assert v.message == ("loss: returned an array of shape (3, 4), expected a float "
                         "(reduce to one number, e.g. with float(...))")


def test_float_and_zero_d_array_are_both_accepted_for_a_loss() -> None:
    assert compare("loss", np.array(1.5), scalar(1.5), TOL, scalar=True).ok
    assert compare("loss", np.array(1.5), Value("array", "ndarray", (np.array(1.5),)), TOL, scalar=True).ok


def test_wrong_float_loss_names_the_value() -> None:
    v = compare("loss", np.array(2.0), scalar(2.5), TOL, scalar=True)
    assert v.message.splitlines()[:2] == [
        "loss (): 1/1 elements wrong (100%)",
        f"  worst value: yours 2.5, reference 2, abs. error 0.5, rel. error 0.25 {ALLOWED}",
    ]


def test_shape_mismatch() -> None:
    v = compare("dx", REF, array(REF[:2]), TOL)
    assert not v.ok
    assert v.message == "dx: shape (2, 4), but the reference has shape (3, 4)"
    assert v.details == {"quantity": "dx", "shape": [2, 4], "expected_shape": [3, 4]}


def test_transposed_shape_gets_the_transposed_hint() -> None:
    v = compare("dx", REF, array(REF.T.copy()), TOL)
    assert v.message == "dx: shape (4, 3), but the reference has shape (3, 4)\n  hint: your result is transposed"


def test_no_broadcasting_against_a_row() -> None:
    v = compare("db", REF[0], array(REF[:1]), TOL)
    assert v.message == "db: shape (1, 4), but the reference has shape (4,)"


def test_dtype_float32() -> None:
    v = compare("out", REF, array(REF.astype(np.float32)), TOL)
    assert not v.ok
    assert v.message == ("out: dtype float32, expected float64 (keep computing in float64; "
                         "integer or float32 arrays lose precision)")
    assert v.details == {"quantity": "out", "dtype": "float32"}


# --------------------------------------------------------------------------- values


def test_equal_arrays_pass() -> None:
    v = compare("out", REF, array(REF.copy()), TOL)
    assert v.ok
    assert v.message == "out (3, 4): all 12 elements match"


def test_within_tolerance_passes_and_just_outside_fails() -> None:
    inside = REF * (1 + 0.5e-6)
    assert compare("out", REF, array(inside), TOL).ok
    outside = REF.copy()
    outside[2, 3] += 3e-6 * 3.0  # 3 rtol away from 3.0
    assert not compare("out", REF, array(outside), TOL).ok


def test_one_wrong_element_full_message() -> None:
    got = REF.copy()
    got[1, 2] = 0.5  # reference 1.75
    v = compare("dx", REF, array(got), TOL)
    assert not v.ok
    assert v.message == (
        "dx (3, 4): 1/12 elements wrong (8.33%)\n"
        "  worst at (1, 2): yours 0.5, reference 1.75, abs. error 1.25, rel. error 0.714286 "
        "(allowed rtol 1e-06, atol 1e-08)"
    )
    d = v.details
    assert (d["quantity"], d["n_bad"], d["n"], d["worst_index"]) == ("dx", 1, 12, [1, 2])
    assert (d["expected"], d["got"], d["abs_error"]) == (1.75, 0.5, 1.25)
    assert d["rel_error"] == pytest.approx(1.25 / 1.75)
    assert (d["rtol"], d["atol"], d["hint"]) == (1e-6, 1e-8, "")


def test_worst_element_is_the_one_furthest_beyond_its_tolerance() -> None:
    got = REF.copy()
    got[0, 0] += 0.01   # 0.25 -> relative error 4%
    got[2, 3] += 0.02   # 3.0  -> relative error 0.67%: larger in absolute terms, smaller against its allowance
    v = compare("out", REF, array(got), TOL)
    assert v.message.splitlines()[0] == "out (3, 4): 2/12 elements wrong (16.7%)"
    assert v.message.splitlines()[1].startswith("  worst at (0, 0): yours 0.26, reference 0.25, abs. error 0.01, ")


def test_nan_where_the_reference_is_finite() -> None:
    got = REF.copy()
    got[2, 0] = np.nan
    v = compare("out", REF, array(got), TOL)
    assert not v.ok
    assert v.message == (
        "out (3, 4): 1/12 elements wrong (8.33%)\n"
        f"  worst at (2, 0): yours nan, reference 2.25, abs. error inf, rel. error inf {ALLOWED}\n"
        "  hint: your result has NaN or inf where the reference is finite: an overflow (exp of a large number?) "
        "or 0/0"
    )
    assert (v.details["got"], v.details["abs_error"]) == ("nan", "inf")


def test_inf_where_the_reference_is_finite_gets_the_overflow_hint() -> None:
    got = REF.copy()
    got[0, 1] = np.inf
    v = compare("out", REF, array(got), TOL)
    assert v.message.splitlines()[1] == f"  worst at (0, 1): yours inf, reference 0.5, abs. error inf, rel. error inf {ALLOWED}"
    assert v.details["hint"].startswith("your result has NaN or inf where the reference is finite")


def test_plus_inf_equals_plus_inf() -> None:
    ref = REF.copy()
    ref[0, 0] = np.inf
    ref[1, 1] = -np.inf
    v = compare("out", ref, array(ref.copy()), TOL)
    assert v.ok
    assert v.message == "out (3, 4): all 12 elements match"


@pytest.mark.parametrize("wrong", [-np.inf, np.nan, 1e300, 0.0], ids=["-inf", "nan", "huge", "zero"])
def test_anything_but_the_same_infinity_fails_where_the_reference_is_infinite(wrong: float) -> None:
    ref = REF.copy()
    ref[0, 0] = np.inf
    got = ref.copy()
    got[0, 0] = wrong
    v = compare("out", ref, array(got), TOL)
    assert not v.ok
    assert v.message.splitlines() == [
        "out (3, 4): 1/12 elements wrong (8.33%)",
        f"  worst at (0, 0): yours {wrong:.6g}, reference inf, abs. error inf, rel. error inf {ALLOWED}",
    ]


# --------------------------------------------------------------------------- cause hints


def _hint(label: str, ref: np.ndarray, got: np.ndarray, context: dict[str, tuple[int, str]] | None = None,
          clues: Clues | None = None) -> str:
    v = compare(label, ref, array(got), TOL, context=context, clues=clues)
    assert not v.ok
    lines = v.message.splitlines()
    assert v.details["hint"] == (lines[2].removeprefix("  hint: ") if len(lines) == 3 else "")
    return v.details["hint"]


LOSS_GRAD = np.linspace(-1.0, 2.0, 12).reshape(4, 3)  # batch of N = 4 rows, one zero entry


def test_hint_sign_flip() -> None:
    v = compare("dx", REF, array(-REF), TOL)
    assert v.message == (
        "dx (3, 4): 12/12 elements wrong (100%)\n"
        f"  worst at (2, 3): yours -3, reference 3, abs. error 6, rel. error 2 {ALLOWED}\n"
        "  hint: the sign of dx is flipped"
    )


def test_hint_transposed_square_matrix() -> None:
    ref = np.arange(1.0, 10.0).reshape(3, 3)
    assert _hint("dW", ref, ref.T.copy()) == "your dW looks like the reference transposed"


def test_hint_factor_n_is_the_batch_size() -> None:
    v = compare("dpred", LOSS_GRAD, array(LOSS_GRAD * 4), TOL, context=BATCH)
    assert v.message == (
        "dpred (4, 3): 12/12 elements wrong (100%)\n"
        f"  worst at (3, 2): yours 8, reference 2, abs. error 6, rel. error 3 {ALLOWED}\n"
        "  hint: off by a factor of N = 4 (batch size): a missing 1/N, or a sum where a mean belongs?"
    )


def test_hint_factor_one_over_n() -> None:
    assert _hint("dpred", LOSS_GRAD, LOSS_GRAD / 4, BATCH) == \
        "off by a factor of 1/N, N = 4 (batch size): an extra 1/N, or a mean where a sum belongs?"


def test_hint_factor_two_only_where_a_square_is_involved() -> None:
    square = Clues(family="mse_loss")
    assert _hint("dpred", LOSS_GRAD, LOSS_GRAD * 2, BATCH, square) == \
        "off by a constant factor of 2 (a factor 2 from the derivative of a square?)"
    assert _hint("dpred", LOSS_GRAD, LOSS_GRAD * 0.5, BATCH, square) == \
        "off by a constant factor of 0.5 (a factor 2 from the derivative of a square?)"
    # Dropout's 1 - p = 0.5 and an L1 loss have no square: the factor is said, the guess is not
    assert _hint("dpred", LOSS_GRAD, LOSS_GRAD * 2, BATCH, Clues(family="l1_loss")) == "off by a constant factor of 2"


def test_a_factor_equal_to_a_hyper_parameter_is_named() -> None:
    huber = Clues(family="huber_loss", hyper={"delta": 2.0, "reduction": "mean"})
    assert _hint("dpred", LOSS_GRAD, LOSS_GRAD * 0.5, BATCH, huber) == \
        "off by a constant factor of 0.5 = 1/delta: is a factor delta missing?"


def test_hint_other_constant_factor() -> None:
    assert _hint("dpred", LOSS_GRAD, LOSS_GRAD * 3, BATCH) == "off by a constant factor of 3"


def test_factor_n_without_context_is_only_a_constant_factor() -> None:
    assert _hint("dpred", LOSS_GRAD, LOSS_GRAD * 4) == "off by a constant factor of 4"


def test_hint_every_row_equals_the_first() -> None:
    got = np.broadcast_to(LOSS_GRAD[:1], LOSS_GRAD.shape).copy()
    assert _hint("out", LOSS_GRAD, got) == "every row equals the first one: is something taken from sample 0 only?"


def test_no_hint_for_random_noise() -> None:
    rng = np.random.default_rng(0)
    got = LOSS_GRAD + rng.normal(size=LOSS_GRAD.shape)
    v = compare("out", LOSS_GRAD, array(got), TOL, context=BATCH)
    assert not v.ok
    assert len(v.message.splitlines()) == 2
    assert "hint" not in v.message
    assert v.details["hint"] == ""


def test_no_hint_when_the_reference_is_all_zeros() -> None:
    zeros = np.zeros((3, 4))
    v = compare("dx", zeros, array(np.ones((3, 4))), TOL)
    assert v.message == ("dx (3, 4): 12/12 elements wrong (100%)\n"
                         f"  worst at (0, 0): yours 1, reference 0, abs. error 1, rel. error inf {ALLOWED}")


def test_a_rule_that_cannot_apply_gives_no_hint_and_never_breaks_grading() -> None:
    """One-element results (clip_grad_norm's norm as a 1-vector), clues whose arrays do not fit the result:
    the verdict stands, with a hint only where one applies."""
    v = compare("out", np.array([0.25]), array(np.array([0.5])), TOL)
    assert not v.ok and v.details["hint"] == "yours / reference = 2, yours - reference = 0.25"
    odd = Clues(family="batch_norm1d", hyper={"train": True}, arrays={"x": np.ones((3,)), "running_mean": np.ones(2)})
    v = compare("running_mean", np.ones(4), array(np.zeros(4)), TOL, clues=odd)
    assert not v.ok and "all zeros" in v.details["hint"]
