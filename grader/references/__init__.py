"""Torch twins: the trusted reference for every exercise, computed in float64 in the parent.

A twin is a plain torch function of the exercise's inputs (the layer input and its parameters, or a
loss's prediction and target) and its hyper-parameters, registered under the name course.yml uses.
Gradients come from autograd, so a twin states only the forward computation, in PyTorch's own terms.
torch is imported only when a reference must actually be computed (see :mod:`grader.engine.refstore`).
"""
from __future__ import annotations

import importlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

TWINS: dict[str, Callable[..., Any]] = {}


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run the twins on one torch thread, then restore the caller's setting (a notebook's kernel).

    The twins' ops are tiny: handed to torch's thread pool on a busy machine they wait for it. A cold
    `grader check solutions` beside two busy processes took 20-28 s with the default pool and 6.6-8.1 s on
    one thread (idle: 5.1 s either way)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@contextmanager
def without_compiler_guards() -> Iterator[None]:
    """torch.optim's own code, without its torch.compile guards: their first use imports torch._dynamo
    (0.75 s of CPU, a fifth of a cold course's references), which twins that compile nothing never need.

    ``add_param_group``, ``zero_grad`` and the FLOP counter's dispatch run their own function (the guard
    caches the function it would call on the function itself; set here, removed after), and
    :func:`optim_step` calls ``step``'s own body. What the twins compute is unchanged
    (tests/test_reference_values.py)."""
    from torch.optim import Optimizer
    from torch.utils.flop_counter import _FlopCounterMode

    guarded = [(Optimizer, "add_param_group"), (Optimizer, "zero_grad"), (_FlopCounterMode, "__torch_dispatch__")]
    plain = [f for f in (getattr(getattr(owner, n, None), "__wrapped__", None) for owner, n in guarded)
             if f is not None]
    ours = [f for f in plain if getattr(f, "__dynamo_disable", None) is None]
    for f in ours:
        f.__dynamo_disable = f  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for f in ours:
            if getattr(f, "__dynamo_disable", None) is f:
                del f.__dynamo_disable  # type: ignore[attr-defined]


def optim_step(opt: Any) -> None:
    """``opt.step()``: its own body, under no_grad as its guard would run it (not differentiable), without
    the profiler hook and the guard that imports torch._dynamo (:func:`without_compiler_guards`)."""
    import inspect

    import torch

    if opt.defaults.get("differentiable"):
        opt.step()
        return
    with torch.no_grad():
        inspect.unwrap(type(opt).step)(opt)


def twin(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a torch function as the twin called ``name`` in course files."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        TWINS[name] = fn
        return fn

    return register


def _modules() -> list[str]:
    """Every module of this package: adding a file of twins needs no registration anywhere else."""
    return sorted(p.stem for p in Path(__file__).parent.glob("*.py") if p.stem != "__init__")


def load() -> dict[str, Callable[..., Any]]:
    """Import every twin module (and so torch); return the registry."""
    for module in _modules():
        importlib.import_module(f"{__name__}.{module}")
    return TWINS


def source_files() -> list[str]:
    """The twin modules' paths: their content is part of the reference cache key."""
    here = Path(__file__).parent
    return [str(here / f"{m}.py") for m in ("__init__", *_modules())]


@dataclass(frozen=True)
class TwinCall:
    """One call of a twin, forward and backward (built by the exercise's Kind: grader.kinds)."""

    reference: str
    """The twin's registered name."""
    inputs: tuple[tuple[str, np.ndarray, bool], ...]
    """(name, array, differentiable) in the twin's argument order."""
    hyper: dict[str, Any]
    """Keyword hyper-parameters."""
    make_dout: Callable[[tuple[int, ...], str], np.ndarray]
    """Draws an upstream gradient (shape, name) once the output shapes are known."""
    device: str = "cpu"
    array_kwargs: dict[str, np.ndarray] = field(default_factory=dict)
    """Arrays passed as keyword arguments (a loss's ``weight``, a layer's buffers), never differentiated."""
    outputs: tuple[str, ...] = ("out",)
    """The result keys of the twin's outputs (a twin returning a tuple has several)."""
    douts: tuple[str, ...] = ("dout",)
    """The upstream gradients' names, one per output."""
    track: tuple[str, ...] = ()
    """Keyword arrays whose final values are results too (buffers the twin updates in place)."""
    call_args: tuple[Any, ...] = ()
    """A function's argument structure (names, or tuples of names passed as one list)."""
    mutates: tuple[str, ...] = ()
    """Inputs the twin changes in place, returned as ``<name> after``."""
    backward: str = "none"
    """"douts": seeded with ``make_dout(out.shape)`` per output (a layer); "auto": the same where the
    output is not a scalar (a loss with reduction "none"), else from the scalar; "none": no backward."""


def compute(call: TwinCall) -> dict[str, np.ndarray]:
    """Run a twin forward and backward.

    Returns:
        ``out`` and ``d<name>`` for each differentiable input, as float64 numpy arrays on the CPU.
    """
    import torch

    device, inputs = call.device, call.inputs
    if device.startswith("cuda") and not torch.cuda.is_available():
        from ..model.errors import GraderError

        raise GraderError(f"--device {device}: this torch build ({torch.__version__}) sees no CUDA device")
    fn = load()[call.reference]
    def tensor(arr: np.ndarray, diff: bool = False) -> Any:
        dtype = torch.float64 if arr.dtype.kind == "f" else torch.int64
        return torch.tensor(arr, dtype=dtype, device=device, requires_grad=diff)

    tensors = [tensor(arr, diff) for _, arr, diff in inputs]
    extra = {k: tensor(v) for k, v in call.array_kwargs.items()}
    if call.call_args:
        by_name = {name: t for (name, _, _), t in zip(inputs, tensors)}
        args = [by_name[a] if isinstance(a, str) else [by_name[n] for n in a] for a in call.call_args]
        raw = fn(*args, **call.hyper, **extra)
    else:
        raw = fn(*tensors, **call.hyper, **extra)
    outputs = call.outputs
    if raw is None:  # a function that only changes its arguments (clip_grad_value_): no result to compare
        outputs, raw = (), ()
    outs = [torch.as_tensor(o) for o in (raw if isinstance(raw, (tuple, list)) else [raw])]
    if len(outs) != len(outputs):
        raise ValueError(f"twin {call.reference!r} returned {len(outs)} outputs, the course declares {len(outputs)}")

    def numpy(t: Any) -> np.ndarray:
        # integer results (shapes, counts) stay integers: they are compared exactly
        return t.detach().to("cpu", torch.float64 if t.is_floating_point() else torch.int64).numpy()

    result = {key: numpy(o) for key, o in zip(outputs, outs)}
    result.update({name: numpy(extra[name]) for name in call.track})
    named = {name: t for (name, _, _), t in zip(inputs, tensors)}
    result.update({f"{name} after": numpy(named[name]) for name in call.mutates})
    if call.backward == "none" or not any(d for *_, d in inputs):
        return result
    if call.backward == "douts" or outs[0].ndim > 0:
        grads = [torch.tensor(call.make_dout(tuple(o.shape), d), dtype=torch.float64, device=device)
                 for o, d in zip(outs, call.douts)]
        # the scalar sum(out * dout) sends exactly dout back through out (1.0 * dout is exact); handing
        # torch.autograd.backward the douts themselves imports sympy on its first call (0.75 s of CPU)
        sum((o * g).sum() for o, g in zip(outs, grads) if o.requires_grad).backward()  # type: ignore[union-attr]
    else:
        outs[0].backward()
    for (name, _, diff), t in zip(inputs, tensors):
        if diff:
            grad = t.grad if t.grad is not None else torch.zeros_like(t)
            result["d" + name] = grad.detach().to("cpu", torch.float64).numpy()
    return result
