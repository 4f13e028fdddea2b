"""`grader init hw`: a learner's homework folder, written from the course's released stubs.

The stubs are read from ``exercises/`` beside the course file (the wheel's learner kit, or a checkout), never
from ``solutions/``: the folder gets the modules of the assignments asked for, with the course modules they
import, or one notebook per assignment, and a README.txt that says how to check the work and what may be
imported. An existing, non-empty folder is refused rather than overwritten: it may hold the learner's work.
"""
from __future__ import annotations

import ast
import difflib
import shlex
from pathlib import Path
from typing import Sequence

from ..model.course import Assignment, Course
from ..model.errors import GraderError
from .notebooks import (
    ALLOWED_IMPORTS,
    assignment_notebook,
    notebook_name,
    write_notebook,
)

README = "README.txt"


def _stubs_folder(course: Course) -> Path:
    folder = course.path.parent / "exercises"
    if not folder.is_dir():
        raise GraderError(f"{course.path.parent}: the course has no exercises/ folder of stubs to start from "
                          "(an instructor writes it with `grader release`)")
    return folder


def _chosen(course: Course, ids: Sequence[str] | None) -> list[Assignment]:
    if not ids:
        return list(course.assignments)
    known = {a.id.casefold(): a for a in course.assignments}  # `a1` is A1
    chosen = []
    for wanted in ids:
        if wanted.casefold() not in known:
            close = difflib.get_close_matches(wanted.casefold(), list(known), n=1)
            hint = f"; did you mean {known[close[0]].id}?" if close else ""
            raise GraderError(f"no assignment {wanted!r} in the course (its assignments: "
                              f"{', '.join(a.id for a in course.assignments)}){hint}")
        chosen += [] if known[wanted.casefold()] in chosen else [known[wanted.casefold()]]
    return chosen


def _course_imports(source: Path, available: set[str]) -> set[str]:
    """The modules of the course folder that a stub imports (``from layers import Affine``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"), str(source))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names & available


def _modules(stubs: Path, assignments: list[Assignment], everything: bool) -> list[str]:
    """The stub modules to write: every one for the whole course, else those of the assignments and,
    transitively, the course modules they import (networks.py imports layers.py)."""
    available = {p.stem for p in stubs.glob("*.py")}
    wanted = [m for a in assignments for e in a.exercises for m in [e.module.split(".")[0]]]
    missing = sorted(set(wanted) - available)
    if missing:
        raise GraderError(f"{stubs}: no stub for module(s) {', '.join(missing)} (an instructor writes them with "
                          "`grader release`)")
    if everything:
        return sorted(available)
    todo, seen = list(dict.fromkeys(wanted)), set()
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo += sorted(_course_imports(stubs / f"{module}.py", available) - seen)
    return sorted(seen)


def _readme(course: Course, folder: Path, assignments: list[Assignment], files: list[str], notebooks: bool) -> str:
    first = assignments[0].exercises[0].title if assignments and assignments[0].exercises else None
    ids = "" if len(assignments) == len(course.assignments) else " " + " ".join(f"-e {a.id}" for a in assignments)
    lines = [
        course.title,
        "=" * min(len(course.title), 78),
        "",
        "Your work: " + ", ".join(files) + ".",
        ("Each notebook holds one assignment: write your code in its answer cells (replace each "
         "`raise NotImplementedError`) and run its check cells." if notebooks else
         "Replace each `raise NotImplementedError` with your code; keep the names of the classes and functions."),
        "",
        "Check your work (from the folder that holds this one):",
        f"    grader check {folder}{ids}          every exercise, with a report",
        *([f"    grader check {folder} -e {shlex.quote(first)}   one exercise (`grader list` shows every id and title)"]
          if first else []),
        f"    grader check {folder} --failed       only what did not pass last time",
        f"    grader check {folder} --watch        regrade each file when you save it (Ctrl-C to stop)",
        f"    grader check {folder} --html report.html   a page with figures of what went wrong",
        "",
        f"The rule: your code may import only {ALLOWED_IMPORTS} (not torch, scipy, sklearn, ...);",
        "any other import is refused before your code runs.",
        "",
    ]
    return "\n".join(lines)


def init_homework(course: Course, folder: Path, assignments: Sequence[str] | None = None,
                  notebooks: bool = False) -> list[Path]:
    """Write a learner's homework folder: the stubs of the course's assignments (all, or those named by id)
    as modules, or as one notebook per assignment, and a README.txt.

    Returns:
        The files written, README.txt last.

    Raises:
        GraderError: If the folder exists and is not empty, an assignment id is unknown, or the course has
            no stubs; nothing is written then.
    """
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise GraderError(f"{folder}: already exists and is not empty; `grader init` writes a new folder and "
                          "never overwrites work (choose another name, or remove it)")
    stubs = _stubs_folder(course)
    chosen = _chosen(course, assignments)
    if notebooks:
        _modules(stubs, chosen, False)  # every module has its stub

        def source(module: str) -> str:
            return (stubs / f"{module.replace('.', '/')}.py").read_text(encoding="utf-8")

        files = {notebook_name(a): write_notebook(assignment_notebook(course, a, source)) for a in chosen}
    else:
        files = {f"{m}.py": (stubs / f"{m}.py").read_bytes() for m in _modules(stubs, chosen, not assignments)}
    files[README] = _readme(course, folder, chosen, list(files), notebooks).encode("utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in files.items():
        (folder / name).write_bytes(content)
        written.append(folder / name)
    return written
