"""Speed-ups of the reference computation must not move a reference value.

tests/data/public_refs_sample.json.gz holds, for every reference of the bundled course's public seed,
its shape and four numbers (first, middle and last element, and the sum), recorded before the
optimizer trajectories were batched and before backward took a scalar in place of the douts. A faster
path that changes a value by more than 1e-12 (relative) fails here.
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from grader.engine.expected import compute_references
from grader.engine.refstore import torch_version
from grader.model.course import Course

SAMPLE = Path(__file__).parent / "data" / "public_refs_sample.json.gz"


def _recorded() -> tuple[str, dict[tuple[str, str, int, str], tuple[list[int], list[float]]]]:
    data = json.loads(gzip.open(SAMPLE).read())
    return data["torch"], {(e, p, int(i), q): (shape, values) for (e, p, i, q), shape, values in data["rows"]}


def _compare(course: Course, ids: list[str]) -> None:
    version, recorded = _recorded()
    if torch_version().split("+")[0] != version:
        pytest.skip(f"values recorded with torch {version}, this is {torch_version()}")
    got = compute_references(course, course.public_seed, "cpu", ids)
    want = {k: v for k, v in recorded.items() if k[0] in ids}
    assert set(got) == set(want)
    for key, (shape, values) in want.items():
        a = np.asarray(got[key], dtype=np.float64).ravel()
        assert list(got[key].shape) == shape, key
        if a.size:
            now = [a[0], a[a.size // 2], a[-1], a.sum()]
            np.testing.assert_allclose(now, values, rtol=1e-12, atol=1e-12, err_msg=str(key))


def test_sample_of_references_unchanged(course: Course) -> None:
    """Every optimizer (batched trajectories), a layer, a loss with a weight and a multi-output layer."""
    ids = [ex.id for ex in course.exercises if ex.problems] + ["1.1", "2.10"]
    _compare(course, ids)


@pytest.mark.slow
def test_every_reference_unchanged(course: Course) -> None:
    _compare(course, [ex.id for ex in course.exercises])
