"""An nbgrader course from course.yml and solutions/: ``grader nbgrader COURSE_DIR``.

Instructors who grade with nbgrader keep their workflow (``generate_assignment``, ``autograde``,
``export``, ``generate_feedback``) and get this grader's scores, messages and figures. Each assignment
becomes ``source/<id>/<id>.ipynb``: an introduction, then per exercise a markdown cell (title, points,
docstring), an nbgrader *solution* cell holding the solution's own code with its ``### BEGIN
SOLUTION`` / ``### END SOLUTION`` blocks (nbgrader's generate_assignment turns them into stubs, as
``grader release`` does for .py files), and a locked, autograded *test* cell worth the exercise's
points that calls :func:`grader.notebook.grade_cell`: it grades the kernel's executed cells in the
sandboxed child, displays the report (message and figures reach nbgrader's feedback) and leaves the
points as the cell's value, which nbgrader reads as partial credit.

Only nbformat is needed to write the course; nbgrader itself runs it. The pieces (a module split into
setup code and one block per target, the cells of one exercise) are small functions so that the
learner-notebook writer can share them.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..model.course import Assignment, Course, Exercise
from ..model.errors import GraderError
from .stubs import BEGIN_MARKER, strip_solutions

SCHEMA_VERSION = 3
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
TEST_CELL = 'from grader.notebook import grade_cell\n\ngrade_cell("{id}")'


@dataclass
class ModuleParts:
    """A solutions module cut at its top-level statements: what every target needs (imports, helpers,
    constants) and each top-level definition's text (decorators and comments just above included)."""

    docstring: str
    setup: str
    definitions: dict[str, str]


def split_module(source: str, filename: str = "<source>") -> ModuleParts:
    """Cut a module into setup code and top-level definitions, each with the lines it spans."""
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as e:
        raise GraderError(f"{filename}:{e.lineno}: the solution does not parse: {e.msg}") from None
    lines = source.split("\n")
    body = list(tree.body)
    docstring = ast.get_docstring(tree) or ""
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        body = body[1:]
    setup: list[str] = []
    definitions: dict[str, str] = {}
    previous_end = body[0].lineno - 1 if body else 0
    for stmt in body:
        start = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", []))])
        first = start
        while first - 1 > previous_end and lines[first - 2].lstrip().startswith("#"):  # comments above
            first -= 1
        last = stmt.end_lineno or stmt.lineno
        while last < len(lines) and (not lines[last].strip() or re.match(r"\s+#", lines[last])):
            last += 1  # indented comments after the last statement (a closing ### END SOLUTION) are its own
        while last > stmt.lineno and not lines[last - 1].strip():
            last -= 1
        text = "\n".join(lines[first - 1 : last]).rstrip()
        previous_end = last
        if isinstance(stmt, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            definitions[stmt.name] = text
        else:
            setup.append(text)
    return ModuleParts(docstring, "\n".join(setup), definitions)


def _meta(grade_id: str, *, solution: bool, grade: bool, locked: bool, points: float | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": SCHEMA_VERSION,
                            "solution": solution}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")


def _has_solution(code: str) -> bool:
    return any(line.strip() == BEGIN_MARKER for line in code.splitlines())


def exercise_cells(ex: Exercise, code: str, docstring: str) -> list[Any]:
    """The three cells of one exercise: its statement, its answer (an nbgrader solution cell holding the
    solution's code and blocks), and its test (autograded, locked, worth the exercise's points)."""
    import nbformat

    v4 = nbformat.v4
    title = f"## {ex.id} {ex.title} ({ex.points:g} point{'s' if ex.points != 1 else ''})\n\n" \
            f"Write `{ex.target.rpartition('.')[2]}` in the cell below; the cell after it grades it."
    if docstring:
        title += f"\n\n```text\n{docstring}\n```"
    slug = _slug(ex.id)
    return [
        v4.new_markdown_cell(title, metadata=_meta(f"statement_{slug}", solution=False, grade=False, locked=True)),
        v4.new_code_cell(code, metadata=_meta(f"answer_{slug}", solution=True, grade=False, locked=False)),
        v4.new_code_cell(TEST_CELL.format(id=ex.id),
                         metadata=_meta(f"test_{slug}", solution=False, grade=True, locked=True,
                                        points=float(ex.points))),
    ]


def setup_cell(module: str, parts: ModuleParts, targets: set[str]) -> Any:
    """What the targets of ``module`` need: its imports, constants and helpers (its definitions that are
    no exercise's target); an answer cell if that holds solution blocks, else locked."""
    import nbformat

    helpers = [text for name, text in parts.definitions.items() if name not in targets]
    text = "\n\n\n".join([f"# {module}: imports and helpers\n{parts.setup}", *helpers])
    solution = _has_solution(text)
    return nbformat.v4.new_code_cell(text, metadata=_meta(f"setup_{_slug(module)}", solution=solution, grade=False,
                                                          locked=not solution))


def _definition(ex: Exercise, modules: dict[str, ModuleParts], solutions: Path) -> str:
    module, _, name = ex.target.rpartition(".")
    parts = modules.get(module)
    if parts is None:
        path = solutions / f"{module}.py"
        if not path.is_file():
            raise GraderError(f"exercise {ex.id} ({ex.title}): {path} does not exist")
        source = path.read_text(encoding="utf-8")
        strip_solutions(source, str(path))  # the blocks must be well formed before nbgrader sees them
        parts = modules[module] = split_module(source, str(path))
    if name not in parts.definitions:
        raise GraderError(f"exercise {ex.id} ({ex.title}): {module}.py has no top-level def or class {name!r}")
    return parts.definitions[name]


def assignment_notebook(course: Course, assignment: Assignment, solutions: Path) -> Any:
    """The instructor's (source) notebook of one assignment."""
    import nbformat

    v4 = nbformat.v4
    modules: dict[str, ModuleParts] = {}
    codes = {ex.id: _definition(ex, modules, solutions) for ex in assignment.exercises}
    names = [ex.target.rpartition(".")[2] for ex in assignment.exercises]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise GraderError(f"assignment {assignment.id}: {', '.join(twice)} defined by two modules; a notebook "
                          "grades by name, so each name must be one exercise")
    points = sum(ex.points for ex in assignment.exercises)
    intro = (f"# {assignment.id} {assignment.title}\n\n{course.title}. {len(assignment.exercises)} exercises, "
             f"{points:g} points.\n\nWrite each exercise in its answer cell, then run the test cell under it: "
             "it grades what this notebook defines (definitions only: imports, functions, classes and "
             "constants; other top-level code is not run by the grader) and shows the feedback. "
             "Run the cells from the top.")
    cells = [v4.new_markdown_cell(intro, metadata=_meta("intro", solution=False, grade=False, locked=True))]
    targets = {ex.target.rpartition(".")[2] for ex in course.exercises}
    for module, parts in modules.items():
        if parts.docstring:
            cells.append(v4.new_markdown_cell(f"### {module}\n\n```text\n{parts.docstring}\n```",
                                              metadata=_meta(f"about_{_slug(module)}", solution=False, grade=False,
                                                             locked=True)))
        cells.append(setup_cell(module, parts, targets))
    for ex in assignment.exercises:
        module = ex.target.rpartition(".")[0]
        definition = modules[module].definitions[ex.target.rpartition(".")[2]]
        node = ast.parse(definition).body[-1]
        cells += exercise_cells(ex, codes[ex.id], ast.get_docstring(node) or "")  # type: ignore[arg-type]
    return v4.new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"}})


CONFIG = '''"""nbgrader configuration of {title!r}, written by `grader nbgrader`."""
import os

c = get_config()  # noqa: F821 (nbgrader provides it)
c.CourseDirectory.course_id = {course_id!r}
# The test cells find the course through $GRADER_COURSE.
os.environ.setdefault("GRADER_COURSE", {course_file!r})

# At autograde time the grader grades each test cell from outside the kernel, after nbgrader ran the
# notebook: learner code never shares a process with the seed. With $GRADER_SEED set (make one with
# `grader secret`), the hidden cases are graded; it is taken out of the environment here, before any
# kernel starts.
from grader import nbgrader_hook  # noqa: E402

nbgrader_hook.take_seed()
c.Autograde.autograde_preprocessors = nbgrader_hook.autograde_preprocessors()
# Per cell. Test cells do not grade in the kernel at autograde time; under `nbgrader validate` the
# first may compute the references with torch (tens of seconds, then cached).
c.Execute.timeout = 120
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
'''


def write_course(course: Course, out: Path, solutions: Path, assignments: list[str] | None = None) -> list[Path]:
    """Write ``nbgrader_config.py`` and ``source/<id>/<id>.ipynb`` per assignment under ``out``.

    Raises:
        GraderError: an unknown assignment id, a target with no top-level definition in solutions/, or a
            malformed solution block; nothing is written then.
    """
    import nbformat

    known = {a.id: a for a in course.assignments}
    unknown = [a for a in assignments or [] if a not in known]
    if unknown:
        raise GraderError(f"no assignment {', '.join(map(repr, unknown))} in {course.path} "
                          f"(there are {', '.join(known)})")
    chosen = [known[a] for a in assignments] if assignments else course.assignments
    books = {a.id: assignment_notebook(course, a, solutions) for a in chosen}  # every one before any write
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "nbgrader_config.py"]
    written[0].write_text(CONFIG.format(title=course.title, course_id=_slug(Path(course.path).parent.name) or "course",
                                        course_file=str(Path(course.path).resolve())))
    for aid, nb in books.items():
        path = out / "source" / aid / f"{aid}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.validate(nb)
        nbformat.write(nb, str(path))
        written.append(path)
    return written
