"""Fuzzing the parsers of untrusted input (issue 10, fail closed): whatever bytes arrive, the only
outcomes are the grader's own refusals (FrameError/ChildFailure for replies, SubmissionError for
submissions), never another exception, and no temporary folder is left behind."""
from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.fronts import prepare_workdir
from grader.model.errors import SubmissionError
from grader.sandbox.protocol import FrameError, Unpacker, pack
from grader.sandbox.replies import ChildFailure, parse_reply

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

VALID = pack({"results": [{"kind": "array", "type": "numpy.ndarray"},
                          {"kind": "list", "type": "builtins.tuple", "items": [{"kind": "scalar", "type": "f"}]},
                          {"kind": "loop", "type": "loop", "done": 2, "columns": [{"kind": "stacked", "type": "s"}]}],
              "error": None, "step": None},
             [np.ones((2, 3)), np.array(1.5), np.zeros((2, 4))])


def parse(data: bytes) -> None:
    """The parent's path for a reply: frame it, then rebuild its values."""
    u = Unpacker()
    try:
        u.feed(data)
        msg = u.message()
        if msg is not None:
            parse_reply(msg[0], msg[1], 3)
    except (FrameError, ChildFailure):
        pass


def test_the_valid_frame_parses() -> None:
    u = Unpacker()
    u.feed(VALID)
    msg = u.message()
    assert msg is not None and len(parse_reply(msg[0], msg[1], 3).values) == 3


@FAST
@given(st.binary(max_size=2000))
def test_random_bytes_are_refused_or_incomplete(data: bytes) -> None:
    parse(data)


@FAST
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), min_size=1, max_size=8),
       st.integers(0, len(VALID)))
def test_mutated_valid_frames_are_refused_or_parse(edits: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(VALID)
    for pos, value in edits:
        data[pos] = value
    parse(bytes(data[:cut]) if cut < len(VALID) - 1 else bytes(data))


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                        st.sampled_from(["kind", "type", "items", "done", "columns", "results", "error", "step",
                                         "message", "n_arrays"]), inner, max_size=5), max_leaves=30)


@FAST
@given(JSON, st.integers(0, 3))
def test_random_headers_are_refused_or_parse(header: object, n_arrays: int) -> None:
    try:
        head = json.dumps(header if not isinstance(header, dict) else {**header, "n_arrays": n_arrays}).encode()
    except ValueError:
        return
    arrays = b"".join(len(a).to_bytes(8, "big") + a for a in
                      [_npy(np.arange(i + 1.0)) for i in range(n_arrays)])
    parse(len(head).to_bytes(8, "big") + head + arrays)
    if isinstance(header, dict):
        try:
            parse_reply(header, [np.zeros(2)] * n_arrays, 2)
        except ChildFailure:
            pass


def _npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


# --------------------------------------------------------------------------- submissions


def _good_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("layers.py", "import numpy as np\n\n\ndef f(x):\n    return x * 2\n" * 5)
        z.writestr("pkg/util.py", "y = 1\n")
        z.writestr("nb.ipynb", json.dumps({"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": "x = 1"}]}))
    return buf.getvalue()


GOOD_ZIP = _good_zip()


def _prepare(path: Path, private_tmp: Path) -> None:
    try:
        workdir = prepare_workdir(path)
    except SubmissionError:
        assert list(private_tmp.iterdir()) == []
        return
    assert list(private_tmp.iterdir()) == [workdir]
    shutil.rmtree(workdir)


@FAST
@given(st.lists(st.tuples(st.integers(0, len(GOOD_ZIP) - 1), st.integers(0, 255)), min_size=1, max_size=6),
       st.integers(1, len(GOOD_ZIP)))
def test_mutated_zips_are_refused_or_extract(tmp_path: Path, private_tmp: Path, edits: list[tuple[int, int]],
                                             cut: int) -> None:
    data = bytearray(GOOD_ZIP)
    for pos, value in edits:
        data[pos] = value
    path = tmp_path / "sub.zip"
    path.write_bytes(bytes(data[:cut]))
    _prepare(path, private_tmp)


@FAST
@given(st.binary(max_size=500))
def test_random_zip_bytes_are_refused(tmp_path: Path, private_tmp: Path, data: bytes) -> None:
    path = tmp_path / "sub.zip"
    path.write_bytes(b"PK\x03\x04" + data)
    _prepare(path, private_tmp)


NB = json.dumps({"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [
    {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": "x = 1\nnp.exp?"},
    {"cell_type": "markdown", "metadata": {}, "source": "# hi"}]}).encode()


@FAST
@given(st.one_of(
    st.binary(max_size=300),
    st.lists(st.tuples(st.integers(0, len(NB) - 1), st.integers(32, 126)), min_size=1, max_size=6).map(
        lambda edits: bytes(_edit(NB, edits))),
    JSON.map(lambda v: json.dumps(v).encode()),
))
def test_random_notebooks_are_refused_or_convert(tmp_path: Path, private_tmp: Path, data: bytes) -> None:
    path = tmp_path / "layers.ipynb"
    path.write_bytes(data)
    _prepare(path, private_tmp)


def _edit(data: bytes, edits: list[tuple[int, int]]) -> bytearray:
    out = bytearray(data)
    for pos, value in edits:
        out[pos] = value
    return out
