"""Figures drawn from the Result tree alone: one kind per check, small deterministic PNGs.

- value comparisons (reference, stability, gradcheck's element-wise pass): the reference, yours, and
  |yours - reference| as heatmaps, worst cells marked, the cause hint in the title;
- trajectories: the optimizer's path against torch's (for 2-D problems) and the distance per step;
- training runs (networks): the loss per step of the learner's run against the torch twin's;
- curves (activations and losses, when collected): the learner's f and f' against the reference over a
  range, the region where they disagree shaded.
matplotlib (Agg) is imported only when a figure is drawn, so grading without plots never pays for it.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ...judge.compare import from_json_array
from ...model.results import (
    PASS,
    CaseResult,
    CheckResult,
    ExerciseResult,
    SubmissionResult,
)

DPI = 80


@dataclass(frozen=True)
class Figure:
    exercise: str
    check: str
    case: str
    title: str
    png: bytes

    @property
    def filename(self) -> str:
        slug = re.sub(r"[^A-Za-z0-9]+", "_", f"{self.exercise}_{self.check}_{self.case}").strip("_")
        return f"{slug}.png"


def _pyplot() -> Any:
    import sys

    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")  # headless; a running notebook keeps its own backend (our figures are closed)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 8, "axes.titlesize": 8, "figure.dpi": DPI})
    return plt


def _png(fig: Any, top: float = 0.74, bottom: float = 0.16) -> bytes:
    # a fixed layout: matplotlib's layout engines cost an extra full draw per figure
    fig.subplots_adjust(left=0.06, right=0.94, bottom=bottom, top=top, wspace=0.32)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    _pyplot().close(fig)
    return buf.getvalue()


def _as_2d(a: np.ndarray) -> np.ndarray:
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a.reshape(1, -1)
    return a.reshape(a.shape[0], -1)


MAX_PANELS = 4
"""Slices drawn for a tensor of 3 or more dimensions (the worst first): one row of panels each."""


def _panels(exp: np.ndarray, got: np.ndarray, bad: np.ndarray) -> list[tuple[str, tuple[int, ...]]]:
    """The 2-D slices to draw: the whole array when it has at most 2 dimensions, else the (sample,
    channel, ...) slices with the largest errors, worst first, at most MAX_PANELS."""
    if exp.ndim <= 2:
        return [("", ())]
    lead = exp.shape[:-2]
    with np.errstate(invalid="ignore"):
        err = np.nan_to_num(np.abs(got - exp), nan=np.inf).reshape(*lead, -1).max(axis=-1)
    n_bad = bad.reshape(*lead, -1).sum(axis=-1)
    order = sorted(np.ndindex(*lead), key=lambda i: (-int(n_bad[i]), -float(err[i]), i))
    names = ("sample", "channel") if len(lead) == 2 else tuple(f"axis {k}" for k in range(len(lead)))
    return [(", ".join(f"{n} {v}" for n, v in zip(names, idx)), idx) for idx in order[:MAX_PANELS]]


def _limit(data: np.ndarray) -> float:
    finite = data[np.isfinite(data)]
    return float(max(np.abs(finite).max(initial=0.0), 1e-12))


def _tick(value: float, _: Any = None) -> str:
    """A colour bar's tick with its own exponent (``3e7``, ``-1.5e-6``, ``0.25``)."""
    return f"{value:.2g}".replace("e+0", "e").replace("e-0", "e-").replace("e+", "e")


def _colorbar(fig: Any, im: Any, ax: Any) -> None:
    """A colour bar whose ticks carry their exponent: matplotlib's shared offset label ("1e7") sits on
    the bar's top, over the title of the panel row above it in small multiples."""
    from matplotlib.ticker import FuncFormatter

    fig.colorbar(im, ax=ax, fraction=0.046, format=FuncFormatter(_tick))


def heatmap(title: str, details: dict[str, Any]) -> bytes:
    """Reference | yours | |difference| with the wrong cells marked, each on its own colour scale (a wildly
    wrong result would otherwise wash the reference out). A tensor of 3 or more dimensions is drawn as
    small multiples: one row per (sample, channel) slice, the worst first."""
    plt = _pyplot()
    arrays = details["arrays"]
    shape = tuple(arrays["expected"]["shape"])
    exp_full, got_full = from_json_array(arrays["expected"]), from_json_array(arrays["got"])
    if exp_full.shape != got_full.shape or exp_full.ndim < 3:
        exp_full, got_full = _as_2d(exp_full), _as_2d(got_full)
    with np.errstate(invalid="ignore"):
        diff_full = np.abs(got_full - exp_full)
    allowed = details.get("atol", 0.0) + details.get("rtol", 0.0) * np.abs(exp_full)
    bad_full = ~(np.nan_to_num(diff_full, nan=np.inf) <= allowed)
    panels = _panels(exp_full, got_full, bad_full)
    against = arrays.get("against", "reference")
    height = 2.9 + 0.08 * min(exp_full.shape[-2], 40) if len(panels) == 1 else 0.9 + 1.9 * len(panels)
    fig, axes = plt.subplots(len(panels), 3, figsize=(9, height), squeeze=False)
    fig.subplots_adjust(hspace=0.45)
    worst = tuple(details.get("worst_index") or ())
    for row, (label, idx) in enumerate(panels):
        exp, got, diff, bad = exp_full[idx], got_full[idx], diff_full[idx], bad_full[idx]
        for ax, data, name in zip(axes[row], (exp, got), (against, "yours")):
            lim = _limit(data)
            im = ax.imshow(np.nan_to_num(data, nan=0.0, posinf=lim, neginf=-lim), cmap="coolwarm", vmin=-lim,
                           vmax=lim, aspect="auto", interpolation="nearest")
            ax.set_title(f"{name} ({label})" if label else name)
            _colorbar(fig, im, ax)
        im = axes[row][2].imshow(np.nan_to_num(diff, nan=np.nanmax(diff[np.isfinite(diff)], initial=1.0)),
                                 cmap="magma", aspect="auto", interpolation="nearest")
        rows, cols = np.nonzero(bad)
        axes[row][2].scatter(cols, rows, marker="x", c="cyan", s=14, linewidths=1)
        if worst and len(worst) == len(shape):
            if idx:
                if tuple(worst[:len(idx)]) == idx:
                    r, c = worst[-2], worst[-1]
                    axes[row][2].add_patch(plt.Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, ec="lime", lw=2))
            else:  # the worst element's cell in the 2-D view
                r, c = np.unravel_index(int(np.ravel_multi_index(worst, shape)), exp.shape)
                axes[row][2].add_patch(plt.Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, ec="lime", lw=2))
        axes[row][2].set_title(f"|yours - {against}|  (x: outside tolerance)")
        _colorbar(fig, im, axes[row][2])
        for ax in axes[row]:
            ax.set_xticks([])
            ax.set_yticks([])
    hint = details.get("hint")
    more = ""
    if len(panels) > 1:
        total = int(np.prod(exp_full.shape[:-2]))
        more = f"\n{len(panels)} of {total} slices drawn, the worst first" if total > len(panels) else ""
    fig.suptitle(title + (f"\nhint: {hint}" if hint else "") + more, fontsize=9)
    if len(panels) == 1:
        return _png(fig)
    return _png(fig, top=1 - 0.75 / height, bottom=0.25 / height)


def trajectory(title: str, details: dict[str, Any]) -> bytes:
    """The learner's path against torch's (first two coordinates) and their distance per step."""
    plt = _pyplot()
    torch_path = from_json_array(details["path"]["torch"])
    mine = from_json_array(details["path"]["yours"])
    t_mine, t_ref = mine.reshape(len(mine), -1), torch_path.reshape(len(torch_path), -1)
    n = min(len(t_mine), len(t_ref))
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    if t_ref.shape[1] >= 2:
        axes[0].plot(t_ref[:, 0], t_ref[:, 1], "o-", ms=2, label="torch.optim", color="tab:blue")
        axes[0].plot(t_mine[:, 0], t_mine[:, 1], "x--", ms=3, label="yours", color="tab:red")
        axes[0].set_xlabel("coordinate 0")
        axes[0].set_ylabel("coordinate 1")
    else:
        axes[0].plot(t_ref[:, 0], "o-", ms=2, label="torch.optim")
        axes[0].plot(t_mine[:, 0], "x--", ms=3, label="yours")
        axes[0].set_xlabel("step")
    axes[0].legend()
    axes[0].set_title("path of parameter 0")
    dist = np.linalg.norm(t_mine[:n] - t_ref[:n], axis=1)
    axes[1].semilogy(np.arange(n), np.maximum(dist, 1e-17), ".-")
    first = details.get("first_step")
    if first:
        axes[1].axvline(first, color="red", ls=":", label=f"first divergence (step {first})")
        axes[1].legend()
    axes[1].set_xlabel("step")
    axes[1].set_title("distance to torch's parameters")
    hint = details.get("hint")
    fig.suptitle(title + (f"\nhint: {hint}" if hint else ""), fontsize=9)
    return _png(fig)


def curve(title: str, data: dict[str, Any]) -> bytes:
    """f and f' of the learner against the reference over a range; disagreement shaded."""
    plt = _pyplot()
    x = np.asarray(data["x"], dtype=np.float64)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.0))
    for ax, key, name in ((axes[0], "f", data.get("f_label", "f(x)")), (axes[1], "df", data.get("df_label", "f'(x)"))):
        ref = from_json_array(data[key]["reference"])
        mine = from_json_array(data[key]["yours"]) if data[key].get("yours") else None
        ax.plot(x, ref, color="tab:blue", lw=2, label="reference")
        if mine is not None:
            ax.plot(x, mine, color="tab:red", lw=1.2, ls="--", label="yours")
            with np.errstate(invalid="ignore"):
                wrong = ~(np.abs(mine - ref) <= 1e-8 + 1e-6 * np.abs(ref))
            if wrong.any():
                lo, hi = ax.get_ylim()
                ax.fill_between(x, lo, hi, where=wrong, color="orange", alpha=0.25, label="mismatch")
                ax.set_ylim(lo, hi)
        ax.set_title(name)
        ax.set_xlabel(data.get("x_label", "x"))
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    return _png(fig)


def training_caption(details: dict[str, Any]) -> str:
    """What a training figure shows, in words (its title, and the alt text of its image in a report)."""
    parts = ["loss per step, yours and torch's"]
    if details.get("hidden"):
        parts.append("XOR's 4 points in input space and in each hidden space, with the decision line")
    else:
        if details["losses"].get("accuracy"):
            parts.append("accuracy per epoch")
        if details.get("confusion"):
            parts.append("confusion matrix and misclassified digits")
    return ": " + "; ".join(parts)


def training(title: str, details: dict[str, Any]) -> bytes:
    """A network's loss per step, the learner's run against the torch twin's, the first departure marked."""
    plt = _pyplot()
    losses = details["losses"]
    stride = int(losses.get("stride", 1))
    hidden, confusion = details.get("hidden"), details.get("confusion")
    if hidden:
        fig, axes = plt.subplots(1, 4, figsize=(12, 3.2))
        ax = axes[0]
        _xor_panels(axes[1:], hidden)
    elif confusion:
        fig = plt.figure(figsize=(12, 6.4))
        grid = fig.add_gridspec(2, 2 + MAX_IMAGES // 2, height_ratios=(1, 1.4), hspace=0.5)
        ax = fig.add_subplot(grid[0, :])
        _confusion_panels(fig, grid, confusion)
    else:
        fig, ax = plt.subplots(1, 1, figsize=(9, 3.2))
    for key, style, color in (("torch", "-", "tab:blue"), ("yours", "--", "tab:red")):
        values = np.array([np.nan if v is None else v for v in losses.get(key, [])], dtype=np.float64)
        ax.plot(1 + stride * np.arange(len(values)), values, style, lw=1.4, color=color, label=key)
    first = details.get("first_step")
    if first:
        ax.axvline(first, color="black", ls=":", label=f"first departure (step {first})")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (of the step's batch)")
    ax.legend(fontsize=7, loc="lower left", bbox_to_anchor=(0, 1.01), ncol=3)  # above the axes: no overlap
    accuracy = None if hidden else losses.get("accuracy")  # XOR: the hidden-layer picture says more
    if accuracy:  # per epoch, at each epoch's last step, on a second axis
        right = ax.twinx()
        per = int(accuracy.get("steps_per_epoch", 1))
        for key, marker, color in (("torch", "o", "tab:blue"), ("yours", "x", "tab:red")):
            values = np.asarray(accuracy.get(key, []), dtype=np.float64)
            style = marker if len(values) <= 20 else "-"  # many epochs: a line, not a wall of markers
            right.plot(per * np.arange(1, len(values) + 1), values, style, color=color, ms=6, lw=0.8,
                       label=f"accuracy per epoch, {key}")
        right.set_ylabel("training accuracy")
        right.set_ylim(0, 1.05)
        right.legend(fontsize=7, loc="lower right", bbox_to_anchor=(1, 1.01), ncol=2)
    fig.suptitle(title.replace(": ", "\n", 1), fontsize=9)  # the caption on a line of its own
    return _png(fig)


MAX_IMAGES = 8


def _confusion_panels(fig: Any, grid: Any, confusion: dict[str, Any]) -> None:
    """The test split's confusion matrix (rows: true class, columns: predicted) and misclassified images."""
    matrix = np.asarray(confusion["matrix"], dtype=np.int64)
    ax = fig.add_subplot(grid[1, :2])
    ax.imshow(matrix, cmap="Blues")
    for (i, j), n in np.ndenumerate(matrix):
        if n:
            ax.text(j, i, str(n), ha="center", va="center", fontsize=6, color="white" if n > matrix.max() / 2 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_xticks(range(matrix.shape[1]))
    ax.set_yticks(range(matrix.shape[0]))
    ax.set_title("confusion matrix (test split)")
    side = int(confusion.get("side") or 0)
    for k, wrong in enumerate(confusion.get("wrong", [])[:MAX_IMAGES]):
        image = np.asarray(wrong["image"], dtype=np.float64)
        if side * side != image.size:
            break
        sub = grid[1, 2:].subgridspec(2, MAX_IMAGES // 2)[k // (MAX_IMAGES // 2), k % (MAX_IMAGES // 2)]
        ax = fig.add_subplot(sub)
        ax.imshow(image.reshape(side, side), cmap="gray_r", interpolation="nearest")
        ax.set_title(f"true {wrong['true']}, yours {wrong['predicted']}", fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])


def _xor_panels(axes: Any, hidden: dict[str, Any]) -> None:
    """The 4 points in input space, then in each trained network's hidden space h = relu(x W1 + b1), with
    the output unit's decision line h W2 + b2 = 0: the hidden layer moves the points so one line splits them."""
    X, y = np.asarray(hidden["X"], dtype=np.float64), np.asarray(hidden["y"]) > 0.5
    panels = [("input space", X, None)]
    for who in ("yours", "torch"):
        W1, b1, W2, b2 = (np.asarray(a, dtype=np.float64) for a in hidden[who])
        panels.append((f"hidden space, {who}", np.maximum(X @ W1 + b1, 0.0), (W2[:, 0], float(b2[0]))))
    for ax, (name, points, line) in zip(axes, panels):
        ax.scatter(points[~y, 0], points[~y, 1], marker="o", c="tab:blue", label="class 0")
        ax.scatter(points[y, 0], points[y, 1], marker="^", c="tab:orange", label="class 1")
        lo, hi = points.min(axis=0) - 0.5, points.max(axis=0) + 0.5
        if line is not None and np.all(np.isfinite(line[0])) and np.isfinite(line[1]):
            (w0, w1), b = line
            xs = np.linspace(lo[0], hi[0], 2)
            if abs(w1) > 1e-12:
                ax.plot(xs, -(w0 * xs + b) / w1, "k--", lw=1, label="output = 0")
            elif abs(w0) > 1e-12:
                ax.axvline(-b / w0, color="k", ls="--", lw=1, label="output = 0")
        if np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)):
            ax.set_xlim(lo[0], hi[0])
            ax.set_ylim(lo[1], hi[1])
        ax.set_title(name)
        ax.legend(fontsize=6)


def _drawable(case: CaseResult) -> bool:
    return any(key in case.details for key in ("arrays", "path", "losses"))


def _case_figure(ex: ExerciseResult, check: CheckResult, case: CaseResult) -> Figure:
    title = f"[{ex.id} {ex.title}] {check.name} · {case.name}"
    if "arrays" in case.details:
        return Figure(ex.id, check.name, case.name, title, heatmap(title, case.details))
    if "path" in case.details:
        return Figure(ex.id, check.name, case.name, title, trajectory(title, case.details))
    title += training_caption(case.details)
    return Figure(ex.id, check.name, case.name, title, training(title, case.details))


OnFigure = Callable[[int, int], None]
"""Told (figures drawn, figures in all) after each figure: a progress bar for a long report."""


def figures(result: SubmissionResult, max_per_check: int = 2, on_figure: OnFigure | None = None) -> list[Figure]:
    """Every figure the result's data supports: curves, then up to ``max_per_check`` failing cases per check.

    The style is set inside an rc_context, so a notebook that shows this report keeps its own settings."""
    import matplotlib

    with matplotlib.rc_context():
        return _figures(result, max_per_check, on_figure)


def _figures(result: SubmissionResult, max_per_check: int, on_figure: OnFigure | None = None) -> list[Figure]:
    plan: list[tuple[ExerciseResult, CheckResult | None, CaseResult | None]] = []
    for ex in result.exercises:
        if ex.plot_data.get("curve"):
            plan.append((ex, None, None))
        for check in ex.checks:
            drawn = [case for case in check.cases if case.status != PASS and _drawable(case)][:max_per_check]
            plan += [(ex, check, case) for case in drawn]
    out = []
    for done, (ex, check, case) in enumerate(plan, 1):
        if check is None or case is None:
            title = f"[{ex.id} {ex.title}] forward and backward over a range"
            out.append(Figure(ex.id, "curve", "curve", title, curve(title, ex.plot_data["curve"])))
        else:
            out.append(_case_figure(ex, check, case))
        if on_figure is not None:
            on_figure(done, len(plan))
    return out


def write(result: SubmissionResult, folder: Path, on_figure: OnFigure | None = None) -> list[Path]:
    """Write every figure of a result as a PNG file in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for fig in figures(result, on_figure=on_figure):
        path = folder / fig.filename
        path.write_bytes(fig.png)
        paths.append(path)
    return paths
