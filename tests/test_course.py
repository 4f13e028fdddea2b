"""Tests for grader.coursefile: the bundled and the tiny course load; every malformed course is refused with
an error naming the file, the exact line and the key path; and the engine grades a course it was not
written for (tests/data/tiny: module ``nn``, classes ``Rectifier`` and ``Squared``)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from grader.coursefile import load_course
from grader.engine.grading import Options, grade
from grader.model.course import TWINLESS_CHECKS, Course, Tolerance
from grader.model.errors import CourseError

from .conftest import COURSE_FOLDERS, folder_id

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "data" / "tiny"


# --------------------------------------------------------------------------- the two courses that must load


@pytest.mark.parametrize("folder", COURSE_FOLDERS, ids=folder_id)
def test_every_course_folder_loads_as_its_file_says(folder: Path) -> None:
    # The expectations come from the file itself (read as plain YAML), never from counts written here:
    # adding an exercise to a course changes no test.
    raw = yaml.safe_load((folder / "course.yml").read_text())
    course = load_course(folder / "course.yml")
    assert [a.id for a in course.assignments] == [str(a["id"]) for a in raw["assignments"]]
    for a, r in zip(course.assignments, raw["assignments"]):
        assert [(e.id, e.title, e.target, e.points) for e in a.exercises] == \
            [(str(e["id"]), e["title"], e["target"], e["points"]) for e in r["exercises"]]
    assert len({e.id for e in course.exercises}) == len(course.exercises)
    assert course.hide[0] == folder / "solutions"
    for ex in course.exercises:  # by title, case-insensitively, and by id
        assert course.exercise(ex.title.upper()) is course.exercise(ex.id) is ex


def test_bundled_course_targets_split_into_module_and_name(course: Course) -> None:
    affine = course.exercise("affine")
    assert (affine.module, affine.name, affine.params) == ("layers", "Affine", ("W", "b"))


def test_tiny_course_loads() -> None:
    tiny = load_course(TINY / "course.yml")
    assert tiny.title == "Tiny test course"
    assert tiny.public_seed == 7
    assert [a.id for a in tiny.assignments] == ["T1"]
    rect, sq = tiny.exercises
    assert (rect.id, rect.kind, rect.module, rect.name, rect.reference, rect.points) == \
        ("r", "layer", "nn", "Rectifier", "relu", 3)
    assert (sq.id, sq.kind, sq.module, sq.name, sq.reference, sq.points) == ("s", "loss", "nn", "Squared", "mse_loss", 2)
    assert rect.kinks == (0.0,)
    assert [c.name for c in rect.checks] == ["reference", "gradcheck", "contract"]
    assert [c.weight for c in rect.checks] == [2, 1, 1]
    assert [c.arrays["x"].shape for c in rect.cases] == [(3, 4), (2, 5)]
    assert sq.hyper == {"reduction": "mean"} and sq.cases[1].hyper == {"reduction": "sum"}
    # The exercise-level override replaces rtol only; atol comes from the course.
    assert rect.tolerance == Tolerance(rtol=1e-6, atol=1e-8)
    assert sq.tolerance == Tolerance(rtol=1e-5, atol=1e-8)
    assert tiny.hide == (TINY / "good",)
    assert tiny.exercise("s") is sq and tiny.exercise("SQUARED") is sq


def test_unknown_exercise_key_in_lookup_is_a_course_error(course: Course) -> None:
    with pytest.raises(CourseError, match="no exercise with id or title 'Nope'"):
        course.exercise("Nope")


# --------------------------------------------------------------------------- malformed courses

BASE = """\
version: 1
title: Malformed-course fixture
hide: [good]
assignments:
  - id: T1
    title: One layer, one loss
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
      - id: s
        title: Squared
        kind: loss
        target: nn.Squared
        reference: mse_loss
        points: 2
        hyper: {reduction: mean}
        cases: [{pred: [4, 2], target: [4, 2]}]
        checks: {reference: 1}
"""

EX0 = "assignments[0].exercises[0]"
EX1 = "assignments[0].exercises[1]"

# id: (text replaced, replacement, the line the error must name (stripped, last one if repeated),
#      key path, part of the message)
MALFORMED = {
    "unknown top-level key": (
        "hide: [good]\n", "hide: [good]\ncolour: blue\n",
        "colour: blue", "colour", "unknown key 'colour'"),
    "unknown top-level key with a block value": (
        "hide: [good]\n", "hide: [good]\nextras:\n  - one\n  - two\n",
        "extras:", "extras", "unknown key 'extras'"),
    "unknown exercise key (typo pionts)": (
        "        points: 3\n", "        points: 3\n        pionts: 3\n",
        "pionts: 3", f"{EX0}.pionts", "unknown key 'pionts'"),
    "points misspelt, so missing": (
        "        points: 3\n", "        pionts: 3\n",
        "pionts: 3", f"{EX0}.pionts", "unknown key 'pionts'; did you mean 'points'?"),
    "points missing": (
        "        points: 3\n", "",
        "- id: r", EX0, "missing required key 'points'"),
    "unknown check name": (
        "          gradcheck: 1\n", "          gradchek: 1\n",
        "gradchek: 1", f"{EX0}.checks.gradchek", "unknown check 'gradchek'; did you mean 'gradcheck'? known checks: "),
    "wrong kind": (
        "kind: layer", "kind: neuron",
        "kind: neuron", f"{EX0}.kind", "kind must be one of layer, loss, function"),
    "target without a dot": (
        "target: nn.Rectifier", "target: Rectifier",
        "target: Rectifier", f"{EX0}.target", "target must look like module.Name, got 'Rectifier'"),
    "negative points": (
        "points: 3", "points: -1",
        "points: -1", f"{EX0}.points", "points must be non-negative"),
    "points not a number": (
        "points: 3", "points: three",
        "points: three", f"{EX0}.points", "expected int or float, got str 'three'"),
    "missing cases": (
        "        cases:\n          - {x: [3, 4]}\n          - {x: {shape: [2, 5], low: -2, high: 2}}\n", "",
        "- id: r", f"{EX0}.cases", "expected a list under 'cases'"),
    "empty cases": (
        "        cases:\n          - {x: [3, 4]}\n          - {x: {shape: [2, 5], low: -2, high: 2}}\n",
        "        cases: []\n",
        "cases: []", f"{EX0}.cases", "an exercise needs at least one case"),
    "a layer case without x": (
        "- {x: {shape: [2, 5], low: -2, high: 2}}", "- {y: {shape: [2, 5], low: -2, high: 2}}",
        "cases:", f"{EX0}.cases", "case 1 lacks input(s) x needed by a layer"),
    "a loss case without target": (
        "cases: [{pred: [4, 2], target: [4, 2]}]", "cases: [{pred: [4, 2]}]",
        "cases: [{pred: [4, 2]}]", f"{EX1}.cases", "case 0 lacks input(s) target needed by a loss"),
    "shape with a zero": (
        "- {x: [3, 4]}", "- {x: [3, 0]}",
        "- {x: [3, 0]}", f"{EX0}.cases[0].x", "shape must be a list of positive integers, got [3, 0]"),
    "shape with a string": (
        "- {x: [3, 4]}", "- {x: [3, four]}",
        "- {x: [3, four]}", f"{EX0}.cases[0].x", "shape must be a list of positive integers, got [3, 'four']"),
    "low equal to high": (
        "low: -2, high: 2", "low: 2, high: 2",
        "- {x: {shape: [2, 5], low: 2, high: 2}}", f"{EX0}.cases[1].x", "low (2.0) must be below high (2.0)"),
    "low above high": (
        "low: -2, high: 2", "low: 5, high: 2",
        "- {x: {shape: [2, 5], low: 5, high: 2}}", f"{EX0}.cases[1].x", "low (5.0) must be below high (2.0)"),
    "relu on a set of choices": (
        "low: -2, high: 2}", "choices: [0, 1], relu: true}",
        "- {x: {shape: [2, 5], choices: [0, 1], relu: true}}", f"{EX0}.cases[1].x",
        "relu applies to a uniform draw (low, high), not to classes or choices"),
    "relu with no negative draws": (
        "low: -2, high: 2}", "low: 0, high: 2, relu: true}",
        "- {x: {shape: [2, 5], low: 0, high: 2, relu: true}}", f"{EX0}.cases[1].x",
        "relu needs low below 0 (low is 0.0): otherwise no entry becomes 0"),
    "duplicate exercise id": (
        "- id: s", "- id: r",
        "- id: r", f"{EX1}.id", "duplicate exercise id 'r'"),
    "stability check without cases": (
        "          gradcheck: 1\n", "          gradcheck: 1\n          stability:\n            weight: 1\n",
        "stability:", f"{EX0}.checks.stability", "the stability check needs its own 'cases'"),
    "non-positive check weight": (
        "          reference: 2\n", "          reference: 0\n",
        "reference: 0", f"{EX0}.checks.reference", "a check's weight must be positive"),
    "kink naming an unknown hyper-parameter": (
        "kinks: [0]", "kinks: [0, beta]",
        "kinks: [0, beta]", f"{EX0}.kinks", "kink 'beta' names no hyper-parameter of any case"),
    "version 2": (
        "version: 1", "version: 2",
        "version: 2", "version", "unsupported course file version 2; this grader reads version 1"),
    "reference missing for a check that compares with it": (
        "        reference: mse_loss\n", "",
        "- id: s", EX1, "missing required key 'reference' (the torch twin, or law): the reference check(s) "
        "compare with it"),
    "negative tolerance": (
        "        reference: relu\n", "        reference: relu\n        tolerance: {rtol: -1.0e-6}\n",
        "tolerance: {rtol: -1.0e-6}", f"{EX0}.tolerance.rtol", "must be non-negative, got -1e-06"),
}


def _line_of(text: str, stripped: str) -> int:
    """1-based number of the (last) line that reads ``stripped`` once leading/trailing blanks are cut."""
    numbers = [i for i, line in enumerate(text.splitlines(), start=1) if line.strip() == stripped]
    assert numbers, f"no line {stripped!r} in the fixture"
    return numbers[-1]


def _error(tmp_path: Path, text: str) -> tuple[Path, str]:
    path = tmp_path / "broken.yml"
    (tmp_path / "good").mkdir(exist_ok=True)  # the folder hide: names must exist
    path.write_text(text)
    with pytest.raises(CourseError) as info:
        load_course(path)
    return path.resolve(), str(info.value)


def test_an_exercise_judged_by_its_own_rules_needs_no_reference(course: Course) -> None:
    twinless = [ex for ex in course.exercises if ex.reference is None]
    assert {ex.title for ex in twinless} == {"EarlyStopping", "minibatches"}
    assert all({c.name for c in ex.checks} <= TWINLESS_CHECKS for ex in twinless)


def test_the_fixture_itself_is_valid(tmp_path: Path) -> None:
    (tmp_path / "good").mkdir(exist_ok=True)  # the folder hide: names must exist
    path = tmp_path / "course.yml"
    path.write_text(BASE)
    loaded = load_course(path)
    assert [e.id for e in loaded.exercises] == ["r", "s"]


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_course_names_file_line_and_key(tmp_path: Path, name: str) -> None:
    old, new, line_text, key_path, fragment = MALFORMED[name]
    assert BASE.count(old) == 1, f"fixture text {old!r} is not unique"
    text = BASE.replace(old, new)
    path, message = _error(tmp_path, text)
    prefix = f"{path}:{_line_of(text, line_text)}: {key_path}: "
    assert message.startswith(prefix), f"{message!r} does not start with {prefix!r}"
    assert fragment in message


def test_invalid_yaml_names_the_line_of_the_problem(tmp_path: Path) -> None:
    text = BASE.replace("- {x: [3, 4]}", "- {x: [3, 4}")
    path, message = _error(tmp_path, text)
    assert message.startswith(f"{path}:{_line_of(text, '- {x: [3, 4}')}: not valid YAML: ")


def test_tab_indentation_is_invalid_yaml(tmp_path: Path) -> None:
    text = BASE.replace("        kinks: [0]\n", "\tkinks: [0]\n")
    path, message = _error(tmp_path, text)
    assert message.startswith(f"{path}:{_line_of(text, 'kinks: [0]')}: not valid YAML: ")


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_course_file(tmp_path: Path, text: str) -> None:
    path, message = _error(tmp_path, text)
    assert message == f"{path}: the course file is empty"


def test_top_level_not_a_mapping(tmp_path: Path) -> None:
    path, message = _error(tmp_path, "- version: 1\n")
    assert message == f"{path}:1: (top): expected a mapping, got list"


def test_missing_course_file(tmp_path: Path) -> None:
    with pytest.raises(CourseError, match=r"nowhere\.yml: cannot read the course file"):
        load_course(tmp_path / "nowhere.yml")


# --------------------------------------------------------------------------- grading the tiny course


@pytest.fixture(scope="module")
def tiny() -> Course:
    return load_course(TINY / "course.yml")


def test_tiny_course_good_submission_gets_full_marks(tiny: Course) -> None:
    result = grade(tiny, TINY / "good", Options())
    assert [(e.id, e.points, e.status) for e in result.exercises] == [("r", 3, "pass"), ("s", 2, "pass")]
    assert (result.points, result.max_points, result.passed) == (5, 5, True)
    assert result.course == "Tiny test course" and result.seed == "public"


def test_tiny_course_bad_submission_loses_only_rectifier_points(tiny: Course) -> None:
    result = grade(tiny, TINY / "bad", Options())
    rect, sq = result.exercises
    assert (sq.id, sq.points, sq.status) == ("s", 2, "pass")
    assert rect.id == "r" and 0 < rect.points < 3
    checks = {c.name: c for c in rect.checks}
    # forward is right and backward wrong on every case: half the reference quantities, no gradcheck case
    assert checks["reference"].score == 0.5
    assert checks["gradcheck"].score == 0
    assert checks["contract"].status == "pass"
    assert rect.points == pytest.approx(3 * (2 * 0.5 + 1 * 0 + 1 * 1) / 4)
    assert result.points == pytest.approx(5 - (3 - rect.points))
    assert not result.passed
    failing = [k for k in checks["reference"].cases if not k.passed]
    assert {k.name.rsplit(" · ", 1)[-1] for k in failing} == {"dx"}
    assert failing[0].message.startswith("dx (3, 4): ")


def test_a_hide_path_that_does_not_exist_is_a_course_error(tmp_path: Path) -> None:
    """A misspelled hide entry ("solution") would mask nothing while the real folder stays readable."""
    (tmp_path / "solutions").mkdir()
    path, message = _error(tmp_path, BASE.replace("hide: [good]", "hide: [solution]"))
    assert message.startswith(f"{path}:{_line_of(BASE, 'hide: [good]')}: hide: 'solution' does not exist in the course folder")


def test_the_gradescope_bundle_ships_a_loadable_course(tmp_path: Path) -> None:
    """The bundle ships none of the hidden folders, so its course file hides none (same line numbers)."""
    import zipfile

    from grader.release.gradescope_bundle import build_bundle

    from .conftest import ROOT

    with zipfile.ZipFile(build_bundle(ROOT / "course.yml", tmp_path / "b.zip", None, references=False)) as z:
        text = z.read("course/course.yml").decode()
    assert len(text.splitlines()) == len((ROOT / "course.yml").read_text().splitlines())
    (tmp_path / "course.yml").write_text(text)
    assert load_course(tmp_path / "course.yml").hide == ()
