"""Call plans: the steps the child runs for one case, built from the exercise's kind.

A plan names arrays by ``$name`` and objects by the index of the step that created them; the child
executes it literally. Keeping plan building here means a check states *what* it needs (an instance,
a forward, a backward, the gradients) without knowing the wire format.
"""
from __future__ import annotations

from typing import Any

from .course import Exercise

Step = dict[str, Any]


def hyper_of(ex: Exercise, case_hyper: dict[str, Any]) -> dict[str, Any]:
    return {**ex.hyper, **case_hyper}


def inputs_of(ex: Exercise, arrays: dict[str, Any]) -> list[str]:
    """Names of the arrays the forward call takes, in order."""
    if ex.kind == "layer":
        return ["x"]
    if ex.kind == "loss":
        return ["pred", "target"]
    return [n for n in arrays if n not in ex.params]


def constructor_arrays(ex: Exercise, arrays: dict[str, Any]) -> list[str]:
    """Arrays a loss takes as keyword constructor arguments (``weight``, ``pos_weight``): all but pred, target."""
    if ex.kind != "loss":
        return []
    return [n for n in arrays if n not in ("pred", "target")]


def needs_dout(ex: Exercise, out_shape: tuple[int, ...]) -> bool:
    """A layer's backward takes dout; so does a loss with reduction "none" (its output is not a scalar)."""
    return ex.kind == "layer" or (ex.kind == "loss" and len(out_shape) > 0)


def differentiable(ex: Exercise) -> list[str]:
    """Arrays whose gradient the learner's backward must produce: ``dx`` then each parameter's."""
    if ex.kind == "layer":
        return ["x", *ex.params]
    if ex.kind == "loss":
        return ["pred"]
    return []


def new(ex: Exercise, hyper: dict[str, Any], rename: dict[str, str] | None = None,
        array_kwargs: tuple[str, ...] | list[str] = ()) -> Step:
    rename = rename or {}
    kwargs = {**hyper, **{n: "$" + n for n in array_kwargs}}
    return {"op": "new", "target": ex.target, "args": ["$" + rename.get(p, p) for p in ex.params], "kwargs": kwargs}


def forward(ex: Exercise, obj: int, names: list[str], rename: dict[str, str] | None = None,
            hyper: dict[str, Any] | None = None) -> Step:
    rename = rename or {}
    args = ["$" + rename.get(n, n) for n in names]
    if ex.kind == "function":
        return {"op": "func", "target": ex.target, "args": args, "kwargs": hyper or {}}
    return {"op": "call", "obj": obj, "method": "forward", "args": args}


def backward(obj: int, with_dout: bool) -> Step:
    return {"op": "call", "obj": obj, "method": "backward", "args": ["$dout"] if with_dout else []}


def grads(obj: int) -> Step:
    return {"op": "attr", "obj": obj, "name": "grads"}


def grad_ids(obj: int) -> Step:
    return {"op": "ids", "obj": obj, "name": "grads"}


def var(name: str) -> Step:
    return {"op": "var", "name": name}
