"""Load and validate a course file (course.yml) into the course model (:mod:`grader.model.course`).

Every error names the file, the line and the key path (``assignments[0].exercises[2].checks.gradcheck``),
and unknown keys are errors: a typo in a course file must never silently change what is graded.
The engine knows nothing about any particular course; everything course-specific is read from here.
Checking a course against the registries (its check names, its twins) happens here too, in one place:
the model itself knows no registry.

The YAML with line numbers, and the reader that knows each key's file, line, key path and schema,
are :mod:`grader.courseyaml`; this module says what each section means.

Why one module: the readers for cases, checks and limits share the exercise's context and its
cross-field rules; split, they would pass that context around for nothing.
"""
from __future__ import annotations

import hashlib
import math
from pathlib import Path

from .courseyaml import Reader, parse
from .kinds import KINDS, interfaces
from .model.course import (
    DEFAULT_RANGE,
    TWINLESS_CHECKS,
    ArraySpec,
    Assignment,
    Case,
    CheckSpec,
    Course,
    Exercise,
    Limits,
    Tolerance,
)
from .model.errors import CourseError, did_you_mean
from .release.kit import is_kit


def check_twins(course: Course) -> None:
    """Every exercise's twin exists, built in or the course folder's own (imports the twins, and so torch:
    ``grader validate`` pays for it; a check meets a missing twin when its references are computed)."""
    from .references import check

    check(course)


def known_checks() -> list[str]:
    from .checks import known

    return known()


# --------------------------------------------------------------------------- validation

_NUM = (int, float)


def _tolerance(r: Reader | None, base: Tolerance) -> Tolerance:
    if r is None:
        return base
    tol = Tolerance(float(r.number("rtol", base.rtol)), float(r.number("atol", base.atol)))
    r.done()
    return tol


def _limits(r: Reader | None) -> Limits:
    if r is None:
        return Limits()
    # the schema's ceilings are generous: beyond them setrlimit and the clocks overflow
    limits = Limits(
        timeout_s=float(r.number("timeout_s")),
        memory_mb=int(r.number("memory_mb", integer=True)),
        cpu_s=int(r.number("cpu_s", integer=True)),
        file_mb=int(r.number("file_mb", integer=True)),
        output_kb=int(r.number("output_kb", integer=True)),
    )
    r.done()
    return limits


def _array_spec(r: Reader, key: str) -> ArraySpec:
    value = r.raw(key)
    if isinstance(value, list):
        spec = ArraySpec(shape=tuple(value))
    else:
        sub = r.child(key)
        lo, hi = DEFAULT_RANGE
        spec = ArraySpec(
            shape=tuple(sub.raw("shape")),
            low=float(sub.raw("low", lo)),
            high=float(sub.raw("high", hi)),
            classes=sub.raw("classes"),
            choices=tuple(float(c) for c in sub.raw("choices") or []) or None,
            relu=sub.raw("relu"),
        )
        sub.done()
        if not all(math.isfinite(c) for c in spec.choices or ()):
            r.fail("choices must be finite numbers", key)
        if spec.low >= spec.high:
            r.fail(f"low ({spec.low}) must be below high ({spec.high})", key)
        if spec.classes is not None and spec.classes < 1:
            r.fail("classes must be at least 1", key)
        if spec.classes is not None and spec.choices is not None:
            r.fail("give classes or choices, not both", key)
        if spec.relu and (spec.classes is not None or spec.choices is not None):
            r.fail("relu applies to a uniform draw (low, high), not to classes or choices", key)
        if spec.relu and spec.low >= 0:
            r.fail(f"relu needs low below 0 (low is {spec.low}): otherwise no entry becomes 0", key)
    if not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in spec.shape):
        r.fail(f"shape must be a list of positive integers, got {list(spec.shape)}", key)
    return spec


def _case(r: Reader, arrays_required: bool = True) -> Case:
    arrays = {}
    for key in list(r.node.value):
        if key == "hyper":
            continue
        arrays[key] = _array_spec(r, key)
    hyper = r.raw("hyper")
    r.done()
    if not arrays and arrays_required:
        r.fail("a case needs at least one input array")
    return Case(arrays=arrays, hyper=hyper)


def _checks(r: Reader) -> tuple[CheckSpec, ...]:
    checks = []
    sub = r.child("checks")
    for name in sub.node.value:
        if name not in known_checks():
            sub.fail(f"unknown check {name!r}{did_you_mean(str(name), known_checks()) or ';'} known checks: "
                     f"{', '.join(known_checks())}", name)
        value = sub.raw(name)
        if isinstance(value, dict):
            opts = sub.child(name)
            weight = float(opts.raw("weight"))
            cases = tuple(_case(c) for c in opts.items("cases")) if opts.has("cases") else ()
            quantities = tuple(opts.raw("quantities", []))
            opts.done()
        else:
            weight, cases, quantities = float(value), (), ()
        if weight <= 0:
            sub.fail("a check's weight must be positive", name)
        if name in ("stability", "stochastic") and not cases:
            sub.fail(f"the {name} check needs its own 'cases'", name)
        checks.append(CheckSpec(name=name, weight=weight, cases=cases, quantities=quantities))
    sub.done()
    if not checks:
        r.fail("an exercise needs at least one check", "checks")
    return tuple(checks)


def _exercise(r: Reader, base_tol: Tolerance, seen: set[str], base_calls: int) -> Exercise:
    ex_id = str(r.raw("id"))
    if ex_id in seen:
        r.fail(f"duplicate exercise id {ex_id!r}", "id")
    seen.add(ex_id)
    kind = r.raw("kind")
    if kind not in KINDS:
        r.fail(f"kind must be one of {', '.join(KINDS)}, got {kind!r}", "kind")
    k = KINDS[kind]
    target = r.raw("target")
    if target.count(".") != 1 or not all(part.isidentifier() for part in target.split(".")):
        r.fail(f"target must look like module.Name, got {target!r}", "target")
    points = float(r.raw("points"))
    if points < 0:
        r.fail("points must be non-negative", "points")
    ex = Exercise(
        id=ex_id,
        title=r.raw("title"),
        kind=kind,
        target=target,
        reference=r.raw("reference"),
        points=points,
        checks=_checks(r),
        cases=tuple(_case(c, arrays_required=k.arrays_required) for c in r.items("cases")),
        params=tuple(r.raw("params")),
        hyper=r.raw("hyper"),
        kinks=tuple(k if isinstance(k, str) else float(k) for k in r.raw("kinks")),
        margin=float(r.number("margin")),
        tolerance=_tolerance(r.child("tolerance") if r.has("tolerance") else None, base_tol),
        inputs=tuple(r.raw("inputs", list(k.default_inputs))),
        outputs=tuple(r.raw("outputs")),
        buffers=tuple(r.raw("buffers")),
        args=tuple(tuple(a) if isinstance(a, list) else a for a in r.raw("args", [])),
        mutates=tuple(r.raw("mutates")),
        curve=tuple(float(v) for v in r.raw("curve") or []) or None,  # type: ignore[arg-type]
        problems=tuple(r.raw("problems")),
        steps=int(r.raw("steps")),
        forward_calls_in_backward=int(r.number("forward_calls_in_backward", base_calls, integer=True)),
        interface=interfaces.read(r, kind, target) if r.has("interface") else None,
        timeout_s=float(r.number("timeout_s")) if r.has("timeout_s") else None,
    )
    r.done()
    if ex.curve is not None and not all(math.isfinite(v) for v in ex.curve):
        r.fail("curve must be finite numbers", "curve")
    if not all(math.isfinite(k) for k in ex.kinks if isinstance(k, float)):
        r.fail("kinks must be finite numbers or hyper-parameter names", "kinks")
    if ex.curve is not None and (len(ex.curve) != 2 or ex.curve[0] >= ex.curve[1]):
        r.fail("curve must be [low, high] with low < high", "curve")
    if ex.curve is not None and not k.curve_allowed(ex):
        r.fail("curve applies to parameter-free layers and to losses", "curve")
    if k.problems_required and not ex.problems:
        r.fail("an optimizer exercise needs a list of problems", "problems")
    if ex.steps < 1:
        r.fail("steps must be at least 1", "steps")
    if not ex.cases:
        r.fail("an exercise needs at least one case", "cases")
    roles = k.required_arrays(ex)
    if not k.declares_io and (r.has("inputs") or r.has("outputs") or r.has("buffers")):
        r.fail("inputs, outputs and buffers apply to layers only", "inputs")
    if k.constructed and (r.has("args") or r.has("mutates")):
        r.fail("args and mutates apply to functions only", "args")
    flat_args = [n for a in ex.args for n in ((a,) if isinstance(a, str) else a)]
    for i, case in enumerate(ex.cases):
        unknown = [n for n in (*flat_args, *ex.mutates) if n not in case.arrays]
        if unknown:
            r.fail(f"case {i} lacks array(s) {', '.join(unknown)} named by args or mutates", "args")
    every_case = [*ex.cases, *(c for spec in ex.checks for c in spec.cases)]
    for k in ex.kinks:  # a case that omits a named kink's hyper-parameter uses the numeric kinks only
        if isinstance(k, str) and k not in ex.hyper and not any(k in c.hyper for c in every_case):
            r.fail(f"kink {k!r} names no hyper-parameter of any case", "kinks")
    if KINDS[kind].trains:  # a network's layers, loss, optimizer and driver are its hyper (grader.kinds.networks)
        from .kinds.networks import spec_of

        for i, case in enumerate(ex.cases):
            try:
                spec_of(ex, {**ex.hyper, **case.hyper})
            except (ValueError, TypeError, IndexError, KeyError) as e:
                r.fail(f"case {i}: {e}", "hyper")
    needing = [c.name for c in ex.checks if c.name not in TWINLESS_CHECKS]
    if ex.reference is None and needing:
        r.fail(f"missing required key 'reference' (the torch twin, or law): the {', '.join(needing)} "
               "check(s) compare with it")
    for i, case in enumerate(ex.cases):
        missing = [n for n in (*roles, *ex.params, *ex.buffers) if n not in case.arrays]
        if missing:
            r.fail(f"case {i} lacks input(s) {', '.join(missing)} needed by a {kind}", "cases")
    if ex.interface is not None:
        interfaces.check(r, ex)
    return ex


def _hide(top: Reader, path: Path) -> tuple[Path, ...]:
    """The folders to mask, each existing inside the course folder (a path outside it, or a misspelled
    one, would be masked nowhere useful while the secret it meant stays readable); the course's own twins
    (references.py, references/) always, as secret as the solutions."""
    from .references import course_twin_paths

    default = ["solutions"] if (path.parent / "solutions").exists() else []
    entries = top.raw("hide", default)
    hide = []
    for p in entries:
        if not isinstance(p, str) or not p:
            top.fail(f"expected a list of folder names, got {p!r}", "hide")
        resolved = (path.parent / p).resolve()
        if resolved == path.parent or path.parent not in resolved.parents:
            top.fail(f"{p!r} lies outside the course folder {path.parent}", "hide")
        if not resolved.exists():
            if is_kit(path.parent):  # a learner kit ships no secrets: what they would mask is absent by design
                continue
            top.fail(f"{p!r} does not exist in the course folder {path.parent} (a misspelled name would leave "
                     "the real folder readable)", "hide")
        hide.append(resolved)
    hide += [p for p in course_twin_paths(path.parent) if p not in hide]
    return tuple(hide)


def load_course(path: str | Path) -> Course:
    """Read and validate a course file (or a course folder's course.yml).

    Raises:
        CourseError: naming file, line and key path of the first problem found.
    """
    from .references import course_source_bytes

    path = Path(path).resolve()
    path = path / "course.yml" if path.is_dir() else path
    try:
        data = path.read_bytes()
    except OSError as e:
        raise CourseError(f"{path}: cannot read the course file ({e.strerror})") from None
    tree = parse(data, path)
    top = Reader(path, tree, "", "course")
    version = top.raw("version")
    if version != 1:
        top.fail(f"unsupported course file version {version}; this grader reads version 1", "version")
    tol = _tolerance(top.child("tolerance") if top.has("tolerance") else None, Tolerance())
    limits = _limits(top.child("limits") if top.has("limits") else None)
    hide = _hide(top, path)
    calls = int(top.number("forward_calls_in_backward", integer=True))
    seen: set[str] = set()
    assignments = []
    for a in top.items("assignments"):
        a_id = str(a.raw("id"))
        if a_id in (b.id for b in assignments):  # `-e A1` would pick the first
            a.fail(f"duplicate assignment id {a_id!r}", "id")
        exercises = tuple(_exercise(e, tol, seen, calls) for e in a.items("exercises"))
        assignments.append(Assignment(a_id, a.raw("title"), exercises))
        a.done()
    course = Course(
        path=path,
        title=top.raw("title"),
        assignments=tuple(assignments),
        limits=limits,
        public_seed=int(top.number("seed", integer=True)),
        hide=hide,
        digest=hashlib.sha256(data + course_source_bytes(path)).hexdigest()[:16],  # editing a twin regrades too
    )
    top.done()
    return course
