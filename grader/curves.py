"""Curves for figures: the learner's f and f' over a range, next to the reference's.

For an element-wise layer, forward runs on a grid of inputs and backward with dout = 1 gives f'. For a
loss, the first entry of the first case's prediction sweeps the range with everything else fixed, and
the loss and its gradient in that entry are recorded. The reference side is computed with the other
references (purpose ``curve``, cached); the learner's side is collected only when figures are asked for.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import plans
from .compare import to_json_array
from .course import Exercise
from .inputs import case_arrays

LAYER_POINTS = 201
LOSS_POINTS = 61


def grid(ex: Exercise) -> np.ndarray:
    lo, hi = ex.curve  # type: ignore[misc]
    return np.linspace(lo, hi, LAYER_POINTS if ex.kind == "layer" else LOSS_POINTS)


def inputs(ex: Exercise, seed: int) -> list[dict[str, np.ndarray]]:
    """The input sets a curve evaluates, one per point for a loss, a single grid for a layer."""
    xs = grid(ex)
    if ex.kind == "layer":
        return [{"x": xs.reshape(1, -1)}]
    base = case_arrays(ex, ex.cases[0], seed, "case", 0)
    out = []
    for v in xs:
        arrays = {k: a.copy() for k, a in base.items()}
        arrays["pred"].flat[0] = v
        out.append(arrays)
    return out


def steps(ex: Exercise, seed: int) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """One plan: for each input set, a fresh instance, forward, backward (dout of ones for a layer)."""
    all_steps: list[dict[str, Any]] = []
    variables: dict[str, np.ndarray] = {}
    hyper = {**ex.hyper, **ex.cases[0].hyper}
    for i, arrays in enumerate(inputs(ex, seed)):
        rename = {n: f"{n}{i}" for n in arrays}
        variables.update({f"{n}{i}": a for n, a in arrays.items()})
        start = len(all_steps)
        all_steps.append(plans.new(ex, hyper, rename, plans.constructor_arrays(ex, arrays)))
        all_steps.append(plans.forward(ex, start, plans.inputs_of(ex, arrays), rename))
        if ex.kind == "layer":
            variables[f"ones{i}"] = np.ones_like(arrays["x"])
            all_steps.append(plans.backward(start, [f"ones{i}"]))
        else:
            all_steps.append(plans.backward(start, []))
    return all_steps, variables


def references_for(ex: Exercise, seed: int, device: str) -> dict[str, np.ndarray]:
    """The reference's f and f' on the curve's grid (torch)."""
    from . import references

    hyper = {**ex.hyper, **ex.cases[0].hyper}
    f, df = [], []
    for arrays in inputs(ex, seed):
        diff = set(plans.differentiable(ex))
        order = [*ex.inputs] if ex.kind == "layer" else ["pred", "target"]
        extra = {n: arrays[n] for n in plans.constructor_arrays(ex, arrays)}
        values = references.compute(ex.kind, ex.reference, [(n, arrays[n], n in diff) for n in order], hyper,
                                    lambda shape, name: np.ones(shape), device, extra)
        grad = values["dx" if ex.kind == "layer" else "dpred"]
        f.append(values["out"].ravel() if ex.kind == "layer" else float(values["out"]))
        df.append(grad.ravel() if ex.kind == "layer" else grad.flat[0])
    if ex.kind == "layer":
        return {"f": f[0], "df": df[0]}
    return {"f": np.array(f), "df": np.array(df)}


def assemble(ex: Exercise, seed: int, reference: dict[str, np.ndarray], values: list[Any] | None) -> dict[str, Any]:
    """Plot data: x, and f / f' from the reference and (when the calls succeeded) from the learner."""
    xs = grid(ex)
    yours: dict[str, np.ndarray] = {}
    if values is not None:
        try:
            if ex.kind == "layer":
                yours = {"f": values[1].arrays[0].ravel(), "df": values[2].arrays[0].ravel()}
            else:
                yours = {"f": np.array([float(values[3 * i + 1].arrays[0]) for i in range(len(xs))]),
                         "df": np.array([values[3 * i + 2].arrays[0].flat[0] for i in range(len(xs))])}
            if any(v.shape != xs.shape for v in yours.values()):
                yours = {}
        except (IndexError, TypeError, ValueError, AttributeError):
            yours = {}
    data: dict[str, Any] = {"x": [float(v) for v in xs]}
    for key in ("f", "df"):
        data[key] = {"reference": to_json_array(reference[key])}
        if key in yours:
            data[key]["yours"] = to_json_array(yours[key].astype(np.float64))
    if ex.kind == "loss":
        data.update(f_label="loss", df_label="d loss / d pred[0]", x_label="pred[0] (others fixed)")
    return data
