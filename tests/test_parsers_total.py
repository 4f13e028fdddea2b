"""Issue 10, fail closed: every parse of untrusted input is bounded and total.

Child replies, learner sources, submissions and course files that are hostile or broken end as an
``error`` result, a :class:`SubmissionError` naming the file or member, or a :class:`CourseError` naming
file:line; never as a traceback, a hang or a runaway allocation.
"""
from __future__ import annotations

import importlib.util
import json
import struct
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from grader.sandbox.protocol import FrameError, Unpacker
from grader.sandbox.replies import ChildFailure, parse_reply

ROOT = Path(__file__).resolve().parent.parent
LEN = struct.Struct(">Q")


def frame(data: bytes) -> bytes:
    return LEN.pack(len(data)) + data


def receive_and_parse(head: bytes, n_steps: int = 1) -> None:
    """What the parent does with a child's bytes: frame them, then rebuild the values (both must fail
    with the two exception types the runner turns into an ``error`` status)."""
    u = Unpacker()
    u.feed(frame(head))
    msg = u.message()
    assert msg is not None
    parse_reply(msg[0], msg[1], n_steps)


# --------------------------------------------------------------------------- child replies

DEEP = 400_000
HOSTILE_HEADERS = {
    "deep-list": b'{"n_arrays": 0, "results": ' + b"[" * DEEP + b"]" * DEEP + b"}",
    "deep-object": b'{"n_arrays": 0, "results": ' + b'{"a":' * DEEP + b"1" + b"}" * DEEP + b"}",
    "deep-unclosed": b'{"n_arrays": 0, "x": ' + b"[" * DEEP,
    "step-infinity": b'{"n_arrays": 0, "results": [], "error": {"type": "E", "message": "m"}, "step": Infinity}',
    "step-minus-infinity": b'{"n_arrays": 0, "results": [], "error": {"type": "E", "message": "m"}, "step": -Infinity}',
    "step-nan": b'{"n_arrays": 0, "results": [], "error": {"type": "E", "message": "m"}, "step": NaN}',
    "step-1e400": b'{"n_arrays": 0, "results": [], "error": {"type": "E", "message": "m"}, "step": 1e400}',
    "step-huge-int": b'{"n_arrays": 0, "results": [], "error": {"type": "E", "message": "m"}, "step": '
                     + b"9" * 5000 + b"}",
    "n-arrays-huge-int": b'{"n_arrays": ' + b"1" * 5000 + b"}",
    "loop-done-infinity": b'{"n_arrays": 0, "results": [{"kind": "loop", "type": "loop", "done": Infinity, '
                          b'"columns": []}], "error": null}',
}


@pytest.mark.parametrize("name", list(HOSTILE_HEADERS))
def test_hostile_reply_headers_are_malformed_replies(name: str) -> None:
    with pytest.raises((FrameError, ChildFailure)) as err:
        receive_and_parse(HOSTILE_HEADERS[name])
    if isinstance(err.value, ChildFailure):
        assert err.value.status == "error"
        assert str(err.value).startswith("the child sent a malformed reply (")


@pytest.mark.parametrize("header", [
    {"results": [], "error": {"type": "E", "message": "m"}, "step": float("inf")},
    {"results": [], "error": {"type": "E", "message": "m"}, "step": float("nan")},
    {"results": [{"kind": "loop", "type": "loop", "done": 1, "columns": [
        {"kind": "stacked", "type": "t"}]}], "error": None},
], ids=["inf-step", "nan-step", "stacked-without-array"])
def test_parse_reply_is_total(header: dict[str, Any]) -> None:
    """Whatever the header holds, the reply parser raises ChildFailure and nothing else."""
    with pytest.raises(ChildFailure) as err:
        parse_reply(header, [], 1)
    assert str(err.value).startswith("the child sent a malformed reply (")


def test_a_nested_header_within_the_bound_still_parses() -> None:
    nested: Any = 1
    for _ in range(20):
        nested = {"a": [nested]}
    u = Unpacker()
    u.feed(frame(json.dumps({"n_arrays": 0, "x": nested, "f": 1.5e300, "i": -(2 ** 62)}).encode()))
    msg = u.message()
    assert msg is not None and msg[0]["f"] == 1.5e300 and msg[0]["i"] == -(2 ** 62)


@pytest.mark.parametrize("descr", [b"<f3", b"<i7", b"<c1", b"<u9"])
def test_npy_frames_with_impossible_dtypes_are_frame_errors(descr: bytes) -> None:
    header = b"{'descr': '" + descr + b"', 'fortran_order': False, 'shape': (2,), }"
    head = header + b" " * (64 - (10 + len(header) + 1) % 64) + b"\n"
    data = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(head)) + head + b"\0" * 16
    u = Unpacker()
    u.feed(frame(b'{"n_arrays": 1}') + frame(data))
    with pytest.raises(FrameError):
        u.message()


def test_npy_frame_with_an_overflowing_shape_is_a_frame_error() -> None:
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999, 99999999999), }"
    head = header + b" " * (64 - (10 + len(header) + 1) % 64) + b"\n"
    data = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(head)) + head
    u = Unpacker()
    u.feed(frame(b'{"n_arrays": 1}') + frame(data))
    with pytest.raises(FrameError):
        u.message()


def _sandbox() -> ModuleType:
    """The child's module, loaded by path as the child does (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("_sandbox_under_test", ROOT / "grader" / "sandbox" / "child.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.mark.parametrize("value, shown", [
    (np.array([1, "a"], dtype=object), "numpy.ndarray of dtype object"),
    (np.array(["ab", "c"]), "numpy.ndarray of dtype <U2"),
    (np.array([b"ab"]), "numpy.ndarray of dtype |S2"),
    (np.zeros(2, dtype=[("a", "<f8"), ("b", "<i4")]), "numpy.ndarray of dtype [('a', '<f8'), ('b', '<i4')]"),
    (np.array(["2024-01-01"], dtype="datetime64[D]"), "numpy.ndarray of dtype datetime64[D]"),
    (np.array([1], dtype="timedelta64[s]"), "numpy.ndarray of dtype timedelta64[s]"),
    (np.zeros(2, dtype="V4"), "numpy.ndarray of dtype |V4"),
    (np.str_("x"), "numpy.str_"),
    (np.datetime64("2024-01-01"), "numpy.datetime64"),
    (10 ** 30, "builtins.int out of the 64-bit range"),
], ids=["object", "unicode", "bytes", "structured", "datetime", "timedelta", "void", "np-str", "np-datetime", "big-int"])
def test_non_numeric_arrays_encode_as_other(value: Any, shown: str) -> None:
    sandbox = _sandbox()
    head, arrays = sandbox.encode(value)
    assert head == {"kind": "other", "type": shown} and arrays == []
    head, arrays = sandbox.encode((np.ones(2), value))
    assert head["kind"] == "other" and head["type"].endswith(f"containing {shown}") and arrays == []


@pytest.mark.parametrize("value", [np.ones((2, 3)), np.array(2, dtype=np.int8), np.array([True]),
                                   np.array([1j]), np.float32(1.5), np.bool_(True)])
def test_numeric_values_still_encode_and_travel(value: Any) -> None:
    from grader.sandbox.protocol import pack

    head, arrays = _sandbox().encode(value)
    assert head["kind"] in ("array", "scalar") and len(arrays) == 1
    u = Unpacker()
    u.feed(pack({"results": [head]}, arrays))
    msg = u.message()
    assert msg is not None and np.array_equal(msg[1][0], np.asarray(value))


def test_forward_returning_an_object_array_is_named_not_a_dead_child(fast_course: Any, tmp_path: Path) -> None:
    from .conftest import make_submission, run_grade

    code = "class Sigmoid:\n    def __init__(self):\n        self.params, self.grads = [], []\n" \
           "    def forward(self, x):\n        return np.array([object()] * x.shape[0], dtype=object)\n" \
           "    def backward(self, dout):\n        return dout\n"
    result = run_grade(fast_course, make_submission(tmp_path / "sub", append={"activations": code}), "1.1")
    (e,) = result.exercises
    messages = [c.message for check in e.checks for c in check.cases]
    assert not any("sys.exit or os._exit" in m for m in messages), messages
    assert any("numpy.ndarray of dtype object" in m for m in messages), messages


# --------------------------------------------------------------------------- the banned-import scan

UNSCANNABLE = {
    "nul-byte": "import numpy as np\nx = 1\0\n",
    "unary-minus": "x = " + "-" * 10_000 + "1\n",
    "not-chain": "x = " + "not " * 100_000 + "1\n",
    "attribute-chain": "x = a" + ".b" * 100_000 + "\n",
    "call-chain": "x = f" + "()" * 100_000 + "\n",
    "sum-chain": "x = " + "1+" * 100_000 + "1\n",
}


@pytest.mark.parametrize("name", list(UNSCANNABLE))
def test_an_unscannable_module_is_a_violation_not_a_crash(name: str, tmp_path: Path) -> None:
    from grader.sandbox import rules

    (tmp_path / "layers.py").write_text(UNSCANNABLE[name])
    (tmp_path / "fine.py").write_text("import numpy as np\n")
    found = rules.scan(tmp_path)
    assert list(found) == ["layers"]
    (v,) = found["layers"]
    assert v.message().startswith("layers.py could not be checked for banned imports: ")


def test_real_banned_imports_keep_their_message(tmp_path: Path) -> None:
    from grader.sandbox import rules

    (tmp_path / "layers.py").write_text("import numpy as np\nimport torch.nn\n")
    assert [v.message() for v in rules.scan(tmp_path)["layers"]] == [
        "layers.py:2 imports torch.nn: the exercises are written in numpy by hand (torch.nn is not allowed in a "
        "submission)"]


def test_an_unscannable_module_scores_zero_with_the_reason(fast_course: Any, tmp_path: Path) -> None:
    from .conftest import make_submission, run_grade

    sub = make_submission(tmp_path / "sub", append={"activations": "y = " + "-" * 10_000 + "1\n"})
    result = run_grade(fast_course, sub, "1.1", "1.10")
    sigmoid, affine = result.exercises
    assert sigmoid.points == 0 and affine.points == affine.max_points
    assert all(c.cases[0].message.startswith("activations.py could not be checked for banned imports: ")
               for c in sigmoid.checks)


# --------------------------------------------------------------------------- submissions

GOOD = b"import numpy as np\n\n\ndef f(x):\n    return x\n"


def make_zip(path: Path, members: list[tuple[str, bytes]], method: int = 0) -> Path:
    import warnings
    import zipfile

    with warnings.catch_warnings():  # zipfile warns of a duplicate name, which one case wants
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(path, "w", method) as z:
            for name, data in members:
                z.writestr(name, data)
    return path


def patch_zip(path: Path, local: dict[int, bytes], central: dict[int, bytes]) -> Path:
    """Overwrite bytes at offsets of the first local header and the first central-directory entry."""
    data = bytearray(path.read_bytes())
    lo, ce = data.index(b"PK\x03\x04"), data.index(b"PK\x01\x02")
    for base, edits in ((lo, local), (ce, central)):
        for off, value in edits.items():
            data[base + off : base + off + len(value)] = value
    path.write_bytes(bytes(data))
    return path


def bad_crc(path: Path) -> Path:
    make_zip(path, [("layers.py", GOOD)])
    data = path.read_bytes()
    path.write_bytes(data.replace(b"return x", b"return y", 1))
    return path


def bad_deflate(path: Path) -> Path:
    import zipfile

    make_zip(path, [("layers.py", GOOD * 50)], zipfile.ZIP_DEFLATED)
    data = bytearray(path.read_bytes())
    start = 30 + len("layers.py")
    data[start : start + 40] = b"\xff" * 40
    path.write_bytes(bytes(data))
    return path


BAD_ZIPS = {
    "bad-crc": (bad_crc, "layers.py"),
    "bad-deflate": (bad_deflate, "corrupt compressed data"),
    "encrypted": (lambda p: patch_zip(make_zip(p, [("layers.py", GOOD)]), {6: b"\x01\x00"}, {8: b"\x01\x00"}),
                  "encrypted"),
    "method-99": (lambda p: patch_zip(make_zip(p, [("layers.py", GOOD)]), {8: b"\x63\x00"}, {10: b"\x63\x00"}),
                  "compression method 99"),
    "file-then-dir": (lambda p: make_zip(p, [("x.py", GOOD), ("x.py/y.py", GOOD)]), "x.py"),
    "dir-then-file": (lambda p: make_zip(p, [("x.py/y.py", GOOD), ("x.py", GOOD)]), "x.py"),
    "dir-entry-then-file": (lambda p: make_zip(p, [("x.py/", b""), ("x.py/a.py", GOOD), ("x.py", GOOD)]), "x.py"),
    "duplicate": (lambda p: make_zip(p, [("a.py", GOOD), ("a.py", GOOD)]), "a.py"),
    "deep-path": (lambda p: make_zip(p, [("/".join(["d"] * 30) + "/a.py", GOOD)]), "deep"),
    "not-a-zip": (lambda p: p.write_bytes(b"PK\x03\x04 truncated") and p, "not a readable zip"),
}



@pytest.mark.parametrize("name", list(BAD_ZIPS))
def test_bad_zips_are_submission_errors_and_leave_nothing_behind(name: str, tmp_path: Path, private_tmp: Path) -> None:
    from grader.fronts import prepare_workdir
    from grader.model.errors import SubmissionError

    build, fragment = BAD_ZIPS[name]
    archive = build(tmp_path / "bad.zip")
    with pytest.raises(SubmissionError) as err:
        prepare_workdir(archive)
    assert "bad.zip" in str(err.value) and fragment in str(err.value), str(err.value)
    assert list(private_tmp.iterdir()) == []


def test_a_good_zip_still_extracts(tmp_path: Path, private_tmp: Path) -> None:
    import shutil

    from grader.fronts import prepare_workdir

    workdir = prepare_workdir(make_zip(tmp_path / "ok.zip", [("layers.py", GOOD), ("pkg/util.py", GOOD)], 8))
    assert (workdir / "layers.py").read_bytes() == GOOD and (workdir / "pkg" / "util.py").exists()
    assert list(private_tmp.iterdir()) == [workdir]
    shutil.rmtree(workdir)


def _many_files(folder: Path, n: int) -> Path:
    folder.mkdir()
    for i in range(n):
        (folder / f"m{i}.py").write_bytes(b"x")
    return folder


def test_a_folder_of_too_many_files_is_refused_before_copying(tmp_path: Path, private_tmp: Path) -> None:
    from grader.fronts import prepare_workdir
    from grader.fronts.submission import MAX_MEMBERS
    from grader.model.errors import SubmissionError

    with pytest.raises(SubmissionError, match=f"at most {MAX_MEMBERS}$"):
        prepare_workdir(_many_files(tmp_path / "sub", MAX_MEMBERS + 1))
    assert list(private_tmp.iterdir()) == []


def test_a_folder_too_large_in_all_is_refused(tmp_path: Path, private_tmp: Path) -> None:
    from grader.fronts import prepare_workdir
    from grader.fronts.submission import MAX_FILE_BYTES, MAX_TOTAL_BYTES
    from grader.model.errors import SubmissionError

    sub = tmp_path / "sub"
    sub.mkdir()
    for i in range(MAX_TOTAL_BYTES // MAX_FILE_BYTES + 1):
        with open(sub / f"m{i}.py", "wb") as fh:  # sparse: the size is what counts
            fh.truncate(MAX_FILE_BYTES)
    with pytest.raises(SubmissionError, match="MiB in all"):
        prepare_workdir(sub)
    assert list(private_tmp.iterdir()) == []


def test_a_folder_too_deep_is_refused(tmp_path: Path, private_tmp: Path) -> None:
    from grader.fronts import prepare_workdir
    from grader.model.errors import SubmissionError

    deep = tmp_path / "sub" / Path(*["d"] * 30)
    deep.mkdir(parents=True)
    (deep / "a.py").write_bytes(GOOD)
    with pytest.raises(SubmissionError, match="deep"):
        prepare_workdir(tmp_path / "sub")
    assert list(private_tmp.iterdir()) == []


def notebook(*cells: str | dict[str, Any]) -> str:
    out = []
    for c in cells:
        cell = c if isinstance(c, dict) else {"cell_type": "code", "source": c}
        out.append({"metadata": {}, "outputs": [], "execution_count": None, **cell})
    return json.dumps({"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": out})


def test_cell_magics_drop_the_whole_cell_and_help_lines_are_dropped(tmp_path: Path, private_tmp: Path) -> None:
    import shutil

    from grader.fronts import prepare_workdir

    nb = tmp_path / "layers.ipynb"
    nb.write_text(notebook("%%bash\nrm -rf /\necho hi", "import numpy as np\nnp.exp?\nnp.exp??\n?np.exp\n  ??np\ny = 1",
                           "%%timeit\nx = 1", "%time z = 2\nw = 3"))
    workdir = prepare_workdir(nb)
    text = (workdir / "layers.py").read_text()
    shutil.rmtree(workdir)
    lines = text.splitlines()
    code = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    assert code == ["import numpy as np", "y = 1", "w = 3"], text
    assert "# (dropped) rm -rf /" in lines and "# (dropped) np.exp?" in lines
    compile(text, "layers.py", "exec")  # line numbers kept: one line out for each line in
    assert len(lines) == 4 * 1 + 3 + 6 + 2 + 2 + 3


@pytest.mark.parametrize("text", [
    "{not json", "", "null", "[]", '"a string"', "5", '{"cells": 5}', '{"nbformat": 4, "cells": [5]}',
    '{"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [{"cell_type": "code", "source": 5}]}',
    '{"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [{"cell_type": 7, "source": "x"}]}',
    '{"nbformat": "four", "cells": []}', '{"nbformat": 99, "cells": []}',
    '{"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": ' + "[" * 100_000 + "]" * 100_000 + "}",
], ids=["not-json", "empty", "null", "list", "string", "number", "cells-number", "cell-number", "source-number",
        "type-number", "version-string", "version-99", "deep"])
def test_malformed_notebooks_are_submission_errors(text: str, tmp_path: Path, private_tmp: Path) -> None:
    from grader.fronts import prepare_workdir
    from grader.model.errors import SubmissionError

    nb = tmp_path / "layers.ipynb"
    nb.write_text(text)
    with pytest.raises(SubmissionError, match="layers.ipynb"):
        prepare_workdir(nb)
    assert list(private_tmp.iterdir()) == []


# --------------------------------------------------------------------------- course.yml

def _course_error(tmp_path: Path, text: str) -> tuple[Path, str]:
    from grader.coursefile import load_course
    from grader.model.errors import CourseError

    (tmp_path / "good").mkdir(exist_ok=True)  # the folder hide: names must exist
    path = tmp_path / "course.yml"
    path.write_text(text)
    with pytest.raises(CourseError) as info:
        load_course(path)
    return path.resolve(), str(info.value)


def _line(text: str, fragment: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), start=1) if fragment in ln)


BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(ord('b') + i)}: &{chr(ord('b') + i)} [{', '.join(['*' + chr(ord('a') + i)] * 10)}]\n" for i in range(8))


def test_a_yaml_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    import time

    from tests.test_course import BASE

    text = BASE + BILLION_LAUGHS.replace("a: &a", "bomb_a: &a")
    assert len(text.encode()) < 2048
    t0 = time.monotonic()
    path, message = _course_error(tmp_path, text)
    assert time.monotonic() - t0 < 2
    assert message.startswith(f"{path}:") and "alias" in message, message


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    from tests.test_course import BASE

    path, message = _course_error(tmp_path, BASE + "loop: &l [*l]\n")
    assert message.startswith(f"{path}:") and "alias" in message, message


def test_a_small_alias_still_loads(tmp_path: Path) -> None:
    from grader.coursefile import load_course
    from tests.test_course import BASE

    text = BASE.replace("          - {x: [3, 4]}\n", "          - &c {x: [3, 4]}\n          - *c\n")
    (tmp_path / "good").mkdir(exist_ok=True)  # the folder hide: names must exist
    (tmp_path / "course.yml").write_text(text)
    assert len(load_course(tmp_path / "course.yml").exercises[0].cases) == 3


@pytest.mark.parametrize("old, new, fragment, key, reason", [
    ("        points: 3\n", "        points: 3\n        points: 4\n", "points: 4", "assignments[0].exercises[0].points",
     "duplicate key 'points'"),
    ("title: Malformed-course fixture\n", "title: Malformed-course fixture\ntitle: again\n", "title: again", "title",
     "duplicate key 'title'"),
    ("hide: [good]\n", "hide: [good]\nlimits: {timeout_s: .nan}\n", "limits:", "limits.timeout_s", "finite"),
    ("hide: [good]\n", "hide: [good]\nlimits: {timeout_s: 0}\n", "limits:", "limits.timeout_s", "positive"),
    ("hide: [good]\n", "hide: [good]\nlimits: {timeout_s: -1}\n", "limits:", "limits.timeout_s", "positive"),
    ("hide: [good]\n", "hide: [good]\nlimits: {memory_mb: 1}\n", "limits:", "limits.memory_mb", "at least 128"),
    ("hide: [good]\n", "hide: [good]\nlimits: {cpu_s: 0}\n", "limits:", "limits.cpu_s", "at least 1"),
    ("hide: [good]\n", "hide: [good]\nlimits: {file_mb: 0}\n", "limits:", "limits.file_mb", "at least 1"),
    ("hide: [good]\n", "hide: [good]\nlimits: {output_kb: -1}\n", "limits:", "limits.output_kb", "non-negative"),
    ("hide: [good]\n", "hide: [good]\nlimits: {memory_mb: " + "9" * 40 + "}\n", "limits:", "limits.memory_mb",
     "at most"),
    ("hide: [good]\n", "hide: [good]\ntolerance: {rtol: .inf}\n", "tolerance:", "tolerance.rtol", "finite"),
    ("hide: [good]\n", "hide: [good]\ntolerance: {atol: .nan}\n", "tolerance:", "tolerance.atol", "finite"),
    ("        points: 3\n", "        points: .inf\n", "points: .inf", "assignments[0].exercises[0].points", "finite"),
    ("          gradcheck: 1\n", "          gradcheck: .nan\n", "gradcheck: .nan",
     "assignments[0].exercises[0].checks.gradcheck", "finite"),
    ("        kinks: [0]\n", "        kinks: [0]\n        margin: -1\n", "margin: -1",
     "assignments[0].exercises[0].margin", "non-negative"),
    ("- {x: {shape: [2, 5], low: -2, high: 2}}", "- {x: {shape: [2, 5], low: -.inf, high: 2}}", "low: -.inf",
     "assignments[0].exercises[0].cases[1].x.low", "finite"),
    ("hide: [good]\n", "hide: [good]\nseed: -1\n", "seed: -1", "seed", "non-negative"),
    ("hide: [good]\n", "hide: [../elsewhere]\n", "hide:", "hide", "outside the course folder"),
    ("hide: [good]\n", "hide: [/etc]\n", "hide:", "hide", "outside the course folder"),
    ("        kinks: [0]\n", "        kinks: [0]\n        curve: [-.inf, 1]\n", "curve:",
     "assignments[0].exercises[0].curve", "finite"),
], ids=["duplicate-exercise-key", "duplicate-top-key", "timeout-nan", "timeout-zero", "timeout-negative",
        "memory-1", "cpu-0", "file-0", "output-negative", "memory-huge", "rtol-inf", "atol-nan", "points-inf",
        "weight-nan", "margin-negative", "low-inf", "seed-negative", "hide-parent", "hide-absolute", "curve-inf"])
def test_course_numbers_keys_and_paths_are_checked(tmp_path: Path, old: str, new: str, fragment: str, key: str,
                                                   reason: str) -> None:
    from tests.test_course import BASE

    assert BASE.count(old) == 1
    text = BASE.replace(old, new)
    path, message = _course_error(tmp_path, text)
    prefix = f"{path}:{_line(text, fragment) if fragment != 'points: 4' else _line(text, 'points: 4')}: {key}: "
    assert message.startswith(prefix) and reason in message, (message, prefix)


def test_bad_yaml_tags_are_course_errors(tmp_path: Path) -> None:
    from tests.test_course import BASE

    text = BASE.replace("title: Malformed-course fixture", "title: !!python/object:os.system echo")
    path, message = _course_error(tmp_path, text)
    assert message.startswith(f"{path}:2: "), message
