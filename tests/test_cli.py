"""Tests for the command line, run as learners and instructors run it: ``python -m grader ...`` in the repo.

Exit codes: 0 pass, 1 some check failed, 2 usage or course error (one line on stderr, no traceback).
Each subprocess costs a second or two (the first computes the references with torch), so there are few.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from grader import cli
from grader.coursefile import load_course
from grader.release.stubs import diff_release

from .conftest import COURSE_FOLDERS, cli_env, folder_id

ROOT = Path(__file__).resolve().parent.parent
TINY_COURSE = ROOT / "tests" / "data" / "tiny" / "course.yml"


@pytest.fixture(scope="module")
def env(private_cache: Path) -> dict[str, str]:
    """The user's environment, with the session's private reference cache and nothing that changes grading."""
    return cli_env(private_cache)


def grader(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def total_points(folder: Path = ROOT) -> str:
    return f"{sum(e.points for e in load_course(folder / 'course.yml').exercises):g}"


def course_args(folder: Path) -> list[str]:
    """The bundled course is found from the repository's root; any other course folder is named."""
    return [] if folder == ROOT else ["--course", str(folder)]


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    """The single ``grader: error: ...`` line of a refused command."""
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("grader: error: ")
    return lines[0]


# --------------------------------------------------------------------------- check and report


@pytest.mark.parametrize("folder", COURSE_FOLDERS, ids=folder_id)
def test_check_solutions_gets_full_marks(env: dict[str, str], folder: Path) -> None:
    proc = grader(env, "check", str(folder / "solutions"), *course_args(folder))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    total = total_points(folder)
    assert f"Total: {total}/{total}" in proc.stdout
    assert "all checks pass" in proc.stdout


@pytest.mark.parametrize("folder", COURSE_FOLDERS, ids=folder_id)
def test_check_exercises_scores_zero_without_a_traceback(env: dict[str, str], tmp_path: Path, folder: Path) -> None:
    out = tmp_path / "stubs.json"
    proc = grader(env, "check", str(folder / "exercises"), "--json", str(out), *course_args(folder))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"Total: 0/{total_points(folder)}" in proc.stdout
    assert "not-implemented" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    statuses = {e["title"]: e["status"] for a in json.loads(out.read_text())["assignments"] for e in a["exercises"]}
    assert set(statuses.values()) == {"not-implemented"}, statuses


def test_check_one_exercise_writes_json_that_report_reprints(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    proc = grader(env, "check", "-e", "Affine", "--json", str(out), "solutions/")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out.read_text())
    assert data["schema_version"] == 1
    exercises = [e for a in data["assignments"] for e in a["exercises"]]
    assert [(e["id"], e["title"], e["points"], e["max_points"], e["status"]) for e in exercises] == \
        [("1.10", "Affine", 4, 4, "pass")]
    assert (data["points"], data["max_points"], data["passed"], data["seed"]) == (4, 4, True, "public")

    proc = grader(env, "report", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1.10 Affine" in proc.stdout
    assert "Total: 4/4" in proc.stdout
    assert "Sigmoid" not in proc.stdout


# --------------------------------------------------------------------------- validate and release


@pytest.mark.parametrize("folder", COURSE_FOLDERS, ids=folder_id)
def test_validate_every_course_folder(env: dict[str, str], folder: Path) -> None:
    proc = grader(env, "validate", *([] if folder == ROOT else [str(folder)]))  # a folder, not its course.yml
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "valid" in proc.stdout
    assert str(folder / "course.yml") in proc.stdout.replace("\n", "")


def test_validate_a_broken_course_names_file_and_line(env: dict[str, str], tmp_path: Path) -> None:
    text = TINY_COURSE.read_text()
    assert text.count("        points: 3\n") == 1
    text = text.replace("        points: 3\n", "        points: 3\n        pionts: 3\n")
    line = text.splitlines().index("        pionts: 3") + 1
    (tmp_path / "good").mkdir(exist_ok=True)  # the folder hide: names must exist
    broken = tmp_path / "course.yml"
    broken.write_text(text)
    message = one_line_error(grader(env, "validate", str(broken)))
    assert message == (f"grader: error: {broken.resolve()}:{line}: assignments[0].exercises[0].pionts: "
                       "unknown key 'pionts'; did you mean 'points'?")


@pytest.mark.parametrize("folder", COURSE_FOLDERS, ids=folder_id)
def test_release_check_exercises_are_in_sync(env: dict[str, str], folder: Path) -> None:
    # THE test that keeps exercises/ in sync with solutions/: after editing a solution, run `grader release`.
    assert diff_release(folder / "solutions", folder / "exercises") == []
    proc = grader(env, "release", "--check", "--solutions", str(folder / "solutions"), "--exercises",
                  str(folder / "exercises"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == ""


# --------------------------------------------------------------------------- usage errors


def test_unknown_device_is_a_usage_error(env: dict[str, str]) -> None:
    message = one_line_error(grader(env, "check", "--device", "tpu", "solutions/"))
    assert message == "grader: error: --device must be cpu or cuda, got 'tpu'"


def test_missing_submission_folder_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    missing = tmp_path / "no-such-submission"
    proc = grader(env, "check", str(missing))
    message = one_line_error(proc)
    assert str(missing) in message
    assert proc.stdout == ""


def test_readme_course_table_is_grader_list(env: dict[str, str]) -> None:
    proc = grader(env, "list", "--markdown")
    assert proc.returncode == 0
    readme = (ROOT / "README.md").read_text()
    start = readme.index("<!-- generated by `grader list --markdown`")
    table = readme[readme.index("\n", start) + 1:readme.index("<!-- end of the generated table -->")]
    assert table == proc.stdout, "README's course table is out of date: paste `grader list --markdown`"
    course = load_course(ROOT / "course.yml")
    assert all(f"| {a.id} {a.title} |" in table for a in course.assignments)


def test_misspelled_exercise_gets_did_you_mean_and_version_prints(env: dict[str, str]) -> None:
    message = one_line_error(grader(env, "check", "solutions/", "-e", "Sigmod"))
    assert message.endswith("no exercise with id or title 'Sigmod'; did you mean 'Sigmoid'?")
    from grader import __version__

    assert grader(env, "--version").stdout.strip() == f"grader {__version__}"
    listing = grader(env, "list").stdout
    assert "1.10" in listing and "layers.Affine" in listing


def test_every_command_and_option_has_written_help() -> None:
    """Issue 14: `grader --help` speaks to users (commands, a start for each role, exit codes), and no
    option is left without a line of help."""
    import argparse

    p = cli.build_parser()
    top = p.format_help()
    assert "grader init hw" in top and "grader grade" in top and "exit codes" in top and "grader.commands" not in top
    missing = []

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                helped = {c.dest for c in action._choices_actions if c.help}
                for name, child in action.choices.items():
                    if name not in helped:
                        missing.append(f"{path} {name}")
                    walk(child, f"{path} {name}")
            elif action.help is None:
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")

    walk(p, "grader")
    assert not missing, missing
