"""The ``batching`` check: a mini-batch generator, judged by the properties of one epoch (no torch twin).

torch's DataLoader draws its own permutation, so no batch can be compared with torch's. Instead every
case of the exercise (its arrays ``X`` (N, D) and ``y`` (N,) give the shapes; its ``hyper`` the
``batch_size`` and ``shuffle``) is fed identifying data: row r of X is r*D, r*D+1, ..., r*D+D-1 and
y[r] = r, so every yielded row says which sample it is. The generator is drained with the ``collect``
op, in one call plan per case: with a seeded ``rng`` twice (same seed), with another seed, and twice
without ``rng``; then X and y are read back. One result per property:

- pairs: the generator yields (X_batch, y_batch) pairs of arrays, X_batch (B, D), y_batch (B,);
- every sample once: the epoch covers each sample exactly once (nothing dropped, nothing repeated);
- batch sizes: all batches full (batch_size) but the last, which holds the rest;
- X and y aligned: row j of X_batch is the sample y_batch[j] names;
- order kept (shuffle False): samples 0, 1, ..., N-1 in order;
- shuffled (shuffle True, N >= 20): not the original order;
- same seed, same batches: two calls with generators of one seed give identical batches;
- other seed, other order (N >= 20): the permutation comes from ``rng``, not a fixed seed or a cache;
- new order each call (N >= 20): two calls without ``rng`` give different orders;
- X and y unchanged: nothing was shuffled in place.
With N >= 20 a correct generator fails the order properties with probability at most 2/20! (< 1e-18).
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from ..kinds import plans
from ..kinds.inputs import rng_for
from ..model.course import CheckSpec
from ..model.results import FAIL, PASS, CaseResult
from ..model.values import Value
from ..sandbox.replies import Reply, StepFailure
from . import Context, failed_case, register
from .scripted import hint_of

MIN_SHUFFLE_N = 20
"""Below this many samples the order properties could fail by chance and are not judged."""

Batches = list[tuple[np.ndarray, np.ndarray]]


def _runs(sizes: list[int]) -> str:
    """``[32, 32, 32, 4]`` -> ``3 × 32, then 4``."""
    if not sizes:
        return "no batch at all"
    parts, i = [], 0
    while i < len(sizes):
        j = i
        while j < len(sizes) and sizes[j] == sizes[i]:
            j += 1
        parts.append(f"{j - i} × {sizes[i]}" if j - i > 1 else f"{sizes[i]}")
        i = j
    return ", then ".join(parts)


def _expected_sizes(n: int, batch_size: int) -> list[int]:
    return [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])


def _few(xs: list[int] | np.ndarray, k: int = 6) -> str:
    xs = [int(x) for x in xs]
    return ", ".join(map(str, xs[:k])) + (", ..." if len(xs) > k else "")


def parse(value: Value, d: int) -> Batches | str:
    """The yielded batches as (X_batch, y_batch) pairs, or why they are not such pairs."""
    if value.kind != "list":
        return f"the call gave {value.type}, expected a generator of (X_batch, y_batch) pairs"
    items = [i.arrays[0] for i in value.items]
    if len(items) % 2:
        return (f"the generator yielded {len(items)} arrays in all, not pairs: yield X_batch, y_batch (a tuple of "
                "two arrays) for each batch")
    out: Batches = []
    for b in range(0, len(items), 2):
        xb, yb = items[b], items[b + 1]
        k = b // 2
        if xb.ndim != 2 or xb.shape[1] != d:
            return f"batch {k}: X_batch has shape {xb.shape}, expected (B, {d}): yield (X_batch, y_batch) in that order"
        if yb.ndim != 1 or yb.shape[0] != xb.shape[0]:
            return f"batch {k}: y_batch has shape {yb.shape}, expected ({xb.shape[0]},) to match X_batch {xb.shape}"
        out.append((xb, yb))
    return out


def order(batches: Batches) -> np.ndarray:
    """The sample indices in the order yielded (from y)."""
    return np.concatenate([yb for _, yb in batches]).astype(np.int64) if batches else np.zeros(0, np.int64)


def check_once(batches: Batches, n: int, batch_size: int) -> tuple[bool, str]:
    got = order(batches)
    counts = np.bincount(np.clip(got, 0, n), minlength=n + 1)[:n] if got.size else np.zeros(n, np.int64)
    strange = got[(got < 0) | (got >= n)]
    missing, repeated = np.flatnonzero(counts == 0), np.flatnonzero(counts > 1)
    if not missing.size and not repeated.size and not strange.size:
        return True, f"all {n} samples, each exactly once"
    lines = [f"the epoch yielded {got.size} samples, expected each of the {n} exactly once"]
    if missing.size:
        lines.append(f"  missing: {missing.size} sample(s): {_few(missing)}")
    if repeated.size:
        lines.append(f"  repeated: {repeated.size} sample(s): {_few(repeated)} (up to {int(counts.max())} times)")
    if strange.size:
        lines.append(f"  y_batch holds {strange.size} value(s) that are no sample index of y: {_few(strange)}")
    rest = n % batch_size
    if rest and missing.size == rest and not repeated.size and got.size == n - rest:
        lines.append(f"  hint: the last, partial batch of {rest} sample(s) was dropped: keep it "
                     "(for start in range(0, N, batch_size))")
    elif repeated.size and missing.size:
        lines.append("  hint: samples drawn with replacement? take one permutation, order = rng.permutation(N), "
                     "and cut it into batches")
    return False, "\n".join(lines)


def check_sizes(batches: Batches, n: int, batch_size: int) -> tuple[bool, str]:
    sizes = [int(xb.shape[0]) for xb, _ in batches]
    want = _expected_sizes(n, batch_size)
    if sizes == want:
        return True, f"batch sizes {_runs(sizes)}"
    msg = f"batch sizes {_runs(sizes)}, expected {_runs(want)} (N = {n}, batch_size = {batch_size})"
    if sizes == want[:-1] and n % batch_size:
        msg += "\n  hint: the last, partial batch is missing: keep it, do not drop it"
    elif sizes and sizes[-1] == 0:
        msg += "\n  hint: an empty batch at the end: stop when start reaches N"
    elif len(sizes) == len(want) and sorted(sizes) != sorted(want):
        msg += "\n  hint: every batch but the last holds exactly batch_size samples"
    return False, msg


def check_aligned(batches: Batches, X: np.ndarray) -> tuple[bool, str]:
    n, d = X.shape
    for k, (xb, yb) in enumerate(batches):
        for j in range(xb.shape[0]):
            s = int(yb[j])
            if 0 <= s < n and np.array_equal(xb[j], X[s]):
                continue
            r = xb[j, 0] / d if d else -1
            ri = int(r) if float(r).is_integer() and 0 <= r < n else None
            holds = (f"sample {ri}'s features" if ri is not None and np.array_equal(xb[j], X[ri])
                     else f"a row that is no row of X ({_few(xb[j], 4)})")
            return False, (f"batch {k}, row {j}: X_batch holds {holds} but y_batch says sample {s}\n  hint: X and y "
                           "must be indexed with the SAME permutation: idx = order[start:start + batch_size]; "
                           "X[idx], y[idx]")
    return True, "every X_batch row belongs to its y_batch entry"


def _values(reply: Reply, step: int) -> Value | StepFailure:
    if reply.failure is not None and reply.failure.step <= step:
        return reply.failure
    return reply.values[step]


@register("batching")
def run(ctx: Context, spec: CheckSpec) -> Iterator[CaseResult]:
    for index in range(len(ctx.ex.cases)):
        ctx.at("case", index)
        yield from _case(ctx, index)


def _case(ctx: Context, index: int) -> Iterator[CaseResult]:
    ex = ctx.ex
    shapes = {k: v.shape for k, v in ex.cases[index].arrays.items()}
    n, d = shapes["X"][0], (shapes["X"][1] if len(shapes["X"]) > 1 else 1)
    hyper = ctx.hyper("case", index)
    batch_size, shuffle = int(hyper["batch_size"]), bool(hyper.get("shuffle", True))
    X = np.arange(n * d, dtype=np.float64).reshape(n, d)
    y = np.arange(n, dtype=np.int64)
    seed1 = int(rng_for(ctx.seed, ex.id, "batching", index).integers(1, 2**31))
    seed2 = seed1 + 1
    kw = {k: v for k, v in hyper.items() if k not in ("rng",)}
    def collect(extra: dict[str, Any]) -> dict[str, Any]:
        return plans.collect(ex.target, ["$X", "$y"], {**kw, **extra}, limit=2 * n + 10)

    steps = [collect({"rng": plans.rng(seed1)})]
    if shuffle:
        steps += [collect({"rng": plans.rng(seed1)}), collect({"rng": plans.rng(seed2)}), collect({}), collect({})]
    read_x, read_y = len(steps), len(steps) + 1
    steps += [plans.var("X"), plans.var("y")]
    reply = ctx.run(steps, {"X": X, "y": y})
    prefix = f"case {index} (N={n}, batch_size={batch_size}, shuffle={shuffle}) · "
    calls = {0: f"rng=default_rng({seed1})"}
    if shuffle:
        calls.update({1: f"rng=default_rng({seed1}) again", 2: f"rng=default_rng({seed2})", 3: "no rng",
                      4: "no rng, again"})

    parsed: dict[int, Batches | str | StepFailure] = {}
    for k in calls:
        v = _values(reply, k)
        parsed[k] = v if isinstance(v, StepFailure) else parse(v, d)

    def result(rule: str, needs: list[int], judge: Any) -> CaseResult:
        """Judge a property on the calls it needs; a failed or malformed call decides it first."""
        name = prefix + rule
        for k in needs:
            p = parsed[k]
            if isinstance(p, StepFailure):
                return failed_case(name, f"minibatches(X, y, {calls[k]})", p)
            if isinstance(p, str):
                return CaseResult(name, FAIL, f"{rule}: not judged: {p}", {"rule": rule})
        ok, message = judge(*[parsed[k] for k in needs])
        if ok:
            return CaseResult(name, PASS, message, {"rule": rule})
        return CaseResult(name, FAIL, f"{rule}: {message}", {"rule": rule, **hint_of(message)})

    all_calls = list(calls)
    yield result("pairs", all_calls, lambda *bs: (True, f"{len(bs[0])} (X_batch, y_batch) pairs per epoch"))

    def every_call(judge: Any) -> Any:
        def run_all(*bs: Batches) -> tuple[bool, str]:
            for k, b in zip(all_calls, bs):
                ok, msg = judge(b)
                if not ok:
                    return False, msg + (f"\n  (call with {calls[k]})" if len(all_calls) > 1 else "")
            return True, msg
        return run_all

    yield result("every sample once", all_calls, every_call(lambda b: check_once(b, n, batch_size)))
    yield result("batch sizes", all_calls, every_call(lambda b: check_sizes(b, n, batch_size)))
    yield result("X and y aligned", all_calls, every_call(lambda b: check_aligned(b, X)))
    if not shuffle:
        def kept(b: Batches) -> tuple[bool, str]:
            got = order(b)
            if np.array_equal(got, np.arange(n)):
                return True, "samples 0, 1, ..., N-1 in their original order"
            return False, (f"with shuffle=False the samples came as {_few(got, 8)}, expected 0, 1, 2, ... in order"
                           "\n  hint: shuffle only when shuffle is True")
        yield result("order kept", [0], kept)
    elif n >= MIN_SHUFFLE_N:
        def shuffled(b: Batches) -> tuple[bool, str]:
            got = order(b)
            if not np.array_equal(got, np.arange(got.size)):
                return True, f"shuffled: the epoch starts with samples {_few(got, 5)}"
            return False, ("with shuffle=True the samples came in their original order 0, 1, 2, ...\n  hint: draw "
                           "order = rng.permutation(N) and index X and y with it")
        yield result("shuffled", [0], shuffled)
    if shuffle:
        def same(a: Batches, b: Batches) -> tuple[bool, str]:
            if len(a) == len(b) and all(np.array_equal(xa, xb) and np.array_equal(ya, yb)
                                        for (xa, ya), (xb, yb) in zip(a, b)):
                return True, f"two generators seeded {seed1} gave identical batches"
            return False, (f"two calls, each with rng=np.random.default_rng({seed1}), gave different batches "
                           f"({_few(order(a), 4)} vs {_few(order(b), 4)})\n  hint: draw the permutation from the rng "
                           "argument (rng.permutation(N)), not from np.random or a new default_rng()")
        yield result("same seed, same batches", [0, 1], same)
    if shuffle and n >= MIN_SHUFFLE_N:
        def differ(a: Batches, b: Batches, what: str, hint: str) -> tuple[bool, str]:
            oa, ob = order(a), order(b)
            if not np.array_equal(oa, ob):
                return True, f"{what} gave different orders"
            return False, f"{what} gave the same order ({_few(oa, 5)})\n  hint: {hint}"
        yield result("other seed, other order", [0, 2], lambda a, b: differ(
            a, b, f"rng=default_rng({seed1}) and rng=default_rng({seed2})",
            "use the rng argument: a fixed seed (default_rng(0)) or a permutation kept from an earlier call gives "
            "every epoch the same order"))
        yield result("new order each call", [3, 4], lambda a, b: differ(
            a, b, "two calls without rng",
            "with rng=None draw from a fresh np.random.default_rng() at each call: a fixed seed or a stored "
            "permutation makes every epoch identical"))
    yield _unchanged(prefix, reply, read_x, read_y, X, y)


def _unchanged(prefix: str, reply: Reply, read_x: int, read_y: int, X: np.ndarray, y: np.ndarray) -> CaseResult:
    name = prefix + "X and y unchanged"
    changed = []
    for label, step, original in (("X", read_x, X), ("y", read_y, y)):
        v = _values(reply, step)
        if isinstance(v, StepFailure):
            return failed_case(name, "minibatches", v)
        if not (v.kind == "array" and v.arrays[0].shape == original.shape and np.array_equal(v.arrays[0], original)):
            changed.append(label)
    if not changed:
        return CaseResult(name, PASS, "X and y left unchanged", {"rule": "X and y unchanged"})
    which = " and ".join(changed)
    message = (f"X and y unchanged: {which} changed in place (rows reordered?)\n  hint: shuffle an index array, "
               "order = rng.permutation(N), and yield X[idx], y[idx]; never rng.shuffle(X)")
    return CaseResult(name, FAIL, message, {"rule": "X and y unchanged", **hint_of(message)})
