"""Checks, one module per kind, registered under the name course.yml uses.

A check is a generator: given a :class:`Context` and its :class:`~grader.model.course.CheckSpec`, it yields
one :class:`~grader.model.results.CaseResult` per compared quantity. Yielding (rather than returning a list)
lets the engine keep every case judged before a child crash or timeout cut the check short.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np

from .. import kinds
from ..engine.refstore import ReferenceStore
from ..kinds import interfaces, kind_of
from ..kinds.inputs import case_arrays, upstream_gradient
from ..kinds.plans import LearnerFailed, Unusable
from ..model.course import CheckSpec, Exercise
from ..model.results import ERROR, FAIL, NOT_IMPLEMENTED, CaseId, CaseResult
from ..sandbox.replies import Reply, StepFailure
from ..sandbox.runner import Child

CheckFn = Callable[["Context", CheckSpec], Iterator[CaseResult]]
REGISTRY: dict[str, CheckFn] = {}


def register(name: str) -> Callable[[CheckFn], CheckFn]:
    def add(fn: CheckFn) -> CheckFn:
        REGISTRY[name] = fn
        return fn

    return add


def get(name: str) -> CheckFn:
    """The check called ``name``, from the module of the same name in this package."""
    if name not in REGISTRY:
        importlib.import_module(f"{__name__}.{name}")
    return REGISTRY[name]


def known() -> list[str]:
    """Every check this engine has: one module each, named as course files name the check."""
    from pathlib import Path

    return sorted(p.stem for p in Path(__file__).parent.glob("*.py") if p.stem != "__init__")


@dataclass
class Context:
    """Everything a check may use: the exercise, the seed's inputs, references, and the child."""

    ex: Exercise
    seed: int
    child: Child
    refs: ReferenceStore
    purpose: str = "case"
    """Which cases the check is judging now (set by :meth:`at`; read by the engine to stamp each CaseId)."""
    index: int | None = None
    public: bool = False
    """Grading with the course's public seed, whose references a learner can have anyway (``grader case``):
    a check may then send reference values into the child (the training check's teacher forcing)."""

    def at(self, purpose: str, index: int | None) -> None:
        """The check is now on case ``index`` of ``purpose`` ("case": the exercise's, else a check's own)."""
        self.purpose, self.index = purpose, index

    def identify(self, check: str, case: CaseResult) -> CaseResult:
        """Stamp a yielded case with its identity (where the check is, what the case's details name)."""
        if case.id is None:
            case.id = CaseId(check, self.purpose, self.index, str(case.details.get("quantity", "")),
                             str(case.details.get("rule", "")))
        if not case.setting and case.id.index is not None:
            case.setting = self.ex.setting(case.id.purpose, case.id.index)
        return case

    def arrays(self, purpose: str, index: int) -> dict[str, np.ndarray]:
        cases = self.ex.cases if purpose == "case" else self.ex.check(purpose).cases  # type: ignore[union-attr]
        return case_arrays(self.ex, cases[index], self.seed, purpose, index)

    def hyper(self, purpose: str, index: int) -> dict[str, Any]:
        cases = self.ex.cases if purpose == "case" else self.ex.check(purpose).cases  # type: ignore[union-attr]
        return {**self.ex.hyper, **cases[index].hyper}

    def expected(self, purpose: str, index: int) -> dict[str, np.ndarray]:
        return self.refs.get(self.ex.id, purpose, index)

    def douts(self, shapes: dict[str, tuple[int, ...]], purpose: str, index: int) -> dict[str, np.ndarray] | None:
        """Upstream gradients for backward, one per output, given the outputs' shapes (by reference key).

        None for a function (no backward); empty for a loss with a scalar value (``backward()``)."""
        ex = self.ex
        kind = kind_of(ex)
        if not kind.has_backward(ex):
            return None
        if not kind.needs_dout(ex, shapes[kinds.output_keys(ex)[0]]):
            return {}
        return {d: upstream_gradient(shapes[k], self.seed, ex, purpose, index, d)
                for k, d in zip(kinds.output_keys(ex), kinds.dout_names(ex))}

    def expected_douts(self, purpose: str, index: int) -> dict[str, np.ndarray] | None:
        if not kind_of(self.ex).has_backward(self.ex):
            return None
        expected = self.expected(purpose, index)
        return self.douts({k: expected[k].shape for k in kinds.output_keys(self.ex)}, purpose, index)

    def run(self, steps: list[dict[str, Any]], variables: dict[str, np.ndarray], fp_errors: str = "default") -> Reply:
        """Run a plan in the child, its constructions adapted to the exercise's interface, if any."""
        return self.child.run(interfaces.adapt(self.ex, steps), variables, timeout=self.ex.timeout_s,
                              fp_errors=fp_errors)

    def sizes(self, arrays: dict[str, np.ndarray]) -> dict[str, tuple[int, str]]:
        """Sizes a cause hint may name (batch size, number of elements)."""
        first = kind_of(self.ex).batch_input(self.ex, arrays)
        if first is None or first.ndim == 0:
            return {}
        return {"N": (int(first.shape[0]), "batch size"), "numel": (int(first.size), "number of elements")}


def judged(name: str, label: str, judge: Callable[[], CaseResult | None]) -> CaseResult | None:
    """The one boundary where a case's typed failure becomes its result: the learner's exception (error,
    or not-implemented) or a value that cannot be compared (fail, with the reason)."""
    try:
        return judge()
    except LearnerFailed as e:
        return failed_case(name, e.phase, e.failure)
    except Unusable as e:
        return CaseResult(name, FAIL, f"{label}: {e}", {"quantity": label})


def failed_case(name: str, quantity: str, failure: StepFailure) -> CaseResult:
    """The case a learner's exception produces: not-implemented for a stub, error otherwise.

    A FloatingPointError (raised only under the stability check's strict mode) is a wrong answer, not a
    crash: the computation overflowed or divided by zero on extreme inputs.
    """
    status = NOT_IMPLEMENTED if failure.not_implemented else ERROR
    where = f" ({failure.where})" if failure.where else ""
    message = f"{quantity}: {failure.message}{where}"
    if failure.type == "FloatingPointError":
        return CaseResult(name, FAIL, message + "\n  hint: numerically unstable on extreme inputs: an exp of a "
                          "large number overflowed or a log/division met 0; use a stable form (subtract the max, "
                          "log-sum-exp, exp(-|x|))", {"quantity": quantity, "exception": failure.type,
                                                       "where": failure.where, "hint": "unstable"})
    if failure.traceback and not failure.not_implemented:
        message += "\n" + failure.traceback.rstrip()
    return CaseResult(name, status, message, {"quantity": quantity, "exception": failure.type, "where": failure.where})


def label(quantity: str) -> str:
    """``x`` -> ``dx``; ``out`` stays."""
    return quantity if quantity == "out" else "d" + quantity
