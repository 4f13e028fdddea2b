"""Twins of the training utilities: gradient clipping (torch.nn.utils) and learning-rate schedules."""
from __future__ import annotations

import warnings

import torch

from . import twin


def _as_parameters(grads: list[torch.Tensor]) -> list[torch.nn.Parameter]:
    """torch's clipping works on parameters' .grad: wrap each gradient (the same tensor, changed in place)."""
    params = []
    for g in grads:
        p = torch.nn.Parameter(torch.zeros_like(g))
        p.grad = g
        params.append(p)
    return params


@twin("clip_grad_norm")
def clip_grad_norm(grads: list[torch.Tensor], max_norm: float, norm_type: float = 2.0) -> torch.Tensor:
    """torch.nn.utils.clip_grad_norm_: scale by max_norm / (total_norm + 1e-6) when that is below 1."""
    return torch.nn.utils.clip_grad_norm_(_as_parameters(grads), max_norm, norm_type)


@twin("clip_grad_value")
def clip_grad_value(grads: list[torch.Tensor], clip: float) -> None:
    torch.nn.utils.clip_grad_value_(_as_parameters(grads), clip)


@twin("step_lr")
def step_lr(lr: float, epoch: int, step_size: int, gamma: float = 0.1) -> torch.Tensor:
    """The learning rate torch.optim.lr_scheduler.StepLR gives after ``epoch`` scheduler steps."""
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=lr)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=step_size, gamma=gamma)
    with warnings.catch_warnings():  # no optimizer step is taken (no gradients): only the schedule counts
        warnings.filterwarnings("ignore", "Detected call of", UserWarning)
        for _ in range(epoch):
            sched.step()
    return torch.tensor(opt.param_groups[0]["lr"], dtype=torch.float64)
