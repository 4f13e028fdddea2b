"""check("Affine") in a real kernel: the executed cells graded in the sandbox, the report shown inline."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from grader.notebook import Report, check

from .conftest import ROOT, SOLUTIONS, small_course

LAYERS = (SOLUTIONS / "layers.py").read_text()
BUGGY = LAYERS.replace("self.x @ self.W + self.b", "self.x @ self.W - self.b")


def test_the_planted_bug_is_planted() -> None:
    assert BUGGY != LAYERS


def test_check_outside_a_kernel_grades_the_code_given(tmp_path: Path) -> None:
    kit = small_course(tmp_path / "kit", ["1.1", "1.10"])
    good = check("Affine", source=LAYERS, course=kit)
    bad = check("1.10", source=["import numpy as np", BUGGY, "%timeit 1"], course=kit)
    assert isinstance(good, Report) and good.passed and good.points == good.max_points == 4 and good.score == 1
    assert not bad.passed and 0 < bad.points < 4
    assert [e.id for e in check(source=LAYERS, course=kit).result.exercises] == ["1.10"]  # what the code defines
    text = str(bad)
    assert "1.10 Affine" in text and "In [3]: line 1: %timeit 1" in text  # the dropped magic, in kernel terms
    html = bad._repr_html_()
    assert html.startswith("<div class='grader-report'>") and "<body" not in html and "data:image/png;base64," in html
    ids = [set(re.findall(r"id='([^']+)'", r._repr_html_())) for r in (good, bad)]
    assert ids[0] and ids[1] and not ids[0] & ids[1]  # two reports on one page: each links to its own exercises
    assert all(f"href='#{i}'" in bad._repr_html_() for i in ids[1])


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_check_in_a_real_kernel_shows_messages_and_figures_inline(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the kernel imports this tree's grader
    monkeypatch.setenv("GRADER_COURSE", str(small_course(tmp_path / "kit", ["1.1", "1.10"])))
    monkeypatch.setenv("GRADER_CACHE", str(tmp_path / "cold-cache"))  # the first check computes references
    cells = [
        "%matplotlib inline\nimport numpy as np\nimport matplotlib\nimport matplotlib.pyplot as plt\n"
        "backend = matplotlib.get_backend()",
        BUGGY,
        "plt.plot([1, 2, 3])\nplt.show()",
        "%timeit -n1 -r1 sum(range(10))\n!echo shell line",
        "from grader.notebook import check\ncheck('Affine')",
        LAYERS,  # the fix: a later cell redefines Affine, as when the notebook runs top to bottom
        "r = check('Affine')\nprint('after fix', r.points, r.max_points, r.passed)\nr",
        "assert matplotlib.get_backend() == backend, matplotlib.get_backend()\nplt.plot([3, 1])\nplt.show()",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT)}}).execute()
    outputs = [cell.outputs for cell in nb.cells]
    said = [o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for o in outputs[4]]
    assert any(re.fullmatch(r"computing reference values with torch for 1 exercise \(1\.10\).*: done, "
                            r"references computed in [\d.]+ s", t) for t in said), said
    assert not any("reference" in o.get("text", "") for o in outputs[6] if o.output_type == "stream")  # cached
    first = [o for o in outputs[4] if o.output_type == "execute_result"][0]
    html = first.data["text/html"]
    assert "1.10 Affine" in html and "the sign of db is flipped" in html
    assert re.search(r"<img [^>]*src=\"data:image/(png|svg)", html)
    assert "In [4]" in html and "%timeit" in html  # the dropped lines, named by execution count
    assert "fail" in first.data["text/plain"] or "partial" in first.data["text/plain"]
    printed = "".join(o.get("text", "") for o in outputs[6] if o.output_type == "stream")
    assert "after fix 4.0 4.0 True" in printed
    assert "4 / 4" in [o for o in outputs[6] if o.output_type == "execute_result"][0].data["text/html"]
    assert any("image/png" in o.get("data", {}) for o in outputs[7])  # the learner's own plots still show
    assert not any(o.output_type == "error" for out in outputs for o in out)


def test_unknown_exercise_is_a_clear_error(tmp_path: Path) -> None:
    from grader.model.errors import GraderError

    with pytest.raises(GraderError, match="no exercise with id or title 'Afine'"):
        check("Afine", source=LAYERS, course=ROOT / "course.yml")


def test_no_course_found_says_how_to_name_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.model.errors import GraderError

    monkeypatch.delenv("GRADER_COURSE", raising=False)
    monkeypatch.chdir(tmp_path)
    assert check("Affine", source=LAYERS).passed  # none nearby: the course that comes with the grader
    monkeypatch.setattr("grader.release.kit.bundled_course", lambda: None)  # a grader without one
    with pytest.raises(GraderError, match="course='path/to/course.yml'"):
        check("Affine", source=LAYERS)


def test_grade_cell_returns_the_points_and_never_grades_inside_autograde(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The kernel's test-cell call: the points as a float; under nbgrader autograde 0.0 (the hook grades
    outside the kernel; a course without the hook gets zeros, never full marks)."""
    from grader import notebook

    kit = small_course(tmp_path / "kit", ["1.10"])
    monkeypatch.setattr(notebook, "_kernel_cells", lambda: ["import numpy as np", BUGGY])
    points = notebook.grade_cell("1.10", course=kit)
    assert isinstance(points, float) and 0 < points < 4 and "1.10 Affine" in capsys.readouterr().out
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    monkeypatch.setattr(notebook, "_grade", lambda *a, **k: pytest.fail("graded inside the kernel"))
    assert notebook.grade_cell("1.10", course=kit) == 0.0
