"""References computed in a process of their own, exercise by exercise, while the parent grades.

A cold whole-course check needs torch's import and every twin's run (about 2.5 s of CPU). In a thread
of the grading process they competed for the interpreter lock with the lanes' comparisons and took
3.7 s; in a process of their own they run beside them. The parent starts this module's
:func:`main` in a new interpreter, writes the course, seed, device and exercise ids to its stdin (never on the
command line or in the environment: the seed may be secret), and reads one pickled ``(id, values)`` per
exercise from its stdout as each is done; ``("error", id, why)`` ends the stream, and the parent then
computes what is missing itself (where the error is raised as usual). The worker is a trusted process:
it runs no learner code and, like the parent, is not dumpable.
"""
from __future__ import annotations

import os
import pickle
import sys
from typing import Any

from .refprocess import ERROR


def main() -> int:
    from ..sandbox.runner import make_private

    make_private()  # the references (and the seed) unreadable to other processes of this user
    frames = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a twin that prints writes to stderr, never into the frames
    sys.stdout = sys.stderr
    course, seed, device, ids = pickle.load(sys.stdin.buffer)
    from .expected import compute_references

    for ex_id in ids:
        try:
            values: Any = compute_references(course, seed, device, [ex_id])
        except Exception as e:  # noqa: BLE001 - the parent computes this exercise itself and reports it
            pickle.dump((ERROR, ex_id, f"{type(e).__name__}: {e}"), frames)
            frames.flush()
            return 1
        try:
            pickle.dump((ex_id, values), frames, protocol=pickle.HIGHEST_PROTOCOL)
            frames.flush()
        except BrokenPipeError:  # the parent is gone
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
