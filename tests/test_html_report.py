"""The HTML report and the class dashboard: self-contained, built from the JSON alone, and they open in a
real browser (headless Chromium) with no console error and every image decoded."""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from grader.backs.dashboard import render_dashboard
from grader.backs.html import render
from grader.engine.grading import Options, grade
from grader.model.course import Course
from grader.model.results import from_dict, to_json

from .conftest import EXERCISES, SOLUTIONS, make_submission
from .mutants import MUTANTS, Mutant, combined

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


# the exercises bugged here (those of the first catalogue, as before the mutants): one bug each
A1_A2 = ("Sigmoid", "Tanh", "ReLU", "HardTanh", "LeakyReLU", "ELU", "PReLU", "Softmax", "LogSoftmax", "Affine",
         "MSELoss", "SoftmaxCrossEntropy")


@pytest.fixture(scope="module")
def buggy_result(course: Course, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """The whole course graded on a submission with one planted bug in every exercise, figures collected."""
    chosen: dict[str, Mutant] = {}
    for bug in MUTANTS:
        if bug.exercise in A1_A2 and bug.exercise not in chosen and bug.check in ("reference", "gradcheck"):
            chosen[bug.exercise] = bug
    sub = make_submission(tmp_path_factory.mktemp("buggy") / "sub", replace=combined(list(chosen.values())))
    return grade(course, sub, Options(plots=True))


@pytest.fixture(scope="module")
def page(buggy_result) -> str:  # noqa: ANN001
    return render(buggy_result)


def test_report_is_self_contained_and_small(buggy_result, page: str) -> None:  # noqa: ANN001
    assert len(page.encode()) < 5 * 1024 * 1024
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page), "the page must not load anything"
    assert "<script" not in page
    # a figure per failing exercise; the capstone's networks (A7) stop at the bugged Affine's exception, which has none
    failing = [e for e in buggy_result.exercises if e.status != "pass" and not e.id.startswith("7.")]
    assert len(failing) >= 10 and page.count("data:image/png;base64,") >= len(failing)
    assert "hint: your dW looks like the reference transposed" in page or "transposed" in page


def test_report_rebuilt_from_json_is_identical(buggy_result, page: str) -> None:  # noqa: ANN001
    again = from_dict(json.loads(to_json(buggy_result)))
    assert render(again) == page


def test_dashboard_counts(course: Course) -> None:
    results = [grade(course, SOLUTIONS, Options(exercises=["1.1", "1.2"])),
               grade(course, EXERCISES, Options(exercises=["1.1", "1.2"]))]
    page = render_dashboard(results)
    assert "2 submissions" in page and "1 with full marks" in page
    assert ">1/2<" in page
    assert "not implemented" in page


def _open(path: Path, tmp_path: Path):  # noqa: ANN202
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
                 "--window-size=1200,1600"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    driver.get(path.as_uri())
    return driver


needs_browser = pytest.mark.skipif(
    not (CHROMIUM and DRIVER) and not os.environ.get("CI"), reason="chromium and chromedriver are not installed")


@needs_browser
@pytest.mark.parametrize("kind", ["report", "dashboard"])
def test_opens_in_headless_chromium(kind: str, page: str, buggy_result, course: Course,  # noqa: ANN001
                                    tmp_path: Path) -> None:
    if kind == "report":
        html = page
    else:
        html = render_dashboard([buggy_result, grade(course, SOLUTIONS, Options(exercises=["1.1"]))])
    path = tmp_path / f"{kind}.html"
    path.write_text(html)
    driver = _open(path, tmp_path)
    try:
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight]);")
        assert images, "no images on the page"
        assert all(done and w > 0 and h > 0 for done, w, h in images), images
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
        shot = driver.get_screenshot_as_png()
    finally:
        driver.quit()
    import io

    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(shot)).convert("L"), dtype=np.float64)
    assert pixels.std() > 10, "the screenshot is blank"
