"""Every case is named by its setting (issue 11): terminal, HTML and JSON say "case 1 (reduction='sum';
pred (5, 2); target (5, 2)) · loss", so a learner need not count cases in course.yml; and
`grader case EXERCISE N --save FILE` writes that public case for a REPL (public seed only)."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from grader.backs import html, terminal
from grader.model.course import Course
from grader.model.results import from_dict, to_dict, to_json

from .conftest import ROOT, SOLUTIONS, cli_env, run_grade
from .mutants import find


def test_setting_names_hyper_parameters_and_shapes(course: Course) -> None:
    conv = course.exercise("Conv2d")
    assert conv.setting("case", 3) == "padding='same'; x (2, 2, 5, 5); W (3, 2, 2, 4); b (3,)"
    assert course.exercise("Sigmoid").setting("stability", 0) == "x (4, 6)"  # a check's own cases
    assert conv.setting("case", 99) == "" and conv.setting("case", None) == ""


def test_every_case_of_a_graded_result_is_named_by_its_setting(course: Course, tmp_path: Path) -> None:
    bug = find("MSELoss", "forward sums instead of averaging")
    result = run_grade(course, bug.submission(tmp_path / "sub"), "1.11")
    cases = [k for c in result.exercises[0].checks for k in c.cases]
    assert cases and all(k.setting for k in cases)
    failing = next(k for k in cases if not k.passed and k.name.startswith("case 0"))
    setting = "pred (4, 3); target (4, 3)"  # the default reduction (mean) is not restated
    assert failing.setting == setting
    assert failing.title == f"case 0 ({setting}) · {failing.name.split(' · ')[1]}"
    # JSON keeps it, and reads it back
    k_json = next(k for c in to_dict(result)["assignments"][0]["exercises"][0]["checks"] for k in c["cases"]
                  if k["name"] == failing.name)
    assert k_json["setting"] == setting
    back = from_dict(json.loads(to_json(result)))
    assert any(k.title == failing.title for c in back.exercises[0].checks for k in c.cases)
    # the terminal and the HTML show it where they name the case
    out = io.StringIO()
    terminal.render(result, Console(file=out, width=400, no_color=True))
    assert failing.title in out.getvalue()
    assert html.escape(failing.title) in html.render(result, with_figures=False)


@pytest.fixture(scope="module")
def env(private_cache: Path) -> dict[str, str]:
    return cli_env(private_cache)


def _case(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader", "case", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_case_command_writes_a_public_case_that_reproduces_the_reference(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "case.npz"
    proc = _case(env, "Conv2d", "3", "--save", str(path))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == (f"wrote {path}: exercise 3.6 (Conv2d), case 3 "
                        "(padding='same'; x (2, 2, 5, 5); W (3, 2, 2, 4); b (3,))")
    assert "  dout: float64 (2, 3, 5, 5)" in lines and "  expected_dW: float64 (3, 2, 2, 4)" in lines
    snippet = lines[lines.index("load it:") + 1:]
    assert len(snippet) == 3
    # the snippet runs as printed, in a folder with the learner's modules, and shows a zero error
    work = tmp_path / "work"
    work.mkdir()
    for f in SOLUTIONS.glob("*.py"):
        (work / f.name).write_text(f.read_text())
    ran = subprocess.run([sys.executable, "-c", "\n".join(s.strip() for s in snippet)], cwd=work,
                         capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    assert float(ran.stdout) < 1e-12
    # and backward with the stored upstream gradient gives the stored gradients
    sys.path.insert(0, str(work))
    try:
        from cnn import Conv2d  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(work))
    c = np.load(path)
    assert json.loads(str(c["hyper"])) == {"padding": "same"}
    layer = Conv2d(c["W"].copy(), c["b"].copy(), stride=1, padding="same")
    layer.forward(c["x"])
    np.testing.assert_allclose(layer.backward(c["dout"]), c["expected_dx"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.grads[0], c["expected_dW"], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("how", ["env", "option"])
def test_case_command_refuses_a_secret_seed(env: dict[str, str], tmp_path: Path, how: str) -> None:
    path = tmp_path / "case.npz"
    secret = "170141183460469231731687303715884105727"
    if how == "env":
        proc = _case({**env, "GRADER_SEED": secret}, "Sigmoid", "0", "--save", str(path))
    else:
        proc = _case(env, "Sigmoid", "0", "--save", str(path), "--seed", secret)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == ("grader: error: grader case writes public cases only, and a secret seed is in "
                                   "effect (--seed or $GRADER_SEED): unset it to save the public case")
    assert not path.exists() and secret not in proc.stdout + proc.stderr


def test_case_command_names_the_cases_there_are(env: dict[str, str], tmp_path: Path) -> None:
    proc = _case(env, "Sigmoid", "7", "--save", str(tmp_path / "c.npz"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == "grader: error: exercise 1.1 (Sigmoid) has cases 0 to 1; there is no case 7"
