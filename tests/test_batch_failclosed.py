"""Batch bookkeeping that fails closed: a killed grader takes its processes along, only the parent writes
results (atomically), a full disk stops the batch cleanly, any student name gets its own file, and
nothing is skipped silently."""
from __future__ import annotations

import csv
import errno
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader import files
from grader.cli import main
from grader.executors import Task, local
from grader.executors import batch as batch_module
from grader.executors.batch import BatchOptions, grade_batch
from grader.model.course import Course

from .conftest import ROOT, SOLUTIONS, make_submission

SLOW_SIGMOID = "\n".join([
    "class Sigmoid:",
    "    def __init__(self):",
    "        self.params, self.grads = [], []",
    "    def forward(self, x):",
    "        import time; time.sleep(0.4)",
    "        return 1 / (1 + np.exp(-x))",
    "    def backward(self, dout):",
    "        return dout * 0.25"])


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, start time) of a live process, None once it is gone (or a zombie)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    if fields[0] == "Z":
        return None
    return int(fields[1]), fields[19]


def descendants(root: int) -> dict[int, str]:
    """Every live process under ``root`` (by parent links), with its start time."""
    children: dict[int, list[int]] = {}
    starts: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (st := _stat(int(entry))) is not None:
            children.setdefault(st[0], []).append(int(entry))
            starts[int(entry)] = st[1]
    out, todo = {}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out[child] = starts[child]
            todo.append(child)
    return out


def test_killed_grader_takes_its_processes_along(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    for i in range(6):
        make_submission(subs / f"s{i}", append={"activations": SLOW_SIGMOID})
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "grader", "grade", str(subs), "--out", str(out), "-j", "2", "-q",
           "--course", str(ROOT / "course.yml")]
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True)
    seen: dict[int, str] = {}
    deadline = time.monotonic() + 120
    try:
        # mid-batch: both workers busy, each with its fork server and a sandboxed child
        while time.monotonic() < deadline:
            now = descendants(proc.pid)
            seen.update(now)
            if len(now) >= 5:
                break
            time.sleep(0.05)
        time.sleep(1.0)
        seen.update(descendants(proc.pid))
        assert proc.poll() is None, "the batch ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        gone_by = time.monotonic() + 5
        left = dict(seen)
        while left and time.monotonic() < gone_by:
            left = {pid: start for pid, start in left.items() if (st := _stat(pid)) and st[1] == start}
            time.sleep(0.05)
        assert not left, f"still alive after the grader was killed: {sorted(left)}"
        before = sorted(p.name for p in out.iterdir()) if out.exists() else []
        time.sleep(2.0)
        after = sorted(p.name for p in out.iterdir()) if out.exists() else []
        assert after == before, "results were written after the grader died"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for pid in seen:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def test_only_the_parent_writes_results(course: Course, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker returns the texts; a worker writing into RESULTS would bypass the parent's bookkeeping."""
    out = tmp_path / "out"
    try:
        row = local.grade_task(Task(str(course.path), str(SOLUTIONS), "x", None, "cpu", True))
    finally:  # the worker's fork server, started here in the test's own process
        for zygote in local._ZYGOTE:
            zygote.close()
        local._ZYGOTE.clear()
    assert not out.exists() or not list(out.iterdir())
    assert json.loads(row.result_json)["points"] == row.points
    assert row.gradescope_json is not None and json.loads(row.gradescope_json)["score"] == row.points


class _FullDisk:
    """A file object that takes a few bytes, then fails like a full disk."""

    def __init__(self, f: io.TextIOWrapper):
        self.f = f

    def __enter__(self) -> _FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.f.close()

    def write(self, text: str) -> int:
        self.f.write(text[:10])
        self.f.flush()
        raise OSError(errno.ENOSPC, "No space left on device")


def _fill_after(monkeypatch: pytest.MonkeyPatch, n_ok: int) -> None:
    real = os.fdopen
    count = [0]

    def fdopen(fd: int, *args: object, **kwargs: object) -> object:
        count[0] += 1
        f = real(fd, *args, **kwargs)  # type: ignore[arg-type]
        return f if count[0] <= n_ok else _FullDisk(f)

    monkeypatch.setattr(files.os, "fdopen", fdopen)


def _no_partial_files(out: Path) -> None:
    for p in out.iterdir():
        assert not p.name.endswith(".tmp"), p
        assert p.stat().st_size > 0, p
        json.loads(p.read_text()) if p.suffix == ".json" else None


def test_full_disk_stops_the_batch_with_a_clear_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    subs = tmp_path / "subs"
    for i in range(4):
        shutil.copytree(SOLUTIONS, subs / f"s{i}")
    out = tmp_path / "out"
    _fill_after(monkeypatch, 2)
    code = main(["grade", str(subs), "--out", str(out), "-q", "--course", str(ROOT / "course.yml")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"no space left on {out}" in err and "2 graded, 2 not written" in err, err
    assert len(list(out.glob("s*.json"))) == 2
    assert not (out / "gradebook.csv").exists()
    _no_partial_files(out)


def test_check_json_on_a_full_disk_leaves_no_empty_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    _fill_after(monkeypatch, 0)
    target = tmp_path / "r.json"
    with pytest.raises(OSError):
        main(["check", str(SOLUTIONS), "-e", "Sigmoid", "-q", "--json", str(target),
              "--course", str(ROOT / "course.yml")])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("mount"), reason="mounting a tmpfs needs root")
def test_full_tmpfs_stops_the_batch(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    for i in range(3):
        shutil.copytree(SOLUTIONS, subs / f"s{i}")
    out = tmp_path / "small"
    out.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(out)]).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        proc = subprocess.run([sys.executable, "-m", "grader", "grade", str(subs), "--out", str(out), "-q",
                               "--course", str(ROOT / "course.yml")], cwd=ROOT, capture_output=True, text=True)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr and f"no space left on {out}" in proc.stderr
        assert "not written" in proc.stderr
        _no_partial_files(out)
    finally:
        subprocess.run(["umount", str(out)])


def test_any_name_gets_its_own_file_and_nothing_is_skipped_silently(course: Course, tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    long = "a" * 250
    names = ["José", "Jos_", long, "x", "x.gradescope", "50%"]
    for name in names:
        make_submission(subs / name, replace={"activations": "import numpy as np\n"})
    (subs / ".hidden").mkdir()
    (subs / "notes.txt").write_text("hi")
    out = tmp_path / "out"
    summary = grade_batch(course, subs, out, BatchOptions(jobs=1, gradescope=True))
    assert sorted(summary.graded) == sorted(names)
    stems = {batch_module.student_file_stem(n) for n in names}
    assert len(stems) == len(names) and all(len(s.encode()) <= 200 for s in stems)
    students = {json.loads(p.read_text())["student"] for p in out.glob("*.json")
                if not p.name.endswith(".gradescope.json")}
    assert students == set(names)
    assert len(list(out.glob("*.gradescope.json"))) == len(names)
    not_graded = dict(summary.not_graded)
    assert set(not_graded) == {".hidden", "notes.txt"} and all(not_graded.values())
    rows = list(csv.DictReader(io.StringIO((out / "gradebook.csv").read_text())))
    by_name = {r["student"]: r for r in rows}
    assert set(by_name) == {*names, ".hidden", "notes.txt"}
    assert by_name["notes.txt"]["status"] == "not graded" and by_name["notes.txt"]["reason"]
    assert by_name["x.gradescope"]["status"] == "incomplete"


def test_same_student_twice_is_listed_not_fatal(course: Course, tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    make_submission(subs / "kim", replace={"activations": "import numpy as np\n"})
    make_submission(subs / "lee", replace={"activations": "import numpy as np\n"})
    shutil.make_archive(str(subs / "kim"), "zip", subs / "kim")
    summary = grade_batch(course, subs, tmp_path / "out", BatchOptions(jobs=1))
    assert summary.graded == ["lee"]
    assert {name for name, _ in summary.not_graded} == {"kim", "kim.zip"}


def test_grade_cli_prints_the_not_graded_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    subs = tmp_path / "subs"
    (subs / ".git").mkdir(parents=True)
    code = main(["grade", str(subs), "--out", str(tmp_path / "out"), "-q", "--course", str(ROOT / "course.yml")])
    assert code == 0
    main(["grade", str(subs), "--out", str(tmp_path / "out"), "--course", str(ROOT / "course.yml")])
    printed = capsys.readouterr().out
    assert "not graded" in printed and ".git" in printed
