"""Why a network's training departs from its torch twin's: hints from the two runs at the first step
where they differ (grader.checks.training). Everything before that step agreed, so each hint compares
the learner's step with torch's from the same state: a gradient added to the previous one, a gradient
never written, an update without Adam's bias correction, a batch in the stored order...
"""
from __future__ import annotations

import numpy as np

from ..kinds.networks import Data, NetworkSpec
from ..model.values import Value
from .compare import fmt


def column(value: Value, t: int) -> np.ndarray | None:
    """Row t of a recorded column, as float64, or None where it is not a numeric array."""
    if value.kind == "stacked":
        a = value.arrays[0]
        return a[t].astype(np.float64) if t < a.shape[0] and a.dtype.kind in "biuf" else None
    if t < len(value.items) and value.items[t].kind in ("array", "scalar"):
        a = value.items[t].arrays[0]
        return a.astype(np.float64) if a.dtype.kind in "biuf" else None
    return None


def grad_hint(ref: dict[str, np.ndarray], updates: Value, spec: NetworkSpec, t: int, j: int) -> str:
    """Why parameter j's gradient at step t departs: never written, added to the last step's, or wrong in
    this layer's backward or in the dx the layers above pass down."""
    n = len(spec.param_owner())
    mine = column(updates.items[n + j], t)
    theirs = ref[f"grad{j}"][t]
    pos, layer, _ = spec.param_owner()[j]
    if mine is None or mine.shape != theirs.shape:
        return ""
    if not np.any(mine) and np.any(theirs):
        return (f"\nhint: your gradient is all zeros: backward never wrote it (does the network's backward reach "
                f"layer {pos}? does the layer write into its grads arrays in place?)")
    if t > 0:
        before = column(updates.items[n + j], t - 1)
        if before is not None and np.allclose(mine, theirs + before, rtol=1e-6, atol=1e-10):
            return ("\nhint: your gradient is torch's plus your previous step's: gradients are added up across "
                    "steps; write them (grads[i][...] = ...) instead of adding (+=)")
    later = [k for k, lay in enumerate(spec.layers) if k > pos and lay.param_shapes]
    if later:  # the layers between this one and the next checked one pass dx down unchecked
        between = [f"{k} ({spec.layers[k].cls})" for k in range(pos + 1, later[0] + 1)]
        passers = ", ".join(between[:-1]) + (" or " if len(between) > 1 else "") + between[-1]
        return (f"\nhint: the gradients of the layers after layer {pos} agree with torch's: the error is in "
                f"layer {pos}'s backward, or in the gradient dx passed down to it by layer {passers}")
    return f"\nhint: the error is in layer {pos}'s backward ({layer.cls}) or in the loss's backward"


def step_hint(ref: dict[str, np.ndarray], updates: Value, spec: NetworkSpec, t: int, j: int) -> str:
    """Why parameter j after the update at step t departs while its gradient agreed: the optimizer's step."""
    before = ref[f"init{j}"] if t == 0 else ref[f"param{j}"][t - 1]
    mine = column(updates.items[j], t)
    if mine is None or mine.shape != before.shape:
        return ""
    mine, theirs = mine - before, ref[f"param{j}"][t] - before
    if not np.any(theirs):
        return ""
    if not np.any(mine):
        return "\nhint: the parameters did not change: the optimizer must update them in place (p -= ...)"
    if spec.optimizer == "Adam" and not spec.opt_hyper.get("weight_decay") and not spec.opt_hyper.get("amsgrad"):
        b1, b2 = spec.opt_hyper.get("betas", (0.9, 0.999))
        eps, lr = spec.opt_hyper.get("eps", 1e-8), spec.opt_hyper.get("lr", 1e-3)
        m = v = 0.0
        for g in ref[f"grad{j}"][:t + 1]:  # every gradient before this step agreed with torch's
            m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        if np.allclose(mine, -lr * m / (np.sqrt(v) + eps), rtol=1e-6, atol=1e-12):
            return (f"\nhint: your step is lr * m / (sqrt(v) + eps) without dividing m by 1 - beta1^t and v by "
                    f"1 - beta2^t (t = {t + 1}): the bias correction of Adam's moments is missing")
    moved = theirs != 0
    ratio = mine[moved] / theirs[moved]
    factor = float(np.median(ratio))
    # most entries off by one factor (where a gradient is tiny, Adam's eps blurs the ratio)
    if np.mean(np.abs(ratio - factor) <= 1e-3 * abs(factor)) >= 0.9 and abs(factor - 1) > 1e-6:
        return f"\nhint: your step is {fmt(factor)} times torch's, in the same direction: a scale (lr?) is off"
    return "\nhint: the gradients agree, so the optimizer's update differs (your optim exercise may fail too)"


def batch_hint(got: np.ndarray | None, data: Data, steps: list[np.ndarray], t: int,
                losses: np.ndarray, ref: dict[str, np.ndarray], spec: NetworkSpec) -> str:
    """Whose rows the learner's batch at step t holds: unshuffled, or labels unshuffled under shuffled inputs."""
    want = steps[t]
    lines = [f"torch's batch holds rows {rows(want)} of the data (the order rng.permutation gives); "
             f"your labels are not theirs"]
    start = t * spec.batch_size % len(data.y)
    stored = np.asarray(data.y[start:start + len(want)], dtype=np.float64)
    if got is not None and got.shape == stored.shape and np.array_equal(got, stored):
        unshuffled = t == 0 and len(losses) and abs(losses[0] - float(ref["loss_unshuffled"])) <= 1e-9 * (
            1 + abs(float(ref["loss_unshuffled"])))
        if unshuffled:
            lines.append("hint: your batches are the rows in their stored order: the batches are not shuffled "
                         "(order = rng.permutation(len(X)) at the start of every epoch, then X[idx] and y[idx])")
        else:
            lines.append("hint: your labels are the rows in their stored order but your inputs are not: X was "
                         "shuffled without y (index both with the same idx)")
    elif got is not None and got.shape != want.shape:
        lines.append(f"hint: your batch has {got.shape[0] if got.ndim else 1} rows, torch's {len(want)}")
    return "\n".join(lines)


def rows(idx: np.ndarray) -> str:
    shown = ", ".join(str(int(i)) for i in idx[:6])
    return f"[{shown}{', ...' if len(idx) > 6 else ''}]"
