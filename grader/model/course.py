"""The course model: frozen dataclasses of a course, its assignments, exercises, cases and checks.

A leaf of the package (it imports nothing else of the grader but the errors): read from course.yml by
:mod:`grader.coursefile`, consumed by the engine, the checks and the reports.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import CourseError

TWINLESS_CHECKS = frozenset({"scripted", "batching"})
"""Checks that never read a torch value (early stopping's rule, mini-batches' properties): an exercise
with only these needs no ``reference``."""
DEFAULT_RANGE = (-3.0, 3.0)


@dataclass(frozen=True)
class Tolerance:
    """Allowed error when comparing with a reference: |got - expected| <= atol + rtol * |expected|."""

    rtol: float = 1e-6
    atol: float = 1e-8


@dataclass(frozen=True)
class Limits:
    """Resource limits of the sandboxed child that runs one submission."""

    timeout_s: float = 10.0
    """Wall-clock limit of one call plan (one case), enforced by the parent with SIGKILL."""
    memory_mb: int = 1024
    """Address-space limit of the child (RLIMIT_AS)."""
    cpu_s: int = 120
    """CPU-time limit of the child over its whole life (RLIMIT_CPU)."""
    file_mb: int = 16
    """Largest file the child may write (RLIMIT_FSIZE)."""
    output_kb: int = 4
    """How much of the child's stdout/stderr a report keeps, per exercise."""


@dataclass(frozen=True)
class ArraySpec:
    """How to draw one input array: a float array uniform in [low, high], or integer class labels."""

    shape: tuple[int, ...]
    low: float = DEFAULT_RANGE[0]
    high: float = DEFAULT_RANGE[1]
    classes: int | None = None
    """When set, the array holds int64 labels in [0, classes) instead of floats."""
    choices: tuple[float, ...] | None = None
    """When set, float entries drawn from these values (e.g. labels -1 and +1; a small integer set gives
    max-pooling windows tied maxima)."""
    relu: bool = False
    """When set, the uniform draw goes through a ReLU: the entries below 0 become 0, as after a ReLU layer
    (many zeros, so many tied maxima)."""

    @property
    def smooth(self) -> bool:
        """Drawn from a continuum with no mass on any point: finite differences around it are meaningful
        (a discrete draw puts inputs on kinks and ties, where they are not)."""
        return self.classes is None and self.choices is None and not self.relu


@dataclass(frozen=True)
class Case:
    """One input case: named arrays plus hyper-parameter overrides for the constructor."""

    arrays: dict[str, ArraySpec]
    hyper: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckSpec:
    """A check to run on an exercise, its weight in the exercise's points, and its own cases if any."""

    name: str
    weight: float
    cases: tuple[Case, ...] = ()
    quantities: tuple[str, ...] = ()
    """Compare only these quantities (``loss``, ``out``, ``dx``...); empty means all."""


@dataclass(frozen=True)
class Interface:
    """How an existing assignment's code is called in place of the class protocol (docs/interfaces.md):
    forward/backward functions with a cache, a class (gradients as attributes, arrays in its own layout), or a functional
    optimizer with a config dict. Names are the course's own (``x``, ``W``, ``dW``, ``lr``, torch's state
    names); the mappings say what the learner's code calls them."""

    style: str
    """``functions``, ``class`` or ``config``."""
    backward: str = ""
    """functions: ``module.name`` of the backward function; empty when forward returns the gradients too."""
    returns: tuple[str, ...] = ()
    """functions: the parts of forward's result, in order (``out``, ``cache``, ``dpred``...)."""
    gives: tuple[str, ...] = ()
    """functions: the parts of backward's result, in order (``dx``, ``dW``, ``db``)."""
    grads: dict[str, str] = field(default_factory=dict)
    """class: parameter -> the attribute holding its gradient after backward (``W: dW``); empty: the
    class keeps ``self.grads`` as the class protocol does."""
    config: dict[str, str] = field(default_factory=dict)
    """config (and functions, whose forward then takes the dict last): the learner's config key -> the
    hyper-parameter it holds (``learning_rate: lr``, ``beta1: betas[0]``, ``pad: padding``)."""
    state: dict[str, str] = field(default_factory=dict)
    """config: the learner's config key -> torch's state name it holds (``m: exp_avg``); only these states
    are compared."""
    axes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    """An array's layout in the learner's code: theirs = np.transpose(ours, axes) (``W: [1, 0]``)."""


@dataclass(frozen=True)
class Exercise:
    """One graded unit: a class or function the learner writes, and how to grade it."""

    id: str
    title: str
    kind: str
    target: str
    """``module.Name`` inside a submission."""
    reference: str | None
    """Name of the torch twin in :mod:`grader.references` (the statistics and stochastic checks: of the
    law); None where every check judges by rules of its own (:data:`TWINLESS_CHECKS`)."""
    points: float
    checks: tuple[CheckSpec, ...]
    cases: tuple[Case, ...]
    params: tuple[str, ...] = ()
    """Names of case arrays passed, in order, as positional constructor arguments (learnable parameters)."""
    hyper: dict[str, Any] = field(default_factory=dict)
    kinks: tuple[float | str, ...] = ()
    """Points where the function is not differentiable; float inputs keep ``margin`` away from them.
    A string names a hyper-parameter (``min_val``), resolved per case."""
    margin: float = 1e-2
    tolerance: Tolerance = Tolerance()
    inputs: tuple[str, ...] = ()
    """Layers: names of the case arrays forward takes, in order (default ``x``; an RNN cell takes x, h)."""
    outputs: tuple[str, ...] = ("out",)
    """Layers: names of forward's results; with several, forward returns a tuple and backward takes one
    upstream gradient per output and returns one gradient per input, as a tuple."""
    buffers: tuple[str, ...] = ()
    """Layers: case arrays passed to the constructor by keyword and read back, as attributes of the same
    name, after the calls (BatchNorm's running_mean, running_var)."""
    args: tuple[str | tuple[str, ...], ...] = ()
    """Functions: how case arrays are passed, in order; a list groups arrays into one list argument
    (``[[g0, g1], ...]`` calls ``f([g0, g1])``). Default: every case array, one argument each."""
    mutates: tuple[str, ...] = ()
    """Functions: arrays the function changes in place (clip_grad_norm's grads); read back after the
    call and compared with torch's, as quantities ``<name> after``."""
    curve: tuple[float, float] | None = None
    """Range over which figures draw f and f' (activations: x; losses: the first prediction entry)."""
    problems: tuple[str, ...] = ()
    """Optimizers: the test problems (grader.references.problems) each case is run on."""
    steps: int = 50
    """Optimizers: how many update steps each trajectory has."""
    timeout_s: float | None = None
    """Wall-clock limit of one call plan of this exercise (a whole training run); None: the course's
    ``limits.timeout_s``."""
    interface: Interface | None = None
    """How the learner's code is called when it is not the class protocol (None: the class protocol)."""
    forward_calls_in_backward: int = 1
    """How many times backward may call forward: once recomputes the output; a backward that estimates
    gradients by finite differences of forward calls it at least twice, and its gradients fail."""

    @property
    def module(self) -> str:
        return self.target.rsplit(".", 1)[0]

    @property
    def name(self) -> str:
        return self.target.rsplit(".", 1)[1]

    def check(self, name: str) -> CheckSpec | None:
        return next((c for c in self.checks if c.name == name), None)

    def cases_of(self, purpose: str) -> tuple[Case, ...]:
        """The list a case index points into: the exercise's ("case"), or a check's own (``stability``)."""
        check = self.check(purpose) if purpose != "case" else None
        return check.cases if check is not None and check.cases else self.cases

    def setting(self, purpose: str, index: int | None) -> str:
        """``stride=2, padding='same'; x (2, 3, 7, 7); W (4, 3, 3, 3)``: a case described by its public setting,
        read from course.yml alone (the hyper-parameters in force, then each array's shape); empty when the
        case is unknown. Public and hidden feedback name a case the same way."""
        cases = self.cases_of(purpose)
        if index is None or not 0 <= index < len(cases):
            return ""
        chosen = cases[index]
        hyper = {k: v for k, v in {**self.hyper, **chosen.hyper}.items()
                 if not isinstance(v, (list, tuple, dict)) or len(repr(v)) <= MAX_SETTING_VALUE}
        parts = [", ".join(f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}" for k, v in hyper.items()),
                 "; ".join(f"{n} {s.shape}" for n, s in chosen.arrays.items())]
        return "; ".join(p for p in parts if p)


MAX_SETTING_VALUE = 24
"""Longest list or mapping shown in a case's setting (a kernel size, yes; a network's layer list, no:
the exercise already says what it builds)."""


@dataclass(frozen=True)
class Assignment:
    id: str
    title: str
    exercises: tuple[Exercise, ...]


@dataclass(frozen=True)
class Course:
    """A whole course file, validated."""

    path: Path
    title: str
    assignments: tuple[Assignment, ...]
    limits: Limits
    public_seed: int
    hide: tuple[Path, ...]
    """Folders the sandboxed child must not be able to read (the solutions, above all)."""
    digest: str
    """Hash of the course file's bytes and of the course folder's own twins: part of the reference cache
    key; a result graded under another digest is graded again."""

    def is_secret(self, seed: int | None) -> bool:
        """Whether grading with ``seed`` is hidden-case grading (any seed but none or the public one)."""
        return seed is not None and seed != self.public_seed

    def seed_for(self, seed: int | None) -> int:
        """The seed cases are drawn from: the given one, else the public one."""
        return self.public_seed if seed is None else seed

    def seed_digest(self, seed: int | None) -> str:
        """A short one-way tag of the seed cases are drawn from, recorded in each result so that a rerun
        with another seed regrades; it reveals nothing of a secret seed (2^64 and more values)."""
        import hashlib

        return hashlib.sha256(f"nn-grader seed\0{self.seed_for(seed)}".encode()).hexdigest()[:16]

    @property
    def exercises(self) -> list[Exercise]:
        return [e for a in self.assignments for e in a.exercises]

    def select(self, key: str) -> list[Exercise]:
        """The exercises ``-e KEY`` names: every exercise of an assignment (``A7``), else one exercise."""
        for a in self.assignments:
            if key == a.id:
                return list(a.exercises)
        return [self.exercise(key)]

    def exercise(self, key: str) -> Exercise:
        """Find an exercise by id (``1.3``) or title (``Affine``), case-insensitively for titles."""
        for ex in self.exercises:
            if key == ex.id or key.lower() == ex.title.lower():
                return ex
        import difflib

        names = [ex.title for ex in self.exercises] + [ex.id for ex in self.exercises]
        close = difflib.get_close_matches(key, names, n=3, cutoff=0.6) or difflib.get_close_matches(
            key.lower(), [n.lower() for n in names], n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else " (`grader list` shows them)"
        raise CourseError(f"{self.path}: no exercise with id or title {key!r}{hint}")


