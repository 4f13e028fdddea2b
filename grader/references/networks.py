"""The torch twin of a whole network's training: the same parameters, the same batches, torch.optim.

Given a :class:`grader.kinds.networks.NetworkSpec`, the initial parameters and the batch order, it
trains with autograd and torch.optim in float64 and records what the learner's run must reproduce:
the loss of every step, every gradient and parameter of the first ``compare_steps`` steps, the
accuracy after every epoch and, with a test split, the test accuracy.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from ..kinds.networks import Data, NetworkSpec, batches
from . import one_torch_thread, optim_step, twin

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "ReLU": torch.relu, "Sigmoid": torch.sigmoid, "Tanh": torch.tanh,
    "LogSoftmax": lambda x: F.log_softmax(x, dim=1)}
LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "SoftmaxCrossEntropy": F.cross_entropy, "NLLLoss": F.nll_loss,
    "BCEWithLogitsLoss": F.binary_cross_entropy_with_logits}
OPTIMIZERS: dict[str, Any] = {"SGD": torch.optim.SGD, "Adam": torch.optim.Adam}


def forward(spec: NetworkSpec, params: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    j = 0
    for layer in spec.layers:
        options = layer.options
        if layer.cls == "Affine":
            x = x @ params[j] + params[j + 1]
        elif layer.cls == "Conv2d":
            x = F.conv2d(x, params[j], params[j + 1], stride=options.get("stride", 1), padding=options.get("padding", 0))
        elif layer.cls == "MaxPool2d":
            kernel = options.get("kernel", 2)
            x = F.max_pool2d(x, kernel, options.get("stride") or kernel)
        elif layer.cls == "Flatten":
            x = torch.flatten(x, start_dim=1)
        else:
            x = ACTIVATIONS[layer.cls](x)
        j += len(layer.param_names)
    return x


def accuracy(out: torch.Tensor, y: np.ndarray) -> float:
    """As the course's ``accuracy``: one logit column is class (logit > 0), several the argmax."""
    predicted = (out[:, 0] > 0).long() if out.shape[1] == 1 else out.argmax(dim=1)
    return float((predicted.cpu().numpy() == np.asarray(y).reshape(-1).astype(np.int64)).mean())


@twin("network")
def train(spec: NetworkSpec, init: list[np.ndarray], data: Data, orders: np.ndarray,
          device: str = "cpu") -> dict[str, np.ndarray]:
    """Train the twin; keys ``loss`` (T,), ``grad{j}``/``param{j}`` (min(T, compare_steps), ...) (the
    parameters after each step), ``accuracy`` (epochs,), ``test_accuracy`` (with a test split),
    ``final{j}`` (the trained parameters), ``test_accuracy_epochs`` (after each epoch), ``loss_unshuffled`` (the first step's loss on the first rows in their stored order: hints).

    Runs on one thread: these networks are small, and a tiny op handed to a thread pool on a busy machine
    waited milliseconds for it (binary_cross_entropy_with_logits on 4 rows took 9 ms instead of 8 us)."""
    with one_torch_thread():
        return _train(spec, init, data, orders, device)


def _train(spec: NetworkSpec, init: list[np.ndarray], data: Data, orders: np.ndarray,
           device: str) -> dict[str, np.ndarray]:
    params = [torch.tensor(p, dtype=torch.float64, device=device, requires_grad=True) for p in init]
    shape = (-1, *spec.input_shape) if spec.input_shape else None
    X = torch.tensor(data.X, dtype=torch.float64, device=device)
    X = X.reshape(shape) if shape else X
    y = torch.tensor(data.y, dtype=torch.float64 if data.y.dtype.kind == "f" else torch.int64, device=device)
    loss_fn = LOSSES[spec.loss]
    with torch.no_grad():
        first = slice(0, spec.batch_size)
        unshuffled = loss_fn(forward(spec, params, X[first]), y[first])
    opt = OPTIMIZERS[spec.optimizer](params, **spec.opt_hyper)
    record: dict[str, list[np.ndarray]] = {}

    def keep(key: str, value: torch.Tensor) -> None:
        record.setdefault(key, []).append(value.detach().to("cpu", torch.float64).numpy().copy())

    steps = batches(orders, spec.batch_size)
    per_epoch = len(steps) // spec.epochs
    accuracies: list[float] = []
    test_accuracies: list[float] = []
    X_test = None
    if data.X_test is not None and data.y_test is not None:
        X_test = torch.tensor(data.X_test, dtype=torch.float64, device=device)
        X_test = X_test.reshape(shape) if shape else X_test
    for t, idx in enumerate(steps):
        index = torch.as_tensor(idx, device=device)
        opt.zero_grad()
        loss = loss_fn(forward(spec, params, X[index]), y[index])
        loss.backward()
        keep("loss", loss)
        if t < spec.compare_steps:
            for j, p in enumerate(params):
                keep(f"grad{j}", p.grad)
        optim_step(opt)
        if t < spec.compare_steps:
            for j, p in enumerate(params):
                keep(f"param{j}", p)
        if (t + 1) % per_epoch == 0:
            with torch.no_grad():
                accuracies.append(accuracy(forward(spec, params, X), data.y))
                if X_test is not None:
                    test_accuracies.append(accuracy(forward(spec, params, X_test), data.y_test))
    out = {k: np.stack(v) for k, v in record.items()}
    out.update({f"final{j}": p.detach().to("cpu", torch.float64).numpy().copy() for j, p in enumerate(params)})
    out["accuracy"] = np.array(accuracies)
    out["loss_unshuffled"] = unshuffled.detach().cpu().numpy().astype(np.float64)
    if X_test is not None:
        out["test_accuracy"] = np.array(test_accuracies[-1])
        out["test_accuracy_epochs"] = np.array(test_accuracies)
    return out
