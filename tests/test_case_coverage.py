"""Every default is graded: for each hyper-parameter the solution's signature gives a default, some case
omits it (so the learner's default is what runs) and, judged by the torch twin, another value there would
change the result. A wrong default (StepLR's gamma in a case that never reaches a step) cannot keep full
marks, and a new exercise that forgets such a case fails here.

The defaults are read from the solutions (``inspect.signature`` of the class's ``__init__`` or of the
function), the cases from course.yml, the results from the twins (references computed as the engine
does). Cases of a random check (``stochastic``) count without a twin: their law reads the same default.
"""
from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader import references
from grader.checks.contract import RANDOM_CHECKS
from grader.checks.statistics import LAWS
from grader.coursefile import load_course
from grader.kinds import kind_of
from grader.kinds.inputs import case_arrays, rng_for, upstream_gradient
from grader.model.course import Exercise

from .conftest import COURSE_FOLDERS, ROOT, folder_id

NOT_HYPER = ("rng",)
"""Defaulted arguments that are not hyper-parameters (a generator, for reproducible draws)."""
SEED = 0


def _solution(ex: Exercise, folder: Path = ROOT) -> Any:
    import sys

    solutions = folder / "solutions"
    spec = importlib.util.spec_from_file_location(f"_coverage_{ex.module}", solutions / f"{ex.module}.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    before = set(sys.modules)
    sys.path.insert(0, str(solutions))  # the capstone's networks import the other solution modules
    try:
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    finally:
        sys.path.remove(str(solutions))
        for name in set(sys.modules) - before:  # never leave solutions importable by their plain names
            del sys.modules[name]
    return getattr(module, ex.name)


def defaults(ex: Exercise, target: Any = None, folder: Path = ROOT) -> dict[str, Any]:
    """The defaulted hyper-parameters of the learner's constructor or function (arrays left out)."""
    target = _solution(ex, folder) if target is None else target
    fn = target.__init__ if inspect.isclass(target) else target
    arrays = {*ex.params, *ex.buffers, *(n for c in ex.cases for n in c.arrays)}
    parameters = inspect.signature(fn).parameters
    # an interface's config dict (CS231n's ``config=None``, passed last) carries hyper-parameters; it is
    # not one: its own defaults are ``config.setdefault`` calls in the learner's body
    carrier = {list(parameters)[-1]} if ex.interface is not None and ex.interface.config and parameters else set()
    return {n: p.default for n, p in parameters.items()
            if p.default is not inspect.Parameter.empty and n not in arrays and n not in {*NOT_HYPER, *carrier}}


def _hypers(ex: Exercise) -> list[dict[str, Any]]:
    return [{**ex.hyper, **c.hyper} for c in ex.cases] + [{**ex.hyper, **c.hyper} for s in ex.checks for c in s.cases]


def perturbed(ex: Exercise, name: str, value: Any) -> Any:
    """Another value for a hyper-parameter: one the course uses elsewhere, else a plain change."""
    seen = [h[name] for h in _hypers(ex) if name in h and h[name] != value and not isinstance(value, bool)]
    if seen:
        return seen[0]
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return 0.1 if value == 0 else value * 10 if abs(value) < 0.01 else value / 2
    if isinstance(value, tuple) and value:
        return (perturbed(ex, "", value[0]), *value[1:])
    raise AssertionError(f"{ex.title}: no other value of {name}={value!r} to try; use one in some case")


_CACHE: dict[tuple[Path, str, int, str, str], dict[str, np.ndarray]] = {}


def _twin(ex: Exercise, index: int, hyper: dict[str, Any], problem: str = "",
          folder: Path = ROOT) -> dict[str, np.ndarray]:
    """The reference values of case ``index`` with these hyper-parameters (as the engine computes them);
    an optimizer's on one problem. Cached: the default's values serve every other value tried."""
    key = (folder, ex.id, index, repr(sorted(hyper.items())), problem)
    if key not in _CACHE:
        _CACHE[key] = _compute(ex, index, hyper, problem, references.load(folder))
    return _CACHE[key]


def _compute(ex: Exercise, index: int, hyper: dict[str, Any], problem: str,
             twins: references.Twins) -> dict[str, np.ndarray]:
    kind = kind_of(ex)
    if ex.check("statistics"):  # a law, not values: its scale (bound, standard deviation, gain)
        law = LAWS[ex.reference]
        return {"scale": np.array(law.scale(law.complete(hyper)))}
    if kind.problems_required:
        from grader.references.optim import trajectory

        factory = twins[ex.reference]
        rng = rng_for(SEED, ex.id, "trajectory", problem, index)
        return {k: v for k, v in trajectory(factory, problem, hyper, ex.steps, rng).items() if k.startswith("param")}
    arrays = case_arrays(ex, ex.cases[index], SEED, "case", index)
    call = kind.twin_call(ex, arrays, hyper, lambda shape, name: upstream_gradient(shape, SEED, ex, "case", index,
                                                                                   name), "cpu")
    return references.compute(call, twins)


def _differ(ex: Exercise, a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    tol = ex.tolerance
    return any(k not in b or a[k].shape != b[k].shape
               or not np.allclose(a[k], b[k], rtol=tol.rtol, atol=tol.atol, equal_nan=True) for k in a)


def uncovered(ex: Exercise, target: Any = None, folder: Path = ROOT) -> list[str]:
    """Why each defaulted hyper-parameter of ``ex`` (of the course in ``folder``) is not graded (empty when
    all are)."""
    problems = []
    for name, value in defaults(ex, target, folder).items():
        omitting = [i for i, c in enumerate(ex.cases) if name not in {**ex.hyper, **c.hyper}]
        random = [c for s in ex.checks if s.name in RANDOM_CHECKS for c in s.cases
                  if name not in {**ex.hyper, **c.hyper}]
        if random:
            continue  # the random check's law reads the default too (the drop rate, the training mode)
        if not omitting:
            problems.append(f"{name}={value!r}: every case passes it, so the learner's default never runs")
            continue
        if ex.reference is None or kind_of(ex).trains:
            # judged by rules that read the default themselves (early stopping, mini-batches), or by a
            # training run against a twin built from the declared network (initial weights, history)
            continue
        other = perturbed(ex, name, value)
        changed = False
        refused = []
        for i in omitting:
            hyper = {**ex.hyper, **ex.cases[i].hyper}
            for problem in ex.problems or [""]:  # an optimizer: the first problem that shows it
                try:
                    changed = _differ(ex, _twin(ex, i, hyper, problem, folder),
                                      _twin(ex, i, {**hyper, name: other}, problem, folder))
                except (ValueError, RuntimeError, TypeError) as e:  # the twin refuses the other value here
                    refused.append(f"case {i}: {e}")
                if changed:
                    break
            if changed:
                break
        problems += [] if changed else [f"{name}: the twin refuses {name}={other!r} in {r}" for r in refused]
        if not changed:
            problems.append(f"{name}={value!r}: no case that omits it ({omitting}) changes with {name}={other!r}: "
                            "a wrong default would keep full marks")
    return problems


COURSE = load_course(ROOT / "course.yml")
EVERY_EXERCISE = [pytest.param(folder, ex, id=f"{'' if folder == ROOT else folder_id(folder) + '-'}{ex.id}-{ex.name}")
                  for folder in COURSE_FOLDERS for ex in load_course(folder).exercises]
"""Every exercise of every course folder of the repository."""


@pytest.mark.parametrize("folder, ex", EVERY_EXERCISE)
def test_every_default_is_graded(folder: Path, ex: Exercise) -> None:
    assert uncovered(ex, folder=folder) == []


def test_an_exercise_without_a_default_case_fails() -> None:
    """The test bites: StepLR with only cases that pass gamma, or whose default case never reaches a step."""
    ex = COURSE.exercise("step_lr")
    assert uncovered(ex) == []
    from dataclasses import replace

    passing = replace(ex, cases=tuple(replace(c, hyper={**c.hyper, "gamma": 0.5}) for c in ex.cases))
    assert any("every case passes it" in p for p in uncovered(passing))
    no_step = replace(ex, cases=tuple(c for c in ex.cases if "gamma" in c.hyper)
                      + (replace(ex.cases[0], hyper={"lr": 0.3, "epoch": 2, "step_size": 3}),))
    assert any("a wrong default would keep full marks" in p for p in uncovered(no_step))
