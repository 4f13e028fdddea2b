"""The ``contract`` check: the protocol every layer and loss must keep, each rule with its own hint.

Inputs (and dout, and the parameters) are not changed in place; a second call with the same input gives
the same result; parameter gradients are written into the existing ``grads`` arrays; results are
float64. Each rule is one case, so the learner sees exactly which promise was broken.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

from ..kinds import kind_of, plans
from ..model.course import CheckSpec
from ..model.results import FAIL, PASS, CaseResult
from ..model.values import Value
from . import Context, failed_case, register


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=True))


def _array(value: Value) -> np.ndarray | None:
    return value.arrays[0] if value.kind in ("array", "scalar") and len(value.arrays) == 1 else None


def _same_result(a: Value, b: Value) -> bool:
    """Two forward results hold the same numbers (a tuple of outputs compared item by item)."""
    if a.kind == "list" and b.kind == "list" and len(a.items) == len(b.items):
        return all(_same_result(x, y) for x, y in zip(a.items, b.items))
    if a.kind == b.kind == "none":
        return True
    x, y = _array(a), _array(b)
    return x is not None and y is not None and _same(x, y)


@register("contract")
def run(ctx: Context, spec: CheckSpec) -> Iterator[CaseResult]:
    ex = ctx.ex
    kind = kind_of(ex)
    ctx.at("case", 0)
    if not kind.constructed:
        yield from _function(ctx)
        return
    arrays = ctx.arrays("case", 0)
    hyper = ctx.hyper("case", 0)
    names = kind.inputs(ex, arrays)
    variables = dict(arrays)
    variables.update({n + "_again": arrays[n].copy() for n in names})
    douts = ctx.expected_douts("case", 0) or {}
    variables.update(douts)
    steps = [plans.new(ex, hyper, array_kwargs=kind.constructor_arrays(ex, arrays))]
    ids_before = _push(steps, plans.grad_ids(0)) if ex.params else -1
    first = _push(steps, plans.forward(ex, 0, names))
    second = _push(steps, plans.forward(ex, 0, names, {n: n + "_again" for n in names}))
    back = _push(steps, plans.backward(0, list(douts)))
    constants = [n for n in kind.constructor_arrays(ex, arrays) if n not in ex.buffers]  # buffers may change
    watched = [*names, *douts, *ex.params, *constants]
    state = {n: _push(steps, plans.var(n)) for n in watched}
    ids_after = _push(steps, plans.grad_ids(0)) if ex.params else -1
    reply = ctx.run(steps, variables)
    phase = {0: "constructor", ids_before: "constructor", first: "forward", second: "forward", back: "backward"}

    def failure_before(step: int) -> CaseResult | None:
        if reply.failure is not None and reply.failure.step <= step:
            return failed_case(name, phase.get(reply.failure.step, "reading the state"), reply.failure)
        return None

    name = "contract · same result on a second call"
    if failure_before(second):
        yield failure_before(second)  # type: ignore[misc]
    elif _same_result(reply.values[first], reply.values[second]):
        yield CaseResult(name, PASS, "forward is deterministic", {"rule": "deterministic"})
    elif reply.values[first].kind not in ("array", "scalar", "list"):
        yield CaseResult(name, FAIL, f"forward returned {reply.values[first].type}, not an array: nothing to "
                         "compare between two calls", {"rule": "deterministic"})
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
            who = "backward" if n in douts else "forward or backward"
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
    names = kind_of(ex).inputs(ex, arrays)
    # a function that changes some arguments on purpose (clip_grad_norm) is checked on the others, and
    # its second call gets fresh copies so that it starts from the same values
    again = {n: n + "_again" for n in ex.mutates}
    steps = [plans.forward(ex, 0, names, hyper=hyper), plans.forward(ex, 0, names, again, hyper=hyper)]
    kept = [n for n in names if n not in ex.mutates]
    steps += [plans.var(n) for n in kept]
    arrays = {**arrays, **{again[n]: arrays[n].copy() for n in ex.mutates}}
    reply = ctx.run(steps, dict(arrays))
    rules = [("same result on a second call", 1)] + [(f"{n} not modified", 2 + i) for i, n in enumerate(kept)]
    for rule, step in rules:
        name = f"contract · {rule}"
        if reply.failure is not None and reply.failure.step <= step:
            yield failed_case(name, "call", reply.failure)
        elif step == 1:
            ok = _same_result(reply.values[0], reply.values[1])
            yield CaseResult(name, PASS if ok else FAIL, "deterministic" if ok else "a second call gave another result")
        else:
            n = rule.split()[0]
            after = _array(reply.values[step])
            ok = after is not None and _same(after, arrays[n])
            yield CaseResult(name, PASS if ok else FAIL, f"{n} left unchanged" if ok else f"{n} was changed in place")
