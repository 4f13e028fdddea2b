"""The ``stability`` check: extreme inputs (logits of ±1e3, saturated sigmoids) must give finite values
equal to the reference. The extreme cases are the check's own, declared in course.yml. numpy's
floating-point warnings are recorded where they happen: with right values they are advice (the textbook
``1 / (1 + np.exp(-x))`` is exactly right), with wrong values they name where the computation broke."""
from __future__ import annotations

from typing import Iterator

from ..model.course import CheckSpec
from ..model.results import CaseResult
from . import Context, register
from .reference import judge_case


@register("stability")
def run(ctx: Context, spec: CheckSpec) -> Iterator[CaseResult]:
    for index in range(len(spec.cases)):
        yield from judge_case(ctx, "stability", index, "extreme case ", spec.quantities)
