"""The wire format between the trusted parent and the sandboxed child.

A message is a JSON header followed by raw arrays, each a length-prefixed ``.npy`` frame. Arrays are
read with ``allow_pickle=False``, size-capped, and limited to numeric dtypes: whatever the child sends,
the parent never unpickles or executes it. This module imports only the standard library and numpy,
because the child loads it too.
"""
from __future__ import annotations

import io
import json
import re
import struct
from typing import Any

import numpy as np

_LEN = struct.Struct(">Q")
MAX_FRAME = 256 * 1024 * 1024
MAX_HEADER = 1024 * 1024
NUMERIC_KINDS = "biufc"
MAX_DEPTH = 64
"""Deepest nesting of lists and objects a header may have (a real reply nests about ten deep); json's
recursive decoder would otherwise hit the recursion limit, or worse, on a header of a million ``[``."""
MAX_INT_DIGITS = 40
"""Longest integer literal in a header (an int64 has 19 digits): no bignum parsing of child input."""


class FrameError(Exception):
    """A malformed or oversized message."""


_MAGIC = b"\x93NUMPY\x01\x00"
_HEADER = re.compile(rb"\{'descr': '([<>|=][biufc][0-9]{1,2})', 'fortran_order': False, 'shape': \(([0-9, ]*)\), \} *\n")


def encode_array(a: np.ndarray) -> bytes:
    """A version-1.0 ``.npy`` file of a C-ordered numeric array, written directly (np.save's header
    formatting costs tens of microseconds an array, which adds up over a 50-step trajectory)."""
    a = a if a.flags.c_contiguous else a.copy(order="C")  # (np.ascontiguousarray would make 0-d arrays 1-d)
    if a.dtype.kind not in NUMERIC_KINDS:
        buf = io.BytesIO()  # let numpy refuse or encode anything unusual
        np.save(buf, a, allow_pickle=False)
        return buf.getvalue()
    shape = repr(tuple(int(n) for n in a.shape))  # "(3,)", "(2, 3)", "()": numpy's own spelling
    header = f"{{'descr': '{np.lib.format.dtype_to_descr(a.dtype)}', 'fortran_order': False, 'shape': {shape}, }}"
    pad = 64 - (len(_MAGIC) + 2 + len(header) + 1) % 64
    head = (header + " " * pad + "\n").encode("latin1")
    return _MAGIC + struct.pack("<H", len(head)) + head + a.tobytes()


_SPARSE = b"\x93SPARSE\x01"
SPARSE_MIN = 4096
"""Float arrays of at least this many elements, fewer than a third of them non-zero, travel sparse."""


def encode_sparse(a: np.ndarray) -> bytes | None:
    """A mostly-zero float array as its non-zero positions and values (a sparse initializer's matrices
    are 96% zeros), or None when the dense frame is not at least twice as large. "Zero" is bitwise +0.0,
    so the parent rebuilds exactly what was sent (-0.0 stays -0.0)."""
    if a.dtype.kind != "f" or a.size < SPARSE_MIN or a.dtype.itemsize not in (4, 8):
        return None
    flat = np.ascontiguousarray(a).reshape(-1)
    where = np.flatnonzero(flat.view(np.uint32 if a.dtype.itemsize == 4 else np.uint64))
    if where.size * (8 + a.dtype.itemsize) * 2 > a.nbytes:
        return None
    header = json.dumps({"descr": np.lib.format.dtype_to_descr(a.dtype), "shape": [int(n) for n in a.shape],
                         "nnz": int(where.size)}).encode()
    return b"".join([_SPARSE, struct.pack("<H", len(header)), header, where.astype("<i8").tobytes(),
                     flat[where].tobytes()])


def decode_sparse(data: bytes, max_bytes: int = MAX_FRAME) -> np.ndarray:
    """Inverse of :func:`encode_sparse`, checked: positions strictly increasing inside the array, the
    dense result at most ``max_bytes`` (a small frame must not become a huge array)."""
    try:
        (hlen,) = struct.unpack("<H", data[len(_SPARSE):len(_SPARSE) + 2])
        start = len(_SPARSE) + 2
        meta = decode_header(data[start:start + hlen], finite=True)
        dtype = np.dtype(meta["descr"])
        shape = tuple(int(n) for n in meta["shape"])
        nnz = int(meta["nnz"])
    except FrameError:
        raise
    except Exception as e:  # noqa: BLE001 - anything malformed is a frame error
        raise FrameError(f"not a valid sparse array ({type(e).__name__}: {str(e)[:200]})") from None
    if dtype.kind != "f" or dtype.hasobject or len(shape) > 32 or any(n < 0 for n in shape) or nnz < 0:
        raise FrameError("sparse array: bad dtype, shape or count")
    count = 1
    for n in shape:
        count *= n
    if count * dtype.itemsize > max_bytes:
        raise FrameError(f"sparse array of {count} elements exceeds the cap of {max_bytes} bytes")
    body = data[start + hlen:]
    if len(body) != nnz * (8 + dtype.itemsize) or nnz > count:
        raise FrameError("sparse array data does not fit its count")
    where = np.frombuffer(body, dtype="<i8", count=nnz)
    if nnz and (where[0] < 0 or where[-1] >= count or np.any(np.diff(where) <= 0)):
        raise FrameError("sparse array positions out of order or range")
    out = np.zeros(count, dtype=dtype)
    out[where] = np.frombuffer(body, dtype=dtype, count=nnz, offset=nnz * 8)
    return out.reshape(shape)


def decode_array(data: bytes, max_bytes: int = MAX_FRAME) -> np.ndarray:
    """Parse one ``.npy`` (or sparse) frame, refusing pickles and non-numeric dtypes; the array owns its
    memory."""
    if data[:len(_SPARSE)] == _SPARSE:
        return decode_sparse(data, max_bytes)
    if data[:8] == _MAGIC and len(data) >= 10:
        (hlen,) = struct.unpack("<H", data[8:10])
        m = _HEADER.fullmatch(data[10 : 10 + hlen])
        if m:
            dtype = np.dtype(m.group(1).decode())
            shape = tuple(int(n) for n in m.group(2).replace(b" ", b"").split(b",") if n)
            count = int(np.prod(shape, dtype=np.int64)) if shape else 1
            body = data[10 + hlen :]
            if len(body) != count * dtype.itemsize:
                raise FrameError(f"array data of {len(body)} bytes does not fit shape {shape} of {dtype}")
            return np.frombuffer(body, dtype=dtype, count=count).reshape(shape).copy()
    try:
        a = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as e:  # numpy raises ValueError, OSError, EOFError... on garbage
        raise FrameError(f"not a valid .npy array ({type(e).__name__}: {e})") from None
    if type(a) is not np.ndarray or a.dtype.kind not in NUMERIC_KINDS or a.dtype.hasobject:
        raise FrameError(f"array of dtype {a.dtype} is not numeric")
    return a


_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_OPEN, _CLOSE = b"[{", b"]}"
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _depth(data: bytes) -> int:
    """Deepest bracket nesting of a JSON text, strings skipped; vectorised, so linear and cheap."""
    brackets = np.frombuffer(_STRINGS.sub(b"", data).translate(None, _NOT_BRACKETS), dtype=np.uint8)
    if not brackets.size:
        return 0
    steps = np.where((brackets == _OPEN[0]) | (brackets == _OPEN[1]), 1, -1)
    return int(np.cumsum(steps).max())


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name} refused")


def _finite_float(text: str) -> float:
    value = float(text)
    if not np.isfinite(value):
        raise ValueError(f"number {text[:40]} out of range")
    return value


def _bounded_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS:
        raise ValueError(f"integer literal of {len(text)} characters refused")
    return int(text)


def decode_header(data: bytes, finite: bool = False) -> Any:
    """A header's JSON, bounded: nesting at most MAX_DEPTH, integers of at most MAX_INT_DIGITS digits;
    with ``finite``, no NaN, Infinity or 1e400 either (they break every later int() or comparison; the
    parent's own plans may carry ``inf``, e.g. ``norm_type: .inf``, so the child accepts them).

    Raises:
        FrameError: for anything else, whatever the decoder raised.
    """
    try:
        depth = _depth(data)
        if depth > MAX_DEPTH:
            raise ValueError(f"nested {depth} deep, more than {MAX_DEPTH}")
        if finite:
            return json.loads(data, parse_constant=_refuse_constant, parse_float=_finite_float,
                              parse_int=_bounded_int)
        return json.loads(data, parse_int=_bounded_int)
    except Exception as e:  # ValueError, UnicodeDecodeError, RecursionError, MemoryError...
        raise FrameError(f"header is not JSON: {type(e).__name__}: {str(e)[:200]}") from None


def pack(header: dict[str, Any], arrays: list[np.ndarray], sparse: bool = False) -> bytes:
    """Serialise a header and its arrays into one message; with ``sparse`` (the child's replies), mostly
    zero float arrays as :func:`encode_sparse` frames."""
    head = json.dumps({**header, "n_arrays": len(arrays)}).encode()
    parts = [_LEN.pack(len(head)), head]
    for a in arrays:
        data = (encode_sparse(a) if sparse else None) or encode_array(a)
        parts += [_LEN.pack(len(data)), data]
    return b"".join(parts)


class Unpacker:
    """Incremental parser: feed bytes as they arrive, get (header, arrays) once a message is complete."""

    def __init__(self, max_total: int = MAX_FRAME, finite: bool = False):
        self.buf = bytearray()
        self.max_total = max_total
        self.finite = finite
        """Refuse non-finite numbers in headers (see :func:`decode_header`)."""

    def feed(self, data: bytes) -> None:
        self.buf += data
        if len(self.buf) > self.max_total:
            raise FrameError(f"message larger than {self.max_total} bytes")

    def _frame(self, pos: int, cap: int) -> tuple[bytes, int] | None:
        if len(self.buf) < pos + _LEN.size:
            return None
        (n,) = _LEN.unpack_from(self.buf, pos)
        if n > cap:
            raise FrameError(f"frame of {n} bytes exceeds the cap of {cap}")
        end = pos + _LEN.size + n
        if len(self.buf) < end:
            return None
        return bytes(self.buf[pos + _LEN.size : end]), end

    def _complete(self, pos: int, n: int) -> int | None:
        """End of n frames starting at pos, reading only their lengths; None while bytes are missing
        (a large reply arrives in many chunks: re-copying its frames at each one would be quadratic)."""
        for _ in range(n):
            if len(self.buf) < pos + _LEN.size:
                return None
            (size,) = _LEN.unpack_from(self.buf, pos)
            if size > MAX_FRAME:
                raise FrameError(f"frame of {size} bytes exceeds the cap of {MAX_FRAME}")
            pos += _LEN.size + size
        return pos if len(self.buf) >= pos else None

    def message(self) -> tuple[dict[str, Any], list[np.ndarray]] | None:
        """The first complete message, removed from the buffer; None while more bytes are needed."""
        got = self._frame(0, MAX_HEADER)
        if got is None:
            return None
        head_bytes, pos = got
        header = decode_header(head_bytes, self.finite)
        n = header.get("n_arrays") if isinstance(header, dict) else None
        if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= 10_000:
            raise FrameError("header lacks a valid n_arrays")
        if self._complete(pos, n) is None:
            return None
        arrays = []
        decoded = 0
        for _ in range(n):
            got = self._frame(pos, MAX_FRAME)
            if got is None:
                return None
            data, pos = got
            try:
                arrays.append(decode_array(data, max(0, self.max_total - decoded)))
                decoded += arrays[-1].nbytes
                if decoded > self.max_total:  # sparse frames expand: the message's arrays stay under the cap
                    raise FrameError(f"message's arrays larger than {self.max_total} bytes")
            except FrameError:
                raise
            except Exception as e:  # an impossible dtype ('<f3'), a shape overflowing int64...
                raise FrameError(f"not a valid .npy array ({type(e).__name__}: {str(e)[:200]})") from None
        del self.buf[:pos]
        return header, arrays
