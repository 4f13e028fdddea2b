"""The grader's exception hierarchy: one base class, one subclass per source of trouble.

Each error's message already names where the problem is (file, line, field), so the CLI can print it as
is, without a traceback.
"""
from __future__ import annotations


class GraderError(Exception):
    """Base of every error the grader raises on purpose."""


class CourseError(GraderError):
    """course.yml is malformed: the message names the file, the line and the field."""


class SubmissionError(GraderError):
    """The submission as a whole cannot be graded (missing folder, unsafe content)."""


class ProtocolError(GraderError):
    """The sandboxed child sent something that is not a well-formed reply."""
