"""Seeded input generation, kept away from kinks.

Each array depends only on (seed, exercise id, purpose, case index, array name), so the same case is
drawn again, bit for bit, on every run and in every process; and the grading seed never leaves the
trusted parent: the child only ever sees the arrays.
"""
from __future__ import annotations

import hashlib
import hmac

import numpy as np

from ..model.course import ArraySpec, Case, Exercise


def _seed_key(seed: int) -> bytes:
    """Every bit of the seed, sign included, as the HMAC key."""
    return seed.to_bytes((seed.bit_length() + 8) // 8 + 1, "big", signed=True)


def rng_for(seed: int, *labels: object) -> np.random.Generator:
    """A generator determined by the seed and a path of labels (exercise id, purpose, case, name).

    Derived with HMAC-SHA256 keyed by the whole seed over the length-prefixed labels: a leaked input
    reveals nothing that narrows the seed down faster than guessing all its bits, and ("a", "bc")
    never meets ("ab", "c")."""
    message = b"".join(len(b := str(lbl).encode()).to_bytes(8, "big") + b for lbl in labels)
    digest = hmac.new(_seed_key(seed), message, hashlib.sha256).digest()
    return np.random.default_rng(np.random.SeedSequence(int.from_bytes(digest, "big")))


def draw(spec: ArraySpec, rng: np.random.Generator, kinks: tuple[float, ...] = (), margin: float = 0.0) -> np.ndarray:
    """Draw one array; float entries closer than ``margin`` to a kink are pushed out of that band.

    Pushing (rather than redrawing) keeps the distribution close to uniform and the draw count fixed,
    so the result stays reproducible whatever the kinks are.
    """
    if spec.classes is not None:
        return rng.integers(0, spec.classes, size=spec.shape, dtype=np.int64)
    if spec.choices is not None:
        return rng.choice(np.array(spec.choices, dtype=np.float64), size=spec.shape)
    x = rng.uniform(spec.low, spec.high, size=spec.shape)
    for k in kinks:
        near = np.abs(x - k) < margin
        x = np.where(near, k + np.where(x >= k, margin, -margin) * (1.0 + rng.uniform(0, 1, size=x.shape)), x)
    return np.maximum(x, 0.0) if spec.relu else x


def case_arrays(ex: Exercise, case: Case, seed: int, purpose: str, index: int) -> dict[str, np.ndarray]:
    """All input arrays of one case. Parameters are drawn without kink margins (kinks concern inputs)."""
    out = {}
    hyper = {**ex.hyper, **case.hyper}
    # a named kink moves with the case's hyper-parameter; a case that omits it (the learner's default runs)
    # keeps away from the numeric kinks, where the course lists the default's kinks as numbers
    resolved = tuple(float(hyper[k]) if isinstance(k, str) else k for k in ex.kinks
                     if not isinstance(k, str) or k in hyper)
    for name, spec in case.arrays.items():
        rng = rng_for(seed, ex.id, purpose, index, name)
        kinks = () if name in ex.params else resolved
        out[name] = draw(spec, rng, kinks, ex.margin)
    return out


def upstream_gradient(shape: tuple[int, ...], seed: int, ex: Exercise, purpose: str, index: int,
                      name: str = "dout") -> np.ndarray:
    """The ``dout`` fed to a layer's backward: random, so that no entry of dx can hide behind a zero."""
    return rng_for(seed, ex.id, purpose, index, name).uniform(-1.0, 1.0, size=shape)
