"""How a submission reaches the engine: an ordered list of fronts, the first that accepts wins.

Each front turns what a learner handed in (a folder, a .zip, a notebook) into a folder of sources;
one pipeline then copies its modules (notebooks converted to definitions only) into a fresh private
working folder for the child, within size caps, leaving no temporary folder behind on any error. A new
way in (an inline Jupyter call, a pytest item, an nbgrader cell) is one more Front in :data:`FRONTS`.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..model.errors import SubmissionError
from .notebooks import NotebookMap, take_manifest, write_notebooks
from .submission import (
    check_size,
    code_root,
    copy_modules,
    extract,
    require_course_code,
)

__all__ = ["FRONTS", "Front", "NotebookMap", "prepare_workdir", "take_manifest"]

Temp = Callable[[str], Path]
"""Makes a temporary folder that the pipeline removes afterwards (prefix -> path)."""


@dataclass(frozen=True)
class Front:
    """One way in: whether it takes a path, and how it lays the sources out in a folder."""

    name: str
    accepts: Callable[[Path], bool]
    unpack: Callable[[Path, Temp], Path]


def _notebook(path: Path, temp: Temp) -> Path:
    check_size(path, path.stat().st_size, 0)
    source = temp("grader-nb-")
    shutil.copyfile(path, source / path.name)
    return source


def _zip(path: Path, temp: Temp) -> Path:
    source = temp("grader-zip-")
    extract(path, source)
    return source


FRONTS: list[Front] = [
    Front("folder", Path.is_dir, lambda path, temp: path),
    Front("zip", lambda p: p.suffix == ".zip", _zip),
    Front("notebook", lambda p: p.suffix == ".ipynb", _notebook),
]


def prepare_workdir(submission: Path, targets: list[str] | None = None) -> Path:
    """Copy (or extract, or convert) the submission's modules into a fresh temporary folder; return it.

    With the course's ``targets`` (``module.Name``), notebooks of any name are graded by the names they
    define (:mod:`.notebooks`; read the manifest it leaves with :func:`take_manifest`); without, a
    notebook becomes the module named after it.

    Raises:
        SubmissionError: the submission is missing, unsafe, unreadable or too large; the message names the
            file. No temporary folder is left behind then.
    """
    submission = Path(submission)
    if not submission.exists():
        raise SubmissionError(f"{submission}: no such file or folder")
    temps: list[Path] = []

    def temp(prefix: str) -> Path:
        temps.append(Path(tempfile.mkdtemp(prefix=prefix)))
        return temps[-1]

    done = False
    try:
        workdir = temp("grader-sub-")
        front = next((f for f in FRONTS if f.accepts(submission)), None)
        if front is None:
            raise SubmissionError(f"{submission}: a submission is a folder, a .zip or a .ipynb notebook")
        source = front.unpack(submission, temp)
        modules = {t.split(".")[0] for t in targets or []}
        if targets is not None:
            source = code_root(source, modules)
        notebooks = copy_modules(source, workdir, by_definitions=targets is not None)
        if targets is not None:
            require_course_code(workdir, modules, len(notebooks), submission)
        if notebooks:
            for f in write_notebooks(notebooks, workdir, targets or []):
                os.chmod(f, 0o644)
        for d in [workdir, *(p for p in workdir.rglob("*") if p.is_dir())]:
            os.chmod(d, 0o755)
        done = True
    except OSError as e:  # unreadable files, a full disk...
        raise SubmissionError(f"{e.filename or submission}: cannot be read ({e.strerror or e})") from None
    finally:
        for d in temps[1:] if done else temps:
            shutil.rmtree(d, ignore_errors=True)
    return workdir
