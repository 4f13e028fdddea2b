"""Cause hints: recognise the pattern of a wrong result and name the likely mistake.

Each rule tests one classic error against the reference (sign flipped, transposed, off by a constant
factor such as a missing 1/N, NaN from overflow). A hint is offered only when the learner's values
fit the pattern to within the comparison's own tolerance, so it is evidence, not a guess.
"""
from __future__ import annotations

import numpy as np

from ..model.course import Tolerance


def _close(a: np.ndarray, b: np.ndarray, tol: Tolerance) -> bool:
    return bool(np.all(np.abs(a - b) <= 10 * (tol.atol + tol.rtol * np.abs(b))))


def _factor_hint(factor: float, context: dict[str, tuple[int, str]]) -> str:
    text = f"off by a constant factor of {factor:.6g}"
    for symbol, (n, meaning) in context.items():
        if n < 2:
            continue
        if abs(factor - n) < 1e-6 * n:
            return f"off by a factor of N = {n} ({meaning}): a missing 1/N, or a sum where a mean belongs?"
        if abs(factor * n - 1) < 1e-6:
            return f"off by a factor of 1/N, N = {n} ({meaning}): an extra 1/N, or a mean where a sum belongs?"
    if abs(factor - 2) < 1e-9 or abs(factor - 0.5) < 1e-9:
        return f"{text} (a factor 2 from the derivative of a square?)"
    return text


def _region_hint(expected: np.ndarray, got: np.ndarray, tol: Tolerance, x: np.ndarray) -> str:
    """Where the wrong elements sit on the input's axis: only the smallest, largest, or largest-|x| inputs."""
    bad = ~(np.abs(got - expected) <= tol.atol + tol.rtol * np.abs(expected))
    if not bad.any() or bad.all():
        return ""
    xb, xg = x[bad], x[~bad]
    if xb.max() < xg.min():
        return f"wrong only for the smallest inputs (x <= {xb.max():.3g}; right for x >= {xg.min():.3g}): check the branch for negative or low x"
    if xb.min() > xg.max():
        return f"wrong only for the largest inputs (x >= {xb.min():.3g}; right for x <= {xg.max():.3g}): check the branch for high x"
    if np.abs(xb).min() > np.abs(xg).max():
        return f"wrong only at the saturated ends (|x| >= {np.abs(xb).min():.3g}): an overflow, or a clip for large |x|?"
    return ""


def hint_for(label: str, expected: np.ndarray, got: np.ndarray, tol: Tolerance,
             context: dict[str, tuple[int, str]], inputs: np.ndarray | None = None) -> str:
    """The first rule that explains ``got`` in terms of ``expected``, or an empty string.

    ``inputs``: the layer's input when it has the result's shape (element-wise layers), for region rules."""
    finite = np.isfinite(expected)
    if np.any(~np.isfinite(got) & finite):
        return "your result has NaN or inf where the reference is finite: an overflow (exp of a large number?) or 0/0"
    if not np.any(expected):
        return ""
    if _close(-got, expected, tol):
        return f"the sign of {label} is flipped"
    if got.ndim == 2 and got.shape[0] == got.shape[1] and _close(got.T, expected, tol):
        return f"your {label} looks like the reference transposed"
    e, g = expected.ravel(), got.ravel()
    factor = float(g @ e / (e @ e))
    if factor != 0 and abs(factor - 1) > 1e-3 and _close(got, factor * expected, tol):
        hint = _factor_hint(factor, context)
        # any single number is "a constant factor" of another: say so only when the factor is a known size
        if expected.size > 1 or "N =" in hint or "1/N" in hint:
            return hint
    for axis in range(got.ndim):
        for shift in (1, -1):
            if got.shape[axis] > 2 and _close(np.roll(got, shift, axis=axis), expected, tol):
                return f"your {label} is the reference shifted by {-shift:+d} along axis {axis}: an off-by-one index?"
    if inputs is not None and inputs.shape == got.shape and np.all(np.isfinite(got)):
        region = _region_hint(expected, got, tol, inputs)
        if region:
            return region
    if got.ndim >= 1 and expected.ndim >= 1 and got.shape[0] > 1:
        row = expected.reshape(expected.shape[0], -1)
        if _close(got.reshape(row.shape), np.broadcast_to(row[:1], row.shape), tol) and not _close(row, row[:1], tol):
            return "every row equals the first one: is something taken from sample 0 only?"
    return ""
