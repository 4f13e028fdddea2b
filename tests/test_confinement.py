"""Confinement fails closed and holds: the attacks of issue 10 that reached a pass, a write outside
scratch, a leftover resource or a signal to the grader, each graded in whatever tier this machine gives
(CI runs this file as root (C), as an unprivileged user (B), and as that user with unshare refused (A)).

Each test plants hostile code in ``activations.Sigmoid`` and grades it with three neighbours; the
planted exercise must not pass, the neighbours must, and nothing may be left behind.
"""
from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from grader.engine.grading import Options, grade
from grader.model.course import Course
from grader.model.results import ERROR, FAIL, PASS, SubmissionResult

from .conftest import ROOT, make_submission
from .test_hostile import (
    NEIGHBOURS,
    SIGMOID,
    _landlock,
    assert_only_these_fail,
    by_id,
    sigmoid,
)

FAIL_AT = "GRADER_SANDBOX_FAIL_AT"


def graded(course: Course, sub: Path) -> SubmissionResult:
    result = grade(course, sub, Options(exercises=[SIGMOID, *NEIGHBOURS], lanes=1))
    assert os.getpid() > 0  # still alive: no signal reached the grader
    return result


def first_message(result: SubmissionResult, ex_id: str = SIGMOID) -> str:
    e = by_id(result)[ex_id]
    return next(c.message for check in e.checks for c in check.cases if not c.passed)


_TIER: list[str] = []


def tier(fast_course: Course, tmp_path: Path) -> str:
    """The tier this machine gives (graded once per session)."""
    if not _TIER:
        _TIER.append(graded(fast_course, make_submission(tmp_path / "probe")).isolation)
    return _TIER[0]


# --------------------------------------------------------------------------- all or nothing


STEPS_C = ["make mounts private", "mask ", "read-only root", "scratch /tmp", "copy the submission", "drop root",
           "no new privileges", "landlock", "seccomp"]
STEPS_B = ["make mounts private", "mask ", "read-only root", "scratch /tmp", "copy the submission", "lock masks",
           "cap processes", "no new privileges", "landlock", "seccomp"]
STEPS_A = ["no new privileges", "landlock", "seccomp"]


@pytest.mark.parametrize("step", sorted(set(STEPS_C + STEPS_B + STEPS_A)))
def test_a_failed_confinement_step_runs_no_learner_code(fast_course: Course, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    """Inject the failure of each step: every exercise is an error naming the step, and the learner's
    module (which prints at import) never ran: no output, no pass."""
    isolation = tier(fast_course, tmp_path)
    steps = {"C": STEPS_C, "B": STEPS_B, "A": STEPS_A}[isolation]
    if step not in steps:
        pytest.skip(f"not a step of tier {isolation}")
    if step.startswith("landlock") and not _landlock():
        pytest.skip("this kernel has no Landlock")
    sub = make_submission(tmp_path / "sub", append={"activations": "print('LEARNER CODE RAN')\n"})
    monkeypatch.setenv(FAIL_AT, step)
    result = graded(fast_course, sub)
    for e in result.exercises:
        assert e.status == ERROR and e.points == 0, (e.id, e.status)
        assert "LEARNER CODE RAN" not in e.output
        assert e.output == ""
    message = first_message(result)
    assert message.startswith(f"the sandbox could not be set up: {step}"), message
    assert message.endswith("injected failure; no learner code was run"), message


def test_a_refused_first_step_is_tier_a_not_an_error(fast_course: Course, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing has changed before the first namespace: refusing it gives an honest tier A (never root)."""
    monkeypatch.setenv(FAIL_AT, "unshare")
    sub = make_submission(tmp_path / "sub", append={"activations": sigmoid(
        "if os.geteuid() == 0:\n    raise RuntimeError('running as root')\nreturn self.y\n", "import os\n")})
    result = graded(fast_course, sub)
    assert result.isolation == "A"
    assert all(e.status == PASS for e in result.exercises), [(e.id, e.reason) for e in result.exercises]


# --------------------------------------------------------------------------- the attacks


def test_torch_ban_holds_without_the_import_hook(fast_course: Course, tmp_path: Path) -> None:
    """Remove the import hook, import torch by a computed name, compute the sigmoid with it: no pass."""
    code = sigmoid("""\
        import sys, importlib
        sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "_Banned"]
        t = importlib.import_module("to" + "rch")
        return t.sigmoid(t.from_numpy(x)).numpy()
        """)
    result = graded(fast_course, make_submission(tmp_path / "sub", append={"activations": code}))
    assert_only_these_fail(result, {SIGMOID}, {SIGMOID, *NEIGHBOURS})
    assert by_id(result)[SIGMOID].points == 0
    if result.isolation in ("B", "C") or _landlock():
        # masked: no such module, an unreadable folder, or an empty namespace package
        assert any(m in first_message(result) for m in ("ModuleNotFoundError: No module named 'torch'",
                                                          "PermissionError", "module 'torch' has no attribute")), \
            first_message(result)


def test_no_write_outside_scratch(fast_course: Course, tmp_path: Path) -> None:
    """The grader's own code, a classmate's result and a world-writable folder of the grading user:
    none can be written (read-only root in B and C, Landlock in every tier that has it)."""
    victim_dir = tmp_path / "results"
    victim_dir.mkdir()
    os.chmod(victim_dir, 0o777)
    classmate = victim_dir / "alice.json"
    classmate.write_text('{"points": 186}')
    os.chmod(classmate, 0o666)
    grader_file = ROOT / "grader" / "judge" / "compare.py"
    before = grader_file.read_bytes()
    home = Path.home() / f"pwned-{os.getpid()}"
    attempts = [f"open({str(classmate)!r}, 'w').write('0')", f"open({str(victim_dir / 'friend.json')!r}, 'w')",
                f"open({str(grader_file)!r}, 'a').write('# pwned')", f"open({str(home)!r}, 'w')"]
    body = "written = []\n"
    for attempt in attempts:
        body += f"try:\n    {attempt}\n    written.append({attempt!r})\nexcept OSError:\n    pass\n"
    # private scratch (B, C) may be written but must not outlive the child; in A it is refused
    lock = Path(f"/run/lock/pwned-{os.getpid()}")
    body += f"try:\n    open({str(lock)!r}, 'w')\nexcept OSError:\n    pass\n"
    body += "if written:\n    raise RuntimeError('WROTE ' + repr(written))\nreturn self.y\n"
    result = graded(fast_course, make_submission(tmp_path / "sub", append={"activations": sigmoid(body, "import os\n")}))
    assert grader_file.read_bytes() == before
    assert classmate.read_text() == '{"points": 186}'
    assert sorted(p.name for p in victim_dir.iterdir()) == ["alice.json"]
    assert not home.exists()
    assert not lock.exists()
    if result.isolation == "A" and not _landlock():
        pytest.skip("tier A without Landlock cannot keep the grading user's files")
    assert all(e.status == PASS for e in result.exercises), first_message(result)


def test_kill_everything_does_not_reach_the_grader(fast_course: Course, tmp_path: Path) -> None:
    """kill(-1, SIGKILL) and a kill of the grader's own pid: refused (seccomp, Landlock signal scope,
    another uid or PID namespace); the grader lives on and the exercise errors."""
    me = os.getpid()
    code = sigmoid(f"import os, signal\nos.kill(-1, signal.SIGKILL)\nos.kill({me}, signal.SIGKILL)\nreturn self.y\n")
    result = graded(fast_course, make_submission(tmp_path / "sub", append={"activations": code}))
    assert_only_these_fail(result, {SIGMOID}, {SIGMOID, *NEIGHBOURS})
    assert by_id(result)[SIGMOID].status == ERROR
    assert "PermissionError" in first_message(result) or "ProcessLookupError" in first_message(result)


def _sysv_segments() -> int:
    try:
        return len(Path("/proc/sysvipc/shm").read_text().splitlines()) - 1
    except OSError:
        return 0


def test_system_v_shared_memory_is_refused(fast_course: Course, tmp_path: Path) -> None:
    """Segments outlive their process: the learner must not be able to make one (IPC namespace in B and
    C, seccomp in every tier)."""
    before = _sysv_segments()
    code = sigmoid("""\
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        for _ in range(8):
            if libc.shmget(0, 64 << 20, 0o1600) < 0:  # IPC_PRIVATE, IPC_CREAT | 0600
                raise OSError(ctypes.get_errno(), "shmget refused")
        return self.y
        """)
    result = graded(fast_course, make_submission(tmp_path / "sub", append={"activations": code}))
    assert _sysv_segments() == before
    assert by_id(result)[SIGMOID].status != PASS
    assert "shmget refused" in first_message(result)


def test_leaving_the_process_group_is_refused(fast_course: Course, tmp_path: Path) -> None:
    code = sigmoid("import os\nos.setsid()\nreturn self.y\n")
    result = graded(fast_course, make_submission(tmp_path / "sub", append={"activations": code}))
    assert by_id(result)[SIGMOID].status == ERROR
    assert "PermissionError: [Errno 1] Operation not permitted" in first_message(result)


def test_new_namespaces_are_refused(fast_course: Course, tmp_path: Path) -> None:
    code = sigmoid("""\
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(0x10000000) != 0:  # CLONE_NEWUSER
            raise PermissionError(ctypes.get_errno(), "unshare refused")
        return self.y
        """)
    result = graded(fast_course, make_submission(tmp_path / "sub", append={"activations": code}))
    assert by_id(result)[SIGMOID].status == ERROR
    assert "PermissionError" in first_message(result)


def test_proc_of_the_grader_is_not_readable(fast_course: Course, tmp_path: Path) -> None:
    """The grader's command line (where a seed could be) is out of reach with Landlock."""
    if not _landlock():
        pytest.skip("without Landlock /proc stays readable; the seed never is on the command line")
    code = sigmoid(f"open('/proc/{os.getpid()}/cmdline').read()\nreturn self.y\n")
    result = graded(fast_course, make_submission(tmp_path / "sub", append={"activations": code}))
    assert by_id(result)[SIGMOID].status == ERROR
    assert "PermissionError" in first_message(result)


# --------------------------------------------------------------------------- budgets and honesty


def test_cpu_budget_is_per_exercise(course: Course, tmp_path: Path) -> None:
    """Four exercises that each burn 1.2 s of CPU under a 2 s CPU limit: each has its own budget, so none
    is killed (one budget for the whole child killed the third)."""
    import dataclasses

    from grader.model.course import Limits

    tight = dataclasses.replace(course, limits=Limits(timeout_s=20.0, memory_mb=1024, cpu_s=2))
    burn = textwrap.dedent("""\
        import time as _time
        _BURNT = set()
        def _burn(key):
            if key not in _BURNT:
                _BURNT.add(key)
                end = _time.process_time() + 1.2
                while _time.process_time() < end:
                    pass
        """)
    code = burn
    for name in ("Sigmoid", "Tanh", "HardTanh", "ReLU"):
        code += f"\n_{name} = {name}\nclass {name}(_{name}):\n    def forward(self, x):\n" \
                f"        _burn({name!r})\n        return super().forward(x)\n"
    result = grade(tight, make_submission(tmp_path / "sub", append={"activations": code}),
                   Options(exercises=["1.1", "1.2", "1.3", "1.4"], lanes=1))
    assert [(e.id, e.status) for e in result.exercises] == [(i, PASS) for i in ("1.1", "1.2", "1.3", "1.4")], \
        [e.reason for e in result.exercises]


FD_BACKWARD = """\
    def backward(self, dout):
        x = self.x
        dx = np.empty_like(x)
        h = 1e-6
        for i in np.ndindex(x.shape):
            xp, xm = x.copy(), x.copy()
            xp[i] += h
            xm[i] -= h
            dx[i] = (self.forward(xp)[i] - self.forward(xm)[i]) / (2 * h)
        self.forward(x)
        return dout * dx
"""


def test_backward_by_finite_differences_is_flagged(fast_course: Course, tmp_path: Path) -> None:
    code = ("class Sigmoid:\n    def __init__(self):\n        self.params, self.grads = [], []\n"
            "    def forward(self, x):\n        self.x = x\n        return 0.5 * (1.0 + np.tanh(0.5 * x))\n"
            + textwrap.indent(textwrap.dedent(FD_BACKWARD), "    "))
    result = graded(fast_course, make_submission(tmp_path / "sub", append={"activations": code}))
    e = by_id(result)[SIGMOID]
    assert e.status != PASS
    grads = [c for check in e.checks for c in check.cases if c.name.endswith("· dx") or check.name == "gradcheck"]
    assert grads and all(c.status == FAIL for c in grads), [(c.name, c.status) for c in grads]
    assert any("backward calls forward" in c.message and "gradients must be derived, not estimated" in c.message
               for c in grads)
    gradcheck = next(c for c in e.checks if c.name == "gradcheck")
    assert gradcheck.score == 0


def test_backward_that_recomputes_forward_once_is_fine(fast_course: Course, tmp_path: Path) -> None:
    code = ("class Sigmoid:\n    def __init__(self):\n        self.params, self.grads = [], []\n"
            "    def forward(self, x):\n        self.x = x\n        return 0.5 * (1.0 + np.tanh(0.5 * x))\n"
            "    def backward(self, dout):\n        y = self.forward(self.x)\n        return dout * y * (1.0 - y)\n")
    result = graded(fast_course, make_submission(tmp_path / "sub", append={"activations": code}))
    assert by_id(result)[SIGMOID].status == PASS, first_message(result)


def test_scratch_files_do_not_outlive_grading(fast_course: Course, tmp_path: Path) -> None:
    """What the learner writes in its working folder and /tmp is gone with the child."""
    name = f"scratch-{os.getpid()}"
    code = sigmoid(f"open('/tmp/{name}', 'w').write('x')\nopen('{name}', 'w').write('x')\nreturn self.y\n")
    result = graded(fast_course, make_submission(tmp_path / "sub", append={"activations": code}))
    assert not Path(f"/tmp/{name}").exists() or result.isolation == "A"
    assert not any(p.name == name for p in Path(tmp_path / "sub").iterdir())


def test_memory_is_capped_for_the_whole_process_tree(course: Course, tmp_path: Path) -> None:
    """Six forks each holding 300 MB, under a 1024 MB limit per child: the parent sums the session's
    resident memory and ends it, instead of letting 1.8 GB stand (RLIMIT_AS is per process)."""
    import dataclasses

    from grader.model.course import Limits

    roomy = dataclasses.replace(course, limits=Limits(timeout_s=20.0, memory_mb=1024, cpu_s=30))
    code = sigmoid("""\
        import os, time
        for _ in range(6):
            if os.fork() == 0:
                hog = np.ones(37_500_000)  # 300 MB, written, so resident
                time.sleep(30)
                os._exit(0)
        time.sleep(30)
        return self.y
        """)
    result = graded(roomy, make_submission(tmp_path / "sub", append={"activations": code}))
    assert_only_these_fail(result, {SIGMOID}, {SIGMOID, *NEIGHBOURS})
    message = first_message(result)
    assert "processes held" in message and "more than the 1024 MB allowed" in message, message
    assert by_id(result)[SIGMOID].duration_s < 15


def test_a_course_may_allow_estimated_gradients(tmp_path: Path) -> None:
    """``forward_calls_in_backward`` (course-wide, or per exercise) lifts the flag, e.g. for an exercise
    whose point is the numerical gradient."""
    from grader.coursefile import load_course

    text = (ROOT / "course.yml").read_text().replace("hide: [solutions, tests]", "hide: []")
    (tmp_path / "course.yml").write_text(text.replace("version: 1\n", "version: 1\nforward_calls_in_backward: 1000\n", 1))
    lenient = load_course(tmp_path / "course.yml")
    assert lenient.exercise(SIGMOID).forward_calls_in_backward == 1000
    code = ("class Sigmoid:\n    def __init__(self):\n        self.params, self.grads = [], []\n"
            "    def forward(self, x):\n        self.x = x\n        return 0.5 * (1.0 + np.tanh(0.5 * x))\n"
            + textwrap.indent(textwrap.dedent(FD_BACKWARD), "    "))
    result = grade(lenient, make_submission(tmp_path / "sub", append={"activations": code}),
                   Options(exercises=[SIGMOID], lanes=1))
    messages = [c.message for e in result.exercises for check in e.checks for c in check.cases]
    assert not any("backward calls forward" in m for m in messages)
    (tmp_path / "course.yml").write_text(text.replace("version: 1\n", "version: 1\nforward_calls_in_backward: -1\n", 1))
    from grader.model.errors import CourseError

    with pytest.raises(CourseError, match="forward_calls_in_backward"):
        load_course(tmp_path / "course.yml")
