"""The pytest plugin: ``pytest --grade DIR`` collects one item per exercise; -k, --lf, -x and
--collect-only work on them; a failing item says what the grader says.

Each test runs pytest in a subprocess with this worktree's ``grader`` first on the path; the items are
restricted with -k to keep the runs short, and the reference cache is the suite's (GRADER_CACHE).
"""
from __future__ import annotations

import os
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from .conftest import EXERCISES, ROOT, SOLUTIONS, make_submission
from .mutants import find

pytest_plugins = ["pytester"]

COURSE = ROOT / "course.yml"


def _plugin_args() -> list[str]:
    """-p loads this worktree's plugin; where the package's entry point already loads it, -p would
    register the same module twice (pluggy refuses), so it is left out."""
    installed = any(ep.name == "nn_grader" for ep in entry_points(group="pytest11"))
    return [] if installed else ["-p", "grader.pytest_plugin"]


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """pytest in a subprocess, in pytester's folder, grading with the bundled course."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))

    # the submission and course paths lie in this repository: without its own ini file and rootdir the
    # inner pytest would take the repository's (settings, and .pytest_cache for --lf)
    ini = pytester.makeini("[pytest]\n")

    def go(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess(*_plugin_args(), "-c", str(ini), "--rootdir", str(pytester.path),
                                             *args, timeout=300)

    return go


def _grade(submission: Path, *args: str) -> list[str]:
    return ["--grade", str(submission), "--grade-course", str(COURSE), *args]


def test_solutions_pass_the_selected_items_only(run) -> None:  # type: ignore[no-untyped-def]
    result = run(*_grade(SOLUTIONS, "-k", "(Sigmoid or Affine) and not parameter", "-v"))
    result.assert_outcomes(passed=2, deselected=_course_size() - 2)
    result.stdout.fnmatch_lines(["*A1/1.1-Sigmoid PASSED*", "*A1/1.10-Affine PASSED*"])
    assert result.ret == 0


def test_stubs_fail_as_not_implemented(run) -> None:  # type: ignore[no-untyped-def]
    result = run(*_grade(EXERCISES, "-k", "(Sigmoid or Tanh) and not Hard"))
    result.assert_outcomes(failed=2, deselected=_course_size() - 2)
    result.stdout.fnmatch_lines(["*1.1 Sigmoid: 0/2 points, not implemented*",
                                 "*1.2 Tanh: 0/2 points, not implemented*"])
    assert result.ret == 1


def test_last_failed_reruns_only_the_failing_item(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    submission = find("Affine", "transposed").submission(tmp_path / "bugged")
    first = run(*_grade(submission, "-k", "(Sigmoid or Tanh or Affine) and not parameter and not Hard"))
    first.assert_outcomes(passed=2, failed=1, deselected=_course_size() - 3)
    first.stdout.fnmatch_lines(["*1.10 Affine: *4 points (*)", "*gradcheck*W*", "*FAILED A1/1.10-Affine*"])

    again = run(*_grade(submission, "--lf"))
    again.assert_outcomes(failed=1, deselected=_course_size() - 1)
    again.stdout.fnmatch_lines(["*run-last-failure: rerun previous 1 failure*"])


def test_exitfirst_stops_after_the_first_failure(run) -> None:  # type: ignore[no-untyped-def]
    result = run(*_grade(EXERCISES, "-k", "(Sigmoid or Tanh) and not Hard", "-x"))
    result.assert_outcomes(failed=1, deselected=_course_size() - 2)


def test_collect_only_lists_exercise_ids(run) -> None:  # type: ignore[no-untyped-def]
    result = run(*_grade(EXERCISES, "--collect-only", "-q"))
    result.stdout.fnmatch_lines(["A1/1.1-Sigmoid", "A1/1.10-Affine", "A4B/4.20-clip_grad_norm",
                                 "A6/6.1-Uniform-fan-in-initialization", f"{_course_size()} tests collected*"])
    assert result.ret == 0


def test_without_grade_the_plugin_collects_nothing(run, pytester: pytest.Pytester) -> None:  # type: ignore[no-untyped-def]
    pytester.makepyfile(test_plain="def test_one():\n    assert True\n")
    result = run("-q")
    result.assert_outcomes(passed=1)
    assert "A1/" not in result.stdout.str()
    run("--help").stdout.fnmatch_lines(["*--grade=DIR*"])


def test_a_missing_submission_is_a_usage_error(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run(*_grade(tmp_path / "nowhere"))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--grade*no such file or folder*"])


def _course_size() -> int:
    from grader.coursefile import load_course

    return len(load_course(COURSE).exercises)


def test_learner_output_is_a_report_section(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    printing = ("_Sigmoid = Sigmoid\n\n\nclass Sigmoid(_Sigmoid):\n    def forward(self, x):\n"
                "        print('hello from forward')\n        return super().forward(x)\n")
    submission = make_submission(tmp_path / "printing", append={"activations": printing})
    result = run(*_grade(submission, "-k", "1.1-Sigmoid", "-rP"))
    result.assert_outcomes(passed=1, deselected=_course_size() - 1)
    result.stdout.fnmatch_lines(["*Captured output call*", "hello from forward*"])


def test_a_notebook_of_any_name_is_graded_by_its_definitions(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The plugin takes submissions the same way `grader check` does: carol.ipynb defines the activations."""
    from .test_notebook_submissions import solution_cells, write_notebook

    submission = tmp_path / "carol"
    submission.mkdir()
    write_notebook(submission / "carol.ipynb", ["%matplotlib inline", *solution_cells("activations")])
    result = run(*_grade(submission, "-k", "(Sigmoid or Tanh) and not Hard"))
    result.assert_outcomes(passed=2, deselected=_course_size() - 2)
