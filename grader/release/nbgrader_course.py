"""An nbgrader course from course.yml and solutions/: ``grader nbgrader COURSE_DIR``.

Instructors who grade with nbgrader keep their workflow (``generate_assignment``, ``autograde``,
``export``, ``generate_feedback``) and get this grader's scores, messages and figures. Each assignment
becomes ``source/<id>/<id>.ipynb``, the learner notebook of :mod:`grader.release.notebooks` built from
the solutions instead of the stubs, with nbgrader's metadata on every cell: an answer cell is an
nbgrader *solution* cell holding the solution's code with its ``### BEGIN SOLUTION`` / ``### END
SOLUTION`` blocks (generate_assignment turns them into stubs, as ``grader release`` does for .py
files), and under it a locked, autograded *test* cell worth the exercise's points calls
:func:`grader.notebook.grade_cell`. Every other cell is locked (read-only), unless it holds a solution
block itself.

At autograde time the test cells are graded from outside the kernel (:mod:`grader.nbgrader_hook`, which
the written ``nbgrader_config.py`` installs): the kernel runs learner code and must never hold the
secret seed. Only nbformat is needed to write the course; nbgrader itself runs it.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..model.course import Assignment, Course, Exercise
from ..model.errors import GraderError
from .notebooks import assignment_notebook, solution_source, stable_ids
from .stubs import BEGIN_MARKER

SCHEMA_VERSION = 3
TEST_CELL = 'from grader.notebook import grade_cell\n\ngrade_cell("{id}")  # {title}'
CHECKING = ("**Grading.** Run the cells from the top. The cell under each exercise grades it here and shows "
            "the messages and figures; `nbgrader validate` runs them all. The autograder grades the same cells "
            "with hidden cases too.")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")


def nbgrader_meta(grade_id: str, *, solution: bool = False, grade: bool = False, points: float | None = None,
                  locked: bool | None = None) -> dict[str, Any]:
    """nbgrader's cell metadata (schema 3): solution cells stay editable, every other cell is locked."""
    meta: dict[str, Any] = {"grade": grade, "grade_id": grade_id, "locked": (not solution) if locked is None else locked,
                            "schema_version": SCHEMA_VERSION, "solution": solution}
    if points is not None:
        meta["points"] = float(points)
    return meta


def autograded_cell(ex: Exercise) -> Any:
    """The autograded cell under an exercise's answer: worth its points, locked, grading it by id."""
    import nbformat

    return nbformat.v4.new_code_cell(
        TEST_CELL.format(id=ex.id, title=ex.title),
        metadata={"grader": {"role": "test", "exercise": ex.id},
                  "nbgrader": nbgrader_meta(f"test_{_slug(ex.id)}", grade=True, points=ex.points)})


def source_notebook(course: Course, assignment: Assignment, solutions: Path) -> Any:
    """The instructor's (source) notebook of one assignment, nbgrader metadata on every cell."""
    nb = assignment_notebook(course, assignment, solution_source(solutions), check=False)
    exercises = {ex.id: ex for ex in assignment.exercises}
    cells = []
    for index, cell in enumerate(nb.cells, start=1):
        grader = cell.metadata["grader"]
        role, ex_id = grader["role"], grader.get("exercise")
        if role == "intro":
            cell.source = cell.source.split("**Checking.**")[0] + CHECKING
        has_block = any(line.strip() == BEGIN_MARKER for line in cell.source.splitlines())
        if role == "answer":
            cell.metadata["nbgrader"] = nbgrader_meta(f"answer_{_slug(ex_id)}", solution=True)
        else:
            where = _slug(ex_id or grader.get("module", "")) or "notebook"
            cell.metadata["nbgrader"] = nbgrader_meta(f"{role}_{where}_{index}", solution=has_block)
        cells.append(cell)
        if role == "answer":
            cells.append(autograded_cell(exercises[ex_id]))
    nb.cells = cells
    stable_ids(nb)
    return nb


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
        GraderError: an unknown assignment id, or a solution that cannot be cut into cells (a
            ReleaseError); nothing is written then.
    """
    import nbformat

    known = {a.id: a for a in course.assignments}
    unknown = [a for a in assignments or [] if a not in known]
    if unknown:
        raise GraderError(f"no assignment {', '.join(map(repr, unknown))} in {course.path} "
                          f"(there are {', '.join(known)})")
    chosen = [known[a] for a in assignments] if assignments else course.assignments
    for a in chosen:
        if _slug(a.id) != a.id:
            raise GraderError(f"assignment id {a.id!r}: nbgrader names folders by it; use letters, digits, - and _")
    books = {a.id: source_notebook(course, a, solutions) for a in chosen}  # every one before any write
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
