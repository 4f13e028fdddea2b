"""The ``trajectory`` check: an optimizer's whole path against torch.optim, step by step.

For each hyper-parameter case and each test problem, the learner's optimizer starts from the same
parameters as torch.optim and is fed, at every step, the gradients torch saw at that step (teacher
forcing). A correct optimizer then reproduces torch's parameters and state exactly, and the first
step where anything differs pins the mistake, without later steps compounding it. Every parameter and
every piece of torch's state (``self.state[i][name]``, torch's names) is compared after every step.
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from ..judge.compare import compare_arrays, fmt, to_json_array
from ..kinds import plans
from ..model.course import CheckSpec, Tolerance
from ..model.results import ERROR, FAIL, PASS, CaseResult
from ..model.values import Value
from . import Context, failed_case, register

STATE_NAMES = "momentum_buffer, sum, square_avg, acc_delta, grad_avg, exp_avg, exp_avg_sq, max_exp_avg_sq, step"


@register("trajectory")
def run(ctx: Context, spec: CheckSpec) -> Iterator[CaseResult]:
    ex = ctx.ex
    for index in range(len(ex.cases)):
        ctx.at("case", index)
        hyper = ctx.hyper("case", index)
        for problem in ex.problems:
            name = f"case {index} · {problem}"
            setting = ", ".join(f"{k}={v}" for k, v in hyper.items()) or "defaults"
            yield _judge(ctx, ctx.expected(f"trajectory:{problem}", index), hyper, name,
                         f"{problem}, case {index} ({setting})")


def _judge(ctx: Context, ref: dict[str, np.ndarray], hyper: dict[str, Any], name: str, where: str) -> CaseResult:
    n_params = sum(1 for k in ref if k.startswith("init"))
    states = sorted(k for k in ref if k.startswith("state"))
    steps_count = ref["param0"].shape[0]
    variables = {f"p{j}": ref[f"init{j}"].copy() for j in range(n_params)}
    variables.update({f"G{j}": ref[f"grad{j}"] for j in range(n_params)})
    # one update per iteration, then every parameter and state entry read back (stacked by the child)
    body = [plans.call(0, "update", [[f"$p{j}" for j in range(n_params)], [f"$G{j}#i" for j in range(n_params)]])]
    body += [plans.var(f"p{j}") for j in range(n_params)]
    for key in states:
        j, state_name = key[len("state"):].split(":")
        body.append(plans.lookup(0, ["state", int(j), state_name]))
    reply = ctx.run([plans.construct(ctx.ex.target, hyper), plans.loop(steps_count, body)], variables)
    if reply.failure is not None and reply.failure.step == 0:
        return failed_case(name, "constructor", reply.failure)
    loop = reply.values[1] if len(reply.values) > 1 and reply.values[1].kind == "loop" else None
    done = loop.count if loop is not None else 0
    got = {key: column for key, column in zip([f"param{j}" for j in range(n_params)] + states,
                                               loop.items[1:] if loop is not None else ())}
    first = _first_divergence(ref, got, done, n_params, states, ctx.ex.tolerance, hyper, where)
    if first is not None:
        first.name = name
        return first
    if reply.failure is not None:
        result = failed_case(name, f"update (step {done + 1})", reply.failure)
        result.message = f"{where}: " + result.message
        return result
    if done != steps_count:  # only a tampered child gets here
        return CaseResult(name, ERROR, f"{where}: the child reported {done} of {steps_count} steps", {})
    return CaseResult(name, PASS, f"{where}: all {steps_count} steps match torch.optim",
                      {"steps": steps_count})


def _stack(column: Value | None, label: str) -> np.ndarray | str:
    """The learner's values of one quantity over the completed steps, as float64 (steps first), or
    a message naming the first step where they are not a numeric array of a fixed shape."""
    if column is None:
        return np.zeros((0,))
    if column.kind == "stacked":
        stacked = column.arrays[0]
        if stacked.dtype.kind not in "biuf":
            return f"step 1: {label} has dtype {stacked.dtype}"
        return stacked.astype(np.float64, copy=False)
    arrays = []
    for t, v in enumerate(column.items):
        if v.kind == "missing":
            return f"step {t + 1}: {label} is missing (the grader reads self.state[i][name] with torch's names: {STATE_NAMES})"
        if v.kind not in ("array", "scalar") or len(v.arrays) != 1:
            return f"step {t + 1}: {label} is {v.type}, expected a numpy array"
        arrays.append(np.asarray(v.arrays[0], dtype=np.float64) if v.arrays[0].dtype.kind in "biuf" else None)
        if arrays[-1] is None:
            return f"step {t + 1}: {label} has dtype {v.arrays[0].dtype}"
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        return f"{label} changes shape between steps: {sorted(shapes)}"
    return np.stack(arrays) if arrays else np.zeros((0,))


def _row(column: Value | None, t: int) -> np.ndarray | None:
    """The learner's array of one quantity after step t + 1, if it is one."""
    if column is None:
        return None
    if column.kind == "stacked":
        return column.arrays[0][t] if t < column.arrays[0].shape[0] else None
    if t < len(column.items) and column.items[t].kind == "array":
        return column.items[t].arrays[0]
    return None


def _label(key: str) -> str:
    if key.startswith("param"):
        return f"param {key[5:]}"
    j, state_name = key[len("state"):].split(":")
    return f"state[{j}][{state_name!r}]"


def _first_divergence(ref: dict[str, np.ndarray], got: dict[str, Value], done: int, n_params: int,
                      states: list[str], tol: Tolerance, hyper: dict[str, Any], where: str) -> CaseResult | None:
    """The earliest step at which any parameter or state entry leaves torch's (None when all agree)."""
    earliest: tuple[int, str, str] | None = None  # (step, key, message)
    for key in [f"param{j}" for j in range(n_params)] + states:
        if done == 0:
            break
        stacked = _stack(got.get(key), _label(key))
        if isinstance(stacked, str):
            step = int(stacked.split(":")[0].split()[1]) if stacked.startswith("step ") else 1
            candidate = (step, key, stacked)
        else:
            expected = ref[key][:done]
            if stacked.shape != expected.shape:
                candidate = (1, key, f"{_label(key)} has shape {stacked.shape[1:]}, torch's has {expected.shape[1:]}")
            else:
                allowed = tol.atol + tol.rtol * np.abs(expected)
                with np.errstate(invalid="ignore"):
                    bad = ~(np.abs(stacked - expected) <= allowed)
                bad_steps = np.flatnonzero(bad.reshape(done, -1).any(axis=1))
                if not bad_steps.size:
                    continue
                t = int(bad_steps[0])
                verdict = compare_arrays(_label(key), expected[t], stacked[t], tol, against="torch")
                candidate = (t + 1, key, verdict.message)
        if earliest is None or candidate[0] < earliest[0]:
            earliest = candidate
    if earliest is None:
        return None
    step, key, message = earliest
    lines = [f"{where}: first divergence from torch.optim at step {step} of {ref['param0'].shape[0]}, in {_label(key)}",
             "  " + message.replace("\n", "\n  ")]
    hint = _hint(ref, got, step, n_params, hyper)
    if hint:
        lines.append(f"  hint: {hint}")
    details: dict[str, Any] = {"first_step": step, "quantity": _label(key), "hint": hint}
    mine = _stack(got.get("param0"), "param 0")
    if not isinstance(mine, str) and ref["param0"][0].size <= 16:  # small enough to draw the path
        start = ref["init0"][None]
        details["path"] = {"torch": to_json_array(np.concatenate([start, ref["param0"]])),
                           "yours": to_json_array(np.concatenate([start, mine]))}
    return CaseResult("", FAIL, "\n".join(lines), details)


def _hint(ref: dict[str, np.ndarray], got: dict[str, Value], step: int, n_params: int,
          hyper: dict[str, Any]) -> str:
    """Compare the learner's step with torch's step from the same starting point (teacher forcing)."""
    t = step - 1
    for j in range(n_params):
        row = _row(got.get(f"param{j}"), t)
        if row is None or row.shape != ref[f"init{j}"].shape:
            continue
        before = ref[f"init{j}"] if t == 0 else ref[f"param{j}"][t - 1]
        mine = row - before
        theirs = ref[f"param{j}"][t] - before
        if not np.any(theirs):
            continue
        if not np.any(mine):
            return ("the parameters did not change: update them in place (params[i] -= ..., or "
                    "params[i][...] = ...), not by rebinding params[i] = ...")
        factor = float(mine.ravel() @ theirs.ravel() / (theirs.ravel() @ theirs.ravel()))
        if np.allclose(mine, factor * theirs, rtol=1e-4, atol=1e-12) and abs(factor - 1) > 1e-6:
            betas = hyper.get("betas", (0.9, 0.999))
            uncorrected = (1 - betas[0] ** step) / np.sqrt(1 - betas[1] ** step)
            if abs(factor - uncorrected) < 1e-3 * uncorrected:
                return (f"your step is {fmt(factor)} times torch's, exactly (1 - beta1^t) / sqrt(1 - beta2^t) at "
                        f"t = {step}: the bias correction of the moments is missing")
            if abs(factor + 1) < 1e-6:
                return "your step goes the other way: the update's sign is flipped (gradient ascent?)"
            return f"your step is {fmt(factor)} times torch's, in the same direction: a scale (lr? a factor?) is off"
    return ""
