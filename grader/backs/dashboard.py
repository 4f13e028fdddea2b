"""The instructor's class dashboard: one HTML page over a folder of results JSON files.

Score histogram, pass rate per exercise, and the most frequent failure causes (the cause hint where the
grader found one, else the first line of the message with its numbers blanked), all from the JSON alone.
"""
from __future__ import annotations

import base64
import json
import re
from collections import Counter
from pathlib import Path

from ..model.errors import GraderError
from ..model.results import PASS, SubmissionResult, from_dict
from .html import CSS, _bar, escape

TOP_CAUSES = 15


def load_results(folder: Path) -> list[SubmissionResult]:
    """Every readable results file in the folder (others are skipped: one bad file loses nothing else)."""
    results = []
    for path in sorted(folder.glob("*.json")):
        try:
            results.append(from_dict(json.loads(path.read_text())))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    if not results:
        raise GraderError(f"{folder}: no results JSON files found")
    return results


_NUMBER = re.compile(r"(?<![/\w])-?\d+(\.\d+)?(e[-+]?\d+)?(?![/\w])")


def cause(message: str, hint: str | None, status: str = "fail") -> str:
    """A failure's cause, comparable across students: the hint, or the message's first line, numbers blanked."""
    if status == "not-implemented":
        return "not implemented"
    text = hint or (message.splitlines()[0] if message else "(no message)")
    return _NUMBER.sub("#", text)


def _histogram(scores: list[float], max_points: float) -> bytes:
    from .plots import _png, _pyplot

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 2.6))
    ax.hist(scores, bins=min(20, max(5, len(scores))), range=(0, max_points), color="tab:blue", edgecolor="white")
    ax.set_xlabel("total points")
    ax.set_ylabel("submissions")
    ax.set_title(f"score distribution ({len(scores)} submissions)")
    return _png(fig)


def render_dashboard(results: list[SubmissionResult]) -> str:
    max_points = max(r.max_points for r in results)
    scores = [r.points for r in results]
    titles: dict[str, str] = {}
    passes: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    causes: Counter[tuple[str, str]] = Counter()
    for r in results:
        for e in r.exercises:
            titles[e.id] = e.title
            seen[e.id] += 1
            passes[e.id] += e.status == PASS
            for c in e.checks:
                for k in c.cases:
                    if not k.passed:
                        causes[(e.id, f"{c.name}: {cause(k.message, k.details.get('hint'), k.status)}")] += 1
                        break  # one count per check and submission
    png = base64.b64encode(_histogram(scores, max_points)).decode("ascii")
    mean = sum(scores) / len(scores)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Class dashboard</title>",
        f"<style>{CSS}</style></head><body><h1>Class dashboard — {escape(results[0].course)}</h1>",
        f"<p class='meta'>{len(results)} submissions · mean {mean:.2f} / {max_points:g} · "
        f"{sum(r.passed for r in results)} with full marks</p>",
        f"<img alt='score histogram' src='data:image/png;base64,{png}'>",
        "<h2>Pass rate per exercise</h2><table><tr><th>exercise</th><th class='num'>passed</th><th></th></tr>",
    ]
    for ex_id in titles:
        rate = passes[ex_id] / seen[ex_id]
        parts.append(f"<tr><td>{escape(ex_id)} {escape(titles[ex_id])}</td><td class='num'>{passes[ex_id]}/"
                     f"{seen[ex_id]}</td><td>{_bar(rate)} {100 * rate:.0f}%</td></tr>")
    parts.append("</table><h2>Most frequent failure causes</h2><table><tr><th>exercise</th><th>cause</th>"
                 "<th class='num'>submissions</th></tr>")
    for (ex_id, text), n in causes.most_common(TOP_CAUSES):
        parts.append(f"<tr><td>{escape(ex_id)} {escape(titles.get(ex_id, ''))}</td><td>{escape(text)}</td>"
                     f"<td class='num'>{n}</td></tr>")
    parts.append("</table></body></html>")
    return "\n".join(parts)


def write_dashboard(folder: Path, out: Path) -> None:
    out.write_text(render_dashboard(load_results(folder)))
