"""nbgrader's autograde, graded by this grader from outside the kernel: the secret seed never reaches it.

nbgrader runs a submitted notebook in a kernel, and every answer cell runs there as the learner wrote
it. A test cell grading from inside that kernel would need ``GRADER_SEED`` in the kernel, where an
answer cell can print it (into the feedback the learner receives) or replace ``grade_cell`` with one
that returns full marks. So the kernel never grades at autograde time: the course's
``nbgrader_config.py`` (written by ``grader nbgrader``) imports this module, which takes
``GRADER_SEED`` out of nbgrader's environment before any kernel starts (and makes nbgrader's own
process unreadable to the learner's code), and adds :class:`GradeTestCells` right after nbgrader's
``Execute``. For each test cell, it grades the notebook's cells up to that one (the same sources the
kernel ran, definitions only, in the sandboxed child, with the seed) and writes the cell's outputs: the
report (message and figures, for ``generate_feedback``) and the points as the cell's value, which
nbgrader reads as partial credit. Whatever the kernel printed there is discarded.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from nbgrader.preprocessors import NbGraderPreprocessor

from . import api
from .model.errors import GraderError

TEST_CALL = re.compile(r'^\s*grade_cell\(\s*"([^"\\]+)"\s*\)\s*(?:#[^\n]*)?$', re.M)
"""The call a test cell written by ``grader nbgrader`` ends with."""
_SEED: int | None = None


def take_seed() -> None:
    """Move ``GRADER_SEED`` from the environment into this process (kernels start without it), and make
    this process non-dumpable, so learner code cannot read its memory or /proc/PID/environ."""
    global _SEED
    from .sandbox.runner import make_private

    make_private()
    from .seeds import parse_seed

    raw = os.environ.pop("GRADER_SEED", None)
    if raw is not None:
        _SEED = parse_seed(raw, "GRADER_SEED")


def autograde_preprocessors() -> list[Any]:
    """nbgrader's autograde preprocessors with :class:`GradeTestCells` right after ``Execute``."""
    from nbgrader.converters.autograde import Autograde
    from nbgrader.preprocessors import Execute

    out = [p for p in Autograde.class_traits()["autograde_preprocessors"].default() if p is not GradeTestCells]
    return out[: out.index(Execute) + 1] + [GradeTestCells] + out[out.index(Execute) + 1 :]


def _outputs(report: Any, points: float) -> list[Any]:
    import nbformat

    v4 = nbformat.v4
    return [v4.new_output("display_data", data={"text/html": report._repr_html_(), "text/plain": str(report)}),
            v4.new_output("execute_result", data={"text/plain": repr(float(points))}, execution_count=None)]


NBGRADER_FOLDERS = ("source", "release", "submitted", "autograded", "feedback", "gradebook.db")
"""What an nbgrader course folder holds that learner code must not read: the solutions (source/), the
other students' work and grades. Only these: the folder itself may hold the Python the child runs on."""


def _hide_nbgrader_folders(root: Path) -> None:
    """Add the course folder's nbgrader folders to what the sandboxed child cannot read ($GRADER_HIDE)."""
    hidden = [p for p in os.environ.get("GRADER_HIDE", "").split(os.pathsep) if p]
    extra = [str(root.resolve() / name) for name in NBGRADER_FOLDERS]
    os.environ["GRADER_HIDE"] = os.pathsep.join([*hidden, *(p for p in extra if p not in hidden)])


def _source_only(cell: Any) -> Any:
    """A copy of a cell with its source alone (the front reads nothing else), its type kept."""
    import nbformat

    make = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell}
    return make.get(cell.cell_type, nbformat.v4.new_raw_cell)(cell.source)


class GradeTestCells(NbGraderPreprocessor):  # type: ignore[misc]
    """Grade each test cell's exercise on the notebook up to that cell, and write the cell's outputs."""

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        import nbformat

        from .engine.grading import Options
        from .notebook import Report

        course = api.load(api.find_course(None, Path.cwd()))
        api.require_strong(course, _SEED)
        _hide_nbgrader_folders(Path.cwd())  # nbgrader works in the course folder
        name = f"{resources.get('unique_key') or 'notebook'}.ipynb"
        for index, cell in enumerate(nb.cells):
            meta = cell.metadata.get("nbgrader", {})
            found = TEST_CALL.findall(cell.source) if cell.cell_type == "code" and meta.get("grade") else []
            if not found:
                continue
            folder = Path(tempfile.mkdtemp(prefix="grader-nbgrader-"))
            try:
                upto = nbformat.v4.new_notebook(cells=[_source_only(c) for c in nb.cells[:index]])
                nbformat.write(upto, str(folder / name))
                result = api.check(course, folder / name, Options(seed=_SEED, exercises=[found[-1]], plots=True))
            except GraderError as e:  # this cell scores zero, with the reason; the others still grade
                cell.outputs = [nbformat.v4.new_output("error", ename="GraderError", evalue=str(e), traceback=[str(e)])]
                continue
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            result.submission = name
            points = result.exercises[0].points if len(result.exercises) == 1 else 0.0
            cell.outputs = _outputs(Report(result), min(points, float(meta.get("points", points))))
        return nb, resources
