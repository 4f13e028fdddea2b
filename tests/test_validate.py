"""`grader validate` on malformed course folders: one line each, naming course.yml:LINE, exit 2, no traceback.

Each case is one edit of a small valid course folder (course.yml + solutions/): a misspelled target, check,
key or twin, a number YAML 1.1 reads as text, a twin that fails on a declared case, kinks no draw can keep
away from... The command runs in this process (cli.main), so torch is imported once for all of them; one
subprocess run in tests/test_cli.py covers the real command line.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader import cli
from grader.coursefile import load_course
from grader.model.errors import CourseError

ROOT = Path(__file__).resolve().parent.parent

COURSE = """\
version: 1
title: Validation fixture
hide: [solutions]
assignments:
  - id: T1
    title: One of each kind that runs a twin
    exercises:
      - id: r
        title: Rectifier
        kind: layer
        target: nn.Rectifier
        reference: relu
        points: 3
        kinks: [0]
        cases:
          - {x: [3, 4]}
          - {x: {shape: [2, 5], low: -2, high: 2}}
        checks:
          reference: 2
          gradcheck: 1
          stability: {weight: 1, cases: [{x: {shape: [4, 6], low: -1000, high: 1000}}]}
      - id: s
        title: Squared
        kind: loss
        target: nn.Squared
        reference: mse_loss
        points: 2
        tolerance: {rtol: 1.0e-5}
        cases:
          - {pred: [4, 2], target: [4, 2]}
        checks: {reference: 1}
  - id: T2
    title: An optimizer
    exercises:
      - id: o
        title: SGD
        kind: optimizer
        target: opt.SGD
        reference: sgd
        points: 2
        problems: [quadratic]
        steps: 5
        cases:
          - {hyper: {lr: 0.01}}
        checks: {trajectory: 1}
"""

OPT = "class SGD:\n    def __init__(self, lr=0.01):\n        self.lr = lr\n"

# id: (text replaced (once), replacement, the line the error must name (stripped; the last such line),
#      what the message must hold)
MALFORMED = {
    "target misspelled": (
        "target: nn.Rectifier", "target: nn.Rectifer", "target: nn.Rectifer",
        "nn.Rectifer: no class or function Rectifer in {solutions}/nn.py; did you mean 'nn.Rectifier'?"),
    "target in the wrong case": (
        "target: nn.Squared", "target: nn.squared", "target: nn.squared",
        "did you mean 'nn.Squared'?"),
    "target module missing": (
        "target: nn.Rectifier", "target: nnn.Rectifier", "target: nnn.Rectifier",
        "nnn.Rectifier: no module nnn.py in {solutions}; did you mean 'nn'?"),
    "check name misspelled": (
        "          gradcheck: 1\n", "          gradchek: 1\n", "gradchek: 1",
        "unknown check 'gradchek'; did you mean 'gradcheck'?"),
    "exercise key misspelled": (
        "        points: 3\n", "        pionts: 3\n", "pionts: 3",
        "unknown key 'pionts'; did you mean 'points'?"),
    "array spec key misspelled": (
        "low: -2, high: 2", "low: -2, hihg: 2", "- {x: {shape: [2, 5], low: -2, hihg: 2}}",
        "unknown key 'hihg'; did you mean 'high'?"),
    "check option misspelled": (
        "stability: {weight: 1,", "stability: {weigth: 1,",
        "stability: {weigth: 1, cases: [{x: {shape: [4, 6], low: -1000, high: 1000}}]}",
        "unknown key 'weigth'; did you mean 'weight'?"),
    "top-level key misspelled": (
        "hide: [solutions]\n", "hide: [solutions]\ntolerence: {rtol: 1.0e-6}\n", "tolerence: {rtol: 1.0e-6}",
        "unknown key 'tolerence'; did you mean 'tolerance'?"),
    "checks missing": (
        "        checks: {reference: 1}\n", "        check: {reference: 1}\n", "check: {reference: 1}",
        "unknown key 'check'; did you mean 'checks'?"),
    "a tolerance YAML reads as text": (
        "rtol: 1.0e-5", "rtol: 1e-5", "tolerance: {rtol: 1e-5}",
        "YAML 1.1 reads 1e-5 as the text '1e-5', not a number: write 1.0e-5"),
    "a hyper-parameter YAML reads as text": (
        "{hyper: {lr: 0.01}}", "{hyper: {lr: 1e-2}}", "- {hyper: {lr: 1e-2}}",
        "write 1.0e-2"),
    "twin misspelled": (
        "reference: relu", "reference: rellu", "reference: rellu",
        "no torch twin named 'rellu'; did you mean 'relu'?"),
    "twin fails on a case": (
        "{pred: [4, 2], target: [4, 2]}", "{pred: [4, 2], target: [4, 3]}", "- {pred: [4, 2], target: [4, 3]}",
        "case 0: the torch twin 'mse_loss' fails: "),  # RuntimeError; under pytest torch's warning first
    "optimizer twin fails on a case": (
        "{hyper: {lr: 0.01}}", "{hyper: {lr: -1.0}}", "- {hyper: {lr: -1.0}}",
        "case 0: the torch twin 'sgd' fails on problem 'quadratic': ValueError: "),
    "unknown test problem": (
        "problems: [quadratic]", "problems: [quadratc]", "problems: [quadratc]",
        "no test problem named 'quadratc'; did you mean 'quadratic'?"),
    "inputs all within a kink's margin": (
        "low: -2, high: 2", "low: -0.005, high: 0.005", "- {x: {shape: [2, 5], low: -0.005, high: 0.005}}",
        "case 1: x in [-0.005, 0.005] lies within margin 0.01 of kink 0: every entry would be pushed out"),
    "kinks too close to keep apart": (
        "kinks: [0]", "kinks: [0, 0.02]", "- {x: [3, 4]}",
        "case 0: kinks 0 and 0.02 are closer than 3 margins (0.03)"),
    "margin below gradcheck's step": (
        "kinks: [0]\n", "kinks: [0]\n        margin: 1.0e-9\n", "margin: 1.0e-9",
        "margin 1e-09 cannot keep inputs off the kinks for gradcheck"),
    "a kink names a hyper-parameter that is text": (
        "- {x: [3, 4]}", "- {x: [3, 4], hyper: {lo: low}}\n        # kink lo", "- {x: [3, 4], hyper: {lo: low}}",
        "case 0: kink 'lo' is 'low', not a finite number"),
    "duplicate exercise id": (
        "- id: s", "- id: r", "- id: r", "duplicate exercise id 'r'"),
    "duplicate assignment id": (
        "- id: T2", "- id: T1", "- id: T1", "duplicate assignment id 'T1'"),
    "negative points": (
        "points: 2\n        tolerance", "points: -2\n        tolerance", "points: -2",
        "points must be non-negative"),
    "checks given as a list": (
        "checks: {reference: 1}", "checks: [reference]", "checks: [reference]",
        "expected a mapping, got list"),
}


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "nn.py").write_text((ROOT / "tests" / "data" / "tiny" / "good" / "nn.py").read_text())
    (tmp_path / "solutions" / "opt.py").write_text(OPT)
    return tmp_path


def validate(course: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    monkeypatch.setattr("grader.sandbox.runner.make_private", lambda: None)  # keep this test process dumpable
    code = cli.main(["validate", str(course)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_fixture_is_valid(folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    (folder / "course.yml").write_text(COURSE)
    code, out, err = validate(folder / "course.yml", capsys, monkeypatch)
    assert (code, err) == (0, "")
    assert " ".join(out.split()) == f"{folder / 'course.yml'}: valid — 2 assignment(s), 3 exercise(s), 4 case(s), 7 points"


@pytest.mark.parametrize("name", list(MALFORMED))
def test_a_malformed_course_is_one_line_naming_file_and_line(folder: Path, name: str, capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    old, new, line_text, fragment = MALFORMED[name]
    assert COURSE.count(old) == 1, old
    text = COURSE.replace(old, new)
    if name == "a kink names a hyper-parameter that is text":
        text = text.replace("kinks: [0]", "kinks: [0, lo]")
    path = folder / "course.yml"
    path.write_text(text)
    code, out, err = validate(path, capsys, monkeypatch)
    assert code == 2, out + err
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    line = [i for i, t in enumerate(text.splitlines(), 1) if t.strip() == line_text]  # the last, if repeated
    assert line, line_text
    assert lines[0].startswith(f"grader: error: {path}:{line[-1]}: "), lines[0]
    assert fragment.format(solutions=folder / "solutions") in lines[0]


@pytest.mark.parametrize("name", ["check name misspelled", "a tolerance YAML reads as text", "array spec key misspelled"])
def test_check_refuses_a_malformed_course_with_the_same_line(folder: Path, name: str, capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """`grader check` loads through the same loader: the same one line as `grader validate`."""
    old, new, _, _ = MALFORMED[name]
    path = folder / "course.yml"
    path.write_text(COURSE.replace(old, new))
    code, out, err = validate(path, capsys, monkeypatch)
    assert code == 2
    assert cli.main(["check", "--course", str(path), str(folder / "solutions")]) == 2
    again = capsys.readouterr()
    assert (again.out, again.err) == ("", err)
    with pytest.raises(CourseError) as info:
        load_course(path)
    assert err == f"grader: error: {info.value}\n"


def test_every_single_deletion_from_the_bundled_course_is_a_course_error(tmp_path: Path) -> None:
    """No edit of the real course.yml gives a traceback: drop each top-level key of each exercise in turn."""
    lines = (ROOT / "course.yml").read_text().splitlines(keepends=True)
    (tmp_path / "solutions").mkdir()
    (tmp_path / "tests").mkdir()
    keyed = [i for i, t in enumerate(lines) if t.startswith("        ") and not t.startswith("         ")
             and ":" in t and not t.strip().startswith(("#", "-"))]
    failures = []
    for i in keyed[::7]:  # a sample across the file: each load takes tens of milliseconds
        path = tmp_path / "course.yml"
        path.write_text("".join(lines[:i] + lines[i + 1:]))
        try:
            load_course(path)
        except CourseError:
            pass
        except Exception as e:  # noqa: BLE001 - the point of the test
            failures.append(f"line {i + 1} {lines[i].strip()!r}: {type(e).__name__}: {e}")
    assert failures == []


def test_check_names_a_missing_twin_in_one_line(folder: Path, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A misspelled twin is refused by `grader check` too, before the curve (which looked it up first and
    raised a bare KeyError) or any case needs it."""
    monkeypatch.setenv("GRADER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr("grader.sandbox.runner.make_private", lambda: None)
    path = folder / "course.yml"
    path.write_text(COURSE.replace("reference: relu", "reference: rellu").replace("kinks: [0]", "kinks: [0]\n        curve: [-2, 2]"))
    code = cli.main(["check", "-q", "-e", "r", "--course", str(path), str(folder / "solutions")])
    err = capsys.readouterr().err
    assert code == 2
    assert err == (f"grader: error: {path}: exercise r (Rectifier): no torch twin named 'rellu' (the built-in twins); "
                   "did you mean 'relu'? "
                   "(`grader validate` names the line)\n")


def test_an_interface_backward_function_must_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The CS231n-style example validates; with its backward function misspelled, one line names it."""
    shutil.copytree(ROOT / "examples" / "cs231n", tmp_path / "cs231n")
    path = tmp_path / "cs231n" / "course.yml"
    code, out, err = validate(path, capsys, monkeypatch)
    assert (code, err) == (0, "")
    text = path.read_text()
    assert text.count("backward: affine_backward ") == 1
    text = text.replace("backward: affine_backward ", "backward: affine_backwrd ")
    path.write_text(text)
    code, out, err = validate(path, capsys, monkeypatch)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "backward: affine_backwrd" in t)
    assert code == 2
    assert err.startswith(f"grader: error: {path}:{line}: assignments[0].exercises[0].interface.backward: "
                          f"layers.affine_backwrd: no function affine_backwrd in {tmp_path / 'cs231n' / 'solutions'}"
                          "/layers.py; did you mean 'affine_backward'?\n")
