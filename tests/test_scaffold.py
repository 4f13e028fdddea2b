"""`grader new exercise` on a copy of a small course: what it writes is valid as written, grades the
solution to full marks and catches its planted bug, keeps course.yml's comments, and writes nothing when
the result would not validate."""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import Iterator

import pytest

from grader import api, cli
from grader.authoring.scaffold import TEMPLATES, new_exercise, twin_name
from grader.model.errors import GraderError
from grader.release.stubs import strip_solutions

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "data" / "tiny"
MODULE = {"layer": "nn", "loss": "nn", "function": "nn", "optimizer": "optim"}
NAME = {"layer": "SiLU", "loss": "LogCosh", "function": "scale", "optimizer": "PlainSGD"}


@pytest.fixture()
def course(tmp_path: Path) -> Iterator[Path]:
    """The tiny test course as a course folder: course.yml with its comments, solutions/. The twins its
    references.py registers leave the process's registry afterwards."""
    from grader.references import TWINS, load

    load()
    before = dict(TWINS)
    folder = tmp_path / "course"
    (folder / "solutions").mkdir(parents=True)
    shutil.copyfile(TINY / "good" / "nn.py", folder / "solutions" / "nn.py")
    text = (TINY / "course.yml").read_text().replace("hide: [good]", "hide: [solutions]")
    (folder / "course.yml").write_text(text)
    yield folder / "course.yml"
    TWINS.clear()
    TWINS.update(before)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
            and "__pycache__" not in p.parts}


def test_twin_names() -> None:
    assert [twin_name(n) for n in ("SiLU", "LeakyReLU", "MyLoss", "clip_grad")] == \
        ["silu", "leaky_relu", "my_loss", "clip_grad"]


@pytest.mark.parametrize("kind", list(TEMPLATES))
def test_the_scaffold_validates_grades_and_catches_its_planted_bug(course: Path, kind: str, tmp_path: Path) -> None:
    original = course.read_text()
    name, module = NAME[kind], MODULE[kind]
    lines = new_exercise(course, kind, name, module)
    folder = course.parent
    test_file = folder / "tests" / f"test_{twin_name(name)}_planted.py"
    assert lines[:4] == [f"wrote {course}", f"wrote {folder / 'solutions' / f'{module}.py'}", f"wrote {test_file}",
                         f"wrote {folder / 'references.py'}"]
    # course.yml: the original text, comments included, with one block inserted
    text = course.read_text()
    assert text.startswith(original.rstrip("\n"))
    assert "# A second, tiny course for the tests" in text and "# the default ([solutions])" in text
    loaded = api.validate(course)
    (ex,) = [e for e in loaded.exercises if e.title == name]
    assert (ex.kind, ex.target, ex.reference) == (kind, f"{module}.{name}", twin_name(name))
    # the released stub raises NotImplementedError where the placeholder was
    stub = strip_solutions((folder / "solutions" / f"{module}.py").read_text())
    assert f"# TODO({name}): placeholder" in (folder / "solutions" / f"{module}.py").read_text()
    assert f"# TODO({name}): placeholder" not in stub
    assert f"{name}{'' if kind == 'function' else '.'}" in stub.split("is not implemented yet")[-2]
    # the planted-bug test it wrote passes: the solution gets every check, the bug fails its check
    spec = importlib.util.spec_from_file_location(f"planted_{kind}", test_file)
    planted = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(planted)  # type: ignore[union-attr]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    planted.test_the_solution_passes(tmp_path / "a")
    planted.test_the_planted_bug_is_caught(tmp_path / "b")


def test_a_new_assignment_and_a_second_exercise(course: Path) -> None:
    new_exercise(course, "layer", "SiLU", "nn", "T2")
    new_exercise(course, "function", "scale", "nn", "T2")
    loaded = api.validate(course)
    assert [(a.id, [e.id for e in a.exercises]) for a in loaded.assignments] == \
        [("T1", ["r", "s"]), ("T2", ["T2.1", "T2.2"])]
    assert course.read_text().count("from grader") == 0
    assert (course.parent / "references.py").read_text().count("from grader.references import twin") == 1


def test_numbered_ids_continue(course: Path) -> None:
    new_exercise(course, "layer", "SiLU", "nn", "T1")
    text = course.read_text().replace('id: "T1.3"', 'id: "1.3"').replace("id: r\n", 'id: "1.1"\n') \
        .replace("id: s\n", 'id: "1.2"\n')
    course.write_text(text)
    new_exercise(course, "layer", "Swish", "nn", "T1")
    assert [e.id for e in api.load(course).exercises] == ["1.1", "1.2", "1.3", "1.4"]


@pytest.mark.parametrize("kind, name, module, message", [
    ("layer", "Rectifier", "nn", "an exercise with target nn.Rectifier exists already"),
    ("layer", "Squared", "other", None),  # another module: allowed
    ("layer", "not-a-name", "nn", "--name must be a Python identifier, got 'not-a-name'"),
    ("loss", "Relu", "nn", "the torch twin 'relu' fails: TypeError"),  # the built-in twin does not fit a loss
])
def test_refusals_write_nothing(course: Path, kind: str, name: str, module: str, message: str | None) -> None:
    before = _files(course.parent)
    if message is None:
        new_exercise(course, kind, name, module)
        return
    with pytest.raises(GraderError, match=message) as info:
        new_exercise(course, kind, name, module)
    assert _files(course.parent) == before
    if kind == "loss":
        assert str(info.value).endswith("; the scaffold did not validate, nothing was written (the twin 'relu' "
                                        "exists already: choose another --name)")


def test_the_command_line(course: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("grader.sandbox.runner.make_private", lambda: None)
    code = cli.main(["new", "exercise", "--kind", "layer", "--name", "SiLU", "--module", "nn", "--course",
                     str(course.parent)])
    out = capsys.readouterr().out
    assert code == 0
    assert "exercise T1.3 (SiLU) scaffolded and valid" in out
