"""Twins of the weight-decay penalties (L1, L2) and their gradients; placeholders for the training helpers
that torch has no deterministic twin of (early stopping, mini-batch iteration).

The penalties are stated as torch formulas; their gradients come from autograd of those formulas and are
ADDED to the given gradient tensors in place, as the learner's ``*_grad`` functions add them to ``grads``
(the result is compared as ``g0 after``, ``g1 after``...).
"""
from __future__ import annotations

from typing import Callable

import torch

from . import twin


def _l1(params: list[torch.Tensor], lam: float) -> torch.Tensor:
    return lam * sum(p.abs().sum() for p in params)


def _l2(params: list[torch.Tensor], lam: float) -> torch.Tensor:
    return 0.5 * lam * sum((p ** 2).sum() for p in params)


@twin("l1_penalty")
def l1_penalty(params: list[torch.Tensor], lam: float) -> torch.Tensor:
    """lam * sum(p.abs().sum() for p in params)."""
    return _l1(params, lam)


@twin("l2_penalty")
def l2_penalty(params: list[torch.Tensor], lam: float) -> torch.Tensor:
    """0.5 * lam * sum((p ** 2).sum() for p in params)."""
    return _l2(params, lam)


def _add_grad(penalty: Callable[[list[torch.Tensor], float], torch.Tensor], params: list[torch.Tensor],
              grads: list[torch.Tensor], lam: float) -> None:
    leaves = [p.detach().clone().requires_grad_(True) for p in params]
    dws = torch.autograd.grad(penalty(leaves, lam), leaves)
    with torch.no_grad():
        for g, dw in zip(grads, dws):
            g.add_(dw)


@twin("l1_penalty_grad")
def l1_penalty_grad(params: list[torch.Tensor], grads: list[torch.Tensor], lam: float) -> None:
    """grads[k] += d/dp_k (lam * sum |p|) = lam * sign(p_k), by autograd."""
    _add_grad(_l1, params, grads, lam)


@twin("l2_penalty_grad")
def l2_penalty_grad(params: list[torch.Tensor], grads: list[torch.Tensor], lam: float) -> None:
    """grads[k] += d/dp_k (0.5 * lam * sum p**2) = lam * p_k, by autograd: SGD's weight_decay=lam."""
    _add_grad(_l2, params, grads, lam)
