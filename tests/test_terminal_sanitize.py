"""Learner text cannot drive the terminal: control characters from the child (ESC sequences, \\r,
backspace, bells, C1 controls, bidi overrides) are shown as escapes, and ``[bold red]`` stays text."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from grader.backs import html, terminal
from grader.backs.gradescope import gradescope_results
from grader.backs.text import safe
from grader.model.course import Course
from grader.model.results import (
    AssignmentResult,
    CaseResult,
    CheckResult,
    ExerciseResult,
    SubmissionResult,
)

from .conftest import make_submission, run_grade

HOSTILE = ("clear\x1b[2J title\x1b]0;pwned\x07 clip\x1b]52;c;cm0gLXJmIH4=\x07 cr\rfake pass back\x08\x08 "
           "bell\x07 csi\x9b31m rtl\u202eevil [bold red]markup[/bold red] :smile:\n\tindented")
RAW = ("\x1b", "\x07", "\r", "\x08", "\x9b", "\u202e")


def _result(text: str) -> SubmissionResult:
    case = CaseResult("case 0 · out", "error", f"forward: ValueError: {text}", {"quantity": "out"})
    return SubmissionResult("sub", "course", "d", "public", "cpu", "B", "0", [AssignmentResult("A1", "t", [
        ExerciseResult("1.1", "Sigmoid", "activations.Sigmoid", 2, [CheckResult("reference", 1, [case])],
                       output=text)])])


def _terminal(result: SubmissionResult, color: bool) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=200, force_terminal=color, color_system="truecolor" if color else None)
    terminal.render(result, console)
    return buf.getvalue()


def test_safe_escapes_controls_and_keeps_newlines_and_tabs() -> None:
    out = safe(HOSTILE)
    assert not any(c in out for c in RAW)
    assert "\\x1b[2J" in out and "\\x1b]52;c;" in out and "\\x0d" in out and "\\u202e" in out and "\\x9b" in out
    assert "\n\tindented" in out


@pytest.mark.parametrize("color", [False, True])
def test_terminal_shows_learner_text_inert(color: bool) -> None:
    out = _terminal(_result(HOSTILE), color)
    assert not any(c in out for c in RAW[1:])
    assert "\x1b[2J" not in out and "\x1b]" not in out  # rich's own colour codes are CSI ...m only
    if not color:
        assert "\x1b" not in out
    assert "\\x1b[2J" in out and "\\x1b]0;pwned\\x07" in out and "\\u202e" in out
    assert "[bold red]markup[/bold red]" in out and ":smile:" in out  # shown, not interpreted


def test_html_and_gradescope_carry_no_raw_control_byte() -> None:
    page = html.render(_result(HOSTILE), with_figures=False)
    assert not any(c in page for c in RAW)
    assert "\\x1b[2J" in page
    data = gradescope_results(_result(HOSTILE))
    assert not any(c in json.loads(json.dumps(data))["tests"][0]["output"] for c in RAW)


def test_graded_submission_cannot_drive_the_terminal(fast_course: Course, tmp_path: Path) -> None:
    sub = make_submission(tmp_path / "sub", append={"activations": "\n".join([
        "class Sigmoid:",
        "    def __init__(self):",
        "        self.params = []; self.grads = []",
        "    def forward(self, x):",
        f"        print({HOSTILE!r})",
        f"        raise ValueError({HOSTILE!r})",
    ])})
    result = run_grade(fast_course, sub, "1.1")
    assert "\x1b[2J" in result.exercises[0].output  # the result keeps the raw text; reports escape it
    for color in (False, True):
        out = _terminal(result, color)
        assert "\x1b[2J" not in out and "\x1b]" not in out and "\u202e" not in out and "\r" not in out
        assert "\\x1b[2J" in out and "[bold red]markup" in out
