"""The wire format between parent and child: what round-trips, and what the parent refuses.

The parent must never unpickle, never accept a non-numeric array, never allocate for a frame it has not
checked, and never turn an inconsistent reply into values: each refusal is a FrameError (protocol) or a
ChildFailure with status "error" (runner), with a message naming the problem.
"""
from __future__ import annotations

import io
import json
import pickle
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader.sandbox import protocol
from grader.sandbox.protocol import (
    MAX_FRAME,
    MAX_HEADER,
    FrameError,
    Unpacker,
    decode_array,
    encode_array,
    pack,
)
from grader.sandbox.replies import ChildFailure, Reply, parse_reply

LEN = struct.Struct(">Q")


def frame(data: bytes) -> bytes:
    return LEN.pack(len(data)) + data


def raw_message(header: Any, *frames: bytes) -> bytes:
    """A message built by hand: any JSON header (even one ``pack`` would never write) and raw frames."""
    head = header if isinstance(header, bytes) else json.dumps(header).encode()
    return frame(head) + b"".join(frame(f) for f in frames)


def npy(a: np.ndarray, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=allow_pickle)
    return buf.getvalue()


def receive(data: bytes) -> tuple[dict[str, Any], list[np.ndarray]] | None:
    u = Unpacker()
    u.feed(data)
    return u.message()


# --------------------------------------------------------------------------- round trips


ARRAYS = {
    "float64 2-d": np.arange(12, dtype=np.float64).reshape(3, 4) / 7,
    "float32 1-d": np.linspace(-1, 1, 5, dtype=np.float32),
    "float16": np.array([0.5, -2.0, 65504.0], dtype=np.float16),
    "big-endian float64": np.arange(6, dtype=">f8").reshape(2, 3),
    "int64 3-d": np.arange(24, dtype=np.int64).reshape(2, 3, 4) - 12,
    "int8": np.array([-128, 0, 127], dtype=np.int8),
    "uint16": np.array([[0, 65535]], dtype=np.uint16),
    "bool": np.array([True, False, True]),
    "complex128": np.array([1 + 2j, -3.5j]),
    "0-d float": np.array(3.25),
    "0-d int": np.array(-7, dtype=np.int32),
    "empty 1-d": np.zeros((0,)),
    "empty 3-d": np.zeros((2, 0, 3), dtype=np.float32),
    "non-finite": np.array([np.nan, np.inf, -np.inf, -0.0]),
    "transposed view": np.arange(6.0).reshape(2, 3).T,
    "strided view": np.arange(20.0)[::3],
    "fortran order": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
}


@pytest.mark.parametrize("name", list(ARRAYS))
def test_array_round_trip(name: str) -> None:
    a = ARRAYS[name]
    header = {"results": [{"kind": "array", "type": name}], "step": None}
    msg = receive(pack(header, [a]))
    assert msg is not None
    got_header, (got,) = msg
    assert got_header == {**header, "n_arrays": 1}
    assert got.shape == a.shape
    assert got.dtype == a.dtype
    np.testing.assert_array_equal(got, a, strict=True)
    if a.dtype.kind == "f":  # bit for bit: -0.0 stays negative
        assert np.array_equal(np.signbit(got), np.signbit(a))
    assert got.flags.c_contiguous and got.flags.writeable and got.flags.owndata


def test_many_arrays_in_one_message_and_two_messages_in_one_buffer() -> None:
    arrays = list(ARRAYS.values())
    first = pack({"n": 1, "text": "ünïcode ✓"}, arrays)
    second = pack({"n": 2}, [])
    u = Unpacker()
    u.feed(first + second)
    header, got = u.message()  # type: ignore[misc]
    assert header == {"n": 1, "text": "ünïcode ✓", "n_arrays": len(arrays)}
    assert [(g.shape, g.dtype) for g in got] == [(a.shape, a.dtype) for a in arrays]
    assert all(np.array_equal(g, a, equal_nan=True) for g, a in zip(got, arrays))
    assert u.message() == ({"n": 2, "n_arrays": 0}, [])
    assert u.message() is None
    assert len(u.buf) == 0


def test_encode_array_matches_numpy_save() -> None:
    """The hand-written .npy header is byte for byte what numpy writes, for C-ordered numeric arrays."""
    for a in (np.arange(6.0).reshape(2, 3), np.array(1.5), np.zeros((0, 4), dtype=np.int16), np.array([True])):
        assert encode_array(a) == npy(a)
        assert len(encode_array(a)) % 64 == a.nbytes % 64  # header padded to a multiple of 64


def test_truncated_message_is_none_until_complete() -> None:
    a, b = np.arange(10.0), np.array([[1, 2], [3, 4]], dtype=np.int64)
    data = pack({"results": []}, [a, b])
    u = Unpacker()
    for i in range(len(data) - 1):
        u.feed(data[i : i + 1])
        assert u.message() is None, f"a message after {i + 1} of {len(data)} bytes"
        assert bytes(u.buf) == data[: i + 1]  # nothing consumed while incomplete
    u.feed(data[-1:])
    header, (got_a, got_b) = u.message()  # type: ignore[misc]
    assert header == {"results": [], "n_arrays": 2}
    np.testing.assert_array_equal(got_a, a, strict=True)
    np.testing.assert_array_equal(got_b, b, strict=True)
    assert len(u.buf) == 0


@pytest.mark.parametrize("cut", [0, 3, 8, 9])
def test_short_buffers_are_none(cut: int) -> None:
    """Fewer bytes than a length prefix, or a prefix without its frame: wait for more."""
    data = pack({"x": 1}, [np.ones(3)])
    assert receive(data[:cut]) is None


# --------------------------------------------------------------------------- refused frames


class Boom:
    """Unpickling this would create a file: the test checks that it never exists."""

    marker: Path

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


def test_pickled_object_array_is_refused(tmp_path: Path) -> None:
    boom = Boom()
    boom.marker = tmp_path / "unpickled"
    evil = np.empty(2, dtype=object)
    evil[0], evil[1] = boom, {"score": 100}
    data = npy(evil, allow_pickle=True)
    assert b"\x80" in data and b"'descr': '|O'" in data  # really a pickle inside a .npy
    with pytest.raises(FrameError, match=r"^not a valid \.npy array \(ValueError: Object arrays cannot be loaded "
                                         r"when allow_pickle=False\)$"):
        receive(raw_message({"results": [], "n_arrays": 1}, data))
    with pytest.raises(FrameError, match="Object arrays cannot be loaded when allow_pickle=False"):
        decode_array(data)
    assert not boom.marker.exists()


def test_plain_pickle_is_refused(tmp_path: Path) -> None:
    boom = Boom()
    boom.marker = tmp_path / "unpickled"
    with pytest.raises(FrameError, match=r"^not a valid \.npy array \(ValueError: This file contains pickled \(object\) data\."):
        receive(raw_message({"n_arrays": 1}, pickle.dumps(boom)))
    assert not boom.marker.exists()


@pytest.mark.parametrize("a, shown", [
    (np.array(["abc", "de"]), "<U3"),
    (np.array([b"xy"]), "|S2"),
    (np.zeros(2, dtype=[("a", "<f8"), ("b", "<i4")]), "[('a', '<f8'), ('b', '<i4')]"),
    (np.zeros(3, dtype="V4"), "|V4"),
    (np.array(["2024-01-01"], dtype="datetime64[D]"), "datetime64[D]"),
    (np.array([1], dtype="timedelta64[s]"), "timedelta64[s]"),
], ids=["unicode", "bytes", "structured", "void", "datetime", "timedelta"])
def test_non_numeric_dtypes_are_refused(a: np.ndarray, shown: str) -> None:
    message = f"array of dtype {shown} is not numeric"
    with pytest.raises(FrameError) as err:
        receive(raw_message({"n_arrays": 1}, npy(a)))
    assert str(err.value) == message
    with pytest.raises(FrameError) as err:  # what the child's own pack would send
        receive(pack({}, [a]))
    assert str(err.value) == message


def test_data_not_fitting_the_header_shape_is_refused() -> None:
    good = encode_array(np.arange(4.0))
    with pytest.raises(FrameError, match=r"^array data of 24 bytes does not fit shape \(4,\) of float64$"):
        decode_array(good[:-8])
    with pytest.raises(FrameError, match=r"^array data of 40 bytes does not fit shape \(4,\) of float64$"):
        decode_array(good + b"\0" * 8)


@pytest.mark.parametrize("data", [b"", b"\x93NUMPY", b"not an array at all", b"\x93NUMPY\x01\x00\xff\xff{"])
def test_garbage_frames_are_refused(data: bytes) -> None:
    with pytest.raises(FrameError, match=r"^not a valid \.npy array \("):
        decode_array(data)


def test_oversize_array_frame_is_refused_before_its_data_arrives() -> None:
    head = raw_message({"results": [], "n_arrays": 1})
    u = Unpacker()
    u.feed(head + LEN.pack(MAX_FRAME + 1))  # the length alone: no data follows
    with pytest.raises(FrameError) as err:
        u.message()
    assert str(err.value) == f"frame of {MAX_FRAME + 1} bytes exceeds the cap of {MAX_FRAME}"
    assert len(u.buf) == len(head) + 8  # nothing was read or allocated for the announced frame


def test_oversize_header_is_refused_before_it_arrives() -> None:
    u = Unpacker()
    u.feed(LEN.pack(MAX_HEADER + 1) + b"{")
    with pytest.raises(FrameError) as err:
        u.message()
    assert str(err.value) == f"frame of {MAX_HEADER + 1} bytes exceeds the cap of {MAX_HEADER}"
    u = Unpacker()
    u.feed(LEN.pack(2**64 - 1))
    with pytest.raises(FrameError, match=r"^frame of 18446744073709551615 bytes exceeds the cap of 1048576$"):
        u.message()


def test_too_many_buffered_bytes_are_refused_on_feed() -> None:
    u = Unpacker(max_total=100)
    u.feed(b"\0" * 100)
    with pytest.raises(FrameError) as err:
        u.feed(b"\0")
    assert str(err.value) == "message larger than 100 bytes"
    assert protocol.Unpacker().max_total == MAX_FRAME


@pytest.mark.parametrize("head, message", [
    (b"{not json", "header is not JSON: "),
    (b"\xff\xfe\x00garbage", "header is not JSON: "),
    (b"", "header is not JSON: "),
    (b"[1, 2]", "header lacks a valid n_arrays"),
    (b'"n_arrays"', "header lacks a valid n_arrays"),
    (b"{}", "header lacks a valid n_arrays"),
    (b'{"results": []}', "header lacks a valid n_arrays"),
    (b'{"n_arrays": -1}', "header lacks a valid n_arrays"),
    (b'{"n_arrays": 1.0}', "header lacks a valid n_arrays"),
    (b'{"n_arrays": "1"}', "header lacks a valid n_arrays"),
    (b'{"n_arrays": null}', "header lacks a valid n_arrays"),
    (b'{"n_arrays": 10001}', "header lacks a valid n_arrays"),
], ids=["not-json", "not-utf8", "empty", "list", "string", "empty-object", "missing", "negative", "float",
        "string-n", "null", "too-many"])
def test_garbage_headers_are_refused(head: bytes, message: str) -> None:
    with pytest.raises(FrameError) as err:
        receive(frame(head))
    assert str(err.value).startswith(message)
    if message.endswith(": "):
        assert len(str(err.value)) > len(message)  # json's own reason follows


def test_bad_array_frame_after_good_ones_is_refused() -> None:
    data = raw_message({"n_arrays": 3}, encode_array(np.ones(2)), encode_array(np.zeros(1)), b"junk")
    with pytest.raises(FrameError, match=r"^not a valid \.npy array"):
        receive(data)


# --------------------------------------------------------------------------- the runner's reply parser


def test_parse_reply_of_a_consistent_reply() -> None:
    arrays = [np.ones((2, 2)), np.array(1.5), np.zeros(3), np.array(2)]
    header = {"results": [
        {"kind": "none", "type": "None"},
        {"kind": "array", "type": "numpy.ndarray"},
        {"kind": "scalar", "type": "builtins.float"},
        {"kind": "list", "type": "builtins.tuple", "items": [{"kind": "array", "type": "numpy.ndarray"},
                                                              {"kind": "scalar", "type": "builtins.int"}]},
        {"kind": "other", "type": "x" * 500},
    ], "error": None, "step": None}
    reply = parse_reply(header, arrays, 5)
    assert isinstance(reply, Reply) and reply.failure is None
    assert [v.kind for v in reply.values] == ["none", "array", "scalar", "list", "other"]
    assert reply.values[1].arrays[0] is arrays[0] and reply.values[2].arrays[0] is arrays[1]
    assert [i.arrays[0] for i in reply.values[3].items] == [arrays[2], arrays[3]]
    assert reply.values[3].arrays == (arrays[2], arrays[3])
    assert reply.values[4].type == "x" * 200  # cut


def test_parse_reply_with_a_learner_error() -> None:
    header = {"results": [{"kind": "none", "type": "None"}], "step": 1,
              "error": {"type": "ValueError", "message": "m" * 5000, "where": "a.py:3 in f", "traceback": "tb",
                        "not_implemented": False}}
    reply = parse_reply(header, [], 3)
    assert reply.failure is not None
    assert (reply.failure.step, reply.failure.type, reply.failure.where) == (1, "ValueError", "a.py:3 in f")
    assert reply.failure.message == "m" * 1000


ARRAY = {"kind": "array", "type": "numpy.ndarray"}
STACKED = {"kind": "stacked", "type": "numpy.ndarray"}


@pytest.mark.parametrize("header, n_arrays, n_steps, reason", [
    ({"results": [ARRAY], "error": None}, 2, 1, "array count does not match"),
    ({"results": [], "error": None}, 1, 0, "array count does not match"),
    ({"results": [ARRAY, ARRAY], "error": None}, 1, 2, "too few arrays"),
    ({"results": [{"kind": "pickle", "type": "x"}], "error": None}, 0, 1, "bad result kind 'pickle'"),
    ({"results": [{"kind": None, "type": "x"}], "error": None}, 0, 1, "bad result kind None"),
    ({"results": [{"kind": "list", "type": "list", "items": [{"kind": "other", "type": "x"}]}], "error": None},
     0, 1, "bad list result"),
    ({"results": [{"kind": "list", "type": "list", "items": [{"kind": "list", "type": "x"}]}], "error": None},
     1, 1, "bad list result"),
    ({"results": [{"kind": "list", "type": "list", "items": [ARRAY, ARRAY]}], "error": None},
     1, 1, "bad list result"),
    ({"results": [{"kind": "list", "type": "list", "items": "ab"}], "error": None}, 2, 1,
     "string indices must be integers"),
    ({"results": [ARRAY, ARRAY], "error": None}, 2, 1, "array count does not match"),
    ({"results": [ARRAY], "error": None}, 1, 2, "reply has fewer results than steps"),
    ({"error": None}, 0, 1, "'results'"),
    ({"results": 3, "error": None}, 0, 1, "'int' object is not iterable"),
    ({"results": [{"type": "x"}], "error": None}, 0, 1, "'kind'"),
    ({"results": [], "error": {"type": "E", "message": "m"}, "step": "first"}, 0, 1,
     "invalid literal for int() with base 10: 'first'"),
    ({"results": [], "error": {"type": "E", "message": "m"}}, 0, 1, "'step'"),
    ({"results": [], "error": "boom", "step": 0}, 0, 1, "string indices must be integers"),
    ({"results": [{"kind": "loop", "type": "loop", "done": 3, "columns": [STACKED]}], "error": None}, 1, 1,
     "loop column of the wrong length"),
    ({"results": [{"kind": "loop", "type": "loop", "done": 2, "columns": [
        {"kind": "steps", "type": "steps", "items": [ARRAY]}]}], "error": None}, 1, 1, "loop column of the wrong length"),
    ({"results": [{"kind": "loop", "type": "loop", "done": -1, "columns": []}], "error": None}, 0, 1, "bad loop count"),
    ({"results": [{"kind": "loop", "type": "loop", "done": True, "columns": []}], "error": None}, 0, 1, "bad loop count"),
    ({"results": [STACKED], "error": None}, 1, 1, "bad result kind 'stacked'"),
    ({"results": [{"kind": "loop", "type": "loop", "done": 0, "columns": [
        {"kind": "loop", "type": "loop", "done": 0, "columns": []}]}], "error": None}, 0, 1, "bad result kind 'loop'"),
    ({"results": [{"kind": "loop", "type": "loop", "done": 1, "columns": [
        {"kind": "steps", "type": "steps", "items": [STACKED]}]}], "error": None}, 1, 1, "bad result kind 'stacked'"),
], ids=["extra-array", "array-without-result", "missing-array", "unknown-kind", "null-kind", "list-item-other",
        "list-item-list", "list-items-beyond-arrays", "list-items-not-dicts", "more-results-than-steps",
        "fewer-results-than-steps", "no-results", "results-not-a-list", "result-without-kind", "bad-step",
        "error-without-step", "error-not-a-dict", "loop-stacked-too-short", "loop-steps-too-short",
        "loop-negative-count", "loop-bool-count", "stacked-outside-a-loop", "loop-in-a-loop",
        "stacked-in-steps"])
def test_parse_reply_refuses_inconsistent_replies(header: dict[str, Any], n_arrays: int, n_steps: int,
                                                  reason: str) -> None:
    arrays = [np.zeros(2) for _ in range(n_arrays)]
    with pytest.raises(ChildFailure) as err:
        parse_reply(header, arrays, n_steps)
    assert err.value.status == "error"
    assert str(err.value).startswith("the child sent a malformed reply (")
    assert reason in str(err.value)


def test_sparse_frames_round_trip_exactly_and_smaller() -> None:
    """A sparse initializer's matrix (96% zeros) travels as positions and values: rebuilt bit for bit
    (-0.0 and NaN kept), several times smaller; a dense or small array keeps the .npy frame."""
    from grader.sandbox.protocol import Unpacker, pack

    rng = np.random.default_rng(0)
    w = np.zeros((400, 100))
    for j in range(100):
        w[rng.choice(400, 15, replace=False), j] = rng.normal(0, 0.01, 15)
    w[0, 0], w[1, 0] = -0.0, np.nan
    dense = rng.normal(size=(64, 64))
    small = np.zeros(10)
    sparse_msg, dense_msg = pack({"x": 1}, [w, dense, small], sparse=True), pack({"x": 1}, [w, dense, small])
    assert len(sparse_msg) < len(dense_msg) - 0.8 * w.nbytes
    u = Unpacker(finite=True)
    u.feed(sparse_msg)
    header, arrays = u.message()
    for got, want in zip(arrays, [w, dense, small]):
        assert got.dtype == want.dtype and got.shape == want.shape
        assert got.tobytes() == want.tobytes()


@pytest.mark.parametrize("damage", ["range", "order", "huge", "short"])
def test_hostile_sparse_frames_are_frame_errors(damage: str) -> None:
    import json
    import struct

    from grader.sandbox.protocol import _LEN, _SPARSE, FrameError, Unpacker

    shape, where, values = [100], np.array([3, 7], "<i8"), np.array([1.0, 2.0])
    if damage == "range":
        where = np.array([3, 100], "<i8")
    elif damage == "order":
        where = np.array([7, 3], "<i8")
    elif damage == "huge":
        shape = [10**12]
    meta = json.dumps({"descr": "<f8", "shape": shape, "nnz": 2}).encode()
    body = where.tobytes() + values.tobytes()
    frame = _SPARSE + struct.pack("<H", len(meta)) + meta + (body[:-3] if damage == "short" else body)
    head = json.dumps({"n_arrays": 1}).encode()
    u = Unpacker(finite=True)
    u.feed(_LEN.pack(len(head)) + head + _LEN.pack(len(frame)) + frame)
    with pytest.raises(FrameError):
        u.message()
