"""The child's replies, rebuilt in the parent: values per step, the learner's failure, or a
:class:`ChildFailure` for anything malformed. Total by design: whatever bytes a hostile child sends, the
outcome is one of those, never an exception of another kind and never a pass."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..model.values import Value
from . import protocol


class ChildFailure(Exception):
    """The child died, hung or sent garbage: the exercise in progress gets this status."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status  # "timeout" or "error"


@dataclass
class StepFailure:
    """A learner's call raised: which step, and the child's description of the exception."""

    step: int
    type: str
    message: str
    where: str
    traceback: str
    not_implemented: bool


@dataclass
class Reply:
    values: list[Value]
    failure: StepFailure | None
    forward_calls: dict[int, int] = field(default_factory=dict)
    """Per backward step: how many times the learner's forward ran inside it."""
    fp_warnings: list[tuple[str, str]] = field(default_factory=list)
    """numpy floating-point events in the learner's code (what, where), when the plan asked to record them."""


_ARRAYS = {"array": 1, "scalar": 1, "none": 0, "other": 0, "missing": 0}


def _parse_value(r: dict[str, Any], arrays: list[np.ndarray], pos: int, depth: int = 0) -> tuple[Value, int]:
    """One result and the position of the next array; a ``loop`` holds one column per body step, each
    ``stacked`` (one array, iterations first) or ``steps`` (one value per iteration)."""
    kind, type_name = r["kind"], str(r["type"])[:200]
    if kind in _ARRAYS:
        n = _ARRAYS[kind]
        if pos + n > len(arrays):
            raise ValueError("too few arrays")
        return Value(kind, type_name, tuple(arrays[pos : pos + n])), pos + n
    if kind == "list":
        n = len(r["items"])
        if pos + n > len(arrays) or any(i["kind"] not in ("array", "scalar") for i in r["items"]):
            raise ValueError("bad list result")
        items = tuple(Value(i["kind"], str(i["type"])[:200], (arrays[pos + j],)) for j, i in enumerate(r["items"]))
        return Value(kind, type_name, tuple(arrays[pos : pos + n]), items), pos + n
    if kind == "stacked" and depth == 1 and pos < len(arrays) and arrays[pos].ndim >= 1:
        return Value(kind, type_name, (arrays[pos],)), pos + 1
    if kind == "steps" and depth == 1:
        items = []
        for item in r["items"]:
            value, pos = _parse_value(item, arrays, pos, depth + 1)
            items.append(value)
        return Value(kind, type_name, (), tuple(items)), pos
    if kind == "loop" and depth == 0:
        done, columns = r["done"], []
        if not isinstance(done, int) or isinstance(done, bool) or done < 0:
            raise ValueError("bad loop count")
        for column in r["columns"]:
            value, pos = _parse_value(column, arrays, pos, depth + 1)
            rows = value.arrays[0].shape[0] if value.kind == "stacked" else len(value.items)
            if rows != done:
                raise ValueError("loop column of the wrong length")
            columns.append(value)
        return Value(kind, "loop", (), tuple(columns), count=done), pos
    raise ValueError(f"bad result kind {kind!r}")


def _check_numbers(item: Any, depth: int = 0) -> None:
    """Refuse NaN and infinities anywhere in a header (``"step": Infinity`` would make int() overflow)
    and nesting beyond protocol.MAX_DEPTH (the Unpacker already refuses it; this keeps the walk bounded)."""
    if depth > protocol.MAX_DEPTH:
        raise ValueError("header nested too deep")
    if isinstance(item, float) and not np.isfinite(item):
        raise ValueError(f"non-finite number {item} in the header")
    if isinstance(item, dict):
        for v in item.values():
            _check_numbers(v, depth + 1)
    elif isinstance(item, list):
        for v in item:
            _check_numbers(v, depth + 1)


def parse_reply(header: dict[str, Any], arrays: list[np.ndarray], n_steps: int) -> Reply:
    """Rebuild the values of a reply; any inconsistency is a malformed reply, never a pass. Total: whatever
    the header holds, the outcome is a Reply or a ChildFailure (RecursionError, OverflowError and
    MemoryError included), never another exception."""
    try:
        _check_numbers(header)
        values, pos = [], 0
        for r in header["results"]:
            value, pos = _parse_value(r, arrays, pos)
            values.append(value)
        if pos != len(arrays) or len(values) > n_steps:
            raise ValueError("array count does not match")
        failure = None
        if header.get("error") is not None:
            e = header["error"]
            failure = StepFailure(int(header["step"]), str(e["type"])[:100], str(e["message"])[:1000],
                                  str(e.get("where", ""))[:300], str(e.get("traceback", ""))[:3000],
                                  bool(e.get("not_implemented")))
        elif len(values) != n_steps:
            raise ValueError("reply has fewer results than steps")
        calls = header.get("forward_calls", {})
        if not isinstance(calls, dict) or len(calls) > n_steps:
            raise ValueError("bad forward_calls")
        forward_calls = {int(k): v for k, v in calls.items()}
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in forward_calls.values()):
            raise ValueError("bad forward_calls")
        warned = header.get("fp_warnings", [])
        if not isinstance(warned, list) or len(warned) > 8 or not all(
                isinstance(w, dict) and isinstance(w.get("what"), str) and isinstance(w.get("where"), str)
                for w in warned):
            raise ValueError("bad fp_warnings")
        return Reply(values, failure, forward_calls, [(w["what"][:40], w["where"][:200]) for w in warned])
    except Exception as e:  # KeyError, TypeError, ValueError, OverflowError, RecursionError, MemoryError...
        raise ChildFailure("error", f"the child sent a malformed reply ({str(e)[:300]})") from None
