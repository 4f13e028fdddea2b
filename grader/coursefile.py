"""Load and validate a course file (course.yml) into the course model (:mod:`grader.model.course`).

Every error names the file, the line and the key path (``assignments[0].exercises[2].checks.gradcheck``),
and unknown keys are errors: a typo in a course file must never silently change what is graded.
The engine knows nothing about any particular course; everything course-specific is read from here.
Checking a course against the registries (its check names, its twins) happens here too, in one place:
the model itself knows no registry.

Why one module: every message goes through one reader that knows the file, the line and the key
path; split, the readers for cases, checks and limits would pass that context around for nothing.
"""
from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

import yaml

from .kinds import KINDS
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
from .model.errors import CourseError


def check_twins(course: Course) -> None:
    """Every exercise's twin exists, built in or the course folder's own (imports the twins, and so torch:
    ``grader validate`` pays for it; a check meets a missing twin when its references are computed)."""
    from .references import check

    check(course)


def known_checks() -> list[str]:
    from .checks import known

    return known()


# --------------------------------------------------------------------------- YAML with line numbers

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser where PyYAML was built with it: the pure-Python one took ~0.2 s of every check."""


MAX_NODES = 100_000
"""Most YAML values a course file may expand to, aliases counted at each use: a 1 KB "billion laughs"
alias bomb expands to 10**9 and would take minutes and gigabytes to wrap."""


def _check_expansion(root: yaml.Node, path: Path) -> None:
    """Refuse alias bombs and recursive aliases before anything is expanded: the composed graph shares
    aliased nodes, so its expanded size is counted in time linear in the file."""
    sizes: dict[int, int] = {}
    on_stack: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in on_stack:
            raise CourseError(f"{path}:{node.start_mark.line + 1}: a recursive alias (an anchor used inside "
                              "itself) is refused")
        on_stack.add(key)
        children = ([n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode)
                    else node.value if isinstance(node, yaml.SequenceNode) else [])
        total = 1
        for child in children:
            total += size(child)
            if total > MAX_NODES:
                raise CourseError(f"{path}:{node.start_mark.line + 1}: aliases expand this value to more than "
                                  f"{MAX_NODES} values (an alias bomb?)")
        on_stack.discard(key)
        sizes[key] = total
        return total

    size(root)


class _Node:
    """A YAML value with the line it came from, so validation errors can point at it."""

    def __init__(self, value: Any, line: int):
        self.value = value
        self.line = line
        self.key_line = line
        """For a mapping's value: the line of its key (a block value starts on a later line)."""


def _wrap(node: yaml.Node, loader: yaml.SafeLoader, file: Path, where: str = "") -> _Node:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, _Node] = {}
        for key_node, value_node in node.value:
            key = str(loader.construct_object(key_node))
            if key in out:  # YAML would silently keep the last one: a course must say what it means once
                raise CourseError(f"{file}:{key_node.start_mark.line + 1}: {(where + '.' + key).lstrip('.')}: "
                                  f"duplicate key {key!r} (first on line {out[key].key_line})")
            out[key] = _wrap(value_node, loader, file, f"{where}.{key}")
            out[key].key_line = key_node.start_mark.line + 1
        return _Node(out, line)
    if isinstance(node, yaml.SequenceNode):
        return _Node([_wrap(n, loader, file, f"{where}[{i}]") for i, n in enumerate(node.value)], line)
    return _Node(loader.construct_object(node), line)


def _unwrap(node: _Node) -> Any:
    if isinstance(node.value, dict):
        return {k: _unwrap(v) for k, v in node.value.items()}
    if isinstance(node.value, list):
        return [_unwrap(v) for v in node.value]
    return node.value


class _Reader:
    """Typed access to a YAML mapping that reports the file, line and key path of any problem."""

    def __init__(self, file: Path, node: _Node, path: str):
        self.file, self.node, self.path = file, node, path
        if not isinstance(node.value, dict):
            self.fail(f"expected a mapping, got {type(node.value).__name__}")
        self.used: set[str] = set()

    def fail(self, message: str, key: str | None = None) -> None:
        line = self.node.value[key].key_line if key and key in self.node.value else self.node.line
        where = f"{self.path}.{key}" if key else self.path
        raise CourseError(f"{self.file}:{line}: {where.lstrip('.') or '(top)'}: {message}")

    def has(self, key: str) -> bool:
        return key in self.node.value

    def raw(self, key: str, default: Any = ..., *, types: tuple[type, ...] = ()) -> Any:
        self.used.add(key)
        if key not in self.node.value:
            if default is ...:
                self.fail(f"missing required key {key!r}")
            return default
        value = _unwrap(self.node.value[key])
        if isinstance(value, float) and not math.isfinite(value):
            self.fail(f"expected a finite number, got {value!r}", key)
        if types and not (isinstance(value, types) and not (isinstance(value, bool) and bool not in types)):
            names = " or ".join(t.__name__ for t in types)
            self.fail(f"expected {names}, got {type(value).__name__} {value!r}", key)
        return value

    def number(self, key: str, default: Any, low: float, high: float = math.inf, *, integer: bool = False,
               low_open: bool = False) -> Any:
        """A finite number within [low, high] (or (low, high] with ``low_open``), named in the error."""
        value = self.raw(key, default, types=(int,) if integer else _NUM)
        if value < low or (low_open and value == low) or value > high:
            bound = ("positive" if low_open and low == 0 else "non-negative" if low == 0 else f"at least {low}") + \
                (f" and at most {high}" if high < math.inf else "")
            self.fail(f"must be {bound}, got {value!r}", key)
        return value

    def child(self, key: str) -> _Reader:
        self.used.add(key)
        return _Reader(self.file, self.node.value[key], f"{self.path}.{key}")

    def items(self, key: str) -> list[_Reader]:
        self.used.add(key)
        node = self.node.value.get(key)
        if node is None or not isinstance(node.value, list):
            self.fail(f"expected a list under {key!r}", key)
        return [_Reader(self.file, n, f"{self.path}.{key}[{i}]") for i, n in enumerate(node.value)]

    def done(self) -> None:
        """Refuse keys nobody read: they are typos or options this engine does not have."""
        for key in self.node.value:
            if key not in self.used:
                self.fail(f"unknown key {key!r}", key)


# --------------------------------------------------------------------------- validation

_NUM = (int, float)


def _tolerance(r: _Reader | None, base: Tolerance) -> Tolerance:
    if r is None:
        return base
    tol = Tolerance(float(r.raw("rtol", base.rtol, types=_NUM)), float(r.raw("atol", base.atol, types=_NUM)))
    r.done()
    if tol.rtol < 0 or tol.atol < 0:
        r.fail("tolerances must be non-negative")
    return tol


def _limits(r: _Reader | None) -> Limits:
    if r is None:
        return Limits()
    d = Limits()
    day, tb = 86_400, 1 << 20  # generous ceilings: beyond them setrlimit and the clocks overflow
    limits = Limits(
        timeout_s=float(r.number("timeout_s", d.timeout_s, 0, day, low_open=True)),
        memory_mb=int(r.number("memory_mb", d.memory_mb, 128, tb, integer=True)),
        cpu_s=int(r.number("cpu_s", d.cpu_s, 1, day, integer=True)),
        file_mb=int(r.number("file_mb", d.file_mb, 1, tb, integer=True)),
        output_kb=int(r.number("output_kb", d.output_kb, 0, tb, integer=True)),
    )
    r.done()
    return limits


def _array_spec(r: _Reader, key: str) -> ArraySpec:
    value = r.raw(key, types=(list, dict))
    if isinstance(value, list):
        spec = ArraySpec(shape=tuple(value))
    else:
        sub = r.child(key)
        lo, hi = DEFAULT_RANGE
        spec = ArraySpec(
            shape=tuple(sub.raw("shape", types=(list,))),
            low=float(sub.raw("low", lo, types=_NUM)),
            high=float(sub.raw("high", hi, types=_NUM)),
            classes=sub.raw("classes", None, types=(int,)),
            choices=tuple(float(c) for c in sub.raw("choices", [], types=(list,))) or None,
            relu=sub.raw("relu", False, types=(bool,)),
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


def _case(r: _Reader, arrays_required: bool = True) -> Case:
    arrays = {}
    for key in list(r.node.value):
        if key == "hyper":
            continue
        arrays[key] = _array_spec(r, key)
    hyper = r.raw("hyper", {}, types=(dict,))
    r.done()
    if not arrays and arrays_required:
        r.fail("a case needs at least one input array")
    return Case(arrays=arrays, hyper=hyper)


def _checks(r: _Reader) -> tuple[CheckSpec, ...]:
    checks = []
    sub = r.child("checks")
    for name in sub.node.value:
        if name not in known_checks():
            sub.fail(f"unknown check {name!r}; known checks: {', '.join(known_checks())}", name)
        value = sub.raw(name, types=(int, float, dict))
        if isinstance(value, dict):
            opts = sub.child(name)
            weight = float(opts.raw("weight", 1.0, types=_NUM))
            cases = tuple(_case(c) for c in opts.items("cases")) if opts.has("cases") else ()
            quantities = tuple(opts.raw("quantities", [], types=(list,)))
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


def _exercise(r: _Reader, base_tol: Tolerance, seen: set[str], base_calls: int) -> Exercise:
    ex_id = str(r.raw("id", types=(str, int, float)))
    if ex_id in seen:
        r.fail(f"duplicate exercise id {ex_id!r}", "id")
    seen.add(ex_id)
    kind = r.raw("kind", types=(str,))
    if kind not in KINDS:
        r.fail(f"kind must be one of {', '.join(KINDS)}, got {kind!r}", "kind")
    k = KINDS[kind]
    target = r.raw("target", types=(str,))
    if target.count(".") != 1 or not all(part.isidentifier() for part in target.split(".")):
        r.fail(f"target must look like module.Name, got {target!r}", "target")
    points = float(r.raw("points", types=_NUM))
    if points < 0:
        r.fail("points must be non-negative", "points")
    ex = Exercise(
        id=ex_id,
        title=r.raw("title", types=(str,)),
        kind=kind,
        target=target,
        reference=r.raw("reference", None, types=(str,)),
        points=points,
        checks=_checks(r),
        cases=tuple(_case(c, arrays_required=k.arrays_required) for c in r.items("cases")),
        params=tuple(r.raw("params", [], types=(list,))),
        hyper=r.raw("hyper", {}, types=(dict,)),
        kinks=tuple(k if isinstance(k, str) else float(k) for k in r.raw("kinks", [], types=(list,))),
        margin=float(r.number("margin", 1e-2, 0)),
        tolerance=_tolerance(r.child("tolerance") if r.has("tolerance") else None, base_tol),
        inputs=tuple(r.raw("inputs", list(k.default_inputs), types=(list,))),
        outputs=tuple(r.raw("outputs", ["out"], types=(list,))),
        buffers=tuple(r.raw("buffers", [], types=(list,))),
        args=tuple(tuple(a) if isinstance(a, list) else a for a in r.raw("args", [], types=(list,))),
        mutates=tuple(r.raw("mutates", [], types=(list,))),
        curve=tuple(float(v) for v in r.raw("curve", [], types=(list,))) or None,  # type: ignore[arg-type]
        problems=tuple(r.raw("problems", [], types=(list,))),
        steps=int(r.raw("steps", 50, types=(int,))),
        forward_calls_in_backward=int(r.number("forward_calls_in_backward", base_calls, 0, 1 << 30, integer=True)),
        timeout_s=float(r.number("timeout_s", 0, 0, 3600, low_open=True)) if r.has("timeout_s") else None,
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
    return ex


def _hide(top: _Reader, path: Path) -> tuple[Path, ...]:
    """The folders to mask, each existing inside the course folder (a path outside it, or a misspelled
    one, would be masked nowhere useful while the secret it meant stays readable); the course's own twins
    (references.py, references/) always, as secret as the solutions."""
    from .references import course_twin_paths

    default = ["solutions"] if (path.parent / "solutions").exists() else []
    entries = top.raw("hide", default, types=(list,))
    hide = []
    for p in entries:
        if not isinstance(p, str) or not p:
            top.fail(f"expected a list of folder names, got {p!r}", "hide")
        resolved = (path.parent / p).resolve()
        if resolved == path.parent or path.parent not in resolved.parents:
            top.fail(f"{p!r} lies outside the course folder {path.parent}", "hide")
        if not resolved.exists():
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
    loader = _LOADER(data.decode("utf-8", errors="replace"))
    try:
        root = loader.get_single_node()
        if root is None:
            raise CourseError(f"{path}: the course file is empty")
        _check_expansion(root, path)
        tree = _wrap(root, yaml.SafeLoader(""), path)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise CourseError(f"{path}{line}: not valid YAML: {getattr(e, 'problem', e)}") from None
    except RecursionError:
        raise CourseError(f"{path}: not valid YAML: nested too deeply") from None
    finally:
        loader.dispose()
    top = _Reader(path, tree, "")
    version = top.raw("version", types=(int,))
    if version != 1:
        top.fail(f"unsupported course file version {version}; this grader reads version 1", "version")
    tol = _tolerance(top.child("tolerance") if top.has("tolerance") else None, Tolerance())
    limits = _limits(top.child("limits") if top.has("limits") else None)
    hide = _hide(top, path)
    calls = int(top.number("forward_calls_in_backward", 1, 0, 1 << 30, integer=True))
    seen: set[str] = set()
    assignments = []
    for a in top.items("assignments"):
        exercises = tuple(_exercise(e, tol, seen, calls) for e in a.items("exercises"))
        assignments.append(Assignment(str(a.raw("id", types=(str, int))), a.raw("title", types=(str,)), exercises))
        a.done()
    course = Course(
        path=path,
        title=top.raw("title", types=(str,)),
        assignments=tuple(assignments),
        limits=limits,
        public_seed=int(top.number("seed", 0, 0, 2 ** 32 - 1, integer=True)),
        hide=hide,
        digest=hashlib.sha256(data + course_source_bytes(path)).hexdigest()[:16],  # editing a twin regrades too
    )
    top.done()
    return course
