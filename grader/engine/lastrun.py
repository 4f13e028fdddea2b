"""What the last ``grader check`` of a submission left unfinished, so that ``--failed`` reruns only that.

Only exercise ids and statuses are kept (never values), in the user's private cache, under a hash of
the submission's path and the course digest; a run with a secret seed records nothing.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..model.course import Course
from ..model.results import PASS, SubmissionResult
from .refstore import cache_dir


def _path(course: Course, submission: Path) -> Path:
    key = hashlib.sha256(f"{Path(submission).resolve()}\0{course.digest}".encode()).hexdigest()[:24]
    return cache_dir() / "last" / f"{key}.json"


def record(course: Course, submission: Path, result: SubmissionResult) -> None:
    """Remember each graded exercise's status (merged over runs: ``-e`` grades a few at a time)."""
    path = _path(course, submission)
    statuses = _read(path)
    statuses.update({e.id: e.status for e in result.exercises})
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.write_text(json.dumps(statuses))
    except OSError:
        pass  # a read-only cache only costs the --failed shortcut


def unfinished(course: Course, submission: Path) -> list[str] | None:
    """Ids of the exercises that did not pass last time, in course order; None when never checked."""
    statuses = _read(_path(course, submission))
    if not statuses:
        return None
    return [e.id for e in course.exercises if statuses.get(e.id, "missing") != PASS]


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}
