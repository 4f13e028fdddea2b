"""Existing assignment shapes, graded as they are: an exercise's ``interface:`` (docs/interfaces.md).

Instructors arrive with code that is not the class protocol: CS231n's ``affine_forward(x, w, b) -> (out,
cache)`` / ``affine_backward(dout, cache) -> (dx, dw, db)``, optimizers ``adam(w, dw, config) -> (next_w,
config)``, "Deep Learning from Scratch" layers with ``self.dW`` attributes, torch-style ``(out, in)``
weights or batch-first sequences. An :class:`~grader.model.course.Interface` declares the shape once; here
it is read from course.yml and turned into plan data: every ``new`` step of the exercise's target carries
the interface, and the child (sandbox/child.py, ``_adapted``) builds a small adapter object that keeps
the class protocol (forward, backward, grads, update, state) for every check. The checks, their messages
and hints are those of the class protocol; only two protocol rules that the shape cannot have are asked
here (:func:`grads_in_place`, :func:`compared_state`).
"""
from __future__ import annotations

import re
from typing import Any

from ..model.course import Exercise, Interface
from ..model.errors import did_you_mean
from . import KINDS, output_keys

KEYS = {
    "functions": {"style", "returns", "backward", "gives", "axes", "config"},
    "class": {"style", "grads", "axes"},
    "config": {"style", "config", "state"},
}

_PATH = re.compile(r"^([A-Za-z_]\w*)(?:\[(\d+)\])?$")


def read(r: Any, kind: str, target: str) -> Interface:
    """The ``interface:`` block under reader ``r`` (grader.courseyaml's Reader: file, line, key path in
    every error). Checks what the block alone can tell; :func:`check` what needs the whole exercise."""
    sub = r.child("interface")
    style = sub.raw("style", types=(str,))
    if style not in KEYS:
        sub.fail(f"style must be one of {', '.join(KEYS)}, got {style!r}{did_you_mean(str(style), list(KEYS))}",
                 "style")
    if style not in KINDS[kind].interface_styles:
        allowed = KINDS[kind].interface_styles
        sub.fail(f"a {kind} exercise takes {'style ' + ' or '.join(allowed) if allowed else 'no interface'}, "
                 f"not {style!r}", "style")
    for key in sub.node.value:
        if key not in KEYS[style]:
            owners = [other for other, keys in KEYS.items() if key in keys]
            hint = f" (a key of style {' and '.join(owners)})" if owners else did_you_mean(str(key), sorted(KEYS[style]))
            sub.fail(f"unknown key {key!r} for style {style!r}{hint}; it takes {', '.join(sorted(KEYS[style]))}", key)

    def names(key: str, default: list[str]) -> tuple[str, ...]:
        value = sub.raw(key, default, types=(list,))
        if not all(isinstance(n, str) and n.isidentifier() for n in value):
            sub.fail(f"expected a list of names, got {value!r}", key)
        if len(set(value)) != len(value):
            sub.fail(f"a name occurs twice in {value!r}", key)
        return tuple(value)

    def mapping(key: str) -> dict[str, str]:
        value = sub.raw(key, {}, types=(dict,))
        bad = [f"{k}: {v!r}" for k, v in value.items() if not isinstance(v, str) or not v]
        if bad:
            sub.fail(f"expected name: name pairs, got {', '.join(bad)}", key)
        return {str(k): v for k, v in value.items()}

    axes = {}
    for name, perm in sub.raw("axes", {}, types=(dict,)).items():
        if not isinstance(perm, list) or sorted(perm) != list(range(len(perm))) or len(perm) < 2:
            sub.fail(f"axes of {name!r} must be a permutation of 0..n-1 (e.g. [1, 0]), got {perm!r}", "axes")
        axes[str(name)] = tuple(perm)
    backward = sub.raw("backward", "", types=(str,))
    if backward and "." not in backward:
        backward = f"{target.rsplit('.', 1)[0]}.{backward}"
    if backward and (backward.count(".") != 1 or not all(p.isidentifier() for p in backward.split("."))):
        sub.fail(f"backward must be a function name (or module.name), got {backward!r}", "backward")
    iface = Interface(style=style, backward=backward, returns=names("returns", []), gives=names("gives", []),
                      grads=mapping("grads"), config=mapping("config"), state=mapping("state"), axes=axes)
    for their, ours in iface.config.items():
        if not _PATH.match(ours):
            sub.fail(f"config {their!r}: expected a hyper-parameter name or name[i], got {ours!r}", "config")
    if style == "functions" and not iface.returns:
        sub.fail("style 'functions' needs 'returns': the parts of forward's result, e.g. [out, cache]", "returns")
    if style == "functions" and bool(iface.backward) != bool(iface.gives):
        sub.fail("'backward' and 'gives' come together: the backward function and the parts of its result",
                 "backward" if iface.backward else "gives")
    return iface


def check(r: Any, ex: Exercise) -> None:
    """What the interface must agree on with the exercise: every output, gradient, parameter and
    hyper-parameter has a place, and nothing names what the exercise does not have."""
    iface = ex.interface
    assert iface is not None
    sub = r.child("interface")
    kind = KINDS[ex.kind]
    outputs = output_keys(ex)
    diff = kind.differentiable(ex)
    known_arrays = {*kind.inputs(ex, {}), *ex.params, *outputs, *(n for c in ex.cases for n in c.arrays)}
    if iface.style == "functions":
        if ex.buffers:
            sub.fail("style 'functions' cannot carry buffers (running statistics): use the class protocol", "style")
        allowed = {*outputs, "cache", *("d" + n for n in diff)}
        extra = [n for n in iface.returns if n not in allowed]
        if extra:
            sub.fail(f"{', '.join(extra)} is not an output, 'cache' or a gradient ({', '.join(sorted(allowed))})",
                     "returns")
        missing = [o for o in outputs if o not in iface.returns]
        if missing:
            sub.fail(f"lacks the output(s) {', '.join(missing)}", "returns")
        wanted = ["d" + n for n in diff]
        lacking = [g for g in wanted if g not in (iface.gives if iface.backward else iface.returns)]
        if lacking:
            sub.fail(f"lacks the gradient(s) {', '.join(lacking)}" +
                     ("" if iface.backward else " (with no backward function, forward returns them)"),
                     "gives" if iface.backward else "returns")
        extra = [g for g in iface.gives if g not in wanted]
        if extra:
            sub.fail(f"{', '.join(extra)} is not a gradient of this exercise ({', '.join(wanted)})", "gives")
    if iface.style == "class" and iface.grads:
        unknown = [p for p in iface.grads if p not in ex.params]
        lacking = [p for p in ex.params if p not in iface.grads]
        if unknown or lacking:
            sub.fail(f"must name each parameter ({', '.join(ex.params) or 'none'}) once; "
                     f"{'unknown: ' + ', '.join(unknown) if unknown else 'missing: ' + ', '.join(lacking)}", "grads")
    for name, perm in iface.axes.items():
        if name not in known_arrays:
            sub.fail(f"names {name!r}, which is no array of this exercise ({', '.join(sorted(known_arrays))})",
                     "axes")
        for i, case in enumerate(ex.cases):
            if name in case.arrays and len(case.arrays[name].shape) != len(perm):
                sub.fail(f"{name}: {list(perm)} permutes {len(perm)} axes, but case {i}'s {name} has "
                         f"{len(case.arrays[name].shape)}", "axes")
    if iface.style == "config" or iface.config:
        given = {_PATH.match(p).group(1) for p in iface.config.values()}  # type: ignore[union-attr]
        for i, case in enumerate(ex.cases):
            lost = [k for k in {**ex.hyper, **case.hyper} if k not in given]
            if lost:
                sub.fail(f"case {i}: hyper-parameter(s) {', '.join(lost)} have no key in the config dict (it "
                         f"maps {', '.join(f'{k}: {v}' for k, v in iface.config.items()) or 'nothing'})",
                         "config" if sub.has("config") else "style")


def targets(ex: Exercise) -> list[str]:
    """Every ``module.name`` of the learner's code the exercise calls: its target, and a backward function
    (a notebook submission must define both)."""
    return [ex.target] + ([ex.interface.backward] if ex.interface is not None and ex.interface.backward else [])


def grads_in_place(ex: Exercise) -> bool:
    """Whether the learner's code owns ``self.grads`` arrays that backward must write into (the class
    protocol, its arrays seen as they are); functions return fresh gradients and attributes are rebound,
    which is their protocol."""
    iface = ex.interface
    return iface is None or (iface.style == "class" and not iface.grads and not any(p in iface.axes
                                                                                   for p in ex.params))


def compared_state(ex: Exercise, torch_name: str) -> bool:
    """Whether an optimizer's state entry (torch's name) is read from the learner's code: all of them in
    the class protocol, the mapped ones in a config dict."""
    return ex.interface is None or torch_name in ex.interface.state.values()


def wire(ex: Exercise) -> dict[str, Any]:
    """The interface as plan data for the child: plain names and lists, nothing to import."""
    iface = ex.interface
    assert iface is not None
    kind = KINDS[ex.kind]
    diff_inputs = [n for n in kind.differentiable(ex) if n not in ex.params]
    return {"style": iface.style, "forward": ex.target, "backward": iface.backward,
            "inputs": list(kind.inputs(ex, {})), "params": list(ex.params), "diff_inputs": diff_inputs,
            "outputs": output_keys(ex), "returns": list(iface.returns), "gives": list(iface.gives),
            "config_arg": iface.style == "functions" and bool(iface.config),
            "grads": dict(iface.grads), "state": {torch: theirs for theirs, torch in iface.state.items()},
            "axes": {k: list(v) for k, v in iface.axes.items()}}


def config_of(iface: Interface, hyper: dict[str, Any]) -> dict[str, Any]:
    """The learner's config dict for our hyper-parameters (``lr`` -> ``learning_rate``; ``betas[0]`` ->
    ``beta1``); a hyper-parameter the case omits stays out, so that the learner's default runs."""
    config = {}
    for their, ours in iface.config.items():
        name, index = _PATH.match(ours).groups()  # type: ignore[union-attr]
        if name not in hyper:
            continue
        value = hyper[name]
        if index is not None:
            if not isinstance(value, (list, tuple)) or int(index) >= len(value):
                continue
            value = value[int(index)]
        config[their] = value
    return config


def adapt(ex: Exercise, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The plan with every construction of the exercise's target adapted to its interface (loops too);
    unchanged for the class protocol and for other targets (a network's layers)."""
    if ex.interface is None:
        return steps
    spec = wire(ex)

    def one(step: dict[str, Any]) -> dict[str, Any]:
        if step.get("op") == "loop":
            return {**step, "body": [one(s) for s in step["body"]]}
        if step.get("op") != "new" or step.get("target") != ex.target:
            return step
        kwargs = step.get("kwargs", {})
        if ex.interface.config or ex.interface.style == "config":  # type: ignore[union-attr]
            kwargs = config_of(ex.interface, kwargs)  # type: ignore[arg-type]
        return {**step, "kwargs": kwargs, "interface": spec}

    return [one(s) for s in steps]
