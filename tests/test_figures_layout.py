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


def _first_figure_as_shown(page: Path, tmp_path: Path) -> bytes:
    """The page's first figure as Chromium draws it (PNG bytes of a screenshot of the element)."""
    driver = _open(page, tmp_path)
    try:
        from selenium.webdriver.common.by import By

        img = driver.find_elements(By.TAG_NAME, "img")[0]
        driver.execute_script("arguments[0].scrollIntoView();", img)
        return img.screenshot_as_png
    finally:
        driver.quit()


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
    shot = _first_figure_as_shown(path, tmp_path)
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


def _bands(mask: np.ndarray, min_height: int) -> list[tuple[int, int]]:
    """Runs of consecutive True rows at least ``min_height`` long: the panel rows of a figure."""
    runs, start = [], None
    for y, on in enumerate([*mask, False]):
        if on and start is None:
            start = y
        elif not on and start is not None:
            if y - start >= min_height:
                runs.append((start, y))
            start = None
    return runs


@needs_browser
def test_a_wildly_wrong_conv_output_leaves_every_reference_panel_readable(course: Course, tmp_path: Path) -> None:
    """Yours a million times the reference: drawn on one colour scale the reference would be a flat,
    blank-looking colour. In the page as Chromium shows it, the figure is MAX_PANELS rows of panels,
    each row's reference and yours panels with contrast of their own, each cell several pixels tall."""
    wild = "_Conv2d = Conv2d\nclass Conv2d(_Conv2d):\n    def forward(self, x):\n        return super().forward(x) * 1e6 + 3e6\n"
    sub = make_submission(tmp_path / "sub", append={"cnn": wild})
    result = grade(course, sub, Options(exercises=["Conv2d"], plots=True))
    path = tmp_path / "conv.html"
    path.write_text(render(result))
    shot = _first_figure_as_shown(path, tmp_path)
    rgb = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"), dtype=np.float64)
    third = rgb.shape[1] // 3
    reference, yours = rgb[:, :third], rgb[:, third:2 * third]
    coloured = (np.abs(reference - 255).max(axis=2) > 30).mean(axis=1) > 0.35  # heatmap rows, not text
    bands = _bands(coloured, min_height=20)
    assert len(bands) == plots.MAX_PANELS, bands
    for top, bottom in bands:
        assert bottom - top >= 40  # 4 rows of cells, each 10 px or more
        for column in (reference, yours):
            assert _heatmap(column[top:bottom]).std() > 20, "a panel is one flat colour: blank-looking"


def _heatmap(band: np.ndarray) -> np.ndarray:
    """The heatmap's own pixels in one panel row of one column: its widest run of coloured columns (the
    colour bar is narrower), less a 3-pixel frame."""
    filled = (np.abs(band - 255).max(axis=2) > 30).mean(axis=0) > 0.8
    (left, right), = sorted(_bands(filled, 1), key=lambda r: r[0] - r[1])[:1]
    return band[3:-3, left + 3:right - 3]


def test_colour_bars_print_no_offset_over_the_panel_titles(monkeypatch: pytest.MonkeyPatch) -> None:
    """A difference of 1e7 once put matplotlib's "1e7" offset label on the colour bar's top, over the
    title of the panel row above: each tick now carries its own exponent and no offset is drawn."""
    from grader.judge.compare import to_json_array

    exp = np.random.default_rng(0).normal(size=(2, 2, 3, 3))
    got = exp + 3e7
    details = {"arrays": {"expected": to_json_array(exp), "got": to_json_array(got)}, "atol": 1e-6, "rtol": 1e-5,
               "worst_index": [0, 0, 0, 0]}
    drawn = []
    png = plots._png

    def keep(fig, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        fig.canvas.draw()
        drawn.append([ax.yaxis.get_offset_text().get_text() for ax in fig.axes if ax.get_label() == "<colorbar>"])
        return png(fig, *args, **kwargs)

    monkeypatch.setattr(plots, "_png", keep)
    plots.heatmap("conv", details)
    assert len(drawn[0]) == 3 * 4  # a colour bar per panel, 4 rows of (reference, yours, difference)
    assert drawn[0] == [""] * len(drawn[0])
