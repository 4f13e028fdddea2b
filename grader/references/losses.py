"""Twins of the losses, with torch's reductions."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from . import twin


@twin("mse_loss")
def mse_loss(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    return F.mse_loss(pred, target, reduction=reduction)


@twin("softmax_cross_entropy")
def softmax_cross_entropy(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Logits (N, C) and int64 class indices (N,), as torch.nn.functional.cross_entropy."""
    return F.cross_entropy(pred, target, reduction=reduction)
