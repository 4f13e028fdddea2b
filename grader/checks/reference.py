"""The ``reference`` check: every output, gradient and buffer against the torch twin, in float64."""
from __future__ import annotations

from typing import Iterator

from .. import plans
from ..compare import compare
from ..course import CheckSpec
from ..results import FAIL, PASS, CaseResult
from ..runner import StepFailure
from . import Context, failed_case, register


def judge_case(ctx: Context, purpose: str, index: int, prefix: str,
               only: tuple[str, ...] = ()) -> Iterator[CaseResult]:
    """Run one case forward and backward in the child; compare each quantity (or those in ``only``)."""
    ex = ctx.ex
    arrays = ctx.arrays(purpose, index)
    expected = ctx.expected(purpose, index)
    plan = plans.standard(ex, arrays, ctx.hyper(purpose, index), ctx.expected_douts(purpose, index))
    reply = ctx.run(plan.steps, plan.variables, fp_errors="raise" if purpose == "stability" else "default")
    sizes = ctx.sizes(arrays)
    outputs = plans.output_keys(ex)
    for key, slot in plan.slots.items():
        label = plans.output_label(ex, key) if key in outputs else key
        if only and label not in only:
            continue
        name = f"{prefix}{index} · {label}"
        got = plan.read(reply, key)
        if isinstance(got, StepFailure):
            yield failed_case(name, plan.phase(got.step), got)
            continue
        if isinstance(got, str):
            yield CaseResult(name, FAIL, f"{label}: {got}", {"quantity": label})
            continue
        if key not in expected:  # the reference returns nothing here (an in-place function)
            continue
        ref = expected[key]
        scalar = ex.kind in ("loss", "function") and key == "out" and ref.ndim == 0
        x = arrays.get("x") if ex.kind == "layer" and list(ex.inputs) == ["x"] else None
        verdict = compare(label, ref, got, ex.tolerance, scalar=scalar, context=sizes, inputs=x)
        yield CaseResult(name, PASS if verdict.ok else FAIL, verdict.message, verdict.details)


@register("reference")
def run(ctx: Context, spec: CheckSpec) -> Iterator[CaseResult]:
    for index in range(len(ctx.ex.cases)):
        yield from judge_case(ctx, "case", index, "case ", spec.quantities)
