"""Progress on the long steps: references computed (each exercise reported once, ending at the total)
and figures drawn; shown on a terminal only, never with -q or when stderr is piped."""
from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from rich.console import Console

from grader import cli
from grader.backs import plots
from grader.backs.progress import MIN_FIGURES, StepProgress, progress_for
from grader.engine.grading import Options, grade
from grader.model.course import Course

from .conftest import SOLUTIONS, make_submission
from .mutants import MUTANTS


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def _console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=120), out


def test_each_exercise_is_reported_once_as_its_references_are_computed(course: Course, tmp_path: Path) -> None:
    started: list[list[str]] = []
    done: list[str] = []
    options = Options(exercises=["1.1", "1.4", "1.10"], cache=tmp_path, on_references=started.append,
                      on_reference_done=done.append)
    result = grade(course, SOLUTIONS, options)
    assert result.passed
    assert started == [["1.1", "1.4", "1.10"]] and done == ["1.1", "1.4", "1.10"]
    started.clear(), done.clear()
    grade(course, SOLUTIONS, options)  # from the cache now: nothing to report
    assert started == [] and done == []


def test_the_reference_bar_names_the_step_and_ends_at_the_total() -> None:
    console, out = _console()
    bar = StepProgress(console)
    bar.references(["1.1", "1.2", "1.3"])
    for ex_id in ("1.1", "1.2", "1.3"):
        bar.reference_done(ex_id)
    text = out.getvalue()
    assert "computing references once for this course and seed: 3 exercises" in text
    assert "3/3" in text and bar._bar is None  # closed by the last exercise


def test_progress_only_on_a_terminal_and_never_quiet() -> None:
    assert progress_for(quiet=False, stream=io.StringIO()) is None  # piped
    assert progress_for(quiet=True, stream=FakeTTY()) is None
    assert isinstance(progress_for(quiet=False, stream=FakeTTY()), StepProgress)


@pytest.mark.parametrize("quiet, tty, shown", [(False, False, False), (True, True, False), (False, True, True)])
def test_check_prints_reference_progress_only_on_a_terminal(quiet: bool, tty: bool, shown: bool, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    err = FakeTTY() if tty else io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    code = cli.main(["check", str(SOLUTIONS), "-e", "1.2", "--no-cache", "-j", "1", *(["-q"] if quiet else [])])
    assert code == 0
    text = err.getvalue()
    if shown:
        assert "computing references once for this course and seed: 1 exercise" in text and "1/1" in text
    else:
        assert text == ""
    if quiet:
        assert capsys.readouterr().out == ""


def test_figures_report_their_progress_and_a_bar_shows_only_for_many(course: Course, tmp_path: Path) -> None:
    bug = next(m for m in MUTANTS if m.exercise == "Affine" and m.check == "reference")
    sub = make_submission(tmp_path / "sub", replace={bug.module: bug.apply((SOLUTIONS / f"{bug.module}.py").read_text())})
    result = grade(course, sub, Options(exercises=["1.10"], plots=True))
    calls: list[tuple[int, int]] = []
    figs = plots.figures(result, on_figure=lambda drawn, total: calls.append((drawn, total)))
    n = len(figs)
    assert n >= 1 and calls == [(i, n) for i in range(1, n + 1)]
    console, out = _console()
    bar = StepProgress(console)
    for i in range(1, 4):
        bar.figure(i, 3)  # a few: drawn at once, no bar
    assert out.getvalue() == ""
    total = MIN_FIGURES + 2
    for i in range(1, total + 1):
        bar.figure(i, total)
    assert f"drawing {total} figures" in out.getvalue() and f"{total}/{total}" in out.getvalue()


def test_the_batch_progress_line_rounds_points_for_people() -> None:
    from grader.commands import graded_label

    assert graded_label("kim", 10.37037, 11.0, "") == "kim: 10.37/11"
    assert graded_label("eve", 0.0, 186.0, "zip slip") == "eve: 0/186 (error)"
