"""Data sets shipped with the grader, read from package files only (nothing is downloaded).

``digits``: scikit-learn's bundled 8x8 handwritten digits (UCI, CC BY 4.0: LICENSE beside this file),
1,797 images with a fixed train/test split, so that every learner and every torch twin trains on the same
arrays whether or not scikit-learn is installed.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
TEST_SIZE = 360
"""Images in the test split (the last 360 of the fixed order; the first 1,437 train)."""


@lru_cache(maxsize=1)
def _digits_raw() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with np.load(HERE / "digits.npz") as f:
        return f["images"], f["labels"], f["order"].astype(np.int64)


def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The digits' fixed split: X_train (1437, 64), y_train (1437,), X_test (360, 64), y_test (360,).

    X holds float64 pixel intensities scaled from 0..16 to [0, 1]; y int64 labels 0..9. Fresh arrays
    at every call (callers may change them)."""
    images, labels, order = _digits_raw()
    X = images[order].astype(np.float64) / 16.0
    y = labels[order].astype(np.int64)
    cut = len(y) - TEST_SIZE
    return X[:cut], y[:cut], X[cut:], y[cut:]
