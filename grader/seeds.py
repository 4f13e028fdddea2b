"""Where a grading seed comes from (--seed, the pipe of --seed-fd, $GRADER_SEED), and how it is kept out
of /proc: the command re-executes itself with the seed in an inherited pipe."""
from __future__ import annotations

import argparse
import os
import sys

from .model.errors import GraderError

SEED_FD_ENV = "GRADER_SEED_FD"


def hide_seed() -> None:
    """Re-exec this command with the seed of ``--seed VALUE`` or $GRADER_SEED moved into an inherited
    pipe (``--seed-fd N`` in place of ``--seed VALUE``, else $GRADER_SEED_FD), so that neither
    /proc/PID/cmdline nor /proc/PID/environ of the long-running grader holds it: both stay readable to
    other processes (environ keeps the exec-time block even after ``del os.environ[...]``)."""
    argv, value = sys.argv[1:], None
    rest: list[str | None] = []  # None: where the pipe's fd number goes
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            rest += argv[i:]
            break
        if a == "--seed" and i + 1 < len(argv):
            value, i = argv[i + 1], i + 2
        elif a.startswith("--seed="):
            value, i = a[len("--seed="):], i + 1
        else:
            rest.append(a)
            i += 1
            continue
        rest += ["--seed-fd", None]
    env = dict(os.environ)
    from_env = env.pop("GRADER_SEED", None)
    if value is None and from_env is None:
        return
    r, w = os.pipe()
    os.write(w, (value if value is not None else from_env or "").encode())  # a seed fits the pipe's buffer
    os.close(w)
    os.set_inheritable(r, True)
    if value is None:
        env[SEED_FD_ENV] = str(r)
    os.execve(sys.executable, [sys.executable, "-m", "grader", *(str(r) if a is None else a for a in rest)], env)


def parse_seed(text: str, where: str) -> int:
    """The seed written in ``text`` (from ``where``: --seed, $GRADER_SEED), or a GraderError naming it."""
    try:
        return int(text.strip())
    except ValueError:
        raise GraderError(f"{where} must be an integer, got {text.strip()!r}") from None


def _read_fd(fd: int) -> str:
    with os.fdopen(fd, "rb") as f:
        return f.read().decode()


def seed_of(args: argparse.Namespace) -> int | None:
    """--seed (passed through a pipe after the re-exec), else $GRADER_SEED, else None (the public seed).
    The seed is removed from this process's environment at once, before any worker or child starts."""
    fd_env = os.environ.pop(SEED_FD_ENV, None)
    env = os.environ.pop("GRADER_SEED", None)
    from_env = parse_seed(_read_fd(int(fd_env)), "GRADER_SEED") if fd_env else None
    if getattr(args, "seed_fd", None) is not None:
        return parse_seed(_read_fd(args.seed_fd), "--seed")
    if getattr(args, "seed", None) is not None:
        return int(args.seed)
    if from_env is not None:
        return from_env
    return None if env is None else parse_seed(env, "GRADER_SEED")
