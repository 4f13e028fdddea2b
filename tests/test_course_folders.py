"""A course is a folder of its own: course.yml, solutions/, exercises/ and its own torch twins
(references.py or references/), graded by a grader that knows nothing of it.

The example course (examples/mini-course) and a course written in a temporary folder are graded here;
the generic tests that run on every course folder of the repository are parametrized over
``COURSE_FOLDERS`` (tests/test_cli.py, tests/test_variants.py)."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader import api, references
from grader.coursefile import check_twins, load_course
from grader.engine.expected import compute_references
from grader.engine.grading import Options, grade
from grader.engine.refstore import cache_key
from grader.model.errors import CourseError, GraderError
from grader.model.results import ERROR, NOT_IMPLEMENTED, PASS

from .conftest import COURSE_FOLDERS, ROOT, cli_env, folder_id

MINI = ROOT / "examples" / "mini-course"
PACKAGE = Path(references.__file__).resolve().parent.parent

SILU_TWIN = '''import torch.nn.functional as F

from grader.references import twin


@twin("silu")
def silu(x):
    return F.silu(x)
'''

SILU = '''import numpy as np


class SiLU:
    def __init__(self):
        self.params = []
        self.grads = []

    def forward(self, x):
        ### BEGIN SOLUTION
        self.x = np.array(x, dtype=np.float64)
        self.s = 1.0 / (1.0 + np.exp(-self.x))
        return self.x * self.s
        ### END SOLUTION

    def backward(self, dout):
        ### BEGIN SOLUTION
        return dout * (self.s + self.x * self.s * (1.0 - self.s))
        ### END SOLUTION
'''

COURSE = '''version: 1
title: My own course
assignments:
  - id: X
    title: One activation
    exercises:
      - id: "x.1"
        title: SiLU
        kind: layer
        target: act.SiLU
        reference: {reference}
        points: 2
        cases:
          - {{x: [3, 4]}}
        checks: {{reference: 2, gradcheck: 1}}
'''


def own_course(folder: Path, reference: str = "silu", twins: str = SILU_TWIN) -> Path:
    """A course folder outside the repository: course.yml, solutions/act.py, references.py."""
    (folder / "solutions").mkdir(parents=True)
    (folder / "course.yml").write_text(COURSE.format(reference=reference))
    (folder / "solutions" / "act.py").write_text(SILU)
    (folder / "references.py").write_text(twins)
    return folder


def package_state() -> dict[str, str]:
    return {str(p.relative_to(PACKAGE)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(PACKAGE.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


# --------------------------------------------------------------------------- a course outside the repository


def test_a_course_folder_outside_the_repository_validates_and_grades(tmp_path: Path) -> None:
    before = package_state()
    folder = own_course(tmp_path / "my-course")
    from grader.release.stubs import release

    release(folder / "solutions", folder / "exercises")
    course = api.validate(folder)  # a folder, not a file
    assert course.path == folder / "course.yml"
    assert course.hide == (folder / "solutions", folder / "references.py")  # the twins as secret as solutions
    full = grade(course, folder / "solutions", Options())
    assert [(e.status, e.points) for e in full.exercises] == [(PASS, 2)]
    stubs = grade(course, folder / "exercises", Options())
    assert [(e.status, e.points) for e in stubs.exercises] == [(NOT_IMPLEMENTED, 0)]
    assert package_state() == before  # nothing was written into the grader's package
    assert "silu" not in references.TWINS  # the built-in registry is untouched too


def test_a_course_twin_wins_a_clash_with_one_warning_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    twins = SILU_TWIN + '\n\n@twin("sigmoid")\ndef sigmoid(x):\n    return 2 * x.sigmoid()\n'
    folder = own_course(tmp_path / "c", twins=twins)
    loaded = references.load(folder / "course.yml")
    assert loaded["sigmoid"] is not references.TWINS["sigmoid"]
    assert loaded["sigmoid"].__code__.co_filename == str(folder / "references.py")
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [f"grader: warning: {folder / 'references.py'}: twin 'sigmoid' replaces the built-in twin of "
                     "that name"]
    assert references.load(folder)["sigmoid"] is loaded["sigmoid"]  # loaded once: no second warning
    assert capsys.readouterr().err == ""
    assert references.load()["sigmoid"] is references.TWINS["sigmoid"]  # other courses keep the built-in one


def test_a_twins_package_is_loaded_with_its_submodules(tmp_path: Path) -> None:
    folder = own_course(tmp_path / "c", twins="")
    (folder / "references.py").unlink()
    (folder / "references").mkdir()
    (folder / "references" / "__init__.py").write_text("from .helpers import GAIN\n")
    (folder / "references" / "helpers.py").write_text("GAIN = 1.0\n")
    (folder / "references" / "acts.py").write_text(SILU_TWIN.replace("F.silu(x)", "GAIN * F.silu(x)")
                                                   .replace("import twin", "import twin\n\nfrom . import GAIN"))
    course = api.validate(folder)
    assert [(e.status, e.points) for e in grade(course, folder / "solutions", Options()).exercises] == [(PASS, 2)]
    assert folder / "references" in course.hide


def test_editing_a_course_twin_recomputes_the_references(tmp_path: Path) -> None:
    folder = own_course(tmp_path / "c")
    course = load_course(folder / "course.yml")
    key = cache_key(course.digest, 0, "cpu", folder)
    first = compute_references(course, 0, "cpu")
    (folder / "references.py").write_text(SILU_TWIN.replace("F.silu(x)", "2 * F.silu(x)"))
    assert cache_key(course.digest, 0, "cpu", folder) != key
    assert load_course(folder).digest != course.digest  # a class graded before is graded again (batch)
    second = compute_references(course, 0, "cpu")
    out = ("x.1", "case", 0, "out")
    assert (second[out] == 2 * first[out]).all()
    # graded through the cache: the edited twin's values, so the (unchanged) solution now fails
    result = grade(course, folder / "solutions", Options())
    assert result.exercises[0].status != PASS


def test_a_missing_twin_is_a_course_error_in_validate_and_check(tmp_path: Path) -> None:
    folder = own_course(tmp_path / "c", reference="slu")
    course = load_course(folder)
    with pytest.raises(CourseError, match=r"course.yml: exercise x.1 \(SiLU\): no torch twin named 'slu' \(built in, "
                                          r"or @twin in .*references.py\); did you mean 'silu'\? \(`grader validate` names the line\)"):
        check_twins(course)
    with pytest.raises(CourseError, match="no torch twin named 'slu'"):
        grade(course, folder / "solutions", Options())


def test_a_broken_twin_module_is_a_course_error_naming_its_file(tmp_path: Path) -> None:
    folder = own_course(tmp_path / "c", twins="import torch\nraise ValueError('oops')\n")
    with pytest.raises(CourseError, match=r"references.py: the course's torch twins could not be loaded: ValueError: oops"):
        api.validate(folder)


# --------------------------------------------------------------------------- the example course


def test_the_course_twins_are_hidden_from_learner_code(tmp_path: Path) -> None:
    """A learner module that opens the course's references.py reads nothing of it (masked like solutions/)."""
    course = load_course(MINI)
    twin_file = MINI / "references.py"
    assert twin_file in course.hide
    sub = tmp_path / "sub"
    shutil.copytree(MINI / "solutions", sub)
    with open(sub / "activations.py", "a") as f:
        f.write(f"\n\n_forward = SiLU.forward\n\n\ndef _peek(self, x):\n    try:\n"
                f"        text = open({str(twin_file)!r}).read()\n    except OSError:\n        text = ''\n"
                f"    if 'twin' in text:\n        raise RuntimeError('read the course twins')\n"
                f"    return _forward(self, x)\n\n\nSiLU.forward = _peek\n")
    result = grade(course, sub, Options(exercises=["m.1"]))
    if result.isolation == "A":
        pytest.skip("isolation tier A cannot hide files from the child")
    [silu] = result.exercises
    assert (silu.status, silu.points) == (PASS, silu.max_points), silu.reason


def test_landlock_leaves_out_a_hidden_file_inside_a_readable_tree(tmp_path: Path) -> None:
    """Where the course lies inside a tree learner code may read (a course installed under site-packages),
    Landlock's allowed paths still leave its references.py out (tier A has no mount to mask it)."""
    from grader.sandbox.confinement import _tree_minus

    (tmp_path / "course" / "solutions").mkdir(parents=True)
    for name in ("course.yml", "references.py", "solutions/a.py"):
        (tmp_path / "course" / name).write_text("x")
    hidden = [str(tmp_path / "course" / "references.py"), str(tmp_path / "course" / "solutions")]
    allowed = _tree_minus(str(tmp_path), hidden)
    assert sorted(allowed) == [str(tmp_path / "course" / "course.yml")]


def test_the_example_notebook_gets_full_marks() -> None:
    course = load_course(MINI)
    result = grade(course, MINI / "submissions" / "M1.ipynb", Options())
    assert {e.title: e.status for e in result.exercises} == {e.title: PASS for e in course.exercises}
    assert result.points == result.max_points == sum(e.points for e in course.exercises)


def test_a_planted_bug_in_the_example_course_is_caught(tmp_path: Path) -> None:
    course = load_course(MINI)
    sub = tmp_path / "sub"
    shutil.copytree(MINI / "solutions", sub)
    text = (sub / "activations.py").read_text()
    bug = "self.s + self.x * self.s * (1.0 - self.s)"
    assert text.count(bug) == 1
    (sub / "activations.py").write_text(text.replace(bug, "self.s"))  # the derivative of x * s forgets x * s'
    result = grade(course, sub, Options())
    statuses = {e.id: e.status for e in result.exercises}
    assert statuses["m.1"] not in (PASS, ERROR) and statuses["m.2"] == statuses["m.3"] == PASS
    silu = next(e for e in result.exercises if e.id == "m.1")
    checks = {c.name: c for c in silu.checks}
    assert checks["reference"].score < 1 and "dx" in checks["reference"].reason


def test_a_public_case_file_uses_the_course_twin(tmp_path: Path) -> None:
    import numpy as np
    import torch

    course = load_course(MINI)
    api.case(course, "SiLU", 0, tmp_path / "c.npz")
    c = np.load(tmp_path / "c.npz")
    assert np.allclose(c["expected_out"], torch.nn.functional.silu(torch.tensor(c["x"])).numpy())


def test_the_gradescope_bundle_carries_the_course_twins(tmp_path: Path) -> None:
    with zipfile.ZipFile(api.bundle(MINI, tmp_path / "b.zip", None)) as z:
        assert z.read("course/references.py") == (MINI / "references.py").read_bytes()
        z.extractall(tmp_path / "autograder")
    course = api.validate(tmp_path / "autograder" / "course")  # as run_autograder loads it
    assert course.hide == (tmp_path / "autograder" / "course" / "references.py",)  # masked there too


def test_a_dask_worker_gets_the_course_twins(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    from grader.executors import dask_worker
    from grader.executors.dask_worker import course_on_worker, course_twins

    course = load_course(MINI)
    twins = course_twins(MINI)
    assert [rel for rel, _ in twins] == ["references.py"]
    assert course_on_worker(str(MINI / "course.yml"), (MINI / "course.yml").read_bytes(), course.digest,
                            twins) == str(MINI / "course.yml")  # the same folder: graded in place
    assert course_on_worker("x", b"", course.digest, twins) == str(MINI / "course.yml")  # once per worker
    other = [(rel, data + b"\n") for rel, data in twins]  # twins that are not the client's: refused
    with pytest.raises(GraderError, match="reads as digest"):
        course_on_worker(str(tmp_path / "gone" / "course.yml"), (MINI / "course.yml").read_bytes(), course.digest,
                         other)
    dask_worker._WORKER_COURSES.clear()
    copy = Path(course_on_worker(str(tmp_path / "gone" / "course.yml"), (MINI / "course.yml").read_bytes(),
                                 course.digest, twins))  # a worker without the folder: a copy, twins beside it
    assert copy != MINI / "course.yml" and (copy.parent / "references.py").read_bytes() == twins[0][1]
    assert "silu" in references.load(copy)
    assert cache_key(course.digest, 0, "cpu", copy.parent) == cache_key(course.digest, 0, "cpu", MINI)


def test_a_dask_cluster_grades_the_example_course_with_its_twins(tmp_path: Path) -> None:
    """The reference file's key counts the course's twins on the client and on the worker alike."""
    pytest.importorskip("distributed")
    from grader.executors.batch import BatchOptions, grade_batch

    course = load_course(MINI)
    shutil.copytree(MINI / "solutions", tmp_path / "subs" / "alice")
    summary = grade_batch(course, tmp_path / "subs", tmp_path / "out",
                          BatchOptions(jobs=1, executor="dask", address="local:1"))
    assert summary.graded == ["alice"] and not summary.errors
    alice = json.loads((tmp_path / "out" / "alice.json").read_text())
    assert alice["points"] == alice["max_points"] == sum(e.points for e in course.exercises)


# --------------------------------------------------------------------------- every course folder


@pytest.mark.parametrize("folder", COURSE_FOLDERS, ids=folder_id)
def test_every_course_folder_validates(folder: Path) -> None:
    course = api.validate(folder)
    assert course.path == folder / "course.yml" and course.exercises


# --------------------------------------------------------------------------- the command line


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**cli_env(), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_the_course_is_found_by_walking_up_from_the_current_folder() -> None:
    proc = cli("check", "M1.ipynb", cwd=MINI / "submissions")  # no course.yml here: found in the parent
    total = f"{sum(e.points for e in load_course(MINI).exercises):g}"
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"Total: {total}/{total}" in proc.stdout and "A mini course" in proc.stdout


def test_check_with_a_missing_twin_is_one_line_naming_the_twin(tmp_path: Path) -> None:
    folder = own_course(tmp_path / "c", reference="slu")
    proc = cli("check", str(folder / "solutions"), "--course", str(folder), cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "KeyError" not in proc.stderr
    line = proc.stderr.strip().splitlines()[-1]  # after the "computing references" progress line
    assert line.startswith(f"grader: error: {folder / 'course.yml'}: exercise x.1 (SiLU): no torch twin named 'slu'")
    assert "did you mean 'silu'?" in line
