"""`grader init hw`: a learner's homework folder, written from the course's released stubs.

The stubs are read from ``exercises/`` beside the course file (the wheel's learner kit, or a checkout), never
from ``solutions/``: the folder gets the modules of the assignments asked for, with the course modules they
import, or one notebook per assignment, and a README.txt that says how to check the work and what may be
imported. An existing, non-empty folder is refused rather than overwritten: it may hold the learner's work.
"""
from __future__ import annotations

import ast
import shlex
import shutil
from pathlib import Path
from typing import Sequence

from ..model.course import Assignment, Course
from ..model.errors import GraderError, did_you_mean
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
            raise GraderError(f"no assignment {wanted!r} in the course (its assignments: "
                              f"{', '.join(a.id for a in course.assignments)})"
                              f"{did_you_mean(wanted, [a.id for a in course.assignments])}")
        chosen += [] if known[wanted.casefold()] in chosen else [known[wanted.casefold()]]
    return chosen


def _entries(stubs: Path) -> dict[str, Path]:
    """The stubs folder's top-level entries by module name: ``layers`` -> layers.py, ``pkg`` -> pkg/; other
    files (data) under their own name."""
    entries = {}
    for p in sorted(stubs.iterdir()):
        if p.name == "__pycache__" or p.name.startswith("."):
            continue
        entries[p.stem if p.suffix == ".py" else p.name] = p
    return entries


def _course_imports(entry: Path, available: set[str]) -> set[str]:
    """The modules of the course folder that a stub (a module, or a package's modules) imports."""
    names: set[str] = set()
    for source in [entry] if entry.is_file() else sorted(entry.rglob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"), str(source))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names & available


def _to_copy(stubs: Path, assignments: list[Assignment], everything: bool) -> list[Path]:
    """The stubs to copy: all of them for the whole course, else the modules of the assignments and,
    transitively, the course modules they import (networks.py imports layers.py), with every data file."""
    entries = _entries(stubs)
    modules = {name for name, p in entries.items() if p.suffix == ".py" or (p / "__init__.py").is_file()}
    wanted = list(dict.fromkeys(e.module.split(".")[0] for a in assignments for e in a.exercises))
    missing = [m for m in wanted if m not in modules]
    if missing:
        raise GraderError(f"{stubs}: no stub for module(s) {', '.join(missing)} (an instructor writes them with "
                          "`grader release`)")
    if everything:
        return list(entries.values())
    todo, seen = wanted, set()
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo += sorted(_course_imports(entries[module], modules) - seen)
    return [p for name, p in entries.items() if name in seen or p.is_file() and p.suffix != ".py"]


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
        f"    grader check {folder}{ids}          your exercises, with a report",
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
    entries = _to_copy(stubs, chosen, everything=not assignments and not notebooks)
    texts: dict[str, bytes] = {}
    if notebooks:

        def source(module: str) -> str:
            return (stubs / f"{module.replace('.', '/')}.py").read_text(encoding="utf-8")

        texts = {notebook_name(a): write_notebook(assignment_notebook(course, a, source)) for a in chosen}
        entries = [p for p in entries if p.suffix != ".py" and not p.is_dir()]  # data files only
    names = [*texts, *(p.name + ("/" if p.is_dir() else "") for p in entries)]
    texts[README] = _readme(course, folder, chosen, names, notebooks).encode("utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for entry in entries:
        if entry.is_dir():
            shutil.copytree(entry, folder / entry.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copyfile(entry, folder / entry.name)
        written.append(folder / entry.name)
    for name, content in texts.items():
        (folder / name).write_bytes(content)
        written.append(folder / name)
    return written
