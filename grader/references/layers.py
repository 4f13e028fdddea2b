"""Twins of the parameterised layers."""
from __future__ import annotations

import torch

from . import twin


@twin("affine")
def affine(x: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The course text's convention x @ W + b, W of shape (D_in, D_out) (torch's Linear stores W.T)."""
    return x @ W + b
