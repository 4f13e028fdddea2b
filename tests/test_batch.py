"""Batch grading: mixed submission formats, unsafe uploads refused, resumable, gradebook, Gradescope,
and hidden-case feedback that reveals no inputs or expected values."""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from grader.executors.batch import BatchOptions, grade_batch, student_id
from grader.fronts import prepare_workdir
from grader.model.course import Course
from grader.model.errors import SubmissionError

from .conftest import EXERCISES, ROOT, SOLUTIONS, make_submission

SECRET = 0x9F3B_61D2_07AC_44E8_B5C1_2E9A_D7F0_3B64
"""A strong secret seed (128 bits, as `grader secret` makes): grade and gradescope-bundle refuse weak ones."""


def _zip(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, target)
    return path


def _solution_members() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in SOLUTIONS.glob("*.py")}


def _notebook(path: Path, code: str) -> Path:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# work"},
             {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
              "source": "%matplotlib inline\n!pip install nothing\n" + code}]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


@pytest.mark.parametrize(("members", "links", "message"), [
    ({"../evil.py": b"x = 1"}, None, "zip slip"),
    ({"/etc/evil.py": b"x = 1"}, None, "absolute"),
    ({"layers.py": b"x = 1"}, {"activations.py": "/etc/passwd"}, "symbolic links are refused"),
    ({"big.py": b"#" * (3 * 1024 * 1024)}, None, "more than"),
    ({"bad name.py": b"x = 1"}, None, "file names may use"),
])
def test_unsafe_archives_are_refused(members: dict[str, bytes], links: dict[str, str] | None, message: str,
                                     tmp_path: Path) -> None:
    archive = _zip(tmp_path / "sub.zip", members, links)
    with pytest.raises(SubmissionError, match=message):
        prepare_workdir(archive)


def test_zip_bomb_is_refused(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "bomb.zip", {"layers.py": b"\0" * (1024 * 1024)})
    with pytest.raises(SubmissionError, match="zip bomb"):
        prepare_workdir(archive)


def test_notebook_becomes_a_module(tmp_path: Path) -> None:
    folder = tmp_path / "nb"
    folder.mkdir()
    _notebook(folder / "layers.ipynb", "import numpy as np\nVALUE = 3\n")
    work = prepare_workdir(folder)
    text = (work / "layers.py").read_text()
    assert "VALUE = 3" in text and "# (dropped) %matplotlib inline" in text and "# (dropped) !pip" in text
    compile(text, "layers.py", "exec")


@pytest.fixture(scope="module")
def batch(course: Course, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object]:
    root = tmp_path_factory.mktemp("batch")
    subs = root / "subs"
    subs.mkdir()
    shutil.copytree(SOLUTIONS, subs / "alice")
    shutil.copytree(EXERCISES, subs / "bob")
    make_submission(subs / "carol", append={"layers": "class Affine:\n    pass\n"})
    _zip(subs / "dave.zip", _solution_members())
    _zip(subs / "eve.zip", {"../../escape.py": b"x = 1"})
    nb = subs / "frank"
    nb.mkdir()
    for p in SOLUTIONS.glob("*.py"):
        if p.stem == "activations":
            _notebook(nb / "activations.ipynb", p.read_text())
        else:
            shutil.copyfile(p, nb / p.name)
    out = root / "results"
    summary = grade_batch(course, subs, out, BatchOptions(jobs=2, gradescope=True))
    return subs, out, summary


def _total(course: Course) -> float:
    return sum(e.points for e in course.exercises)


def test_batch_scores(batch, course: Course) -> None:  # noqa: ANN001
    subs, out, summary = batch
    total = f"{_total(course):g}"
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO((out / "gradebook.csv").read_text()))}
    assert set(rows) == {"alice", "bob", "carol", "dave", "eve", "frank"}
    assert rows["alice"]["total"] == rows["dave"]["total"] == rows["frank"]["total"] == total
    assert rows["bob"]["total"] == "0"
    affine = course.exercise("Affine").points
    # carol's Affine is broken: her Affine exercise and the capstone's networks built from it (A7) lose points
    carol = json.loads((out / "carol.json").read_text())
    lost = {e["id"]: e["max_points"] - e["points"] for a in carol["assignments"] for e in a["exercises"]}
    assert lost["1.10"] == affine and all(lost[e.id] > 0 for e in course.exercises if e.target.startswith("networks."))
    assert {i for i, v in lost.items() if v} == {"1.10"} | {e.id for e in course.exercises
                                                           if e.target.startswith("networks.")}
    assert rows["carol"]["total"] == f"{_total(course) - sum(lost.values()):g}" and rows["carol"]["status"] == "incomplete"
    assert rows["eve"]["status"] == "error" and rows["eve"]["max_points"] == total
    eve = json.loads((out / "eve.json").read_text())
    assert "zip slip" in eve["error"]
    assert sorted(summary.errors) == ["eve"]


def test_gradescope_format(batch, course: Course) -> None:  # noqa: ANN001
    _, out, _ = batch
    data = json.loads((out / "alice.gradescope.json").read_text())
    assert data["score"] == _total(course)
    assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(data["tests"][0])
    assert all(t["status"] == "passed" for t in data["tests"])
    assert abs(sum(t["max_score"] for t in data["tests"]) - _total(course)) < 1e-4


def test_rerun_skips_and_force_regrades(batch, course: Course) -> None:  # noqa: ANN001
    subs, out, _ = batch
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json")}
    (out / "carol.json").unlink()
    summary = grade_batch(course, subs, out, BatchOptions(jobs=1))
    assert summary.graded == ["carol"] and len(summary.skipped) == 5
    after = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json")}
    assert all(after[n] == before[n] for n in before if n != "carol.json")


def test_rerun_keeps_only_results_of_this_course_seed_and_grader(batch, course: Course, tmp_path: Path) -> None:  # noqa: ANN001
    """Editing course.yml, another seed, device or grader version: a rerun regrades everyone."""
    import dataclasses

    from grader.executors import batch as batch_module

    _, out, _ = batch
    alice = out / "alice.json"
    assert batch_module._current(alice, course, BatchOptions())
    assert not batch_module._current(alice, dataclasses.replace(course, digest="edited0000000000"), BatchOptions())
    assert not batch_module._current(alice, course, BatchOptions(seed=SECRET))
    assert not batch_module._current(alice, course, BatchOptions(device="cuda"))
    old = tmp_path / "old.json"
    old.write_text(alice.read_text().replace('"grader_version": "', '"grader_version": "0.0.0-old'))
    assert not batch_module._current(old, course, BatchOptions())
    assert course.seed_digest(SECRET) != course.seed_digest(None) and str(SECRET) not in alice.read_text()


def test_hidden_cases_reveal_no_values(course: Course, tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    make_submission(subs / "carol", append={"layers": "\n".join([
        "class Affine:",
        "    def __init__(self, W, b):",
        "        self.params = [W, b]; self.grads = [np.zeros_like(W), np.zeros_like(b)]",
        "    def forward(self, x):",
        "        self.x = x; return x @ self.params[0] + self.params[1]",
        "    def backward(self, dout):",
        "        self.grads[0][...] = self.x.T @ dout; self.grads[1][...] = dout.mean(axis=0)",
        "        return dout @ self.params[0].T"])})
    grade_batch(course, subs, tmp_path / "out", BatchOptions(seed=SECRET))
    text = (tmp_path / "out" / "carol.json").read_text()
    data = json.loads(text)
    assert data["seed"] == "secret" and str(SECRET) not in text
    affine = next(e for a in data["assignments"] for e in a["exercises"] if e["title"] == "Affine")
    failing = [k for c in affine["checks"] for k in c["cases"] if k["status"] != "pass"]
    assert failing
    for k in failing:
        assert "worst" not in k["message"] and "yours" not in k["message"]
        assert "arrays" not in k["details"] and "expected" not in k["details"]
        assert k["setting"] and k["setting"] not in k["message"]  # the setting is shown once, in the title
    assert any("off by a factor of 1/N" in k["message"] for k in failing)


def test_killed_batch_resumes_without_regrading(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    for i in range(12):
        shutil.copytree(SOLUTIONS, subs / f"s{i:02d}")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "grader", "grade", str(subs), "--out", str(out), "-j", "1", "-q",
           "--course", str(ROOT / "course.yml")]
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(out.glob("s*.json"))) < 3:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    first = {p.name: p.stat().st_mtime_ns for p in out.glob("s*.json")}
    assert 3 <= len(first) < 12, "kill came too late to test resuming"
    for p in out.glob("s*.json"):
        json.loads(p.read_text())  # every written result is complete JSON
    subprocess.run(cmd, cwd=ROOT, check=True)
    final = {p.name: p.stat().st_mtime_ns for p in out.glob("s*.json")}
    assert len(final) == 12
    assert all(final[n] == t for n, t in first.items())


def test_student_ids() -> None:
    assert student_id(Path("a b.zip")) == "a%20b" and student_id(Path("x.ipynb")) == "x" and student_id(Path("d")) == "d"


def test_gradescope_bundle(tmp_path: Path) -> None:
    out = tmp_path / "autograder.zip"
    proc = subprocess.run([sys.executable, "-m", "grader", "gradescope-bundle", "--course", str(ROOT / "course.yml"),
                           "--out", str(out), "--seed", str(SECRET), "--no-references"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(out) as z:
        names = set(z.namelist())
        assert {"setup.sh", "run_autograder", "course/course.yml", "secret/seed",
                "grader_src/pyproject.toml", "grader_src/grader/engine/grading.py", "grader_src/grader/sandbox/child.py"} <= names
        assert not any(n.startswith(("solutions/", "grader_src/solutions", "tests/")) for n in names)
        run = z.read("run_autograder").decode()
        assert "--gradescope \"$RESULTS\"" in run and "/autograder" in run and "GRADER_HIDE=" in run
        assert z.read("secret/seed") == str(SECRET).encode()
        assert (z.getinfo("run_autograder").external_attr >> 16) & 0o111


def test_gradebook_per_exercise_and_roster(batch, course: Course, tmp_path: Path) -> None:  # noqa: ANN001
    from grader.backs.dashboard import write_dashboard
    from grader.backs.gradebook import read_roster
    from grader.executors.batch import write_gradebook

    _, out, summary = batch
    results = tmp_path / "results"
    shutil.copytree(out, results)
    roster = tmp_path / "roster.csv"
    roster.write_text("student,name,email\nalice,Alice Liddell,alice@example.org\nzoe,Zoe Z,zoe@example.org\n")
    write_gradebook(results, summary.not_graded, read_roster(roster))
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO((results / "gradebook.csv").read_text()))}
    affine = course.exercise("Affine")
    column = f"{affine.id} {affine.title}"
    assert rows["alice"][column] == f"{affine.points:g}" and rows["carol"][column] == "0"
    assert rows["alice"]["name"] == "Alice Liddell" and rows["alice"]["email"] == "alice@example.org"
    assert rows["zoe"]["status"] == "no submission" and rows["zoe"]["total"] == ""
    assert rows["bob"]["name"] == ""  # not in the roster: still graded, no name
    with pytest.raises(Exception, match="'student'"):
        (tmp_path / "bad.csv").write_text("who,name\nx,y\n")
        read_roster(tmp_path / "bad.csv")

    write_dashboard(results, tmp_path / "class.html")
    page = (tmp_path / "class.html").read_text()
    errors = page[page.index("Errors, timeouts"):page.index("Pass rate")]
    assert "eve" in errors and "zip slip" in errors and "zoe" in errors
    students = page[page.index("<h2>Students"):]
    assert all(f"<td>{name}</td>" in students for name in ("alice", "bob", "carol", "dave", "eve", "frank"))
    assert f"{affine.id} {affine.title}:" in students  # carol's first problem


def test_class_summary_memory_is_flat_in_class_size(course: Course, tmp_path: Path) -> None:
    """The gradebook's pass over RESULTS/ keeps a line per student (a few KB), never every result tree
    (reading all 300 first held 271 MiB): each extra student costs under 2% of one result's JSON."""
    import tracemalloc

    from grader.backs.classbook import read_results, summarize
    from grader.engine.grading import Options, grade
    from grader.model.results import to_json

    text = to_json(grade(course, SOLUTIONS, Options()))
    peaks = {}
    for n in (30, 300):
        folder = tmp_path / str(n)
        folder.mkdir()
        for i in range(n):
            (folder / f"s{i:03d}.json").write_text(text)
        tracemalloc.start()
        summary = summarize(read_results(folder))
        peaks[n] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert len(summary.lines) == n
    per_student = (peaks[300] - peaks[30]) / 270
    assert per_student < 0.02 * len(text), (per_student, len(text), peaks)
