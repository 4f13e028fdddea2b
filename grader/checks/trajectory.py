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
from ..kinds import interfaces, plans
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
    states = sorted(k for k in ref if k.startswith("state") and interfaces.compared_state(ctx.ex, k.split(":")[1]))
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
    first = _first_divergence(ref, got, done, n_params, states, ctx.ex.tolerance, hyper, where,
                             ctx.ex.reference or "")
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
                      states: list[str], tol: Tolerance, hyper: dict[str, Any], where: str,
                      family: str = "") -> CaseResult | None:
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
    hint = _hint(ref, got, step, n_params, hyper, family, key)
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
          hyper: dict[str, Any], family: str = "", key: str = "") -> str:
    """Compare the learner's step with torch's step from the same starting point (teacher forcing); a ratio
    or pattern that identifies a known cause (:func:`_known_ratios`, :func:`_denominator_hint`) is named."""
    t = step - 1
    if key.endswith(":momentum_buffer"):
        velocity = _velocity_hint(ref, got, key, t, hyper)
        if velocity:
            return velocity
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
        scaled = np.allclose(mine, factor * theirs, rtol=1e-4, atol=1e-12) and abs(factor - 1) > 1e-6
        if scaled:
            for value, sentence in _known_ratios(family, hyper, step):
                if abs(factor - value) < 1e-4 * abs(value):
                    return f"your step is {fmt(factor)} times torch's, exactly {sentence}"
        denominator = _denominator_hint(ref, family, hyper, j, t, mine, theirs, before)
        if denominator:
            return denominator
        if scaled:
            if abs(factor + 1) < 1e-6:
                return "your step goes the other way: the update's sign is flipped (gradient ascent?)"
            return f"your step is {fmt(factor)} times torch's, in the same direction: a scale (lr? a factor?) is off"
    return ""


def _known_ratios(family: str, hyper: dict[str, Any], step: int) -> list[tuple[float, str]]:
    """Ratios (learner's step / torch's step) that name their cause, for the first diverging step."""
    out: list[tuple[float, str]] = []
    # the Momentum and Nesterov exercises' twins default momentum to 0.9 (torch.optim.SGD: 0)
    mu = float(hyper.get("momentum", 0.9 if family in ("momentum", "nesterov") else 0.0) or 0.0)
    if family == "nesterov" and step == 1 and mu:
        out += [((1 + mu + mu * mu) / (1 + mu),
                 f"(1 + mu + mu^2) / (1 + mu) with mu = {mu:g}: the look-ahead is done twice (g + mu * buf with a "
                 "buffer that already holds the look-ahead?); torch steps by g + mu * buf once"),
                (1 / (1 + mu),
                 f"1 / (1 + mu) with mu = {mu:g}: your first step lacks torch's look-ahead mu * buf (buf = g at "
                 "the first step): no look-ahead at all (plain momentum), or a buffer that starts at 0 or is "
                 "updated after the step? torch steps by g + mu * buf with the updated buffer")]
    dampening = float(hyper.get("dampening", 0.0) or 0.0)
    if family in ("sgd", "momentum") and step == 1 and dampening:
        out.append((1 - dampening, f"1 - dampening = {1 - dampening:g}: dampening is applied at the first step; torch "
                                   "starts the buffer at the gradient itself, undamped"))
    if family in ("adam", "adamw"):
        b1, b2 = (float(b) for b in hyper.get("betas", (0.9, 0.999)))
        corr = lambda t: (1 - b1 ** t) / np.sqrt(1 - b2 ** t)  # noqa: E731 - the step's bias-correction factor
        out.append((corr(step), f"(1 - beta1^t) / sqrt(1 - beta2^t) at t = {step}: the bias correction of the "
                                "moments is missing"))
        if step > 1:
            out.append((corr(step) / corr(1), f"what a bias correction with a constant t = 1 gives at t = {step}: "
                                              "use the step count t of each parameter (1, 2, 3, ...)"))
        out.append((corr(step) / corr(step + 1), f"what a bias correction with t + 1 gives at t = {step}: the step "
                                                 "count is one ahead (incremented twice, or one counter shared by "
                                                 "all parameters?); each parameter's first step has t = 1"))
        if step > 1:
            out.append((corr(step) / corr(step - 1), f"what a bias correction with t - 1 gives at t = {step}: "
                                                     "the first step has t = 1"))
    return out


EPS_DEFAULTS = {"adam": 1e-8, "adamw": 1e-8, "adagrad": 1e-10, "rmsprop": 1e-8}
HARD_CODED_EPS = (1e-8, 1e-7, 1e-10, 1e-6, 1e-5)


def _second_moment(ref: dict[str, np.ndarray], family: str, hyper: dict[str, Any], j: int, t: int) -> np.ndarray | None:
    """Torch's v-hat at step t + 1 (what the square root is taken of), where the family has one."""
    def state(name: str) -> np.ndarray | None:
        value = ref.get(f"state{j}:{name}")
        return None if value is None else value[t]
    if family in ("adam", "adamw"):
        v = state("max_exp_avg_sq") if hyper.get("amsgrad") else state("exp_avg_sq")
        b2 = float(hyper.get("betas", (0.9, 0.999))[1])
        return None if v is None else v / (1 - b2 ** (t + 1))
    if family == "adagrad":
        return state("sum")
    if family == "rmsprop" and (t == 0 or not hyper.get("momentum")):
        v = state("square_avg")
        if v is not None and hyper.get("centered"):
            a = state("grad_avg")
            v = None if a is None else v - a * a
        return v
    return None


def _denominator_hint(ref: dict[str, np.ndarray], family: str, hyper: dict[str, Any], j: int, t: int,
                      mine: np.ndarray, theirs: np.ndarray, before: np.ndarray) -> str:
    """eps inside the square root, or a hard-coded eps: the step rebuilt with that denominator explains the
    learner's (to within 1/1000 of the difference from torch's)."""
    v = _second_moment(ref, family, hyper, j, t)
    if v is None or v.shape != mine.shape:
        return ""
    eps = float(hyper.get("eps", EPS_DEFAULTS[family]))
    if family == "adamw":  # the decoupled decay is no part of the adaptive step
        decay = -float(hyper.get("lr", 1e-3)) * float(hyper.get("weight_decay", 1e-2)) * before
        mine, theirs = mine - decay, theirs - decay
    with np.errstate(all="ignore"):
        torch_den = np.sqrt(v) + eps
        alternatives = [(np.sqrt(v + eps), "eps inside the square root: sqrt(v + eps) (as some textbooks write it); "
                                           "torch adds eps outside: sqrt(v) + eps")]
        alternatives += [(np.sqrt(v) + e, f"eps hard-coded to {e:g}: use the eps the constructor receives "
                                          f"({eps:g} here)") for e in HARD_CODED_EPS if e != eps]
        gap = float(np.max(np.abs(mine - theirs)))
        fits = []
        for den, sentence in alternatives:
            rebuilt = theirs * torch_den / den
            residual = float(np.max(np.abs(mine - rebuilt))) if np.all(np.isfinite(rebuilt)) else np.inf
            if residual <= 1e-3 * gap:
                fits.append((residual, sentence))
    return f"your step matches torch's with {min(fits)[1]}" if fits else ""


def _velocity_hint(ref: dict[str, np.ndarray], got: dict[str, Value], key: str, t: int, hyper: dict[str, Any]) -> str:
    """A momentum buffer that is +-lr times torch's: the velocity convention of the textbooks."""
    row = _row(got.get(key), t)
    expected = ref[key][t]
    lr = float(hyper.get("lr", 0.0) or 0.0)
    if row is None or row.shape != expected.shape or not np.any(expected) or not lr:
        return ""
    for factor, form in ((-lr, "v = mu * v - lr * g; p += v"), (lr, "v = mu * v + lr * g; p -= v")):
        if np.allclose(row, factor * expected, rtol=1e-6, atol=1e-12):
            return (f"your momentum_buffer is {fmt(factor)} = {'-' if factor < 0 else ''}lr times torch's: you keep "
                    f"the velocity ({form}, a textbook convention). torch's buffer holds buf = mu * buf + g and steps "
                    "p -= lr * buf; the paths agree while lr is constant, so store buf = v / "
                    f"({'-' if factor < 0 else ''}lr) under 'momentum_buffer', or use torch's form")
    return ""
