"""The ``gradcheck`` check: the learner's backward against central finite differences of the learner's
own forward.

Scoring uses one random direction per differentiable tensor T: with a random upstream gradient v and a
random direction u, the directional derivative d/dt <v, f(T + t u)> from two forward calls must equal
<dT, u> from backward: two forwards per tensor, whatever its size. When that fails, the element-wise
version (two forwards per element) locates the wrong entries for the message. The parent chooses u, v
and eps and does all arithmetic; the child only returns forward values.
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from .. import plans
from ..compare import Value, compare_arrays, fmt
from ..course import CheckSpec, Tolerance
from ..inputs import rng_for
from ..results import FAIL, PASS, CaseResult
from . import Context, failed_case, label, register

EPS = 1e-6
RTOL = 1e-6
ROUNDOFF = 1e-7
"""Allowed error per unit of sum|v * f|: about 100 times the round-off of a central difference at EPS."""
MAX_LOCATE = 400
"""Largest tensor whose wrong entries are located element by element."""


def _as_array(value: Value, what: str) -> np.ndarray | str:
    if value.kind not in ("array", "scalar") or len(value.arrays) != 1:
        return f"{what} returned {value.type}, expected a numpy array"
    arr = value.arrays[0]
    if arr.dtype.kind not in "fiu":
        return f"{what} returned an array of dtype {arr.dtype}"
    return arr.astype(np.float64)


def _forward_steps(ctx: Context, names: list[str], hyper: dict[str, Any], tensor: str, suffixes: list[str],
                   first: int, array_kwargs: list[str]) -> list[dict[str, Any]]:
    """A fresh instance and one forward for each perturbed copy ``tensor + suffix``."""
    ex, steps = ctx.ex, []
    for s in suffixes:
        rename = {tensor: tensor + s}
        if ex.kind == "function":
            steps.append(plans.forward(ex, 0, names, rename, hyper))
        else:
            steps += [plans.new(ex, hyper, rename, array_kwargs),
                      plans.forward(ex, first + len(steps), names, rename)]
    return steps


def _scalarise(values: list[Value], v: np.ndarray | None, stride: int) -> list[float] | str:
    """<v, f> for each forward output in the reply (every ``stride``-th value, after the instance)."""
    out = []
    for value in values[stride - 1 :: stride]:
        arr = _as_array(value, "forward")
        if isinstance(arr, str):
            return arr
        if v is not None and arr.shape != v.shape:
            return f"forward returned shape {arr.shape} for a perturbed input, but {v.shape} before"
        out.append(float(np.sum(arr * v)) if v is not None else float(arr.sum()))
    return out


@register("gradcheck")
def run(ctx: Context, spec: CheckSpec) -> Iterator[CaseResult]:
    ex = ctx.ex
    for index in range(len(ex.cases)):
        arrays = ctx.arrays("case", index)
        hyper = ctx.hyper("case", index)
        names = plans.inputs_of(ex, arrays)
        tensors = plans.differentiable(ex)
        extra = plans.constructor_arrays(ex, arrays)
        cases = [f"case {index} · {label(t)}" for t in tensors]
        # 1. the learner's forward output, to size the upstream gradient v
        first = ctx.run([plans.new(ex, hyper, array_kwargs=extra), plans.forward(ex, 0, names)], arrays)
        if first.failure is not None:
            for name, t in zip(cases, tensors):
                yield failed_case(name, "forward" if first.failure.step else "constructor", first.failure)
            continue
        y = _as_array(first.values[1], "forward")
        if isinstance(y, str):
            for name in cases:
                yield CaseResult(name, FAIL, f"cannot check gradients: {y}")
            continue
        with_dout = plans.needs_dout(ex, y.shape)
        v = rng_for(ctx.seed, ex.id, "gradcheck-v", index).uniform(-1, 1, y.shape) if with_dout else None
        variables = dict(arrays)
        if v is not None:
            variables["dout"] = v
        steps = [plans.new(ex, hyper, array_kwargs=extra), plans.forward(ex, 0, names), plans.backward(0, with_dout)]
        if ex.params:
            steps.append(plans.grads(0))
        directions = {}
        for t in tensors:
            u = rng_for(ctx.seed, ex.id, "gradcheck-u", index, t).uniform(-1, 1, arrays[t].shape)
            directions[t] = u
            variables[t + "__p"] = arrays[t] + EPS * u
            variables[t + "__m"] = arrays[t] - EPS * u
            steps += _forward_steps(ctx, names, hyper, t, ["__p", "__m"], len(steps), extra)
        reply = ctx.run(steps, variables)
        scale = float(np.sum(np.abs(y * v))) if v is not None else abs(float(y.sum()))
        n_fixed = 4 if ex.params else 3
        for k, (name, t) in enumerate(zip(cases, tensors)):
            grad_step = 2 if k == 0 else 3
            if reply.failure is not None and reply.failure.step <= max(grad_step, n_fixed - 1):
                yield failed_case(name, "backward" if reply.failure.step >= 2 else "forward", reply.failure)
                continue
            if reply.failure is not None:
                yield failed_case(name, "forward (perturbed input)", reply.failure)
                continue
            grad = reply.values[2] if k == 0 else _grad_item(reply.values[3], k - 1)
            dt = _as_array(grad, "backward") if isinstance(grad, Value) else grad
            if isinstance(dt, str) or dt.shape != arrays[t].shape:
                shape = "" if isinstance(dt, str) else f"shape {dt.shape}, expected {arrays[t].shape}"
                yield CaseResult(name, FAIL, f"{label(t)}: {dt if isinstance(dt, str) else shape}",
                                 {"quantity": label(t)})
                continue
            fwd = reply.values[n_fixed + 4 * k : n_fixed + 4 * (k + 1)] if ex.kind != "function" else []
            g = _scalarise(list(fwd), v, 2)
            if isinstance(g, str):
                yield CaseResult(name, FAIL, f"{label(t)}: {g}", {"quantity": label(t)})
                continue
            numerical = (g[0] - g[1]) / (2 * EPS)
            analytic = float(np.sum(dt * directions[t]))
            allowed = RTOL * max(abs(numerical), abs(analytic)) + ROUNDOFF * scale + 1e-12
            err = abs(numerical - analytic)
            details = {"quantity": label(t), "numerical": numerical, "analytic": analytic, "abs_error": err,
                       "allowed": allowed, "eps": EPS}
            if err <= allowed:
                yield CaseResult(name, PASS, f"{label(t)}: backward agrees with finite differences", details)
                continue
            msg = (f"{label(t)}: your backward disagrees with finite differences of your own forward\n"
                   f"  along a random direction u: backward gives <{label(t)}, u> = {fmt(analytic)}, "
                   f"finite differences give {fmt(numerical)} (abs. error {fmt(err)}, allowed {fmt(allowed)}, "
                   f"eps {EPS:g})")
            located = _locate(ctx, arrays, hyper, names, t, dt, v, scale) if arrays[t].size <= MAX_LOCATE else None
            if located:
                msg += "\n" + located.message
                details.update({k2: v2 for k2, v2 in located.details.items() if k2 != "quantity"})
            yield CaseResult(name, FAIL, msg, details)


def _grad_item(value: Value, i: int) -> Value | str:
    if value.kind != "list" or i >= len(value.items):
        return f"self.grads is {value.type}, expected a list of numpy arrays"
    return value.item(i)


def _locate(ctx: Context, arrays: dict[str, np.ndarray], hyper: dict[str, Any], names: list[str], t: str,
            dt: np.ndarray, v: np.ndarray | None, scale: float):  # noqa: ANN202
    """Element-wise finite differences of one tensor, compared with the learner's gradient."""
    base = arrays[t]
    variables = dict(arrays)
    suffixes = []
    for j in range(base.size):
        for sign, s in ((1, "__p"), (-1, "__m")):
            pert = base.copy()
            pert.flat[j] += sign * EPS
            variables[f"{t}{s}{j}"] = pert
            suffixes.append(f"{s}{j}")
    steps = _forward_steps(ctx, names, hyper, t, suffixes, 0, plans.constructor_arrays(ctx.ex, arrays))
    reply = ctx.run(steps, variables)
    if reply.failure is not None:
        return None
    g = _scalarise(reply.values, v, 1 if ctx.ex.kind == "function" else 2)
    if isinstance(g, str):
        return None
    numerical = ((np.array(g[0::2]) - np.array(g[1::2])) / (2 * EPS)).reshape(base.shape)
    tol = Tolerance(rtol=1e-5, atol=ROUNDOFF * max(scale, 1.0))
    verdict = compare_arrays(label(t), numerical, dt, tol, ctx.sizes(arrays), against="finite differences")
    if verdict.ok:
        return None
    verdict.message = "  element by element: " + verdict.message.replace("\n", "\n  ")
    return verdict
