"""Hidden cases never leak: a hostile submission graded with a secret seed prints its inputs, raises them
(repr, str, "%.4f", digits spelled out in words) and returns wrong values so that messages would quote
expected and got. Every hidden value (inputs, upstream gradients, references), formatted many ways, is
then searched for in every back: JSON, HTML, terminal, CSV gradebook and Gradescope's results.json."""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
import yaml

from grader import cli
from grader.coursefile import load_course
from grader.engine.expected import reference_store
from grader.engine.grading import Options, grade
from grader.executors.batch import BatchOptions, grade_batch
from grader.judge.redact import redact, setting
from grader.kinds import dout_names, output_keys
from grader.kinds.inputs import case_arrays, upstream_gradient
from grader.model.course import Course
from grader.model.results import CaseId, CaseResult, to_json

from .conftest import ROOT, make_submission

SECRET = 8675309
EXERCISES = ("1.1", "1.10", "1.11")
WORDS = "zero one two three four five six seven eight nine".split()

LEAK = '''
import numpy as _np
_np.set_printoptions(precision=17, threshold=100000)
_WORDS = "zero one two three four five six seven eight nine".split()


def _leak(tag, *arrays):
    """Every way to write the values: repr, str, lists, %.4f, %.6g, %.2e and the digits in words."""
    parts = [tag]
    for a in arrays:
        flat = _np.asarray(a, dtype=float).ravel()
        parts += [repr(a), str(a), str(flat.tolist()), " ".join("%.4f" % v for v in flat),
                  " ".join("%.6g" % v for v in flat), " ".join("%.2e" % v for v in flat),
                  " / ".join(" ".join(_WORDS[int(c)] for c in ("%.4f" % abs(v)).replace(".", "")) for v in flat)]
    return "\\n".join(parts)
'''

HOSTILE = {
    "activations": LEAK + '''
class Sigmoid:
    def __init__(self):
        self.params = []; self.grads = []

    def forward(self, x):
        print(_leak("x", x))
        self.x = x
        return 2.0 / (1.0 + _np.exp(-_np.clip(x, -500, 500)))  # twice the sigmoid: wrong values

    def backward(self, dout):
        raise ValueError(_leak("dout and x", dout, self.x))
''',
    "layers": LEAK + '''
class Affine:
    def __init__(self, W, b):
        self.params = [W, b]; self.grads = [_np.zeros_like(W), _np.zeros_like(b)]

    def forward(self, x):
        print(_leak("x, W, b", x, *self.params))
        self.x = x
        return x @ self.params[0] + self.params[1]

    def backward(self, dout):
        print(_leak("dout", dout))
        self.grads[0][...] = self.x.T @ dout
        self.grads[1][...] = dout.mean(axis=0)  # 1/N too small: a hint that names N
        return dout @ self.params[0].T + 1.0
''',
    "losses": LEAK + '''
class MSELoss:
    def __init__(self, reduction="mean"):
        self.reduction = reduction

    def forward(self, pred, target):
        print(_leak("pred, target", pred, target))
        self.pred, self.target = pred, target
        return float(3.0 * _np.sum((pred - target) ** 2))

    def backward(self, dout=1.0):
        raise RuntimeError("%r %s %.4f " % (self.pred, self.target, self.pred.ravel()[0])
                           + _leak("pred", self.pred))
''',
}


@pytest.fixture(scope="module")
def small_course(tmp_path_factory: pytest.TempPathFactory) -> Course:
    """Three cheap exercises of the bundled course, in a course file of their own (batch grading loads
    the course from its file, and grades every exercise of it)."""
    data = yaml.safe_load((ROOT / "course.yml").read_text())
    data["hide"] = []  # the real solutions and tests stay hidden: conftest sets GRADER_HIDE
    first = data["assignments"][0]
    first["exercises"] = [e for e in first["exercises"] if e["id"] in EXERCISES]
    data["assignments"] = [first]
    path = tmp_path_factory.mktemp("course") / "course.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_course(path)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    subs = tmp_path_factory.mktemp("subs")
    make_submission(subs / "mallory", append=HOSTILE)
    return subs


def hidden_values(course: Course, seed: int) -> list[float]:
    """Every number the learner must not learn: inputs, upstream gradients and reference values."""
    store = reference_store(course, seed, "cpu")
    values: list[np.ndarray] = []
    for ex in course.exercises:
        groups = [("case", ex.cases)] + [(c.name, c.cases) for c in ex.checks if c.cases]
        for purpose, cases in groups:
            for i, case in enumerate(cases):
                values += case_arrays(ex, case, seed, purpose, i).values()
                refs = store.get(ex.id, purpose, i)
                values += refs.values()
                for key, d in zip(output_keys(ex), dout_names(ex)):
                    if key in refs and refs[key].ndim > 0:
                        values.append(upstream_gradient(refs[key].shape, seed, ex, purpose, i, d))
    return [float(v) for a in values for v in np.asarray(a, dtype=np.float64).ravel()]


def _significant(s: str) -> int:
    return len(s.lstrip("-+").replace(".", "").split("e")[0].lstrip("0"))


def spellings(v: float) -> Iterator[str]:
    """The value written the ways a learner (or numpy) would write it.

    Strings with fewer than 3 significant digits ("0", "1", "0.0", "0.66") are skipped: such strings
    occur in any report by chance (points, scores, tolerances, the "1" of 1/N) and carry under 7 bits."""
    forms = {repr(v), str(v), f"{v:.3f}", f"{v:.4f}", f"{v:.6g}", f"{v:.2e}", str(np.float32(v)),
             *(str(round(v, n)) for n in (2, 3, 4))}
    for s in forms:
        if _significant(s) >= 3:
            yield s.lstrip("-")  # "-0.7311" shows as "0.7311" after an abs()
    digits = f"{abs(v):.4f}".replace(".", "").lstrip("0")
    if len(digits) >= 4:
        yield " ".join(WORDS[int(c)] for c in digits)


_LEGIT_KEYS = {"points", "max_points", "score", "max_score", "weight", "duration_s", "schema_version", "rtol", "atol"}
_POINTS = re.compile(r"\d+(\.\d+)? ?/ ?\d+(\.\d+)?|width:\d+px|\(weight [\d.]+\)|\d+ s\b|[\d.]+ s\)")


def _strip_legit(value: object) -> object:
    """Points, scores and weights are the grader's numbers, not hidden data: blanked before searching."""
    if isinstance(value, dict):
        return {k: None if k in _LEGIT_KEYS else _strip_legit(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_legit(v) for v in value]
    return value


def _json_text(text: str) -> str:
    return json.dumps(_strip_legit(json.loads(text)))


def _html_text(text: str) -> str:
    return _POINTS.sub("#", re.sub(r"<style>.*?</style>", "", text, flags=re.S))


def _csv_text(text: str) -> str:
    """The gradebook without its points columns, per assignment ("A1") and per exercise ("1.10 Affine"):
    the grade itself, the one thing meant to be shown."""
    rows = list(csv.reader(io.StringIO(text)))
    return "\n".join(",".join(cell for cell, head in zip(row, rows[0])
                               if head not in ("total", "max_points") and not head.startswith("A")
                               and not head[:1].isdigit()) for row in rows)


def assert_no_leak(backs: dict[str, str], values: list[float], public: set[str]) -> None:
    """``public``: strings every report shows for other reasons (an exercise id such as "1.11")."""
    needles = {s for v in values for s in spellings(v)} - public
    assert len(needles) > 200
    for back, text in backs.items():
        found = sorted(s for s in needles if s in text)
        assert not found, f"{back} shows hidden values: {found[:10]}"


def _hidden_part(path: Path) -> dict[str, object]:
    """results.json less its visible tests: those are the public cases' (test_gradescope.py checks that
    they hold no hidden value; their public numbers would meet the short spellings here by chance)."""
    data = json.loads(path.read_text())
    return {**data, "tests": [t for t in data["tests"] if t["visibility"] != "visible"]}


def test_secret_seed_reveals_no_hidden_value(small_course: Course, hostile: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    sub = hostile / "mallory"
    files = {k: tmp_path / f"check.{k}" for k in ("json", "html", "gradescope")}
    rc = cli.main(["check", str(sub), "--course", str(small_course.path), "--seed", str(SECRET), "-j", "1",
                   "--json", str(files["json"]), "--html", str(files["html"]), "--gradescope", str(files["gradescope"])])
    assert rc == 1
    terminal = capsys.readouterr().out
    gradescope = json.loads(files["gradescope"].read_text())
    hidden_tests = [t for t in gradescope["tests"] if t["visibility"] == "after_due_date"]
    assert hidden_tests and any(t["visibility"] == "visible" for t in gradescope["tests"])
    out = tmp_path / "out"
    grade_batch(small_course, hostile, out, BatchOptions(seed=SECRET, gradescope=True))
    backs = {
        "check --json": _json_text(files["json"].read_text()),
        "check --html": _html_text(files["html"].read_text()),
        "check terminal": _POINTS.sub("#", terminal),
        "check --gradescope (hidden tests)": _POINTS.sub("#", json.dumps([t["output"] for t in hidden_tests]
                                                           + [gradescope["output"]])),
        "grade json": _json_text((out / "mallory.json").read_text()),
        "grade gradescope (hidden tests)": _json_text(json.dumps(_hidden_part(out / "mallory.gradescope.json"))),
        "grade gradebook.csv": _csv_text((out / "gradebook.csv").read_text()),
    }
    assert_no_leak(backs, hidden_values(small_course, SECRET), {e.id for e in small_course.exercises})
    data = json.loads(files["json"].read_text())
    exercises = {e["id"]: e for a in data["assignments"] for e in a["exercises"]}
    assert all(e["output"] == "" and e["duration_s"] == 0 for e in exercises.values())
    cases = [k for e in exercises.values() for c in e["checks"] for k in c["cases"]]
    assert all(k["details"].get("hidden") for k in cases)
    messages = "\n".join(k["message"] for k in cases)
    assert "ValueError raised (activations.py:" in messages and "RuntimeError raised (losses.py:" in messages
    assert "x (4, 5)" in {k["setting"] for k in cases} and "x (4, 5)" not in messages  # once: in the title
    assert "off by a factor of 1/N, N = 4 (batch size)" in messages  # 4: a public shape dimension
    assert "elements wrong" in messages and not re.search(r"\d+/\d+ elements", messages)


def test_public_seed_keeps_output_and_messages(small_course: Course, hostile: Path) -> None:
    result = grade(small_course, hostile / "mallory", Options(exercises=["1.1"]))
    text = to_json(result)
    x0 = case_arrays(small_course.exercise("1.1"), small_course.exercise("1.1").cases[0], small_course.public_seed,
                     "case", 0)["x"]
    assert f"{x0.ravel()[0]:.4f}" in result.exercises[0].output
    messages = "\n".join(k.message for c in result.exercises[0].checks for k in c.cases)
    assert "ValueError: dout and x" in messages and "worst at" in messages and "yours" in messages
    assert f"{x0.ravel()[0]:.4f}" in text


def test_hint_keeps_only_public_numbers(course: Course) -> None:
    from grader.judge.redact import public_hint

    where = setting(course, "1.10", CaseId("reference", "case", 0, "db"))
    assert where == "x (4, 5); W (5, 3); b (3,)"
    assert public_hint("off by a factor of 1/N, N = 4 (batch size): an extra 1/N", where) == \
        "off by a factor of 1/N, N = 4 (batch size): an extra 1/N"
    assert public_hint("off by a constant factor of 0.314159", where) == "off by a constant factor of …"
    assert public_hint("wrong only for the smallest inputs (x <= -0.271; right for x >= 1.83)", where) == \
        "wrong only for the smallest inputs (x <= -…; right for x >= …)"
    assert public_hint("unstable", "").startswith("numerically unstable on extreme inputs")
    # the case is found by its identity (purpose and index), never by parsing its name
    assert setting(course, "1.1", CaseId("stability", "stability", 0, "out")) == "x (4, 6)"


@pytest.mark.parametrize(("exception", "where", "shown"), [
    ("ValueError", "layers.py:12 in forward", "ValueError raised (layers.py:12)"),
    ("Three_One_Four", "layers.py:12 in forward", "an exception of the submission's own type raised (layers.py:12)"),
    ("KeyError", "three_one_four.py:1", "KeyError raised"),
    ("ValueError", "carol.ipynb, cell 3, line 2 in forward", "ValueError raised (carol.ipynb, cell 3, line 2)"),
])
def test_exception_text_is_replaced_by_type_and_place(course: Course, exception: str, where: str, shown: str) -> None:
    from grader.model.results import (
        AssignmentResult,
        CheckResult,
        ExerciseResult,
        SubmissionResult,
    )

    case = CaseResult("case 0 · dx", "error", f"dx: {exception}: three one four one five\nTraceback ...",
                      {"quantity": "dx", "exception": exception, "where": where})
    result = SubmissionResult("s", "c", "d", "secret", "cpu", "B", "0", [AssignmentResult("A1", "t", [
        ExerciseResult("1.10", "Affine", "layers.Affine", 3, [CheckResult("reference", 1, [case])],
                       output="three one four", duration_s=3.14159)])])
    redact(result, course)
    k = result.exercises[0].checks[0].cases[0]
    assert k.message.splitlines()[0] == f"dx: {shown}"
    assert "three" not in to_json(result) and "3.14" not in to_json(result)


def test_every_case_carries_its_identity_in_memory_only(course: Course, tmp_path: Path) -> None:
    """The engine stamps each case with (check, purpose, index, quantity, rule); the JSON schema is unchanged."""
    import json

    from grader.engine.grading import Options, grade
    from grader.model.results import to_json

    result = grade(course, ROOT / "solutions", Options(exercises=["1.1", "1.10"], lanes=1))
    cases = [(c.name, k) for e in result.exercises for c in e.checks for k in c.cases]
    assert cases and all(k.id is not None and k.id.check == check for check, k in cases)
    stability = [k for check, k in cases if check == "stability"]
    assert stability and all(k.id.purpose == "stability" and k.id.index == 0 for k in stability)
    for check, k in cases:
        if check in ("reference", "gradcheck"):
            assert k.id.purpose == "case" and k.name.startswith(f"case {k.id.index} ")
    assert all("id" not in k for k in _cases(json.loads(to_json(result))))


def _cases(data: dict) -> list[dict]:
    return [k for a in data["assignments"] for e in a["exercises"] for c in e["checks"] for k in c["cases"]]
