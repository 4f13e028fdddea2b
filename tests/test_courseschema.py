"""The course file's schema (grader.courseschema), the loader and docs/course-format.md agree.

The loader may read only declared keys (else SchemaDrift, at once), and every declared key must be read
by it; the reference is the schema's rendering, byte for byte; each example of the reference loads."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from grader import coursefile, courseyaml
from grader.courseschema import EXAMPLES, SECTIONS, markdown
from grader.model.errors import CourseError

ROOT = Path(__file__).resolve().parent.parent


def test_the_reference_is_generated_from_the_schema() -> None:
    doc = (ROOT / "docs" / "course-format.md").read_text()
    assert doc == markdown(), "docs/course-format.md is stale: python -m grader.courseschema --markdown > " \
                              "docs/course-format.md"


def _course(exercises: str) -> str:
    return ("version: 1\ntitle: t\nhide: []\nassignments:\n  - id: A\n    title: a\n    exercises:\n"
            + textwrap.indent(exercises, "      "))


def test_every_declared_key_is_read_by_the_loader_and_no_other(tmp_path: Path) -> None:
    """Over the repository's course files and the reference's examples: a key only one course uses (an
    example course's) counts once it is there."""
    courseyaml.KEYS_READ.clear()
    for path in [ROOT / "course.yml", *sorted(ROOT.glob("examples/*/course.yml")),
                 *sorted(ROOT.glob("tests/data/*/course.yml"))]:
        coursefile.load_course(path)
    for kind, example in EXAMPLES.items():
        (tmp_path / f"{kind}.yml").write_text(_course(example))
        coursefile.load_course(tmp_path / f"{kind}.yml")
    declared = {(s.name, f.name) for s in SECTIONS.values() for f in (*s.fields, *([s.extra] if s.extra else []))}
    assert courseyaml.KEYS_READ == declared


@pytest.mark.parametrize("kind", list(EXAMPLES))
def test_each_example_of_the_reference_loads(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "course.yml"
    path.write_text(_course(EXAMPLES[kind]))
    (ex,) = coursefile.load_course(path).exercises
    assert ex.kind == kind


@pytest.mark.parametrize("written, hint", [("1e-5", "1.0e-5"), ("1.0e5", "1.0e+5"), ("2E+3", "2.0e+3"),
                                           ("-3e4", "-3.0e+4")])
def test_a_number_yaml_reads_as_text_gets_a_hint(tmp_path: Path, written: str, hint: str) -> None:
    text = _course(EXAMPLES["loss"].replace("  points: 3\n", f"  points: 3\n  tolerance: {{rtol: {written}}}\n"))
    path = tmp_path / "course.yml"
    path.write_text(text)
    with pytest.raises(CourseError) as info:
        coursefile.load_course(path)
    line = text.splitlines().index(f"        tolerance: {{rtol: {written}}}") + 1
    assert str(info.value) == (f"{path}:{line}: assignments[0].exercises[0].tolerance.rtol: YAML 1.1 reads "
                               f"{written} as the text {written!r}, not a number: write {hint} (a dot, and a "
                               "signed exponent) or quote it if text is meant")


def test_a_quoted_number_like_text_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "course.yml"
    path.write_text(_course(EXAMPLES["loss"]).replace("title: MSELoss", "title: '1e5'"))
    assert coursefile.load_course(path).exercises[0].title == "1e5"


def _placed(section: str, key: str, value: object) -> str:
    """A valid course with ``key: value`` put in ``section``."""
    item = f"{{{key}: {value}}}"
    example = EXAMPLES["loss"]
    if section == "course":
        return _course(example).replace("hide: []\n", f"hide: []\n{key}: {value}\n")
    if section in ("tolerance", "limits"):
        return _course(example).replace("hide: []\n", f"hide: []\n{section}: {item}\n")
    if section == "exercise":
        return _course(example.replace("  points: 3\n", f"  points: 3\n  {key}: {value}\n"))
    if section == "check":
        return _course(example.replace("checks: {reference: 3,", f"checks: {{reference: {item},"))
    assert section == "array", section
    return _course(example.replace("{pred: [4, 3],", f"{{pred: {{shape: [4, 3], {key}: {value}}},"))


BOUNDED = [(s.name, f) for s in SECTIONS.values() for f in s.fields if f.bounds_text()]


@pytest.mark.parametrize("section, field", BOUNDED, ids=[f"{s}.{f.name}" for s, f in BOUNDED])
def test_the_loader_enforces_each_declared_bound(tmp_path: Path, section: str, field: object) -> None:
    """Just past each bound the schema declares is refused, naming the key; the bound itself is accepted."""
    import math

    integer = float not in field.types  # type: ignore[attr-defined]
    outside, inside = [], []
    if field.low > -math.inf:  # type: ignore[attr-defined]
        outside.append(field.low if field.low_open else field.low - (1 if integer else 0.5))  # type: ignore[attr-defined]
        if not field.low_open:  # type: ignore[attr-defined]
            inside.append(field.low)  # type: ignore[attr-defined]
    if field.high < math.inf:  # type: ignore[attr-defined]
        outside.append(field.high + 1)  # type: ignore[attr-defined]
        inside.append(field.high)  # type: ignore[attr-defined]
    path = tmp_path / "course.yml"
    for value in outside:
        text = _placed(section, field.name, int(value) if integer else float(value))  # type: ignore[attr-defined]
        path.write_text(text)
        with pytest.raises(CourseError, match=rf"\b{field.name}\b"):  # type: ignore[attr-defined]
            coursefile.load_course(path)
    for value in inside:
        if section == "exercise" and field.name == "points":  # type: ignore[attr-defined]
            continue  # given in the example already
        path.write_text(_placed(section, field.name, int(value) if integer else float(value)))  # type: ignore[attr-defined]
        coursefile.load_course(path)
