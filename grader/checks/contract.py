"""The ``contract`` check: the protocol every layer, loss, function and optimizer must keep, each rule with
its own hint.

Inputs (and dout, and the parameters) are not changed in place; a second call with the same input gives
the same result; parameter gradients are written into the existing ``grads`` arrays; buffers (running
statistics) stay the very arrays passed in, updated in place; a function changes in place exactly the
arguments it must; an optimizer leaves the gradients it is given unchanged. Each rule is one case, so the
learner sees exactly which promise was broken.

The rules are checked on every case of the exercise (each mode, each reduction) and on the cases of the
checks that run a layer in its random training mode (:data:`RANDOM_CHECKS`), where the determinism rule
does not apply: a Dropout that scales ``x`` in place only while training is caught there. One child call
per case keeps it cheap.
"""
from __future__ import annotations

from typing import Callable, Iterator

import numpy as np

from .. import kinds
from ..kinds import interfaces, kind_of, plans
from ..model.course import CheckSpec
from ..model.results import FAIL, PASS, CaseResult
from ..model.values import Value
from . import Context, failed_case, register

RANDOM_CHECKS = ("stochastic",)
"""Checks whose own cases run a layer in its random (training) mode: contract covers them too, without
the determinism rule."""
OPTIMIZER_STEPS = 3
"""Updates an optimizer makes in its contract case (its state is in use from the second one)."""


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


def _cases(ctx: Context) -> list[tuple[str, int, bool]]:
    """(purpose, index, random) of every case contract runs: the exercise's, then the random modes'."""
    out = [("case", i, False) for i in range(len(ctx.ex.cases))]
    for spec in ctx.ex.checks:
        if spec.name in RANDOM_CHECKS:
            out += [(spec.name, i, True) for i in range(len(spec.cases))]
    return out


@register("contract")
def run(ctx: Context, spec: CheckSpec) -> Iterator[CaseResult]:
    kind = kind_of(ctx.ex)
    for purpose, index, random in _cases(ctx):
        ctx.at(purpose, index)
        prefix = f"case {index}" if purpose == "case" else f"{purpose} case {index}"
        if kind.updates_in_place:
            yield from _optimizer(ctx, index, prefix)
        elif not kind.constructed:
            yield from _function(ctx, purpose, index, prefix)
        else:
            yield from _layer(ctx, purpose, index, prefix, random)


def _push(steps: list[dict[str, object]], step: dict[str, object]) -> int:
    """Append a step and return its index (the handle later steps and the reply use)."""
    steps.append(step)
    return len(steps) - 1


def _douts(ctx: Context, purpose: str, index: int, first_input: np.ndarray) -> dict[str, np.ndarray]:
    """Upstream gradients shaped as the reference's outputs; a random mode has no reference, and its
    layers keep their input's shape (as the stochastic check assumes)."""
    ex = ctx.ex
    expected = ctx.expected(purpose, index)
    keys = kinds.output_keys(ex)
    shapes = {k: expected[k].shape if k in expected else first_input.shape for k in keys}
    return ctx.douts(shapes, purpose, index) or {}


def _layer(ctx: Context, purpose: str, index: int, prefix: str, random: bool) -> Iterator[CaseResult]:
    ex = ctx.ex
    kind = kind_of(ex)
    arrays = ctx.arrays(purpose, index)
    hyper = ctx.hyper(purpose, index)
    names = kind.inputs(ex, arrays)
    variables = dict(arrays)
    variables.update({n + "_again": arrays[n].copy() for n in names})
    douts = _douts(ctx, purpose, index, arrays[names[0]])
    variables.update(douts)
    steps = [plans.new(ex, hyper, array_kwargs=kind.constructor_arrays(ex, arrays))]
    kept_new = {b: _push(steps, plans.same(0, b, b)) for b in ex.buffers}
    in_place = bool(ex.params) and interfaces.grads_in_place(ex)
    ids_before = _push(steps, plans.grad_ids(0)) if in_place else -1
    first = _push(steps, plans.forward(ex, 0, names))
    second = _push(steps, plans.forward(ex, 0, names, {n: n + "_again" for n in names}))
    back = _push(steps, plans.backward(0, list(douts)))
    constants = [n for n in kind.constructor_arrays(ex, arrays) if n not in ex.buffers]  # buffers may change
    watched = [*names, *douts, *ex.params, *constants]
    state = {n: _push(steps, plans.var(n)) for n in watched}
    ids_after = _push(steps, plans.grad_ids(0)) if in_place else -1
    kept_after = {b: _push(steps, plans.same(0, b, b)) for b in ex.buffers}
    reply = ctx.run(steps, variables)
    phase = {0: "constructor", ids_before: "constructor", first: "forward", second: "forward", back: "backward",
             **{s: "constructor" for s in kept_new.values()}}

    def failure_before(name: str, step: int) -> CaseResult | None:
        if reply.failure is not None and reply.failure.step <= step:
            return failed_case(name, phase.get(reply.failure.step, "reading the state"), reply.failure)
        return None

    name = f"{prefix} · same result on a second call"
    failed = failure_before(name, second)
    if failed:
        yield failed
    elif random:
        pass  # a random mode draws anew at every call: the stochastic check holds it to its law
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
        name = f"{prefix} · {n} not modified"
        failed = failure_before(name, step)
        if failed:
            yield failed
            continue
        after = _array(reply.values[step])
        if after is not None and _same(after, variables[n]):
            yield CaseResult(name, PASS, f"{n} left unchanged", {"rule": f"{n} not modified"})
        else:
            who = "backward" if n in douts else "forward or backward"
            yield CaseResult(name, FAIL, f"{n} was changed in place by {who}\n  hint: compute into a new array "
                             f"(e.g. np.maximum(x, 0) or x * mask) instead of assigning into {n}",
                             {"rule": f"{n} not modified"})
    if in_place:
        name = f"{prefix} · grads written in place"
        failed = failure_before(name, ids_after)
        if failed:
            yield failed
        else:
            before, after = _array(reply.values[ids_before]), _array(reply.values[ids_after])
            if before is not None and after is not None and _same(before, after):
                yield CaseResult(name, PASS, "grads keep their arrays", {"rule": "grads in place"})
            else:
                yield CaseResult(name, FAIL, "backward replaced the arrays in self.grads instead of writing into "
                                 "them\n  hint: write self.grads[0][...] = dW, not self.grads[0] = dW (a model "
                                 "collects the grads lists once)", {"rule": "grads in place"})
    for b in ex.buffers:
        yield from _buffer(b, prefix, reply.values, kept_new[b], kept_after[b], failure_before)


def _buffer(b: str, prefix: str, values: list[Value], at_new: int, at_end: int,
            failure_before: Callable[[str, int], CaseResult | None]) -> Iterator[CaseResult]:
    """The layer keeps the very array passed in as ``b`` and updates it in place: the caller's array (a
    model's state, a checkpoint) must see the new running statistics."""
    name = f"{prefix} · {b} updated in place"
    rule = {"rule": f"{b} in place"}
    failed = failure_before(name, at_end)
    if failed:
        yield failed
        return
    kept_new, kept_end = (_array(values[s]) for s in (at_new, at_end))
    if kept_new is None or not int(kept_new):
        yield CaseResult(name, FAIL, f"the constructor did not keep the {b} array it was given (a copy, or "
                         f"another attribute)\n  hint: self.{b} = {b}: the layer updates the caller's array in "
                         "place", rule)
    elif kept_end is None or not int(kept_end):
        yield CaseResult(name, FAIL, f"forward or backward replaced self.{b} by a new array instead of updating "
                         f"it in place\n  hint: write self.{b}[...] = (1 - momentum) * self.{b} + momentum * ... "
                         f"(or *= and +=), not self.{b} = ...", rule)
    else:
        yield CaseResult(name, PASS, f"self.{b} is the array passed in, updated in place", rule)


def _function(ctx: Context, purpose: str, index: int, prefix: str) -> Iterator[CaseResult]:
    ex = ctx.ex
    arrays = ctx.arrays(purpose, index)
    hyper = ctx.hyper(purpose, index)
    names = kind_of(ex).inputs(ex, arrays)
    # a function that changes some arguments on purpose (clip_grad_norm) is checked on the others, and
    # its second call gets fresh copies so that it starts from the same values
    again = {n: n + "_again" for n in ex.mutates}
    steps = [plans.forward(ex, 0, names, hyper=hyper), plans.forward(ex, 0, names, again, hyper=hyper)]
    kept = [n for n in names if n not in ex.mutates]
    steps += [plans.var(n) for n in kept]
    changed = [n for n in ex.mutates if n in names]
    steps += [plans.var(n) for n in changed]
    arrays = {**arrays, **{again[n]: arrays[n].copy() for n in ex.mutates}}
    reply = ctx.run(steps, dict(arrays))
    rules = [("same result on a second call", 1)] + [(f"{n} not modified", 2 + i) for i, n in enumerate(kept)]
    for rule, step in rules:
        name = f"{prefix} · {rule}"
        if reply.failure is not None and reply.failure.step <= step:
            yield failed_case(name, "call", reply.failure)
        elif step == 1:
            ok = _same_result(reply.values[0], reply.values[1])
            yield CaseResult(name, PASS if ok else FAIL, "deterministic" if ok else "a second call gave another result",
                             {"rule": "deterministic"})
        else:
            n = rule.split()[0]
            after = _array(reply.values[step])
            ok = after is not None and _same(after, arrays[n])
            yield CaseResult(name, PASS if ok else FAIL, f"{n} left unchanged" if ok else f"{n} was changed in place",
                             {"rule": f"{n} not modified"})
    expected = ctx.expected(purpose, index)
    for i, n in enumerate(changed):
        step = 2 + len(kept) + i
        ref = expected.get(f"{n} after")
        if ref is None or _same(ref.astype(arrays[n].dtype, copy=False), arrays[n]):
            continue  # torch leaves it as it is here: nothing to tell
        name = f"{prefix} · {n} modified in place"
        if reply.failure is not None and reply.failure.step <= step:
            yield failed_case(name, "call", reply.failure)
            continue
        after = _array(reply.values[step])
        if after is not None and _same(after, arrays[n]):
            yield CaseResult(name, FAIL, f"{n} was left unchanged, though the function must change it in place\n"
                             f"  hint: write into the caller's array ({n}[...] = ..., or *=), not into a new one "
                             "that only the function sees", {"rule": f"{n} modified in place"})
        else:
            yield CaseResult(name, PASS, f"{n} changed in place", {"rule": f"{n} modified in place"})


def _optimizer(ctx: Context, index: int, prefix: str) -> Iterator[CaseResult]:
    """A few updates from the first problem's start with its first gradients; every gradient array handed
    to ``update`` is read back: ``g += weight_decay * p`` on the caller's gradient changes what the training
    loop (and a gradient clipper, a logger) sees."""
    ex = ctx.ex
    hyper = ctx.hyper("case", index)
    ref = ctx.expected(f"trajectory:{ex.problems[0]}", index)
    n_params = sum(1 for k in ref if k.startswith("init"))
    steps = OPTIMIZER_STEPS
    variables = {f"p{j}": ref[f"init{j}"].copy() for j in range(n_params)}
    for t in range(steps):
        variables.update({f"g{j}_{t}": ref[f"grad{j}"][min(t, len(ref[f'grad{j}']) - 1)].copy()
                          for j in range(n_params)})
    plan = [plans.construct(ex.target, hyper)]
    for t in range(steps):
        plan.append(plans.call(0, "update", [[f"$p{j}" for j in range(n_params)],
                                              [f"$g{j}_{t}" for j in range(n_params)]]))
    grads = [f"g{j}_{t}" for t in range(steps) for j in range(n_params)]
    first_read = len(plan)
    plan += [plans.var(g) for g in grads]
    reply = ctx.run(plan, variables)
    name = f"{prefix} · grads not modified"
    rule = {"rule": "grads not modified"}
    if reply.failure is not None and reply.failure.step < first_read:
        yield failed_case(name, "constructor" if reply.failure.step == 0 else f"update (step {reply.failure.step})",
                          reply.failure)
        return
    for k, g in enumerate(grads):
        after = _array(reply.values[first_read + k])
        if after is None or not _same(after, variables[g]):
            j, t = g[1:].split("_")
            yield CaseResult(name, FAIL, f"update changed the gradient of parameter {j} it was given (at step "
                             f"{int(t) + 1})\n  hint: compute into a new array (d_p = g + weight_decay * p), not "
                             "g += ...: the caller's gradients belong to the training loop", rule)
            return
    yield CaseResult(name, PASS, f"update left every gradient unchanged over {steps} steps", rule)
