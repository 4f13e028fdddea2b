"""The ``contract`` check: the protocol every layer and loss must keep, each rule with its own hint.

Inputs (and dout, and the parameters) are not changed in place; a second call with the same input gives
the same result; parameter gradients are written into the existing ``grads`` arrays; results are
float64. Each rule is one case, so the learner sees exactly which promise was broken.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

from .. import plans
from ..compare import Value
from ..course import CheckSpec
from ..results import FAIL, PASS, CaseResult
from . import Context, failed_case, register


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=True))


def _array(value: Value) -> np.ndarray | None:
    return value.arrays[0] if value.kind in ("array", "scalar") and len(value.arrays) == 1 else None


@register("contract")
def run(ctx: Context, spec: CheckSpec) -> Iterator[CaseResult]:
    ex = ctx.ex
    if ex.kind == "function":
        yield from _function(ctx)
        return
    arrays = ctx.arrays("case", 0)
    hyper = ctx.hyper("case", 0)
    names = plans.inputs_of(ex, arrays)
    variables = dict(arrays)
    variables.update({n + "_again": arrays[n].copy() for n in names})
    out_shape = ctx.expected("case", 0)["out"].shape
    with_dout = plans.needs_dout(ex, out_shape)
    if with_dout:
        variables["dout"] = ctx.dout(out_shape, "case", 0)
    steps = [plans.new(ex, hyper, array_kwargs=plans.constructor_arrays(ex, arrays))]
    ids_before = _push(steps, plans.grad_ids(0)) if ex.params else -1
    first = _push(steps, plans.forward(ex, 0, names))
    second = _push(steps, plans.forward(ex, 0, names, {n: n + "_again" for n in names}))
    back = _push(steps, plans.backward(0, with_dout))
    watched = [*names, *(["dout"] if with_dout else []), *ex.params, *plans.constructor_arrays(ex, arrays)]
    state = {n: _push(steps, plans.var(n)) for n in watched}
    ids_after = _push(steps, plans.grad_ids(0)) if ex.params else -1
    reply = ctx.run(steps, variables)
    phase = {0: "constructor", ids_before: "constructor", first: "forward", second: "forward", back: "backward"}

    def failure_before(step: int) -> CaseResult | None:
        if reply.failure is not None and reply.failure.step <= step:
            return failed_case(name, phase.get(reply.failure.step, "reading the state"), reply.failure)
        return None

    name = "contract · same result on a second call"
    a, b = (None, None) if failure_before(second) else (_array(reply.values[first]), _array(reply.values[second]))
    if failure_before(second):
        yield failure_before(second)  # type: ignore[misc]
    elif a is not None and b is not None and _same(a, b):
        yield CaseResult(name, PASS, "forward is deterministic", {"rule": "deterministic"})
    else:
        yield CaseResult(name, FAIL, "forward gave a different result on a second call with the same input\n"
                         "  hint: do not keep state between calls (an accumulator, a running sum, random numbers "
                         "drawn without a seed)", {"rule": "deterministic"})
    for n, step in state.items():
        name = f"contract · {n} not modified"
        if failure_before(step):
            yield failure_before(step)  # type: ignore[misc]
            continue
        after = _array(reply.values[step])
        if after is not None and _same(after, variables[n]):
            yield CaseResult(name, PASS, f"{n} left unchanged", {"rule": f"{n} not modified"})
        else:
            who = "backward" if n == "dout" else "forward or backward"
            yield CaseResult(name, FAIL, f"{n} was changed in place by {who}\n  hint: compute into a new array "
                             f"(e.g. np.maximum(x, 0) or x * mask) instead of assigning into {n}",
                             {"rule": f"{n} not modified"})
    if ex.params:
        name = "contract · grads written in place"
        if failure_before(ids_after):
            yield failure_before(ids_after)  # type: ignore[misc]
            return
        before, after = _array(reply.values[ids_before]), _array(reply.values[ids_after])
        if before is not None and after is not None and _same(before, after):
            yield CaseResult(name, PASS, "grads keep their arrays", {"rule": "grads in place"})
        else:
            yield CaseResult(name, FAIL, "backward replaced the arrays in self.grads instead of writing into them\n"
                             "  hint: write self.grads[0][...] = dW, not self.grads[0] = dW (a model collects the "
                             "grads lists once)", {"rule": "grads in place"})


def _push(steps: list[dict[str, object]], step: dict[str, object]) -> int:
    """Append a step and return its index (the handle later steps and the reply use)."""
    steps.append(step)
    return len(steps) - 1


def _function(ctx: Context) -> Iterator[CaseResult]:
    ex = ctx.ex
    arrays = ctx.arrays("case", 0)
    hyper = ctx.hyper("case", 0)
    names = plans.inputs_of(ex, arrays)
    steps = [plans.forward(ex, 0, names, hyper=hyper), plans.forward(ex, 0, names, hyper=hyper)]
    steps += [plans.var(n) for n in names]
    reply = ctx.run(steps, dict(arrays))
    rules = [("same result on a second call", 1)] + [(f"{n} not modified", 2 + i) for i, n in enumerate(names)]
    for rule, step in rules:
        name = f"contract · {rule}"
        if reply.failure is not None and reply.failure.step <= step:
            yield failed_case(name, "call", reply.failure)
        elif step == 1:
            a, b = _array(reply.values[0]), _array(reply.values[1])
            ok = a is not None and b is not None and _same(a, b)
            yield CaseResult(name, PASS if ok else FAIL, "deterministic" if ok else "a second call gave another result")
        else:
            n = rule.split()[0]
            after = _array(reply.values[step])
            ok = after is not None and _same(after, arrays[n])
            yield CaseResult(name, PASS if ok else FAIL, f"{n} left unchanged" if ok else f"{n} was changed in place")
