"""Twins of the optimizers (torch.optim itself) and the torch trajectory the learner's must follow."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from . import optim_step, twin
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


class TrajectoryError(ValueError):
    """A case's optimizer cannot be built, or its trajectory leaves the finite numbers."""

    def __init__(self, case: int, message: str, kind: str = "ValueError"):
        super().__init__(message)
        self.case = case
        self.kind = kind
        """The type of what torch.optim raised (``TypeError`` for an unknown keyword), for messages."""


def trajectories(factory: Any, problem: str, hypers: list[dict[str, Any]], steps: int,
                 rngs: list[np.random.Generator], device: str = "cpu") -> list[dict[str, np.ndarray]]:
    """Run torch.optim on a problem for every case (hyper-parameter set) at once, and record what the
    learner's optimizer must reproduce.

    Each case gets its own start, data and optimizer, built exactly as alone (a constructor may set up
    state: Adagrad's accumulator); their param groups and state then join the first case's optimizer,
    so one backward of the summed losses and one ``step()`` serve every case: the per-call overhead of
    torch.optim and autograd, 80% of a trajectory's cost, is paid once per step, not once per case.
    The cases stay independent: the sum's gradient reaches each case's parameters from its own loss
    alone (exactly: d sum / d loss_i is 1), and ``step()`` updates each group with its own settings.

    Returns, per case, arrays keyed ``init{j}`` (start), ``grad{j}`` (T, ...) (the gradients torch saw:
    the learner is fed the same ones), ``param{j}`` (T, ...) (after each step) and
    ``state{j}:{name}`` (T, ...).

    Raises:
        TrajectoryError: a case's settings are refused by torch.optim, or its trajectory leaves the
            finite numbers (a learning rate too large for the problem).
    """
    spec = PROBLEMS[problem]
    inits, datas, params, opts = [], [], [], []
    for i, (hyper, rng) in enumerate(zip(hypers, rngs)):
        init, data = spec.setup(rng)
        inits.append(init)
        datas.append({k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in data.items()})
        params.append([torch.tensor(p, dtype=torch.float64, device=device, requires_grad=True) for p in init])
        try:
            opts.append(factory(params[-1], **hyper))
        except (ValueError, TypeError, KeyError) as e:
            raise TrajectoryError(i, str(e), type(e).__name__) from None
    opt = opts[0]
    for other in opts[1:]:
        opt.param_groups.extend(other.param_groups)
        opt.state.update(other.state)
    records: list[dict[str, list[torch.Tensor]]] = [{} for _ in hypers]

    def keep(record: dict[str, list[torch.Tensor]], key: str, value: Any) -> None:
        record.setdefault(key, []).append(torch.as_tensor(value).detach().clone())

    for t in range(steps):
        opt.zero_grad()
        torch.stack([spec.loss(ps, t, data) for ps, data in zip(params, datas)]).sum().backward()
        for record, ps in zip(records, params):
            for j, p in enumerate(ps):
                keep(record, f"grad{j}", p.grad)
        optim_step(opt)
        for record, ps in zip(records, params):
            for j, p in enumerate(ps):
                keep(record, f"param{j}", p)
                for name, value in opt.state[p].items():
                    keep(record, f"state{j}:{name}", value)
    results = []
    for i, (init, record) in enumerate(zip(inits, records)):
        out = {f"init{j}": np.asarray(p, dtype=np.float64) for j, p in enumerate(init)}
        out.update({k: torch.stack(v).to("cpu", torch.float64).numpy() for k, v in record.items()})
        bad = [k for k, v in out.items() if not np.all(np.isfinite(v))]
        if bad:
            raise TrajectoryError(i, f"torch's trajectory on {problem} is not finite ({', '.join(bad)}): "
                                  "lower the learning rate")
        results.append(out)
    return results


def trajectory(factory: Any, problem: str, hyper: dict[str, Any], steps: int, rng: np.random.Generator,
               device: str = "cpu") -> dict[str, np.ndarray]:
    """One case's torch.optim trajectory on a problem (:func:`trajectories` of one case)."""
    return trajectories(factory, problem, [hyper], steps, [rng], device)[0]
