"""Curves for figures: the learner's f and f' over a range, next to the reference's.

For an element-wise layer, forward runs on a grid of inputs and backward with dout = 1 gives f'. For a
loss, the first entry of the first case's prediction sweeps the range with everything else fixed, and
the loss and its gradient in that entry are recorded. The reference side is computed with the other
references (purpose ``curve``, cached); the learner's side is collected only when figures are asked for.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..judge.compare import to_json_array
from ..model.course import Exercise
from . import kind_of, plans
from .inputs import case_arrays


def grid(ex: Exercise) -> np.ndarray:
    lo, hi = ex.curve  # type: ignore[misc]
    return np.linspace(lo, hi, kind_of(ex).curve_points)


def inputs(ex: Exercise, seed: int) -> list[dict[str, np.ndarray]]:
    """The input sets a curve evaluates, one per point for a loss, a single grid for a layer."""
    xs = grid(ex)
    if kind_of(ex).element_wise_curve:
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
    kind = kind_of(ex)
    for i, arrays in enumerate(inputs(ex, seed)):
        rename = {n: f"{n}{i}" for n in arrays}
        variables.update({f"{n}{i}": a for n, a in arrays.items()})
        start = len(all_steps)
        all_steps.append(plans.new(ex, hyper, rename, kind.constructor_arrays(ex, arrays)))
        all_steps.append(plans.forward(ex, start, kind.inputs(ex, arrays), rename))
        if kind.element_wise_curve:
            variables[f"ones{i}"] = np.ones_like(arrays["x"])
            all_steps.append(plans.backward(start, [f"ones{i}"]))
        else:
            all_steps.append(plans.backward(start, []))
    return all_steps, variables


def references_for(ex: Exercise, seed: int, device: str, twins: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The reference's f and f' on the curve's grid (torch; ``twins``: the course's, references.load)."""
    from .. import references

    hyper = {**ex.hyper, **ex.cases[0].hyper}
    kind = kind_of(ex)
    whole = kind.element_wise_curve
    f, df = [], []
    for arrays in inputs(ex, seed):
        call = kind.twin_call(ex, arrays, hyper, lambda shape, name: np.ones(shape), device)
        values = references.compute(call, twins)
        grad = values["d" + kind.differentiable(ex)[0]]
        f.append(values["out"].ravel() if whole else float(values["out"]))
        df.append(grad.ravel() if whole else grad.flat[0])
    if whole:
        return {"f": f[0], "df": df[0]}
    return {"f": np.array(f), "df": np.array(df)}


def assemble(ex: Exercise, seed: int, reference: dict[str, np.ndarray], values: list[Any] | None) -> dict[str, Any]:
    """Plot data: x, and f / f' from the reference and (when the calls succeeded) from the learner."""
    xs = grid(ex)
    yours: dict[str, np.ndarray] = {}
    if values is not None:
        try:
            if kind_of(ex).element_wise_curve:
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
    if not kind_of(ex).element_wise_curve:
        data.update(f_label="loss", df_label="d loss / d pred[0]", x_label="pred[0] (others fixed)")
    return data
