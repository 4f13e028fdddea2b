"""Notebooks graded by what they define: any name, definitions only, places named by notebook and cell."""
from __future__ import annotations

import ast
import io
import json
import time
from pathlib import Path

from rich.console import Console

from grader.backs.terminal import render
from grader.engine.grading import Options, grade
from grader.fronts import prepare_workdir, take_manifest
from grader.fronts.notebooks import NotebookMap, keep_definitions
from grader.model.course import Course
from grader.model.results import PASS, from_dict, to_dict, to_json

from .conftest import SOLUTIONS, make_submission

EXERCISES = ["1.1", "1.10", "2.1"]  # activations.Sigmoid, layers.Affine, losses.L1Loss (two assignments)


def write_notebook(path: Path, cells: list[str]) -> Path:
    out = [{"cell_type": "markdown", "metadata": {}, "source": "# My assignment"}]
    out += [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": c} for c in cells]
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": out}))
    return path


def solution_cells(*modules: str) -> list[str]:
    """One cell per top-level statement of the solutions' modules (imports, classes, helpers, constants)."""
    cells = []
    for module in modules:
        source = (SOLUTIONS / f"{module}.py").read_text()
        lines = source.splitlines()
        for stmt in ast.parse(source).body:
            if isinstance(stmt, ast.Expr):  # the module docstring
                continue
            start = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", []))])
            cells.append("\n".join(lines[start - 1 : stmt.end_lineno]))
    return cells


NOISE = [
    "%matplotlib inline\nimport matplotlib.pyplot as plt",
    "!pip install x\nnp.exp?",
    "import time\nfor epoch in range(3):\n    time.sleep(20)\nprint('trained')",
    "plt.plot([1, 2, 3])\nplt.show()",
    "from grader.notebook import check\ncheck(\"Affine\")",
]


def test_keep_definitions_comments_out_the_rest_line_for_line() -> None:
    source = "import numpy as np\nEPS = 1e-8 * 2\nSIZES = (3, 4)\nx = np.zeros(3)\n%time y = 1\nprint(x); Z = 1\n" \
             "def f(a):\n    return a\nif __name__ == '__main__':\n    f(1)"
    cell = keep_definitions(4, source)
    assert len(cell.lines) == len(source.splitlines())
    code = [ln for ln in cell.lines if not ln.startswith("#")]
    assert code == ["import numpy as np", "EPS = 1e-8 * 2", "SIZES = (3, 4)", "def f(a):", "    return a"]
    assert set(cell.defines) == {"EPS", "SIZES", "f"}
    assert [d.split(":")[0] for d in cell.dropped] == ["line 5", "line 4", "line 6", "line 6", "line 9"]
    bad = keep_definitions(2, "class A:\n    def f(self)\n        pass")
    assert bad.defines == {} and "does not parse" in bad.dropped[0] and all(ln.startswith("#") for ln in bad.lines)


def test_any_name_definitions_only_same_score_as_py(course: Course, tmp_path: Path) -> None:
    nb_sub = tmp_path / "nb"
    nb_sub.mkdir()
    cells = solution_cells("activations", "layers")
    write_notebook(nb_sub / "carol.ipynb", [NOISE[0], NOISE[1], *cells[:3], NOISE[2], *cells[3:], NOISE[3], NOISE[4]])
    write_notebook(nb_sub / "week 2.ipynb", solution_cells("losses"))
    t0 = time.perf_counter()
    got = grade(course, nb_sub, Options(exercises=EXERCISES, lanes=1))
    assert time.perf_counter() - t0 < 30
    want = grade(course, make_submission(tmp_path / "py"), Options(exercises=EXERCISES, lanes=1))
    assert [(e.id, e.points, e.status) for e in got.exercises] == [(e.id, e.points, e.status) for e in want.exercises]
    assert all(e.status == PASS for e in got.exercises), [e.reason for e in got.exercises]
    notes = "\n".join(got.notes)
    for dropped in ("%matplotlib inline", "import matplotlib.pyplot", "!pip install x", "np.exp?", "for epoch",
                    "plt.plot", "check(...) and its import (the grader's own"):
        assert dropped in notes, notes
    assert 'check("Affine")' not in notes  # told once per notebook, not once per check cell
    assert "carol.ipynb, cell 2: line 1" in notes  # cells counted from 1, the markdown cell included
    assert "notes" not in to_dict(want) and to_dict(got)["notes"] == got.notes
    assert from_dict(json.loads(to_json(got))).notes == got.notes
    console = Console(file=io.StringIO(), width=200)
    render(got, console)
    assert "carol.ipynb, cell 2: line 1: %matplotlib inline" in console.file.getvalue()


def test_a_name_defined_by_two_notebooks_is_an_error_for_that_exercise_only(course: Course, tmp_path: Path) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    write_notebook(sub / "nb1.ipynb", solution_cells("activations", "layers"))
    affine = solution_cells("layers")
    write_notebook(sub / "nb2.ipynb", ["x = 1", *affine])
    result = grade(course, sub, Options(exercises=["1.1", "1.10"], lanes=1))
    by_id = {e.id: e for e in result.exercises}
    assert by_id["1.1"].status == PASS
    reason = by_id["1.10"].reason
    assert by_id["1.10"].points == 0 and "Affine is defined in nb1.ipynb cell" in reason and "nb2.ipynb cell 4" in reason


def test_a_missing_definition_names_the_notebooks_searched(course: Course, tmp_path: Path) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    write_notebook(sub / "carol.ipynb", [*solution_cells("activations"), "def broken(:\n    pass"])
    result = grade(course, sub, Options(exercises=["1.10"], lanes=1))
    reason = result.exercises[0].reason
    assert "layers.py defines no Affine" in reason and "notebooks searched: carol.ipynb" in reason, reason
    assert any("does not parse" in n for n in result.notes)


def test_a_traceback_names_notebook_cell_and_line(course: Course, tmp_path: Path) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    sigmoid = ("class Sigmoid:\n    def forward(self, x):\n        raise ValueError('boom')\n"
               "    def backward(self, dout):\n        return dout\n")
    write_notebook(sub / "carol.ipynb", ["import numpy as np", sigmoid])
    result = grade(course, sub, Options(exercises=["1.1"], lanes=1))
    case = next(k for c in result.exercises[0].checks for k in c.cases if not k.passed)
    assert "carol.ipynb, cell 3, line 3 in forward" in case.message, case.message  # markdown cell is cell 1
    assert 'File "carol.ipynb", cell 3, line 3, in forward' in case.message
    assert case.details["where"] == "carol.ipynb, cell 3, line 3 in forward"
    assert "_nb_" not in case.message


def test_the_manifest_is_read_once_and_removed(tmp_path: Path) -> None:
    sub = write_notebook(tmp_path / "my notebook.ipynb", ["import numpy as np\n\ndef Sigmoid():\n    return 1"])
    work = prepare_workdir(sub, ["activations.Sigmoid", "layers.Affine"])
    try:
        places = take_manifest(work)
        assert not (work / ".grader-notebooks.json").exists() and take_manifest(work) == NotebookMap()
        module = next(p.name for p in work.glob("_nb_*.py"))
        assert places.where(f"{module}:6 in Sigmoid") == "my notebook.ipynb, cell 2, line 4 in Sigmoid"
        assert "from _nb_my_notebook import Sigmoid" in (work / "activations.py").read_text()
        assert places.where("layers.py") == "notebooks searched: my notebook.ipynb"
        assert places.where("other.py:3 in f") == "other.py:3 in f"
    finally:
        import shutil

        shutil.rmtree(work)


def test_without_targets_a_notebook_is_still_the_module_named_after_it(tmp_path: Path) -> None:
    work = prepare_workdir(write_notebook(tmp_path / "x.ipynb", ["VALUE = 3\nprint(VALUE)"]))
    try:
        assert "print(VALUE)" in (work / "x.py").read_text() and not (work / ".grader-notebooks.json").exists()
    finally:
        import shutil

        shutil.rmtree(work)
