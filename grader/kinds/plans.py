"""Call plans: the steps the child runs for one case, and where each graded quantity lands in the reply.

A plan names arrays by ``$name`` and objects by the index of the step that created them; the child
executes it literally. The standard plan (construct, forward, backward, read grads and buffers) is built
here once, with a map from each quantity (``out``, ``dx``, ``dW``, ``running_mean``...) to its place in
the reply, so the checks state *what* they need without knowing the wire format.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..model.course import Exercise
from ..model.values import Value
from ..sandbox.replies import Reply, StepFailure
from . import kind_of, output_keys

Step = dict[str, Any]


def function_args(ex: Exercise, arrays: dict[str, Any], rename: dict[str, str] | None = None) -> list[Any]:
    """A function's positional arguments as plan references, grouped into lists as ``args`` says."""
    rename = rename or {}
    ref = lambda n: "$" + rename.get(n, n)  # noqa: E731
    if not ex.args:
        return [ref(n) for n in kind_of(ex).inputs(ex, arrays)]
    return [ref(a) if isinstance(a, str) else [ref(n) for n in a] for a in ex.args]


def grad_key(name: str) -> str:
    return "d" + name


def new(ex: Exercise, hyper: dict[str, Any], rename: dict[str, str] | None = None,
        array_kwargs: tuple[str, ...] | list[str] = ()) -> Step:
    rename = rename or {}
    kwargs = {**hyper, **{n: "$" + rename.get(n, n) for n in array_kwargs}}
    return {"op": "new", "target": ex.target, "args": ["$" + rename.get(p, p) for p in ex.params], "kwargs": kwargs}


def forward(ex: Exercise, obj: int, names: list[str], rename: dict[str, str] | None = None,
            hyper: dict[str, Any] | None = None) -> Step:
    rename = rename or {}
    args = ["$" + rename.get(n, n) for n in names]
    if not kind_of(ex).constructed:
        grouped = function_args(ex, dict.fromkeys(names), rename)
        return {"op": "func", "target": ex.target, "args": grouped, "kwargs": hyper or {}}
    return {"op": "call", "obj": obj, "method": "forward", "args": args}


def backward(obj: int, douts: list[str]) -> Step:
    return {"op": "call", "obj": obj, "method": "backward", "args": ["$" + d for d in douts]}


def grad_ids(obj: int) -> Step:
    return {"op": "ids", "obj": obj, "name": "grads"}


def var(name: str) -> Step:
    return {"op": "var", "name": name}


def same(obj: int, name: str, variable: str) -> Step:
    """1 when ``obj.name`` is the very array sent as ``variable`` (not a copy, not a new array), else 0."""
    return {"op": "same", "obj": obj, "name": name, "var": variable}


def construct(target: str, kwargs: dict[str, Any]) -> Step:
    """A new instance of ``target`` built from keyword arguments alone (optimizers, early stopping)."""
    return {"op": "new", "target": target, "args": [], "kwargs": kwargs}


def call(obj: int, method: str, args: list[Any]) -> Step:
    return {"op": "call", "obj": obj, "method": method, "args": args}


def func(target: str, args: list[Any], kwargs: dict[str, Any]) -> Step:
    """A plain function's call; ``{"$rng": n}`` in args gives it a fresh numpy Generator seeded with n."""
    return {"op": "func", "target": target, "args": args, "kwargs": kwargs}


def rng(seed: int) -> dict[str, int]:
    """An argument the child turns into ``numpy.random.default_rng(seed)``."""
    return {"$rng": seed}


def collect(target: str, args: list[Any], kwargs: dict[str, Any], limit: int) -> Step:
    """Call a generator function and drain it into one flat list (X0, y0, X1, y1, ...), at most ``limit``."""
    return {"op": "collect", "target": target, "args": args, "kwargs": kwargs, "limit": limit}


def lookup(obj: int, path: list[Any]) -> Step:
    """``obj.path[0][path[1]]...``, reported as missing (not raised) where the object has nothing."""
    return {"op": "lookup", "obj": obj, "path": path}


def loop(times: int, body: list[Step]) -> Step:
    """Run ``body`` ``times`` times (``$name#i`` is row i); each body step's values come back stacked."""
    return {"op": "loop", "times": times, "body": body}


class LearnerFailed(Exception):
    """The learner's code raised before a quantity could be read: the failure and what it was doing."""

    def __init__(self, failure: StepFailure, phase: str):
        super().__init__(failure.message)
        self.failure, self.phase = failure, phase


class Unusable(Exception):
    """A value came back in a form nothing can be compared with; the message says why."""


@dataclass(frozen=True)
class Slot:
    """Where a quantity lands: a step's value, or one item of it (a tuple result, the grads list)."""

    step: int
    phase: str
    item: int | None = None
    count: int = 1
    """Expected length of the list value when ``item`` is set."""
    container: str = ""


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    variables: dict[str, np.ndarray] = field(default_factory=dict)
    slots: dict[str, Slot] = field(default_factory=dict)
    phases: list[str] = field(default_factory=list)
    forward_calls_allowed: int = 1
    """Forward calls a backward may make (one recomputes the output; finite differences need two or more)."""

    def push(self, step: Step, phase: str = "") -> int:
        self.steps.append(step)
        self.phases.append(phase)
        return len(self.steps) - 1

    def phase(self, step: int) -> str:
        """What the learner's code was doing at a step (constructor, forward, ...), for messages."""
        return self.phases[step] if step < len(self.phases) and self.phases[step] else "call"

    def read(self, reply: Reply, key: str) -> Value:
        """The learner's value for a quantity.

        Raises:
            LearnerFailed: the learner's code raised at or before the step that gives it.
            Unusable: it came back in a form nothing can be compared with (the reason is the message).
        """
        slot = self.slots[key]
        if reply.failure is not None and reply.failure.step <= slot.step:
            raise LearnerFailed(reply.failure, self.phase(reply.failure.step))
        if slot.phase in ("backward", "grads"):
            calls = max((n for s, n in reply.forward_calls.items() if s <= slot.step), default=0)
            if calls > self.forward_calls_allowed:
                raise Unusable(f"backward calls forward {calls} times: gradients must be derived, not estimated "
                               "by finite differences")
        value = reply.values[slot.step]
        if slot.item is None:
            return value
        if value.kind != "list":
            raise Unusable(f"{slot.container} is {value.type}, expected a tuple or list of {slot.count} numpy arrays")
        if len(value.items) != slot.count:
            raise Unusable(f"{slot.container} has {len(value.items)} entries, expected {slot.count}")
        return value.item(slot.item)


def standard(ex: Exercise, arrays: dict[str, np.ndarray], hyper: dict[str, Any],
             douts: dict[str, np.ndarray] | None) -> Plan:
    """Construct, forward, backward (when douts are given, or always for a scalar loss), grads, buffers."""
    kind = kind_of(ex)
    plan = Plan(variables=dict(arrays), forward_calls_allowed=ex.forward_calls_in_backward)
    names = kind.inputs(ex, arrays)
    if not kind.constructed:
        at = plan.push(forward(ex, 0, names, hyper=hyper), "call")
        plan.slots["out"] = Slot(at, "call")
        for n in ex.mutates:
            phase = "reading the arguments after the call"
            plan.slots[f"{n} after"] = Slot(plan.push(var(n), phase), phase)
        return plan
    plan.push(new(ex, hyper, array_kwargs=kind.constructor_arrays(ex, arrays)), "constructor")
    at = plan.push(forward(ex, 0, names), "forward")
    outs = output_keys(ex)
    for i, key in enumerate(outs):
        plan.slots[key] = Slot(at, "forward", i if len(outs) > 1 else None, len(outs), "forward's result")
    if douts is None and kind.needs_dout(ex, ()):  # a layer without upstream gradients: forward only
        return plan
    plan.variables.update(douts or {})
    at = plan.push(backward(0, list(douts or {})), "backward")
    diff_inputs = [n for n in kind.differentiable(ex) if n not in ex.params]
    for i, name in enumerate(diff_inputs):
        plan.slots[grad_key(name)] = Slot(at, "backward", i if len(diff_inputs) > 1 else None, len(diff_inputs),
                                          "backward's result")
    if ex.params:
        at = plan.push({"op": "attr", "obj": 0, "name": "grads"}, "reading self.grads")
        for i, p in enumerate(ex.params):
            plan.slots[grad_key(p)] = Slot(at, "grads", i, len(ex.params), "self.grads")
    for b in ex.buffers:
        plan.slots[b] = Slot(plan.push({"op": "attr", "obj": 0, "name": b}, "reading self." + b), "reading self." + b)
    return plan
