"""The ``stochastic`` check: layers that draw random numbers in training (Dropout, RReLU).

There is no deterministic reference, so the check reads the random factor the learner's forward used,
s = y / x element by element (inputs are kept away from 0), and holds it to the law of the layer:
- the factors take only the allowed values (dropout: 0 or 1/(1-p); rrelu: 1 where x > 0, a slope in
  [lower, upper] where x < 0);
- their distribution fits the law (the keep rate is binomial; rrelu slopes are uniform), with a false-
  alarm probability below 1e-6 per test;
- backward applies the same factors (dx = dout * s): a new mask drawn in backward is caught;
- a second forward call draws new factors.
The law is chosen by the exercise's reference name.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Iterator

import numpy as np

from ..judge.compare import compare_arrays, fmt
from ..kinds import plans
from ..model.course import CheckSpec, Tolerance
from ..model.results import FAIL, PASS, CaseResult
from ..model.values import Value
from . import Context, failed_case, register

Z = 5.5
"""Two-sided z bound: P(|N(0,1)| > 5.5) = 3.8e-8."""
KS_ALPHA = 1e-7


def _ks_bound(n: int) -> float:
    """Critical Kolmogorov-Smirnov distance for n samples at KS_ALPHA (asymptotic, conservative for n > 100)."""
    return math.sqrt(-math.log(KS_ALPHA / 2) / (2 * n))


def _dropout(x: np.ndarray, s: np.ndarray, hyper: dict[str, Any]) -> list[tuple[str, bool, str]]:
    p = float(hyper.get("p", 0.5))
    keep_scale = 1.0 / (1.0 - p)
    allowed = np.isclose(s, 0.0, atol=1e-12) | np.isclose(s, keep_scale, rtol=1e-9)
    kept = int(np.sum(np.isclose(s, keep_scale, rtol=1e-9)))
    n = s.size
    results = []
    odd = s[~allowed]
    nonzero = s[~np.isclose(s, 0.0, atol=1e-12)]
    convention = ""
    if odd.size and nonzero.size and np.allclose(nonzero, 1.0, rtol=1e-9):
        convention = ("\n  hint: the kept elements are not scaled: that is non-inverted dropout (the original paper, "
                      "some textbooks, which scale by 1 - p at test time instead); torch scales them by 1/(1-p) in "
                      "training and leaves evaluation alone")
    elif odd.size and nonzero.size and 0 < p < 1 and np.allclose(nonzero, 1.0 / p, rtol=1e-9):
        convention = (f"\n  hint: the kept elements are scaled by 1/p = {fmt(1 / p)}: p is used as the KEEP probability "
                      "(some textbooks); torch's p is the probability to DROP an element")
    results.append(("factors are 0 or 1/(1-p)", not odd.size,
                    f"every element is dropped (0) or kept and scaled by 1/(1-p) = {fmt(keep_scale)}"
                    if not odd.size else
                    f"{odd.size}/{n} elements were scaled by other factors, e.g. {fmt(float(odd.flat[0]))}; "
                    f"inverted dropout keeps an element with probability 1-p and scales it by 1/(1-p) = "
                    f"{fmt(keep_scale)}, so that the expected output equals the input" + convention))
    mean, sd = n * (1 - p), math.sqrt(n * p * (1 - p))
    z = (kept - mean) / sd if sd else 0.0
    kept_any = int(nonzero.size)  # kept whatever the factor
    z_any = (kept_any - mean) / sd if sd else 0.0
    z_keep = (kept_any - n * p) / sd if sd else 0.0
    if abs(z_any) <= Z:
        rate_hint = "\n  hint: as many elements are kept as expected, but not scaled by 1/(1-p): see the factors"
    elif abs(p - 0.5) > 1e-9 and abs(z_keep) <= Z:
        rate_hint = ("\n  hint: you keep an element with probability p: p is used as the KEEP probability (some "
                     "textbooks); torch's p is the probability to DROP an element")
    else:
        rate_hint = "\n  hint: is p the probability to DROP an element, as in torch?"
    results.append(("keep rate", abs(z) <= Z,
                    f"kept {kept}/{n} = {kept / n:.4f}, expected 1-p = {1 - p:g} (z = {z:.2f}, allowed |z| <= {Z})"
                    + ("" if abs(z) <= Z else rate_hint)))
    return results


def _rrelu(x: np.ndarray, s: np.ndarray, hyper: dict[str, Any]) -> list[tuple[str, bool, str]]:
    lower, upper = float(hyper.get("lower", 1 / 8)), float(hyper.get("upper", 1 / 3))
    pos, neg = s[x > 0], s[x < 0]
    results = [("slope 1 where x > 0", bool(np.allclose(pos, 1.0, rtol=1e-9)),
                "positive inputs pass unchanged" if np.allclose(pos, 1.0, rtol=1e-9) else
                "positive inputs were scaled: only negative inputs get a random slope")]
    inside = (neg >= lower - 1e-12) & (neg <= upper + 1e-12)
    results.append(("slopes in [lower, upper]", bool(inside.all()),
                    f"all {neg.size} slopes lie in [{fmt(lower)}, {fmt(upper)}]" if inside.all() else
                    f"{int((~inside).sum())}/{neg.size} slopes lie outside [{fmt(lower)}, {fmt(upper)}], "
                    f"e.g. {fmt(float(neg[~inside][0]))}"))
    u = np.sort((neg - lower) / (upper - lower))
    n = u.size
    d = float(np.max(np.maximum(np.arange(1, n + 1) / n - u, u - np.arange(n) / n))) if n else 0.0
    bound = _ks_bound(max(n, 1))
    results.append(("slopes uniform", d <= bound,
                    f"Kolmogorov-Smirnov distance to U({fmt(lower)}, {fmt(upper)}) is {d:.4f} (allowed {bound:.4f})"
                    + ("" if d <= bound else "\n  hint: draw one slope per element, uniformly: "
                       "rng.uniform(lower, upper, size=x.shape)")))
    return results


LAWS: dict[str, Callable[[np.ndarray, np.ndarray, dict[str, Any]], list[tuple[str, bool, str]]]] = {
    "dropout": _dropout,
    "rrelu": _rrelu,
}


def _mask_hint(s: np.ndarray, dx: np.ndarray, dout: np.ndarray) -> str:
    """Why backward's factors differ: none applied, the same mask with another scale, or new draws."""
    if np.allclose(dx, dout, rtol=1e-12, atol=0):
        return ("backward returns dout unchanged: multiply it by the factors forward used (dx = dout * the mask or "
                "slopes kept from forward)")
    if np.any(s == 0) and np.array_equal(s == 0, dx == 0):
        return ("backward zeroes the same elements as forward, but scales the kept ones differently: apply "
                "forward's factors exactly (dx = dout * mask / (1 - p))")
    return ("keep the mask (or the slopes) drawn in forward and apply the same in backward; never draw again "
            "there")


def _array(v: Value | None) -> np.ndarray | None:
    if isinstance(v, Value) and v.kind == "array" and len(v.arrays) == 1 and v.arrays[0].dtype == np.float64:
        return v.arrays[0]
    return None


@register("stochastic")
def run(ctx: Context, spec: CheckSpec) -> Iterator[CaseResult]:
    ex = ctx.ex
    law = LAWS[ex.reference]
    for index in range(len(spec.cases)):
        ctx.at("stochastic", index)
        arrays = ctx.arrays("stochastic", index)
        hyper = ctx.hyper("stochastic", index)
        x = arrays["x"]
        dout = ctx.douts({"out": x.shape}, "stochastic", index) or {}
        plan = plans.standard(ex, arrays, hyper, dout)
        second = plan.push(plans.forward(ex, 0, ["x"]))
        reply = ctx.run(plan.steps, plan.variables)
        prefix = f"case {index} · "
        try:
            y = plan.read(reply, "out")
            try:
                dx: Value | None = plan.read(reply, "dx")
            except plans.Unusable:  # not an array: said below, with the shapes expected
                dx = None
        except plans.LearnerFailed as e:
            yield failed_case(prefix + "forward and backward", e.phase, e.failure)
        else:
            y_arr, dx_arr = _array(y), _array(dx)
            if y_arr is None or dx_arr is None or y_arr.shape != x.shape or dx_arr.shape != x.shape:
                yield CaseResult(prefix + "forward and backward", FAIL,
                                 f"forward and backward must return float64 arrays of shape {x.shape}")
                continue
            s = y_arr / x
            for rule, ok, message in law(x, s, hyper):
                yield CaseResult(prefix + rule, PASS if ok else FAIL, message, {"rule": rule})
            verdict = compare_arrays("dx", dout["dout"] * s, dx_arr, Tolerance(1e-9, 1e-12),
                                     against="dout * (the factors forward used)")
            message = verdict.message if verdict.ok else \
                f"{verdict.message}\n  hint: {_mask_hint(s, dx_arr, dout['dout'])}"
            yield CaseResult(prefix + "backward reuses forward's factors", PASS if verdict.ok else FAIL, message,
                             verdict.details)
            if reply.failure is not None and reply.failure.step <= second:
                yield failed_case(prefix + "fresh randomness per call", "forward", reply.failure)
                continue
            y2 = _array(reply.values[second])
            fresh = y2 is not None and y2.shape == y_arr.shape and not np.array_equal(y2, y_arr)
            yield CaseResult(prefix + "fresh randomness per call", PASS if fresh else FAIL,
                             "a second forward drew new factors" if fresh else
                             "a second forward call gave the same result: draw new random numbers at every "
                             "forward in training", {"rule": "fresh"})
