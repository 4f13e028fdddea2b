"""The ``statistics`` check: weight initializers, judged by the law of the numbers they draw.

An initializer is a function ``f(fan_in, fan_out, rng, **options) -> W`` with W of shape
(fan_in, fan_out), float64: the course's Affine convention (W is (D_in, D_out)), so fan_in = W.shape[0].
torch keeps the same weight transposed, (fan_out, fan_in), and reads its fan_in from shape[1].
There is no deterministic reference: the exercise's ``reference`` names a law of :data:`LAWS`
(uniform_fan_in, glorot_uniform, glorot_normal, he_normal, he_uniform, orthogonal, sparse), and each
case (hyper-parameters only: fan_in, fan_out and options such as gain, a, k, std) is judged like this.

The child calls f R times, each with a fresh ``numpy.random.Generator`` (``{"$rng": s_r}``, seeds
derived from the grading seed in the parent), R >= 1 and large enough that the case pools at least
N_MIN samples (at most MAX_CALLS calls: one 256x512 call is enough), then three times on a small
(fan_in, RNG_FAN_OUT) matrix: with s_1, s_1 again, and another seed. One CaseResult per test:

- shape and dtype: every result is a float64 array of shape (fan_in, fan_out);
- uses the rng it is given: the small call repeated with s_1 returns the same matrix (draws from
  np.random's global state, or from a generator of one's own, do not). Such draws are still judged by
  the tests below;
- a new seed gives a new matrix (the small calls with s_1 and another seed differ);
- within [-a, a] (uniform laws): every sample inside the bounds (exact: no false alarm);
- mean: z = mean / sqrt(m2 / n) with |z| <= Z, m2 = mean(w**2): studentized by the samples' own spread,
  so that a wrong scale is reported by the variance test alone;
- variance: the mean is known (0), so m2 = mean(w**2), z = (m2 - var) / sqrt((mu4 - var**2) / n),
  |z| <= Z (mu4 = E w**4 of the law);
- distribution: Kolmogorov-Smirnov distance D = sup |F_n - F| to the exact law,
  D <= sqrt(ln(2 / KS_ALPHA) / (2 n));
- orthogonal: W^T W = gain**2 I (fan_in >= fan_out: orthonormal columns) or W W^T = gain**2 I (rows),
  to within ORTHO_TOL * gain**2 (exact up to round-off); its mean and distribution are tested too (an
  entry of a Haar-random orthogonal matrix is gain * t, (t + 1) / 2 ~ Beta((m-1)/2, (m-1)/2),
  m = max(fan_in, fan_out));
- sparse (Martens 2010): exactly k non-zeros in every column (the weights into one output unit; exact),
  their rows spread uniformly (chi-square of the row counts), and the non-zeros N(0, std**2) (mean,
  variance, distribution tests on the non-zeros only).

Thresholds and false-alarm probabilities, per test, for a correct initializer:

- Z = 6: P(|N(0,1)| > 6) = 2.0e-9. The mean (studentized) and second moment pool n >= N_MIN = 50000 iid samples
  (never fewer than N_FLOOR = 20000: a case that MAX_CALLS calls cannot bring there is a course error),
  where the normal approximation is good far below 1e-6: for a normal law, n * m2 / var is exactly
  chi-square(n), whose tails outside n +- 6 sqrt(2n) hold 3e-9 at n = 20000 (tests/test_statistics.py
  checks it).
- KS_ALPHA = 1e-7: by the Dvoretzky-Kiefer-Wolfowitz inequality with Massart's constant,
  P(D > eps) <= 2 exp(-2 n eps**2) for every n, so the bound is rigorous for iid samples. The entries of
  one orthogonal matrix are exchangeable, not independent (each column has norm 1), which makes their
  empirical distribution less variable, not more (checked on torch's orthogonal_ in the tests).
- rows spread (sparse): X2 = sum (c_r - e)**2 / e over the fan_in row counts must stay below the
  Wilson-Hilferty 6-sigma quantile of chi-square(fan_in - 1) (about 2e-9). Drawing each column's k rows
  without replacement makes X2 smaller than chi-square (its mean is fan_in - k), so this is conservative.

Power: with n >= 20000, a factor 2 on the scale (variance x4, or x1/4) moves the variance z by more than
70, a wrong fan (fan_out for fan_in, the fans differing by 2x: variance x2 or x1/2) by more than 35; the
same errors put half of a uniform law's mass outside [-a, a] (or leave half of [-a, a] empty) and
move the KS distance far beyond its bound (0.021 at n = 20000, 0.013 at n = 50000).

Why one module: each initializer's law and the tests that hold it to a false-alarm rate below
1e-6 are read together; split, the bounds would sit apart from the laws they were derived for.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Iterator

import numpy as np

from ..kinds import plans
from ..kinds.inputs import rng_for
from ..model.course import CheckSpec
from ..model.errors import CourseError
from ..model.results import FAIL, PASS, CaseResult
from ..model.values import Value
from . import Context, failed_case, register

Z = 6.0
"""Two-sided z bound of the mean and variance tests: P(|N(0,1)| > 6) = 2.0e-9."""
KS_ALPHA = 1e-7
"""False-alarm probability of the Kolmogorov-Smirnov test (DKW-Massart bound, any n)."""
ORTHO_TOL = 1e-8
"""Largest |W^T W / gain**2 - I| entry accepted (QR in float64 leaves about 1e-14)."""
N_MIN = 50_000
"""Samples pooled per case: calls are added until there are this many (sparse: non-zeros)."""
MAX_CALLS = 64
"""Most calls per case."""
N_FLOOR = 20_000
"""Fewest samples a case may pool (a case that cannot reach them in MAX_CALLS calls is a course error)."""
PLAN_ELEMENTS = 2**17
"""Calls are sent in plans of about this many returned numbers (1 MiB), at least one call each: a reply's
cost grows faster than its size (the parent re-parses the whole reply whenever a chunk arrives), and
each plan gets the per-call timeout of its own."""

Hyper = dict[str, Any]


def ks_bound(n: int) -> float:
    """The KS distance a correct law exceeds with probability at most KS_ALPHA, for n iid samples."""
    return math.sqrt(math.log(2.0 / KS_ALPHA) / (2 * max(n, 1)))


def ks_distance(samples: np.ndarray, cdf: Callable[[np.ndarray], np.ndarray]) -> float:
    """sup |F_n(x) - F(x)| for the empirical distribution F_n of the samples."""
    x = np.sort(np.asarray(samples, dtype=np.float64).ravel())
    n = x.size
    f = cdf(x)
    i = np.arange(1, n + 1)
    return float(max(np.max(i / n - f), np.max(f - (i - 1) / n)))


def chi2_upper(df: int, z: float = Z) -> float:
    """The Wilson-Hilferty approximation of chi-square(df)'s quantile z standard deviations up."""
    c = 2.0 / (9.0 * df)
    return df * (1.0 - c + z * math.sqrt(c)) ** 3


@lru_cache(maxsize=1)
def _standard_normal_grid() -> tuple[np.ndarray, np.ndarray]:
    """Phi on 40001 points of [-10, 10], from math.erf: linear interpolation is exact to 1e-8."""
    u = np.linspace(-10.0, 10.0, 40_001)
    return u, np.array([0.5 * (1.0 + math.erf(v / math.sqrt(2.0))) for v in u])


def _normal_cdf(std: float) -> Callable[[np.ndarray], np.ndarray]:
    u, phi = _standard_normal_grid()
    return lambda x: np.interp(np.asarray(x) / std, u, phi)


def _sphere_cdf(m: int, gain: float) -> Callable[[np.ndarray], np.ndarray]:
    """CDF of gain * t, t one coordinate of a uniform unit vector of R^m: density of t proportional to
    (1 - t**2)**((m-3)/2); with t = sin(theta) it is cos(theta)**(m-2), smooth for every m >= 2, and its
    cumulative trapezoid on 200001 points is exact to about 1e-10."""
    theta, cum = _sphere_grid(m)
    return lambda x: np.interp(np.arcsin(np.clip(np.asarray(x) / gain, -1.0, 1.0)), theta, cum)


@lru_cache(maxsize=8)
def _sphere_grid(m: int) -> tuple[np.ndarray, np.ndarray]:
    theta = np.linspace(-math.pi / 2, math.pi / 2, 200_001)
    with np.errstate(divide="ignore"):
        logd = (m - 2) * np.log(np.maximum(np.cos(theta), 0.0))
    d = np.exp(logd - logd.max())
    cum = np.concatenate([[0.0], np.cumsum((d[1:] + d[:-1]) / 2)])
    cum /= cum[-1]
    return theta, cum


# --------------------------------------------------------------------------- the laws


@dataclass(frozen=True)
class Law:
    """One initializer's law of W's entries (the non-zero ones for sparse), as functions of the case.

    ``scale`` is the bound a of U(-a, a) (uniform), the standard deviation (normal, sparse) or the gain
    (orthogonal); every law has mean 0."""

    family: str
    """uniform, normal, orthogonal or sparse."""
    scale: Callable[[Hyper], float]
    scale_text: str
    variance_text: str
    torch: str
    """The torch.nn.init equivalent, on torch's (fan_out, fan_in) weight."""
    options: dict[str, float] = field(default_factory=dict)
    """Keyword options and their defaults (gain, a, std; k has none)."""
    alternatives: tuple[tuple[Callable[[Hyper], float], str], ...] = ()
    """Variances of common mistakes, each with the hint that names it."""

    def complete(self, hyper: Hyper) -> Hyper:
        h = {**self.options, **hyper}
        missing = [k for k in ("fan_in", "fan_out", *(("k",) if self.family == "sparse" else ())) if k not in h]
        if missing:
            raise CourseError(f"the {self.family} law needs hyper-parameter(s) {', '.join(missing)}")
        return h

    def mean(self, h: Hyper) -> float:
        return 0.0

    def variance(self, h: Hyper) -> float:
        s = self.scale(h)
        if self.family == "uniform":
            return s * s / 3.0
        if self.family == "orthogonal":
            return s * s / max(h["fan_in"], h["fan_out"])
        return s * s

    def fourth_moment(self, h: Hyper) -> float:
        """E w**4: a**4 / 5 for U(-a, a), 3 std**4 for a normal law, 3 gain**4 / (m (m + 2)) on the sphere."""
        s = self.scale(h)
        if self.family == "uniform":
            return s**4 / 5.0
        if self.family == "orthogonal":
            m = max(h["fan_in"], h["fan_out"])
            return 3.0 * s**4 / (m * (m + 2))
        return 3.0 * s**4

    def bounds(self, h: Hyper) -> tuple[float, float] | None:
        s = self.scale(h)
        return (-s, s) if self.family in ("uniform", "orthogonal") else None

    def cdf(self, h: Hyper) -> Callable[[np.ndarray], np.ndarray]:
        s = self.scale(h)
        if self.family == "uniform":
            return lambda x: np.clip((np.asarray(x) + s) / (2 * s), 0.0, 1.0)
        if self.family == "orthogonal":
            return _sphere_cdf(max(h["fan_in"], h["fan_out"]), s)
        return _normal_cdf(s)

    def describe(self, h: Hyper) -> str:
        """The law in words, with its numbers: ``U(-a, a), a = sqrt(6/(fan_in+fan_out)) = 0.0884``."""
        s = self.scale(h)
        if self.family == "uniform":
            return f"U(-a, a), a = {self.scale_text} = {s:.4g}"
        if self.family == "orthogonal":
            return f"an entry of a random orthogonal matrix times gain = {s:.4g}"
        if self.family == "sparse":
            return f"N(0, std**2), std = {s:.4g}"
        return f"N(0, std**2), std = {self.scale_text} = {s:.4g}"


def _he_gain(h: Hyper) -> float:
    return math.sqrt(2.0 / (1.0 + float(h["a"]) ** 2))


_GLOROT_ALTS = (
    (lambda h: h["gain"] ** 2 / h["fan_in"], "that is the variance with fan_in alone (as LeCun or He); Glorot "
     "uses the average of both fans: var = gain**2 * 2/(fan_in+fan_out)"),
    (lambda h: h["gain"] ** 2 / h["fan_out"], "that is the variance with fan_out alone; Glorot uses the "
     "average of both fans: var = gain**2 * 2/(fan_in+fan_out)"),
)
_HE_ALTS = (
    (lambda h: 1.0 / h["fan_in"], "that is 1/fan_in: the gain sqrt(2/(1+a**2)) (sqrt(2) for ReLU) forgotten?"),
    (lambda h: _he_gain(h) ** 2 * 2.0 / (h["fan_in"] + h["fan_out"]),
     "that is the variance with the average of the fans (as Glorot); He uses fan_in alone"),
)

LAWS: dict[str, Law] = {
    "uniform_fan_in": Law(
        "uniform", lambda h: 1.0 / math.sqrt(h["fan_in"]), "1/sqrt(fan_in)", "1/(3 fan_in)",
        "torch.nn.init.kaiming_uniform_(w, a=math.sqrt(5)) (nn.Linear's default)"),
    "glorot_uniform": Law(
        "uniform", lambda h: h["gain"] * math.sqrt(6.0 / (h["fan_in"] + h["fan_out"])),
        "gain * sqrt(6/(fan_in+fan_out))", "gain**2 * 2/(fan_in+fan_out)",
        "torch.nn.init.xavier_uniform_(w, gain)", {"gain": 1.0}, _GLOROT_ALTS),
    "glorot_normal": Law(
        "normal", lambda h: h["gain"] * math.sqrt(2.0 / (h["fan_in"] + h["fan_out"])),
        "gain * sqrt(2/(fan_in+fan_out))", "gain**2 * 2/(fan_in+fan_out)",
        "torch.nn.init.xavier_normal_(w, gain)", {"gain": 1.0}, _GLOROT_ALTS),
    "he_normal": Law(
        "normal", lambda h: _he_gain(h) / math.sqrt(h["fan_in"]), "sqrt(2/((1+a**2) fan_in))",
        "2/((1+a**2) fan_in)",
        "torch.nn.init.kaiming_normal_(w, a, mode='fan_in', nonlinearity='leaky_relu')", {"a": 0.0}, _HE_ALTS),
    "he_uniform": Law(
        "uniform", lambda h: _he_gain(h) * math.sqrt(3.0 / h["fan_in"]), "sqrt(6/((1+a**2) fan_in))",
        "2/((1+a**2) fan_in)",
        "torch.nn.init.kaiming_uniform_(w, a, mode='fan_in', nonlinearity='leaky_relu')", {"a": 0.0}, _HE_ALTS),
    "orthogonal": Law(
        "orthogonal", lambda h: float(h["gain"]), "gain", "gain**2/max(fan_in, fan_out)",
        "torch.nn.init.orthogonal_(w, gain)", {"gain": 1.0}),
    "sparse": Law(
        "sparse", lambda h: float(h["std"]), "std", "std**2",
        "torch.nn.init.sparse_ on a (fan_in, fan_out) tensor with sparsity (fan_in - k - 0.5)/fan_in "
        "(k non-zeros per column)", {"std": 0.01},
        ((lambda h: h["std"], "that is std, not std**2: the standard deviation used as the variance?"),)),
}


TESTS: dict[str, tuple[str, ...]] = {
    "uniform": ("shape and dtype", "uses the rng it is given", "a new seed gives a new matrix", "within [-a, a]",
                "mean", "variance", "distribution"),
    "normal": ("shape and dtype", "uses the rng it is given", "a new seed gives a new matrix", "mean", "variance",
               "distribution"),
    "orthogonal": ("shape and dtype", "uses the rng it is given", "a new seed gives a new matrix",
                   "orthonormal times gain", "mean", "distribution"),
    "sparse": ("shape and dtype", "uses the rng it is given", "a new seed gives a new matrix",
               "k non-zeros per column", "non-zeros spread over the rows", "mean", "variance", "distribution"),
}
"""The tests of each family, in report order: every case yields exactly these, whatever happens."""
RULES = {"shape and dtype": "shape", "uses the rng it is given": "rng", "a new seed gives a new matrix": "fresh",
         "within [-a, a]": "bounds", "mean": "mean", "variance": "variance", "distribution": "distribution",
         "orthonormal times gain": "orthogonal", "k non-zeros per column": "k per column",
         "non-zeros spread over the rows": "rows spread"}
"""Each test's key in its CaseResult's details["rule"]."""


def law_for(name: str) -> Law:
    if name not in LAWS:
        raise CourseError(f"the statistics check knows no law {name!r} (the exercise's reference); known: "
                          f"{', '.join(LAWS)}")
    return LAWS[name]


# --------------------------------------------------------------------------- hints


def _fans(h: Hyper, law: Law) -> str:
    extra = "".join(f", {k} {h[k]:g}" for k in (*law.options, *(("k",) if law.family == "sparse" else ()))
                    if k in h and isinstance(h[k], (int, float)))
    return f"fan_in {h['fan_in']}, fan_out {h['fan_out']}{extra}"


def _ratio_words(r: float) -> str:
    if r >= 1:
        return f"{r:.3g} times too large"
    return f"{1 / r:.3g} times too small" if r > 0 else "all zero"


def scale_hint(ratio: float, law: Law, h: Hyper) -> str:
    """The likeliest mistake behind a variance ``ratio`` times the law's (within 10%), or ''.

    Mistakes of this law (a swapped fan, a forgotten gain...) come first, then generic factors."""
    cands: list[tuple[float, str]] = []
    expected = law.variance(h)
    swapped = {**h, "fan_in": h["fan_out"], "fan_out": h["fan_in"]}
    r_swap = law.variance(swapped) / expected
    if abs(math.log(r_swap)) > math.log(1.3):
        cands.append((r_swap, f"that is the variance with fan_out ({h['fan_out']}) in place of fan_in "
                              f"({h['fan_in']}): W has shape (fan_in, fan_out), so fan_in = W.shape[0] "
                              "(torch's weight is (fan_out, fan_in): there fan_in is shape[1])"))
    cands += [(alt(h) / expected, text) for alt, text in law.alternatives]
    gain = float(h.get("gain", 1.0))
    if abs(gain) != 1.0 and gain != 0.0:
        cands += [(1.0 / gain**2, f"that is the law without the gain ({gain:g}): multiply by gain"),
                  (gain**2, f"that is the gain ({gain:g}) applied twice")]
    window = math.log(1.1)
    if not ratio > 0 or not math.isfinite(ratio):
        return ""
    generic = [
        (4.0, "a factor 2 on the standard deviation (or on the bound)?"),
        (0.25, "half the standard deviation (or the bound)?"),
        (2.0, "a factor 2 on the variance (sqrt(2) on the standard deviation)?"),
        (0.5, "half the variance (a factor 1/sqrt(2) on the standard deviation)?"),
        (3.0, "a uniform bound used as a standard deviation? U(-a, a) has variance a**2/3"),
        (1 / 3, "a standard deviation used as a uniform bound? U(-a, a) has variance a**2/3, so a = sqrt(3) std"),
    ]
    matches = [text for c, text in [*cands, *generic] if abs(math.log(ratio / c)) < window]
    # the fans of one case may not tell two mistakes apart: name the first two (other cases will tell)
    return "; or ".join(list(dict.fromkeys(matches))[:2])


def _with_hint(message: str, hint: str) -> str:
    return f"{message}\n  hint: {hint}" if hint else message


# --------------------------------------------------------------------------- the tests


def _result(name: str, ok: bool, message: str, rule: str, **numbers: Any) -> CaseResult:
    details: dict[str, Any] = {"rule": rule}
    details.update({k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in numbers.items()})
    return CaseResult(name, PASS if ok else FAIL, message, details)


def _array(v: Value) -> np.ndarray | None:
    return v.arrays[0] if v.kind == "array" and len(v.arrays) == 1 else None


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


def _describe(v: Value) -> str:
    a = _array(v)
    return f"an array of shape {a.shape} and dtype {a.dtype}" if a is not None else v.type


def _shape_test(values: list[Value], shape: tuple[int, int]) -> tuple[bool, str]:
    for v in values:
        a = _array(v)
        if v.kind == "none":
            return False, "returned None, expected a numpy array (forgot a return statement?)"
        if a is None:
            return False, f"returned {_describe(v)}, expected a float64 numpy array of shape {shape}"
        if a.shape != shape:
            msg = f"returned shape {a.shape}, expected (fan_in, fan_out) = {shape}"
            if a.shape == shape[::-1]:
                msg += ("\n  hint: transposed: the course's W is (fan_in, fan_out) = (D_in, D_out), x @ W; "
                        "torch's weight is (fan_out, fan_in)")
            return False, msg
        if a.dtype != np.float64:
            return False, f"returned dtype {a.dtype}, expected float64"
    return True, f"{len(values)} calls returned float64 arrays of shape {shape}"


def _moment_tests(name: str, law: Law, h: Hyper, w: np.ndarray, what: str,
                  tests: tuple[str, ...]) -> Iterator[CaseResult]:
    """mean, variance (where listed) and distribution of the pooled samples w."""
    n = w.size
    fans = _fans(h, law)
    var = law.variance(h)
    if n == 0:
        for t in ("mean", "variance", "distribution"):
            if t in tests:
                yield _result(f"{name}{t}", False, f"no {what} to judge", RULES[t])
        return
    mean = float(np.mean(w))
    m2 = float(np.mean(w * w))
    se = math.sqrt(m2 / n)  # the samples' own spread: a wrong scale is the variance test's to report
    z = mean / se if se > 0 else 0.0
    msg = f"mean of {n} {what} {mean:.4g}, expected 0 (standard error {se:.3g}; z = {z:.2f}, allowed |z| <= {Z:g})"
    hint = "" if abs(z) <= Z else ("draws are not centred on 0: rng.uniform(-a, a) or rng.normal(0, std), not "
                                  "rng.uniform(0, a) or rng.random()")
    yield _result(f"{name}mean", abs(z) <= Z, _with_hint(msg, hint), "mean", measured=mean, expected=0.0, z=z,
                  threshold=Z, n=n)
    if "variance" in tests:
        sd = math.sqrt(max(law.fourth_moment(h) - var * var, 0.0) / n)
        z = (m2 - var) / sd if sd > 0 else (0.0 if m2 == var else math.inf)
        ok = abs(z) <= Z
        if ok:
            msg = f"variance {m2:.4g}, expected {law.variance_text} = {var:.4g} ({fans}; z = {z:.2f}, allowed " \
                  f"|z| <= {Z:g})"
        else:
            msg = f"variance {m2:.4g}, expected {law.variance_text} = {var:.4g} ({fans}): " \
                  f"{_ratio_words(m2 / var)} (z = {z:.3g}, allowed |z| <= {Z:g}, n = {n})"
        yield _result(f"{name}variance", ok, _with_hint(msg, "" if ok else scale_hint(m2 / var, law, h)),
                      "variance", measured=m2, expected=var, ratio=m2 / var, z=z, threshold=Z, n=n)
    d = ks_distance(w, law.cdf(h))
    bound = ks_bound(n)
    ok = d <= bound
    msg = f"Kolmogorov-Smirnov distance of {n} {what} to {law.describe(h)} is {d:.4g} (allowed {bound:.4g}, " \
          f"false-alarm probability {KS_ALPHA:g})"
    hint = ""
    if not ok:
        kurt = float(np.mean(w**4)) / m2**2 if m2 > 0 else 0.0
        if law.family == "uniform" and abs(kurt - 3.0) < 0.3:
            hint = "the samples look normal (kurtosis {:.2f}): rng.uniform(-a, a) is asked for".format(kurt)
        elif law.family in ("normal", "sparse") and abs(kurt - 1.8) < 0.2:
            hint = "the samples look uniform (kurtosis {:.2f}): rng.normal(0, std) is asked for".format(kurt)
        elif m2 > 0:
            hint = scale_hint(m2 / var, law, h)
    yield _result(f"{name}distribution", ok, _with_hint(msg, hint), "distribution", measured=d, threshold=bound,
                  n=n)


def _bounds_test(name: str, law: Law, h: Hyper, w: np.ndarray) -> CaseResult:
    lo, hi = law.bounds(h)  # type: ignore[misc]
    a = hi
    slack = 1e-12 * a
    outside = int(np.sum((w < lo - slack) | (w > hi + slack)))
    top = float(np.max(np.abs(w))) if w.size else 0.0
    if not outside:
        return _result(f"{name}within [-a, a]", True, f"all {w.size} samples lie in [-a, a], a = {law.scale_text} = "
                       f"{a:.4g} ({_fans(h, law)})", "bounds", measured=top, expected=a)
    msg = f"{outside}/{w.size} samples lie outside [-a, a], a = {law.scale_text} = {a:.4g} ({_fans(h, law)}); " \
          f"the largest |w| is {top:.4g} = {top / a:.3g} a"
    return _result(f"{name}within [-a, a]", False, _with_hint(msg, scale_hint((top / a) ** 2, law, h)), "bounds",
                   measured=top, expected=a, outside=outside)


def _orthogonal_test(name: str, law: Law, h: Hyper, mats: list[np.ndarray]) -> CaseResult:
    gain = law.scale(h)
    cols = h["fan_in"] >= h["fan_out"]
    what, gram = ("columns", "W^T W") if cols else ("rows", "W W^T")
    worst, worst_g = -1.0, None
    for w in mats:
        g = w.T @ w if cols else w @ w.T
        dev = float(np.max(np.abs(g / gain**2 - np.eye(g.shape[0]))))
        if not dev <= worst:
            worst, worst_g = dev, g
    if worst <= ORTHO_TOL:
        return _result(f"{name}orthonormal times gain", True, f"{gram} = gain**2 I to within {worst:.2g} in all "
                       f"{len(mats)} calls: the {what} are orthogonal with norm gain = {gain:g}", "orthogonal",
                       measured=worst, threshold=ORTHO_TOL)
    g = worst_g
    diag = np.diag(g)
    off = float(np.max(np.abs(g - np.diag(diag)))) if g.shape[0] > 1 else 0.0
    c = float(np.mean(diag))
    if off <= ORTHO_TOL * max(abs(c), gain**2) and np.allclose(diag, c, rtol=1e-8, atol=0):
        msg = f"the {what} are orthogonal but {gram} = {c:.4g} I, expected gain**2 I = {gain**2:.4g} I"
        hint = ("multiply the orthonormal matrix by gain" if abs(c - 1.0) < 1e-8 else
                f"scale the orthonormal {what} by gain, once: their norm must be {gain:g}")
    else:
        msg = f"{gram} differs from gain**2 I = {gain**2:.4g} I by up to {worst * gain**2:.3g} (allowed " \
              f"{ORTHO_TOL:g} relative): the {what} are not orthonormal ({_fans(h, law)})"
        hint = ("for fan_in >= fan_out the (fan_in, fan_out) columns must be orthonormal; for fan_in < fan_out "
                "the rows: take Q of the QR decomposition of a Gaussian matrix (transpose when fan_in < fan_out)")
    return _result(f"{name}orthonormal times gain", False, _with_hint(msg, hint), "orthogonal", measured=worst,
                   threshold=ORTHO_TOL)


def _sparse_tests(name: str, law: Law, h: Hyper, mats: list[np.ndarray]) -> Iterator[CaseResult]:
    k, fan_in = int(h["k"]), int(h["fan_in"])
    nz = [w != 0 for w in mats]
    per_col = np.concatenate([m.sum(axis=0) for m in nz])
    if np.all(per_col == k):
        yield _result(f"{name}k non-zeros per column", True, f"every column of all {len(mats)} matrices has exactly "
                      f"k = {k} non-zeros", "k per column")
    else:
        per_row = np.concatenate([m.sum(axis=1) for m in nz])
        msg = f"columns hold {per_col.min()} to {per_col.max()} non-zeros (mean {per_col.mean():.3g}), expected " \
              f"exactly k = {k} in every column ({_fans(h, law)})"
        if np.all(per_row == k):
            hint = ("every ROW has k non-zeros: column j of W holds the weights into output unit j, and each unit "
                    "gets k incoming connections")
        else:
            hint = "choose k distinct rows per column (rng.choice(fan_in, k, replace=False)) and fill only those"
        yield _result(f"{name}k non-zeros per column", False, _with_hint(msg, hint), "k per column",
                      measured=[int(per_col.min()), int(per_col.max())], expected=k)
    counts = np.sum([m.sum(axis=1) for m in nz], axis=0).astype(np.float64)
    total = float(counts.sum())
    e = total / fan_in
    if fan_in < 2 or k >= fan_in:
        yield _result(f"{name}non-zeros spread over the rows", True, "every row is used (k = fan_in)", "rows spread")
        return
    x2 = float(np.sum((counts - e) ** 2) / e) if e > 0 else math.inf
    limit = chi2_upper(fan_in - 1)
    ok = x2 <= limit
    msg = f"chi-square of the {fan_in} row counts of the non-zeros: {x2:.4g} (allowed {limit:.4g}; expected count " \
          f"{e:.4g} per row over {len(mats)} matrices)"
    if not ok:
        msg += f"; rows hold {int(counts.min())} to {int(counts.max())}"
    yield _result(f"{name}non-zeros spread over the rows", ok, _with_hint(msg, "" if ok else
                  "draw the k rows of every column at random, independently for each column"), "rows spread",
                  measured=x2, threshold=limit)


def _calls_needed(law: Law, h: Hyper) -> int:
    per_call = h["fan_in"] * h["fan_out"] if law.family != "sparse" else int(h["k"]) * h["fan_out"]
    if per_call * MAX_CALLS < N_FLOOR:
        what = "fan_in * fan_out" if law.family != "sparse" else "k * fan_out"
        raise CourseError(f"a statistics case with {_fans(h, law)} gives {what} = {per_call} samples a call: "
                          f"{MAX_CALLS} calls cannot reach the {N_FLOOR} the tests' false-alarm rates assume")
    return int(min(MAX_CALLS, max(1, math.ceil(N_MIN / max(per_call, 1)))))


RNG_FAN_OUT = 8
"""fan_out of the three small calls of the rng tests (the same seed twice, then another seed): whether
the matrix follows the generator shows at any size, so they need not repeat a full call."""


def seeds_for(seed: int, ex_id: str, purpose: str, index: int, calls: int) -> list[int]:
    """Distinct generator seeds of one case's calls, derived from the grading seed (never sent itself)."""
    base = int(rng_for(seed, ex_id, "statistics", purpose, index).integers(0, 2**62))
    return [base + r for r in range(calls)]


def judge_case(ctx: Context, law: Law, hyper: Hyper, seeds: list[int], name: str) -> Iterator[CaseResult]:
    """Call the initializer once per seed (the samples pooled), then three times on a small matrix
    (fan_out RNG_FAN_OUT): the rng tests; yield the family's tests."""
    ex = ctx.ex
    h = law.complete(hyper)
    fan_in, fan_out = int(h["fan_in"]), int(h["fan_out"])
    h["fan_in"], h["fan_out"] = fan_in, fan_out
    options = {k: v for k, v in hyper.items() if k not in ("fan_in", "fan_out")}
    small = min(fan_out, max(RNG_FAN_OUT, int(h.get("k", 0))))  # sparse: k columns at least (a k-per-row bug)
    other = seeds[-1] + 1  # distinct from every seed of the case (seeds_for: consecutive)
    steps = [plans.func(ex.target, [fan_in, fan_out, plans.rng(s)], options) for s in seeds]
    tests = TESTS[law.family]
    per_plan = max(1, PLAN_ELEMENTS // (fan_in * fan_out))
    got: list[Value] = []
    for start in range(0, len(steps), per_plan):
        reply = ctx.run(steps[start:start + per_plan], {})
        if reply.failure is not None:
            for t in tests:
                yield failed_case(name + t, "call", reply.failure)
            return
        got += reply.values
    values = got
    shape = (fan_in, fan_out)
    ok, msg = _shape_test(values, shape)
    yield _result(name + "shape and dtype", ok, msg, "shape")

    reply = ctx.run([plans.func(ex.target, [fan_in, small, plans.rng(s)], options)
                     for s in (seeds[0], seeds[0], other)], {})
    first, again, second = (None, None, None) if reply.failure else (_array(v) for v in reply.values)
    if reply.failure is not None:  # the law is still judged on the full calls below
        for t in ("uses the rng it is given", "a new seed gives a new matrix"):
            yield failed_case(name + t, f"call with fan_in {fan_in}, fan_out {small}", reply.failure)
    elif first is None or again is None or second is None:
        for t in ("uses the rng it is given", "a new seed gives a new matrix"):
            yield _result(name + t, False, "not judged: the calls did not all return numpy arrays", RULES[t])
    else:
        same = _same(first, again)
        yield _result(name + "uses the rng it is given", same,
                      "the same seed gave the same matrix" if same else
                      "two calls with generators of the same seed returned different matrices\n  hint: draw every "
                      "random number from the rng argument (rng.uniform, rng.normal, rng.permutation...), never "
                      "from np.random's global functions or a generator of your own", "rng")
        fresh = not _same(first, second)
        yield _result(name + "a new seed gives a new matrix", fresh,
                      "generators of different seeds gave different matrices" if fresh else
                      "generators of different seeds gave the same matrix: the result must be random, drawn from "
                      "rng", "fresh")

    arrays = [_array(v) for v in values]
    usable = all(a is not None and a.size == fan_in * fan_out and a.dtype.kind in "fiu" for a in arrays)
    rest = tests[3:]
    if not usable:
        for t in rest:
            yield _result(name + t, False, "not judged: the calls did not all return arrays of "
                          f"fan_in * fan_out = {fan_in * fan_out} numbers", RULES[t])
        return
    mats = [np.asarray(a, dtype=np.float64) for a in arrays]  # type: ignore[arg-type]
    bad = sum(int(np.sum(~np.isfinite(m))) for m in mats)
    if bad:
        for t in rest:
            yield _result(name + t, False, f"not judged: {bad} returned values are NaN or infinite", RULES[t])
        return
    shaped = all(m.shape == shape for m in mats)
    pooled = np.concatenate([m.ravel() for m in mats])
    if law.family == "uniform":
        yield _bounds_test(name, law, h, pooled)
        yield from _moment_tests(name, law, h, pooled, "samples", rest)
    elif law.family == "normal":
        yield from _moment_tests(name, law, h, pooled, "samples", rest)
    elif law.family == "orthogonal":
        if shaped:
            yield _orthogonal_test(name, law, h, mats)
        else:
            yield _result(name + "orthonormal times gain", False, "not judged: the shape is not (fan_in, fan_out)",
                          "orthogonal")
        yield from _moment_tests(name, law, h, pooled, "entries", rest)
    else:
        if shaped:
            yield from _sparse_tests(name, law, h, mats)
        else:
            for t in ("k non-zeros per column", "non-zeros spread over the rows"):
                yield _result(name + t, False, "not judged: the shape is not (fan_in, fan_out)", RULES[t])
        yield from _moment_tests(name, law, h, pooled[pooled != 0], "non-zeros", rest)


@register("statistics")
def run(ctx: Context, spec: CheckSpec) -> Iterator[CaseResult]:
    ex = ctx.ex
    law = law_for(ex.reference)
    purpose, cases = ("statistics", spec.cases) if spec.cases else ("case", ex.cases)
    for index in range(len(cases)):
        ctx.at(purpose, index)
        hyper = ctx.hyper(purpose, index)
        h = law.complete(hyper)
        seeds = seeds_for(ctx.seed, ex.id, purpose, index, _calls_needed(law, h))
        yield from judge_case(ctx, law, hyper, seeds, f"case {index} · ")
