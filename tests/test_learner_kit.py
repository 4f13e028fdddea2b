"""The learner distribution: a wheel that carries the course's stubs and never its solutions, `grader init`,
and an installed grader that grades with no repository nearby (issue 14; issue 17's wheel acceptance)."""
from __future__ import annotations

import dataclasses
import json
import shutil
import tarfile
import zipfile
from pathlib import Path

import nbformat
import pytest

from grader import __version__, api
from grader.cli import main
from grader.coursefile import load_course
from grader.model.course import Course
from grader.model.errors import CourseError, GraderError
from grader.release import kit
from grader.release.homework import init_homework
from tests.conftest import EXERCISES, ROOT, SOLUTIONS
from tests.wheel_venv import WheelVenv, build_sdist_then_wheel, members

# --- the kit, without a build -----------------------------------------------------------------------------


def test_kit_is_the_course_file_and_the_stubs_only(tmp_path: Path) -> None:
    written = kit.write_kit(ROOT, tmp_path / "kit")
    names = sorted(p.relative_to(tmp_path / "kit").as_posix() for p in written)
    assert names == sorted(["course.yml", kit.MARKER, *(f"exercises/{p.name}" for p in EXERCISES.glob("*.py"))])
    assert (tmp_path / "kit" / "course.yml").read_bytes() == (ROOT / "course.yml").read_bytes()


def test_a_kit_loads_without_the_folders_it_hides_and_a_course_folder_still_needs_them(tmp_path: Path) -> None:
    kit.write_kit(ROOT, tmp_path / "kit")
    course = load_course(tmp_path / "kit" / "course.yml")
    assert course.hide == () and course.digest == load_course(ROOT / "course.yml").digest
    (tmp_path / "kit" / kit.MARKER).unlink()  # a course folder whose hidden folders are missing: a misspelling
    with pytest.raises(CourseError, match="does not exist in the course folder"):
        load_course(tmp_path / "kit" / "course.yml")


def test_with_no_course_file_nearby_the_grader_uses_the_course_it_came_with(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GRADER_COURSE", raising=False)
    assert api.find_course(None, tmp_path / "hw") == kit.bundled_course() == ROOT / "course.yml"  # a checkout


# --- grader init ------------------------------------------------------------------------------------------


def test_init_writes_every_stub_and_a_readme(course: Course, tmp_path: Path) -> None:
    written = init_homework(course, tmp_path / "hw")
    assert sorted(p.name for p in written) == sorted([*(p.name for p in EXERCISES.glob("*.py")), "README.txt"])
    for p in EXERCISES.glob("*.py"):
        assert (tmp_path / "hw" / p.name).read_bytes() == p.read_bytes()
    readme = (tmp_path / "hw" / "README.txt").read_text()
    assert f"grader check {tmp_path / 'hw'}" in readme and "only numpy and the Python standard library" in readme


def test_init_of_one_assignment_takes_the_course_modules_its_stubs_import(course: Course, tmp_path: Path) -> None:
    last = course.assignments[-1]
    init_homework(course, tmp_path / "hw", [last.id])
    written = {p.name for p in (tmp_path / "hw").glob("*.py")}
    own = {f"{e.module}.py" for e in last.exercises}
    assert own <= written < {p.name for p in EXERCISES.glob("*.py")}
    imported = {line.split()[1] + ".py" for f in own for line in (EXERCISES / f).read_text().splitlines()
                if line.startswith("from ") and (EXERCISES / (line.split()[1] + ".py")).exists()}
    assert imported and imported <= written  # networks.py imports layers.py, activations.py, ...
    assert f"-e {last.id}" in (tmp_path / "hw" / "README.txt").read_text()


def test_init_copies_stub_packages_and_data_files(course: Course, tmp_path: Path) -> None:
    """A course's stubs may be packages with data (grader release mirrors solutions/ as a tree)."""
    folder = tmp_path / "course"
    (folder / "exercises" / "pkg").mkdir(parents=True)
    (folder / "exercises" / "pkg" / "__init__.py").write_text("from helpers import norm\n")
    (folder / "exercises" / "pkg" / "table.bin").write_bytes(b"\0\1")
    (folder / "exercises" / "helpers.py").write_text("def norm(x):\n    return x\n")
    (folder / "exercises" / "other.py").write_text("")
    (folder / "exercises" / "weights.npz").write_bytes(b"npz")
    exercise = dataclasses.replace(course.exercises[0], target="pkg.Thing")
    small = dataclasses.replace(course, path=folder / "course.yml",
                                assignments=(dataclasses.replace(course.assignments[0], exercises=(exercise,)),))
    init_homework(small, tmp_path / "hw", [small.assignments[0].id])
    got = sorted(p.relative_to(tmp_path / "hw").as_posix() for p in (tmp_path / "hw").rglob("*"))
    assert got == ["README.txt", "helpers.py", "pkg", "pkg/__init__.py", "pkg/table.bin", "weights.npz"]
    (folder / "course.yml").write_text("")
    assert set(kit.kit_files(folder)) == {"course.yml", "exercises/helpers.py", "exercises/other.py",
                                          "exercises/pkg/__init__.py", "exercises/pkg/table.bin",
                                          "exercises/weights.npz"}  # the kit takes exercises/ whole


def test_init_writes_notebooks_of_the_stubs(course: Course, tmp_path: Path) -> None:
    first = course.assignments[0]
    written = init_homework(course, tmp_path / "hw", [first.id], notebooks=True)
    assert [p.name for p in written] == [f"{first.id}.ipynb", "README.txt"]
    nb = nbformat.read(written[0], as_version=4)
    code = "\n".join(c.source for c in nb.cells)
    assert "raise NotImplementedError" in code and "BEGIN SOLUTION" not in code


def test_init_refuses_a_folder_with_work_in_it_and_an_unknown_assignment(course: Course, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    work = tmp_path / "hw"
    work.mkdir()
    (work / "layers.py").write_text("# my work\n")
    assert main(["init", str(work), "--course", str(ROOT / "course.yml")]) == 2
    assert "not empty" in capsys.readouterr().err and (work / "layers.py").read_text() == "# my work\n"
    with pytest.raises(GraderError, match="did you mean 'A4'\\?"):
        init_homework(course, tmp_path / "new", ["A4C"])
    assert not (tmp_path / "new").exists()
    assert init_homework(course, tmp_path / "new", ["a1"])  # ids in any case


# --- the wheel, installed in a fresh venv -----------------------------------------------------------------


def test_the_wheel_holds_the_kit_and_no_secret(wheel_venv: WheelVenv) -> None:
    names = members(wheel_venv.wheel)
    assert not [n for n in names if "solutions" in n.split("/") or n.startswith("tests/")]
    bundled = {n.removeprefix(f"grader/{kit.KIT_DIR}/"): n for n in names if n.startswith(f"grader/{kit.KIT_DIR}/")}
    assert set(bundled) == set(kit.kit_files(ROOT)) | {kit.MARKER}
    solutions = {p.read_bytes() for p in SOLUTIONS.glob("*.py")}
    with zipfile.ZipFile(wheel_venv.wheel) as z:
        for name, source in kit.kit_files(ROOT).items():
            assert z.read(bundled[name]) == source.read_bytes(), name  # one source of truth: copied at build
        assert not [n for n in names if z.read(n) in solutions]  # no solution under another name either


def test_the_sdist_holds_no_secret_and_a_wheel_built_from_it_holds_the_kit(tmp_path: Path) -> None:
    sdist, wheel = build_sdist_then_wheel(tmp_path / "dist", tmp_path)
    with tarfile.open(sdist) as t:
        names = [n.split("/", 1)[1] for n in t.getnames() if "/" in n]
    assert "course.yml" in names and "exercises/layers.py" in names
    assert not [n for n in names if n.split("/")[0] in ("solutions", "tests")]
    assert f"grader/{kit.KIT_DIR}/exercises/layers.py" in members(wheel)
    assert not [n for n in members(wheel) if "solutions" in n.split("/")]


def test_an_installed_grader_starts_and_grades_homework_with_no_repository(wheel_venv: WheelVenv,
                                                                          tmp_path: Path) -> None:
    assert ROOT not in tmp_path.resolve().parents
    wheel_venv.where(tmp_path)  # the wheel's grader, not the base environment's editable one
    version = wheel_venv.run("--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.strip() == f"grader {__version__}"
    init = wheel_venv.run("init", "hw", cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    assert (tmp_path / "hw" / "README.txt").exists() and (tmp_path / "hw" / "layers.py").exists()
    check = wheel_venv.run("check", "hw", "--json", "out.json", cwd=tmp_path)
    assert check.returncode == 1, check.stderr  # stubs: some checks fail
    result = json.loads((tmp_path / "out.json").read_text())
    statuses = {e["status"] for a in result["assignments"] for e in a["exercises"]}
    assert result["points"] == 0 and result["max_points"] > 0 and statuses == {"not-implemented"}
    assert "not-implemented" in check.stdout or "not implemented" in check.stdout
    again = wheel_venv.run("init", "hw", cwd=tmp_path)
    assert again.returncode == 2 and "not empty" in again.stderr


def test_an_installed_grader_grades_a_course_folder_with_its_own_twin(wheel_venv: WheelVenv, tmp_path: Path) -> None:
    """Issue 17: a course folder outside the repository, its twin in its own references.py, graded by a
    grader installed from a wheel: solutions full marks, stubs zero, the installed package untouched."""
    folder = tmp_path / "my-course"
    shutil.copytree(ROOT / "examples" / "mini-course", folder)  # SiLU and Scale have their own twins there
    points = sum(ex.points for ex in load_course(folder / "course.yml").exercises)
    package = wheel_venv.where(tmp_path).parent
    before = {p: p.stat().st_mtime_ns for p in package.rglob("*") if "__pycache__" not in p.parts}
    validate = wheel_venv.run("validate", "course.yml", cwd=folder)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    full = wheel_venv.run("check", "solutions", "--json", str(tmp_path / "full.json"), cwd=folder)
    assert full.returncode == 0, full.stdout + full.stderr
    stubs = wheel_venv.run("check", "exercises", "--json", str(tmp_path / "zero.json"), cwd=folder)
    assert stubs.returncode == 1, stubs.stdout + stubs.stderr
    full_result = json.loads((tmp_path / "full.json").read_text())
    assert full_result["points"] == full_result["max_points"] == points
    assert json.loads((tmp_path / "zero.json").read_text())["points"] == 0
    assert {p: p.stat().st_mtime_ns for p in package.rglob("*") if "__pycache__" not in p.parts} == before
