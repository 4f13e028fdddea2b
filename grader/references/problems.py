"""Test problems for optimizers: small losses whose real gradients drive a trajectory.

Each problem draws its initial parameters (several, of different shapes where it matters) and any fixed
data from a generator, and gives a torch loss for step t. Together they cover what trips hand-written
optimizers: bad conditioning (quadratic), curved valleys (Rosenbrock), real network gradients (mlp),
gradients that are mostly exact zeros (sparse), and a parameter whose gradient is always zero (zero).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

Params = list[torch.Tensor]


@dataclass(frozen=True)
class Problem:
    name: str
    description: str
    setup: Callable[[np.random.Generator], tuple[list[np.ndarray], dict[str, Any]]]
    """Initial parameters and fixed data."""
    loss: Callable[[Params, int, dict[str, Any]], torch.Tensor]
    """The loss at step t (data may depend on t, e.g. which rows a sparse step touches)."""


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(a, dtype=torch.float64)


def _quadratic_setup(rng: np.random.Generator) -> tuple[list[np.ndarray], dict[str, Any]]:
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    a = q @ np.diag([1.0, 10.0, 100.0]) @ q.T  # condition number 100
    return [rng.uniform(-1, 1, 3)], {"A": _t(a)}


def _quadratic(p: Params, t: int, d: dict[str, Any]) -> torch.Tensor:
    return 0.5 * p[0] @ d["A"] @ p[0]


def _rosenbrock_setup(rng: np.random.Generator) -> tuple[list[np.ndarray], dict[str, Any]]:
    return [np.array([-1.0, 1.0]) + rng.uniform(-0.3, 0.3, 2)], {}


def _rosenbrock(p: Params, t: int, d: dict[str, Any]) -> torch.Tensor:
    x, y = p[0][0], p[0][1]
    return (1 - x) ** 2 + 10 * (y - x**2) ** 2


def _mlp_setup(rng: np.random.Generator) -> tuple[list[np.ndarray], dict[str, Any]]:
    params = [rng.normal(0, 0.5, (4, 6)), rng.normal(0, 0.1, 6), rng.normal(0, 0.5, (6, 3)), rng.normal(0, 0.1, 3)]
    return params, {"X": _t(rng.normal(size=(8, 4))), "y": torch.as_tensor(rng.integers(0, 3, 8))}


def _mlp(p: Params, t: int, d: dict[str, Any]) -> torch.Tensor:
    hidden = torch.tanh(d["X"] @ p[0] + p[1])
    return F.cross_entropy(hidden @ p[2] + p[3], d["y"])


def _sparse_setup(rng: np.random.Generator) -> tuple[list[np.ndarray], dict[str, Any]]:
    rows = [rng.choice(10, size=2, replace=False) for _ in range(1000)]
    return [rng.uniform(-1, 1, (10, 3)), rng.uniform(-1, 1, 3)], {"rows": rows, "T": _t(rng.uniform(-1, 1, (10, 3)))}


def _sparse(p: Params, t: int, d: dict[str, Any]) -> torch.Tensor:
    """An embedding-like loss: each step touches two rows of the table, so most gradient entries are 0."""
    rows = torch.as_tensor(d["rows"][t % len(d["rows"])])
    return 0.5 * ((p[0][rows] + p[1] - d["T"][rows]) ** 2).sum()


def _zero_setup(rng: np.random.Generator) -> tuple[list[np.ndarray], dict[str, Any]]:
    return [rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, 4)], {}


def _zero(p: Params, t: int, d: dict[str, Any]) -> torch.Tensor:
    """The second parameter takes part with weight 0: its gradient is an exact zero at every step."""
    return 0.5 * (p[0] ** 2).sum() + 0.0 * p[1].sum()


PROBLEMS = {
    p.name: p
    for p in (
        Problem("quadratic", "0.5 x^T A x with condition number 100", _quadratic_setup, _quadratic),
        Problem("rosenbrock", "(1 - x)^2 + 10 (y - x^2)^2 from near (-1, 1)", _rosenbrock_setup, _rosenbrock),
        Problem("mlp", "a 4-6-3 tanh network's cross-entropy on 8 fixed samples", _mlp_setup, _mlp),
        Problem("sparse", "embedding rows: two of ten rows get a gradient each step", _sparse_setup, _sparse),
        Problem("zero", "a second parameter whose gradient is always exactly zero", _zero_setup, _zero),
    )
}
