"""Load a submission: a folder of .py modules, copied into a private working folder for the child.

Only regular .py files are copied (no symlinks, nothing above the folder), within a size cap, so the
child works on a snapshot it may scribble over without touching the learner's originals.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .errors import SubmissionError

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_TOTAL_BYTES = 20 * 1024 * 1024


def modules_in(folder: Path) -> list[Path]:
    """The submission's .py files, relative to it, skipping caches and hidden folders."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
            continue
        if path.is_symlink() or not path.is_file():
            continue
        found.append(rel)
    return found


def prepare_workdir(submission: Path) -> Path:
    """Copy the submission's modules into a fresh temporary folder and return it.

    Raises:
        SubmissionError: the folder does not exist or is too large.
    """
    submission = Path(submission)
    if not submission.is_dir():
        raise SubmissionError(f"{submission}: not a folder (a submission is a folder of .py files)")
    modules = modules_in(submission)
    total = 0
    workdir = Path(tempfile.mkdtemp(prefix="grader-sub-"))
    for rel in modules:
        size = (submission / rel).stat().st_size
        total += size
        if size > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
            shutil.rmtree(workdir, ignore_errors=True)
            raise SubmissionError(f"{submission / rel}: the submission is too large "
                                  f"(at most {MAX_FILE_BYTES >> 20} MiB a file, {MAX_TOTAL_BYTES >> 20} MiB in all)")
        dest = workdir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(submission / rel, dest)
        os.chmod(dest, 0o644)
    for d in [workdir, *(p for p in workdir.rglob("*") if p.is_dir())]:
        os.chmod(d, 0o755)
    return workdir
