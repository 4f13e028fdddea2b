"""Figures people can read and pages that open on what needs work: a 4-D tensor drawn as small
multiples (one row per (sample, channel) slice, the worst first), reference and yours each on a scale
that shows them, curves only for exercises that did not pass (unless all figures are asked for), and
passing or not-implemented exercises collapsed in the HTML."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from grader.backs import plots
from grader.backs.html import render
from grader.engine.grading import Options, grade
from grader.model.course import Course

from .conftest import EXERCISES, SOLUTIONS, make_submission
from .mutants import find
from .test_html_report import _open, needs_browser


def test_slices_are_ordered_worst_first() -> None:
    exp = np.zeros((2, 3, 4, 4))
    got = exp.copy()
    got[1, 2] += 5.0          # every cell wrong in sample 1, channel 2
    got[0, 1, 0, 0] += 1.0    # one cell wrong in sample 0, channel 1
    bad = np.abs(got - exp) > 1e-6
    panels = plots._panels(exp, got, bad)
    assert [idx for _, idx in panels][:2] == [(1, 2), (0, 1)] and len(panels) == plots.MAX_PANELS
    assert panels[0][0] == "sample 1, channel 2"
    assert plots._panels(exp[0, 0], got[0, 0], bad[0, 0]) == [("", ())]


@pytest.fixture(scope="module")
def conv_result(course: Course, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    bug = find("Conv2d", "stride applied")
    sub = make_submission(tmp_path_factory.mktemp("conv") / "sub")
    path = sub / f"{bug.module}.py"
    path.write_text(bug.apply(path.read_text()))
    return grade(course, sub, Options(exercises=["Conv2d"], plots=True))


def test_four_d_heatmap_is_small_multiples(conv_result) -> None:  # noqa: ANN001
    figs = [f for f in plots.figures(conv_result) if f.check == "reference"]
    assert figs
    image = Image.open(io.BytesIO(figs[0].png))
    assert image.height > 1.6 * image.width * 0.5  # several rows of panels, not one striped strip
    rgb = np.asarray(image.convert("RGB"), dtype=np.float64)
    left = rgb[int(0.1 * image.height):, : image.width // 3]
    assert left.std() > 20, "the reference panels are blank"


@needs_browser
def test_html_shows_a_readable_four_d_heatmap(conv_result, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "conv.html"
    path.write_text(render(conv_result))
    driver = _open(path, tmp_path)
    try:
        from selenium.webdriver.common.by import By

        img = driver.find_elements(By.TAG_NAME, "img")[0]
        driver.execute_script("arguments[0].scrollIntoView();", img)
        shot = img.screenshot_as_png
    finally:
        driver.quit()
    pixels = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"), dtype=np.float64)
    third = pixels.shape[1] // 3
    assert pixels.shape[0] > 300
    assert pixels[:, :third].std() > 20 and pixels[:, third:2 * third].std() > 20


def test_curves_only_for_what_did_not_pass(course: Course) -> None:
    passing = grade(course, SOLUTIONS, Options(exercises=["Sigmoid"], plots=True))
    assert passing.exercises[0].status == "pass" and "curve" not in passing.exercises[0].plot_data
    everything = grade(course, SOLUTIONS, Options(exercises=["Sigmoid"], plots=True, all_figures=True))
    assert "curve" in everything.exercises[0].plot_data


def test_passing_and_not_implemented_start_closed(course: Course, conv_result) -> None:  # noqa: ANN001
    stubs = grade(course, EXERCISES, Options(exercises=["Sigmoid"]))
    ok = grade(course, SOLUTIONS, Options(exercises=["Tanh"]))
    assert "<details id='ex-1.1'>" in render(stubs) and "<details id='ex-1.2'>" in render(ok)
    assert "<details id='ex-3.6' open>" in render(conv_result)
