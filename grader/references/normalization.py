"""Twins of the normalization and regularization layers."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from . import twin


@twin("batch_norm1d")
def batch_norm1d(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, *, running_mean: torch.Tensor,
                 running_var: torch.Tensor, momentum: float = 0.1, eps: float = 1e-5, train: bool = True) -> torch.Tensor:
    """torch.nn.BatchNorm1d on (N, D): batch statistics in training (biased variance to normalise, unbiased
    for the running estimate, updated in place with momentum), running statistics in evaluation."""
    return F.batch_norm(x, running_mean, running_var, gamma, beta, training=train, momentum=momentum, eps=eps)


@twin("dropout")
def dropout(x: torch.Tensor, p: float = 0.5, train: bool = True) -> torch.Tensor:
    """Only evaluation is compared with a reference (identity); training is graded by the stochastic check."""
    if train:
        raise ValueError("dropout in training mode has no deterministic reference: grade it with 'stochastic'")
    return F.dropout(x, p, training=False)


@twin("rrelu")
def rrelu(x: torch.Tensor, lower: float = 1 / 8, upper: float = 1 / 3, train: bool = True) -> torch.Tensor:
    """Evaluation uses the fixed slope (lower + upper) / 2, as torch does; training is graded by 'stochastic'."""
    if train:
        raise ValueError("rrelu in training mode has no deterministic reference: grade it with 'stochastic'")
    return F.rrelu(x, lower, upper, training=False)
