"""Inline checks in Jupyter: ``from grader.notebook import check`` then ``check("Affine")`` in a cell.

A learner working in a notebook should not leave it to see how an exercise does. :func:`check` takes
the cells the kernel has executed (IPython's raw input history, so magics are still magics), writes
them as one private notebook in a temporary folder, and grades it through the same engine and the same
notebook front as ``grader check``: only definitions are kept (:mod:`grader.fronts.notebooks`), the
learner's code runs in the sandboxed child. The :class:`Report` it returns shows itself as the HTML
report's fragment (table, messages, figures as data: URIs) in a notebook and as plain text in a
console. Places read ``In [7], line 3``: cell numbers are the kernel's execution counts.

:func:`grade_cell` is the same for an nbgrader test cell: it displays the report and returns the
exercise's points as the cell's value, which nbgrader reads as partial credit. At autograde time the
cell is graded from outside the kernel instead (:mod:`grader.nbgrader_hook`), with the secret seed.
"""
from __future__ import annotations

import io
import itertools
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

from . import api
from .model.course import Course
from .model.errors import GraderError
from .model.results import SubmissionResult

__all__ = ["Report", "check", "grade_cell"]

SCOPE = "grader-report"
_REPORTS = itertools.count(1)
"""Numbers the reports of one kernel: each report's anchors get its own prefix."""
HISTORY_NAME = "In.ipynb"
"""The private notebook the kernel's history is written to; its places are shown as ``In [n]``."""
_IN_PLACE = re.compile(r'"?In\.ipynb"?, cell (\d+)')


class Report:
    """One inline check: the Result tree, shown as HTML in a notebook and as text in a console.

    Attributes:
        result: the :class:`~grader.model.results.SubmissionResult`.
        points: points earned over the exercises checked; ``max_points`` what they are worth.
        score: ``points / max_points`` (1.0 when nothing was checked).
        passed: every checked exercise passes.
    """

    def __init__(self, result: SubmissionResult):
        self.result = result
        self.points = result.points
        self.max_points = result.max_points
        self.score = self.points / self.max_points if self.max_points else 1.0
        self.passed = result.passed
        self._html: str | None = None
        self._ids = f"grader-report-{next(_REPORTS)}-"  # anchors unique on a page showing several reports

    def _repr_html_(self) -> str:
        from .backs.html import fragment

        if self._html is None:  # drawing the figures takes a second: once per report
            self._html = fragment(self.result, scope=SCOPE, ids=self._ids)
        return self._html

    def __str__(self) -> str:
        from rich.console import Console

        from .backs.terminal import render

        console = Console(file=io.StringIO(), width=120, color_system=None, force_terminal=False, force_jupyter=False)
        render(self.result, console)
        return console.file.getvalue()  # type: ignore[attr-defined, no-any-return]

    def __repr__(self) -> str:
        return str(self)


def _kernel_cells() -> list[str] | None:
    """The raw text of every cell this kernel has executed, In[1] first; None outside IPython."""
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        return None
    return [str(cell) for cell in shell.history_manager.input_hist_raw[1:]]


def _write_history(cells: Sequence[str], folder: Path) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(text) for text in cells]
    path = folder / HISTORY_NAME
    nbformat.write(nb, str(path))
    return path


def _in_terms(result: SubmissionResult) -> SubmissionResult:
    """``In.ipynb, cell 7`` written as the learner sees it, ``In [7]`` (messages, places, notes)."""
    def sub(text: str) -> str:
        return _IN_PLACE.sub(lambda m: f"In [{m.group(1)}]", text)

    result.notes = [sub(n) for n in result.notes]
    for ex in result.exercises:
        for chk in ex.checks:
            for case in chk.cases:
                case.message = sub(case.message)
                if isinstance(case.details.get("where"), str):
                    case.details["where"] = sub(case.details["where"])
    return result


def _selected(course: Course, what: str | Sequence[str] | None) -> list[str]:
    """Exercise ids for an exercise's title or id, an assignment's id, or several; [] for everything."""
    if what is None:
        return []
    keys = [what] if isinstance(what, str) else list(what)
    ids: list[str] = []
    for key in keys:
        assignment = next((a for a in course.assignments if a.id.lower() == str(key).lower()), None)
        ids += [e.id for e in assignment.exercises] if assignment else [course.exercise(str(key)).id]
    return list(dict.fromkeys(ids))


def _defined(course: Course, cells: Sequence[str]) -> list[str]:
    """Exercise ids whose target names the cells define (by the notebook front's own filter); all when none."""
    from .fronts.notebooks import keep_definitions

    names = {name for i, text in enumerate(cells, 1) for name in keep_definitions(i, text).defines}
    return [ex.id for ex in course.exercises if ex.target.rpartition(".")[2] in names]


class _Progress:
    """Says that references are being computed (a cold cache: torch, a few seconds per exercise) and, once
    done, how long it took: a display that updates itself in a kernel, stdout elsewhere (never stderr:
    nbgrader counts anything there as an error)."""

    def __init__(self) -> None:
        self.handle: Any = None
        self.started = 0.0
        self.said = ""

    def _show(self, text: str) -> None:
        if _kernel_cells() is None:
            print(text, flush=True)
            return
        from IPython.display import display

        if self.handle is None:
            self.handle = display({"text/plain": text}, raw=True, display_id=True)
        else:
            self.handle.update({"text/plain": text}, raw=True)

    def __call__(self, ids: list[str]) -> None:
        self.started = time.perf_counter()
        self.said = (f"computing reference values with torch for {len(ids)} exercise{'s' if len(ids) != 1 else ''} "
                   f"({', '.join(ids[:8])}{', ...' if len(ids) > 8 else ''}): once for this course and seed, "
                   "cached afterwards")
        self._show(self.said)

    def finish(self) -> None:
        if self.started:
            done = f"references computed in {time.perf_counter() - self.started:.1f} s"
            self._show(f"{self.said}: done, {done}" if self.handle is not None else done)
            self.started = 0.0


def _grade(what: str | Sequence[str] | None, course: str | Path | None, seed: int | None,
           source: str | Path | Sequence[str] | None) -> SubmissionResult:
    from .engine.grading import Options, default_lanes

    try:
        loaded = api.load(api.find_course(course, Path.cwd()))
    except GraderError as e:
        raise GraderError(str(e).replace("pass --course FILE", "pass course='path/to/course.yml'")) from None
    cells: Sequence[str] | None
    if source is None:
        cells = _kernel_cells()
        if cells is None:
            raise GraderError("check() outside a notebook kernel needs source= (a path, or code)")
    elif isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and Path(source).exists()):
        cells = [Path(source).read_text()] if Path(source).suffix == ".py" else None
    else:
        cells = [source] if isinstance(source, str) else list(source)
    progress = _Progress()
    wanted = _selected(loaded, what) if what is not None or cells is None else _defined(loaded, cells)
    options = Options(seed=seed, exercises=wanted, lanes=default_lanes(), plots=True, on_references=progress)
    folder = Path(tempfile.mkdtemp(prefix="grader-inline-"))
    try:
        submission = Path(source) if cells is None else _write_history(cells, folder)  # type: ignore[arg-type]
        result = api.check(loaded, submission, options)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        progress.finish()
    if cells is not None:
        result.submission = "this notebook (executed cells)" if source is None else "the code given"
        _in_terms(result)
    return result


def check(what: str | Sequence[str] | None = None, *, course: str | Path | None = None, seed: int | None = None,
          source: str | Path | Sequence[str] | None = None) -> Report:
    """Grade what this notebook defines and return a displayable :class:`Report`.

    Args:
        what: an exercise's title (``"Affine"``) or id (``"1.10"``), an assignment's id (``"A1"``), or a
            list of them; None checks every exercise whose class or function the cells define (every
            exercise of the course if they define none).
        course: the course file; default ``$GRADER_COURSE``, else ``course.yml`` here or above.
        seed: a grading seed; default the course's public one.
        source: what to grade instead of the kernel's executed cells: a path (folder, .py, .ipynb), the
            text of one cell, or a list of cells' texts. Needed outside a kernel.

    Raises:
        GraderError: no course found, an unknown exercise, or no kernel and no ``source``.
    """
    return Report(_grade(what, course, seed, source))


def grade_cell(what: str, *, course: str | Path | None = None) -> float:
    """An nbgrader test cell: display the report of one exercise, return its points (the cell's value).

    nbgrader takes a number as the cell's last value for partial credit, and an error output or anything
    on stderr as zero: so whatever goes wrong raises (zero, never full credit by accident), and warnings
    are kept off stderr. Under ``nbgrader autograde`` the kernel does not grade (it runs learner code,
    and must never hold the secret seed): :mod:`grader.nbgrader_hook` grades the cell after the
    notebook has run and writes its outputs; this returns 0 until it does.
    """
    import contextlib
    import warnings

    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        print(f"{what}: graded by the grader after the notebook has run (grader.nbgrader_hook)")
        return 0.0
    with warnings.catch_warnings(), contextlib.redirect_stderr(sys.stdout):
        warnings.simplefilter("ignore")
        report = Report(_grade(what, course, None, None))
    if _kernel_cells() is not None:
        from IPython.display import display

        display(report)
    else:
        print(report)
    if len(report.result.exercises) != 1:
        raise GraderError(f"{what!r} names {len(report.result.exercises)} exercises; a test cell grades one")
    return float(report.result.exercises[0].points)
