"""The ``statistics`` check (weight initializers, assignment A6).

- its law table agrees with torch.nn.init: large samples drawn by torch's own initializers, on torch's
  (fan_out, fan_in) weight and transposed, pass the check's own moment, bound and distribution tests;
- its thresholds have the stated false-alarm probabilities (below 1e-6 per test);
- the reference initializers pass on every seed (5 here, 50 under ``-m slow``), and an initializer with a
  factor 2 on its scale, or with fan_out in place of fan_in, fails on every one of those seeds.
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from grader.checks import statistics as st
from grader.coursefile import load_course
from grader.model.course import Course
from grader.model.results import PASS

from .conftest import ROOT, SOLUTIONS, make_submission, run_grade

FRAGMENT = ROOT / "course_fragments" / "a6_init_counting.yml"
INITIALIZERS = ("uniform_fan_in", "glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "orthogonal", "sparse")


@pytest.fixture(scope="module")
def a6_course(course: Course, tmp_path_factory: pytest.TempPathFactory) -> Course:
    """course.yml with assignment A6: as it is once merged, or with the fragment appended."""
    if any(a.id == "A6" for a in course.assignments):
        return course
    path = tmp_path_factory.mktemp("a6-course") / "course.yml"
    path.write_text((ROOT / "course.yml").read_text() + "\n" + FRAGMENT.read_text())
    return dataclasses.replace(load_course(path), hide=course.hide)


def _ids(course: Course) -> list[str]:
    return [e.id for e in course.exercises if e.name in INITIALIZERS and e.module == "init"]


# --------------------------------------------------------------------------- the law table against torch


def _torch_samples(name: str, fan_in: int, fan_out: int, opts: dict[str, float], calls: int) -> list[np.ndarray]:
    """Matrices in the course's (fan_in, fan_out) layout, drawn by torch.nn.init."""
    gen = torch.Generator().manual_seed(fan_in * 1000 + fan_out)
    init = {
        "uniform_fan_in": lambda w: torch.nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=gen),
        "glorot_uniform": lambda w: torch.nn.init.xavier_uniform_(w, gain=opts.get("gain", 1.0), generator=gen),
        "glorot_normal": lambda w: torch.nn.init.xavier_normal_(w, gain=opts.get("gain", 1.0), generator=gen),
        "he_normal": lambda w: torch.nn.init.kaiming_normal_(w, a=opts.get("a", 0.0), nonlinearity="leaky_relu",
                                                             generator=gen),
        "he_uniform": lambda w: torch.nn.init.kaiming_uniform_(w, a=opts.get("a", 0.0), nonlinearity="leaky_relu",
                                                               generator=gen),
        "orthogonal": lambda w: torch.nn.init.orthogonal_(w, gain=opts.get("gain", 1.0), generator=gen),
    }
    out = []
    for _ in range(calls):
        if name == "sparse":  # k non-zeros per column of the (fan_in, fan_out) tensor itself
            w = torch.empty(fan_in, fan_out, dtype=torch.float64)
            with torch.random.fork_rng():  # sparse_ draws its row permutations from the global generator
                torch.manual_seed(fan_in + fan_out)
                torch.nn.init.sparse_(w, sparsity=(fan_in - opts["k"] - 0.5) / fan_in, std=opts.get("std", 0.01),
                                      generator=gen)
            out.append(w.numpy())
        else:
            w = torch.empty(fan_out, fan_in, dtype=torch.float64)
            init[name](w)
            out.append(w.T.numpy())
    return out


LAW_CASES = [
    ("uniform_fan_in", 700, 300, {}),
    ("glorot_uniform", 300, 700, {"gain": 5 / 3}),
    ("glorot_normal", 700, 300, {"gain": 1.0}),
    ("he_normal", 300, 700, {"a": 0.0}),
    ("he_normal", 700, 300, {"a": 0.3}),
    ("he_uniform", 300, 700, {"a": 0.0}),
    ("he_uniform", 700, 300, {"a": 0.3}),
    ("orthogonal", 700, 300, {"gain": 1.5}),
    ("orthogonal", 300, 700, {"gain": 1.0}),
    ("sparse", 400, 500, {"k": 20, "std": 0.02}),
]


@pytest.mark.parametrize(("name", "fan_in", "fan_out", "opts"), LAW_CASES,
                         ids=[f"{c[0]}-{c[1]}x{c[2]}" for c in LAW_CASES])
def test_law_table_matches_torch_init(name: str, fan_in: int, fan_out: int, opts: dict[str, float]) -> None:
    law = st.LAWS[name]
    h = law.complete({"fan_in": fan_in, "fan_out": fan_out, **opts})
    mats = _torch_samples(name, fan_in, fan_out, opts, calls=2)
    assert all(m.shape == (fan_in, fan_out) for m in mats)
    w = np.concatenate([m.ravel() for m in mats])
    if name == "sparse":
        assert all(np.all((m != 0).sum(axis=0) == opts["k"]) for m in mats)
        w = w[w != 0]
    if name == "orthogonal":
        g = [m.T @ m if fan_in >= fan_out else m @ m.T for m in mats]
        assert all(np.allclose(x, opts["gain"] ** 2 * np.eye(x.shape[0]), atol=1e-10) for x in g)
    n, var = w.size, law.variance(h)
    assert law.mean(h) == 0.0
    assert abs(w.mean()) / math.sqrt(var / n) <= st.Z
    # the variance (second moment about the known mean 0) within Z standard errors, with the table's mu4
    sd = math.sqrt((law.fourth_moment(h) - var**2) / n)
    assert abs(np.mean(w**2) - var) <= st.Z * sd, (np.mean(w**2), var)
    assert np.mean(w**4) == pytest.approx(law.fourth_moment(h), rel=0.05)
    if name != "orthogonal":  # the sphere's variance is exactly gain**2/max(fans) in every matrix
        assert sd > 0
    bounds = law.bounds(h)
    if bounds is not None:
        assert bounds[0] <= w.min() and w.max() <= bounds[1]
        if law.family == "uniform":
            assert w.max() > 0.99 * bounds[1] and w.min() < 0.99 * bounds[0]  # the bound is the law's own
    assert st.ks_distance(w, law.cdf(h)) <= st.ks_bound(n)


def test_law_table_numbers() -> None:
    """The table's formulas at one point each, written out (Affine convention: fan_in = W.shape[0])."""
    def var(name: str, **h: float) -> float:
        law = st.LAWS[name]
        return law.variance(law.complete(h))

    assert var("uniform_fan_in", fan_in=256, fan_out=384) == pytest.approx(1 / (3 * 256))
    assert var("glorot_uniform", fan_in=256, fan_out=384) == pytest.approx(2 / 640)
    assert var("glorot_normal", fan_in=256, fan_out=384, gain=2.0) == pytest.approx(4 * 2 / 640)
    assert var("he_normal", fan_in=256, fan_out=384) == pytest.approx(2 / 256)
    assert var("he_uniform", fan_in=256, fan_out=384, a=1.0) == pytest.approx(1 / 256)
    assert var("orthogonal", fan_in=256, fan_out=384, gain=3.0) == pytest.approx(9 / 384)
    assert var("sparse", fan_in=256, fan_out=384, k=5, std=0.1) == pytest.approx(0.01)
    assert st.LAWS["he_uniform"].bounds({"fan_in": 6, "fan_out": 1, "a": 0.0}) == pytest.approx((-1.0, 1.0))


# --------------------------------------------------------------------------- thresholds


def test_false_alarm_probabilities_are_below_1e_minus_6() -> None:
    assert math.erfc(st.Z / math.sqrt(2)) < 1e-8  # two-sided normal tail of the z tests: 2.0e-9
    for n in (20_000, 100_000, 1_000_000):  # DKW-Massart: P(D > eps) <= 2 exp(-2 n eps^2) = KS_ALPHA
        assert 2 * math.exp(-2 * n * st.ks_bound(n) ** 2) == pytest.approx(st.KS_ALPHA)
    assert st.KS_ALPHA < 1e-6


def test_exact_tails_where_the_normal_approximation_is_used() -> None:
    stats = pytest.importorskip("scipy.stats")
    # a normal law's n * m2 / var is chi-square(n): the variance test's two tails at the smallest n
    n = 20_000
    tail = stats.chi2.sf(n + st.Z * math.sqrt(2 * n), n) + stats.chi2.cdf(n - st.Z * math.sqrt(2 * n), n)
    assert tail < 1e-8
    # the rows-spread test's Wilson-Hilferty quantile of chi-square(fan_in - 1)
    for df in (99, 255, 399, 2047):
        assert stats.chi2.sf(st.chi2_upper(df), df) < 1e-8


def test_ks_distance_and_bound() -> None:
    u = (np.arange(1000) + 0.5) / 1000  # the ideal sample of U(0, 1): distance 1/(2n)
    assert st.ks_distance(u, lambda x: x) == pytest.approx(0.0005)
    assert st.ks_distance(u**2, lambda x: x) == pytest.approx(0.25, abs=1e-3)
    assert st.ks_bound(100_000) == pytest.approx(math.sqrt(math.log(2e7) / 2e5))


def test_sphere_cdf_is_exact_for_small_dimensions() -> None:
    law = st.LAWS["orthogonal"]
    x = np.linspace(-0.99, 0.99, 41)
    three = law.cdf({"fan_in": 3, "fan_out": 2, "gain": 1.0})(x)  # in R^3 a coordinate is U(-1, 1)
    assert np.allclose(three, (x + 1) / 2, atol=1e-9)
    two = law.cdf({"fan_in": 2, "fan_out": 2, "gain": 2.0})(2 * x)  # in R^2: the arcsine law
    assert np.allclose(two, 0.5 + np.arcsin(x) / np.pi, atol=1e-9)


def test_scale_hints_name_the_mistake() -> None:
    law = st.LAWS["glorot_normal"]
    h = law.complete({"fan_in": 256, "fan_out": 384})
    assert "factor 2 on the standard deviation" in st.scale_hint(4.02, law, h)
    law = st.LAWS["he_normal"]
    h = law.complete({"fan_in": 400, "fan_out": 100})
    assert "fan_out (100) in place of fan_in (400)" in st.scale_hint(4.0 * 1.01, law, h)
    assert "gain" in st.scale_hint(0.5, law, h)
    assert "average of the fans" in st.scale_hint(1.6, law, h)  # Glorot's (400 + 100)/2 = 250
    assert st.scale_hint(1.25, law, h) == ""


# --------------------------------------------------------------------------- grading


def _grade_ok(course: Course, submission: Path, seed: int) -> None:
    ids = _ids(course)
    assert len(ids) == len(INITIALIZERS)
    result = run_grade(course, submission, *ids, seed=seed)
    failing = {e.title: e.reason for e in result.exercises if e.status != PASS}
    assert failing == {}
    assert result.points == result.max_points


@pytest.mark.parametrize("seed", range(5))
def test_reference_initializers_pass(a6_course: Course, seed: int) -> None:
    _grade_ok(a6_course, SOLUTIONS, seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5, 50))
def test_reference_initializers_pass_wide_sweep(a6_course: Course, seed: int) -> None:
    _grade_ok(a6_course, SOLUTIONS, seed)


SCALE_2 = """\
def he_normal(fan_in, fan_out, rng, a=0.0):
    return rng.normal(0.0, 2.0 * np.sqrt(2.0 / (1.0 + a * a)) / np.sqrt(fan_in), size=(fan_in, fan_out))
"""
WRONG_FAN = """\
def glorot_uniform(fan_in, fan_out, rng, gain=1.0):
    a = gain * np.sqrt(3.0 / fan_out)
    return rng.uniform(-a, a, size=(fan_in, fan_out))


def he_uniform(fan_in, fan_out, rng, a=0.0):
    b = np.sqrt(2.0 / (1.0 + a * a)) * np.sqrt(3.0 / fan_out)
    return rng.uniform(-b, b, size=(fan_in, fan_out))
"""


@pytest.fixture(scope="module")
def buggy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_submission(tmp_path_factory.mktemp("a6-bugs"), append={"init": SCALE_2 + "\n\n" + WRONG_FAN})


def _grade_bugs(course: Course, submission: Path, seed: int) -> None:
    by_name = {e.name: e.id for e in course.exercises if e.module == "init"}
    result = run_grade(course, submission, by_name["he_normal"], by_name["glorot_uniform"], by_name["he_uniform"],
                       seed=seed)
    for ex in result.exercises:
        (check,) = ex.checks
        assert ex.points < ex.max_points, ex.title
        # every case: the variance (and the distribution) fails, with a message naming both numbers
        variance = [c for c in check.cases if c.name.endswith("· variance")]
        assert variance and not any(c.passed for c in variance), ex.title
        assert all("expected" in c.message and "times too" in c.message for c in variance)
        assert not any(c.passed for c in check.cases if c.name.endswith("· distribution"))
        # and nothing else is blamed: shape, dtype, the use of rng and the centring are right
        assert all(c.passed for c in check.cases if c.details["rule"] in ("shape", "rng", "fresh", "mean"))
    he = next(e for e in result.exercises if e.id == by_name["he_normal"])
    assert "factor 2 on the standard deviation" in he.checks[0].reason


@pytest.mark.parametrize("seed", range(5))
def test_scale_2_and_wrong_fan_fail_on_every_seed(a6_course: Course, buggy: Path, seed: int) -> None:
    _grade_bugs(a6_course, buggy, seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5, 50))
def test_scale_2_and_wrong_fan_fail_wide_sweep(a6_course: Course, buggy: Path, seed: int) -> None:
    _grade_bugs(a6_course, buggy, seed)


def test_global_random_state_is_judged_on_its_samples(a6_course: Course, tmp_path: Path) -> None:
    """Draws from np.random's global state follow the law: only "uses the rng it is given" fails."""
    code = """\
def glorot_normal(fan_in, fan_out, rng, gain=1.0):
    return np.random.normal(0.0, gain * np.sqrt(2.0 / (fan_in + fan_out)), size=(fan_in, fan_out))
"""
    sub = make_submission(tmp_path / "sub", append={"init": code})
    ex_id = next(e.id for e in a6_course.exercises if e.name == "glorot_normal")
    (ex,) = run_grade(a6_course, sub, ex_id).exercises
    failing = {c.details["rule"] for c in ex.checks[0].cases if not c.passed}
    assert failing == {"rng"}


def test_stub_is_not_implemented_everywhere(a6_course: Course, tmp_path: Path) -> None:
    code = "def orthogonal(fan_in, fan_out, rng, gain=1.0):\n    raise NotImplementedError\n"
    sub = make_submission(tmp_path / "sub", append={"init": code})
    ex_id = next(e.id for e in a6_course.exercises if e.name == "orthogonal")
    (ex,) = run_grade(a6_course, sub, ex_id).exercises
    cases = ex.checks[0].cases
    assert ex.points == 0 and len(cases) == 3 * len(st.TESTS["orthogonal"])
    assert {c.status for c in cases} == {"not-implemented"}
