"""References on a CUDA device agree with the CPU ones, and grading on CUDA gives the same verdicts.

Skipped where torch sees no CUDA device (CI has none); run on a GPU machine to exercise it."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from grader.engine.expected import compute_references
from grader.engine.grading import Options, grade
from grader.model.course import Course

from .conftest import SOLUTIONS

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


def test_cuda_references_match_cpu(course: Course) -> None:
    cpu = compute_references(course, 0, "cpu")
    gpu = compute_references(course, 0, "cuda")
    assert cpu.keys() == gpu.keys()
    for key in cpu:
        np.testing.assert_allclose(gpu[key], cpu[key], rtol=1e-10, atol=1e-12, err_msg=str(key))


def test_solutions_full_marks_on_cuda(course: Course, tmp_path: Path) -> None:
    result = grade(course, SOLUTIONS, Options(device="cuda", cache=tmp_path))
    assert result.device == "cuda"
    assert result.passed, {e.title: e.reason for e in result.exercises if e.status != "pass"}
