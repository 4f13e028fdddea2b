"""Learner notebooks (`grader release --notebooks`) and release safety for notebooks in solutions/."""
from __future__ import annotations

import json
import os
import re
import shutil
import textwrap
from pathlib import Path

import nbformat
import pytest

from grader.cli import main
from grader.model.course import Assignment, Course, Exercise, Limits
from grader.release.notebooks import (
    assignment_notebook,
    diff_notebooks,
    release_notebooks,
    solution_source,
    stub_source,
    write_notebook,
)
from grader.release.stubs import (
    BEGIN_MARKER,
    END_MARKER,
    ReleaseError,
    diff_release,
    release,
)
from tests.conftest import ROOT, SOLUTIONS, run_grade


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
    ids = ["1.1", "1.10", "1.12"]  # one per module: the whole notebook is graded, these keep it fast
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


# --- notebooks in solutions/ are released like .py files ----------------------------------------------

SOLVED_CELL = '''def double(x):
    """Return 2 * x."""
    ### BEGIN SOLUTION
    twice = x + x  # the secret formula
    return twice
    ### END SOLUTION
'''


def lab_notebook() -> nbformat.NotebookNode:
    """A course notebook in solutions/: a solved cell with outputs, a magic, a hidden test, nbgrader cells."""
    nb = nbformat.v4.new_notebook()
    solved = nbformat.v4.new_code_cell(SOLVED_CELL, execution_count=3)
    solved.outputs = [nbformat.v4.new_output("stream", name="stdout", text="twice = x + x\n")]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Lab\nWhat is 2 * x?\n### BEGIN SOLUTION\nThe answer is x + x, by hand.\n"
                                      "### END SOLUTION\n"),
        solved,
        nbformat.v4.new_code_cell("%matplotlib inline\nimport numpy as np"),
        nbformat.v4.new_code_cell("assert double(2) == 4\n### BEGIN HIDDEN TESTS\nassert double(21) == 42\n"
                                  "### END HIDDEN TESTS"),
        nbformat.v4.new_code_cell("y = np.linspace(0, 1) ** 3 / 7", metadata={"nbgrader": {"solution": True}}),
    ]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    return nb


def test_a_solutions_notebook_is_stripped_not_copied(tmp_path: Path) -> None:
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    solutions.mkdir()
    nbformat.write(lab_notebook(), solutions / "lab.ipynb")
    release(solutions, exercises)
    released = (exercises / "lab.ipynb").read_text()
    for secret in ("twice = x + x", "the secret formula", "x + x, by hand", "double(21)", "** 3 / 7"):
        assert secret not in released, secret
    nb = nbformat.reads(released, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].source == ('def double(x):\n    """Return 2 * x."""\n'
                              '    raise NotImplementedError("double is not implemented yet: write your code here")\n')
    assert code[0].outputs == [] and code[0].execution_count is None
    assert code[1].source == "%matplotlib inline\nimport numpy as np"  # no markers: unchanged, magic and all
    assert code[2].source.startswith("assert double(2) == 4")
    assert "NotImplementedError" in code[3].source  # an nbgrader solution cell without markers: replaced whole
    assert [c.id for c in nb.cells] == [f"cell-{i}" for i in range(5)]
    assert diff_release(solutions, exercises) == []


def test_checkpoints_are_not_released_and_a_marked_file_release_cannot_strip_is_an_error(tmp_path: Path) -> None:
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    (solutions / ".ipynb_checkpoints").mkdir(parents=True)
    nbformat.write(lab_notebook(), solutions / ".ipynb_checkpoints" / "lab-checkpoint.ipynb")
    (solutions / "notes.md").write_text("How to release:\n\n    ### BEGIN SOLUTION\n")  # indented: still a marker
    (solutions / "data.csv").write_text("x,y\n1,2\n")
    with pytest.raises(ReleaseError, match=r"notes\.md:3: a solution block in a file release cannot strip"):
        release(solutions, exercises)
    assert not exercises.exists()
    (solutions / "notes.md").write_text("Markers look like `### BEGIN SOLUTION`.\n")  # not a marker line
    assert [p.name for p in release(solutions, exercises)] == ["data.csv", "notes.md"]


def test_release_check_fails_on_a_copied_solutions_notebook(tmp_path: Path) -> None:
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    solutions.mkdir()
    nbformat.write(lab_notebook(), solutions / "lab.ipynb")
    release(solutions, exercises)
    shutil.copyfile(solutions / "lab.ipynb", exercises / "lab.ipynb")  # what release did before
    assert diff_release(solutions, exercises) == ["lab.ipynb"]
    assert main(["release", "--solutions", str(solutions), "--exercises", str(exercises), "--check"]) == 1
    # a solved notebook put there under another name, with no solution of that name, is caught too
    release(solutions, exercises)
    shutil.copyfile(solutions / "lab.ipynb", exercises / "lab-solved.ipynb")
    (exercises / "extra.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("x = 1  # a learner's own notebook")])))
    assert diff_release(solutions, exercises) == ["lab-solved.ipynb"]


def test_a_solution_block_in_a_cell_that_does_not_parse_is_an_error(tmp_path: Path) -> None:
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    nb = lab_notebook()
    nb.cells[1].source = "%%time\n" + SOLVED_CELL
    nbformat.write(nb, solutions / "lab.ipynb")
    with pytest.raises(ReleaseError, match=r"lab\.ipynb, cell 2:1: .*plain Python"):
        release(solutions, tmp_path / "exercises")
    assert not (tmp_path / "exercises").exists()


# --- released notebooks run top to bottom; no solution text survives anywhere -------------------------

KERNEL_TIMEOUT_S = 120


def run_in_kernel(nb: nbformat.NotebookNode, cwd: Path, monkeypatch: pytest.MonkeyPatch) -> nbformat.NotebookNode:
    """Execute every cell in a python3 kernel (nbclient), errors recorded in the outputs, not raised; the
    kernel imports this tree's grader and grades against the bundled course."""
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("GRADER_COURSE", str(ROOT / "course.yml"))
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=KERNEL_TIMEOUT_S, allow_errors=True,
                                     resources={"metadata": {"path": str(cwd)}})
    return client.execute()


def errors(nb: nbformat.NotebookNode) -> list[tuple[int, str, str]]:
    return [(i, o.ename, o.evalue) for i, c in enumerate(nb.cells, 1) if c.cell_type == "code"
            for o in c.outputs if o.output_type == "error"]


def role(cell: nbformat.NotebookNode) -> str:
    return cell.metadata["grader"]["role"]


def test_released_notebook_runs_top_to_bottom_and_its_stubs_raise_only_when_called(
        course: Course, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A1 (three modules, shared helpers): every cell but the checks runs without an error, every target
    is then defined, and calling a stub raises NotImplementedError naming the method to write."""
    release_notebooks(course, SOLUTIONS, tmp_path)
    nb = nbformat.read(tmp_path / "A1.ipynb", as_version=4)
    nb.cells = [c for c in nb.cells if role(c) not in ("import-check", "check")]
    names = [e.name for e in course.assignments[0].exercises]
    nb.cells.append(nbformat.v4.new_code_cell(
        f"print(sorted(n for n in {names!r} if n in globals()))\n"
        "try:\n    Affine(np.ones((2, 3)), np.ones(3)).forward(np.ones((4, 2)))\n"
        "except NotImplementedError as e:\n    print('raised:', e)"))
    done = run_in_kernel(nb, tmp_path, monkeypatch)
    assert errors(done) == []
    printed = done.cells[-1].outputs[0].text.splitlines()
    assert printed[0] == repr(sorted(names))
    assert printed[1] == "raised: Affine.forward is not implemented yet: write your code here"


def test_check_cells_of_a_released_notebook_report_not_implemented(
        course: Course, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The released notebook as it is, check cells included: nothing errors, and each check shows the stub
    as not implemented (needs grader.notebook, the inline check)."""
    pytest.importorskip("grader.notebook")
    release_notebooks(course, SOLUTIONS, tmp_path)
    a = next(a for a in course.assignments if a.id == "A1")
    nb = nbformat.read(tmp_path / f"{a.id}.ipynb", as_version=4)
    done = run_in_kernel(nb, tmp_path, monkeypatch)
    assert errors(done) == []
    checks = {c.metadata["grader"]["exercise"]: c for c in done.cells if role(c) == "check"}
    assert list(checks) == [e.id for e in a.exercises]
    for ex in a.exercises:
        shown = " ".join(str(o.get("data", {}).get("text/plain", "")) + str(o.get("text", ""))
                         for o in checks[ex.id].outputs)
        assert re.search(r"not[- ]implemented", shown, re.I), (ex.id, shown[:500])
        assert f"0/{ex.points:g}" in shown, (ex.id, shown[:500])


def solution_lines(folder: Path) -> set[str]:
    """Every line inside a solution block of a .py or .ipynb under ``folder`` (stripped), less blank and
    comment lines, short ones (``return``, ``pass``...), and text that also appears outside any block."""
    inside, outside = set(), set()
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".py":
            texts = [path.read_text()]
        elif path.suffix == ".ipynb":
            texts = [c.source for c in nbformat.read(path, as_version=4).cells]
        else:
            continue
        for text in texts:
            in_block = False
            for line in text.splitlines():
                stripped = line.strip()
                if stripped == BEGIN_MARKER:
                    in_block = True
                elif stripped == END_MARKER:
                    in_block = False
                else:
                    (inside if in_block else outside).add(stripped)
    public = "\n".join(outside)  # a docstring may state a formula the block computes: not a secret
    return {line for line in inside if len(line) >= 12 and not line.startswith("#") and line not in public}


def released_text(folder: Path) -> str:
    """Every file under ``folder`` as text: .py as is, a notebook as every string its JSON holds."""
    def strings(value: object) -> list[str]:
        if isinstance(value, str):
            return [value]
        if isinstance(value, dict):
            return [s for v in value.values() for s in strings(v)]
        if isinstance(value, list):
            return ["".join(value)] if all(isinstance(v, str) for v in value) else [s for v in value for s in strings(v)]
        return []

    parts = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        text = path.read_text(errors="replace")
        parts.extend(strings(json.loads(text)) if path.suffix == ".ipynb" else [text])
    return "\n".join(parts)


def test_no_solution_line_survives_in_any_released_file(course: Course, tmp_path: Path) -> None:
    solutions = tmp_path / "solutions"
    shutil.copytree(SOLUTIONS, solutions, ignore=shutil.ignore_patterns("__pycache__"))
    nbformat.write(lab_notebook(), solutions / "lab.ipynb")
    secrets = solution_lines(solutions)
    assert len(secrets) > 200 and "twice = x + x  # the secret formula" in secrets
    # the search finds them where they are: the solutions themselves
    assert {line for line in secrets if line in released_text(solutions)} == secrets
    released = tmp_path / "released"
    release(solutions, released / "exercises")
    release_notebooks(course, solutions, released / "notebooks")
    text = released_text(released)
    assert [line for line in sorted(secrets) if line in text] == []
    # the committed exercises/ too (release --check keeps it equal to a fresh release)
    committed = released_text(ROOT / "exercises")
    assert [line for line in sorted(secrets) if line in committed] == []


# --- cutting modules into cells: order, shared helpers, clashes (a small course built in memory) --------

def tiny_course(tmp_path: Path, modules: dict[str, str], assignments: dict[str, list[str]]) -> Course:
    """A course whose exercises are the given targets (``module.Name``); only the writer reads it."""
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    for name, text in modules.items():
        (solutions / f"{name}.py").write_text(textwrap.dedent(text).lstrip("\n"))
    n = iter(range(1, 100))
    return Course(path=tmp_path / "course.yml", title="Tiny", limits=Limits(), public_seed=0, hide=(), digest="",
                  assignments=tuple(
                      Assignment(aid, f"Assignment {aid}", tuple(
                          Exercise(id=f"{i}", title=t.split(".")[1], kind="function", target=t, reference=None,
                                   points=1, checks=(), cases=()) for t in targets for i in [next(n)]))
                      for aid, targets in assignments.items()))


def run_cells(nb: nbformat.NotebookNode) -> dict:
    """Execute the code cells in order in one namespace (in process: cheap), leaving out the checks."""
    namespace: dict = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and role(cell) not in ("import-check", "check"):
            exec(compile(cell.source, f"cell {cell.id}", "exec"), namespace)
    return namespace


SHAPES = '''
    """Shapes."""
    import math

    SCALE = 2.0


    class Base:
        """A base class: its own exercise, in A1."""

        def area(self):
            ### BEGIN SOLUTION
            return SCALE * self.side ** 2
            ### END SOLUTION


    class Square(Base):
        """Subclass of another assignment's target."""

        def __init__(self, side):
            self.side = side


    # a helper that needs a target, so it must come after it
    class _Unit(Square):
        def __init__(self):
            super().__init__(1.0)


    def diagonal(side):
        ### BEGIN SOLUTION
        return math.sqrt(2) * _helper(side)
        ### END SOLUTION


    def _helper(side):
        return side
'''


def test_a_base_class_from_another_assignment_and_helpers_come_before_their_users(tmp_path: Path) -> None:
    course = tiny_course(tmp_path, {"shapes": SHAPES},
                         {"A1": ["shapes.Base"], "A2": ["shapes.diagonal", "shapes.Square"]})
    nb = assignment_notebook(course, course.assignments[1], stub_source(tmp_path / "solutions"))
    sources = [(role(c), c.source.split("\n")[0]) for c in nb.cells if c.cell_type == "code"]
    assert sources == [
        ("import-check", "from grader.notebook import check"),
        ("imports", "import math"),
        ("support", "SCALE = 2.0"),
        ("answer", "def diagonal(side):"), ("check", 'check("2")  # diagonal'),
        ("answer", "class Square(Base):"), ("check", 'check("3")  # Square'),
        ("support", "# a helper that needs a target, so it must come after it"),
    ]
    support = next(c.source for c in nb.cells if role(c) == "support")
    assert "class Base" in support and "def _helper" in support and "NotImplementedError" in support
    namespace = run_cells(nb)
    assert {"Base", "Square", "_Unit", "diagonal", "_helper"} <= set(namespace)
    with pytest.raises(NotImplementedError, match="diagonal is not implemented yet"):
        namespace["diagonal"](1.0)
    # the same cutting of the solution runs
    solved = run_cells(assignment_notebook(course, course.assignments[1], solution_source(tmp_path / "solutions")))
    assert solved["_Unit"]().area() == 2.0 and solved["diagonal"](2.0) == pytest.approx(2 * 2 ** 0.5)
    # A1 does not drag in A2's targets
    a1 = assignment_notebook(course, course.assignments[0], stub_source(tmp_path / "solutions"))
    assert "diagonal" not in "".join(c.source for c in a1.cells if c.cell_type == "code")


def test_two_modules_defining_one_name_differently_cannot_share_a_notebook(tmp_path: Path) -> None:
    course = tiny_course(tmp_path, {
        "a": "def _pair(v):\n    return v, v\n\ndef f(x):\n    return _pair(x)\n",
        "b": "def _pair(v):\n    return (v, v)\n\ndef g(x):\n    return _pair(x)\n",
    }, {"A1": ["a.f", "b.g"]})
    with pytest.raises(ReleaseError, match="'_pair' is defined differently by two modules of assignment A1"):
        assignment_notebook(course, course.assignments[0], stub_source(tmp_path / "solutions"))


def test_identical_helpers_of_two_modules_appear_once(tmp_path: Path) -> None:
    helper = "import numpy as np\n\n\ndef _pair(v):\n    return v, v\n\n\n"
    course = tiny_course(tmp_path, {"a": helper + "def f(x):\n    return _pair(x)\n",
                                    "b": helper + "def g(x):\n    return _pair(x)\n"}, {"A1": ["a.f", "b.g"]})
    nb = assignment_notebook(course, course.assignments[0], stub_source(tmp_path / "solutions"))
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert code.count("def _pair") == 1 and code.count("import numpy as np") == 1
    assert run_cells(nb)["g"](3) == (3, 3)


def test_every_bundled_notebook_runs_in_process(course: Course, monkeypatch: pytest.MonkeyPatch) -> None:
    """All assignments, not only the one the kernel test runs: every cell but the checks executes. The
    capstone imports the learner's earlier modules: the released stubs stand beside it, as a learner's own."""
    import sys

    monkeypatch.syspath_prepend(str(ROOT / "exercises"))
    before = set(sys.modules)
    try:
        for assignment in course.assignments:
            namespace = run_cells(assignment_notebook(course, assignment, stub_source(SOLUTIONS)))
            assert {e.name for e in assignment.exercises} <= set(namespace), assignment.id
    finally:
        for name in set(sys.modules) - before:
            if name in {e.module for e in course.exercises}:
                del sys.modules[name]


def test_an_import_of_another_course_module_is_served_by_the_notebook_or_kept(tmp_path: Path) -> None:
    modules = {"a": "def f(x):\n    return x + 1\n",
               "b": "from a import f\n\n\ndef g(x):\n    return 2 * f(x)\n"}
    course = tiny_course(tmp_path, modules, {"A1": ["a.f", "b.g"], "A2": ["b.g"]})
    both = assignment_notebook(course, course.assignments[0], solution_source(tmp_path / "solutions"))
    assert "from a import" not in "".join(c.source for c in both.cells)  # one namespace: f is right there
    assert run_cells(both)["g"](1) == 4
    later = assignment_notebook(course, course.assignments[1], solution_source(tmp_path / "solutions"))
    sources = [c.source for c in later.cells]
    assert any("from a import f" in s for s in sources)  # the learner's own earlier work, kept
    assert "keep `a.py`" in sources[0]
