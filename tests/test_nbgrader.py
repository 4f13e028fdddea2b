"""`grader nbgrader` end to end: nbgrader's own generate_assignment, autograde, export and generate_feedback
give this grader's scores (partial credit included), messages and figures, and hidden cases are graded
with GRADER_SEED without the seed ever reaching a kernel."""
from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from grader.coursefile import load_course
from grader.engine.grading import Options, grade
from grader.release.nbgrader_course import source_notebook
from grader.sandbox.confinement import FAIL_AT_ENV

from .conftest import ROOT, small_course

pytest.importorskip("nbgrader")
nbformat = pytest.importorskip("nbformat")

KEEP = ["1.1", "1.10", "1.11"]  # Sigmoid (activations), Affine (layers), MSELoss (losses: helpers in setup)
BUG = ("answer_1_10", "self.x @ self.W + self.b", "self.x @ self.W - self.b")
SECRET = 191722099121920244228373621158604784417  # what `grader secret` makes: 128 bits
PRIVATE_IN_CHILD = ("/tmp/", "/var/tmp/", "/dev/shm/")
"""Folders the sandboxed child gets private copies of (tiers B and C): a checkout there (a CI clone in
/tmp) hides the course from the probe even without the autograde hook, so the positive control below
needs the checkout elsewhere."""
LEAK = 'import os\nprint("seed in kernel:", os.environ.get("GRADER_SEED"))\n'
PEEK = """    def __init__(self):
        try:
            open({path!r}).read()
            print("read the solutions")
        except OSError as e:
            print("solutions hidden:", type(e).__name__)
"""


def run(*args: str, cwd: Path, seed: int | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "GRADER_SEED"}
    env["PYTHONPATH"] = str(ROOT)  # nbgrader's process and its kernels import this tree's grader
    if seed is not None:
        env["GRADER_SEED"] = str(seed)
    done = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def submit(course_dir: Path, student: str, bug: tuple[str, str, str] | None = None, peek: bool = False,
           leak: bool = False) -> Path:
    """The released notebook with every answer cell filled in from the source (markers removed)."""
    source = nbformat.read(course_dir / "source" / "A1" / "A1.ipynb", 4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells if c.metadata["nbgrader"]["solution"]}
    nb = nbformat.read(course_dir / "release" / "A1" / "A1.ipynb", 4)
    for cell in nb.cells:
        gid = cell.metadata["nbgrader"]["grade_id"]
        if gid in answers:
            cell.source = "\n".join(ln for ln in answers[gid].split("\n") if "SOLUTION" not in ln)
            if peek and gid == "answer_1_1":  # the sandboxed child tries to read the source notebook
                assert "    def __init__(self):\n" in cell.source
                cell.source = cell.source.replace("    def __init__(self):\n", PEEK.format(
                    path=str(course_dir / "source" / "A1" / "A1.ipynb")), 1)
            if bug and gid == bug[0]:
                assert bug[1] in cell.source
                cell.source = cell.source.replace(bug[1], bug[2])
            if leak and gid == "answer_1_10":
                cell.source += "\n\n" + LEAK
    path = course_dir / "submitted" / student / "A1" / "A1.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)
    return path


def cell_points(autograded: Path) -> dict[str, float]:
    """What nbgrader reads per test cell: the number of the cell's execute_result."""
    nb = nbformat.read(autograded, 4)
    out = {}
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            [value] = [o for o in cell.outputs if o.output_type == "execute_result"]
            out[cell.metadata["nbgrader"]["grade_id"]] = float(value.data["text/plain"])
    return out


def test_source_notebook_cells_carry_nbgrader_metadata(tmp_path: Path) -> None:
    from grader.nbgrader_hook import TEST_CALL

    course_file = small_course(tmp_path / "kit", KEEP)
    course = load_course(course_file)
    nb = source_notebook(course, course.assignments[0], tmp_path / "kit" / "solutions")
    metas = [c.metadata["nbgrader"] for c in nb.cells]
    assert len({m["grade_id"] for m in metas}) == len(metas)  # nbgrader keys grades by grade_id
    answers = [i for i, m in enumerate(metas) if m["grade_id"].startswith("answer_")]
    assert [metas[i]["grade_id"] for i in answers] == [f"answer_{e.id.replace('.', '_')}" for e in course.exercises]
    for i, ex in zip(answers, course.exercises):
        assert "### BEGIN SOLUTION" in nb.cells[i].source and not metas[i]["locked"]
        test = metas[i + 1]
        assert test["grade"] and test["locked"] and test["points"] == ex.points
        assert TEST_CALL.findall(nb.cells[i + 1].source) == [ex.id]
    assert all(m["locked"] for m in metas if not m["solution"])
    # a cell holding a solution block is a solution cell (nbgrader refuses blocks elsewhere); the closing
    # marker of a class's last method stays in the class's cell
    for cell, m in zip(nb.cells, metas):
        assert m["solution"] == ("### BEGIN SOLUTION" in cell.source)
        assert cell.source.count("### BEGIN SOLUTION") == cell.source.count("### END SOLUTION")


@pytest.fixture
def nbcourse() -> Iterator[Path]:
    """A folder for the nbgrader course outside /tmp: the sandbox replaces /tmp with an empty scratch
    folder anyway, so only a course elsewhere shows that the child cannot read source/ and the rest."""
    parent = ROOT / ".pytest_cache"
    parent.mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="nbcourse-", dir=parent))
    folder.chmod(0o755)  # readable by others, as a course folder usually is (the child runs as another user)
    yield folder / "course"
    shutil.rmtree(folder, ignore_errors=True)


def test_nbgrader_autograde_gives_the_graders_scores_messages_and_figures(tmp_path: Path, nbcourse: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # Landlock alone would keep the child out of the course folder (it reads only the system and
    # Python): without it, the probe below shows the masks the autograde hook adds
    monkeypatch.setenv(FAIL_AT_ENV, "no landlock")
    course_file = small_course(tmp_path / "kit", KEEP)
    out = nbcourse
    printed = run("-m", "grader", "nbgrader", str(out), "--course", str(course_file), "--assignments", "A1", cwd=ROOT)
    assert "source/A1/A1.ipynb" in printed
    source = nbformat.read(out / "source" / "A1" / "A1.ipynb", 4)
    tests = [c for c in source.cells if c.metadata["nbgrader"]["grade"]]
    course = load_course(course_file)
    assert [c.metadata["nbgrader"]["points"] for c in tests] == [float(e.points) for e in course.exercises]
    assert all(c.metadata["nbgrader"]["locked"] and not c.metadata["nbgrader"]["solution"] for c in tests)

    run("-m", "nbgrader", "generate_assignment", "A1", cwd=out)
    released = (out / "release" / "A1" / "A1.ipynb").read_text()
    assert "### BEGIN SOLUTION" not in released and "self.x @ self.W + self.b" not in released
    # alice: a planted bug, graded on the public cases; bob: the solutions, graded on hidden cases
    alice, bob = submit(out, "alice", BUG, peek=True), submit(out, "bob", leak=True)
    run("-m", "nbgrader", "autograde", "A1", "--student", "alice", cwd=out)
    run("-m", "nbgrader", "autograde", "A1", "--student", "bob", cwd=out, seed=SECRET)
    run("-m", "nbgrader", "export", cwd=out)
    run("-m", "nbgrader", "generate_feedback", "A1", cwd=out)

    expected = {student: grade(course, path, Options(seed=seed))
                for student, path, seed in (("alice", alice, None), ("bob", bob, SECRET))}
    with open(out / "grades.csv") as f:
        exported = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    assert exported == {s: r.points for s, r in expected.items()}
    assert exported["bob"] == sum(e.points for e in course.exercises) > exported["alice"] > exported["bob"] - 4
    for student, result in expected.items():
        per_cell = cell_points(out / "autograded" / student / "A1" / "A1.ipynb")
        assert per_cell == {f"test_{e.id.replace('.', '_')}": e.points for e in result.exercises}
    assert 0 < expected["alice"].exercises[1].points < expected["alice"].exercises[1].max_points  # partial credit

    alice_feedback = (out / "feedback" / "alice" / "A1" / "A1.html").read_text()
    bob_feedback = (out / "feedback" / "bob" / "A1" / "A1.html").read_text()
    assert "the sign of db is flipped" in alice_feedback and "1.10 Affine" in alice_feedback
    assert "data:image/png;base64," in alice_feedback  # the figure of the failing case
    [sigmoid] = [c for c in nbformat.read(out / "autograded" / "alice" / "A1" / "A1.ipynb", 4).cells
                 if c.metadata.get("nbgrader", {}).get("grade_id") == "test_1_1"]
    report = sigmoid.outputs[0].data["text/html"]  # what the learner's code printed in the sandbox
    assert "solutions hidden:" in report and "read the solutions" not in report
    if not str(out.resolve()).startswith(PRIVATE_IN_CHILD):  # the probe works where nothing hides them
        assert "read the solutions" in expected["alice"].exercises[0].output
    for student, seed in (("alice", "public"), ("bob", "secret")):  # bob's hidden cases were graded
        nb = nbformat.read(out / "autograded" / student / "A1" / "A1.ipynb", 4)
        shown = [o.data["text/html"] for c in nb.cells for o in c.get("outputs", []) if "text/html" in o.get("data", {})]
        assert len(shown) == len(KEEP) and all(f"seed {seed}" in html for html in shown)
    assert "seed in kernel: None" in bob_feedback  # the kernel never held the seed
    for path in [*out.rglob("*.html"), *out.rglob("*.ipynb")]:
        assert str(SECRET) not in path.read_text(), path
