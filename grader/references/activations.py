"""Twins of the activation layers: torch.nn.functional, float64."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from . import twin


@twin("sigmoid")
def sigmoid(x: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(x)


@twin("tanh")
def tanh(x: torch.Tensor) -> torch.Tensor:
    return torch.tanh(x)


@twin("hardtanh")
def hardtanh(x: torch.Tensor, min_val: float = -1.0, max_val: float = 1.0) -> torch.Tensor:
    return F.hardtanh(x, min_val, max_val)


@twin("relu")
def relu(x: torch.Tensor) -> torch.Tensor:
    return F.relu(x)


@twin("leaky_relu")
def leaky_relu(x: torch.Tensor, alpha: float = 0.01) -> torch.Tensor:
    return F.leaky_relu(x, alpha)


@twin("elu")
def elu(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    return F.elu(x, alpha)


@twin("prelu")
def prelu(x: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """torch.nn.PReLU(num_parameters=D): one learnable slope per feature (axis 1)."""
    return F.prelu(x, alpha)


@twin("softmax")
def softmax(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    return F.softmax(x, dim=axis)


@twin("log_softmax")
def log_softmax(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    return F.log_softmax(x, dim=axis)
