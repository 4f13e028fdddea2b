"""The local executor: a pool of worker processes on this machine, each with a warm fork server.

Workers are spawned clean (no torch, no references in memory), die with the grader (a parent-death
signal, and a watch on the spawn pipe), and only return texts. A worker killed by a submission (out of
memory) breaks the pool: that submission gets an error row, and the innocent ones in flight are
graded again on a fresh pool.
"""
from __future__ import annotations

import os
import signal
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path

from ..coursefile import load_course
from ..engine.grading import Options, grade
from ..model.course import Course
from ..model.errors import GraderError
from ..sandbox.runner import Zygote, make_private
from . import OnRow, Row, Task, error_result, error_row, result_row

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


def grade_task(task: Task) -> Row:
    """Worker: grade one submission and return its texts; writing them is the parent's job."""
    course = _COURSES.get(task.course_path) or _COURSES.setdefault(task.course_path, load_course(task.course_path))
    path = Path(task.submission)
    secret = course.is_secret(task.seed)
    try:
        if task.data:  # a folder gone since the parent read it: this submission's error row says so
            from ..kinds.networks import with_data

            course = with_data(course, {name: Path(folder) for name, folder in task.data})
        result = grade(course, path, Options(seed=task.seed, device=task.device), zygote=_zygote())
    except GraderError as e:
        result = error_result(course, path, str(e), "secret" if secret else "public", task.device, task.seed)
    except Exception as e:  # noqa: BLE001 - a grader bug on one submission must not stop the batch
        result = error_result(course, path, f"internal grader error: {type(e).__name__}: {e}",
                              "secret" if secret else "public", task.device, task.seed)
    public = None
    if task.gradescope and secret and not result.error:  # Gradescope's visible tests: the public cases
        try:
            public = grade(course, path, Options(device=task.device), zygote=_zygote())
        except Exception:  # noqa: BLE001 - the hidden grading stands; the file then says so
            public = None
    return result_row(result, course, task.student, secret, task.gradescope, public, task.full_results)


def _pool(jobs: int) -> ProcessPoolExecutor:
    # spawn: workers start clean (no torch, no references in memory) and import only the grader
    return ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"), initializer=_worker_init)


class LocalPool:
    """Grades ``jobs`` submissions at a time in worker processes."""

    def __init__(self, jobs: int):
        self.jobs = max(1, jobs)

    def run(self, tasks: list[Task], on_row: OnRow) -> None:
        pending = list(tasks)
        in_flight: dict[Future[Row], Task] = {}
        course = load_course(tasks[0].course_path) if tasks else None
        stop = False
        pool = _pool(self.jobs)
        try:
            while (pending or in_flight) and not stop:
                while pending and len(in_flight) < self.jobs:
                    task = pending.pop(0)
                    in_flight[pool.submit(grade_task, task)] = task
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                broken = False
                for fut in done:
                    task = in_flight.pop(fut)
                    try:
                        row = fut.result()
                    except BrokenProcessPool:
                        broken = True
                        row = error_row(course, task, "the grading worker died (out of memory?)")  # type: ignore[arg-type]
                    except Exception as e:  # noqa: BLE001 - whatever went wrong costs this submission only
                        row = error_row(course, task, f"internal grader error: {type(e).__name__}: {e}")  # type: ignore[arg-type]
                    if stop:
                        continue
                    stop = not on_row(task, row)
                if broken:  # every task of a broken pool fails: requeue the innocent ones on a fresh pool
                    pending = list(in_flight.values()) + pending
                    in_flight.clear()
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = _pool(self.jobs)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
