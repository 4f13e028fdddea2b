"""What the torch twins say: every reference value of a course for one seed, computed in one process.

Cases are drawn from the seed exactly as the child's inputs are (grader.kinds.inputs), each exercise's
Kind builds its twin call, and optimizers get whole torch.optim trajectories. The result is what the
reference store caches (grader.engine.refstore).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Collection, Iterator

import numpy as np

from .. import references
from ..kinds import curves, kind_of
from ..kinds.inputs import case_arrays, rng_for, upstream_gradient
from ..model.course import Course, Exercise
from ..model.errors import CourseError, GraderError
from .refstore import Key, ReferenceStore

REFERENCED = ("stability",)
"""Checks whose own cases are compared with references (others, like ``stochastic``, need none)."""


def compute_references(course: Course, seed: int, device: str, only: Collection[str] | None = None,
                       on_exercise: Callable[[str], None] | None = None) -> dict[Key, np.ndarray]:
    """The reference values of the course for one seed (of the exercises ``only`` names, else all):
    each case of each exercise, forward and backward; torch on one thread (references.one_torch_thread).
    ``on_exercise`` is told each exercise's id once its references are done (a progress bar)."""
    twins = references.check(course, only)  # a missing twin: a CourseError naming the exercise
    with references.one_torch_thread(), references.without_compiler_guards():
        return _compute(course, seed, device, only, twins, on_exercise)


def _reporting(exercises: Collection[Exercise], only: Collection[str] | None,
               on_exercise: Callable[[str], None] | None) -> Iterator[Exercise]:
    """The exercises to compute, each reported to ``on_exercise`` when the loop asks for the next one
    (that is, once its body is done, whichever ``continue`` it took; never after an exception)."""
    for ex in exercises:
        if only is not None and ex.id not in only:
            continue
        yield ex
        if on_exercise is not None:
            on_exercise(ex.id)


def _compute(course: Course, seed: int, device: str, only: Collection[str] | None,
             twins: references.Twins, on_exercise: Callable[[str], None] | None = None) -> dict[Key, np.ndarray]:
    out: dict[Key, np.ndarray] = {}
    for ex in _reporting(course.exercises, only, on_exercise):
        if ex.reference is None:  # judged by rules of its own checks
            continue
        kind = kind_of(ex)
        if kind.problems_required:  # optimizers: whole trajectories on named problems
            out.update(_optimizer_references(ex, seed, device, twins))
            continue
        if kind.trains:  # networks: a whole torch training run per case
            out.update(_network_references(ex, seed, device))
            continue
        if ex.curve is not None:
            for key, value in curves.references_for(ex, seed, device, twins).items():
                out[(ex.id, "curve", 0, key)] = value
        groups = [("case", ex.cases)] + [(c.name, c.cases) for c in ex.checks if c.cases and c.name in REFERENCED]
        for purpose, cases in groups:
            for i, case in enumerate(cases):
                arrays = case_arrays(ex, case, seed, purpose, i)

                def make_dout(shape: tuple[int, ...], name: str, ex: Exercise = ex, purpose: str = purpose,
                              i: int = i) -> np.ndarray:
                    return upstream_gradient(shape, seed, ex, purpose, i, name)

                call = kind.twin_call(ex, arrays, {**ex.hyper, **case.hyper}, make_dout, device)
                try:
                    values = references.compute(call, twins)
                except GraderError:
                    raise
                except Exception as e:  # a twin that cannot run this case is a course error
                    raise CourseError(f"{course.path}: {course_where(ex)}, {purpose} case {i}: the torch twin "
                                      f"{ex.reference!r} failed: {type(e).__name__}: {e}") from None
                for quantity, value in values.items():
                    out[(ex.id, purpose, i, quantity)] = value
    return out


def reference_store(course: Course, seed: int, device: str, directory: Path | None = None, use_disk: bool = True,
                    on_compute: Callable[[list[str]], None] | None = None,
                    on_exercise: Callable[[str], None] | None = None) -> ReferenceStore:
    """The store of this course's references for one seed and device, filled from the torch twins;
    ``on_compute`` is told the exercises about to be computed, ``on_exercise`` each one as it is done."""
    from .refprocess import ReferenceProcess

    return ReferenceStore(course.digest, seed, device,
                          lambda ids: compute_references(course, seed, device, ids, on_exercise),
                          [ex.id for ex in course.exercises], directory=directory, use_disk=use_disk,
                          on_compute=on_compute, course_root=course.path.parent,
                          stream=lambda ids: ReferenceProcess(course, seed, device, ids, on_exercise))


def _optimizer_references(ex: Exercise, seed: int, device: str,
                          twins: references.Twins) -> dict[Key, np.ndarray]:
    """torch.optim trajectories of every case (hyper-parameter set) on every problem of the exercise."""
    from ..references.optim import TrajectoryError, trajectories

    factory = twins[ex.reference]
    out: dict[Key, np.ndarray] = {}
    hypers = [{**ex.hyper, **case.hyper} for case in ex.cases]
    for problem in ex.problems:  # every case at once (references.optim.trajectories)
        rngs = [rng_for(seed, ex.id, "trajectory", problem, i) for i in range(len(ex.cases))]
        try:
            runs = trajectories(factory, problem, hypers, ex.steps, rngs, device)
        except TrajectoryError as e:
            raise CourseError(f"{course_where(ex)}: case {e.case} on problem {problem!r}: {e}") from None
        for i, values in enumerate(runs):
            for quantity, value in values.items():
                out[(ex.id, f"trajectory:{problem}", i, quantity)] = value
    return out


def _network_references(ex: Exercise, seed: int, device: str, only: int | None = None) -> dict[Key, np.ndarray]:
    """The torch twin's training run of every case (or of case ``only``), from the parameters and batches
    the learner's seeded rng gives (grader.kinds.networks)."""
    from ..kinds import networks
    from ..references.networks import train

    out: dict[Key, np.ndarray] = {}
    for i, case in enumerate(ex.cases):
        if only is not None and i != only:
            continue
        spec = networks.spec_of(ex, {**ex.hyper, **case.hyper})
        data = networks.data_of(spec, ex, seed, i)
        init, orders = networks.draws(spec, networks.learner_seed(spec, seed, ex, i), len(data.X))
        values = train(spec, init, data, orders, device)
        values.update({f"init{j}": p for j, p in enumerate(init)})
        for quantity, value in values.items():
            out[(ex.id, "case", i, quantity)] = value
    return out


def course_where(ex: Exercise) -> str:
    return f"exercise {ex.id} ({ex.title})"
