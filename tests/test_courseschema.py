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


def test_every_declared_key_is_read_by_the_loader_and_no_other() -> None:
    courseyaml.KEYS_READ.clear()
    coursefile.load_course(ROOT / "course.yml")
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
