"""Compare a learner's value with a reference: type, shape and dtype exactly first, then values.

``np.allclose`` alone would broadcast a scalar against an array and call NaN results "close" to
nothing in particular; here shape and dtype must match exactly, NaN and infinities are handled
explicitly, and the message names the worst element with expected, got, both errors and the tolerance.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..model.course import Tolerance
from ..model.values import Value
from .hints import Clues, hint_for


@dataclass
class Verdict:
    ok: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)


def number(x: Any) -> float | str:
    """A JSON-safe number: non-finite floats become the strings "nan", "inf", "-inf"."""
    x = complex(x).real if np.iscomplexobj(x) else float(x)
    return x if np.isfinite(x) else str(x)


MAX_KEPT = 1024
"""Largest array whose values a failing case keeps in its details (for plots drawn from the JSON alone)."""


def to_json_array(a: np.ndarray) -> dict[str, Any]:
    """An array as JSON: shape and flat values (8 significant digits; non-finite ones as strings)."""
    flat = [number(float(f"{x:.8g}")) for x in np.asarray(a, dtype=np.float64).ravel()]
    return {"shape": list(a.shape), "data": flat}


def from_json_array(d: dict[str, Any]) -> np.ndarray:
    return np.array([float(x) for x in d["data"]], dtype=np.float64).reshape(d["shape"])


def fmt(x: float) -> str:
    return f"{x:.6g}"


def _index(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()


def compare_arrays(label: str, expected: np.ndarray, got: np.ndarray, tol: Tolerance,
                   context: dict[str, tuple[int, str]] | None = None, against: str = "reference",
                   inputs: np.ndarray | None = None, clues: Clues | None = None) -> Verdict:
    """Element-wise comparison of two arrays of equal shape and dtype (checked by :func:`compare`)."""
    exp = expected.astype(np.float64)
    act = got.astype(np.float64)
    allowed = tol.atol + tol.rtol * np.abs(exp)
    allowed = np.where(np.isfinite(exp), allowed, 0.0)  # an infinite reference is matched only exactly
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(act - exp)
    same_inf = np.isinf(exp) & (act == exp)
    diff = np.where(same_inf, 0.0, np.where(np.isnan(diff), np.inf, diff))
    bad = ~(diff <= allowed)
    n_bad, n = int(bad.sum()), exp.size
    if n_bad == 0:
        return Verdict(True, f"{label} {tuple(exp.shape)}: all {n} elements match", {"n_bad": 0, "n": n})
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(bad, diff / allowed, -1.0)
    worst = _index(int(np.argmax(np.where(np.isnan(ratio), np.inf, ratio))), exp.shape)
    e, a = float(exp[worst]), float(act[worst])
    abs_err = abs(a - e) if np.isfinite(a) and np.isfinite(e) else float("inf")
    rel_err = abs_err / abs(e) if e != 0 and np.isfinite(e) else float("inf")
    where = f"at {worst}" if worst else "value"
    lines = [
        f"{label} {tuple(exp.shape)}: {n_bad}/{n} elements wrong ({100 * n_bad / n:.3g}%)",
        f"  worst {where}: yours {fmt(a)}, {against} {fmt(e)}, abs. error {fmt(abs_err)}, "
        f"rel. error {fmt(rel_err)} (allowed rtol {tol.rtol:g}, atol {tol.atol:g})",
    ]
    try:
        with np.errstate(all="ignore"):  # infinities in either array make the hint rules' arithmetic NaN
            hint = hint_for(label, exp, act, tol, context or {}, inputs, clues)
    except Exception:  # noqa: BLE001 - a hint is a courtesy: a rule that cannot apply here gives none
        hint = ""
    if hint:
        lines.append(f"  hint: {hint}")
    details = {
        "quantity": label, "n_bad": n_bad, "n": n, "worst_index": list(worst), "expected": number(e),
        "got": number(a), "abs_error": number(abs_err), "rel_error": number(rel_err),
        "rtol": tol.rtol, "atol": tol.atol, "hint": hint,
    }
    if exp.size <= MAX_KEPT:
        details["arrays"] = {"expected": to_json_array(exp), "got": to_json_array(act), "against": against}
    return Verdict(False, "\n".join(lines), details)


def _compare_integers(label: str, expected: np.ndarray, got: Value) -> Verdict:
    """Counts and shapes: an int, a tuple or list of ints, or an integer array, equal exactly."""
    if got.kind in ("array", "scalar") and len(got.arrays) == 1:
        act = got.arrays[0]
    elif got.kind == "list" and all(i.kind == "scalar" for i in got.items):
        act = np.array([i.arrays[0] for i in got.items])
    else:
        return Verdict(False, f"{label}: returned {got.type}, expected an int or a tuple of ints", {"quantity": label})
    if act.dtype.kind not in "iu" and not (act.dtype.kind == "f" and np.all(np.mod(act, 1) == 0)):
        return Verdict(False, f"{label}: returned values of dtype {act.dtype}, expected integers", {"quantity": label})
    act = act.astype(np.int64)
    if act.shape != expected.shape:
        return Verdict(False, f"{label}: returned {act.tolist()}, expected {expected.size} value(s) like "
                              f"{expected.tolist()}", {"quantity": label})
    if np.array_equal(act, expected):
        return Verdict(True, f"{label}: {expected.tolist()} exactly", {"quantity": label})
    return Verdict(False, f"{label}: yours {act.tolist()}, reference {expected.tolist()}",
                   {"quantity": label, "expected": expected.tolist(), "got": act.tolist()})


def compare(label: str, expected: np.ndarray, got: Value, tol: Tolerance, *, scalar: bool = False,
            context: dict[str, tuple[int, str]] | None = None, inputs: np.ndarray | None = None,
            clues: Clues | None = None) -> Verdict:
    """Judge one returned value against its reference.

    Args:
        label: the quantity's name in messages (``out``, ``dx``, ``dW``, ``loss``).
        expected: the reference array (float64).
        got: what the learner's code returned.
        tol: tolerance in force.
        scalar: the protocol asks for a Python float (loss values): a float or a 0-d array is accepted.
        context: sizes a hint may name, symbol -> (value, meaning), e.g. ``{"N": (4, "batch size")}``.
        inputs: the input of an element-wise layer, so a hint can say in which region of x it goes wrong.
        clues: the case (family, hyper-parameters, inputs, every reference quantity) for known causes.
    """
    wanted = "a float" if scalar else "a numpy array"
    if expected.dtype.kind in "iu":
        return _compare_integers(label, expected, got)
    if got.kind == "none":
        return Verdict(False, f"{label}: returned None, expected {wanted} (forgot a return statement?)",
                       {"quantity": label})
    if got.kind not in ("array", "scalar") or len(got.arrays) != 1:
        return Verdict(False, f"{label}: returned {got.type}, expected {wanted}", {"quantity": label})
    act = got.arrays[0]
    if scalar and act.shape != ():
        return Verdict(False, f"{label}: returned an array of shape {act.shape}, expected a float "
                              "(reduce to one number, e.g. with float(...))", {"quantity": label})
    if not scalar and got.kind != "array":
        return Verdict(False, f"{label}: returned {got.type}, expected a numpy array of shape "
                              f"{tuple(expected.shape)}", {"quantity": label})
    if act.shape != expected.shape:
        msg = f"{label}: shape {act.shape}, but the reference has shape {tuple(expected.shape)}"
        details = {"quantity": label, "shape": list(act.shape), "expected_shape": list(expected.shape)}
        if act.shape == expected.shape[::-1] and act.ndim == 2:
            msg += "\n  hint: your result is transposed"
        elif act.ndim >= 3 and act.shape == (expected.shape[1], expected.shape[0], *expected.shape[2:]):
            details["hint"] = ("your first two axes are exchanged: batch-first (N, T, ...) where the sequences here "
                               "are time-first (T, N, ...), torch's default (batch_first=False)?")
            msg += f"\n  hint: {details['hint']}"
        return Verdict(False, msg, details)
    if act.dtype != np.float64:
        return Verdict(False, f"{label}: dtype {act.dtype}, expected float64 (keep computing in float64; "
                              "integer or float32 arrays lose precision)",
                       {"quantity": label, "dtype": str(act.dtype)})
    return compare_arrays(label, expected, act, tol, context, inputs=inputs, clues=clues)
