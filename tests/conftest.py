"""Shared fixtures: the bundled course, a private reference cache, and submissions built from parts."""
from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path
from typing import Iterator

import pytest

from grader.coursefile import load_course
from grader.engine.grading import Options, grade
from grader.model.course import Course, Limits
from grader.model.results import SubmissionResult
from tests.wheel_venv import WheelVenv, build_wheel, make_venv

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
VARIANTS = ROOT / "tests" / "variants" / "correct"
COURSE_FOLDERS = [ROOT, *sorted(p.parent for p in (ROOT / "examples").glob("*/course.yml"))]
"""Every course folder the repository holds (course.yml, solutions/, exercises/, maybe references.py): the
generic tests (solutions full marks, stubs zero, release in sync, validate) run on each."""


def folder_id(folder: Path) -> str:
    return "root" if folder == ROOT else folder.name


def cli_env(cache: Path | None = None) -> dict[str, str]:
    """The user's environment for a `grader` subprocess, without what changes grading (a course or seed
    given by the environment, forced colours); ``cache``: a reference cache of its own."""
    env = {k: v for k, v in os.environ.items() if k not in ("GRADER_COURSE", "GRADER_SEED", "FORCE_COLOR")}
    env["NO_COLOR"] = "1"
    if cache is not None:
        env["GRADER_CACHE"] = str(cache)
    return env


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every test grades against a cache of its own session, never the user's."""
    path = tmp_path_factory.mktemp("ref-cache")
    mp = pytest.MonkeyPatch()
    mp.setenv("GRADER_CACHE", str(path))
    yield path
    mp.undo()


@pytest.fixture(scope="session", autouse=True)
def hide_the_repository_secrets() -> Iterator[None]:
    """Course files the tests write in temporary folders cannot name the repository's solutions under
    ``hide:`` (a hide path must lie inside its course folder); GRADER_HIDE masks them for every test."""
    mp = pytest.MonkeyPatch()
    mp.setenv("GRADER_HIDE", os.pathsep.join([str(SOLUTIONS), str(ROOT / "tests")]))
    yield
    mp.undo()


@pytest.fixture(scope="session")
def course() -> Course:
    return load_course(ROOT / "course.yml")


@pytest.fixture(scope="session")
def fast_course(course: Course) -> Course:
    """The bundled course with a short per-call timeout, for tests of hung code."""
    return dataclasses.replace(course, limits=Limits(timeout_s=2.0, memory_mb=1024, cpu_s=30))


def make_submission(dest: Path, base: Path = SOLUTIONS, append: dict[str, str] | None = None,
                    replace: dict[str, str] | None = None) -> Path:
    """Copy a submission, then append code to modules (a later class definition overrides the first)
    or replace modules whole."""
    dest.mkdir(parents=True, exist_ok=True)
    for f in base.glob("*.py"):
        shutil.copyfile(f, dest / f.name)
    for module, code in (append or {}).items():
        with open(dest / f"{module}.py", "a") as fh:
            fh.write("\n\n" + code + "\n")
    for module, code in (replace or {}).items():
        (dest / f"{module}.py").write_text(code)
    return dest


def run_grade(course: Course, submission: Path, *exercises: str, seed: int | None = None) -> SubmissionResult:
    return grade(course, submission, Options(seed=seed, exercises=list(exercises)))


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temp folder of this test alone (tempfile's default), so that leftovers can be counted."""
    import tempfile

    d = tmp_path / "tmp"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d


def small_course(folder: Path, keep: list[str]) -> Path:
    """The bundled course cut to a few exercises (ids in ``keep``), with a copy of solutions/: its
    references for a fresh seed or cache take a second or two, not the whole course's twenty."""
    import yaml

    data = yaml.safe_load((ROOT / "course.yml").read_text())
    for a in data["assignments"]:
        a["exercises"] = [e for e in a["exercises"] if e["id"] in keep]
    data["assignments"] = [a for a in data["assignments"] if a["exercises"]]
    data["hide"] = ["solutions"]
    folder.mkdir(parents=True)
    (folder / "course.yml").write_text(yaml.safe_dump(data, sort_keys=False))
    shutil.copytree(SOLUTIONS, folder / "solutions")
    return folder / "course.yml"


@pytest.fixture(scope="session")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> WheelVenv:
    """A wheel of this repository installed in a fresh venv (tests/wheel_venv.py): the grader as a learner,
    or an instructor outside the repository, has it. Built once per session (a few seconds)."""
    base = tmp_path_factory.mktemp("wheel")
    return make_venv(base / "venv", build_wheel(base / "dist", base))
