"""Submissions as people really hand them in: code nested in a project's folders is found, and an
empty or unrecognisable submission is a usage error that says what was found (exit 2), not 68 scores
of 0 with one message each."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.engine.grading import Options, grade
from grader.executors.batch import BatchOptions, grade_batch
from grader.model.course import Course
from grader.model.errors import SubmissionError

from .conftest import ROOT, SOLUTIONS


def test_code_nested_in_project_folders_is_found(course: Course, tmp_path: Path) -> None:
    archive = tmp_path / "carol.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("hw1/README.md", "my work")
        z.writestr("hw1/scratch/try.py", "print('experiments')")
        for p in SOLUTIONS.glob("*.py"):
            z.write(p, f"hw1/src/{p.name}")
    result = grade(course, archive, Options(exercises=["Affine", "Sigmoid"]))
    assert result.points == result.max_points > 0


@pytest.mark.parametrize(("files", "message"), [
    ({}, "no .py or .ipynb file found (it is empty)"),
    ({"notes.txt": "hello"}, "no .py or .ipynb file found (found: notes.txt)"),
    ({"foo.py": "x = 1", "bar.py": "y = 2"}, "found bar.py, foo.py, but none is a module of the course"),
])
def test_empty_or_unrecognisable_is_a_usage_error(course: Course, tmp_path: Path, files: dict[str, str],
                                                  message: str) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    for name, text in files.items():
        (sub / name).write_text(text)
    with pytest.raises(SubmissionError, match="layers.py") as err:
        grade(course, sub, Options(exercises=["Affine"]))
    assert message in str(err.value)
    cli = subprocess.run([sys.executable, "-m", "grader", "check", str(sub)], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert cli.returncode == 2 and message in cli.stderr and len(cli.stderr.splitlines()) == 1
    assert cli.stdout == ""


def test_batch_names_the_empty_submission_with_its_reason(course: Course, tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    (subs / "empty").mkdir(parents=True)
    summary = grade_batch(course, subs, tmp_path / "out", BatchOptions())
    assert summary.errors == ["empty"]
    gradebook = (tmp_path / "out" / "gradebook.csv").read_text()
    assert "empty," in gradebook and "no .py or .ipynb file found" in gradebook
