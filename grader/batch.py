"""Grade a whole class: many submissions, in parallel, resumable, never stopped by one of them.

Each submission (a folder, a .zip or a notebook in SUBMISSIONS/) is graded by a worker process that
runs :func:`grader.engine.grade`, so each gets its own sandboxed child. References are computed once,
before the workers start, and read from the cache by all of them. Every result is written atomically as
RESULTS/<student>.json the moment it is ready; a rerun skips the students already there (unless forced),
so killing the grader mid-batch loses nothing and redoes nothing. A submission that breaks the grader or
kills its worker gets an error result, and the batch goes on.
"""
from __future__ import annotations

import json
import re
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Callable

from . import __version__
from .course import Course, load_course
from .engine import Options, grade
from .errors import GraderError
from .redact import redact
from .report.gradebook import gradebook_csv, write_atomically
from .runner import Zygote
from .results import (ERROR, AssignmentResult, CaseResult, CheckResult, ExerciseResult, SubmissionResult, from_dict,
                      to_json)

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
    seconds: float = 0.0


def student_id(path: Path) -> str:
    """The submission's name without extension, made safe for a file name."""
    stem = path.name[: -len(path.suffix)] if path.suffix in (".zip", ".ipynb") else path.name
    return re.sub(r"[^A-Za-z0-9_.-]", "_", stem) or "_"


def find_submissions(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise GraderError(f"{folder}: not a folder of submissions")
    found = [p for p in sorted(folder.iterdir())
             if not p.name.startswith(".") and (p.is_dir() or p.suffix in (".zip", ".ipynb"))]
    ids = [student_id(p) for p in found]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise GraderError(f"{folder}: several submissions map to the same student id: {', '.join(sorted(dupes))}")
    return found


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


def _zygote() -> Zygote | None:
    if not _ZYGOTE or not _ZYGOTE[0].alive:
        try:
            _ZYGOTE[:] = [Zygote()]
        except OSError:
            return None
    return _ZYGOTE[0]


def _grade_one(course_path: str, submission: str, out: str, seed: int | None, device: str,
               gradescope: bool) -> tuple[str, float, float, str]:
    """Worker: grade one submission and write its JSON (and Gradescope file); return a summary row."""
    course = _COURSES.get(course_path) or _COURSES.setdefault(course_path, load_course(course_path))
    path, out_path = Path(submission), Path(out)
    secret = seed is not None and seed != course.public_seed
    try:
        result = grade(course, path, Options(seed=seed, device=device), zygote=_zygote())
    except GraderError as e:
        result = error_result(course, path, str(e), "secret" if secret else "public", device)
    except Exception as e:  # noqa: BLE001 - a grader bug on one submission must not stop the batch
        result = error_result(course, path, f"internal grader error: {type(e).__name__}: {e}",
                              "secret" if secret else "public", device)
    if secret:
        redact(result, course)
    if gradescope:
        from .report.gradescope import gradescope_results

        data = gradescope_results(None, result) if secret else gradescope_results(result)
        write_atomically(out_path.with_suffix(".gradescope.json"), json.dumps(data, indent=2))
    write_atomically(out_path, to_json(result))
    return out_path.stem, result.points, result.max_points, result.error


def grade_batch(course: Course, submissions: Path, out: Path, options: BatchOptions,
                on_done: Callable[[str, float, float, str], None] | None = None) -> BatchSummary:
    """Grade every submission in a folder into RESULTS/, then write the CSV gradebook."""
    started = time.perf_counter()
    summary = BatchSummary()
    out.mkdir(parents=True, exist_ok=True)
    todo = []
    for path in find_submissions(submissions):
        target = out / f"{student_id(path)}.json"
        if target.exists() and not options.force and _readable(target):
            summary.skipped.append(target.stem)
            continue
        todo.append((path, target))
    if todo:
        _warm_references(course, options)
    pending = list(todo)
    in_flight: dict[Future[tuple[str, float, float, str]], tuple[Path, Path]] = {}
    pool = _pool(options.jobs)
    try:
        while pending or in_flight:
            while pending and len(in_flight) < options.jobs:
                path, target = pending.pop(0)
                fut = pool.submit(_grade_one, str(course.path), str(path), str(target), options.seed, options.device,
                                  options.gradescope)
                in_flight[fut] = (path, target)
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            broken = False
            for fut in done:
                path, target = in_flight.pop(fut)
                try:
                    row = fut.result()
                except BrokenProcessPool:
                    broken = True
                    row = _write_error(course, path, target, "the grading worker died (out of memory?)", options)
                except Exception as e:  # noqa: BLE001 - whatever went wrong costs this submission only
                    row = _write_error(course, path, target, f"internal grader error: {type(e).__name__}: {e}",
                                       options)
                (summary.errors if row[3] else summary.graded).append(row[0])
                if on_done:
                    on_done(*row)
            if broken:  # every task of a broken pool fails: requeue the innocent ones on a fresh pool
                pending = [in_flight[f] for f in in_flight] + pending
                in_flight.clear()
                pool.shutdown(wait=False, cancel_futures=True)
                pool = _pool(options.jobs)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    write_gradebook(out)
    summary.seconds = time.perf_counter() - started
    return summary


def _pool(jobs: int) -> ProcessPoolExecutor:
    # spawn: workers start clean (no torch, no references in memory) and import only the grader
    return ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"))


def _warm_references(course: Course, options: BatchOptions) -> None:
    """Compute (or load) every reference once, in this process, so the workers only read the cache."""
    from .engine import compute_references
    from .refcache import ReferenceStore

    seed = course.public_seed if options.seed is None else options.seed
    ReferenceStore(course.digest, seed, options.device, lambda: compute_references(course, seed, options.device)).all()


def _write_error(course: Course, path: Path, target: Path, message: str,
                 options: BatchOptions) -> tuple[str, float, float, str]:
    secret = options.seed is not None and options.seed != course.public_seed
    result = error_result(course, path, message, "secret" if secret else "public", options.device)
    write_atomically(target, to_json(result))
    return target.stem, 0.0, result.max_points, message


def _readable(path: Path) -> bool:
    try:
        from_dict(json.loads(path.read_text()))
        return True
    except (OSError, ValueError, KeyError, TypeError):
        return False


def load_results(out: Path) -> dict[str, SubmissionResult]:
    results = {}
    for path in sorted(out.glob("*.json")):
        if path.name.endswith(".gradescope.json"):
            continue
        try:
            results[path.stem] = from_dict(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return results


def write_gradebook(out: Path) -> Path:
    path = out / GRADEBOOK
    write_atomically(path, gradebook_csv(load_results(out)))
    return path
