"""What a network exercise trains (its layers, loss, optimizer, data, initial parameters, batch order),
and the call plan that trains the learner's network while the child records every step.

A ``network`` exercise (the capstone) states its network in ``hyper`` (course.yml); this module reads it
into a :class:`NetworkSpec` and draws, from one learner seed per case, exactly the random numbers the
exercise's docstring tells the learner to draw: the initial parameters (by the ``init`` rule) and then
one permutation per epoch. The torch twin (grader.references.networks) and the training check read the
same spec, so both sides train on the same parameters and the same mini-batches.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..model.course import Course, Exercise
from ..model.errors import CourseError
from .inputs import case_arrays, rng_for
from .plans import rng as rng_argument

MODULES = {"Affine": "layers", "ReLU": "activations", "Sigmoid": "activations", "Tanh": "activations",
           "LogSoftmax": "activations", "Conv2d": "cnn", "MaxPool2d": "cnn", "Flatten": "cnn",
           "SoftmaxCrossEntropy": "losses", "NLLLoss": "losses", "BCEWithLogitsLoss": "losses",
           "SGD": "optim", "Adam": "optim"}
"""The learner's module of each class a network may use (the modules of the earlier assignments)."""
KWARGS = {"LogSoftmax": {"axis": 1}}
DRIVERS = ("steps", "net", "fit", "recipe")
"""Who runs the training loop: the grader over the learner's Sequential ("steps") or TwoLayerNet
("net"), the learner's ``fit`` ("fit"), or a learner's function that builds and trains ("recipe")."""
INITS = ("torch_uniform", "glorot_zero", "normal_0.01")


@dataclass(frozen=True)
class LayerSpec:
    cls: str
    param_shapes: tuple[tuple[int, ...], ...] = ()
    """(W's shape, b's shape) of an Affine (D_in, D_out) or a Conv2d (C_out, C_in, k, k); none else."""
    kwargs: tuple[tuple[str, Any], ...] = ()
    """Keyword arguments of the constructor (a Conv2d's padding, a MaxPool2d's kernel)."""

    @property
    def target(self) -> str:
        return f"{MODULES[self.cls]}.{self.cls}"

    @property
    def param_names(self) -> tuple[str, ...]:
        return ("W", "b") if self.param_shapes else ()

    @property
    def fan_in(self) -> int:
        W = self.param_shapes[0]
        return W[0] if self.cls == "Affine" else int(np.prod(W[1:]))

    @property
    def options(self) -> dict[str, Any]:
        return {**KWARGS.get(self.cls, {}), **dict(self.kwargs)}


@dataclass(frozen=True)
class NetworkSpec:
    driver: str
    layers: tuple[LayerSpec, ...]
    loss: str
    optimizer: str
    opt_hyper: dict[str, Any]
    batch_size: int
    epochs: int
    init: str
    seed: int | None
    """The learner's rng seed when the course fixes it (XOR's solvable starts), else drawn per case."""
    data: str
    """"case" (the case's arrays X, y), "xor" or "digits"."""
    compare_steps: int
    """Steps whose every gradient and parameter is compared (the loss is compared at every step)."""
    margin: float
    """Final accuracy: at most this far below torch's."""
    min_accuracy: float
    input_shape: tuple[int, ...] | None = None
    """The shape of one sample as the network takes it (the digits as images: [1, 8, 8])."""
    jitter: float = 0.0
    """Fixed noise in [0, jitter) added to every pixel, so that no two pooled values tie (a max pooling's
    gradient goes to the first maximum in torch; a learner's rule for ties is free)."""
    data_dir: str = ""
    """The folder of MNIST's IDX files (``data: mnist``, set by :func:`with_data`)."""
    reported: tuple[float, ...] = ()
    """Test accuracies after each epoch that the course text reports for this setup (messages only)."""

    @property
    def loss_target(self) -> str:
        return f"losses.{self.loss}"

    @property
    def optimizer_target(self) -> str:
        return f"optim.{self.optimizer}"

    def param_owner(self) -> list[tuple[int, LayerSpec, str]]:
        """For parameter j: (layer position, layer, parameter name), in params order."""
        return [(pos, layer, name) for pos, layer in enumerate(self.layers) for name in layer.param_names]

    def label(self, j: int) -> str:
        pos, layer, name = self.param_owner()[j]
        return f"layer {pos} ({layer.cls}) {name}"


def _layer(raw: Any) -> LayerSpec:
    """``ReLU``, ``[Affine, D_in, D_out]``, ``[Conv2d, C_in, C_out, k, {padding: 1}]``, ``[MaxPool2d, {kernel: 2}]``."""
    raw = [raw] if isinstance(raw, str) else list(raw)
    cls, sizes = raw[0], [int(v) for v in raw[1:] if not isinstance(v, dict)]
    kwargs = next((v for v in raw[1:] if isinstance(v, dict)), {})
    if cls not in MODULES or MODULES[cls] not in ("layers", "activations", "cnn"):
        raise ValueError(f"unknown layer {cls!r}")
    wanted = {"Affine": 2, "Conv2d": 3}.get(cls, 0)
    if len(sizes) != wanted:
        raise ValueError(f"{cls} takes {wanted} sizes ([Affine, D_in, D_out], [Conv2d, C_in, C_out, k]), "
                         f"got {sizes}")
    shapes: tuple[tuple[int, ...], ...] = ()
    if cls == "Affine":
        shapes = ((sizes[0], sizes[1]), (sizes[1],))
    elif cls == "Conv2d":
        shapes = ((sizes[1], sizes[0], sizes[2], sizes[2]), (sizes[1],))
    return LayerSpec(cls, shapes, tuple(sorted(kwargs.items())))


def spec_of(ex: Exercise, hyper: dict[str, Any]) -> NetworkSpec:
    """The network of one case (the exercise's hyper with the case's overrides).

    Raises:
        ValueError: the spec is malformed (the course loader reports it with the exercise's place)."""
    driver = hyper.get("driver", "")
    if driver not in DRIVERS:
        raise ValueError(f"driver must be one of {', '.join(DRIVERS)}, got {driver!r}")
    layers = tuple(_layer(raw) for raw in hyper.get("layers", []))
    if not layers:
        raise ValueError("a network needs a list of layers")
    optimizer = hyper.get("optimizer", ["SGD", {}])
    if optimizer[0] not in ("SGD", "Adam") or not isinstance(optimizer[1], dict):
        raise ValueError(f"optimizer must be [SGD or Adam, {{hyper-parameters}}], got {optimizer!r}")
    loss = hyper.get("loss", "SoftmaxCrossEntropy")
    if MODULES.get(loss) != "losses":
        raise ValueError(f"unknown loss {loss!r}")
    init = hyper.get("init", "torch_uniform")
    if init not in INITS:
        raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")
    data = hyper.get("data", "case")
    if data not in ("case", "xor", "digits", "mnist"):
        raise ValueError(f"data must be case, xor or digits, got {data!r}")
    if "mnist" in hyper and not isinstance(hyper["mnist"], dict):
        raise ValueError("mnist must be a mapping: the hyper-parameters that --data mnist=DIR replaces")
    return NetworkSpec(driver=driver, layers=layers, loss=loss, optimizer=optimizer[0],
                       opt_hyper=dict(optimizer[1]), batch_size=int(hyper.get("batch_size", 1)),
                       epochs=int(hyper.get("epochs", 1)), init=init,
                       seed=None if hyper.get("rng") is None else int(hyper["rng"]), data=data,
                       compare_steps=int(hyper.get("compare_steps", 1 << 30)),
                       margin=float(hyper.get("margin", 0.01)), min_accuracy=float(hyper.get("min_accuracy", 0.0)),
                       input_shape=tuple(int(v) for v in hyper["input_shape"]) if "input_shape" in hyper else None,
                       jitter=float(hyper.get("jitter", 0.0)), data_dir=str(hyper.get("data_dir", "")),
                       reported=tuple(float(v) for v in hyper.get("reported", ())))


def learner_seed(spec: NetworkSpec, seed: int, ex: Exercise, index: int) -> int:
    """The seed of the numpy Generator the learner's code receives (``{"$rng": n}``)."""
    if spec.seed is not None:
        return spec.seed
    return int(rng_for(seed, ex.id, "rng", index).integers(0, 2**62))


@dataclass
class Data:
    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None


XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([[0.0], [1.0], [1.0], [0.0]])


def data_of(spec: NetworkSpec, ex: Exercise, seed: int, index: int) -> Data:
    if spec.data == "xor":
        return Data(XOR_X.copy(), XOR_Y.copy())
    if spec.data == "mnist":
        from ..data.idx import mnist

        return Data(*mnist(Path(spec.data_dir)))
    if spec.data == "digits":
        from ..data import digits

        data = Data(*digits())
        if spec.jitter:
            noise = np.random.default_rng(0)
            data.X = data.X + noise.uniform(0, spec.jitter, data.X.shape)
            data.X_test = data.X_test + noise.uniform(0, spec.jitter, data.X_test.shape)  # type: ignore[operator]
        return data
    arrays = case_arrays(ex, ex.cases[index], seed, "case", index)
    return Data(arrays["X"], arrays["y"])


def with_data(course: Course, sets: dict[str, Path]) -> Course:
    """The course with the data sets given on the command line (``--data mnist=DIR``): every network
    exercise whose hyper has an ``mnist`` block trains on MNIST with that block's hyper-parameters (the
    course text's exact setup) and its ``timeout_s``. The course digest, a part of the reference cache's
    key, then names the data too, so MNIST's references never mix with the digits'.

    Raises:
        CourseError: an unknown data set, or no exercise of the course trains on it.
        IdxError: the folder does not hold MNIST's four IDX files, well formed (read once here)."""
    from ..data.idx import mnist

    unknown = sorted(set(sets) - {"mnist"})
    if unknown:
        raise CourseError(f"--data {unknown[0]}=...: unknown data set (known: mnist)")
    if not sets:
        return course
    folder = sets["mnist"].resolve()
    X_train, _, X_test, _ = mnist(folder)  # a malformed file is refused now, naming it, not mid-grading
    tag = hashlib.sha256(f"{course.digest}\0mnist\0{folder}\0{X_train.shape}\0{X_test.shape}".encode())
    for f in sorted(folder.iterdir()):
        if f.name.split(".")[0] in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                                    "t10k-labels-idx1-ubyte"):
            tag.update(f"{f.name}\0{f.stat().st_size}\0{f.stat().st_mtime_ns}".encode())
    changed = 0

    def swap(ex: Exercise) -> Exercise:
        nonlocal changed
        block = ex.hyper.get("mnist")
        if not isinstance(block, dict):
            return ex
        changed += 1
        block = dict(block)
        timeout = block.pop("timeout_s", ex.timeout_s)
        hyper = {k: v for k, v in ex.hyper.items() if k != "mnist"}
        return replace(ex, hyper={**hyper, **block, "data": "mnist", "data_dir": str(folder)}, timeout_s=timeout)

    assignments = tuple(replace(a, exercises=tuple(swap(ex) for ex in a.exercises)) for a in course.assignments)
    if not changed:
        raise CourseError("--data mnist=...: no exercise of this course trains on MNIST (an mnist: block in its hyper)")
    return replace(course, assignments=assignments, digest=tag.hexdigest()[:16])


def initial_params(spec: NetworkSpec, rng: np.random.Generator) -> list[np.ndarray]:
    """The parameters the docstrings prescribe, drawn from rng in layer order (W, then b)."""
    layers = [layer for layer in spec.layers if layer.param_shapes]
    params: list[np.ndarray] = []
    if spec.init == "torch_uniform":  # W then b, each U(-1/sqrt(fan_in), 1/sqrt(fan_in))
        for layer in layers:
            limit = 1 / np.sqrt(layer.fan_in)
            params += [rng.uniform(-limit, limit, shape) for shape in layer.param_shapes]
        return params
    if spec.init == "glorot_zero":  # every W first (Glorot uniform), biases zero
        weights = [rng.uniform(-np.sqrt(6 / sum(lay.param_shapes[0])), np.sqrt(6 / sum(lay.param_shapes[0])),
                               lay.param_shapes[0]) for lay in layers]
    else:  # normal_0.01: TwoLayerNet's W = 0.01 * standard normal, one W after the other; biases zero
        weights = [0.01 * rng.standard_normal(lay.param_shapes[0]) for lay in layers]
    for W, layer in zip(weights, layers):
        params += [W, np.zeros(layer.param_shapes[1])]
    return params


def draws(spec: NetworkSpec, seed: int, n: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Initial parameters and the permutation of each epoch (epochs, n), as the learner's rng gives them.

    With the ``fit`` driver the grader builds the network itself (from a generator of the same seed)
    and ``fit`` receives a fresh generator: its permutations start from the seed."""
    rng = np.random.default_rng(seed)
    params = initial_params(spec, rng)
    if spec.driver == "fit":
        rng = np.random.default_rng(seed)
    return params, np.stack([rng.permutation(n) for _ in range(spec.epochs)])


def batches(orders: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Every step's row indices, epoch after epoch (the last batch of an epoch may be smaller)."""
    return [row[s:s + batch_size] for row in orders for s in range(0, len(row), batch_size)]


@dataclass
class NetworkPlan:
    """A training run's call plan, and where each recorded quantity lands in the reply."""

    steps: list[dict[str, Any]]
    variables: dict[str, np.ndarray]
    slots: dict[str, int]
    """Where each recorded quantity lands: updates, losses (watched or returned), history, test."""
    phases: dict[int, str]


TIMED_METHODS = ["forward", "backward", "update"]


def plan(target: str, spec: NetworkSpec, seed: int, init: list[np.ndarray], orders: np.ndarray,
         data: Data, soft_timeout: float | None = None, force: list[np.ndarray] | None = None) -> NetworkPlan:
    """The plan of one training run; with ``soft_timeout`` the child stops the training after that many
    seconds and says which layer's forward or backward took the time (the hard limit kills it silently).
    With ``force`` (one array per parameter, (steps, ...)): teacher forcing, the parameters overwritten
    with row t after the optimizer's update of step t (grader.checks.training says when it is used)."""
    steps: list[dict[str, Any]] = []
    phases: dict[int, str] = {}
    slots: dict[str, int] = {}
    variables: dict[str, np.ndarray] = {"X": data.X, "y": data.y, "order": orders}
    if data.X_test is not None and data.y_test is not None:
        variables.update(X_test=data.X_test, y_test=data.y_test)

    def push(step: dict[str, Any], phase: str) -> int:
        steps.append(step)
        phases[len(steps) - 1] = phase
        return len(steps) - 1

    def build_model(sequential: str) -> int:
        parts, j = [], 0
        for pos, layer in enumerate(spec.layers):
            args = []
            if layer.param_shapes:
                variables[f"p{j}"], variables[f"p{j + 1}"] = init[j], init[j + 1]
                args, j = [f"$p{j}", f"$p{j + 1}"], j + 2
            parts.append(push({"op": "new", "target": layer.target, "args": args, "kwargs": layer.options},
                              f"constructing layer {pos} ({layer.cls})"))
        return push({"op": "new", "target": sequential, "args": [[{"$obj": k} for k in parts]], "kwargs": {}},
                    "constructing the Sequential")

    def new(target: str, kwargs: dict[str, Any], phase: str) -> int:
        return push({"op": "new", "target": target, "args": [], "kwargs": kwargs}, phase)

    limit = spec.compare_steps
    timed = sorted({layer.target for layer in spec.layers} | {spec.loss_target, spec.optimizer_target})
    push({"op": "timer", "targets": timed, "methods": TIMED_METHODS}, "timing the layers")
    soft = {"soft_timeout": soft_timeout} if soft_timeout else {}
    keep = list(range(2 * len(spec.param_owner())))  # update(params, grads): the params after it, the grads
    forcing: dict[str, Any] = {}
    if force is not None:
        variables.update({f"force{j}": f for j, f in enumerate(force)})
        forcing = {"force": [f"force{j}" for j in range(len(force))]}
    if spec.driver in ("steps", "net"):
        if spec.driver == "steps":
            model = build_model(target)
            loss: int | None = new(spec.loss_target, {}, f"constructing the loss ({spec.loss})")
        else:
            affine = [layer.param_shapes[0] for layer in spec.layers if layer.param_shapes]
            sizes = [affine[0][0]] + [W[1] for W in affine]
            model = push({"op": "new", "target": target, "args": [*sizes, rng_argument(seed)], "kwargs": {}}, "constructor")
            slots["init"] = push({"op": "attr", "obj": model, "name": "params"}, "reading self.params")
            loss = None
        opt = new(spec.optimizer_target, spec.opt_hyper, f"constructing the optimizer ({spec.optimizer})")
        watch = push({"op": "watch", "obj": opt, "method": "update", "limit": limit, "keep": keep, **forcing},
                     "watching update")
        slots["returned_losses"] = push({"op": "train", "model": model, "loss": loss, "optimizer": opt,
                                         "args": ["$X", "$y", "$order"], "batch_size": spec.batch_size, **soft},
                                        "training (forward, loss, backward, update)")
        slots["updates"] = push({"op": "watched", "step": watch}, "reading the updates")
    else:
        if spec.driver == "fit":
            model = build_model("networks.Sequential")
            loss = new(spec.loss_target, {}, f"constructing the loss ({spec.loss})")
            opt = new(spec.optimizer_target, spec.opt_hyper, f"constructing the optimizer ({spec.optimizer})")
            w_update = push({"op": "watch", "obj": opt, "method": "update", "limit": limit, "keep": keep,
                             **forcing}, "watching update")
            w_loss = push({"op": "watch", "obj": loss, "method": "forward", "keep": [1, -1]}, "watching the loss")
            args: list[Any] = [{"$obj": model}, {"$obj": loss}, {"$obj": opt}, "$X", "$y", spec.epochs,
                               spec.batch_size, rng_argument(seed)]
            kwargs: dict[str, Any] = {}
            history: list[Any] = []
        else:
            w_update = push({"op": "watch", "target": spec.optimizer_target, "method": "update", "limit": limit,
                             "keep": keep, **forcing}, "watching update")
            w_loss = push({"op": "watch", "target": spec.loss_target, "method": "forward", "keep": [1, -1]},
                          "watching the loss")
            tested = data.X_test is not None
            args = ["$X", "$y", "$X_test", "$y_test", rng_argument(seed)] if tested else [rng_argument(seed)]
            kwargs = {"epochs": spec.epochs}
            history = [1]  # a recipe returns (model, history) or (model, history, test_accuracy)
        result = push({"op": "new", "target": target, "args": args, "kwargs": kwargs, **soft}, "training")
        slots["history_loss"] = push({"op": "item", "obj": result, "path": [*history, "loss"]}, "reading history")
        slots["history_accuracy"] = push({"op": "item", "obj": result, "path": [*history, "accuracy"]},
                                         "reading history")
        if spec.data == "xor":  # train_xor returns (model, history): its parameters draw the hidden layer
            slots["final_params"] = push({"op": "item", "obj": result, "path": [0, ".params"]},
                                         "reading the trained model's params")
        if spec.driver == "recipe" and data.X_test is not None:
            slots["test_accuracy"] = push({"op": "item", "obj": result, "path": [2]}, "reading the test accuracy")
        slots["updates"] = push({"op": "watched", "step": w_update}, "reading the updates")
        slots["losses"] = push({"op": "watched", "step": w_loss}, "reading the losses")
        if spec.driver == "recipe" and data.X_test is not None:  # last: for the figures only
            slots["pick"] = push({"op": "pick", "obj": result, "path": [0]}, "reading the trained model")
            variables["X_test_in"] = data.X_test.reshape(-1, *spec.input_shape) if spec.input_shape else data.X_test
            slots["test_out"] = push({"op": "call", "obj": slots["pick"], "method": "forward", "args": ["$X_test_in"]},
                                     "the trained model's forward on the test split")
    return NetworkPlan(steps, variables, slots, phases)
