"""Learner notebooks: one per assignment, made of the released stubs, each followed by a check cell.

A course is written as modules (``solutions/layers.py``), but it is taken in Jupyter. Rather than a
second stubber, a notebook is cut out of the module text :mod:`grader.release.stubs` already produces:
each top-level statement becomes a *segment* (its leading comments included), the segments that define
an exercise's target become that exercise's answer cell, and everything else the stubs need (imports,
constants, private helpers, a base class from another assignment) goes into support cells above them.
A support segment that uses a target (a subclass of one) stays after it, so every cell runs top to
bottom; names are looked up when a call runs, so helpers may come first.

The writer takes the module text from a callable, so the same cells serve the learners (stubs) and the
nbgrader source notebook (solutions, whose ``### BEGIN SOLUTION`` markers nbgrader strips itself).
Every cell says what it is in ``metadata["grader"]`` (``role``: intro, import-check, imports, module,
support, exercise, answer, check; ``exercise``: the id), so another writer can find and change cells
without parsing their text.

All of one notebook shares one namespace (the notebook front grades a notebook as one module), so two
modules defining one name differently, or an import of another course module that the notebook does
not define, is a :class:`ReleaseError` rather than a notebook that silently grades the wrong code.
"""
from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import nbformat
from nbformat.notebooknode import NotebookNode

from ..model.course import Assignment, Course, Exercise
from .stubs import ReleaseError, _split_lines, strip_solutions

__all__ = ["Segment", "assignment_notebook", "check_source", "diff_notebooks", "exercise_cells", "module_segments",
           "notebook_name", "release_notebooks", "solution_source", "stable_ids", "stub_source",
           "write_notebook"]

ALLOWED_IMPORTS = "numpy and the Python standard library"
IMPORT_CHECK = "from grader.notebook import check"


@dataclass(frozen=True)
class Segment:
    """One top-level statement of a module, with the comment lines just above it."""

    text: str
    defines: frozenset[str]
    """Top-level names it binds (class, def, assignment, import)."""
    loads: frozenset[str]
    """Names it reads anywhere inside (bases, decorators, bodies), less what it defines."""
    is_import: bool
    imports_from: str | None = None
    """For ``from X import ...`` and ``import X``: X (imports of other course modules must be resolved)."""


def _bound_names(node: ast.stmt) -> set[str]:
    names: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(sub.name)
        elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            names.add(sub.id)
        elif isinstance(sub, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in sub.names)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        # Names bound inside a def or class body are not module names.
        return {node.name}
    return names


def module_segments(source: str, filename: str = "<module>") -> tuple[str | None, list[Segment]]:
    """Split a module into its docstring and one segment per top-level statement.

    Args:
        source: The module text (a solution or its stub: their top-level statements are the same).
        filename: For error messages.

    Returns:
        ``(docstring, segments)``: the cleaned module docstring (None if absent) and the segments in
        module order; blank lines between them are dropped, comments go with the statement below.

    Raises:
        ReleaseError: If the source does not parse.
    """
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as error:
        raise ReleaseError(filename, error.lineno, f"the module does not parse: {error.msg}") from error
    lines = _split_lines(source)
    body = list(tree.body)
    docstring = ast.get_docstring(tree, clean=True)
    start = 0
    if docstring is not None:
        start = body[0].end_lineno  # type: ignore[assignment]
        body = body[1:]
    segments = []
    for index, node in enumerate(body):
        end = len(lines) if index == len(body) - 1 else node.end_lineno  # trailing comments: the last one
        while end < len(lines) and (not lines[end].strip() or re.match(r"[ \t]+#", lines[end])):
            end += 1  # indented comments after the last statement (a closing ### END SOLUTION) are its own
        text = "".join(lines[start:end]).strip("\n").rstrip() + "\n"
        start = end  # type: ignore[assignment]
        defines = _bound_names(node)
        loads = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        is_import = isinstance(node, (ast.Import, ast.ImportFrom))
        imports_from = (node.module if isinstance(node, ast.ImportFrom) and not node.level
                        else node.names[0].name.split(".")[0] if isinstance(node, ast.Import) else None)
        segments.append(Segment(text, frozenset(defines), frozenset(loads - defines), is_import, imports_from))
    return docstring, segments


def _meta(role: str, exercise: Exercise | None = None, **extra: str) -> dict:
    grader = {"role": role, **extra}
    if exercise is not None:
        grader["exercise"] = exercise.id
    return {"grader": grader}


def check_source(exercise: Exercise) -> str:
    """The text of the check cell under an exercise: by id (unique), with the title as a comment."""
    return f'check("{exercise.id}")  # {exercise.title}'


def exercise_cells(course: Course, exercise: Exercise, *, answer: str) -> list[NotebookNode]:
    """The cells of one exercise: a heading, the answer cell (``answer``: stub or solution), a check.

    Args:
        course: The course (for the module list in the heading).
        exercise: The exercise.
        answer: The code of the answer cell: the stub's text for learners, the solution's (with its
            markers) for an nbgrader source notebook.
    """
    points = f"{exercise.points:g} point{'s' if exercise.points != 1 else ''}"
    heading = (f"### {exercise.id} {exercise.title} ({points})\n\n"
               f"Write `{exercise.name}` (graded as `{exercise.target}`): replace each "
               "`raise NotImplementedError(...)` below by your code, then run the check cell under it.")
    return [
        nbformat.v4.new_markdown_cell(heading, metadata=_meta("exercise", exercise)),
        nbformat.v4.new_code_cell(answer.rstrip("\n"), metadata=_meta("answer", exercise)),
        nbformat.v4.new_code_cell(check_source(exercise), metadata=_meta("check", exercise)),
    ]


def _intro(course: Course, assignment: Assignment, earlier: list[str] | None = None) -> str:
    total = sum(e.points for e in assignment.exercises)
    rows = "\n".join(f"| {e.id} | {e.title} | `{e.target}` | {e.points:g} |" for e in assignment.exercises)
    return (
        f"# {assignment.id}: {assignment.title}\n\n"
        f"*{course.title}*\n\n"
        f"Implement the {len(assignment.exercises)} exercises below ({total:g} points in all):\n\n"
        f"| id | exercise | graded as | points |\n| --- | --- | --- | --- |\n{rows}\n\n"
        "Each exercise is a cell of code whose docstring states the formula, the shapes and the "
        "convention it follows (PyTorch's); the parts you write raise `NotImplementedError` until you "
        "do. Keep the names and signatures as they are: the grader finds your code by the names it "
        "defines.\n\n"
        f"**Rules.** Your exercise code may import only {ALLOWED_IMPORTS} (not torch, scipy, "
        "scikit-learn...). Experiment cells may print and plot: the grader keeps only imports, `def`, "
        "`class` and constants, leaves plotting imports out, and lists what it did not run.\n\n"
        "**Checking.** Run the cells from the top (the first imports the check), then the check cell "
        f"under an exercise (`check(\"{assignment.exercises[0].id}\")`) grades that exercise here and shows "
        "the messages and "
        f"figures; `check(\"{assignment.id}\")` grades the whole assignment. From a terminal, "
        "`grader check .` in the folder of this notebook grades everything."
        + (f"\n\n**Your earlier work.** This assignment builds on your own classes: keep "
           f"{', '.join(f'`{m}.py`' for m in earlier)} (your solutions of the earlier assignments) in the "
           "folder of this notebook." if earlier else "")
    )


def _module_heading(module: str, docstring: str | None) -> str:
    text = f"## Module `{module}`"
    return f"{text}\n\n{docstring}" if docstring else text


def _order(exercises: list[tuple[Exercise, Segment]]) -> list[tuple[Exercise, Segment]]:
    """Course order, except that an exercise using another's target (a subclass) comes after it."""
    pending = list(exercises)
    out: list[tuple[Exercise, Segment]] = []
    while pending:
        waiting = {name for _, seg in pending for name in seg.defines}
        ready = next((item for item in pending if not (item[1].loads & (waiting - item[1].defines))), pending[0])
        out.append(ready)
        pending.remove(ready)
    return out


class _Builder:
    """The state one notebook's modules share: its imports and every top-level name it defines."""

    def __init__(self, course: Course, assignment: Assignment) -> None:
        self.course, self.assignment = course, assignment
        self.course_modules = {e.module for e in course.exercises}
        self.course_targets = {e.target for e in course.exercises}
        self.imports: list[str] = []
        self.defined: dict[str, str] = {}  # name -> text of the segment defining it, across modules
        self.cross_imports: list[tuple[str, Segment]] = []

    def claim(self, seg: Segment, module: str) -> bool:
        """Record seg's names; False if an identical segment is already there, an error on a clash."""
        if seg.text in self.defined.values() and all(self.defined.get(n) == seg.text for n in seg.defines):
            return False
        for name in sorted(seg.defines):
            if self.defined.get(name, seg.text) != seg.text:
                raise ReleaseError(f"{module}.py", None, f"{name!r} is defined differently by two modules of "
                                   f"assignment {self.assignment.id}: one notebook cannot hold both")
        self.defined.update(dict.fromkeys(seg.defines, seg.text))
        return True

    def _support(self, module: str, segments: list[Segment], answers: list[tuple[Exercise, Segment]]) -> list[Segment]:
        """Everything but the answers, less other assignments' targets that nothing kept uses."""
        mine = {id(seg) for _, seg in answers}
        needed: set[str] = set().union(*(seg.loads for _, seg in answers))
        support = []
        for seg in reversed(segments):
            other_target = any(f"{module}.{n}" in self.course_targets for n in seg.defines)
            if id(seg) in mine or (other_target and not seg.defines & needed):
                continue
            support.append(seg)
            needed |= seg.loads
        return support[::-1]

    def module_cells(self, module: str, source: str) -> list[NotebookNode]:
        """A module's heading, its support cell, then each exercise's cells; a support segment that uses
        a target goes right after the last target it uses."""
        filename = f"{module}.py"
        docstring, segments = module_segments(source, filename)
        by_name: dict[str, Segment] = {}
        for seg in segments:
            by_name.update((name, seg) for name in seg.defines if name not in by_name)
        answers = []
        for ex in (e for e in self.assignment.exercises if e.module == module):
            seg = by_name.get(ex.name)
            if seg is None or seg.is_import:
                raise ReleaseError(filename, None, f"exercise {ex.id} needs {ex.name!r} defined at the top level")
            answers.append((ex, seg))
        targets = {name for _, seg in answers for name in seg.defines}
        early: list[Segment] = []
        late: list[Segment] = []
        for seg in self._support(module, segments, answers):
            (late if seg.loads & (targets | {n for s in late for n in s.defines}) else early).append(seg)

        helpers = []
        for seg in early:
            if seg.is_import and seg.imports_from in self.course_modules:
                self.cross_imports.append((module, seg))
            elif seg.is_import:
                self.imports += [] if seg.text in self.imports else [seg.text]
            elif self.claim(seg, module):
                helpers.append(seg.text.rstrip("\n"))
        support = _meta("support", module=module)
        heading = _module_heading(module, docstring)
        cells = [nbformat.v4.new_markdown_cell(heading, metadata=_meta("module", module=module))]
        if helpers:
            cells.append(nbformat.v4.new_code_cell("\n\n\n".join(helpers), metadata=support))
        placed: set[str] = set()
        for ex, seg in _order(answers):
            self.claim(seg, module)
            placed |= seg.defines
            cells.extend(exercise_cells(self.course, ex, answer=seg.text))
            for later in [s for s in late if not s.loads & (targets - placed)]:
                late.remove(later)
                if self.claim(later, module):
                    cells.append(nbformat.v4.new_code_cell(later.text.rstrip("\n"), metadata=support))
        return cells

    def check_cross_imports(self) -> list[str]:
        """Imports of other course modules whose names this notebook does not define are kept: they
        import the learner's own work of earlier assignments (the capstone builds networks from it).
        Returns those modules (the introduction asks for them beside the notebook)."""
        needed: list[str] = []
        for _module, seg in self.cross_imports:
            if any(n not in self.defined for n in seg.defines):
                if seg.text not in self.imports:
                    self.imports.append(seg.text)
                needed += [] if seg.imports_from in needed else [seg.imports_from]
        return needed


def assignment_notebook(course: Course, assignment: Assignment, source_for: Callable[[str], str],
                        *, check: bool = True) -> NotebookNode:
    """The notebook of one assignment.

    Args:
        course: The course.
        assignment: The assignment.
        source_for: Module name -> that module's text: :func:`stub_source` for learners,
            :func:`solution_source` for an nbgrader source notebook.
        check: Whether to add the ``from grader.notebook import check`` cell and one check cell per
            exercise (a writer that puts its own test cells there may leave them out).

    Returns:
        A v4 notebook: introduction, the check import, one imports cell, then per module (in order of
        the assignment's first exercise in it) its docstring, its support code and its exercises.

    Raises:
        ReleaseError: If a module does not parse, a target is not defined at its module's top level, or
            two modules define one name differently. An import of another course module whose names the
            notebook does not define is kept (the learner's earlier work), and the introduction says so.
    """
    builder = _Builder(course, assignment)
    sections = [builder.module_cells(module, source_for(module))
                for module in dict.fromkeys(e.module for e in assignment.exercises)]
    earlier = builder.check_cross_imports()
    cells = [nbformat.v4.new_markdown_cell(_intro(course, assignment, earlier), metadata=_meta("intro"))]
    if check:
        cells.append(nbformat.v4.new_code_cell(IMPORT_CHECK, metadata=_meta("import-check")))
    if builder.imports:
        cells.append(nbformat.v4.new_code_cell("\n".join(i.rstrip("\n") for i in builder.imports),
                                               metadata=_meta("imports")))
    cells += [c for section in sections for c in section if check or c.metadata["grader"]["role"] != "check"]
    nb = nbformat.v4.new_notebook(cells=cells)
    stable_ids(nb)
    nb.metadata.update({
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        "grader": {"assignment": assignment.id},
    })
    return nb


def stable_ids(nb: NotebookNode) -> None:
    """Give every cell an id made of its place and role (nbformat draws random ones), so that writing the
    same notebook twice gives the same bytes and ``release --check`` can compare them."""
    for index, cell in enumerate(nb.cells, start=1):
        grader = cell.get("metadata", {}).get("grader", {})
        label = "-".join(str(grader[k]) for k in ("role", "exercise") if k in grader) or cell.cell_type
        cell["id"] = f"c{index:03d}-" + "".join(c if c.isalnum() or c in "-_" else "_" for c in label)[:50]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise ReleaseError(str(path), None, "the module of an exercise is missing from the solutions") from error
    except UnicodeDecodeError as error:
        raise ReleaseError(str(path), None, f"not valid UTF-8: {error}") from error


def solution_source(solutions_dir: Path) -> Callable[[str], str]:
    """Module name -> the solution's text, markers included (for an nbgrader source notebook)."""
    return lambda module: _read(solutions_dir / f"{module.replace('.', '/')}.py")


def stub_source(solutions_dir: Path) -> Callable[[str], str]:
    """Module name -> the released stub's text (:func:`grader.release.stubs.strip_solutions`)."""

    def source(module: str) -> str:
        path = solutions_dir / f"{module.replace('.', '/')}.py"
        return strip_solutions(_read(path), str(path))

    return source


def notebook_name(assignment: Assignment) -> str:
    """The file name of an assignment's notebook: its id, made safe for a file name."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in assignment.id).lstrip(".")
    return f"{safe or 'assignment'}.ipynb"


def write_notebook(nb: NotebookNode) -> bytes:
    """The bytes of a notebook file, validated and the same on every run (so ``--check`` can compare)."""
    nbformat.validate(nb)
    return (nbformat.writes(nb) + "\n").encode("utf-8")


def _expected(course: Course, solutions_dir: Path) -> dict[str, bytes]:
    if not solutions_dir.is_dir():
        raise ReleaseError(str(solutions_dir), None, "the solutions folder does not exist")
    source = functools.cache(stub_source(solutions_dir))  # a module serves several assignments
    expected = {notebook_name(a): write_notebook(assignment_notebook(course, a, source)) for a in course.assignments}
    if len(expected) < len(course.assignments):
        raise ReleaseError(str(course.path), None, "two assignment ids give one notebook file name")
    return expected


def release_notebooks(course: Course, solutions_dir: Path, out_dir: Path) -> list[Path]:
    """Write one learner notebook per assignment into ``out_dir``; every notebook is built before any write.

    Returns:
        The paths written, sorted.

    Raises:
        ReleaseError: If a solution cannot be stripped or cut into cells (nothing is written then).
    """
    expected = _expected(course, solutions_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in expected.items():
        (out_dir / name).write_bytes(content)
        written.append(out_dir / name)
    return sorted(written)


def diff_notebooks(course: Course, solutions_dir: Path, out_dir: Path) -> list[str]:
    """Names of the notebooks in ``out_dir`` that :func:`release_notebooks` would write differently."""
    expected = _expected(course, solutions_dir)
    return sorted(name for name, content in expected.items()
                  if not (out_dir / name).is_file() or (out_dir / name).read_bytes() != content)
