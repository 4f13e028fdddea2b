"""benchmarks/compare_json.py, the before/after check of issue 16's refactor: its normaliser must drop
exactly what varies between two runs of the same code, and its diff must name every other change."""
from __future__ import annotations

import copy
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load() -> ModuleType:
    """benchmarks/ is no package: load the script by path."""
    spec = importlib.util.spec_from_file_location("compare_json", ROOT / "benchmarks" / "compare_json.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


cj = _load()


def _result(kept: str = "kept 2978/6000 = 0.4963, expected 1-p = 0.5 (z = -0.57, allowed |z| <= 5.5)",
            ks: str = "Kolmogorov-Smirnov distance to U(0.125, 0.333333) is 0.0079 (allowed 0.0459)",
            duration: float = 1.5) -> dict[str, Any]:
    """A cut-down ``grader check --json`` result with the fields that vary between runs."""
    return {
        "schema_version": 1, "submission": "/tmp/x/solutions", "grader_version": "0.1.0", "seed": "public",
        "duration_s": duration, "timings": {"startup": 0.01, "references": duration},
        "points": 4.0, "max_points": 4.0, "passed": True,
        "assignments": [{"id": "A5", "exercises": [{
            "id": "5.1", "title": "Dropout", "duration_s": duration / 3, "points": 4.0, "status": "pass",
            "checks": [
                {"name": "reference", "score": 1.0, "status": "pass", "cases": [
                    {"name": "case 0 · out", "status": "pass", "message": "out (4, 5): all 20 elements match",
                     "details": {"n_bad": 0, "n": 20}}]},
                {"name": "stochastic", "score": 1.0, "status": "pass", "cases": [
                    {"name": "case 0 · keep rate", "status": "pass", "message": kept,
                     "details": {"rule": "keep rate"}},
                    {"name": "case 1 · slopes uniform", "status": "pass", "message": ks,
                     "details": {"rule": "slopes uniform"}},
                    {"name": "case 0 · backward reuses forward's factors", "status": "pass",
                     "message": "dx (100, 60): all 6000 elements match", "details": {"n_bad": 0, "n": 6000}}]},
            ]}]}],
    }


def test_normalise_drops_timings_version_and_path() -> None:
    got = cj.normalise(_result())
    assert "duration_s" not in got and "timings" not in got
    assert "grader_version" not in got and "submission" not in got
    assert "duration_s" not in got["assignments"][0]["exercises"][0]
    assert got["seed"] == "public" and got["points"] == 4.0


def test_normalise_masks_the_figures_of_the_stochastic_check_only() -> None:
    raw = _result()
    got = cj.normalise(raw)
    reference, stochastic = got["assignments"][0]["exercises"][0]["checks"]
    keep, ks, backward = stochastic["cases"]
    assert keep["message"] == "kept #/# = #, expected #-p = # (z = #, allowed |z| <= #)"
    assert keep["status"] == "pass" and keep["name"] == "case 0 · keep rate" and stochastic["score"] == 1.0
    assert "#" in ks["message"] and "0.0079" not in ks["message"]
    assert backward["details"] == {"n_bad": "#", "n": "#"}
    assert reference["cases"][0]["message"] == "out (4, 5): all 20 elements match"  # deterministic: kept
    assert reference["cases"][0]["details"] == {"n_bad": 0, "n": 20}
    assert raw["assignments"][0]["exercises"][0]["checks"][1]["cases"][0]["message"].startswith("kept 2978")


def test_normalise_masks_a_reason_quoting_the_stochastic_check_and_the_scratch_folder() -> None:
    a, b = _result(), _result()
    for r, n, tmp in ((a, 1134, "btgjg3d_"), (b, 1074, "6ow_9j6v")):
        ex = r["assignments"][0]["exercises"][0]
        ex["reason"] = f"stochastic: kept {n}/5600 = {n / 5600:.4f}, expected 1-p = 0.8"
        ex["output"] = f"/tmp/grader-sub-{tmp}/optim.py:555: RuntimeWarning: invalid value encountered in sqrt"
    na, nb = cj.normalise(a), cj.normalise(b)
    assert list(cj.diff(na, nb)) == []
    assert na["assignments"][0]["exercises"][0]["output"].startswith("<scratch>/optim.py:555: RuntimeWarning")
    b["assignments"][0]["exercises"][0]["reason"] = "reference: out (4, 5): 1/20 elements wrong"
    assert [p for p, _, _ in cj.diff(na, cj.normalise(b))] == ["$.assignments[A5].exercises[5.1].reason"]


def test_unseeded_bugs_have_every_check_masked() -> None:
    a, b = _result(), _result()
    b["assignments"][0]["exercises"][0]["checks"][0]["cases"][0]["message"] = "out (4, 5): all 21 elements match"
    assert len(list(cj.diff(cj.normalise(a), cj.normalise(b)))) == 1
    assert list(cj.diff(cj.normalise(a, unseeded=True), cj.normalise(b, unseeded=True))) == []
    key = '["4.28", "draws from np.random, not from rng"]'
    side_a = cj.compared({"exit": 1, "json": a, "stderr": ""}, key)
    assert side_a == cj.compared({"exit": 1, "json": b, "stderr": ""}, key)
    assert side_a != cj.compared({"exit": 0, "json": b, "stderr": ""}, key)  # the exit status is compared too


def test_two_runs_of_the_same_code_compare_equal() -> None:
    a = _result(duration=1.5)
    b = _result(kept="kept 2992/6000 = 0.4987, expected 1-p = 0.5 (z = -0.21, allowed |z| <= 5.5)",
                ks="Kolmogorov-Smirnov distance to U(0.125, 0.333333) is 0.0073 (allowed 0.0459)", duration=9.0)
    assert list(cj.diff(cj.normalise(a), cj.normalise(b))) == []


def test_diff_names_each_changed_leaf_by_id_and_name() -> None:
    a, b = _result(), _result()
    ex = b["assignments"][0]["exercises"][0]
    ex["checks"][0]["cases"][0]["message"] = "out (4, 5): 1/20 elements wrong"
    ex["checks"][1]["status"] = "fail"
    ex["checks"][1]["cases"][0]["status"] = "fail"  # a verdict of a random case still counts
    del b["passed"]
    b["error"] = "boom"
    got = {path: (x, y) for path, x, y in cj.diff(cj.normalise(a), cj.normalise(b))}
    assert got == {
        "$.passed": (True, cj.ABSENT),
        "$.error": (cj.ABSENT, "boom"),
        "$.assignments[A5].exercises[5.1].checks[reference].cases[case 0 · out].message":
            ("out (4, 5): all 20 elements match", "out (4, 5): 1/20 elements wrong"),
        "$.assignments[A5].exercises[5.1].checks[stochastic].status": ("pass", "fail"),
        "$.assignments[A5].exercises[5.1].checks[stochastic].cases[case 0 · keep rate].status": ("pass", "fail"),
    }


def test_diff_lists_of_different_length_and_types() -> None:
    got = list(cj.diff({"a": [1, 2, {"id": "x"}], "n": 1}, {"a": [1, 3], "n": 1.0}))
    assert got == [("$.a[1]", 2, 3), ("$.a[2]", {"id": "x"}, cj.ABSENT), ("$.n", 1, 1.0)]
    assert list(cj.diff(copy.deepcopy(_result()), _result())) == []


@pytest.mark.slow
def test_end_to_end_solutions_against_head() -> None:
    """The whole script on one submission: this tree's HEAD against the tree on disk."""
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "compare_json.py"), "--base", "HEAD",
                           "--only", "solutions"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1/1 same" in proc.stdout and "same       solutions" in proc.stdout
