"""Grade a whole class: many submissions, in parallel, resumable, never stopped by one of them.

Each submission (a folder, a .zip or a notebook in SUBMISSIONS/) is graded by a worker process that
runs :func:`grader.engine.grading.grade` (through an executor: grader.executors), so each gets its own
sandboxed child. References are computed once,
before the workers start, and read from the cache by all of them. Workers only return texts: the parent
alone writes RESULTS/<student>.json, atomically, the moment a result is ready; a rerun skips the
students already there (unless forced, or graded with another course file, seed, device or grader), so killing the grader mid-batch loses nothing and redoes
nothing, and the workers, their fork servers and children die with it. A submission that breaks the
grader or kills its worker gets an error result, and the batch goes on; a full disk stops it. Every
entry of SUBMISSIONS/ that is not graded is listed with the reason, never skipped silently.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .. import __version__
from ..backs.classbook import read_results, summarize
from ..backs.gradebook import gradebook_csv
from ..files import write_atomically
from ..model.course import Course
from ..model.errors import GraderError
from ..model.results import from_dict
from . import Executor, Row, Task
from .dask_cluster import DaskExecutor
from .local import LocalPool

GRADEBOOK = "gradebook.csv"
EXECUTORS: dict[str, Callable[["BatchOptions"], Executor]] = {
    "local": lambda options: LocalPool(options.jobs),
    "dask": lambda options: DaskExecutor(options.address),
}
"""Where submissions can be graded, by the name BatchOptions.executor gives."""


def executor(options: "BatchOptions") -> Executor:
    """The executor BatchOptions names, set up from them."""
    if options.executor not in EXECUTORS:
        raise GraderError(f"no executor named {options.executor!r}; known: {', '.join(EXECUTORS)}")
    return EXECUTORS[options.executor](options)


@dataclass
class BatchOptions:
    seed: int | None = None
    device: str = "cpu"
    jobs: int = 1
    force: bool = False
    gradescope: bool = False
    """Also write RESULTS/<student>.gradescope.json in Gradescope's results.json format."""
    roster: dict[str, dict[str, str]] | None = None
    """Student identifier -> name and email, for the gradebook (``--roster FILE``)."""
    executor: str = "local"
    """Where the submissions are graded (grader.executors: ``local`` worker processes, ``dask``)."""
    address: str = ""
    """The executor's address: a Dask scheduler (``tcp://host:8786``) or ``local:N``."""
    full_results: bool = False
    """Every case's detail in each student's JSON (``--full-results``); by default passing exercises are
    written compactly (docs/results-schema.md)."""
    data: tuple[tuple[str, str], ...] = ()
    """``--data NAME=DIR`` as (name, folder) pairs for every submission; the course given to grade_batch
    has them applied already (grader.api.with_data), each worker applies them to the course it loads."""
    on_references: Callable[[list[str]], None] | None = None
    """Told the exercises whose references the parent is about to compute (grader.engine.grading.Options)."""
    on_reference_done: Callable[[str], None] | None = None
    """Told each exercise's id as its references are computed (a progress bar)."""


@dataclass
class BatchSummary:
    graded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)
    """Student in ``errors`` -> why it could not be graded (the summary names each one)."""
    not_graded: list[tuple[str, str]] = field(default_factory=list)
    """(entry of SUBMISSIONS/, why it was not graded): nothing is skipped silently."""
    seconds: float = 0.0


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
    """Grade every submission in a folder into RESULTS/ with the chosen executor, then write the CSV
    gradebook.

    Raises:
        GraderError: RESULTS/ cannot be written (a full disk): the batch stops, files already written
            are complete, and no partial file is left.
    """
    started = time.perf_counter()
    summary = BatchSummary()
    found, summary.not_graded = scan_submissions(submissions)
    out.mkdir(parents=True, exist_ok=True)
    tasks, targets = [], {}
    for path in found:
        name = student_name(path)
        target = out / f"{student_file_stem(name)}.json"
        if target.exists() and not options.force and _current(target, course, options):
            summary.skipped.append(name)
            continue
        task = Task(str(course.path), str(path), name, options.seed, options.device, options.gradescope,
                    options.full_results, options.data)
        tasks.append(task)
        targets[task] = target
    if tasks:
        _warm_references(course, options)
    written = 0
    failure: _WriteFailed | None = None

    def save(task: Task, row: Row) -> bool:
        nonlocal written, failure
        try:
            _save(row, targets[task])
        except _WriteFailed as e:
            failure = e
            return False
        written += 1
        (summary.errors if row.error else summary.graded).append(row.student)
        if row.error:
            summary.reasons[row.student] = row.error
        if on_done:
            on_done(row.student, row.points, row.max_points, row.error)
        return True

    if tasks:
        executor(options).run(tasks, save)
    if failure is None:
        try:
            write_gradebook(out, summary.not_graded, options.roster)
        except OSError as e:
            failure = _WriteFailed(Path(e.filename) if e.filename else out / GRADEBOOK, e)
    if failure is not None:
        raise GraderError(_stop_message(failure, written, len(tasks) - written))
    summary.seconds = time.perf_counter() - started
    return summary


def _warm_references(course: Course, options: BatchOptions) -> None:
    """Compute (or load) every reference once, in this process, so the workers only read the cache."""
    from ..engine.expected import reference_store

    told = {"on_compute": options.on_references, "on_exercise": options.on_reference_done}
    reference_store(course, course.seed_for(options.seed), options.device, **told).all()
    if options.gradescope and course.is_secret(options.seed):  # Gradescope's visible tests: the public cases
        reference_store(course, course.seed_for(None), options.device, **told).all()


def _current(path: Path, course: Course, options: BatchOptions) -> bool:
    """A result that a rerun may keep: readable, and graded with this course file, seed, device and
    grader version (editing course.yml, another seed or an upgrade regrades everyone)."""
    try:
        result = from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return (result.course_digest == course.digest and result.seed_digest == course.seed_digest(options.seed)
            and result.device == options.device and result.grader_version == __version__)


def write_gradebook(out: Path, not_graded: list[tuple[str, str]] | None = None,
                    roster: dict[str, dict[str, str]] | None = None) -> Path:
    """RESULTS/gradebook.csv from the results there, read one at a time (memory flat in the class size)."""
    path = out / GRADEBOOK
    write_atomically(path, gradebook_csv(summarize(read_results(out)), not_graded or [], roster))
    return path
