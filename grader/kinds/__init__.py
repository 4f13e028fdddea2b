"""What each kind of exercise means for grading, in one place: one :class:`Kind` object per kind.

An exercise's kind (course.yml's ``kind:``) decides which arrays its calls take, which of them are
differentiated, what the constructor receives, whether backward takes upstream gradients, how its
result is labelled and how its torch twin is called. Every part of the grader asks the exercise's Kind
(:func:`kind_of`) instead of testing the kind's name, so a new kind is one new class here. The package
also holds what follows from a kind: inputs drawn from the seed (inputs.py), call plans (plans.py) and
curves for figures (curves.py).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..model.course import Exercise


def output_keys(ex: Exercise) -> list[str]:
    """Reference keys of forward's results: ``out`` for one, the declared names for several."""
    return ["out"] if len(ex.outputs) == 1 else list(ex.outputs)


def dout_names(ex: Exercise) -> list[str]:
    return ["dout"] if len(ex.outputs) == 1 else ["d" + o for o in ex.outputs]


class Kind:
    """The default answers; each kind overrides what differs."""

    name = ""
    constructed = True
    """An object is built, then its methods are called (a function is called directly)."""
    arrays_required = False
    """Every case must declare its input arrays."""
    default_inputs: tuple[str, ...] = ()
    """``inputs`` when the course does not say."""
    curve_points = 0
    """Points of a figure's curve; 0 where a curve does not apply."""
    element_wise_curve = False
    """The curve sweeps the whole input (a layer); otherwise one entry of the prediction (a loss)."""
    problems_required = False
    trains = False
    """A network trained whole: its references are a torch training run (grader.references.networks)."""
    """Graded on named problems (optimizer trajectories) rather than cases alone."""
    twin_backward = "none"
    """How the twin's gradients are taken: "none", "douts" (one upstream gradient per output), or "auto"
    (from the upstream gradient when the output is not a scalar, else the scalar itself)."""

    updates_in_place = False
    """The object's ``update(params, grads)`` changes params in place and must leave the grads as given."""

    declares_io = False
    """The course may declare ``inputs``, ``outputs`` and ``buffers`` (a layer's)."""

    interface_styles: tuple[str, ...] = ()
    """The ``interface:`` styles an exercise of this kind may declare (grader.kinds.interfaces)."""

    def inputs(self, ex: Exercise, arrays: dict[str, Any]) -> list[str]:
        """Names of the arrays the forward call takes, in order."""
        return [n for n in arrays if n not in ex.params]

    def required_arrays(self, ex: Exercise) -> tuple[str, ...]:
        """Arrays every case must declare beside the parameters and buffers."""
        return ()

    def constructor_arrays(self, ex: Exercise, arrays: dict[str, Any]) -> list[str]:
        """Arrays passed to the constructor by keyword."""
        return []

    def differentiable(self, ex: Exercise) -> list[str]:
        """Arrays whose gradient the learner's backward must produce: the inputs', then each parameter's."""
        return []

    def needs_dout(self, ex: Exercise, out_shape: tuple[int, ...]) -> bool:
        """Whether backward takes an upstream gradient (else ``backward()``)."""
        return False

    def has_backward(self, ex: Exercise) -> bool:
        """Whether a case runs backward at all."""
        return self.constructed

    def output_label(self, ex: Exercise, key: str) -> str:
        """How messages name a forward result."""
        return key

    def twin_inputs(self, ex: Exercise, arrays: dict[str, Any]) -> list[str]:
        """The arrays the torch twin takes, in its order."""
        return self.inputs(ex, arrays)

    def scalar_result(self, ex: Exercise, key: str, expected: np.ndarray) -> bool:
        """A result compared as one number (a loss value, a norm)."""
        return False

    def element_inputs(self, ex: Exercise, arrays: dict[str, np.ndarray]) -> np.ndarray | None:
        """The input an element-wise hint may describe regions of (x of a one-input layer), else None."""
        return None

    def batch_input(self, ex: Exercise, arrays: dict[str, np.ndarray]) -> np.ndarray | None:
        """The array whose first axis is the batch, for hints that name the batch size."""
        return None

    def curve_allowed(self, ex: Exercise) -> bool:
        return False

    def twin_call(self, ex: Exercise, arrays: dict[str, np.ndarray], hyper: dict[str, Any],
                  make_dout: Callable[[tuple[int, ...], str], np.ndarray], device: str) -> Any:
        """The call of the exercise's torch twin on one case (see :class:`grader.references.TwinCall`)."""
        from ..references import TwinCall

        diff = set(self.differentiable(ex))
        return TwinCall(
            reference=ex.reference or "", device=device, hyper=hyper, make_dout=make_dout,
            inputs=tuple((n, arrays[n], n in diff) for n in self.twin_inputs(ex, arrays)),
            array_kwargs={n: arrays[n] for n in self.constructor_arrays(ex, arrays)},
            outputs=tuple(output_keys(ex)), douts=tuple(dout_names(ex)), track=ex.buffers,
            call_args=ex.args, mutates=ex.mutates, backward=self.twin_backward)


class Layer(Kind):
    """A class with parameters and buffers: constructor, forward(inputs), backward(douts), params/grads."""

    name = "layer"
    arrays_required = True
    declares_io = True
    default_inputs = ("x",)
    curve_points = 201
    element_wise_curve = True
    twin_backward = "douts"
    interface_styles = ("functions", "class")

    def inputs(self, ex: Exercise, arrays: dict[str, Any]) -> list[str]:
        return list(ex.inputs)

    def required_arrays(self, ex: Exercise) -> tuple[str, ...]:
        return ex.inputs

    def constructor_arrays(self, ex: Exercise, arrays: dict[str, Any]) -> list[str]:
        return list(ex.buffers)  # running statistics, updated in place

    def differentiable(self, ex: Exercise) -> list[str]:
        return [*ex.inputs, *ex.params]

    def needs_dout(self, ex: Exercise, out_shape: tuple[int, ...]) -> bool:
        return True

    def twin_inputs(self, ex: Exercise, arrays: dict[str, Any]) -> list[str]:
        return [*ex.inputs, *ex.params]

    def element_inputs(self, ex: Exercise, arrays: dict[str, np.ndarray]) -> np.ndarray | None:
        return arrays.get("x") if list(ex.inputs) == ["x"] else None

    def batch_input(self, ex: Exercise, arrays: dict[str, np.ndarray]) -> np.ndarray | None:
        return arrays[self.inputs(ex, arrays)[0]]

    def curve_allowed(self, ex: Exercise) -> bool:
        return not ex.params  # a parameter-free (element-wise) layer


class Loss(Kind):
    """forward(pred, target) gives a number (or per-element values with reduction "none"); backward the
    gradient for pred."""

    name = "loss"
    arrays_required = True
    curve_points = 61
    twin_backward = "auto"
    interface_styles = ("functions",)

    def inputs(self, ex: Exercise, arrays: dict[str, Any]) -> list[str]:
        return ["pred", "target"]

    def required_arrays(self, ex: Exercise) -> tuple[str, ...]:
        return ("pred", "target")

    def constructor_arrays(self, ex: Exercise, arrays: dict[str, Any]) -> list[str]:
        return [n for n in arrays if n not in ("pred", "target")]  # weight, pos_weight

    def differentiable(self, ex: Exercise) -> list[str]:
        return ["pred"]

    def needs_dout(self, ex: Exercise, out_shape: tuple[int, ...]) -> bool:
        return len(out_shape) > 0  # reduction "none": backward(dout)

    def output_label(self, ex: Exercise, key: str) -> str:
        return "loss"

    def scalar_result(self, ex: Exercise, key: str, expected: np.ndarray) -> bool:
        return key == "out" and expected.ndim == 0

    def batch_input(self, ex: Exercise, arrays: dict[str, np.ndarray]) -> np.ndarray | None:
        return arrays["pred"]

    def curve_allowed(self, ex: Exercise) -> bool:
        return True


class Function(Kind):
    """A plain function: initializers, gradient clipping, penalties, counting formulas."""

    name = "function"
    constructed = False

    def inputs(self, ex: Exercise, arrays: dict[str, Any]) -> list[str]:
        if ex.args:
            return [n for a in ex.args for n in ((a,) if isinstance(a, str) else a)]
        return super().inputs(ex, arrays)

    def scalar_result(self, ex: Exercise, key: str, expected: np.ndarray) -> bool:
        return key == "out" and expected.ndim == 0


class Optimizer(Kind):
    """A class with update(params, grads), graded by whole trajectories against torch.optim."""

    name = "optimizer"
    problems_required = True
    updates_in_place = True
    interface_styles = ("config",)


class Network(Kind):
    """A whole network built from the learner's earlier classes and trained (the capstone): its layers,
    loss, optimizer, data and who runs the loop are the exercise's ``hyper`` (grader.kinds.networks);
    graded step by step against a torch twin trained from the same parameters on the same batches."""

    name = "network"
    trains = True


KINDS: dict[str, Kind] = {k.name: k for k in (Layer(), Loss(), Function(), Optimizer(), Network())}


def kind_of(ex: Exercise) -> Kind:
    """The Kind of an exercise (validated when the course was loaded)."""
    return KINDS[ex.kind]
