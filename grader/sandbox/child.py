"""The untrusted side: a child process that imports the learner's modules and runs call plans.

It is started as a script (``python -I child.py CONFIG``), never imported by the parent's grading
code, and imports only the standard library, numpy and its two siblings protocol.py and
confinement.py (loaded by file path, so the grader package, the references and torch stay out of
reach). Before any learner code runs it limits its own resources and confines itself
(confinement.py): all of it, or it exits with the reason and runs no learner code. It receives input
arrays and returns raw output arrays: it never sees a reference value, a solution or the grading seed,
and it decides nothing about scores. An exercise declared with an ``interface:`` (existing assignment
shapes: function pairs, gradient attributes, config-dict optimizers) is run through a small adapter that
keeps the class protocol; a result of the wrong form raises InterfaceError, reported like any learner
error.

Why one module: it runs as a script that may import only the standard library, numpy and its two
path-loaded siblings; splitting it would add path-loaded modules to the untrusted side.
"""
from __future__ import annotations

import ctypes
import importlib
import importlib.util
import json
import os
import resource
import signal
import sys
import time
import traceback
import types
from pathlib import Path
from typing import Any, Callable

_HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("_grader_protocol", _HERE / "protocol.py")
protocol = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(protocol)  # type: ignore[union-attr]

_spec = importlib.util.spec_from_file_location("_grader_confinement", _HERE / "confinement.py")
confinement = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(confinement)  # type: ignore[union-attr]

import numpy as np  # noqa: E402  (after the protocol, which needs it anyway)

PRELOAD = (
    "numpy.random", "numpy.linalg", "numpy.fft", "numpy.lib.stride_tricks", "numpy.testing",
    "math", "cmath", "random", "functools", "itertools", "collections", "operator", "copy", "typing",
    "dataclasses", "abc", "enum", "numbers", "statistics", "time", "re", "string", "json", "warnings",
)
"""Modules a learner may import. They are imported before confinement because the Python installation
may not be readable once the child runs as an unprivileged user (e.g. under a 0700 /root)."""

PR_SET_PDEATHSIG, PR_SET_DUMPABLE = 1, 4


# --------------------------------------------------------------------------- limits


def apply_limits(limits: dict[str, Any]) -> None:
    """rlimits on memory, CPU time, file size and core dumps; a too-large write fails instead of killing.

    The CPU limit is a budget per exercise: its hard ceiling covers many exercises, and the soft limit
    is moved to the time used so far plus one budget when the parent starts an exercise (cpu_budget)."""
    confinement.limit(resource.RLIMIT_AS, int(limits["memory_mb"]) * 1024 * 1024)
    cpu_s = int(limits["cpu_s"])
    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    ceiling = cpu_s * CPU_EXERCISES if hard == resource.RLIM_INFINITY else min(hard, cpu_s * CPU_EXERCISES)
    resource.setrlimit(resource.RLIMIT_CPU, (min(cpu_s, ceiling), ceiling))
    confinement.limit(resource.RLIMIT_FSIZE, int(limits["file_mb"]) * 1024 * 1024)
    confinement.limit(resource.RLIMIT_CORE, 0)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


CPU_EXERCISES = 200
"""How many exercises' CPU budgets the hard limit allows one child in all (a child is replaced when
one exercise spends its budget, so this is never reached by honest code)."""


def cpu_budget(cpu_s: int) -> None:
    """A fresh CPU budget for the exercise starting now: the soft limit is the time used plus cpu_s."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = int(usage.ru_utime + usage.ru_stime) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = used + cpu_s if hard == resource.RLIM_INFINITY else min(used + cpu_s, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


# --------------------------------------------------------------------------- running call plans


class StepError(Exception):
    """A learner's call failed; carries the details the parent will report."""

    def __init__(self, info: dict[str, Any]):
        super().__init__(info.get("message", ""))
        self.info = info


def _where(frames: traceback.StackSummary, root: str) -> str:
    """``file.py:LINE in func`` of the innermost frame inside the submission (of a traceback or a stack)."""
    inside = [f for f in frames if f.filename.startswith(root)]
    return f"{os.path.relpath(inside[-1].filename, root)}:{inside[-1].lineno} in {inside[-1].name}" if inside else ""


def describe(exc: BaseException, root: str) -> dict[str, Any]:
    if isinstance(exc, SyntaxError) and exc.filename and exc.filename.startswith(root):
        where = f"{os.path.relpath(exc.filename, root)}:{exc.lineno}"
        message = f"SyntaxError: {exc.msg}"
    else:
        where = _where(traceback.extract_tb(exc.__traceback__), root)
        text = str(exc)[:500]
        message = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    student_frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(root)]
    tb_text = "".join(traceback.format_list(student_frames))[-2000:].replace(root + os.sep, "")
    return {
        "type": type(exc).__name__,
        "message": message,
        "where": where,
        "traceback": tb_text,
        "not_implemented": isinstance(exc, NotImplementedError),
    }


def resolve(target: str, root: str) -> Any:
    module_name, _, name = target.rpartition(".")
    if not os.path.exists(os.path.join(root, module_name + ".py")):
        raise StepError({"type": "MissingModule", "message": f"{module_name}.py is not in the submission",
                         "where": "", "traceback": "", "not_implemented": False})
    module = importlib.import_module(module_name)
    if not hasattr(module, name):
        raise StepError({"type": "MissingName", "message": f"{module_name}.py defines no {name}",
                         "where": f"{module_name}.py", "traceback": "", "not_implemented": False})
    return getattr(module, name)


Encoded = tuple[dict[str, Any], list[np.ndarray]]
"""A value as :func:`encode` turns it into a header and plain arrays (copies: a snapshot)."""


def encode(value: Any) -> Encoded:
    """Turn a learner's return value into plain arrays, recording its Python type for messages."""
    type_name = type(value).__module__ + "." + type(value).__qualname__
    if value is None:
        return {"kind": "none", "type": "None"}, []
    if isinstance(value, _Missing):
        return {"kind": "missing", "type": "missing"}, []
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in protocol.NUMERIC_KINDS or value.dtype.hasobject:
            # the wire carries numeric arrays only; named here, the parent's wrong-type messages say it
            return {"kind": "other", "type": f"{type_name} of dtype {value.dtype}"}, []
        return {"kind": "array", "type": type_name}, [np.ndarray.copy(np.ndarray.view(value, np.ndarray))]
    if isinstance(value, np.generic) and (value.dtype.kind not in protocol.NUMERIC_KINDS or value.dtype.hasobject):
        return {"kind": "other", "type": type_name}, []  # np.str_, np.datetime64, np.void...
    if isinstance(value, (bool, int, float, np.generic)):
        scalar = np.asarray(value)
        if scalar.dtype.kind not in protocol.NUMERIC_KINDS:  # an int beyond 64 bits becomes an object array
            return {"kind": "other", "type": f"{type_name} out of the 64-bit range"}, []
        return {"kind": "scalar", "type": type_name}, [scalar]
    if isinstance(value, (list, tuple)):
        arrays, items = [], []
        for item in value:
            head, arr = encode(item)
            if head["kind"] not in ("array", "scalar"):
                return {"kind": "other", "type": f"{type_name} containing {head['type']}"}, []
            arrays += arr
            items.append(head)
        return {"kind": "list", "type": type_name, "items": items}, arrays
    return {"kind": "other", "type": type_name}, []


def _execute(step: dict[str, Any], index: int, args: list[Any], kwargs: dict[str, Any],
             objects: dict[int, Any], env: dict[str, Any], root: str) -> Any:
    """One step of a call plan; a ``new`` step stores its instance under its own index."""
    op = step["op"]
    if op == "import":  # the module alone, before any call: an import that hangs is told apart
        resolve(step["target"], root)
        return None
    if op == "new":
        made = resolve(step["target"], root)
        iface = step.get("interface")
        objects[index] = _adapted(iface, made, args, kwargs, root) if iface else made(*args, **kwargs)
        return None
    if op == "func":
        return resolve(step["target"], root)(*args, **kwargs)
    if op == "collect":
        return _collect(resolve(step["target"], root)(*args, **kwargs), int(step.get("limit", 10_000)))
    if op == "call":
        obj = objects[step["obj"]]
        if step["method"] == "backward":
            owner, name = obj.counted() if isinstance(obj, _Adapter) else (obj, "forward")
            with _Counting(owner, name) as counter:
                value = obj.backward(*args, **kwargs)
            env.setdefault("$forward_calls", {})[index] = counter.calls
            return value
        return getattr(obj, step["method"])(*args, **kwargs)
    if op == "attr":
        return getattr(objects[step["obj"]], step["name"])
    if op == "ids":
        return np.array([id(v) for v in getattr(objects[step["obj"]], step["name"])], dtype=np.int64)
    if op == "var":
        return env[step["name"]]
    if op == "same":  # does the object keep the very array the plan passed in (a buffer updated in place)?
        return np.int64(getattr(objects[step["obj"]], step["name"], _Missing()) is env[step["var"]])
    if op == "lookup":
        return _lookup(objects[step["obj"]], step["path"])
    if op == "item":
        return _item(objects[step["obj"]], step["path"])
    if op == "pick":  # keep a part of a result as an object of its own (a recipe's trained model)
        objects[index] = _item(objects[step["obj"]], step["path"])
        return None
    if op == "watch":
        owner = objects[step["obj"]] if "obj" in step else resolve(step["target"], root)
        force = [env[name] for name in step["force"]] if step.get("force") else None
        env.setdefault("$watch", {})[index] = _Watch(owner, step["method"], step.get("keep"),
                                                     int(step.get("limit", 10_000)), "obj" not in step, force)
        return None
    if op == "timer":
        env.setdefault("$watch", {})[index] = env["$timer"] = _Timer([resolve(t, root) for t in step["targets"]],
                                                                    step["methods"])
        return None
    if op == "watched":
        return env.get("$watch", {}).get(int(step["step"]), _Watch.EMPTY).records()
    if op == "train":
        return _train(objects, args, step)
    raise ValueError(f"unknown op {op!r}")


# --------------------------------------------------------------------------- interfaces
# An exercise declared with an ``interface:`` (grader/kinds/interfaces.py) is run through one of these
# adapters, which keep the class protocol every plan speaks (forward, backward, grads, update, state).
# They are total: a result of the wrong form raises InterfaceError, naming the function and what it
# returned, which the parent reports as the learner's failure; nothing is guessed.


class InterfaceError(Exception):
    """The learner's function returned something the declared interface cannot take apart."""


def _shown(value: Any) -> str:
    """A returned value described for a message: its type, and its shape or length."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (tuple, list)):
        inner = ", ".join(type(v).__name__ for v in value[:6]) + (", ..." if len(value) > 6 else "")
        return f"a {type(value).__name__} of {len(value)} ({inner})"
    return "None" if value is None else f"a {type(value).__name__}"


def _parts(function: str, value: Any, names: list[str]) -> dict[str, Any]:
    """A result split into its declared parts: one name is the value itself, several a tuple or list of
    exactly that length."""
    if len(names) == 1:
        return {names[0]: value}
    if not isinstance(value, (tuple, list)) or len(value) != len(names):
        raise InterfaceError(f"{function} returned {_shown(value)}, expected a tuple of {len(names)}: "
                             f"({', '.join(names)})")
    return dict(zip(names, value))


def _theirs(spec: dict[str, Any], name: str, value: Any) -> Any:
    """An array in the learner's layout (a transposed view: changes in place still show)."""
    perm = spec["axes"].get(name)
    if perm is None or not isinstance(value, np.ndarray):
        return value
    if value.ndim != len(perm):
        raise InterfaceError(f"{name} has {value.ndim} axes; the course's interface transposes it by {perm}")
    return np.transpose(value, perm)


def _ours(spec: dict[str, Any], name: str, value: Any) -> Any:
    """A learner's array back in the course's layout; anything else as it is (the parent judges it)."""
    perm = spec["axes"].get(name)
    if perm is None or not isinstance(value, np.ndarray) or value.ndim != len(perm):
        return value
    return np.transpose(value, np.argsort(perm))


def _adapted(spec: dict[str, Any], made: Any, args: list[Any], kwargs: dict[str, Any], root: str) -> Any:
    style = spec.get("style")
    if style == "functions":
        return _Functions(spec, made, resolve(spec["backward"], root) if spec["backward"] else None, args, kwargs)
    if style == "class":
        return _Class(spec, made, args, kwargs)
    if style == "config":
        return _Config(spec, made, kwargs)
    raise ValueError(f"unknown interface style {style!r}")


def _grads_returned(spec: dict[str, Any], parts: dict[str, Any], grads: list[Any]) -> Any:
    """Parameter gradients into ``grads``; the inputs' gradients as backward's result."""
    for i, p in enumerate(spec["params"]):
        grads[i] = _ours(spec, p, parts["d" + p])
    dins = [_ours(spec, n, parts["d" + n]) for n in spec["diff_inputs"]]
    return dins[0] if len(dins) == 1 else tuple(dins)


class _Adapter:
    """What the three adapters share: where the learner's forward lives, to count its calls in backward."""

    def counted(self) -> tuple[Any, str]:
        return self, "forward"


class _Functions(_Adapter):
    """``forward(*inputs, *params, **hyper) -> (out, cache)`` and ``backward(*douts, cache) -> (dx, dW,
    ...)`` (CS231n), or one function returning the value and its gradients (``softmax_loss``)."""

    def __init__(self, spec: dict[str, Any], forward: Any, backward: Any, params: list[Any],
                 hyper: dict[str, Any]):
        self.spec, self.fwd, self.bwd, self.hyper = spec, forward, backward, hyper
        self.params = list(params)
        self.grads: list[Any] = [None] * len(params)
        self.saved: dict[str, Any] = {}

    def counted(self) -> tuple[Any, str]:
        """The forward function, as a name of its module: a backward calls it through that name."""
        module, _, name = self.spec["forward"].rpartition(".")
        return sys.modules.get(module, self), name

    def forward(self, *inputs: Any) -> Any:
        spec = self.spec
        names = [*spec["inputs"], *spec["params"]]
        args = [_theirs(spec, n, a) for n, a in zip(names, [*inputs, *self.params])]
        result = self.fwd(*args, dict(self.hyper)) if spec.get("config_arg") else self.fwd(*args, **self.hyper)
        self.saved = _parts(spec["forward"], result, spec["returns"])
        outs = [_ours(spec, o, self.saved[o]) for o in spec["outputs"]]
        return outs[0] if len(outs) == 1 else tuple(outs)

    def backward(self, *douts: Any) -> Any:
        spec = self.spec
        if self.bwd is None:
            if douts:
                raise InterfaceError(f"{spec['forward']} returns its gradients with its value: it cannot take "
                                     "an upstream gradient (a case with reduction 'none'?)")
            parts = self.saved
        else:
            theirs = [_theirs(spec, o, d) for o, d in zip(spec["outputs"], douts)]
            cache = [self.saved.get("cache")] if "cache" in spec["returns"] else []
            parts = _parts(spec["backward"], self.bwd(*theirs, *cache), spec["gives"])
        return _grads_returned(spec, parts, self.grads)


class _Class(_Adapter):
    """A class with forward and backward, its arrays in the learner's layout (``W`` as (out, in), batch-first
    sequences), its parameters' gradients in attributes (``self.dW``) or in ``self.grads``."""

    def __init__(self, spec: dict[str, Any], cls: Any, params: list[Any], kwargs: dict[str, Any]):
        self.spec = spec
        self.obj = cls(*[_theirs(spec, p, a) for p, a in zip(spec["params"], params)], **kwargs)

    def counted(self) -> tuple[Any, str]:
        return self.obj, "forward"

    def forward(self, *inputs: Any) -> Any:
        spec = self.spec
        out = self.obj.forward(*[_theirs(spec, n, a) for n, a in zip(spec["inputs"], inputs)])
        if len(spec["outputs"]) == 1:
            return _ours(spec, spec["outputs"][0], out)
        return tuple(_ours(spec, o, v) for o, v in zip(spec["outputs"], out)) if isinstance(out, tuple) else out

    def backward(self, *douts: Any) -> Any:
        spec = self.spec
        dins = self.obj.backward(*[_theirs(spec, o, d) for o, d in zip(spec["outputs"], douts)])
        if len(spec["diff_inputs"]) == 1:
            return _ours(spec, spec["diff_inputs"][0], dins)
        return tuple(_ours(spec, n, v) for n, v in zip(spec["diff_inputs"], dins)) if isinstance(dins, tuple) else dins

    @property
    def grads(self) -> list[Any]:
        if not self.spec["grads"]:
            grads = self.obj.grads
            if not any(p in self.spec["axes"] for p in self.spec["params"]) or not isinstance(grads, (list, tuple)):
                return grads
            return [_ours(self.spec, p, g) for p, g in zip(self.spec["params"], grads)]
        out = []
        for p in self.spec["params"]:
            attribute = self.spec["grads"][p]
            value = getattr(self.obj, attribute, None)
            if value is None:
                raise InterfaceError(f"{self.spec['forward']} has no attribute {attribute} after backward, or it "
                                     f"is None (the course reads d{p} from self.{attribute})")
            out.append(_ours(self.spec, p, value))
        return out

    def __getattr__(self, name: str) -> Any:  # buffers and anything else the plan reads
        if name in ("obj", "spec"):
            raise AttributeError(name)
        return getattr(self.obj, name)


class _Config(_Adapter):
    """A functional optimizer, ``next_w, config = update(w, dw, config)``, with one config dict per
    parameter (as CS231n's solver keeps them); ``state[i][torch_name]`` reads the mapped config keys."""

    def __init__(self, spec: dict[str, Any], function: Any, config: dict[str, Any]):
        self.spec, self.fn, self.base = spec, function, dict(config)
        self.configs: dict[int, Any] = {}

    def update(self, params: list[Any], grads: list[Any]) -> None:
        name = self.spec["forward"]
        for i, (p, g) in enumerate(zip(params, grads)):
            config = self.configs[i] if i in self.configs else dict(self.base)
            next_w, config = _parts(name, self.fn(p, g, config), ["next_w", "config"]).values()
            if not isinstance(config, dict):
                raise InterfaceError(f"{name} returned {_shown(config)} as its config, expected the config dict")
            if not isinstance(next_w, np.ndarray) or next_w.shape != p.shape:
                raise InterfaceError(f"{name} returned {_shown(next_w)} as next_w, expected an array of shape "
                                     f"{p.shape}")
            if next_w is not p:
                try:
                    p[...] = next_w
                except (TypeError, ValueError) as e:
                    raise InterfaceError(f"{name} returned next_w that cannot be stored: {e}") from None
            self.configs[i] = config

    @property
    def state(self) -> dict[int, dict[str, Any]]:
        return {i: {torch: c[theirs] for torch, theirs in self.spec["state"].items() if theirs in c}
                for i, c in self.configs.items()}


def _item(obj: Any, path: list[Any]) -> Any:
    """``obj[path[0]][path[1]]...`` (fit's history dict, a recipe's tuple; ``".name"`` reads an attribute:
    the trained model's ``.params``), or a _Missing marker."""
    try:
        for key in path:
            obj = getattr(obj, key[1:]) if isinstance(key, str) and key.startswith(".") else obj[key]
        return obj
    except (LookupError, TypeError, AttributeError):
        return _Missing()


class _Watch:
    """Records every call of one method (of an object, or of a class: all its instances): the call's
    arguments as they are AFTER the call (lists flattened one level, then keyword values), then its
    result, each encoded (copied) at once. An optimizer's ``update(params, grads)`` thus gives the
    parameters after each step and the gradients it used; a loss's ``forward(pred, target)`` the batch's
    labels and the loss. ``keep`` picks entries of that flat row; ``limit`` caps the rows recorded.

    ``force`` (teacher forcing): one stacked array per entry of the call's first argument; once call r
    is recorded, those entries (the parameters an update just changed) are overwritten in place with
    row r, so that the next call starts from the state given."""

    EMPTY: "_Watch"

    def __init__(self, owner: Any, name: str, keep: list[int] | None, limit: int, on_class: bool,
                 force: list[Any] | None = None):
        self.keep, self.limit, self.rows = keep, limit, []  # type: ignore[var-annotated]
        self._restore: Callable[[], None] | None = None
        if owner is None:
            return
        original = getattr(owner, name)
        own = vars(owner).get(name, _MISSING) if hasattr(owner, "__dict__") else _MISSING
        watch = self

        def row(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
            if len(watch.rows) >= watch.limit:
                return
            flat = [x for a in args for x in (a if isinstance(a, (list, tuple)) else [a])]
            flat += list(kwargs.values()) + [result]
            if watch.keep is not None:
                flat = [flat[k] if -len(flat) <= k < len(flat) else _Missing() for k in watch.keep]
            watch.rows.append([encode(x) for x in flat])
            if force and args and isinstance(args[0], (list, tuple)):
                _overwrite(args[0], [f[len(watch.rows) - 1] for f in force if len(watch.rows) <= len(f)])

        if on_class:
            def wrapped(obj: Any, *args: Any, **kwargs: Any) -> Any:
                result = original(obj, *args, **kwargs)
                row(args, kwargs, result)
                return result
        else:
            def wrapped(*args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
                result = original(*args, **kwargs)
                row(args, kwargs, result)
                return result
        setattr(owner, name, wrapped)
        # the class (or object) as it was, once the plan ends: a class outlives the plan in this child
        self._restore = lambda: setattr(owner, name, own) if own is not _MISSING else delattr(owner, name)

    def undo(self) -> None:
        """Put the watched method back as it was."""
        if self._restore is not None:
            self._restore()
            self._restore = None

    def records(self) -> "_Loop":
        width = max((len(r) for r in self.rows), default=0)
        columns: list[list[Encoded]] = [[] for _ in range(width)]
        for r in self.rows:
            for j in range(width):
                columns[j].append(r[j] if j < len(r) else encode(_Missing()))
        return _Loop(columns, len(self.rows), None)


_MISSING = object()


def _overwrite(arrays: Any, values: list[Any]) -> None:
    """Write each value into the array at its place, in place, where both are numeric arrays of one shape."""
    if len(values) != len(arrays):
        return
    for a, v in zip(arrays, values):
        if isinstance(a, np.ndarray) and a.shape == v.shape and a.dtype.kind == "f" and a.flags.writeable:
            a[...] = v


class _Timer:
    """Time spent in the methods of some classes (every instance's), for a message when training is too
    slow: which layer's forward or backward took the time."""

    def __init__(self, classes: list[type], methods: list[str]):
        self.spent: dict[str, float] = {}
        self._restore: list[Callable[[], None]] = []
        for cls in classes:
            for name in methods:
                defined = next((k.__dict__[name] for k in cls.__mro__ if name in k.__dict__), None)
                if isinstance(defined, types.FunctionType):
                    self._wrap(cls, name, defined)

    def _wrap(self, cls: type, name: str, original: Callable[..., Any]) -> None:
        key, spent, own = f"{cls.__name__}.{name}", self.spent, cls.__dict__.get(name, _MISSING)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[key] = spent.get(key, 0.0) + time.perf_counter() - start

        setattr(cls, name, timed)
        self._restore.append(lambda: setattr(cls, name, own) if own is not _MISSING else delattr(cls, name))

    def undo(self) -> None:
        for restore in reversed(self._restore):
            restore()
        self._restore = []

    def summary(self) -> str:
        total = sum(self.spent.values())
        if total <= 0:
            return "no layer was called yet"
        top = sorted(self.spent.items(), key=lambda kv: -kv[1])[:4]
        return ", ".join(f"{k} {100 * v / total:.0f}%" for k, v in top)


class TrainingTooSlow(Exception):
    """Raised into the learner's training at its soft deadline, with the time each layer took."""


class _SoftDeadline:
    """Interrupt a training step before the parent's hard deadline kills the child, so the reply can say
    which layer took the time (a SIGALRM raised into the learner's code; a learner that swallows it is
    still killed at the hard deadline)."""

    def __init__(self, seconds: float, env: dict[str, Any]):
        self.seconds, self.env = seconds, env

    def _ring(self, signum: int, frame: Any) -> None:
        timer = self.env.get("$timer")
        spent = timer.summary() if timer is not None else "not timed"
        raise TrainingTooSlow(f"training still running after {self.seconds:g} s; time per layer so far: {spent}")

    def __enter__(self) -> "_SoftDeadline":
        self.previous = signal.signal(signal.SIGALRM, self._ring)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc: Any) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.previous)
_Watch.EMPTY = _Watch(None, "", None, 0, False)


def _train(objects: dict[int, Any], args: list[Any], step: dict[str, Any]) -> list[float]:
    """The grader's own training loop over the learner's objects, for networks graded without their
    ``fit``: each row of ``orders`` is one epoch's permutation, cut into batches of ``batch_size``; per
    batch forward, loss, backward, one optimizer update. With no loss object the model computes its
    own (``model.loss(x, t)``, then ``model.backward()``)."""
    X, y, orders = args
    size = int(step["batch_size"])
    model, optimizer = objects[step["model"]], objects[step["optimizer"]]
    loss = objects[step["loss"]] if step.get("loss") is not None else None
    values = []
    for idx in (row[s:s + size] for row in orders for s in range(0, len(row), size)):
        if loss is None:
            value = model.loss(X[idx], y[idx])
            model.backward()
        else:
            value = loss.forward(model.forward(X[idx]), y[idx])
            model.backward(loss.backward())
        optimizer.update(model.params, model.grads)
        values.append(value)
    return values


def _collect(iterable: Any, limit: int) -> list[Any]:
    """Drain a generator of tuples into one flat list (X0, y0, X1, y1, ...), at most ``limit`` items."""
    flat: list[Any] = []
    for n, item in enumerate(iterable):
        if n >= limit:
            raise RuntimeError(f"the iterator yielded more than {limit} items")
        flat += list(item) if isinstance(item, (tuple, list)) else [item]
    return flat


class _Counting:
    """Counts the calls of an object's method while a block runs (forward during backward: a backward
    that estimates gradients by finite differences calls it at least twice per element)."""

    def __init__(self, obj: Any, name: str):
        self.obj, self.name, self.calls = obj, name, 0
        self._undo: list[Callable[[], None]] = []

    def _wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return fn(*args, **kwargs)

        return counted

    def __enter__(self) -> "_Counting":
        cls, name = type(self.obj), self.name
        try:
            own = vars(self.obj)
        except TypeError:
            own = {}
        try:
            if name in own:  # an instance attribute shadows the class's method
                original = own[name]
                setattr(self.obj, name, self._wrap(original))
                self._undo.append(lambda: setattr(self.obj, name, original))
            defined = next((k.__dict__[name] for k in cls.__mro__ if name in k.__dict__), None)
            if isinstance(defined, types.FunctionType):
                had = name in cls.__dict__
                setattr(cls, name, self._wrap(defined))
                self._undo.append(lambda: setattr(cls, name, defined) if had else delattr(cls, name))
        except (AttributeError, TypeError):  # slots, a frozen class: not counted
            pass
        return self

    def __exit__(self, *exc: Any) -> None:
        for undo in reversed(self._undo):
            try:
                undo()
            except (AttributeError, TypeError):
                pass


class _Missing:
    """What a ``lookup`` finds where the learner's object has nothing (reported, not raised)."""


def _lookup(obj: Any, path: list[Any]) -> Any:
    """``obj.path[0][path[1]][path[2]]...``, or a _Missing marker: the optimizer's ``state[i][name]``."""
    try:
        value = getattr(obj, path[0])
        for key in path[1:]:
            value = value[key]
        return value
    except (AttributeError, LookupError, TypeError):
        return _Missing()


def _only_the_original(pid: int) -> None:
    """A copy made by os.fork() in learner code must never answer the parent: it ends here."""
    if os.getpid() != pid:
        os._exit(0)


class _Loop:
    """The result of a ``loop`` step: per body step, its encoded values over the iterations that
    completed, and the learner's exception that stopped it, if any."""

    def __init__(self, columns: list[list[Encoded]], done: int, error: dict[str, Any] | None):
        self.columns, self.done, self.error = columns, done, error


def _stacked(column: list[Encoded]) -> Encoded | None:
    """One (iterations, ...) array for a column of same-typed, same-shaped arrays or scalars, else None.

    One frame instead of one per iteration: a 50-step optimizer trajectory sent step by step spent most
    of its time framing and parsing small arrays."""
    head, first = column[0][0], column[0][1]
    if head["kind"] not in ("array", "scalar"):
        return None
    for h, arr in column:
        if h != head or arr[0].shape != first[0].shape or arr[0].dtype != first[0].dtype:
            return None
    return {"kind": "stacked", "type": head["type"]}, [np.stack([arr[0] for _, arr in column])]


def _encode_loop(loop: _Loop) -> Encoded:
    columns, out = [], []
    for column in loop.columns:
        stacked = _stacked(column) if column else None
        if stacked is None:  # kept per iteration: the parent reports the first odd one
            columns.append({"kind": "steps", "type": "steps", "items": [head for head, _ in column]})
            out += [a for _, arr in column for a in arr]
        else:
            columns.append(stacked[0])
            out += stacked[1]
    return {"kind": "loop", "type": "loop", "done": loop.done, "columns": columns}, out


def run_plan(header: dict[str, Any], arrays: list[Any], root: str) -> tuple[dict[str, Any], list[Any]]:
    """Execute the steps of one call plan; stop at the first failing step.

    A ``loop`` step runs its ``body`` steps ``times`` times (``$name#i`` is row i of an array at
    iteration i) and returns each body step's values stacked over the iterations. Methods a ``watch``
    step wrapped are put back when the plan ends, however it ends."""
    env = dict(zip(header["vars"], arrays))
    try:
        return _run_steps(header, root, env)
    finally:
        for watch in reversed(list(env.get("$watch", {}).values())):
            try:
                watch.undo()
            except (AttributeError, TypeError):  # the learner's code removed or froze it
                pass


def _run_steps(header: dict[str, Any], root: str, env: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    objects: dict[int, Any] = {}
    # The stability check wants to know where overflow and 0/0 happened, even when the final values are
    # right ("record": noted, the computation goes on) or to stop at the first one ("raise").
    fp_warnings: list[dict[str, str]] = []

    def record(what: str, flag: int) -> None:
        if len(fp_warnings) < MAX_FP_WARNINGS:
            fp_warnings.append({"what": what, "where": _where(traceback.extract_stack(), root)})

    fp: dict[str, Any] = {}
    if header.get("fp_errors") == "raise":
        fp = {"over": "raise", "divide": "raise", "invalid": "raise"}
    elif header.get("fp_errors") == "record":
        fp = {"over": "call", "divide": "call", "invalid": "call", "call": record}

    def arg(a: Any, i: int | None = None) -> Any:
        """``$name`` is an array sent with the plan; ``$name#t`` a fresh copy of its row t (``#i``: the
        loop's iteration); lists nest; ``{"$rng": n}`` is a fresh ``numpy.random.Generator`` seeded
        with n (for initializers); ``{"$obj": k}`` the object step k created (a network's layers)."""
        if isinstance(a, list):
            return [arg(x, i) for x in a]
        if isinstance(a, dict) and set(a) == {"$rng"}:
            return np.random.default_rng(int(a["$rng"]))
        if isinstance(a, dict) and set(a) == {"$obj"}:
            return objects[int(a["$obj"])]
        if isinstance(a, str) and a.startswith("$"):
            name, _, row = a[1:].partition("#")
            if not row:
                return env[name]
            return env[name][i if row == "i" else int(row)].copy()
        return a

    me = os.getpid()

    def execute(step: dict[str, Any], index: int, i: int | None = None) -> Any:
        args = [arg(a, i) for a in step.get("args", [])]
        kwargs = {k: arg(v, i) for k, v in step.get("kwargs", {}).items()}
        if step.get("soft_timeout"):  # a whole training run: stopped in time to say which layer was slow
            with np.errstate(**fp), _SoftDeadline(float(step["soft_timeout"]), env):
                value = _execute(step, index, args, kwargs, objects, env, root)
            _only_the_original(me)
            return value
        with np.errstate(**fp):
            value = _execute(step, index, args, kwargs, objects, env, root)
        _only_the_original(me)
        return value

    def loop(step: dict[str, Any], index: int) -> _Loop:
        body = step["body"]
        columns: list[list[Encoded]] = [[] for _ in body]
        for i in range(int(step["times"])):
            row = []
            for sub in body:
                try:
                    # encoded (copied) now: the learner updates its arrays in place at the next iteration
                    row.append(encode(execute(sub, index, i)))
                except StepError as e:
                    return _Loop(columns, i, e.info)
                except BaseException as e:  # noqa: BLE001
                    _only_the_original(me)
                    return _Loop(columns, i, describe(e, root))
            for column, value in zip(columns, row):
                column.append(value)
        return _Loop(columns, int(step["times"]), None)

    results, out = [], []
    for index, step in enumerate(header["steps"]):
        try:
            if step["op"] == "loop":
                value = loop(step, index)
                head, arr = _encode_loop(value)
                results.append(head)
                out += arr
                if value.error is not None:
                    return {"results": results, "error": value.error, "step": index}, out
                continue
            value = execute(step, index)
            head, arr = _encode_loop(value) if isinstance(value, _Loop) else encode(value)
        except StepError as e:
            return {"results": results, "error": e.info, "step": index, **_calls(env), **_warned(fp_warnings)}, out
        except BaseException as e:  # noqa: BLE001 - SystemExit and friends are learner errors too
            _only_the_original(me)
            return {"results": results, "error": describe(e, root), "step": index, **_calls(env),
                    **_warned(fp_warnings)}, out
        results.append(head)
        out += arr
    return {"results": results, "error": None, "step": None, **_calls(env), **_warned(fp_warnings)}, out


MAX_FP_WARNINGS = 4
"""Floating-point warnings recorded per plan (the first say where; more would say nothing new)."""


def _warned(fp_warnings: list[dict[str, str]]) -> dict[str, Any]:
    """``fp_warnings``: numpy's overflow / divide / invalid events in the learner's code, when any."""
    return {"fp_warnings": fp_warnings} if fp_warnings else {}


def _calls(env: dict[str, Any]) -> dict[str, Any]:
    """``forward_calls``: {step index: forward calls made during that backward step}, when any."""
    calls = env.get("$forward_calls")
    return {"forward_calls": {str(k): v for k, v in calls.items()}} if calls else {}


def _read(fd: int, unpacker: Any) -> Any:
    while True:
        msg = unpacker.message()
        if msg is not None:
            return msg
        data = os.read(fd, 1 << 20)
        if not data:
            return None
        unpacker.feed(data)


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def preload() -> None:
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass


class _Banned:
    """An import hook refusing the packages the parent names (grader.sandbox.rules.BANNED, which it also flags
    from the source)."""

    def __init__(self, banned: list[str]):
        self.banned = frozenset(banned)

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.split(".")[0] in self.banned:
            raise ImportError(f"{name} is not available here: the exercises are written in numpy by hand")
        return None


def _die_with_parent(parent: int) -> None:
    """Be killed when the grader dies (set after the uid change, which clears it)."""
    try:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def _pid_one(parent: int, request_fd: int) -> None:
    """Tier B: fork the process that serves the parent as PID 1 of the new PID namespace, and stay
    behind as its reaper, running no learner code.

    When PID 1 ends, the kernel kills every process left in its namespace, setsid'd grandchildren too
    (tier C kills them by their unique uid; here all run as the grader's user). The parent's SIGKILL of
    the session reaches the reaper and PID 1; PID 1 also dies with the reaper (PDEATHSIG).
    """
    _die_with_parent(parent)
    pid = os.fork()
    if pid == 0:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        return
    # The reaper keeps its copy of the reply pipe: the parent then sees EOF only once the reaper has
    # ended as PID 1 did, and reports PID 1's exit code or signal rather than the SIGKILL it sends on EOF.
    os.close(request_fd)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    if os.WIFSIGNALED(status):  # end as PID 1 ended, so the parent reports its signal
        sig = os.WTERMSIG(status)
        if sig not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


def serve(config: dict[str, Any]) -> None:
    """Confine this process, greet the parent, then run call plans until the parent hangs up.

    Confinement is all or nothing: if any step fails, the greeting carries the reason and the child
    exits before it imports a line of learner code."""
    fd_in, fd_out, root = config["fd_in"], config["fd_out"], config["workdir"]
    parent = os.getppid()
    os.environ.update({"HOME": root, "TMPDIR": root})
    if config.get("fail_at"):
        os.environ[confinement.FAIL_AT_ENV] = str(config["fail_at"])
    try:
        apply_limits(config["limits"])
        tier, pid_namespace = confinement.confine(config["hide"] + config.get("banned_dirs", []), root)
        if pid_namespace:
            _pid_one(parent, fd_in)
        else:
            _die_with_parent(parent)
        guards = confinement.guard(root, config["hide"], config.get("banned_dirs", []), tier)
    except (confinement.SetupError, OSError) as e:
        _write(fd_out, protocol.pack({"hello": False, "setup_error": str(e)[:500]}, []))
        os._exit(3)
    os.environ.pop(confinement.FAIL_AT_ENV, None)
    cpu_s = int(config["limits"]["cpu_s"])
    sys.meta_path.insert(0, _Banned(config.get("banned", [])))  # type: ignore[arg-type]
    os.chdir(root)
    sys.path.insert(0, root)
    sys.dont_write_bytecode = True
    _write(fd_out, protocol.pack({"hello": True, "tier": tier, "guards": guards, "pid": os.getpid(),
                                  "uid": os.getuid()}, []))
    unpacker = protocol.Unpacker()
    while True:
        msg = _read(fd_in, unpacker)
        if msg is None:
            return
        if msg[0].get("cpu_budget"):
            cpu_budget(cpu_s)
        reply, arrays = run_plan(msg[0], msg[1], root)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # output over the file-size limit: it is cut anyway
                pass
        _write(fd_out, protocol.pack(reply, arrays, sparse=True))


def zygote(sock_fd: int) -> None:
    """A warm fork server: numpy is imported once here, then each request forks a fresh child.

    A request is a JSON config with three file descriptors (the child's request pipe, result pipe and
    output file) passed over the Unix socket; the reply is the child's pid. ``wait PID`` reaps a child
    and answers its exit status. The zygote itself never runs learner code.
    """
    import socket

    try:
        ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # children of the same user cannot ptrace us
        # Die with the worker that started us; had it died already, the socket reads EOF below.
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    sock = socket.socket(fileno=sock_fd)
    buf = b""
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(sock, 1 << 16, 3)
        except OSError:
            return
        if not data:
            return
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.startswith(b"wait "):
                try:
                    _, status = os.waitpid(int(line[5:]), 0)
                    code = os.waitstatus_to_exitcode(status)
                except ChildProcessError:
                    code = -999
                sock.sendall(f"{code}\n".encode())
                continue
            config = json.loads(line)
            pid = os.fork()
            if pid == 0:
                try:
                    sock.close()
                    os.setsid()
                    fd_in, fd_out, fd_log = fds
                    os.dup2(fd_log, 1)
                    os.dup2(fd_log, 2)
                    low, high = sorted((fd_in, fd_out))  # keep only stdio and the two pipes
                    os.closerange(3, low)
                    os.closerange(low + 1, high)
                    os.closerange(high + 1, 65536)
                    # A forked child inherits the zygote's "not dumpable", which makes /proc/self root's:
                    # it could not write its uid_map, and tier B would silently fall to tier A.
                    # (execve resets the flag for a spawned child the same way.)
                    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
                    serve({**config, "fd_in": fd_in, "fd_out": fd_out})
                finally:
                    os._exit(0)
            for fd in fds:
                os.close(fd)
            sock.sendall(f"{pid}\n".encode())


def main() -> None:
    preload()
    if sys.argv[1] == "--zygote":
        zygote(int(sys.argv[2]))
    else:
        serve(json.loads(sys.argv[1]))


if __name__ == "__main__":
    main()
