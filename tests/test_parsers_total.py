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

from grader.protocol import FrameError, Unpacker
from grader.runner import ChildFailure, _parse_reply

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
    _parse_reply(msg[0], msg[1], n_steps)


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
        _parse_reply(header, [], 1)
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
    spec = importlib.util.spec_from_file_location("_sandbox_under_test", ROOT / "grader" / "sandbox.py")
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
    from grader.protocol import pack

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
    from grader import rules

    (tmp_path / "layers.py").write_text(UNSCANNABLE[name])
    (tmp_path / "fine.py").write_text("import numpy as np\n")
    found = rules.scan(tmp_path)
    assert list(found) == ["layers"]
    (v,) = found["layers"]
    assert v.message().startswith("layers.py could not be checked for banned imports: ")


def test_real_banned_imports_keep_their_message(tmp_path: Path) -> None:
    from grader import rules

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
