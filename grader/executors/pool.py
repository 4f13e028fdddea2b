"""Grade a whole class: many submissions, in parallel, resumable, never stopped by one of them.

Each submission (a folder, a .zip or a notebook in SUBMISSIONS/) is graded by a worker process that
runs :func:`grader.engine.grading.grade`, so each gets its own sandboxed child. References are computed once,
before the workers start, and read from the cache by all of them. Workers only return texts: the parent
alone writes RESULTS/<student>.json, atomically, the moment a result is ready; a rerun skips the
students already there (unless forced), so killing the grader mid-batch loses nothing and redoes
nothing, and the workers, their fork servers and children die with it. A submission that breaks the
grader or kills its worker gets an error result, and the batch goes on; a full disk stops it. Every
entry of SUBMISSIONS/ that is not graded is listed with the reason, never skipped silently.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, NamedTuple

from .. import __version__
from ..backs.gradebook import gradebook_csv, write_atomically
from ..coursefile import load_course
from ..engine.grading import Options, grade
from ..judge.redact import redact
from ..model.course import Course
from ..model.errors import GraderError
from ..model.results import (
    ERROR,
    AssignmentResult,
    CaseResult,
    CheckResult,
    ExerciseResult,
    SubmissionResult,
    from_dict,
    to_json,
)
from ..sandbox.runner import Zygote, make_private

GRADEBOOK = "gradebook.csv"


@dataclass
class BatchOptions:
    seed: int | None = None
    device: str = "cpu"
    jobs: int = 1
    force: bool = False
    gradescope: bool = False
    """Also write RESULTS/<student>.gradescope.json in Gradescope's results.json format."""


@dataclass
class BatchSummary:
    graded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    not_graded: list[tuple[str, str]] = field(default_factory=list)
    """(entry of SUBMISSIONS/, why it was not graded): nothing is skipped silently."""
    seconds: float = 0.0


class Row(NamedTuple):
    """What a worker hands back: the texts to write (the parent alone writes files) and a summary."""

    student: str
    points: float
    max_points: float
    error: str
    result_json: str
    gradescope_json: str | None


_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
MAX_STEM = 200
"""Longest file stem: leaves room for ".gradescope.json" and the temporary name of an atomic write
within the usual 255-byte limit of a file name."""


def student_name(path: Path) -> str:
    """The student's name as given: the entry's name without a .zip or .ipynb extension."""
    return path.name[: -len(path.suffix)] if path.suffix in (".zip", ".ipynb") else path.name


def student_file_stem(name: str) -> str:
    """A file stem for a student name, collision-free: every byte outside [A-Za-z0-9_-] becomes %XX (so
    "José" and "Jos_" differ, and no stem contains "." and so cannot meet a "<stem>.gradescope.json"
    companion); a stem too long is cut and ends in "~" (never produced by the escaping) and a hash of
    the whole name. The original name is recorded in the result's ``student`` field."""
    raw = os.fsencode(name)
    stem = "".join(chr(b) if b in _SAFE else f"%{b:02X}" for b in raw)
    if len(stem) > MAX_STEM:
        cut = stem[: MAX_STEM - 17]
        if "%" in cut[-2:]:  # do not cut an escape in half
            cut = cut[: cut.rindex("%")]
        stem = f"{cut}~{hashlib.sha256(raw).hexdigest()[:16]}"
    return stem


def student_id(path: Path) -> str:
    """The file stem of a submission's results."""
    return student_file_stem(student_name(path))


def scan_submissions(folder: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    """The submissions to grade, and every other entry of the folder with the reason it is not graded."""
    if not folder.is_dir():
        raise GraderError(f"{folder}: not a folder of submissions")
    found: list[Path] = []
    not_graded: list[tuple[str, str]] = []
    for p in sorted(folder.iterdir()):
        if p.name.startswith("."):
            not_graded.append((p.name, "hidden entry (its name starts with '.')"))
        elif p.is_dir() or (p.is_file() and p.suffix in (".zip", ".ipynb")):
            found.append(p)
        else:
            not_graded.append((p.name, "not a submission (only folders, .zip and .ipynb files are graded)"))
    by_student: dict[str, list[Path]] = {}
    for p in found:
        by_student.setdefault(student_name(p), []).append(p)
    for name, paths in by_student.items():
        if len(paths) > 1:
            for p in paths:
                not_graded.append((p.name, f"several submissions for student {name!r}: "
                                           f"{', '.join(q.name for q in paths)}"))
    keep = [p for p in found if len(by_student[student_name(p)]) == 1]
    return keep, sorted(not_graded)


def find_submissions(folder: Path) -> list[Path]:
    """The submissions of a folder that will be graded (see :func:`scan_submissions` for the others)."""
    return scan_submissions(folder)[0]


def error_result(course: Course, submission: Path, message: str, seed_kind: str, device: str) -> SubmissionResult:
    """A result for a submission that could not be graded: every exercise at 0 with the reason, so that
    reports and the gradebook still show the full point scale."""
    result = SubmissionResult(submission=str(submission), course=course.title, course_digest=course.digest,
                              seed=seed_kind, device=device, isolation="?", grader_version=__version__, error=message)
    for a in course.assignments:
        result.assignments.append(AssignmentResult(a.id, a.title, [
            ExerciseResult(e.id, e.title, e.target, e.points,
                           [CheckResult("submission", 1.0, [CaseResult("submission", ERROR, message)])])
            for e in a.exercises]))
    return result


_COURSES: dict[str, Course] = {}
_ZYGOTE: list[Zygote] = []
"""This worker's fork server, started on its first submission and replaced if it dies."""
PR_SET_PDEATHSIG = 1


def _worker_init() -> None:
    """Pool initializer: a worker dies with the grader. PDEATHSIG follows the thread that spawned the
    worker, so the worker also watches its parent's end of the spawn pipe (EOF: the grader is gone).
    Its fork server dies with it in turn (PDEATHSIG and socket EOF in the zygote)."""
    import ctypes
    import multiprocessing

    make_private()
    try:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_when_closed, args=(parent.sentinel,), daemon=True).start()


def _exit_when_closed(sentinel: int) -> None:
    from multiprocessing.connection import wait as wait_for

    wait_for([sentinel])
    os._exit(1)


def _zygote() -> Zygote | None:
    if not _ZYGOTE or not _ZYGOTE[0].alive:
        try:
            _ZYGOTE[:] = [Zygote()]
        except OSError:
            return None
    return _ZYGOTE[0]


def _row(result: SubmissionResult, course: Course, student: str, secret: bool, gradescope: bool) -> Row:
    """The texts of a result (redacted under a secret seed), ready for the parent to write."""
    result.student = student
    if secret:
        redact(result, course)
    data = None
    if gradescope:
        from ..backs.gradescope import gradescope_results

        data = json.dumps(gradescope_results(None, result) if secret else gradescope_results(result), indent=2)
    return Row(student, result.points, result.max_points, result.error, to_json(result), data)


def _grade_one(course_path: str, submission: str, student: str, seed: int | None, device: str,
               gradescope: bool) -> Row:
    """Worker: grade one submission and return its texts; writing them is the parent's job."""
    course = _COURSES.get(course_path) or _COURSES.setdefault(course_path, load_course(course_path))
    path = Path(submission)
    secret = course.is_secret(seed)
    try:
        result = grade(course, path, Options(seed=seed, device=device), zygote=_zygote())
    except GraderError as e:
        result = error_result(course, path, str(e), "secret" if secret else "public", device)
    except Exception as e:  # noqa: BLE001 - a grader bug on one submission must not stop the batch
        result = error_result(course, path, f"internal grader error: {type(e).__name__}: {e}",
                              "secret" if secret else "public", device)
    return _row(result, course, student, secret, gradescope)


class _WriteFailed(Exception):
    def __init__(self, path: Path, error: OSError):
        super().__init__(str(path))
        self.path, self.error = path, error


def _save(row: Row, target: Path) -> None:
    """Write a row's files, the result last (its presence means the student is done); on failure leave
    none of them behind (write_atomically already removes its temporary file)."""
    companion = target.with_name(f"{target.stem}.gradescope.json")
    written: list[Path] = []
    try:
        if row.gradescope_json is not None:
            write_atomically(companion, row.gradescope_json)
            written.append(companion)
        write_atomically(target, row.result_json)
    except OSError as e:
        for p in written:
            p.unlink(missing_ok=True)
        raise _WriteFailed(Path(e.filename) if e.filename else target, e) from None


def _stop_message(failure: _WriteFailed, graded: int, not_written: int) -> str:
    what = ("no space left on" if failure.error.errno in (errno.ENOSPC, errno.EDQUOT)
            else f"cannot write ({failure.error.strerror})")
    return f"{what} {failure.path}: {graded} graded, {not_written} not written"


def grade_batch(course: Course, submissions: Path, out: Path, options: BatchOptions,
                on_done: Callable[[str, float, float, str], None] | None = None) -> BatchSummary:
    """Grade every submission in a folder into RESULTS/, then write the CSV gradebook.

    Raises:
        GraderError: RESULTS/ cannot be written (a full disk): the batch stops, files already written
            are complete, and no partial file is left.
    """
    started = time.perf_counter()
    summary = BatchSummary()
    found, summary.not_graded = scan_submissions(submissions)
    out.mkdir(parents=True, exist_ok=True)
    todo = []
    for path in found:
        name = student_name(path)
        target = out / f"{student_file_stem(name)}.json"
        if target.exists() and not options.force and _readable(target):
            summary.skipped.append(name)
            continue
        todo.append((path, name, target))
    if todo:
        _warm_references(course, options)
    pending = list(todo)
    in_flight: dict[Future[Row], tuple[Path, str, Path]] = {}
    written = 0
    failure: _WriteFailed | None = None
    pool = _pool(options.jobs)
    try:
        while (pending or in_flight) and failure is None:
            while pending and len(in_flight) < options.jobs:
                path, name, target = pending.pop(0)
                fut = pool.submit(_grade_one, str(course.path), str(path), name, options.seed, options.device,
                                  options.gradescope)
                in_flight[fut] = (path, name, target)
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            broken = False
            for fut in done:
                path, name, target = in_flight.pop(fut)
                try:
                    row = fut.result()
                except BrokenProcessPool:
                    broken = True
                    row = _error_row(course, path, name, "the grading worker died (out of memory?)", options)
                except Exception as e:  # noqa: BLE001 - whatever went wrong costs this submission only
                    row = _error_row(course, path, name, f"internal grader error: {type(e).__name__}: {e}",
                                     options)
                if failure is not None:
                    continue
                try:
                    _save(row, target)
                except _WriteFailed as e:
                    failure = e
                    continue
                written += 1
                (summary.errors if row.error else summary.graded).append(row.student)
                if on_done:
                    on_done(row.student, row.points, row.max_points, row.error)
            if broken:  # every task of a broken pool fails: requeue the innocent ones on a fresh pool
                pending = [in_flight[f] for f in in_flight] + pending
                in_flight.clear()
                pool.shutdown(wait=False, cancel_futures=True)
                pool = _pool(options.jobs)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if failure is None:
        try:
            write_gradebook(out, summary.not_graded)
        except OSError as e:
            failure = _WriteFailed(Path(e.filename) if e.filename else out / GRADEBOOK, e)
    if failure is not None:
        raise GraderError(_stop_message(failure, written, len(todo) - written))
    summary.seconds = time.perf_counter() - started
    return summary


def _pool(jobs: int) -> ProcessPoolExecutor:
    # spawn: workers start clean (no torch, no references in memory) and import only the grader
    return ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"), initializer=_worker_init)


def _warm_references(course: Course, options: BatchOptions) -> None:
    """Compute (or load) every reference once, in this process, so the workers only read the cache."""
    from ..engine.expected import compute_references
    from ..engine.refstore import ReferenceStore

    seed = course.seed_for(options.seed)
    ReferenceStore(course.digest, seed, options.device, lambda: compute_references(course, seed, options.device)).all()


def _error_row(course: Course, path: Path, name: str, message: str, options: BatchOptions) -> Row:
    secret = course.is_secret(options.seed)
    result = error_result(course, path, message, "secret" if secret else "public", options.device)
    return _row(result, course, name, secret, options.gradescope)


def _readable(path: Path) -> bool:
    try:
        from_dict(json.loads(path.read_text()))
        return True
    except (OSError, ValueError, KeyError, TypeError):
        return False


def load_results(out: Path) -> dict[str, SubmissionResult]:
    """Results by student name (the ``student`` field; the file stem for results from before it)."""
    results = {}
    for path in sorted(out.glob("*.json")):
        if path.name.endswith(".gradescope.json"):
            continue
        try:
            result = from_dict(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        results[result.student or path.stem] = result
    return results


def write_gradebook(out: Path, not_graded: list[tuple[str, str]] | None = None) -> Path:
    path = out / GRADEBOOK
    write_atomically(path, gradebook_csv(load_results(out), not_graded or []))
    return path
