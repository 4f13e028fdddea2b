"""The untrusted side: a child process that imports the learner's modules and runs call plans.

It is started as a script (``python -I sandbox.py CONFIG``), never imported by the parent's grading
code, and imports only the standard library, numpy and :mod:`grader.protocol` (loaded by file path, so
the grader package, the references and torch stay out of reach). Before any learner code runs it
limits its own resources, hides the course's secret folders where the OS allows it, and drops
privileges when it runs as root. It receives input arrays and returns raw output arrays: it never sees
a reference value, a solution or the grading seed, and it decides nothing about scores.
"""
from __future__ import annotations

import ctypes
import importlib
import importlib.util
import json
import os
import resource
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("_grader_protocol", _HERE / "protocol.py")
protocol = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(protocol)  # type: ignore[union-attr]

import numpy as np  # noqa: E402  (after the protocol, which needs it anyway)

PRELOAD = (
    "numpy.random", "numpy.linalg", "numpy.fft", "numpy.lib.stride_tricks", "numpy.testing",
    "math", "cmath", "random", "functools", "itertools", "collections", "operator", "copy", "typing",
    "dataclasses", "abc", "enum", "numbers", "statistics", "time", "re", "string", "json", "warnings",
)
"""Modules a learner may import. They are imported before confinement because the Python installation
may not be readable once the child runs as an unprivileged user (e.g. under a 0700 /root)."""

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET, CLONE_NEWPID = 0x00020000, 0x10000000, 0x40000000, 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REC, MS_PRIVATE = 1, 2, 4, 0x4000, 0x40000
UID_BASE = 100_000
"""Tier C runs each child as its own user, UID_BASE + its pid: unique among live processes, so children
graded side by side cannot signal or trace each other, RLIMIT_NPROC counts exactly this child's
processes, and the parent can kill every process the child left behind (setsid'd grandchildren too)."""
MAX_PROCESSES = 16
PR_SET_PDEATHSIG, PR_SET_DUMPABLE = 1, 4


# --------------------------------------------------------------------------- confinement


def _limit(resource_id: int, value: int) -> None:
    soft, hard = resource.getrlimit(resource_id)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(resource_id, (value, value))


def apply_limits(limits: dict[str, Any]) -> None:
    """rlimits on memory, CPU time, file size and core dumps; a too-large write fails instead of killing."""
    _limit(resource.RLIMIT_AS, int(limits["memory_mb"]) * 1024 * 1024)
    _limit(resource.RLIMIT_CPU, int(limits["cpu_s"]))
    _limit(resource.RLIMIT_FSIZE, int(limits["file_mb"]) * 1024 * 1024)
    _limit(resource.RLIMIT_CORE, 0)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    return libc


def _check(ret: int, what: str) -> None:
    if ret != 0:
        raise OSError(ctypes.get_errno(), f"{what}: {os.strerror(ctypes.get_errno())}")


def _mask(libc: ctypes.CDLL, paths: list[str]) -> None:
    _check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "make mounts private")
    for p in paths:
        if os.path.isdir(p):
            opts = b"size=4k,mode=000"
            _check(libc.mount(b"tmpfs", p.encode(), b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, opts), f"mask {p}")


SCRATCH = ("/tmp", "/var/tmp", "/dev/shm")
SCRATCH_MB = 64


def _private_scratch(libc: ctypes.CDLL, workdir: str) -> None:
    """Replace the world-writable folders by small private tmpfs mounts (a learner cannot fill the disk),
    carrying the working folder's files over when it lives in one of them."""
    saved = {}
    for path in Path(workdir).rglob("*"):
        if path.is_file():
            saved[path] = path.read_bytes()
    for d in SCRATCH:
        if os.path.isdir(d) and not os.path.islink(d):
            opts = f"size={SCRATCH_MB}m,mode=1777".encode()
            _check(libc.mount(b"tmpfs", d.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, opts), f"scratch {d}")
    os.makedirs(workdir, mode=0o777, exist_ok=True)
    for path, data in saved.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def confine(hide: list[str], workdir: str) -> tuple[str, bool]:
    """Hide the secret folders and cut the network; return the isolation tier reached, and whether
    the next process forked starts a new PID namespace.

    "C": root dropped to an unprivileged user after masking (it cannot undo the masks);
    "B": an unprivileged user namespace, masks locked by a second namespace, its processes counted and
    capped in that namespace, and (where the kernel allows) a new PID namespace (:func:`_pid_one`);
    "A": neither is possible here, so only the rlimits and the process session confine the child.
    """
    try:
        libc = _libc()
        if os.geteuid() == 0:
            _check(libc.unshare(CLONE_NEWNS | CLONE_NEWNET), "unshare")
            _mask(libc, hide)
            _private_scratch(libc, workdir)
            os.chmod(workdir, 0o777)
            uid = UID_BASE + os.getpid()
            _limit(resource.RLIMIT_NPROC, MAX_PROCESSES)  # counted per user: this child's own processes
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            return "C", False
        uid, gid = os.getuid(), os.getgid()
        _check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET), "unshare")
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
        Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
        _mask(libc, hide)
        _private_scratch(libc, workdir)
        # Mounts made in a namespace we own could be unmounted again; inherited into a new, less
        # privileged user namespace they are locked.
        _check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS), "lock masks")
        _limit(resource.RLIMIT_NPROC, MAX_PROCESSES)  # counted per user namespace: a fork bomb stops here
        return "B", libc.unshare(CLONE_NEWPID) == 0
    except (OSError, AttributeError):
        return "A", False


# --------------------------------------------------------------------------- running call plans


class StepError(Exception):
    """A learner's call failed; carries the details the parent will report."""

    def __init__(self, info: dict[str, Any]):
        super().__init__(info.get("message", ""))
        self.info = info


def _where(tb: Any, root: str) -> str:
    """``file.py:LINE in func`` of the innermost traceback frame inside the submission."""
    where = ""
    for frame in traceback.extract_tb(tb):
        if frame.filename.startswith(root):
            where = f"{os.path.relpath(frame.filename, root)}:{frame.lineno} in {frame.name}"
    return where


def describe(exc: BaseException, root: str) -> dict[str, Any]:
    if isinstance(exc, SyntaxError) and exc.filename and exc.filename.startswith(root):
        where = f"{os.path.relpath(exc.filename, root)}:{exc.lineno}"
        message = f"SyntaxError: {exc.msg}"
    else:
        where = _where(exc.__traceback__, root)
        text = str(exc)[:500]
        message = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    student_frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(root)]
    tb_text = "".join(traceback.format_list(student_frames))[-2000:].replace(root + os.sep, "")
    return {
        "type": type(exc).__name__,
        "message": message,
        "where": where,
        "traceback": tb_text,
        "not_implemented": isinstance(exc, NotImplementedError),
    }


def resolve(target: str, root: str) -> Any:
    module_name, _, name = target.rpartition(".")
    if not os.path.exists(os.path.join(root, module_name + ".py")):
        raise StepError({"type": "MissingModule", "message": f"{module_name}.py is not in the submission",
                         "where": "", "traceback": "", "not_implemented": False})
    module = importlib.import_module(module_name)
    if not hasattr(module, name):
        raise StepError({"type": "MissingName", "message": f"{module_name}.py defines no {name}",
                         "where": f"{module_name}.py", "traceback": "", "not_implemented": False})
    return getattr(module, name)


Encoded = tuple[dict[str, Any], list[np.ndarray]]
"""A value as :func:`encode` turns it into a header and plain arrays (copies: a snapshot)."""


def encode(value: Any) -> Encoded:
    """Turn a learner's return value into plain arrays, recording its Python type for messages."""
    type_name = type(value).__module__ + "." + type(value).__qualname__
    if value is None:
        return {"kind": "none", "type": "None"}, []
    if isinstance(value, _Missing):
        return {"kind": "missing", "type": "missing"}, []
    if isinstance(value, np.ndarray):
        return {"kind": "array", "type": type_name}, [np.ndarray.copy(np.ndarray.view(value, np.ndarray))]
    if isinstance(value, (bool, int, float, np.generic)):
        return {"kind": "scalar", "type": type_name}, [np.asarray(value)]
    if isinstance(value, (list, tuple)):
        arrays, items = [], []
        for item in value:
            head, arr = encode(item)
            if head["kind"] not in ("array", "scalar"):
                return {"kind": "other", "type": f"{type_name} containing {head['type']}"}, []
            arrays += arr
            items.append(head)
        return {"kind": "list", "type": type_name, "items": items}, arrays
    return {"kind": "other", "type": type_name}, []


def _execute(step: dict[str, Any], index: int, args: list[Any], kwargs: dict[str, Any],
             objects: dict[int, Any], env: dict[str, Any], root: str) -> Any:
    """One step of a call plan; a ``new`` step stores its instance under its own index."""
    op = step["op"]
    if op == "new":
        objects[index] = resolve(step["target"], root)(*args, **kwargs)
        return None
    if op == "func":
        return resolve(step["target"], root)(*args, **kwargs)
    if op == "collect":
        return _collect(resolve(step["target"], root)(*args, **kwargs), int(step.get("limit", 10_000)))
    if op == "call":
        return getattr(objects[step["obj"]], step["method"])(*args, **kwargs)
    if op == "attr":
        return getattr(objects[step["obj"]], step["name"])
    if op == "ids":
        return np.array([id(v) for v in getattr(objects[step["obj"]], step["name"])], dtype=np.int64)
    if op == "var":
        return env[step["name"]]
    if op == "lookup":
        return _lookup(objects[step["obj"]], step["path"])
    raise ValueError(f"unknown op {op!r}")


def _collect(iterable: Any, limit: int) -> list[Any]:
    """Drain a generator of tuples into one flat list (X0, y0, X1, y1, ...), at most ``limit`` items."""
    flat: list[Any] = []
    for n, item in enumerate(iterable):
        if n >= limit:
            raise RuntimeError(f"the iterator yielded more than {limit} items")
        flat += list(item) if isinstance(item, (tuple, list)) else [item]
    return flat


class _Missing:
    """What a ``lookup`` finds where the learner's object has nothing (reported, not raised)."""


def _lookup(obj: Any, path: list[Any]) -> Any:
    """``obj.path[0][path[1]][path[2]]...``, or a _Missing marker: the optimizer's ``state[i][name]``."""
    try:
        value = getattr(obj, path[0])
        for key in path[1:]:
            value = value[key]
        return value
    except (AttributeError, LookupError, TypeError):
        return _Missing()


def _only_the_original(pid: int) -> None:
    """A copy made by os.fork() in learner code must never answer the parent: it ends here."""
    if os.getpid() != pid:
        os._exit(0)


class _Loop:
    """The result of a ``loop`` step: per body step, its encoded values over the iterations that
    completed, and the learner's exception that stopped it, if any."""

    def __init__(self, columns: list[list[Encoded]], done: int, error: dict[str, Any] | None):
        self.columns, self.done, self.error = columns, done, error


def _stacked(column: list[Encoded]) -> Encoded | None:
    """One (iterations, ...) array for a column of same-typed, same-shaped arrays or scalars, else None.

    One frame instead of one per iteration: a 50-step optimizer trajectory sent step by step spent most
    of its time framing and parsing small arrays."""
    head, first = column[0][0], column[0][1]
    if head["kind"] not in ("array", "scalar"):
        return None
    for h, arr in column:
        if h != head or arr[0].shape != first[0].shape or arr[0].dtype != first[0].dtype:
            return None
    return {"kind": "stacked", "type": head["type"]}, [np.stack([arr[0] for _, arr in column])]


def _encode_loop(loop: _Loop) -> Encoded:
    columns, out = [], []
    for column in loop.columns:
        stacked = _stacked(column) if column else None
        if stacked is None:  # kept per iteration: the parent reports the first odd one
            columns.append({"kind": "steps", "type": "steps", "items": [head for head, _ in column]})
            out += [a for _, arr in column for a in arr]
        else:
            columns.append(stacked[0])
            out += stacked[1]
    return {"kind": "loop", "type": "loop", "done": loop.done, "columns": columns}, out


def run_plan(header: dict[str, Any], arrays: list[Any], root: str) -> tuple[dict[str, Any], list[Any]]:
    """Execute the steps of one call plan; stop at the first failing step.

    A ``loop`` step runs its ``body`` steps ``times`` times (``$name#i`` is row i of an array at
    iteration i) and returns each body step's values stacked over the iterations."""
    env = dict(zip(header["vars"], arrays))
    objects: dict[int, Any] = {}
    # The stability check wants overflow and 0/0 to surface even when the final values look fine.
    fp = {"over": "raise", "divide": "raise", "invalid": "raise"} if header.get("fp_errors") == "raise" else {}

    def arg(a: Any, i: int | None = None) -> Any:
        """``$name`` is an array sent with the plan; ``$name#t`` a fresh copy of its row t (``#i``: the
        loop's iteration); lists nest; ``{"$rng": n}`` is a fresh ``numpy.random.Generator`` seeded
        with n (for initializers)."""
        if isinstance(a, list):
            return [arg(x, i) for x in a]
        if isinstance(a, dict) and set(a) == {"$rng"}:
            return np.random.default_rng(int(a["$rng"]))
        if isinstance(a, str) and a.startswith("$"):
            name, _, row = a[1:].partition("#")
            if not row:
                return env[name]
            return env[name][i if row == "i" else int(row)].copy()
        return a

    me = os.getpid()

    def execute(step: dict[str, Any], index: int, i: int | None = None) -> Any:
        args = [arg(a, i) for a in step.get("args", [])]
        kwargs = {k: arg(v, i) for k, v in step.get("kwargs", {}).items()}
        with np.errstate(**fp):
            value = _execute(step, index, args, kwargs, objects, env, root)
        _only_the_original(me)
        return value

    def loop(step: dict[str, Any], index: int) -> _Loop:
        body = step["body"]
        columns: list[list[Encoded]] = [[] for _ in body]
        for i in range(int(step["times"])):
            row = []
            for sub in body:
                try:
                    # encoded (copied) now: the learner updates its arrays in place at the next iteration
                    row.append(encode(execute(sub, index, i)))
                except StepError as e:
                    return _Loop(columns, i, e.info)
                except BaseException as e:  # noqa: BLE001
                    _only_the_original(me)
                    return _Loop(columns, i, describe(e, root))
            for column, value in zip(columns, row):
                column.append(value)
        return _Loop(columns, int(step["times"]), None)

    results, out = [], []
    for index, step in enumerate(header["steps"]):
        try:
            if step["op"] == "loop":
                value = loop(step, index)
                head, arr = _encode_loop(value)
                results.append(head)
                out += arr
                if value.error is not None:
                    return {"results": results, "error": value.error, "step": index}, out
                continue
            value = execute(step, index)
            head, arr = encode(value)
        except StepError as e:
            return {"results": results, "error": e.info, "step": index}, out
        except BaseException as e:  # noqa: BLE001 - SystemExit and friends are learner errors too
            _only_the_original(me)
            return {"results": results, "error": describe(e, root), "step": index}, out
        results.append(head)
        out += arr
    return {"results": results, "error": None, "step": None}, out


def _read(fd: int, unpacker: Any) -> Any:
    while True:
        msg = unpacker.message()
        if msg is not None:
            return msg
        data = os.read(fd, 1 << 20)
        if not data:
            return None
        unpacker.feed(data)


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def preload() -> None:
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass


class _Banned:
    """An import hook refusing the packages the parent names (grader.rules.BANNED, which it also flags
    from the source)."""

    def __init__(self, banned: list[str]):
        self.banned = frozenset(banned)

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.split(".")[0] in self.banned:
            raise ImportError(f"{name} is not available here: the exercises are written in numpy by hand")
        return None


def _die_with_parent(parent: int) -> None:
    """Be killed when the grader dies (set after the uid change, which clears it)."""
    try:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def _pid_one(parent: int, request_fd: int) -> None:
    """Tier B: fork the process that serves the parent as PID 1 of the new PID namespace, and stay
    behind as its reaper, running no learner code.

    When PID 1 ends, the kernel kills every process left in its namespace, setsid'd grandchildren too
    (tier C kills them by their unique uid; here all run as the grader's user). The parent's SIGKILL of
    the session reaches the reaper and PID 1; PID 1 also dies with the reaper (PDEATHSIG).
    """
    _die_with_parent(parent)
    pid = os.fork()
    if pid == 0:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        return
    # The reaper keeps its copy of the reply pipe: the parent then sees EOF only once the reaper has
    # ended as PID 1 did, and reports PID 1's exit code or signal rather than the SIGKILL it sends on EOF.
    os.close(request_fd)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    if os.WIFSIGNALED(status):  # end as PID 1 ended, so the parent reports its signal
        sig = os.WTERMSIG(status)
        if sig not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


def serve(config: dict[str, Any]) -> None:
    """Confine this process, greet the parent, then run call plans until the parent hangs up."""
    fd_in, fd_out, root = config["fd_in"], config["fd_out"], config["workdir"]
    parent = os.getppid()
    os.environ.update({"HOME": root, "TMPDIR": root})
    apply_limits(config["limits"])
    tier, pid_namespace = confine(config["hide"], root)
    if pid_namespace:
        _pid_one(parent, fd_in)
    else:
        _die_with_parent(parent)
    sys.meta_path.insert(0, _Banned(config.get("banned", [])))  # type: ignore[arg-type]
    os.chdir(root)
    sys.path.insert(0, root)
    sys.dont_write_bytecode = True
    _write(fd_out, protocol.pack({"hello": True, "tier": tier, "pid": os.getpid(), "uid": os.getuid()}, []))
    unpacker = protocol.Unpacker()
    while True:
        msg = _read(fd_in, unpacker)
        if msg is None:
            return
        reply, arrays = run_plan(msg[0], msg[1], root)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # output over the file-size limit: it is cut anyway
                pass
        _write(fd_out, protocol.pack(reply, arrays))


def zygote(sock_fd: int) -> None:
    """A warm fork server: numpy is imported once here, then each request forks a fresh child.

    A request is a JSON config with three file descriptors (the child's request pipe, result pipe and
    output file) passed over the Unix socket; the reply is the child's pid. ``wait PID`` reaps a child
    and answers its exit status. The zygote itself never runs learner code.
    """
    import socket

    try:
        ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # children of the same user cannot ptrace us
        # Die with the worker that started us; had it died already, the socket reads EOF below.
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    sock = socket.socket(fileno=sock_fd)
    buf = b""
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(sock, 1 << 16, 3)
        except OSError:
            return
        if not data:
            return
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.startswith(b"wait "):
                try:
                    _, status = os.waitpid(int(line[5:]), 0)
                    code = os.waitstatus_to_exitcode(status)
                except ChildProcessError:
                    code = -999
                sock.sendall(f"{code}\n".encode())
                continue
            config = json.loads(line)
            pid = os.fork()
            if pid == 0:
                try:
                    sock.close()
                    os.setsid()
                    fd_in, fd_out, fd_log = fds
                    os.dup2(fd_log, 1)
                    os.dup2(fd_log, 2)
                    low, high = sorted((fd_in, fd_out))  # keep only stdio and the two pipes
                    os.closerange(3, low)
                    os.closerange(low + 1, high)
                    os.closerange(high + 1, 65536)
                    # A forked child inherits the zygote's "not dumpable", which makes /proc/self root's:
                    # it could not write its uid_map, and tier B would silently fall to tier A.
                    # (execve resets the flag for a spawned child the same way.)
                    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
                    serve({**config, "fd_in": fd_in, "fd_out": fd_out})
                finally:
                    os._exit(0)
            for fd in fds:
                os.close(fd)
            sock.sendall(f"{pid}\n".encode())


def main() -> None:
    preload()
    if sys.argv[1] == "--zygote":
        zygote(int(sys.argv[2]))
    else:
        serve(json.loads(sys.argv[1]))


if __name__ == "__main__":
    main()
