"""Twins of the counting functions (assignment A6), each computed by torch itself, and placeholders for
the initializer laws.

Counts are returned as int64 tensors (or ints): the grader compares integer results exactly. A pair is
returned as ONE tensor of two entries (a tuple would read as two outputs). Layers are built on the
``meta`` device: torch knows their shapes and counts without allocating a single weight.
"""
from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from . import twin


def _pair(v: Any) -> tuple[int, int]:
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


def _conv_out(h: int, w: int, kernel: Any, stride: Any, padding: Any, c_in: int = 1, c_out: int = 1) -> torch.Tensor:
    """F.conv2d of zeros on the CPU (single precision): on the meta device its shape checks import
    sympy on first use (0.27 s of CPU), more than the largest case here takes to compute."""
    x = torch.zeros(1, c_in, h, w)
    weight = torch.zeros(c_out, c_in, *_pair(kernel))
    return F.conv2d(x, weight, stride=_pair(stride), padding=_pair(padding))


@twin("conv2d_output_shape")
def conv2d_output_shape(h: int, w: int, kernel: Any, stride: Any = 1, padding: Any = 0) -> torch.Tensor:
    """(h_out, w_out): the last two dimensions of F.conv2d's result on a (1, 1, h, w) input."""
    return torch.tensor(tuple(_conv_out(h, w, kernel, stride, padding).shape[-2:]), dtype=torch.int64)


@twin("affine_param_count")
def affine_param_count(d_in: int, d_out: int) -> int:
    """sum(p.numel()) over torch.nn.Linear(d_in, d_out)'s parameters (weight and bias)."""
    return sum(p.numel() for p in torch.nn.Linear(d_in, d_out, device="meta").parameters())


@twin("conv2d_param_count")
def conv2d_param_count(c_in: int, c_out: int, kernel: Any, bias: bool = True) -> int:
    """sum(p.numel()) over torch.nn.Conv2d(c_in, c_out, kernel, bias=bias)'s parameters."""
    layer = torch.nn.Conv2d(c_in, c_out, _pair(kernel), bias=bias, device="meta")
    return sum(p.numel() for p in layer.parameters())


@twin("conv2d_macs")
def conv2d_macs(c_in: int, c_out: int, h: int, w: int, kernel: Any, stride: Any = 1, padding: Any = 0) -> int:
    """Multiply-accumulates of one image: torch's FLOP counter on F.conv2d (no bias) counts 2 per MAC."""
    with FlopCounterMode(display=False) as counter:
        _conv_out(h, w, kernel, stride, padding, c_in, c_out)
    flops = counter.get_total_flops()
    if flops % 2:
        raise ValueError(f"torch counted an odd number of FLOPs ({flops}) for a convolution")
    return flops // 2


# --------------------------------------------------------------------------- initializer laws
# The initializers are graded by the ``statistics`` check against the law named by the exercise's
# reference (grader/checks/statistics.py). The engine still asks every exercise's reference for a twin
# (``grader validate``, and the references computed for every case), so each law has one here: the
# matrix torch's own initializer draws, on torch's (fan_out, fan_in) weight, transposed to the course's
# (fan_in, fan_out); its shape is what the twin returns. Nothing compares it with the learner's matrix.


def _gen() -> torch.Generator:
    """A private generator: the twins never move torch's global random state."""
    return torch.Generator().manual_seed(0)


def _law_shape(init: Any, fan_in: int, fan_out: int) -> torch.Tensor:
    w = torch.empty(fan_out, fan_in, dtype=torch.float64)
    init(w)
    return torch.tensor(tuple(w.T.shape), dtype=torch.int64)


@twin("uniform_fan_in")
def uniform_fan_in(fan_in: int, fan_out: int) -> torch.Tensor:
    return _law_shape(lambda w: torch.nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=_gen()), fan_in, fan_out)


@twin("glorot_uniform")
def glorot_uniform(fan_in: int, fan_out: int, gain: float = 1.0) -> torch.Tensor:
    return _law_shape(lambda w: torch.nn.init.xavier_uniform_(w, gain=gain, generator=_gen()), fan_in, fan_out)


@twin("glorot_normal")
def glorot_normal(fan_in: int, fan_out: int, gain: float = 1.0) -> torch.Tensor:
    return _law_shape(lambda w: torch.nn.init.xavier_normal_(w, gain=gain, generator=_gen()), fan_in, fan_out)


@twin("he_normal")
def he_normal(fan_in: int, fan_out: int, a: float = 0.0) -> torch.Tensor:
    return _law_shape(lambda w: torch.nn.init.kaiming_normal_(w, a=a, nonlinearity="leaky_relu", generator=_gen()),
                      fan_in, fan_out)


@twin("he_uniform")
def he_uniform(fan_in: int, fan_out: int, a: float = 0.0) -> torch.Tensor:
    return _law_shape(lambda w: torch.nn.init.kaiming_uniform_(w, a=a, nonlinearity="leaky_relu", generator=_gen()),
                      fan_in, fan_out)


@twin("orthogonal")
def orthogonal(fan_in: int, fan_out: int, gain: float = 1.0) -> torch.Tensor:
    return _law_shape(lambda w: torch.nn.init.orthogonal_(w, gain=gain, generator=_gen()), fan_in, fan_out)


@twin("sparse")
def sparse(fan_in: int, fan_out: int, k: int, std: float = 0.01) -> torch.Tensor:
    # sparse_ fixes the zeros per column of its argument: on the course's (fan_in, fan_out) layout,
    # ceil(sparsity * fan_in) = fan_in - k zeros per column for sparsity (fan_in - k - 0.5) / fan_in (the 0.5
    # keeps the ceiling exact). On the meta device it draws nothing (its row permutations would come from
    # torch's global generator).
    w = torch.empty(fan_in, fan_out, dtype=torch.float64, device="meta")
    torch.nn.init.sparse_(w, sparsity=(fan_in - k - 0.5) / fan_in, std=std, generator=_gen())
    return torch.tensor(tuple(w.shape), dtype=torch.int64)
