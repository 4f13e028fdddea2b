"""Twins of the computational-graph nodes: matrix product, repeat (np.repeat semantics) and sum."""
from __future__ import annotations

import torch

from . import twin


@twin("matmul")
def matmul(x: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """x @ W with W of shape (D_in, D_out), as the course writes it."""
    return torch.matmul(x, W)


@twin("repeat")
def repeat(x: torch.Tensor, axis: int = 0, n: int = 2) -> torch.Tensor:
    """np.repeat(x, n, axis): each entry copied n times in place (repeat_interleave, not Tensor.repeat)."""
    return torch.repeat_interleave(x, n, dim=axis)


@twin("sum")
def sum_(x: torch.Tensor, axis: int = 0, keepdims: bool = False) -> torch.Tensor:
    return torch.sum(x, dim=axis, keepdim=keepdims)
