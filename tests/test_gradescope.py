"""Gradescope: one results.json per Gradescope's autograder spec, the same from `check --gradescope` and
`grade --format gradescope`: public tests visible before the due date, hidden ones after it, no hidden
value in what is visible; an empty upload gets 0 with its reason; the bundle's setup.sh installs into a
venv on a bare Ubuntu, and its run_autograder grades an upload in a simulated /autograder root with the
references shipped in the zip (none computed per submission)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader import cli
from grader.backs.gradescope import gradescope_results
from grader.engine.grading import Options, grade
from grader.executors.batch import BatchOptions, grade_batch
from grader.model.course import Course
from grader.release.gradescope_bundle import build_bundle

from .conftest import make_submission
from .test_batch import SECRET
from .test_hidden_leaks import hidden_values, hostile, small_course  # noqa: F401 - fixtures

VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}


def _check(course: Course, sub: Path, out: Path, seed: int | None = SECRET) -> tuple[int, dict]:
    args = ["check", str(sub), "--course", str(course.path), "-j", "1", "-q", "--gradescope", str(out)]
    rc = cli.main(args + (["--seed", str(seed)] if seed is not None else []))
    return rc, json.loads(out.read_text())


def assert_spec(data: dict) -> None:
    """The fields of Gradescope's results.json specification that this grader writes, with their types."""
    assert isinstance(data["score"], (int, float)) and isinstance(data["output"], str)
    assert data["stdout_visibility"] in VISIBILITIES and data["visibility"] in VISIBILITIES
    for t in data["tests"]:
        assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(t), t
        assert isinstance(t["score"], (int, float)) and isinstance(t["max_score"], (int, float))
        assert 0 <= t["score"] <= t["max_score"] + 1e-9 and t["status"] in ("passed", "failed")
        assert t["visibility"] in VISIBILITIES


@pytest.fixture(scope="module")
def secret_file(small_course: Course, hostile: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:  # noqa: F811
    rc, data = _check(small_course, hostile / "mallory", tmp_path_factory.mktemp("gs") / "results.json")
    assert rc == 1
    return data


def test_public_tests_are_visible_before_the_due_date(secret_file: dict, small_course: Course,  # noqa: F811
                                                      hostile: Path) -> None:  # noqa: F811
    assert_spec(secret_file)
    visible = [t for t in secret_file["tests"] if t["visibility"] == "visible"]
    later = [t for t in secret_file["tests"] if t["visibility"] == "after_due_date"]
    assert visible and later and len(visible) + len(later) == len(secret_file["tests"])
    # the visible tests are exactly what a public-seed run shows; the score is the hidden grading's
    public = gradescope_results(grade(small_course, hostile / "mallory", Options()))["tests"]
    assert [{**t, "name": t["name"].replace(" (public cases)", "")} for t in visible] == public
    secret = grade(small_course, hostile / "mallory", Options(seed=SECRET))
    assert secret_file["score"] == pytest.approx(secret.points) and secret.points < secret.max_points
    assert "after the due date" in secret_file["output"]


def test_visible_tests_hold_no_hidden_value(secret_file: dict, small_course: Course) -> None:  # noqa: F811
    """Long spellings only (6 significant digits): the public values in the visible tests would meet the
    short ones by chance; the hidden tests are searched with every spelling in test_hidden_leaks."""
    visible = json.dumps([t for t in secret_file["tests"] if t["visibility"] == "visible"])
    needles = {s for v in hidden_values(small_course, SECRET) for s in (f"{v:.6g}", repr(v))
               if len(s.strip("-0.").replace(".", "")) >= 6}
    assert len(needles) > 200
    assert not [s for s in needles if s in visible]


def test_check_and_grade_write_the_same_file(secret_file: dict, small_course: Course, hostile: Path,  # noqa: F811
                                             tmp_path: Path) -> None:
    grade_batch(small_course, hostile, tmp_path / "out", BatchOptions(seed=SECRET, gradescope=True))
    batch = json.loads((tmp_path / "out" / "mallory.gradescope.json").read_text())
    assert batch == secret_file


@pytest.mark.parametrize("seed", [SECRET, None])
def test_an_empty_upload_gets_zero_with_its_reason(small_course: Course, tmp_path: Path,  # noqa: F811
                                                   seed: int | None) -> None:
    (tmp_path / "subs" / "empty").mkdir(parents=True)
    rc, data = _check(small_course, tmp_path / "subs" / "empty", tmp_path / "results.json", seed)
    assert rc == 2
    assert_spec(data)
    assert data["score"] == 0 and "no .py or .ipynb file found" in data["output"]
    grade_batch(small_course, tmp_path / "subs", tmp_path / "out", BatchOptions(seed=seed, gradescope=True))
    batch = json.loads((tmp_path / "out" / "empty.gradescope.json").read_text())
    assert batch["score"] == 0 and "no .py or .ipynb file found" in batch["output"]


@pytest.fixture(scope="module")
def bundle(small_course: Course, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    return build_bundle(small_course.path, tmp_path_factory.mktemp("bundle") / "autograder.zip", SECRET)


def test_setup_installs_into_a_venv_on_a_bare_ubuntu(bundle: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(bundle) as z:
        setup, run = z.read("setup.sh").decode(), z.read("run_autograder").decode()
        names = z.namelist()
    for name, text in (("setup.sh", setup), ("run_autograder", run)):
        (tmp_path / name).write_text(text)
        assert subprocess.run(["bash", "-n", str(tmp_path / name)]).returncode == 0, name
    assert "apt-get install -y --no-install-recommends python3 python3-venv python3-pip" in setup
    assert "python3 -m venv /autograder/venv" in setup and "pip3 install" not in setup
    assert '/autograder/venv/bin/python -m pip install "torch==2.13.0"' in setup
    assert "/autograder/venv/bin/python" in run
    assert "grader_src/grader/data/digits.npz" in names  # package data travels with the code
    assert len([n for n in names if n.startswith("secret/references/refs-")]) == 2  # public and secret seeds


def test_run_autograder_grades_an_upload_with_the_shipped_references(bundle: Path, tmp_path: Path) -> None:
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as z:
        z.extractall(root / "source")
    refs = sorted((root / "source" / "secret" / "references").iterdir())
    before = {p.name: p.stat().st_mtime_ns for p in refs}
    sub = make_submission(tmp_path / "sub", append={"layers": "Affine.backward = lambda self, dout: dout @ self.params[0].T"})
    shutil.copytree(sub, root / "submission")
    env = {**os.environ, "GRADER_AUTOGRADER_ROOT": str(root), "GRADER_PYTHON": sys.executable,
           "PYTHONPATH": str(root / "source" / "grader_src")}  # the shipped code, not this checkout's
    script = root / "source" / "run_autograder"
    script.chmod(0o755)
    proc = subprocess.run([str(script)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    assert_spec(data)
    visible = [t for t in data["tests"] if t["visibility"] == "visible"]
    assert any(t["status"] == "failed" and t["name"].startswith("1.10 Affine") for t in visible)
    assert any(t["status"] == "passed" and t["name"].startswith("1.1 Sigmoid") for t in visible)
    assert 0 < data["score"] < sum(t["max_score"] for t in data["tests"] if t["visibility"] == "after_due_date")
    after = {p.name: p.stat().st_mtime_ns for p in (root / "source" / "secret" / "references").iterdir()}
    assert after == before, "the references were computed again instead of read from the zip"


def test_run_autograder_answers_even_when_the_grader_cannot_start(bundle: Path, tmp_path: Path) -> None:
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as z:
        z.extractall(root / "source")
    (root / "submission").mkdir()
    env = {**os.environ, "GRADER_AUTOGRADER_ROOT": str(root), "GRADER_PYTHON": "/nonexistent/python"}
    proc = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True)
    assert proc.returncode == 0
    data = json.loads((root / "results" / "results.json").read_text())
    assert data["score"] == 0 and "autograder failed" in data["output"]
