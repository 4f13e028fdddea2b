"""What a network run's figures are drawn from (grader.checks.training puts it in a case's details; the
plots back draws it): both loss curves, XOR's trained parameters beside its 4 points, the confusion
matrix and misclassified images of the test split. JSON-safe lists, thinned where long.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..kinds import networks
from ..kinds.networks import NetworkSpec
from ..model.values import Value
from . import departures

MAX_CURVE = 400
"""Steps of the loss curve a report keeps (a longer run is thinned evenly)."""


def curve(theirs: np.ndarray, mine: np.ndarray) -> dict[str, list[float]]:
    """Loss per step, both runs, thinned to MAX_CURVE points (JSON-safe: non-finite as None)."""
    stride = max(1, -(-len(theirs) // MAX_CURVE))
    clean = lambda a: [float(v) if np.isfinite(v) else None for v in np.asarray(a, dtype=np.float64)[::stride]]  # noqa: E731
    return {"stride": stride, "torch": clean(theirs), "yours": clean(mine)}  # type: ignore[dict-item]


def hidden(spec: NetworkSpec, data: networks.Data, ref: dict[str, np.ndarray], final: Value | None) -> dict[str, Any]:
    """XOR's picture: both trained networks' parameters (W1, b1, W2, b2) and the 4 points, for the figure
    of the points in input space and in each learned hidden space, with the output's decision line."""
    n = len(spec.param_owner())
    if spec.data != "xor" or final is None or final.kind != "list" or len(final.items) != n:
        return {}
    mine = [departures.column(Value("steps", "", (), (v,)), 0) for v in final.items]
    if any(m is None or m.shape != ref[f"final{j}"].shape for j, m in enumerate(mine)):
        return {}
    as_lists = lambda arrays: [np.asarray(a, dtype=np.float64).tolist() for a in arrays]  # noqa: E731
    return {"hidden": {"X": data.X.tolist(), "y": data.y.reshape(-1).tolist(), "yours": as_lists(mine),
                       "torch": as_lists(ref[f"final{j}"] for j in range(n))}}


MAX_WRONG = 8
"""Misclassified test images a figure shows."""


def confusion(data: networks.Data, out: Value | None) -> dict[str, Any]:
    """The trained model's confusion matrix on the test split and its first misclassified images."""
    if out is None or out.kind != "array" or data.X_test is None or data.y_test is None:
        return {}
    scores = out.arrays[0]
    if scores.ndim != 2 or scores.shape[0] != len(data.y_test) or scores.dtype.kind not in "biuf":
        return {}
    predicted = np.argmax(scores, axis=1)
    classes = int(max(scores.shape[1], data.y_test.max() + 1))
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (data.y_test, predicted), 1)
    wrong = np.flatnonzero(predicted != data.y_test)[:MAX_WRONG]
    side = int(round(np.sqrt(data.X_test.shape[1]))) if data.X_test.ndim == 2 else 0
    return {"confusion": {"matrix": matrix.tolist(), "side": side,
                          "wrong": [{"image": np.round(data.X_test[i], 4).tolist(), "true": int(data.y_test[i]),
                                     "predicted": int(predicted[i])} for i in wrong]}}
