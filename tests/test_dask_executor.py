"""The Dask executor: a mixed class graded on a LocalCluster gives the local pool's gradebook, a worker
killed mid-task costs a retry elsewhere, a task that loses two workers becomes an error row, and what a
worker needs (course, references, submission) travels to it rather than being read from the client's
disk."""
from __future__ import annotations

import json
import os
import signal
import threading
import time
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from grader.executors import Task, batch
from grader.executors.batch import BatchOptions, grade_batch
from grader.executors.dask_cluster import DaskExecutor, ship_submission
from grader.executors.dask_worker import course_on_worker, unpack_submission
from grader.model.course import Course
from grader.model.errors import GraderError

from .conftest import EXERCISES, ROOT, SOLUTIONS, make_submission

SLEEPY = "import time as _t\n_t.sleep({s})\n"
"""Prepended to a module: its import takes a while, so a test can find its worker busy with it."""


def _class(root: Path) -> Path:
    subs = root / "subs"
    make_submission(subs / "alice")
    make_submission(subs / "bob", base=EXERCISES)
    make_submission(subs / "dave", append={"layers": "class Affine:\n    def __init__(self, *a, **k):\n"
                                                     "        raise RuntimeError('boom')\n"})
    with zipfile.ZipFile(subs / "carol.zip", "w") as z:
        for p in SOLUTIONS.glob("*.py"):
            z.write(p, p.name)
    (subs / "notes.txt").write_text("not a submission")
    return subs


def _results(out: Path) -> dict[str, object]:
    """Each student's result without what two runs may differ in: timings, and the sampled figures in
    the messages of passing statistical checks (their draws are not seeded)."""
    def strip(x: object) -> object:
        if isinstance(x, dict):
            drop = ("duration_s", "timings", "message" if x.get("status") == "pass" else "")
            return {k: strip(v) for k, v in x.items() if k not in drop}
        if isinstance(x, list):
            return [strip(v) for v in x]
        return x
    return {p.name: strip(json.loads(p.read_text())) for p in sorted(out.glob("*.json"))}


def test_local_cluster_grades_a_class_like_the_local_pool(course: Course, tmp_path: Path) -> None:
    subs = _class(tmp_path)
    local = grade_batch(course, subs, tmp_path / "local", BatchOptions(jobs=2))
    dask = grade_batch(course, subs, tmp_path / "dask", BatchOptions(jobs=2, executor="dask", address="local:2"))
    assert sorted(dask.graded + dask.errors) == sorted(local.graded + local.errors) == ["alice", "bob", "carol", "dave"]
    assert dask.not_graded == local.not_graded != []
    assert (tmp_path / "dask" / "gradebook.csv").read_text() == (tmp_path / "local" / "gradebook.csv").read_text()
    assert _results(tmp_path / "dask") == _results(tmp_path / "local")
    alice = json.loads((tmp_path / "dask" / "alice.json").read_text())
    assert alice["submission"] == str(subs / "alice") and alice["points"] == alice["max_points"]


def _kill_busy_worker(exe: DaskExecutor, student: str, times: int, killed: list[int]) -> None:
    """Kill the worker that is grading ``student``, ``times`` times (each time on the worker it moved to)."""
    deadline = time.monotonic() + 120
    while len(killed) < times and time.monotonic() < deadline:
        client = exe.client
        if client is None:
            time.sleep(0.05)
            continue
        try:
            busy = [w for w, keys in client.processing().items() if any(student in str(k) for k in keys)]
            if busy:
                pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
                if pid not in killed:
                    time.sleep(0.5)  # inside the task, past its start
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
        except Exception:  # noqa: BLE001 - the cluster is closing, or the worker is gone already
            pass
        time.sleep(0.05)


def test_a_lost_worker_costs_a_retry_then_an_error_row(course: Course, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    subs = tmp_path / "subs"
    make_submission(subs / "alice")
    for name in ("once", "twice"):
        make_submission(subs / name)
        act = subs / name / "activations.py"
        act.write_text(SLEEPY.format(s=2) + act.read_text())
    exe = DaskExecutor("local:2")
    monkeypatch.setitem(batch.EXECUTORS, "dask", lambda options: exe)
    killed_once: list[int] = []
    killed_twice: list[int] = []
    killers = [threading.Thread(target=_kill_busy_worker, args=(exe, "once", 1, killed_once), daemon=True),
               threading.Thread(target=_kill_busy_worker, args=(exe, "twice", 2, killed_twice), daemon=True)]
    for k in killers:
        k.start()
    summary = grade_batch(course, subs, tmp_path / "out", BatchOptions(executor="dask", address="local:2"))
    for k in killers:
        k.join(5)
    assert len(killed_once) == 1 and len(killed_twice) == 2
    rows = {r["student"]: r for r in (json.loads(p.read_text()) for p in (tmp_path / "out").glob("*.json"))}
    assert sorted(rows) == ["alice", "once", "twice"]  # nothing lost, nothing written twice
    assert rows["once"]["points"] == rows["once"]["max_points"] == rows["alice"]["points"]
    assert "lost 2 times" in rows["twice"]["error"] and summary.errors == ["twice"]
    gradebook = (tmp_path / "out" / "gradebook.csv").read_text().splitlines()
    assert len(gradebook) == 4 and gradebook[3].startswith("twice,") and ",error," in gradebook[3]


def test_what_a_worker_receives_is_all_it_needs(course: Course, tmp_path: Path) -> None:
    """A worker without the client's files: the course is rebuilt from its bytes with the same digest,
    the submission from the members the folder front would take (links and caches left behind)."""
    sub = make_submission(tmp_path / "sub")
    (sub / "__pycache__").mkdir()
    (sub / "__pycache__" / "x.pyc").write_bytes(b"\0")
    (sub / "link.py").symlink_to("/etc/hostname")
    members = ship_submission(sub)
    assert sorted(m for m, _ in members) == sorted(p.name for p in SOLUTIONS.glob("*.py"))
    unpacked = unpack_submission(members, True, "sub", tmp_path / "worker")
    assert sorted(p.name for p in unpacked.iterdir()) == sorted(m for m, _ in members)
    with pytest.raises(Exception, match="outside the submission"):
        unpack_submission([("../../evil.py", b"x = 1")], True, "sub", tmp_path / "worker2")

    elsewhere = course_on_worker(str(tmp_path / "gone" / "course.yml"), (ROOT / "course.yml").read_bytes(), course.digest)
    assert elsewhere != str(ROOT / "course.yml") and Path(elsewhere).read_bytes() == (ROOT / "course.yml").read_bytes()
    assert course_on_worker(str(ROOT / "course.yml"), b"other", course.digest) == elsewhere  # once per worker


def test_a_worker_with_other_references_refuses_to_grade(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.executors.dask_worker import place_references

    monkeypatch.setenv("GRADER_CACHE", str(tmp_path / "cache"))
    with pytest.raises(GraderError, match="differ from the client's"):
        place_references("digest", 1, "cpu", "0" * 32, b"refs")
    assert not (tmp_path / "cache").exists()


def test_unreachable_scheduler_and_bad_local_count_are_clear(course: Course) -> None:
    task = Task(str(course.path), str(SOLUTIONS), "alice", None, "cpu", False)
    with pytest.raises(GraderError, match="local:N"):
        DaskExecutor("local:zero").run([task], lambda t, r: True)
