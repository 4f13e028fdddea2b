"""Cause hints: recognise the pattern of a wrong result and name the likely mistake.

Two kinds of rules, both tested against the reference only when the learner's values are already wrong:

* generic ones (sign flipped, transposed, off by a constant factor such as a missing 1/N, two results
  exchanged, all zeros, NaN from overflow), and
* a table of known causes per exercise family (:data:`FAMILY_RULES`, keyed by the twin's name): the
  conventions of popular textbooks that differ from torch's (BatchNorm's momentum as the weight of the old
  value, LSTM gate orders, non-inverted dropout), and classic slips (softmax's diagonal-only Jacobian).

A hint is offered only when the learner's values fit the pattern to within the comparison's own tolerance,
so it is evidence, not a guess; a sentence that needs a square (the factor 2 of a derivative) or an
element-wise layer (the region of x) is said only where one is involved.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..model.course import Tolerance

SQUARE_FAMILIES = frozenset({"mse_loss", "msle_loss", "squared_hinge_loss", "smooth_l1_loss", "huber_loss",
                             "l2_penalty", "l2_penalty_grad"})
"""Twins with a square in their formula: only there is a factor 2 'from the derivative of a square'."""
ELEMENT_WISE_FAMILIES = frozenset({"sigmoid", "tanh", "hardtanh", "relu", "leaky_relu", "elu", "prelu", "dropout",
                                   "rrelu"})
"""Twins whose output element i depends on input element i only: only there does 'wrong for the largest x'
describe a branch of the formula (max-pooling's largest inputs are a matter of windows, not of x)."""


@dataclass(frozen=True)
class Clues:
    """What a family rule may read besides the two arrays: the case as the reference saw it."""

    family: str = ""
    """The exercise's twin name (``batch_norm1d``): picks the family's rules."""
    hyper: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    """The case's inputs, parameters and buffers as passed in (before any call)."""
    expected: dict[str, np.ndarray] = field(default_factory=dict)
    """Every reference quantity of the case, by its label (``out``, ``dx``, ``dgamma``, ``running_var``)."""
    douts: dict[str, np.ndarray] = field(default_factory=dict)
    """The upstream gradients the case fed to backward (``dout``, ``dh_next``)."""
    got: dict[str, np.ndarray] = field(default_factory=dict)
    """The learner's arrays of the case that could be read, by label (for rules about several at once)."""


def _all_unchanged(c: Clues) -> bool:
    """Every argument the function must change (``<name> after``) came back as it went in."""
    after = [label for label in c.expected if label.endswith(" after")]
    return bool(after) and all(
        label in c.got and label[:-6] in c.arrays and c.got[label].shape == c.arrays[label[:-6]].shape
        and np.array_equal(c.got[label], c.arrays[label[:-6]]) for label in after)


def _close(a: np.ndarray, b: np.ndarray, tol: Tolerance) -> bool:
    return bool(a.shape == b.shape and np.all(np.abs(a - b) <= 10 * (tol.atol + tol.rtol * np.abs(b))))


def _factor_hint(factor: float, context: dict[str, tuple[int, str]], clues: Clues) -> str:
    text = f"off by a constant factor of {factor:.6g}"
    for symbol, (n, meaning) in context.items():
        if n < 2:
            continue
        if abs(factor - n) < 1e-6 * n:
            return f"off by a factor of N = {n} ({meaning}): a missing 1/N, or a sum where a mean belongs?"
        if abs(factor * n - 1) < 1e-6:
            return f"off by a factor of 1/N, N = {n} ({meaning}): an extra 1/N, or a mean where a sum belongs?"
    for name, value in clues.hyper.items():  # a hyper-parameter multiplied in twice, or left out
        if not isinstance(value, float) or value in (0.0, 1.0, -1.0):
            continue  # integers (stride, n, axis) are small counts that a factor 2 meets by chance
        if abs(factor - value) < 1e-6 * abs(value):
            return f"{text} = {name}: is {name} multiplied in once too often?"
        if abs(factor * value - 1) < 1e-6:
            return f"{text} = 1/{name}: is a factor {name} missing?"
    if clues.family in SQUARE_FAMILIES and (abs(factor - 2) < 1e-9 or abs(factor - 0.5) < 1e-9):
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


# ---------------------------------------------------------------------------------------------------------
# Known causes per family: each rule rebuilds what the named mistake would give and compares.
# ---------------------------------------------------------------------------------------------------------

Rule = Callable[[str, np.ndarray, np.ndarray, Tolerance, Clues], str]


def _batch_norm(label: str, expected: np.ndarray, got: np.ndarray, tol: Tolerance, c: Clues) -> str:
    if label not in ("running_mean", "running_var") or "x" not in c.arrays or not c.hyper.get("train", True):
        return ""
    x, m = c.arrays["x"], float(c.hyper.get("momentum", 0.1))
    old = c.arrays.get(label)
    if old is None or x.shape[0] < 2:
        return ""
    n = x.shape[0]
    batch = x.mean(axis=0) if label == "running_mean" else x.var(axis=0) * n / (n - 1)
    if _close(got, m * old + (1 - m) * batch, tol):
        return (f"you weight the old running value by momentum = {m:g} (running = momentum * running + "
                "(1 - momentum) * batch, as some textbooks do); torch's momentum is the weight of the NEW batch "
                "statistic: running = (1 - momentum) * running + momentum * batch")
    if label == "running_var":
        biased = x.var(axis=0)
        for a in ((1 - m) * old + m * biased, m * old + (1 - m) * biased):
            if _close(got, a, tol):
                return ("your running variance uses the biased batch variance (divided by N); torch updates it with "
                        "the unbiased one, var * N / (N - 1), while normalising with the biased one")
    return ""


def _lstm_gates(x: np.ndarray, h: np.ndarray, c: np.ndarray, a: np.ndarray, order: str) -> tuple[np.ndarray, np.ndarray]:
    blocks = dict(zip(order, np.split(a, 4, axis=1)))
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731 - inputs are small here
    i, f, g, o = sig(blocks["i"]), sig(blocks["f"]), np.tanh(blocks["g"]), sig(blocks["o"])
    c_next = f * c + i * g
    return o * np.tanh(c_next), c_next


def _lstm(label: str, expected: np.ndarray, got: np.ndarray, tol: Tolerance, c: Clues) -> str:
    if label not in ("h_next", "c_next") or not {"x", "h", "c", "Wx", "Wh", "b"} <= set(c.arrays):
        return ""
    k = c.arrays
    a = k["x"] @ k["Wx"] + k["h"] @ k["Wh"] + k["b"]
    if a.shape[1] % 4:
        return ""
    for order in ("ifog", "fgio", "fiog", "igfo"):
        h_next, c_next = _lstm_gates(k["x"], k["h"], k["c"], a, order)
        if _close(got, h_next if label == "h_next" else c_next, tol):
            gates = ", ".join(order)
            return (f"your gates are read in the order {gates} (a textbook convention); torch's LSTM cuts the "
                    "4H columns in the order i, f, g, o (input, forget, candidate, output)")
    return ""


def _softmax(label: str, expected: np.ndarray, got: np.ndarray, tol: Tolerance, c: Clues) -> str:
    if label != "dx" or "out" not in c.expected or "dout" not in c.douts:
        return ""
    y, dout = c.expected["out"], c.douts["dout"]
    if _close(got, dout * y * (1 - y), tol):
        return ("dx = dout * y * (1 - y) keeps only the diagonal of softmax's Jacobian; every output depends on "
                "every input of its row: dx = y * (dout - sum(dout * y, axis, keepdims=True))")
    return ""


def _dropout(label: str, expected: np.ndarray, got: np.ndarray, tol: Tolerance, c: Clues) -> str:
    if c.hyper.get("train", True) or "p" not in c.hyper:
        return ""
    p = float(c.hyper["p"])
    if label in ("out", "dx") and 0 < p < 1 and _close(got, (1 - p) * expected, tol):
        return (f"you scale by 1 - p = {1 - p:g} in evaluation: that is non-inverted dropout (the original paper, "
                "some textbooks); torch scales the kept elements by 1/(1 - p) in training, so evaluation is the "
                "identity")
    if label in ("out", "dx") and 0 < p < 1 and _close(got, p * expected, tol):
        return (f"you scale by p = {p:g} in evaluation: p is used as the KEEP probability (some textbooks) in "
                "non-inverted dropout; torch's p is the probability to DROP, and evaluation is the identity")
    return ""


FAMILY_RULES: dict[str, tuple[Rule, ...]] = {
    "batch_norm1d": (_batch_norm,),
    "lstm_cell": (_lstm,),
    "softmax": (_softmax,),
    "dropout": (_dropout,),
}
"""Known causes of each exercise family (by twin name), tried before the generic rules."""


def _swapped(label: str, got: np.ndarray, tol: Tolerance, c: Clues) -> str:
    for other, value in c.expected.items():
        if other != label and value.shape == got.shape and np.any(value) and _close(got, value, tol):
            return f"your {label} equals the reference's {other}: are the two exchanged?"
    return ""


def _scalar_hint(expected: np.ndarray, got: np.ndarray) -> str:
    e, g = float(expected.ravel()[0]), float(got.ravel()[0])
    if not (np.isfinite(e) and np.isfinite(g)) or e == 0:
        return ""
    return f"yours / reference = {g / e:.6g}, yours - reference = {g - e:.6g}"


def hint_for(label: str, expected: np.ndarray, got: np.ndarray, tol: Tolerance,
             context: dict[str, tuple[int, str]], inputs: np.ndarray | None = None,
             clues: Clues | None = None) -> str:
    """The first rule that explains ``got`` in terms of ``expected``, or an empty string.

    ``inputs``: the layer's input when the layer is element-wise, for region rules; ``clues``: the case
    (family, hyper-parameters, inputs, every reference quantity) for the family's known causes."""
    clues = clues or Clues()
    finite = np.isfinite(expected)
    if np.any(~np.isfinite(got) & finite):
        return "your result has NaN or inf where the reference is finite: an overflow (exp of a large number?) or 0/0"
    if not np.any(expected):
        return ""
    if label.endswith(" after") and label[:-6] in clues.arrays and _all_unchanged(clues):
        return (f"{label[:-6]} is unchanged after the call, as is every argument the function must change: "
                f"change the caller's arrays in place ({label[:-6]} *= ..., {label[:-6]}[...] = ...); rebinding a "
                "name or returning a new array leaves them as they were")
    for rule in FAMILY_RULES.get(clues.family, ()):
        hint = rule(label, expected, got, tol, clues)
        if hint:
            return hint
    if expected.size > 1 and not np.any(got):
        return (f"your {label} is all zeros: is it never written (a new array bound to a name instead of "
                "filled in place, a missing +=, a return before the computation)?")
    swapped = _swapped(label, got, tol, clues)
    if swapped:
        return swapped
    if _close(-got, expected, tol):
        return f"the sign of {label} is flipped"
    if got.ndim == 2 and got.shape[0] == got.shape[1] and _close(got.T, expected, tol):
        return f"your {label} looks like the reference transposed"
    e, g = expected.ravel(), got.ravel()
    factor = float(g @ e / (e @ e))
    if factor != 0 and abs(factor - 1) > 1e-3 and _close(got, factor * expected, tol):
        hint = _factor_hint(factor, context, clues)
        # any single number is "a constant factor" of another: say so only when the factor is a known size
        if expected.size > 1 or "=" in hint:
            return hint
    for axis in range(got.ndim):
        for shift in (1, -1):
            if got.shape[axis] > 2 and _close(np.roll(got, shift, axis=axis), expected, tol):
                return f"your {label} is the reference shifted by {-shift:+d} along axis {axis}: an off-by-one index?"
    if clues.family in ELEMENT_WISE_FAMILIES and inputs is not None and inputs.shape == got.shape \
            and np.all(np.isfinite(got)):
        region = _region_hint(expected, got, tol, inputs)
        if region:
            return region
    if got.ndim >= 1 and expected.ndim >= 1 and got.shape[0] > 1:
        row = expected.reshape(expected.shape[0], -1)
        if _close(got.reshape(row.shape), np.broadcast_to(row[:1], row.shape), tol) and not _close(row, row[:1], tol):
            return "every row equals the first one: is something taken from sample 0 only?"
    if expected.size == 1:
        return _scalar_hint(expected, got)
    return ""
