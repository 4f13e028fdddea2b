"""Learner notebooks (`grader release --notebooks`) and release safety for notebooks in solutions/."""
from __future__ import annotations

from pathlib import Path

import nbformat

from grader.cli import main
from grader.model.course import Course
from grader.release.notebooks import (
    assignment_notebook,
    diff_notebooks,
    release_notebooks,
    solution_source,
    stub_source,
    write_notebook,
)
from tests.conftest import SOLUTIONS, run_grade


def roles(nb: nbformat.NotebookNode) -> list[tuple[str, str | None]]:
    return [(c.metadata["grader"]["role"], c.metadata["grader"].get("exercise")) for c in nb.cells]


def test_one_notebook_per_assignment_with_a_stub_and_a_check_cell_per_exercise(course: Course, tmp_path: Path) -> None:
    written = release_notebooks(course, SOLUTIONS, tmp_path)
    assert [p.name for p in written] == sorted(f"{a.id}.ipynb" for a in course.assignments)
    nb = nbformat.read(tmp_path / "A1.ipynb", as_version=4)
    nbformat.validate(nb)
    got = roles(nb)
    assert got[:3] == [("intro", None), ("import-check", None), ("imports", None)]
    assert nb.cells[1].source == "from grader.notebook import check"
    a1 = next(a for a in course.assignments if a.id == "A1")
    answers = [ex for role, ex in got if role == "answer"]
    assert answers == [e.id for e in a1.exercises]
    for ex in a1.exercises:  # each answer cell is followed by its own check cell
        i = got.index(("answer", ex.id))
        assert got[i + 1] == ("check", ex.id)
        assert nb.cells[i + 1].source.startswith(f'check("{ex.id}")')
        stub = nb.cells[i].source
        assert stub.startswith(f"class {ex.name}") and "NotImplementedError" in stub and '"""' in stub
        assert "### BEGIN SOLUTION" not in stub
    intro = nb.cells[0].source
    assert "numpy and the Python standard library" in intro and 'check("A1")' in intro
    # the losses' shared helper comes before the losses that use it
    support = next(c for c in nb.cells if c.metadata["grader"].get("module") == "losses"
                   and c.metadata["grader"]["role"] == "support")
    assert "def _check_reduction" in support.source
    assert nb.cells.index(support) < got.index(("answer", "1.11"))


def test_release_check_sees_a_changed_or_missing_notebook(course: Course, tmp_path: Path, capsys) -> None:
    exercises, notebooks = tmp_path / "exercises", tmp_path / "nb"
    args = ["release", "--solutions", str(SOLUTIONS), "--exercises", str(exercises), "--notebooks", str(notebooks),
            "--course", str(course.path)]
    assert main(args) == 0
    assert main([*args, "--check"]) == 0  # writing is deterministic (cell ids included)
    (notebooks / "A2.ipynb").write_text((notebooks / "A2.ipynb").read_text() + " ")
    (notebooks / "A4.ipynb").unlink()
    assert main([*args, "--check"]) == 1
    assert diff_notebooks(course, SOLUTIONS, notebooks) == ["A2.ipynb", "A4.ipynb"]
    assert "out of date: " + str(notebooks / "A2.ipynb") in capsys.readouterr().out


def test_solution_notebook_scores_full_marks_and_the_stub_notebook_zero(course: Course, tmp_path: Path) -> None:
    """The cells are the definitions the grader needs: the same cutting of the solutions scores every point,
    and the released cutting scores none (each stub raises NotImplementedError), for A1 (three modules)."""
    a1 = next(a for a in course.assignments if a.id == "A1")
    ids = [e.id for e in a1.exercises]
    solved, stubbed = tmp_path / "solved", tmp_path / "stubbed"
    for folder, source in ((solved, solution_source(SOLUTIONS)), (stubbed, stub_source(SOLUTIONS))):
        folder.mkdir()
        (folder / "my notebook.ipynb").write_bytes(write_notebook(assignment_notebook(course, a1, source)))
    full = run_grade(course, solved, *ids)
    assert [e.id for e in full.exercises] == ids
    assert full.points == full.max_points > 0, [(e.id, e.reason) for e in full.exercises if e.fraction < 1]
    none = run_grade(course, stubbed, *ids)
    assert none.points == 0
    assert all("not implemented" in e.reason for e in none.exercises), [e.reason for e in none.exercises]
