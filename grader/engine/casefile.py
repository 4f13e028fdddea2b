"""One public case as an ``.npz`` file, so that a learner can rerun it in a REPL (``grader case EX N --save``).

The file holds exactly what grading feeds and expects on that case with the course's public seed: the
inputs (parameters and buffers included), the upstream gradients backward receives, and every reference
value (``expected_out``, ``expected_dx``, a buffer after the call...); an optimizer's case holds, per test
problem, the starting point, the gradients of each step and torch's path. The hyper-parameters are stored
as JSON under ``hyper``. Only the public seed is served: the cases of a secret seed are the hidden ones.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..kinds import kind_of
from ..kinds.inputs import case_arrays, upstream_gradient
from ..model.course import Course, Exercise
from ..model.errors import GraderError


def case_values(course: Course, ex: Exercise, index: int, device: str = "cpu") -> dict[str, np.ndarray]:
    """Inputs, upstream gradients and reference values of public case ``index`` of ``ex``, by file key."""
    from .. import references

    if not 0 <= index < len(ex.cases):
        raise GraderError(f"exercise {ex.id} ({ex.title}) has cases 0 to {len(ex.cases) - 1}; there is no case {index}")
    if ex.reference is None:
        raise GraderError(f"exercise {ex.id} ({ex.title}) is judged by rules, not by reference values: "
                          "there is no case file to write")
    seed = course.public_seed
    hyper = {**ex.hyper, **ex.cases[index].hyper}
    out: dict[str, np.ndarray] = {"hyper": np.array(json.dumps(hyper, default=str))}
    kind = kind_of(ex)
    twins = references.check(course, [ex.id])
    if kind.trains:
        return {**out, **_network_case(ex, index, seed, device)}
    if kind.problems_required:
        from .expected import _optimizer_references

        for (_, purpose, i, quantity), value in _optimizer_references(ex, seed, device, twins).items():
            if i == index:
                out[f"{purpose.split(':', 1)[1]}/{quantity}"] = value
        return out
    arrays = case_arrays(ex, ex.cases[index], seed, "case", index)
    douts: dict[str, np.ndarray] = {}

    def make_dout(shape: tuple[int, ...], name: str) -> np.ndarray:
        douts[name] = upstream_gradient(shape, seed, ex, "case", index, name)
        return douts[name]

    expected = references.compute(kind.twin_call(ex, arrays, hyper, make_dout, device), twins)
    out.update(arrays)
    out.update(douts)
    out.update({f"expected_{q.replace(' ', '_')}": v for q, v in expected.items()})
    return out


def _network_case(ex: Exercise, index: int, seed: int, device: str) -> dict[str, np.ndarray]:
    """A training run's case: the data, the seed of the learner's rng, the initial parameters and the
    permutation of each epoch it gives, and torch's run (``expected_loss`` per step, ``expected_grad{j}``
    and ``expected_param{j}`` per compared step, the accuracies)."""
    from ..kinds import networks
    from .expected import _network_references

    spec = networks.spec_of(ex, {**ex.hyper, **ex.cases[index].hyper})
    data = networks.data_of(spec, ex, seed, index)
    rng_seed = networks.learner_seed(spec, seed, ex, index)
    init, orders = networks.draws(spec, rng_seed, len(data.X))
    out = {"X": data.X, "y": data.y, "rng_seed": np.array(rng_seed), "order": orders}
    if data.X_test is not None and data.y_test is not None:
        out.update(X_test=data.X_test, y_test=data.y_test)
    out.update({f"init{j}": p for j, p in enumerate(init)})
    for (_, _, i, quantity), value in _network_references(ex, seed, device, only=index).items():
        if i == index and not quantity.startswith("init"):
            out[f"expected_{quantity}"] = value
    return out


def snippet(ex: Exercise, values: dict[str, np.ndarray], path: Path) -> list[str]:
    """Three lines that load the file and run the learner's code on it, as the grader calls it."""
    hyper = [f"{k}={v!r}" for k, v in json.loads(str(values["hyper"])).items()]
    kind = kind_of(ex)
    c = lambda n: f'c["{n}"]'  # noqa: E731
    if kind.trains:
        call = ('rng = np.random.default_rng(int(c["rng_seed"]))  # the generator your code receives; '
                'torch\'s loss per step: c["expected_loss"]')
    elif kind.problems_required:
        problem = ex.problems[0]
        call = (f'opt = {ex.name}({", ".join(hyper)}); p = c["{problem}/init0"].copy(); '
                f'opt.update([p], [c["{problem}/grad0"][0]]); print(p - c["{problem}/param0"][0])')
    elif not kind.constructed:
        args = [c(a) if isinstance(a, str) else "[" + ", ".join(c(n) for n in a) + "]" for a in ex.args] \
            if ex.args else [c(n) for n in kind.inputs(ex, values) if n in values]
        call = f"result = {ex.name}({', '.join(args + hyper)})"
        if "expected_out" in values:
            call += '; print(np.abs(result - c["expected_out"]).max())'
    else:
        built = [c(p) for p in ex.params] + [f"{b}={c(b)}.copy()" for b in ex.buffers] + hyper
        inputs = ", ".join(c(n) for n in kind.inputs(ex, values) if n in values)
        call = f"obj = {ex.name}({', '.join(built)}); out = obj.forward({inputs})"
        if "expected_out" in values:
            call += '; print(np.abs(out - c["expected_out"]).max())'
    return ["import numpy as np", f"from {ex.module} import {ex.name}; c = np.load({str(path)!r})", call]


def describe(values: dict[str, np.ndarray]) -> list[str]:
    """One line per array of the file: its key and shape."""
    return [f"  {k}: {'JSON text' if k == 'hyper' else f'{v.dtype} {tuple(v.shape)}'}" for k, v in values.items()]


def write(values: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:  # np.savez would append .npz to a name without it
        np.savez(f, **values)
