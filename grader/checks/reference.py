"""The ``reference`` check: forward output and every gradient against the torch twin, in float64."""
from __future__ import annotations

from typing import Iterator

from .. import plans
from ..compare import Value, compare
from ..course import CheckSpec
from ..results import PASS, FAIL, CaseResult
from . import Context, failed_case, label, register


def judge_case(ctx: Context, purpose: str, index: int, prefix: str,
               only: tuple[str, ...] = ()) -> Iterator[CaseResult]:
    """Run one case forward and backward in the child; compare each quantity (or those in ``only``)."""
    ex = ctx.ex
    arrays = ctx.arrays(purpose, index)
    expected = ctx.expected(purpose, index)
    hyper = ctx.hyper(purpose, index)
    variables = dict(arrays)
    steps = []
    if ex.kind == "function":
        steps.append(plans.forward(ex, 0, plans.inputs_of(ex, arrays), hyper=hyper))
    else:
        with_dout = plans.needs_dout(ex, expected["out"].shape)
        steps += [plans.new(ex, hyper, array_kwargs=plans.constructor_arrays(ex, arrays)),
                  plans.forward(ex, 0, plans.inputs_of(ex, arrays)), plans.backward(0, with_dout)]
        if with_dout:
            variables["dout"] = ctx.dout(expected["out"].shape, purpose, index)
        if ex.params:
            steps.append(plans.grads(0))
    reply = ctx.run(steps, variables, fp_errors="raise" if purpose == "stability" else "default")
    sizes = ctx.sizes(arrays)
    out_name = "loss" if ex.kind == "loss" else "out"
    # (quantity label, step index of the value, item inside a list value)
    wanted: list[tuple[str, int, int | None]] = [(out_name, len(steps) - 1 if ex.kind == "function" else 1, None)]
    if ex.kind != "function":
        first = plans.differentiable(ex)[0]
        wanted.append((label(first), 2, None))
        wanted += [(label(p), 3, i) for i, p in enumerate(ex.params)]
    for quantity, step, item in wanted:
        if only and quantity not in only:
            continue
        name = f"{prefix}{index} · {quantity}"
        ref = expected["out" if quantity == out_name else quantity]
        if reply.failure is not None and reply.failure.step <= step:
            yield failed_case(name, _what(quantity, step, ex.kind), reply.failure)
            continue
        value = reply.values[step]
        if item is not None:
            value = _list_item(value, item, len(ex.params))
            if isinstance(value, str):
                yield CaseResult(name, FAIL, f"{quantity}: {value}", {"quantity": quantity})
                continue
        scalar = quantity == "loss" and ref.ndim == 0
        verdict = compare(quantity, ref, value, ex.tolerance, scalar=scalar, context=sizes)
        yield CaseResult(name, PASS if verdict.ok else FAIL, verdict.message, verdict.details)


def _what(quantity: str, step: int, kind: str) -> str:
    return {0: "constructor" if kind != "function" else quantity, 1: "forward", 2: "backward", 3: "grads"}[step]


def _list_item(value: Value, item: int, n: int) -> Value | str:
    """The item-th array of a ``grads`` list, or a message saying why the list is unusable."""
    if value.kind != "list":
        return f"self.grads is {value.type}, expected a list of {n} numpy arrays"
    if len(value.items) != n:
        return f"self.grads has {len(value.items)} entries, expected {n} (one per parameter, in params order)"
    return value.item(item)


@register("reference")
def run(ctx: Context, spec: CheckSpec) -> Iterator[CaseResult]:
    for index in range(len(ctx.ex.cases)):
        yield from judge_case(ctx, "case", index, "case ", spec.quantities)

