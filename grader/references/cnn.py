"""Twins of the convolutional layers (torch.nn.functional, NCHW) and of maxout."""
from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from . import twin


def _arg(value: int | str | list[int] | tuple[int, ...] | None) -> int | str | tuple[int, ...] | None:
    """Course files give pairs as lists: torch takes tuples."""
    return tuple(value) if isinstance(value, list) else value


@twin("flatten")
def flatten(x: torch.Tensor) -> torch.Tensor:
    return torch.flatten(x, start_dim=1)


@twin("conv2d")
def conv2d(x: torch.Tensor, W: torch.Tensor, b: torch.Tensor, stride: int | list[int] = 1,
           padding: int | str | list[int] = 0) -> torch.Tensor:
    """torch's cross-correlation, W (C_out, C_in, kh, kw); padding an int, a pair, "same" or "valid"."""
    with warnings.catch_warnings():
        # torch warns that "same" with an even kernel pads a copy of the input: a fact, not a problem
        warnings.filterwarnings("ignore", message=".*padding='same'.*", category=UserWarning)
        return F.conv2d(x, W, b, stride=_arg(stride), padding=_arg(padding))


@twin("max_pool2d")
def max_pool2d(x: torch.Tensor, kernel: int | list[int] = 2, stride: int | list[int] | None = None) -> torch.Tensor:
    """No padding, floor mode; stride None means the kernel size."""
    return F.max_pool2d(x, _arg(kernel), _arg(stride))


@twin("avg_pool2d")
def avg_pool2d(x: torch.Tensor, kernel: int | list[int] = 2, stride: int | list[int] | None = None) -> torch.Tensor:
    """No padding, floor mode, divisor kh*kw; stride None means the kernel size."""
    return F.avg_pool2d(x, _arg(kernel), _arg(stride))


@twin("maxout")
def maxout(x: torch.Tensor, k: int = 2) -> torch.Tensor:
    """(N, D*k) -> (N, D): output j is the max over the contiguous features j*k ... j*k+k-1."""
    return x.unflatten(1, (-1, k)).max(dim=2).values
