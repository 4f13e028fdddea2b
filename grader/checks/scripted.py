"""The ``scripted`` check: an early-stopping rule fed scripted validation curves (no torch twin).

Torch has no early stopping, so the check holds the rule itself (the one the course states):

    improvement  iff  val_loss < best - min_delta     (strictly; best starts at +inf)
    improvement: best = val_loss, counter = 0;   otherwise: counter += 1
    step returns counter >= patience                 (True = stop training now)

For every case of the exercise (its ``hyper`` are the constructor's ``patience`` and ``min_delta``) the
check feeds several validation curves, each in ONE call plan: construct, then ``step(v)`` for each value,
reading ``best`` and ``counter`` after every step. A curve ends at the epoch where the rule says stop.
The curves:

- improving: every epoch clearly better (never stop);
- plateau: three improvements, then the same value again and again (a tie is no improvement);
- overfitting: improvements, then a rising loss;
- recovery: patience - 1 bad epochs, then an improvement, several times (the counter must reset; never stop);
- threshold (min_delta > 0): losses exactly min_delta below best (no improvement) and just over it (one);
- noisy: a decaying, then rising, noisy curve drawn from the grading seed.

Every value lies on a grid of 1/1024 and min_delta should too (0.0625, 0.125...): then best - min_delta,
best - val and every other way of writing the comparison are exact in floating point, and a value exactly
min_delta below best is unambiguously no improvement.

One result per (case, curve) judges the stop decisions: its message names the first epoch where the
learner's decision differs, the state there, and why the rule decides otherwise (and, when the learner's
``best``/``counter`` went wrong earlier, where). One more result per case judges ``best`` and ``counter``
after every step of every curve, so that a learner who decides right but keeps other attributes loses
only that part.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from ..kinds import plans
from ..kinds.inputs import rng_for
from ..model.course import CheckSpec
from ..model.results import FAIL, PASS, CaseResult
from ..model.values import Value
from ..sandbox.replies import StepFailure
from . import Context, failed_case, register

GRID = 1024
"""Curves are multiples of 1/GRID, so every difference between two values is exact."""


@dataclass
class State:
    """The rule's state after one step."""

    stop: bool
    best: float
    counter: int
    best_epoch: int
    improved: bool


def rule(values: list[float], patience: int, min_delta: float) -> list[State]:
    """The reference: states after each value, up to and including the first stop."""
    best, counter, best_epoch, out = math.inf, 0, 0, []
    for epoch, v in enumerate(values, 1):
        improved = v < best - min_delta
        if improved:
            best, counter, best_epoch = v, 0, epoch
        else:
            counter += 1
        out.append(State(counter >= patience, best, counter, best_epoch, improved))
        if counter >= patience:
            break
    return out


def _q(x: float) -> float:
    return round(x * GRID) / GRID


def curves(patience: int, min_delta: float, rng: np.random.Generator) -> dict[str, list[float]]:
    """The scripted validation curves for one (patience, min_delta), plus a seeded noisy one."""
    d = min_delta
    c = _q(d) + 32 / GRID  # a clear improvement: more than min_delta
    out: dict[str, list[float]] = {}
    out["improving"] = [1.0 - k * c for k in range(8)]
    start = [1.0, 1.0 - c, 1.0 - 2 * c]
    out["plateau"] = start + [start[-1]] * (patience + 2)
    rise = [1.0 - k * c for k in range(4)]
    out["overfitting"] = rise + [rise[-1] + k * c for k in range(1, patience + 3)]
    rec, best = [1.0], 1.0
    for _ in range(3):
        rec += [best + k * c for k in range(1, patience)]  # patience - 1 epochs without improvement
        best -= c
        rec.append(best)
    out["recovery"] = rec + [best - c]
    if d > 0 and float(d * GRID).is_integer():
        b = 1.0 - c
        thr = [1.0, b] + [b - d] * (patience - 1) + [b - d - 1 / GRID]  # exactly d: no; just over d: yes
        b = thr[-1]
        out["threshold"] = thr + [b - d] * (patience + 1)
    t = np.arange(40)
    base = 0.3 + 0.7 * np.exp(-t / 6.0) + 0.01 * np.maximum(0, t - 15)
    noise = rng.uniform(-0.03, 0.03, size=t.size)
    out["noisy"] = [_q(float(v)) for v in base + noise]
    return out


def hint_of(message: str) -> dict[str, str]:
    """``{"hint": ...}`` from a message's hint line (kept by redacted reports), or nothing."""
    for line in message.splitlines():
        if line.startswith("  hint: "):
            return {"hint": line[len("  hint: "):]}
    return {}


def fmt(x: float) -> str:
    return "inf" if math.isinf(x) else f"{x:.10g}"


def _scalar(v: Value) -> float | None:
    if v.kind in ("scalar", "array") and len(v.arrays) == 1 and v.arrays[0].shape == ():
        a = v.arrays[0]
        if a.dtype.kind in "biuf":
            return float(a)
    return None


def _decision(v: Value) -> bool | None:
    """True/False from a bool (or numpy bool, or an int 0/1); None for anything else."""
    if v.kind == "scalar" and len(v.arrays) == 1 and v.arrays[0].dtype.kind in "biu" and float(v.arrays[0]) in (0, 1):
        return bool(v.arrays[0])
    return None


def _why_state(v: float, prev: State | None, state: State, d: float) -> str:
    """Why the rule's state after this value is what it is."""
    if prev is None:
        return "the first loss always improves on best = inf"
    bound = prev.best - d
    if state.improved:
        return (f"val {fmt(v)} < best {fmt(prev.best)} - min_delta {fmt(d)} = {fmt(bound)}: an improvement, which "
                "sets best and resets the counter to 0")
    if v == bound:
        return (f"val {fmt(v)} = best {fmt(prev.best)} - min_delta {fmt(d)} exactly: NOT an improvement (it must be "
                "strictly below best - min_delta), so the counter goes up")
    return f"val {fmt(v)} is not below best {fmt(prev.best)} - min_delta {fmt(d)} = {fmt(bound)}: the counter goes up"


@register("scripted")
def run(ctx: Context, spec: CheckSpec) -> Iterator[CaseResult]:
    ex = ctx.ex
    for index in range(len(ex.cases)):
        ctx.at("case", index)
        hyper = ctx.hyper("case", index)
        patience, d = int(hyper.get("patience", 1)), float(hyper.get("min_delta", 0.0))
        rng = rng_for(ctx.seed, ex.id, "scripted", index)
        setting = f"patience {patience}, min_delta {d:g}"
        state_problem: str | None = None
        crash: CaseResult | None = None
        for scenario, values in curves(patience, d, rng).items():
            result, problem, crashed = _judge(ctx, hyper, patience, d, f"{setting} · {scenario}", values)
            yield result
            if crashed and crash is None:
                crash = result
            if problem and state_problem is None:
                state_problem = f"{scenario} curve: {problem}"
        name = f"{setting} · best and counter"
        if state_problem is not None:
            yield CaseResult(name, FAIL, f"best and counter: {state_problem}", {"rule": "best and counter"})
        elif crash is not None:  # the state could not be read on every curve
            yield CaseResult(name, crash.status, crash.message, {**crash.details, "rule": "best and counter"})
        else:
            yield CaseResult(name, PASS, "best and counter right after every step of every curve",
                             {"rule": "best and counter"})


def _judge(ctx: Context, hyper: dict[str, Any], patience: int, d: float, name: str,
           values: list[float]) -> tuple[CaseResult, str | None, bool]:
    """The stop decisions on one curve (a result), the first wrong best/counter seen (a note, or None), and
    whether the learner's code raised (the state could not be followed to the end)."""
    expected = rule(values, patience, d)
    values = values[:len(expected)]
    scenario = name.rsplit(" · ", 1)[1]
    steps = [plans.construct(ctx.ex.target, dict(hyper))]
    for v in values:
        steps += [plans.call(0, "step", [v]), plans.lookup(0, ["best"]), plans.lookup(0, ["counter"])]
    reply = ctx.run(steps, {})

    def curve(upto: int) -> str:
        shown = ", ".join(fmt(v) for v in values[:upto])
        return f"curve fed (epochs 1-{upto}): {shown}"

    details: dict[str, Any] = {"rule": "stop decisions", "scenario": scenario, "patience": patience,
                               "min_delta": d}

    def state_at(i: int) -> tuple[Value | None, Value | None, Value | None]:
        """The learner's (decision, best, counter) after epoch i + 1; None where the plan did not get."""
        base = 1 + 3 * i
        got = [reply.values[k] if k < len(reply.values) else None for k in (base, base + 1, base + 2)]
        return got[0], got[1], got[2]

    first_state_error: tuple[int, str] | None = None
    for i, (v, exp) in enumerate(zip(values, expected)):
        epoch = i + 1
        prev = expected[i - 1] if i else None
        decision, best_v, counter_v = state_at(i)
        if decision is None:  # the plan stopped: the learner raised here (or at construction)
            failure = reply.failure or StepFailure(0, "Missing", "no result", "", "", False)
            phase = "EarlyStopping(...)" if failure.step == 0 else f"step() at epoch {epoch}"
            return failed_case(name, phase, failure), None, True
        got = _decision(decision)
        where = (f"epoch {epoch} (val {fmt(v)}; "
                 + (f"best {fmt(prev.best)} at epoch {prev.best_epoch})" if prev else "the first epoch)"))
        if got is None:
            return CaseResult(name, FAIL, f"{where}: step returned {decision.type}, expected True or False "
                              "(forgot a return statement?)", {**details, "epoch": epoch}), None, False
        # the learner's state after this step, when readable
        state_note = ""
        if best_v is not None and counter_v is not None:
            for attr, val in (("best", best_v), ("counter", counter_v)):
                if val.kind == "missing":
                    state_note = (f"after epoch {epoch}: EarlyStopping has no attribute {attr!r}; keep the lowest "
                                  "loss seen in self.best and the epochs since the last improvement in self.counter")
                    break
            else:
                gb, gc = _scalar(best_v), _scalar(counter_v)
                if gb is None or gc is None or gb != exp.best or gc != exp.counter:
                    state_note = (f"after epoch {epoch} (val {fmt(v)}): your best is "
                                  f"{fmt(gb) if gb is not None else best_v.type}, counter "
                                  f"{fmt(gc) if gc is not None else counter_v.type}; expected best {fmt(exp.best)}, "
                                  f"counter {exp.counter}: {_why_state(v, prev, exp, d)}")
        if state_note and first_state_error is None:
            first_state_error = (epoch, state_note)
        if got != exp.stop:
            if exp.stop:
                span = f"epoch {epoch}" if patience == 1 else f"epochs {exp.best_epoch + 1}-{epoch}"
                better = f"an improvement of more than min_delta {fmt(d)}" if d else "a loss below the best"
                reason = f"patience {patience} is used up: {patience} epoch(s) in a row without {better} ({span})"
                gc = _scalar(counter_v) if counter_v is not None else None
                if gc is not None and gc == exp.counter:
                    reason += f"\n  hint: your counter is {exp.counter} = patience: stop when counter >= patience"
            elif exp.improved:
                reason = _why_state(v, prev, exp, d)
            else:
                reason = (f"only {exp.counter} epoch(s) without improvement since epoch {exp.best_epoch}, patience is "
                          f"{patience}")
            message = (f"{where}: you returned {got}, expected {exp.stop}: {reason}")
            if first_state_error is not None:
                message += f"\n  your state went wrong first {first_state_error[1]}"
            message += f"\n  {curve(epoch)}"
            problem = f"{first_state_error[1]}\n  {curve(first_state_error[0])}" if first_state_error else None
            return CaseResult(name, FAIL, message, {**details, "epoch": epoch, "expected": exp.stop, "got": got,
                                                    **hint_of(message)}), problem, False
    summary = (f"stopped at epoch {len(expected)} as expected" if expected[-1].stop
               else f"kept going for all {len(expected)} epochs as expected")
    if first_state_error is None:
        return CaseResult(name, PASS, summary, details), None, False
    return (CaseResult(name, PASS, summary, details), f"{first_state_error[1]}\n  {curve(first_state_error[0])}",
            False)
