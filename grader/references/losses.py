"""Twins of the losses, with torch's reductions."""
from __future__ import annotations

import warnings

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


def _reduce(losses: torch.Tensor, reduction: str) -> torch.Tensor:
    """PyTorch's reductions for the losses torch has no function for."""
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    if reduction == "none":
        return losses
    raise ValueError(f"unknown reduction {reduction!r}")


@twin("l1_loss")
def l1_loss(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    return F.l1_loss(pred, target, reduction=reduction)


@twin("msle_loss")
def msle_loss(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Mean squared logarithmic error: (log1p(pred) - log1p(target))**2; torch has no function for it."""
    return _reduce((torch.log1p(pred) - torch.log1p(target)) ** 2, reduction)


@twin("mape_loss")
def mape_loss(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Mean absolute percentage error as a fraction: |(target - pred) / target|."""
    return _reduce(torch.abs((target - pred) / target), reduction)


@twin("smooth_l1_loss")
def smooth_l1_loss(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                   beta: float = 1.0) -> torch.Tensor:
    return F.smooth_l1_loss(pred, target, reduction=reduction, beta=beta)


@twin("huber_loss")
def huber_loss(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
               delta: float = 1.0) -> torch.Tensor:
    return F.huber_loss(pred, target, reduction=reduction, delta=delta)


@twin("hinge_loss")
def hinge_loss(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Binary hinge for labels -1/+1: max(0, 1 - target * pred)."""
    return _reduce(torch.clamp(1 - target * pred, min=0), reduction)


@twin("squared_hinge_loss")
def squared_hinge_loss(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Squared binary hinge for labels -1/+1: max(0, 1 - target * pred)**2."""
    return _reduce(torch.clamp(1 - target * pred, min=0) ** 2, reduction)


@twin("logistic_loss")
def logistic_loss(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Logistic loss for labels -1/+1: log(1 + exp(-target * pred)), as a stable logaddexp(0, -m)."""
    m = target * pred
    return _reduce(torch.logaddexp(torch.zeros_like(m), -m), reduction)


@twin("exponential_loss")
def exponential_loss(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Exponential (AdaBoost) loss for labels -1/+1: exp(-target * pred)."""
    return _reduce(torch.exp(-target * pred), reduction)


@twin("bce_loss")
def bce_loss(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
             weight: torch.Tensor | None = None) -> torch.Tensor:
    """Binary cross-entropy on probabilities; torch clamps each log at -100.

    With a weight, F.binary_cross_entropy's own steps (expand the weight to the target, then the aten
    op): its torch.broadcast_shapes imports sympy on first use (0.3 s of CPU) for a shape it knows."""
    if weight is None:
        return F.binary_cross_entropy(pred, target, reduction=reduction)
    if target.shape != pred.shape:
        raise ValueError(f"target shape {tuple(target.shape)} differs from the input's {tuple(pred.shape)}")
    from torch.nn import _reduction

    return torch.ops.aten.binary_cross_entropy(pred, target, weight.expand(target.shape),
                                               _reduction.get_enum(reduction))


@twin("bce_with_logits_loss")
def bce_with_logits_loss(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
                         weight: torch.Tensor | None = None, pos_weight: torch.Tensor | None = None) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(pred, target, weight=weight, pos_weight=pos_weight,
                                              reduction=reduction)


@twin("nll_loss")
def nll_loss(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean", ignore_index: int = -100,
             weight: torch.Tensor | None = None) -> torch.Tensor:
    """Log-probabilities (N, C) and int64 class indices (N,)."""
    return F.nll_loss(pred, target, weight=weight, ignore_index=ignore_index, reduction=reduction)


@twin("cross_entropy_loss")
def cross_entropy_loss(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean", ignore_index: int = -100,
                       label_smoothing: float = 0.0, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Logits (N, C) and int64 class indices (N,), with torch.nn.CrossEntropyLoss's options."""
    return F.cross_entropy(pred, target, weight=weight, ignore_index=ignore_index, reduction=reduction,
                           label_smoothing=label_smoothing)


@twin("kl_div_loss")
def kl_div_loss(pred: torch.Tensor, target: torch.Tensor, reduction: str = "batchmean") -> torch.Tensor:
    """Log-probabilities in pred, probabilities in target (log_target=False)."""
    with warnings.catch_warnings():  # torch warns that "mean" will one day mean "batchmean"; the course tests both
        warnings.simplefilter("ignore", UserWarning)
        return F.kl_div(pred, target, reduction=reduction, log_target=False)
