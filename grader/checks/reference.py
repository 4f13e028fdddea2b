"""The ``reference`` check: every output, gradient and buffer against the torch twin, in float64."""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from .. import kinds
from ..judge.compare import compare
from ..judge.hints import Clues
from ..kinds import kind_of, plans
from ..model.course import CheckSpec
from ..model.results import FAIL, PASS, CaseResult
from . import Context, judged, label, register


def judge_case(ctx: Context, purpose: str, index: int, prefix: str,
               only: tuple[str, ...] = (), note: dict[str, str] | None = None) -> Iterator[CaseResult]:
    """Run one case forward and backward in the child; compare each quantity (or those in ``only``)."""
    ex = ctx.ex
    kind = kind_of(ex)
    ctx.at(purpose, index)
    arrays = ctx.arrays(purpose, index)
    expected = ctx.expected(purpose, index)
    plan = plans.standard(ex, arrays, ctx.hyper(purpose, index), ctx.expected_douts(purpose, index))
    # extreme inputs: numpy's overflow and 0/0 are recorded where they happen; only wrong values cost points
    reply = ctx.run(plan.steps, plan.variables, fp_errors="record" if purpose == "stability" else "default")
    sizes = ctx.sizes(arrays)
    outputs = kinds.output_keys(ex)
    labels = {key: kind.output_label(ex, key) if key in outputs else key for key in plan.slots}
    clues = Clues(family=ex.reference or "", hyper=ctx.hyper(purpose, index), arrays=arrays,
                  expected={labels[k]: v for k, v in expected.items() if k in labels},
                  douts=ctx.expected_douts(purpose, index) or {}, got=_readable(plan, reply, labels))
    for key, slot in plan.slots.items():
        label = labels[key]
        if only and label not in only:
            continue
        name = f"{prefix}{index} · {label}"

        def one(key: str = key, label: str = label) -> CaseResult | None:
            got = plan.read(reply, key)
            if key not in expected:  # the reference returns nothing here (an in-place function)
                return None
            ref = expected[key]
            verdict = compare(label, ref, got, ex.tolerance, scalar=kind.scalar_result(ex, key, ref),
                              context=sizes, inputs=kind.element_inputs(ex, arrays), clues=clues)
            if reply.fp_warnings:
                return _with_fp_warnings(name, verdict.ok, verdict.message, verdict.details, reply.fp_warnings)
            if not verdict.ok and note and label in note and not verdict.details.get("hint"):
                return CaseResult(name, FAIL, f"{verdict.message}\n  hint: {note[label]}",
                                  {**verdict.details, "hint": note[label]})
            return CaseResult(name, PASS if verdict.ok else FAIL, verdict.message, verdict.details)

        case = judged(name, label, one)
        if case is not None:
            yield case


TIES = ("the inputs of this case repeat values (tied maxima); where several elements share the maximum, torch "
        "gives the whole gradient to the FIRST of them in scanning order (as np.argmax picks), not to each")


@register("reference")
def run(ctx: Context, spec: CheckSpec) -> Iterator[CaseResult]:
    """Every case; a gradient right on smooth inputs but wrong on a case drawn from a discrete set (ties,
    ReLU zeros) is named as the tie rule."""
    cases = ctx.ex.cases
    diff = kind_of(ctx.ex).differentiable(ctx.ex)
    smooth = [i for i, c in enumerate(cases) if all(c.arrays[n].smooth for n in diff if n in c.arrays)]
    failed: set[str] = set()
    for index in range(len(cases)):
        note = None
        if index not in smooth and smooth:
            note = {label(n): TIES for n in diff if label(n) not in failed}
        for case in judge_case(ctx, "case", index, "case ", spec.quantities, note):
            if index in smooth and case.status != PASS:
                failed.add(str(case.details.get("quantity") or case.name.split(" · ")[-1]))
            yield case


def _readable(plan: plans.Plan, reply: Any, labels: dict[str, str]) -> dict[str, np.ndarray]:
    """The learner's float arrays that can be read from the reply, by label (for hints about several)."""
    out = {}
    for key, name in labels.items():
        try:
            value = plan.read(reply, key)
        except (plans.LearnerFailed, plans.Unusable):
            continue
        if value.kind == "array" and len(value.arrays) == 1 and value.arrays[0].dtype.kind == "f":
            out[name] = value.arrays[0]
    return out


def _with_fp_warnings(name: str, ok: bool, message: str, details: dict[str, Any],
                      warnings: list[tuple[str, str]]) -> CaseResult:
    """A floating-point warning alone never costs points: with finite values equal to the reference it is
    advice (the textbook ``1 / (1 + np.exp(-x))`` overflows to exactly the right 0); with wrong values it
    names where the computation broke down."""
    what, where = warnings[0]
    place = f" at {where.split(' in ')[0]}" if where else ""
    if ok:
        advice = f"{what} in numpy{place}: harmless here, but a stable form avoids it"
        return CaseResult(name, PASS, f"{message}\n  advice: {advice}", {**details, "advice": advice})
    hint = (f"numerically unstable on extreme inputs: {what} in numpy{place}; use a stable form (subtract the max, "
            "log-sum-exp, exp(-|x|))")
    return CaseResult(name, FAIL, f"{message}\n  hint: {hint}", {**details, "hint": details.get("hint") or hint})
