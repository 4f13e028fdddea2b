"""The trusted side of the sandbox: start the child, send call plans, enforce time, read replies.

The child is a fresh ``python -I`` process in its own session, with a cleared environment, stdin from
/dev/null, stdout and stderr sent to a private file, and one pipe each way. Every call plan has a
wall-clock deadline; past it the child's whole session is killed with SIGKILL. A dead, hung or
garbling child is replaced by a fresh one for the next exercise, never reused.
"""
from __future__ import annotations

import ctypes
import fcntl
import functools
import importlib.util
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..model.course import Limits
from . import protocol
from .confinement import (
    FAIL_AT_ENV,  # tests only: the confinement step the child must fail
)
from .replies import ChildFailure, Reply, parse_reply
from .rules import BANNED

SANDBOX = Path(__file__).with_name("child.py")
PR_SET_DUMPABLE = 4


def make_private() -> None:
    """Keep other processes of this user (the child included) from reading this process's memory."""
    try:
        ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _child_env(workdir: str) -> dict[str, str]:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": workdir, "TMPDIR": workdir,
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # some CPUs need them for numpy to work at all
        if name in os.environ:
            env[name] = os.environ[name]
    return env


class Zygote:
    """A warm fork server for children: one ``python -I`` process that imported numpy once and forks a
    fresh, confined child per request (milliseconds instead of a new interpreter's ~0.1 s).

    It holds no secret and never runs learner code; children reach it only through their own pipes.
    """

    def __init__(self) -> None:
        import socket

        self._sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-B", str(SANDBOX), "--zygote", str(theirs.fileno())],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(),), start_new_session=True, env=_child_env("/"), cwd="/",
        )
        theirs.close()
        self._buf = b""

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def _line(self, timeout: float) -> str:
        self._sock.settimeout(timeout)
        while b"\n" not in self._buf:
            data = self._sock.recv(4096)
            if not data:
                raise ChildFailure("error", "the fork server ended")
            self._buf += data
        line, self._buf = self._buf.split(b"\n", 1)
        return line.decode()

    def fork(self, config: dict[str, Any], fds: tuple[int, int, int]) -> int:
        import socket

        try:
            socket.send_fds(self._sock, [json.dumps(config).encode() + b"\n"], list(fds))
            return int(self._line(30.0))
        except (OSError, ValueError) as e:
            raise ChildFailure("error", f"the fork server failed ({e})") from None

    def wait(self, pid: int) -> int | None:
        try:
            self._sock.sendall(f"wait {pid}\n".encode())
            code = int(self._line(10.0))
        except (OSError, ValueError, ChildFailure):
            return None
        return None if code == -999 else code

    def close(self) -> None:
        self._sock.close()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()


class _Forked:
    """The Popen-like handle of a child forked by a zygote."""

    def __init__(self, zygote: Zygote, pid: int):
        self.zygote, self.pid = zygote, pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        if self.returncode is None:
            self.returncode = self.zygote.wait(self.pid)
            if self.returncode is None:
                self.returncode = -signal.SIGKILL
        return self.returncode


class Child:
    """One sandboxed child process running one submission's code (spawned, or forked by a zygote)."""

    def __init__(self, workdir: Path, limits: Limits, hide: list[Path], zygote: Zygote | None = None):
        self.limits = limits
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        self._log = tempfile.TemporaryFile()
        # Append-only for the child, so that output() can empty the file between exercises: otherwise the
        # output of every exercise adds up against the file-size limit (RLIMIT_FSIZE) and a chatty exercise
        # makes a later exercise's print fail.
        flags = fcntl.fcntl(self._log.fileno(), fcntl.F_GETFL)
        fcntl.fcntl(self._log.fileno(), fcntl.F_SETFL, flags | os.O_APPEND)
        config = {
            "fd_in": to_child_r, "fd_out": from_child_w, "workdir": str(workdir),
            "hide": [str(p) for p in hide],
            "banned": list(BANNED),
            "banned_dirs": banned_dirs(),
            "limits": {"memory_mb": limits.memory_mb, "cpu_s": limits.cpu_s, "file_mb": limits.file_mb},
        }
        if os.environ.get(FAIL_AT_ENV):  # tests: inject the failure of one confinement step
            config["fail_at"] = os.environ[FAIL_AT_ENV]
        try:
            if zygote is not None:
                pid = zygote.fork(config, (to_child_r, from_child_w, self._log.fileno()))
                self.proc: Any = _Forked(zygote, pid)
            else:
                self.proc = subprocess.Popen(
                    [sys.executable, "-I", "-B", str(SANDBOX), json.dumps(config)],
                    stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
                    pass_fds=(to_child_r, from_child_w), start_new_session=True,
                    env=_child_env(str(workdir)), cwd=workdir,
                )
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self._unpacker = protocol.Unpacker(finite=True)  # a reply has no business with NaN or Infinity
        self.tier = "?"
        self.uid: int | None = None
        """The child's own user id in tier C, for killing everything it started."""
        self._hello: float | None = None
        self.busy_s = 0.0
        """Wall time spent waiting on call plans: the learner's code plus the transfers."""
        self.guards: list[str] = []
        self._fresh_budget = True
        self._setup_failure: ChildFailure | None = None

    def ready(self, timeout: float = 30.0) -> str:
        """Wait for the child's greeting; return the isolation tier it reached.

        Raises:
            ChildFailure: the child could not confine itself (every later call raises the same)."""
        if self._setup_failure is not None:
            raise self._setup_failure
        if self._hello is None:
            header, _ = self._receive(time.monotonic() + timeout)
            if header.get("hello") is False and "setup_error" in header:
                self.kill()
                self._setup_failure = ChildFailure(
                    "error", f"the sandbox could not be set up: {str(header['setup_error'])[:500]}; "
                             "no learner code was run")
            if self._setup_failure is not None:
                raise self._setup_failure
            if not header.get("hello"):
                raise ChildFailure("error", "the sandbox sent no greeting")
            guards = header.get("guards")
            self.guards = [str(g)[:40] for g in guards][:8] if isinstance(guards, list) else []
            self.tier = str(header.get("tier", "A"))
            uid = header.get("uid")
            self.uid = uid if isinstance(uid, int) and uid >= 100_000 and self.tier == "C" else None
            self._hello = time.monotonic()
        return self.tier

    def _receive(self, deadline: float) -> tuple[dict[str, Any], list[np.ndarray]]:
        while True:
            try:
                msg = self._unpacker.message()
            except protocol.FrameError as e:
                self.kill()
                raise ChildFailure("error", f"the child sent a malformed reply ({e})") from None
            if msg is not None:
                return msg
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise ChildFailure("timeout", "")
            ready, _, _ = select.select([self._from_child], [], [], min(left, MEMORY_WATCH_S))
            if not ready:
                self._watch_memory()
                continue
            data = os.read(self._from_child, 1 << 20)
            if not data:
                code = self.kill()
                raise ChildFailure("error", f"the child process ended ({_describe_exit(code)})")
            try:
                self._unpacker.feed(data)
            except protocol.FrameError as e:
                self.kill()
                raise ChildFailure("error", f"the child sent a malformed reply ({e})") from None

    def _watch_memory(self) -> None:
        """The memory limit is per process (RLIMIT_AS); forks could hold it many times over. While a call
        runs long enough to matter, the parent sums the resident memory of the child's whole session
        (the learner cannot leave it: setsid is refused) and ends it past the limit."""
        held = session_rss(self.proc.pid)
        cap = self.limits.memory_mb * 1024 * 1024
        if held > cap:
            self.kill()
            raise ChildFailure("error", f"the learner's processes held {held >> 20} MB together, more than the "
                                        f"{self.limits.memory_mb} MB allowed (forked copies allocating?)")

    def _send(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise ChildFailure("timeout", "")
            _, ready, _ = select.select([], [self._to_child], [], left)
            if ready:
                try:
                    view = view[os.write(self._to_child, view[: 1 << 16]):]
                except BrokenPipeError:
                    code = self.kill()
                    raise ChildFailure("error", f"the child process ended ({_describe_exit(code)})") from None

    def new_exercise(self) -> None:
        """The next call plan starts an exercise: it gets a CPU budget of its own (limits.cpu_s)."""
        self._fresh_budget = True

    def run(self, steps: list[dict[str, Any]], variables: dict[str, np.ndarray],
            timeout: float | None = None, fp_errors: str = "default") -> Reply:
        """Send one call plan and wait for its reply.

        ``fp_errors="record"`` notes where numpy overflows, divides by zero or meets an invalid operation
        in the learner's code (reported in ``Reply.fp_warnings``; the computation goes on);
        ``"raise"`` makes them raise there instead.

        Raises:
            ChildFailure: on timeout (the child is killed), death or a malformed reply.
        """
        self.ready()
        start = time.monotonic()
        deadline = start + (timeout or self.limits.timeout_s)
        names = list(variables)
        try:
            header = {"steps": steps, "vars": names, "fp_errors": fp_errors, "cpu_budget": self._fresh_budget}
            self._fresh_budget = False
            self._send(protocol.pack(header, [variables[n] for n in names]), deadline)
            header, arrays = self._receive(deadline)
        finally:
            self.busy_s += time.monotonic() - start
        return parse_reply(header, arrays, len(steps))

    def output(self) -> str:
        """What the child printed since the last call, cut to the configured size."""
        self._log.seek(0)
        data = self._log.read()
        self._log.truncate(0)  # the child appends (O_APPEND), so it goes on writing at the new, empty end
        cap = self.limits.output_kb * 1024
        text = data[:cap].decode("utf-8", errors="replace")
        return text + (f"\n... ({len(data) - cap} more bytes cut)" if len(data) > cap else "")

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> int | None:
        """SIGKILL the child's whole session and, in tier C, every process of its user (a grandchild
        that left the session with setsid too); then reap it."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.uid is not None:
            kill_user(self.uid)
        try:
            return self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return None
        finally:
            if isinstance(self.proc, _Forked) and self.proc.returncode is None:
                self.proc.returncode = -signal.SIGKILL

    def close(self) -> None:
        self.kill()
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        self._log.close()


MEMORY_WATCH_S = 0.25
"""How often the parent sums the memory of a child's processes while a call runs."""
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def session_rss(sid: int) -> int:
    """Resident bytes of every process in session ``sid`` (Linux /proc; 0 where there is none)."""
    total = 0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 0
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # after the command name: state ppid pgrp session ... rss is the 22nd field from there
        if len(fields) > 21 and int(fields[3]) == sid:
            total += int(fields[21]) * _PAGE
    return total


@functools.lru_cache(maxsize=1)
def banned_dirs() -> list[str]:
    """Where the banned packages (torch & co.) are installed, found without importing them: the child
    masks these folders (tiers B, C) and leaves them out of what it may read (Landlock)."""
    found = []
    for name in BANNED:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        for location in (spec.submodule_search_locations or []) if spec else []:
            found.append(os.path.realpath(location))
            libs = os.path.realpath(location) + ".libs"  # vendored shared libraries (scipy.libs, ...)
            if os.path.isdir(libs):
                found.append(libs)
    return found


def kill_user(uid: int) -> None:
    """SIGKILL every process of one (child's own, unprivileged) user: kill(-1) from a process of that uid."""
    pid = os.fork()
    if pid == 0:  # only async-signal-safe calls here: this process may have threads (torch)
        try:
            os.setresuid(uid, uid, uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "it could not be stopped"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        extra = {"SIGKILL": ": killed, out of memory or CPU time?", "SIGXCPU": ": CPU time limit",
                 "SIGSEGV": ": segmentation fault"}.get(name, "")
        return f"{name}{extra}"
    return f"exit code {code}: sys.exit or os._exit called?"
