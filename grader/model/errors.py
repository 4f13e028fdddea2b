"""The grader's exception hierarchy: one base class, one subclass per source of trouble.

Each error's message already names where the problem is (file, line, field), so the CLI can print it as
is, without a traceback; :func:`did_you_mean` is the nearest name such a message offers.
"""
from __future__ import annotations

import difflib


class GraderError(Exception):
    """Base of every error the grader raises on purpose."""


class CourseError(GraderError):
    """course.yml is malformed: the message names the file, the line and the field."""


class SubmissionError(GraderError):
    """The submission as a whole cannot be graded (missing folder, unsafe content)."""


class ProtocolError(GraderError):
    """The sandboxed child sent something that is not a well-formed reply."""


def did_you_mean(name: str, known: list[str]) -> str:
    """``; did you mean 'points'?`` for the nearest known name (case aside: Silu finds SiLU), else empty."""
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if not close:
        lowered = {k.lower(): k for k in known}
        close = [lowered[c] for c in difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)]
    return f"; did you mean {close[0]!r}?" if close else ""
