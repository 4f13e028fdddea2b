"""``grader validate``, past what loading checks: the course against its solutions/ and its torch twins.

Loading (grader.coursefile) checks the file alone. Here each exercise's target must exist in the course's
``solutions/`` (when it has one), each twin must exist and run on every declared case, and each case's
kinks must be keepable. The first problem is raised as a :class:`CourseError` naming ``course.yml:LINE``,
the key path and, for a misspelled name, the nearest known one: one line, never a traceback.

Twins are imported (and so torch): a check never pays for this, `validate` does, once.
"""
from __future__ import annotations

import ast
import math
from pathlib import Path
from typing import Any, Callable

from ..courseyaml import parse
from ..model.course import Case, Course, Exercise
from ..model.errors import CourseError, GraderError, did_you_mean

GRADCHECK_STEP = 1e-6
"""gradcheck's finite-difference step (grader.checks.gradcheck.EPS): a margin below ten of them lets the
perturbed inputs cross a kink."""


class Where:
    """course.yml's lines, found again by key path in the parsed tree (the model keeps no lines)."""

    def __init__(self, course: Course):
        self.course = course
        self.tree = parse(course.path.read_bytes(), course.path)

    def fail(self, ex: Exercise, keys: tuple[Any, ...], message: str) -> None:
        """Raise ``course.yml:LINE: assignments[i].exercises[j].KEY...: message``."""
        ai, ei = self.index(ex)
        node = self.tree.value["assignments"].value[ai].value["exercises"].value[ei]
        line, path = node.line, f"assignments[{ai}].exercises[{ei}]"
        for key in keys:
            value = node.value
            if isinstance(key, int) and isinstance(value, list) and key < len(value):
                node, path = value[key], f"{path}[{key}]"
                line = node.line
            elif isinstance(key, str) and isinstance(value, dict) and key in value:
                node, path = value[key], f"{path}.{key}"
                line = node.key_line
            else:
                break
        raise CourseError(f"{self.course.path}:{line}: {path}: {message}")

    def index(self, ex: Exercise) -> tuple[int, int]:
        for ai, a in enumerate(self.course.assignments):
            for ei, e in enumerate(a.exercises):
                if e is ex:
                    return ai, ei
        raise ValueError(ex.id)


def twins(course: Course) -> dict[str, Callable[..., Any]]:
    """The twins this course can name: the built-in ones and the course folder's own
    (grader.references.load, the one place that finds them)."""
    from ..references import load

    return load(course)


def validate(course: Course) -> None:
    """Every check of this module, in the order a course author fixes them: names, then behaviour.

    Raises:
        CourseError: the first problem, on one line naming course.yml:LINE.
    """
    where = Where(course)
    known = twins(course)
    for ex in course.exercises:
        check_target(course, ex, where)
        check_reference(ex, known, where)
        check_problems(ex, where)
        check_kinks(ex, where)
    for ex in course.exercises:
        run_twin(course, ex, known, where)


def _definitions(path: Path) -> list[str] | None:
    """Top-level classes, functions and names of a module (None when it does not parse)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except SyntaxError:
        return None
    names = []
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [t.id for t in targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.ImportFrom):
            names += [a.asname or a.name for a in node.names]
    return names


def check_target(course: Course, ex: Exercise, where: Where) -> None:
    """The target's module is in solutions/ and defines the name (a course without solutions/: skipped)."""
    solutions = course.path.parent / "solutions"
    if not solutions.is_dir():
        return
    module = solutions / f"{ex.module}.py"
    if not module.is_file() and (solutions / ex.module / "__init__.py").is_file():
        module = solutions / ex.module / "__init__.py"  # a package
    if not module.is_file():
        if (solutions / f"{ex.module}.ipynb").is_file():
            return  # a notebook solution: its definitions are the notebook's cells
        modules = sorted(p.stem for p in solutions.glob("*.py"))
        where.fail(ex, ("target",), f"{ex.target}: no module {ex.module}.py in {solutions}"
                   f"{did_you_mean(ex.module, modules)}")
    names = _definitions(module)
    if names is None:
        where.fail(ex, ("target",), f"{ex.target}: {module} does not parse")
    if ex.name not in names:  # type: ignore[operator]
        hint = did_you_mean(ex.name, names)  # type: ignore[arg-type]
        hint = hint.replace("did you mean '", f"did you mean '{ex.module}.") if hint else ""
        where.fail(ex, ("target",), f"{ex.target}: no class or function {ex.name} in {module}{hint}")
    backward = ex.interface.backward if ex.interface is not None else ""
    if backward:  # an interface's backward function (module.name), in the same module or another
        other_module, other = backward.rsplit(".", 1)
        path = solutions / f"{other_module}.py"
        other_names = names if other_module == ex.module else _definitions(path) if path.is_file() else []
        if other not in (other_names or []):
            hint = did_you_mean(other, other_names or [])
            where.fail(ex, ("interface", "backward"), f"{backward}: no function {other} in {path}{hint}")


def check_reference(ex: Exercise, known: dict[str, Any], where: Where) -> None:
    if ex.reference is not None and ex.reference not in known:
        where.fail(ex, ("reference",), f"no torch twin named {ex.reference!r}{did_you_mean(ex.reference, sorted(known))}")


def check_problems(ex: Exercise, where: Where) -> None:
    if not ex.problems:
        return
    from ..references.problems import PROBLEMS

    for i, problem in enumerate(ex.problems):
        if problem not in PROBLEMS:
            where.fail(ex, ("problems", i), f"no test problem named {problem!r}"
                       f"{did_you_mean(str(problem), sorted(PROBLEMS)) or '; known: ' + ', '.join(sorted(PROBLEMS))}")


def _all_cases(ex: Exercise) -> list[tuple[tuple[Any, ...], str, int, Case]]:
    """(key path, purpose, index, case) of the exercise's cases, then each check's own."""
    out = [(("cases", i), "case", i, c) for i, c in enumerate(ex.cases)]
    for spec in ex.checks:
        out += [(("checks", spec.name, "cases", i), spec.name, i, c) for i, c in enumerate(spec.cases)]
    return out


def check_kinks(ex: Exercise, where: Where) -> None:
    """Each case can keep its float inputs ``margin`` away from every kink (grader.kinds.inputs.draw pushes
    an entry within the margin of a kink out to between one and two margins from it, kink after kink)."""
    if not ex.kinks:
        return
    if ex.margin < 10 * GRADCHECK_STEP and ex.check("gradcheck") is not None:
        where.fail(ex, ("margin",), f"margin {ex.margin:g} cannot keep inputs off the kinks for gradcheck: its "
                   f"finite differences step {GRADCHECK_STEP:g} across them; use at least {10 * GRADCHECK_STEP:g}")
    for keys, _purpose, i, case in _all_cases(ex):
        hyper = {**ex.hyper, **case.hyper}
        kinks = []
        for k in ex.kinks:
            if isinstance(k, str):
                if k not in hyper:
                    continue
                value = hyper[k]
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                    where.fail(ex, keys, f"case {i}: kink {k!r} is {value!r}, not a finite number")
                kinks.append(float(value))
            else:
                kinks.append(k)
        distinct = sorted(set(kinks))
        close = [(a, b) for a, b in zip(distinct, distinct[1:]) if b - a < 3 * ex.margin]
        if close:
            a, b = close[0]
            where.fail(ex, keys, f"case {i}: kinks {a:g} and {b:g} are closer than 3 margins ({3 * ex.margin:g}): "
                       "an input pushed off one lands near the other; lower margin")
        for name, spec in case.arrays.items():
            if name in ex.params or not spec.smooth:
                continue
            for k in distinct:
                if k - ex.margin <= spec.low and spec.high <= k + ex.margin:
                    where.fail(ex, (*keys, name), f"case {i}: {name} in [{spec.low:g}, {spec.high:g}] lies within "
                               f"margin {ex.margin:g} of kink {k:g}: every entry would be pushed out of its range")


def run_twin(course: Course, ex: Exercise, known: dict[str, Any], where: Where) -> None:
    """Run the twin once on each declared case (public seed, CPU); a failure names the case's line."""
    from .. import references
    from ..kinds import kind_of
    from ..kinds.inputs import case_arrays, rng_for, upstream_gradient

    if ex.reference is None:
        return
    kind = kind_of(ex)
    seed = course.public_seed
    with references.one_torch_thread():
        if kind.trains:
            return  # a network's twin is the grader's own training run; its spec was checked on loading
        if kind.problems_required:
            from ..references.optim import trajectory

            for i, case in enumerate(ex.cases):
                for problem in ex.problems:
                    try:
                        trajectory(known[ex.reference], problem, {**ex.hyper, **case.hyper}, min(ex.steps, 2),
                                   rng_for(seed, ex.id, "validate", problem, i))
                    except GraderError:
                        raise
                    except Exception as e:
                        kind = getattr(e, "kind", type(e).__name__)  # references.optim.TrajectoryError
                        where.fail(ex, ("cases", i), f"case {i}: the torch twin {ex.reference!r} fails on problem "
                                   f"{problem!r}: {kind}: {_first_line(e)}")
            return
        from ..engine.expected import REFERENCED

        for keys, purpose, i, case in _all_cases(ex):
            if purpose != "case" and purpose not in REFERENCED:
                continue
            arrays = case_arrays(ex, case, seed, purpose, i)

            def make_dout(shape: tuple[int, ...], name: str, purpose: str = purpose, i: int = i) -> Any:
                return upstream_gradient(shape, seed, ex, purpose, i, name)

            call = kind.twin_call(ex, arrays, {**ex.hyper, **case.hyper}, make_dout, "cpu")
            try:
                references.compute(call, known)
            except GraderError:
                raise
            except Exception as e:
                where.fail(ex, keys, f"case {i}: the torch twin {ex.reference!r} fails: {type(e).__name__}: "
                           f"{_first_line(e)}")


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else ""
