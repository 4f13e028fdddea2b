"""The worker's side of the Dask executor (dask_cluster.py): imported only on Dask workers and by the
client that registers :class:`Prepare`, so that distributed is needed only where Dask is used."""
from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from ..files import write_atomically, write_under
from ..model.errors import GraderError, SubmissionError
from . import Row, Task


def unpack_submission(members: list[tuple[str, bytes]], folder: bool, name: str, into: Path) -> Path:
    """Write shipped members under ``into``; the path to grade (a folder, or the one file)."""
    root = into / name if folder else into
    write_under(root, members, lambda rel: SubmissionError(f"{rel}: outside the submission"))
    return root if folder else root / members[0][0]


_WORKER_COURSES: dict[tuple[str, str], str] = {}
"""Per worker: (course digest, digest of the course's twins) -> the course file this worker grades with."""


def course_twins(root: Path) -> list[tuple[str, bytes]]:
    """The course folder's own twin files (references.py, references/), by path relative to the folder:
    what travels with the course file to a worker."""
    from ..references import course_sources

    return [(str(p.relative_to(root)), p.read_bytes()) for p in course_sources(root)]


def _twins_digest(twins: list[tuple[str, bytes]]) -> str:
    import hashlib

    h = hashlib.sha256()
    for rel, data in twins:
        h.update(rel.encode() + b"\0" + data + b"\0")
    return h.hexdigest()[:16]


def course_on_worker(original: str, course_bytes: bytes, digest: str, twins: list[tuple[str, bytes]] = ()) -> str:
    """A course file on this worker with the client's digest and twins: the original if it is the same
    file with the same twins beside it, else a private copy (the twins written beside it) with empty
    ``hide:`` folders (nothing to hide on a machine without them)."""
    twins = [(str(rel), bytes(data)) for rel, data in twins]
    key = (digest, _twins_digest(twins))
    if key in _WORKER_COURSES:
        return _WORKER_COURSES[key]
    from ..coursefile import load_course

    path = Path(original)
    try:
        if path.is_file() and path.read_bytes() == course_bytes and course_twins(path.parent) == twins:
            _WORKER_COURSES[key] = original
            return original
    except OSError:
        pass
    folder = Path(tempfile.mkdtemp(prefix=f"nn-grader-course-{digest}-"))
    copy = folder / path.name
    copy.write_bytes(course_bytes)
    write_under(folder, twins, lambda rel: GraderError(f"{rel}: a course twin outside the course folder"))
    import yaml

    for hidden in (yaml.safe_load(course_bytes) or {}).get("hide") or []:
        if isinstance(hidden, str):
            target = (folder / hidden).resolve()
            if target.is_relative_to(folder):
                target.mkdir(parents=True, exist_ok=True)
    course = load_course(copy)
    if course.digest != digest:
        raise GraderError(f"the course file sent to this worker reads as digest {course.digest}, not {digest}")
    _WORKER_COURSES[key] = str(copy)
    return str(copy)


def place_references(digest: str, seed: int, device: str, key: str, data: bytes,
                     course_root: Path | None = None) -> None:
    """Put the client's reference file where this worker's cache looks for it (``course_root``: the
    worker's course folder, whose twins are part of the key).

    Raises:
        GraderError: this worker's grader, twins or torch give another cache key than the client's.
    """
    from ..engine.refstore import cache_dir, cache_key, torch_version

    mine = cache_key(digest, seed, device, course_root)
    if mine != key:
        raise GraderError("this worker's grader, torch twins or torch (torch " + torch_version()
                          + ") differ from the client's: its references would not be the client's")
    target = cache_dir() / f"refs-{key}.bin"
    if target.exists() and target.stat().st_size == len(data):
        return
    write_atomically(target, data, folder_mode=0o700)


_SHARED: dict[str, Any] = {}
"""Per worker: what :class:`Prepare` installed (the course file to grade with)."""


class Prepare(WorkerPlugin):
    """A worker plugin carrying the course and reference files: the scheduler installs it on every
    worker, a worker that joins or restarts later included (data scattered to workers is lost with the
    last of them)."""

    name = "nn-grader-prepare"
    idempotent = False

    def __init__(self, original: str, shared: dict[str, Any]):
        self.original = original
        self.shared = shared

    def setup(self, worker: Any = None) -> None:
        from ..sandbox.runner import make_private

        make_private()
        s = self.shared
        _SHARED.clear()
        try:
            course = course_on_worker(self.original, s["course"], s["digest"], s.get("twins", []))
            place_references(s["digest"], s["seed"], s["device"], s["key"], s["references"], Path(course).parent)
            _SHARED["course"] = course  # only now: a worker whose references differ grades nothing
        except (GraderError, OSError) as e:
            _SHARED["error"] = f"the worker could not be prepared: {e}"

    def teardown(self, worker: Any = None) -> None:
        pass


def grade_shipped(task: Task, members: list[tuple[str, bytes]], folder: bool) -> Row:
    """Worker side: write the submission to a private folder, grade it, and clean up.

    Raises:
        GraderError: the worker could not be prepared (the client turns it into an error row).
    """
    from .local import grade_task

    if "course" not in _SHARED:
        raise GraderError(_SHARED.get("error", "the worker was not prepared (no nn-grader plugin)"))
    scratch = Path(tempfile.mkdtemp(prefix="nn-grader-task-"))
    try:
        path = unpack_submission(members, folder, Path(task.submission).name or "submission", scratch)
        row = grade_task(replace(task, course_path=_SHARED["course"], submission=str(path)))
        return row._replace(result_json=row.result_json.replace(_json_str(str(path)), _json_str(task.submission), 1))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _json_str(text: str) -> str:
    return json.dumps(text)
