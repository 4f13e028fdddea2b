"""The instructor's acceptance run (issue 14): a class folder of 14 mixed submissions graded with
`grader grade`, on a course cut to four exercises of A1 (three modules) with a 2 s time limit.

Every submission that could not be graded is named with its reason in the printed summary, the
gradebook and the class dashboard; the gradebook has per-exercise columns and keeps names as given; a
module that hangs at import costs its time once; editing course.yml and rerunning regrades everyone.
"""
from __future__ import annotations

import csv
import io
import json
import shutil
import time
import zipfile
from pathlib import Path

import pytest
import yaml

from grader import cli

from .conftest import EXERCISES as STUBS
from .conftest import ROOT, SOLUTIONS, make_submission
from .mutants import find

KEEP = ("1.1", "1.4", "1.10", "1.11")  # Sigmoid, ReLU (activations.py), Affine (layers.py), MSELoss (losses.py)
MODULES = ("activations", "layers", "losses")
LIMIT_S = 2.0

UNGRADEABLE = {  # entry -> words of the reason it is named with
    "empty": "no .py or .ipynb file found (it is empty)",
    "frank": "none is a module of the course",
    "gina.zip": "not a readable zip archive",
    "lee": "several submissions for student 'lee'",
    "lee.zip": "several submissions for student 'lee'",
}


def _course(folder: Path, points: dict[str, float] | None = None) -> Path:
    data = yaml.safe_load((ROOT / "course.yml").read_text())
    data["hide"] = []  # the repository's solutions and tests stay hidden: conftest sets GRADER_HIDE
    data["limits"] = {**data["limits"], "timeout_s": LIMIT_S}
    first = data["assignments"][0]
    first["exercises"] = [e for e in first["exercises"] if e["id"] in KEEP]
    for e in first["exercises"]:
        e["points"] = (points or {}).get(e["id"], e["points"])
    data["assignments"] = [first]
    path = folder / "course.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _code(module: str) -> str:
    return (SOLUTIONS / f"{module}.py").read_text()


def _class_folder(subs: Path) -> None:
    subs.mkdir()
    make_submission(subs / "alice")                                             # correct folder
    cells = [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": _code(m)}
             for m in MODULES]                                                  # correct notebook, any name
    (subs / "carol.ipynb").write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    with zipfile.ZipFile(subs / "dave.zip", "w") as z:                          # code nested in hw1/src/
        z.writestr("hw1/README.md", "my homework")
        for m in MODULES:
            z.writestr(f"hw1/src/{m}.py", _code(m))
    (subs / "empty").mkdir()                                                    # nothing in it
    (subs / "frank").mkdir()                                                    # unrelated files
    (subs / "frank" / "notes.txt").write_text("todo")
    (subs / "frank" / "scratch.py").write_text("print('hello')\n")
    (subs / "gina.zip").write_bytes(b"PK\x03\x04 this is not really a zip")     # corrupt archive
    make_submission(subs / "hal", append={"layers": "def broken(:\n    pass"})  # syntax error in layers.py
    make_submission(subs / "ivy", replace={"activations": "while True:\n    pass\n"})  # hangs at import
    (subs / "jay").mkdir()                                                      # partly done: activations only
    shutil.copyfile(SOLUTIONS / "activations.py", subs / "jay" / "activations.py")
    bug = find("Affine", "db averaged")                                                  # a planted bug
    kim = make_submission(subs / "kim")
    (kim / "layers.py").write_text(bug.apply((kim / "layers.py").read_text()))
    make_submission(subs / "Peggy O'Neil")                                      # a name with a space and a quote
    make_submission(subs / "lee")                                               # the same student twice
    shutil.make_archive(str(subs / "lee"), "zip", subs / "lee")
    make_submission(subs / "bob", base=STUBS)                                   # the stubs, untouched


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("class")
    course = _course(root)
    subs = root / "subs"
    _class_folder(subs)
    assert len(list(subs.iterdir())) == 14
    out = root / "results"
    capsys_out = io.StringIO()
    t0 = time.perf_counter()
    from contextlib import redirect_stdout

    with redirect_stdout(capsys_out):
        code = cli.main(["grade", str(subs), "--out", str(out), "-j", "2", "--course", str(course)])
    seconds = time.perf_counter() - t0
    assert code == 0
    assert cli.main(["report", "--class", str(out), "--html", str(root / "dashboard.html")]) == 0
    return {"root": root, "course": course, "subs": subs, "out": out, "printed": capsys_out.getvalue(),
            "seconds": seconds, "dashboard": (root / "dashboard.html").read_text()}


def _gradebook(out: Path) -> tuple[list[str], dict[str, dict[str, str]]]:
    """The header, and each student's row with its per-exercise columns ("1.10 Affine") also under the id."""
    rows = list(csv.DictReader(io.StringIO((out / "gradebook.csv").read_text())))
    for r in rows:
        r.update({k.split(" ")[0]: v for k, v in list(r.items()) if k and k.split(" ")[0] in KEEP})
    return list(rows[0]), {r["student"]: r for r in rows}


def test_every_ungradeable_submission_is_named_with_its_reason(run: dict) -> None:
    import html

    _, rows = _gradebook(run["out"])
    dashboard = html.unescape(run["dashboard"])
    for entry, reason in UNGRADEABLE.items():
        student = entry.removesuffix(".zip") if entry != "lee.zip" else entry
        line = next((ln for ln in run["printed"].splitlines() if ln.strip().startswith(f"{student}:")), "")
        assert reason in line, (entry, run["printed"])
        assert reason in rows[student]["reason"], rows[student]
        assert f"{student}" in dashboard and reason in dashboard, entry
    assert "ivy" in dashboard and "timeout" in dashboard  # the hanging import is listed among the timeouts


def test_the_gradebook_has_per_exercise_columns_and_names_as_given(run: dict) -> None:
    header, rows = _gradebook(run["out"])
    assert {e for e in KEEP if any(h.startswith(f"{e} ") for h in header)} == set(KEEP)
    assert "Peggy O'Neil" in rows and "Peggy_O_Neil" not in rows
    full = rows["alice"]["total"]
    for student in ("alice", "carol", "dave", "Peggy O'Neil"):
        assert rows[student]["total"] == full and all(float(rows[student][e]) > 0 for e in KEEP), student
    assert float(rows["bob"]["total"]) == 0
    # each broken part costs its own exercises only
    lost = {s: {e for e in KEEP if float(rows[s][e]) < float(rows["alice"][e])} for s in ("hal", "ivy", "jay", "kim")}
    assert lost == {"hal": {"1.10"}, "ivy": {"1.1", "1.4"}, "jay": {"1.10", "1.11"}, "kim": {"1.10"}}


def test_a_hanging_import_costs_its_time_once(run: dict) -> None:
    ivy = json.loads((run["out"] / "ivy.json").read_text())
    exercises = {e["id"]: e for a in ivy["assignments"] for e in a["exercises"]}
    for ex_id in ("1.1", "1.4"):
        cases = [k for c in exercises[ex_id]["checks"] for k in c["cases"]]
        assert any(f"activations.py did not finish importing within {LIMIT_S:g} s" in k["message"] for k in cases)
    assert ivy["duration_s"] < 2 * LIMIT_S + 3, ivy["duration_s"]


def test_editing_the_course_regrades_everyone(run: dict) -> None:
    out = run["out"]
    before = {p.name: json.loads(p.read_text())["course_digest"] for p in out.glob("*.json")}
    _, rows_before = _gradebook(out)
    _course(run["root"], points={"1.10": 7})  # Affine now worth 7 points
    printed = io.StringIO()
    from contextlib import redirect_stdout

    with redirect_stdout(printed):
        assert cli.main(["grade", str(run["subs"]), "--out", str(out), "-j", "2", "--course", str(run["course"])]) == 0
    assert "skipped 0 already graded" in printed.getvalue()
    after = {p.name: json.loads(p.read_text())["course_digest"] for p in out.glob("*.json")}
    assert set(after) == set(before) and len(before) == 12  # 14 entries less the duplicate pair; ungradeable ones included
    assert all(after[name] != before[name] for name in before)
    _, rows = _gradebook(out)
    assert float(rows["alice"]["1.10"]) == 7 and float(rows["alice"]["1.10"]) != float(rows_before["alice"]["1.10"])
    assert float(rows["kim"]["max_points"]) == float(rows["alice"]["total"])
