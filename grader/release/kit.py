"""The learner kit: the part of the course a wheel carries, and where an installed grader finds it.

A learner installs the grader, not the repository: the wheel holds the course file and the stubs of
``exercises/`` under ``grader/bundled/`` (copied there at build time by setup.py, so that course.yml at the
repository root stays the one file instructors edit), and never ``solutions/`` or ``tests/``. The course's
twins and data sets are package modules and files already (grader/references, grader/data).

Standard library only, with no relative import: setup.py loads this file by path, before the package's
dependencies exist.
"""
from __future__ import annotations

import shutil
from pathlib import Path

KIT_DIR = "bundled"
"""The kit's folder inside the package: grader/bundled/course.yml, grader/bundled/exercises/*.py."""

MARKER = "LEARNER_KIT.txt"
"""Marks a course folder as a learner kit: the folders its course file hides (solutions/, tests/) are
absent by design there, so the course loader does not ask for them."""

_MARKER_TEXT = """\
The learner's copy of the course, written into the grader's package when its wheel was built:
course.yml and the stubs of exercises/. The solutions and the course's tests are not shipped, so the
folders that course.yml hides from learner code are absent here by design.
Start a homework folder from it with `grader init hw`, then grade it with `grader check hw`.
"""


def kit_files(root: Path) -> dict[str, Path]:
    """What the kit holds, by its path inside the kit: course.yml and the files of ``exercises/`` (the
    stubs ``grader release`` writes, with their data) of the course folder ``root``. Nothing else is read,
    so a secret cannot travel by accident."""
    course = root / "course.yml"
    exercises = root / "exercises"
    if not course.is_file() or not exercises.is_dir():
        raise FileNotFoundError(f"{root}: a learner kit needs course.yml and exercises/ there")
    files = {"course.yml": course}
    files.update({f"exercises/{p.relative_to(exercises).as_posix()}": p for p in sorted(exercises.rglob("*"))
                  if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"})
    return files


def write_kit(root: Path, dest: Path) -> list[Path]:
    """Write the kit of the course folder ``root`` into ``dest`` (replaced whole, so that a stub removed
    from exercises/ does not linger from an earlier build). Returns the files written."""
    files = kit_files(root)
    if dest.exists():
        shutil.rmtree(dest)
    written = []
    for name, source in files.items():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        written.append(target)
    (dest / MARKER).write_text(_MARKER_TEXT, encoding="utf-8")
    return [*written, dest / MARKER]


def is_kit(course_folder: Path) -> bool:
    """Whether a course folder is a learner kit (holds :data:`MARKER`)."""
    return (course_folder / MARKER).is_file()


def bundled_course() -> Path | None:
    """The course file that comes with this grader: the kit inside the installed package, else, in a
    checkout of the repository, the course.yml beside the package; None when there is neither."""
    package = Path(__file__).resolve().parent.parent
    for folder in (package / KIT_DIR, package.parent):
        if (folder / "course.yml").is_file() and (folder / "exercises").is_dir():
            return folder / "course.yml"
    return None
