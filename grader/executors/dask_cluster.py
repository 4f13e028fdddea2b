"""A distributed executor on Dask: one task per submission, sent to a Dask scheduler.

Why Dask: scheduling, worker loss, retries and the deployments (a LocalCluster, SLURM through
dask-jobqueue, Kubernetes through dask-kubernetes) are what a cluster executor needs, and Dask already
does them well; this module only says what travels and what comes back (docs/scaling.md).

What travels, so that workers need not share a file system with the client:
- the submission's bytes: the files the folder front would take (``modules_in``), or the .zip or
  .ipynb file itself; the worker writes them to a private temporary folder and grades that;
- the course file's bytes, sent once to every worker; a worker that has the same file at the same path
  (one machine, or a shared file system) grades with it, so its ``hide:`` folders are masked; elsewhere
  it writes the file to a private folder, with empty folders for ``hide:`` (the digest, and so the
  reference cache key, stay the client's);
- the reference cache's file, computed once by the client and sent once to every worker. A worker
  whose grader, twins or torch differ from the client's computes another cache key, and its tasks come
  back as error rows naming the mismatch: never grades against other references.

What comes back: the Row's texts (the same ``grade_task`` as the local pool, in the worker's own warm
fork server); the client alone writes files (batch.py). Each task is one future, so a grade is never
written twice; a worker lost mid-task makes the scheduler run the task elsewhere, and a task that loses
a second worker (``allowed-failures``) comes back as an error row.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..model.course import Course
from ..model.errors import GraderError, SubmissionError
from . import OnRow, Task, error_row

LOCAL_PREFIX = "local:"
"""``--dask local:N`` starts a LocalCluster of N single-threaded worker processes on this machine."""
ALLOWED_FAILURES = 1
"""Workers a task may lose before it is given up (set on the schedulers this module starts)."""
SCHEDULER_CONFIG = {"distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
                    "distributed.scheduler.worker-saturation": 1.0}
"""Set on the schedulers this module starts (docs/scaling.md: set them on yours): a worker holds one
task per thread, so a lost worker costs only the task it was grading."""
IN_FLIGHT_PER_WORKER = 4
"""Tasks sent ahead per worker: enough to keep each busy, few enough that a class of 100,000 is not
held in the client's memory at once."""
MAX_SHIPPED = 64 * 1024 * 1024
"""Largest submission sent to a worker, in bytes (the fronts cap what they take far below this)."""


def ship_submission(path: Path) -> list[tuple[str, bytes]]:
    """The submission as (relative path, bytes): what the folder front takes, or the file itself.

    Raises:
        SubmissionError: the folder cannot be read, breaks the fronts' caps, or is too large to send.
    """
    from ..fronts.submission import modules_in

    if path.is_dir():
        members = [(rel.as_posix(), (path / rel).read_bytes()) for rel in modules_in(path)]
    else:
        members = [(path.name, path.read_bytes())]
    if sum(len(data) for _, data in members) > MAX_SHIPPED:
        raise SubmissionError(f"{path}: more than {MAX_SHIPPED // 2**20} MiB to send to a worker")
    return members


class DaskExecutor:
    """Grades submissions on a Dask cluster: ``address`` is a scheduler (``tcp://host:8786``) or
    ``local:N`` for a LocalCluster of N worker processes here."""

    def __init__(self, address: str):
        self.address = address  # parallelism is the cluster's: one task per worker thread, not -j
        self.client: Any = None
        """The distributed.Client while :meth:`run` runs (tests reach the workers through it)."""

    def _connect(self) -> tuple[Any, Any]:
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:
            raise GraderError("the Dask executor needs the dask extra: pip install \"nn-grader[dask]\"") from None
        if self.address.startswith(LOCAL_PREFIX):
            count = self.address[len(LOCAL_PREFIX):]
            if not count.isdigit() or int(count) < 1:
                raise GraderError(f"--dask {self.address}: write local:N with N >= 1 worker processes")
            with dask.config.set(SCHEDULER_CONFIG):
                cluster = LocalCluster(n_workers=int(count), threads_per_worker=1, processes=True,
                                       memory_limit=0, dashboard_address=None, silence_logs=40)
            return Client(cluster), cluster
        try:
            return Client(self.address, timeout=30), None
        except OSError as e:
            raise GraderError(f"--dask {self.address}: cannot reach the scheduler ({e})") from None

    def run(self, tasks: list[Task], on_row: OnRow) -> None:
        if not tasks:
            return
        from ..coursefile import load_course

        course = load_course(tasks[0].course_path)
        client, cluster = self._connect()  # first: it says what is missing when dask is not installed
        from distributed import as_completed
        self.client = client
        try:
            from .dask_worker import Prepare, grade_shipped

            client.register_plugin(Prepare(str(course.path), _shared(course, tasks[0])), name=Prepare.name)
            pending = iter(enumerate(tasks))
            futures: dict[Any, Task] = {}
            window = as_completed()

            def submit_next() -> bool:
                """Send the next task (error rows for those that cannot be sent); False when the client
                stops the batch. Submissions are read only as they go out, so memory stays flat."""
                for number, task in pending:
                    path = Path(task.submission)
                    try:
                        members = ship_submission(path)
                    except (SubmissionError, OSError) as e:
                        if not on_row(task, error_row(course, task, str(e))):
                            return False
                        continue
                    future = client.submit(grade_shipped, task, members, path.is_dir(),
                                           key=f"grade-{number}-{task.student[:40]}", pure=False)
                    futures[future] = task
                    window.add(future)
                    return True
                return True

            workers = max(1, len(client.scheduler_info().get("workers", {})))
            for _ in range(IN_FLIGHT_PER_WORKER * workers):
                if not submit_next():
                    return
            for future in window:
                task = futures.pop(future)
                try:
                    row = future.result()
                except Exception as e:  # noqa: BLE001 - KilledWorker, a lost connection: this task only
                    row = error_row(course, task, _lost_message(e))
                if not on_row(task, row) or not submit_next():
                    client.cancel(list(futures))
                    return
        finally:
            self.client = None
            client.close()
            if cluster is not None:
                cluster.close()


def _shared(course: Course, task: Task) -> dict[str, Any]:
    """What every worker needs once: the course file, the course's own twins and the reference file, by key."""
    from ..engine.refstore import ReferenceStore
    from .dask_worker import course_twins

    seed = course.seed_for(task.seed)
    root = Path(course.path).parent
    store = ReferenceStore(course.digest, seed, task.device, fill=_no_fill, course_root=root)  # for its path only
    if not store.path.exists():
        raise GraderError(f"{store.path}: the client's references are missing (they are computed before "
                          f"the executor starts)")
    return {"course": Path(course.path).read_bytes(), "digest": course.digest, "seed": seed, "device": task.device,
            "key": store.path.name[len("refs-"):-len(".bin")], "references": store.path.read_bytes(),
            "twins": course_twins(root)}


def _no_fill(ids: list[str]) -> dict:
    raise GraderError("references must be computed by the client before the executor starts")


def _lost_message(error: Exception) -> str:
    name = type(error).__name__
    if name == "KilledWorker":
        return (f"the grading worker was lost {ALLOWED_FAILURES + 1} times on this submission "
                f"(out of memory? the machine gone?)")
    return f"the cluster could not grade this submission: {name}: {error}"
