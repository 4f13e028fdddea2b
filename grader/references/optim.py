"""Twins of the optimizers (torch.optim itself) and the torch trajectory the learner's must follow."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from . import twin
from .problems import PROBLEMS


@twin("sgd")
def sgd(params: list[torch.Tensor], **hyper: Any) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, **hyper)


@twin("momentum")
def momentum(params: list[torch.Tensor], momentum: float = 0.9, **hyper: Any) -> torch.optim.Optimizer:
    """SGD with momentum; the exercise's default momentum is 0.9 (torch.optim.SGD's is 0: plain SGD)."""
    return torch.optim.SGD(params, momentum=momentum, **hyper)


@twin("nesterov")
def nesterov(params: list[torch.Tensor], momentum: float = 0.9, **hyper: Any) -> torch.optim.Optimizer:
    """Nesterov momentum; the exercise's default momentum is 0.9 (torch.optim.SGD needs one > 0)."""
    return torch.optim.SGD(params, momentum=momentum, nesterov=True, **hyper)


@twin("adagrad")
def adagrad(params: list[torch.Tensor], **hyper: Any) -> torch.optim.Optimizer:
    return torch.optim.Adagrad(params, **hyper)


@twin("adadelta")
def adadelta(params: list[torch.Tensor], **hyper: Any) -> torch.optim.Optimizer:
    return torch.optim.Adadelta(params, **hyper)


@twin("rmsprop")
def rmsprop(params: list[torch.Tensor], **hyper: Any) -> torch.optim.Optimizer:
    return torch.optim.RMSprop(params, **hyper)


@twin("adam")
def adam(params: list[torch.Tensor], **hyper: Any) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, **hyper)


@twin("adamw")
def adamw(params: list[torch.Tensor], **hyper: Any) -> torch.optim.Optimizer:
    return torch.optim.AdamW(params, **hyper)


def trajectory(factory: Any, problem: str, hyper: dict[str, Any], steps: int, rng: np.random.Generator,
               device: str = "cpu") -> dict[str, np.ndarray]:
    """Run torch.optim on a problem and record what the learner's optimizer must reproduce.

    Returns arrays keyed ``init{j}`` (start), ``grad{j}`` (T, ...) (the gradients torch saw: the learner
    is fed the same ones), ``param{j}`` (T, ...) (after each step) and ``state{j}:{name}`` (T, ...).

    Raises:
        ValueError: the trajectory leaves the finite numbers (a learning rate too large for the problem).
    """
    init, data = PROBLEMS[problem].setup(rng)
    data = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in data.items()}
    params = [torch.tensor(p, dtype=torch.float64, device=device, requires_grad=True) for p in init]
    opt = factory(params, **hyper)
    record: dict[str, list[np.ndarray]] = {}

    def keep(key: str, value: torch.Tensor) -> None:
        record.setdefault(key, []).append(value.detach().to("cpu", torch.float64).numpy().copy())

    for t in range(steps):
        opt.zero_grad()
        PROBLEMS[problem].loss(params, t, data).backward()
        for j, p in enumerate(params):
            keep(f"grad{j}", p.grad)
        opt.step()
        for j, p in enumerate(params):
            keep(f"param{j}", p)
            for name, value in opt.state[p].items():
                keep(f"state{j}:{name}", torch.as_tensor(value))
    out = {f"init{j}": np.asarray(p, dtype=np.float64) for j, p in enumerate(init)}
    out.update({k: np.stack(v) for k, v in record.items()})
    bad = [k for k, v in out.items() if not np.all(np.isfinite(v))]
    if bad:
        raise ValueError(f"torch's trajectory on {problem} is not finite ({', '.join(bad)}): lower the learning rate")
    return out
