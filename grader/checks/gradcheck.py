"""The ``gradcheck`` check: the learner's backward against central finite differences of the learner's
own forward.

Scoring uses one random direction per differentiable tensor T: with random upstream gradients v_k and a
random direction u, the directional derivative d/dt sum_k <v_k, f_k(T + t u)> from two forward calls must
equal <dT, u> from backward: two forwards per tensor, whatever its size. When that fails, the
element-wise version (two forwards per element) locates the wrong entries for the message. The parent
chooses u, v and eps and does all arithmetic; the child only returns forward values.
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from .. import kinds
from ..judge.compare import compare_arrays, fmt
from ..kinds import kind_of, plans
from ..kinds.inputs import rng_for
from ..model.course import CheckSpec, Tolerance
from ..model.results import FAIL, PASS, CaseResult
from ..model.values import Value
from . import Context, failed_case, judged, label, register

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


def _outputs(value: Value, n: int) -> list[np.ndarray] | str:
    """Forward's result as a list of n float arrays (one output: the value itself)."""
    if n == 1:
        arr = _as_array(value, "forward")
        return arr if isinstance(arr, str) else [arr]
    if value.kind != "list" or len(value.items) != n:
        return f"forward returned {value.type}, expected a tuple of {n} arrays"
    arrays = [_as_array(item, "forward") for item in value.items]
    bad = next((a for a in arrays if isinstance(a, str)), None)
    return bad if bad is not None else arrays  # type: ignore[return-value]


class Probe:
    """Forward calls of fresh instances at perturbed inputs, reduced to g = sum_k <v_k, f_k>."""

    def __init__(self, ctx: Context, arrays: dict[str, np.ndarray], hyper: dict[str, Any],
                 v: list[np.ndarray] | None):
        self.ctx, self.arrays, self.hyper, self.v = ctx, arrays, hyper, v
        self.kind = kind_of(ctx.ex)
        self.names = self.kind.inputs(ctx.ex, arrays)
        self.extra = self.kind.constructor_arrays(ctx.ex, arrays)
        self.rounded = False
        """Forward's values are all float32 numbers: finite differences see its rounding, not its slope."""

    def steps(self, tensor: str, suffixes: list[str], first: int) -> list[dict[str, Any]]:
        ex, steps = self.ctx.ex, []
        for s in suffixes:
            rename = {tensor: tensor + s}
            if not self.kind.constructed:
                steps.append(plans.forward(ex, 0, self.names, rename, self.hyper))
            else:
                steps += [plans.new(ex, self.hyper, rename, self.extra),
                          plans.forward(ex, first + len(steps), self.names, rename)]
        return steps

    def reduce(self, values: list[Value]) -> list[float] | str:
        stride = 2 if self.kind.constructed else 1  # (constructor,) forward per perturbed input
        n = len(self.ctx.ex.outputs)
        out = []
        for value in values[stride - 1 :: stride]:
            ys = _outputs(value, n)
            if isinstance(ys, str):
                return ys
            if self.v is None:
                out.append(float(sum(y.sum() for y in ys)))
                continue
            if [y.shape for y in ys] != [v.shape for v in self.v]:
                return "forward returned other shapes for a slightly perturbed input"
            out.append(float(sum(np.sum(y * v) for y, v in zip(ys, self.v))))
        return out


@register("gradcheck")
def run(ctx: Context, spec: CheckSpec) -> Iterator[CaseResult]:
    ex = ctx.ex
    for index in range(len(ex.cases)):
        ctx.at("case", index)
        arrays = ctx.arrays("case", index)
        hyper = ctx.hyper("case", index)
        tensors = kind_of(ex).differentiable(ex)
        cases = [f"case {index} · {label(t)}" for t in tensors]
        # 1. the learner's forward outputs, to size the upstream gradients v
        first = ctx.run([plans.new(ex, hyper, array_kwargs=kind_of(ex).constructor_arrays(ex, arrays)),
                         plans.forward(ex, 0, kind_of(ex).inputs(ex, arrays))], arrays)
        if first.failure is not None:
            for name in cases:
                yield failed_case(name, "forward" if first.failure.step else "constructor", first.failure)
            continue
        ys = _outputs(first.values[1], len(ex.outputs))
        if isinstance(ys, str):
            for name in cases:
                yield CaseResult(name, FAIL, f"cannot check gradients: {ys}")
            continue
        keys = kinds.output_keys(ex)
        douts = ctx.douts({k: y.shape for k, y in zip(keys, ys)}, "case", index) or {}
        v = [rng_for(ctx.seed, ex.id, "gradcheck-v", index, d).uniform(-1, 1, douts[d].shape) for d in douts] or None
        plan = plans.standard(ex, arrays, hyper, dict(zip(douts, v or [])))
        probe = Probe(ctx, arrays, hyper, v)
        probe.rounded = _float32_values(ys)
        directions, spans = {}, {}
        for t in tensors:
            u = rng_for(ctx.seed, ex.id, "gradcheck-u", index, t).uniform(-1, 1, arrays[t].shape)
            directions[t] = u
            plan.variables[t + "__p"] = arrays[t] + EPS * u
            plan.variables[t + "__m"] = arrays[t] - EPS * u
            start = len(plan.steps)
            plan.steps += probe.steps(t, ["__p", "__m"], start)
            spans[t] = (start, len(plan.steps))
        reply = ctx.run(plan.steps, plan.variables)
        scale = sum(float(np.sum(np.abs(y * vk))) for y, vk in zip(ys, v)) if v else abs(float(ys[0].sum()))
        for name, t in zip(cases, tensors):

            def one(name: str = name, t: str = t) -> CaseResult:
                try:
                    got: Value | str = plan.read(reply, plans.grad_key(t))
                except plans.Unusable as e:  # judged after the perturbed forwards, as a shape problem is
                    got = str(e)
                start, end = spans[t]
                if reply.failure is not None and reply.failure.step < end:
                    raise plans.LearnerFailed(reply.failure, "forward (perturbed input)")
                dt = got if isinstance(got, str) else _as_array(got, "backward")
                if isinstance(dt, str) or dt.shape != arrays[t].shape:
                    raise plans.Unusable(dt if isinstance(dt, str) else f"shape {dt.shape}, expected {arrays[t].shape}")
                g = probe.reduce(reply.values[start:end])
                if isinstance(g, str):
                    raise plans.Unusable(g)
                return _judge(ctx, name, t, dt, directions[t], (g[0] - g[1]) / (2 * EPS), scale, probe)

            yield judged(name, label(t), one)  # type: ignore[misc]


def _judge(ctx: Context, name: str, t: str, dt: np.ndarray, u: np.ndarray, numerical: float, scale: float,
           probe: Probe) -> CaseResult:
    analytic = float(np.sum(dt * u))
    allowed = RTOL * max(abs(numerical), abs(analytic)) + ROUNDOFF * scale + 1e-12
    err = abs(numerical - analytic)
    details = {"quantity": label(t), "numerical": numerical, "analytic": analytic, "abs_error": err,
               "allowed": allowed, "eps": EPS}
    if err <= allowed:
        return CaseResult(name, PASS, f"{label(t)}: backward agrees with finite differences", details)
    msg = (f"{label(t)}: your backward disagrees with finite differences of your own forward\n"
           f"  along a random direction u: backward gives <{label(t)}, u> = {fmt(analytic)}, "
           f"finite differences give {fmt(numerical)} (abs. error {fmt(err)}, allowed {fmt(allowed)}, eps {EPS:g})")
    if probe.arrays[t].size <= MAX_LOCATE:
        located = _locate(probe, t, dt, scale)
        if located:
            msg += "\n" + located.message
            details.update({k: v for k, v in located.details.items() if k != "quantity"})
    if probe.rounded:  # the located entries are rounding noise: the cause is the dtype, say only that
        msg = "\n".join(line for line in msg.splitlines() if not line.strip().startswith("hint:"))
        details["hint"] = FLOAT32_HINT
        msg += f"\n  hint: {FLOAT32_HINT}"
    return CaseResult(name, FAIL, msg, details)


FLOAT32_HINT = ("your forward's values are float32 numbers (about seven digits), though returned as float64: finite "
                "differences then measure float32 rounding, not your slope; compute in float64 throughout (look for "
                "np.float32 or astype)")


def _float32_values(ys: list[np.ndarray]) -> bool:
    """Every output value is exactly a float32 number, and not merely small integers or zeros."""
    values = np.concatenate([y.ravel() for y in ys]) if ys else np.zeros(0)
    if values.size < 4 or not np.all(np.isfinite(values)) or np.all(values == np.round(values)):
        return False
    with np.errstate(over="ignore"):
        return bool(np.array_equal(values.astype(np.float32).astype(np.float64), values))


def _locate(probe: Probe, t: str, dt: np.ndarray, scale: float):  # noqa: ANN202 - a Verdict or None
    """Element-wise finite differences of one tensor, compared with the learner's gradient."""
    base = probe.arrays[t]
    variables = dict(probe.arrays)
    suffixes = []
    for j in range(base.size):
        for sign, s in ((1, "__p"), (-1, "__m")):
            pert = base.copy()
            pert.flat[j] += sign * EPS
            variables[f"{t}{s}{j}"] = pert
            suffixes.append(f"{s}{j}")
    reply = probe.ctx.run(probe.steps(t, suffixes, 0), variables)
    if reply.failure is not None:
        return None
    g = probe.reduce(reply.values)
    if isinstance(g, str):
        return None
    numerical = ((np.array(g[0::2]) - np.array(g[1::2])) / (2 * EPS)).reshape(base.shape)
    tol = Tolerance(rtol=1e-5, atol=ROUNDOFF * max(scale, 1.0))
    verdict = compare_arrays(label(t), numerical, dt, tol, probe.ctx.sizes(probe.arrays), against="finite differences")
    if verdict.ok:
        return None
    verdict.message = "  element by element: " + verdict.message.replace("\n", "\n  ")
    return verdict
