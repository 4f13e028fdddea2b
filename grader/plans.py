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

from .compare import Value
from .course import Exercise
from .runner import Reply, StepFailure

Step = dict[str, Any]


def inputs_of(ex: Exercise, arrays: dict[str, Any]) -> list[str]:
    """Names of the arrays the forward call takes, in order."""
    if ex.kind == "layer":
        return list(ex.inputs)
    if ex.kind == "loss":
        return ["pred", "target"]
    if ex.args:
        return [n for a in ex.args for n in ((a,) if isinstance(a, str) else a)]
    return [n for n in arrays if n not in ex.params]


def function_args(ex: Exercise, arrays: dict[str, Any], rename: dict[str, str] | None = None) -> list[Any]:
    """A function's positional arguments as plan references, grouped into lists as ``args`` says."""
    rename = rename or {}
    ref = lambda n: "$" + rename.get(n, n)  # noqa: E731
    if not ex.args:
        return [ref(n) for n in inputs_of(ex, arrays)]
    return [ref(a) if isinstance(a, str) else [ref(n) for n in a] for a in ex.args]


def constructor_arrays(ex: Exercise, arrays: dict[str, Any]) -> list[str]:
    """Arrays passed to the constructor by keyword: a loss's ``weight``, a layer's buffers."""
    if ex.kind == "layer":
        return list(ex.buffers)
    if ex.kind == "loss":
        return [n for n in arrays if n not in ("pred", "target")]
    return []


def needs_dout(ex: Exercise, out_shape: tuple[int, ...]) -> bool:
    """A layer's backward takes dout; so does a loss with reduction "none" (its output is not a scalar)."""
    return ex.kind == "layer" or (ex.kind == "loss" and len(out_shape) > 0)


def differentiable(ex: Exercise) -> list[str]:
    """Arrays whose gradient the learner's backward must produce: the inputs', then each parameter's."""
    if ex.kind == "layer":
        return [*ex.inputs, *ex.params]
    if ex.kind == "loss":
        return ["pred"]
    return []


def output_keys(ex: Exercise) -> list[str]:
    """Reference keys of forward's results: ``out`` for one, the declared names for several."""
    return ["out"] if len(ex.outputs) == 1 else list(ex.outputs)


def output_label(ex: Exercise, key: str) -> str:
    return "loss" if ex.kind == "loss" else key


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
    if ex.kind == "function":
        grouped = function_args(ex, dict.fromkeys(names), rename)
        return {"op": "func", "target": ex.target, "args": grouped, "kwargs": hyper or {}}
    return {"op": "call", "obj": obj, "method": "forward", "args": args}


def backward(obj: int, douts: list[str]) -> Step:
    return {"op": "call", "obj": obj, "method": "backward", "args": ["$" + d for d in douts]}


def grad_ids(obj: int) -> Step:
    return {"op": "ids", "obj": obj, "name": "grads"}


def var(name: str) -> Step:
    return {"op": "var", "name": name}


def dout_names(ex: Exercise) -> list[str]:
    return ["dout"] if len(ex.outputs) == 1 else ["d" + o for o in ex.outputs]


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

    def read(self, reply: Reply, key: str) -> Value | StepFailure | str:
        """The learner's value for a quantity; the failure that prevented it; or why its shape is unusable."""
        slot = self.slots[key]
        if reply.failure is not None and reply.failure.step <= slot.step:
            return reply.failure
        if slot.phase in ("backward", "grads"):
            calls = max((n for s, n in reply.forward_calls.items() if s <= slot.step), default=0)
            if calls > self.forward_calls_allowed:
                return (f"backward calls forward {calls} times: gradients must be derived, not estimated "
                        "by finite differences")
        value = reply.values[slot.step]
        if slot.item is None:
            return value
        if value.kind != "list":
            return f"{slot.container} is {value.type}, expected a tuple or list of {slot.count} numpy arrays"
        if len(value.items) != slot.count:
            return f"{slot.container} has {len(value.items)} entries, expected {slot.count}"
        return value.item(slot.item)


def standard(ex: Exercise, arrays: dict[str, np.ndarray], hyper: dict[str, Any],
             douts: dict[str, np.ndarray] | None) -> Plan:
    """Construct, forward, backward (when douts are given, or always for a scalar loss), grads, buffers."""
    plan = Plan(variables=dict(arrays), forward_calls_allowed=ex.forward_calls_in_backward)
    names = inputs_of(ex, arrays)
    if ex.kind == "function":
        at = plan.push(forward(ex, 0, names, hyper=hyper), "call")
        plan.slots["out"] = Slot(at, "call")
        for n in ex.mutates:
            phase = "reading the arguments after the call"
            plan.slots[f"{n} after"] = Slot(plan.push(var(n), phase), phase)
        return plan
    plan.push(new(ex, hyper, array_kwargs=constructor_arrays(ex, arrays)), "constructor")
    at = plan.push(forward(ex, 0, names), "forward")
    outs = output_keys(ex)
    for i, key in enumerate(outs):
        plan.slots[key] = Slot(at, "forward", i if len(outs) > 1 else None, len(outs), "forward's result")
    if douts is None and ex.kind == "layer":
        return plan
    plan.variables.update(douts or {})
    at = plan.push(backward(0, list(douts or {})), "backward")
    diff_inputs = [n for n in differentiable(ex) if n not in ex.params]
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
