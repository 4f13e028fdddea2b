"""The instructor's class dashboard: one HTML page over a folder of results JSON files.

Score histogram; errors, timeouts and entries not graded (named, with the reason); pass rate per
exercise; the most frequent failure causes (the cause hint where the grader found one, else the first
line of the message with its numbers blanked); a table of students (score, status, time, first
problem). All from the JSON alone, read one result at a time (classbook.py).
"""
from __future__ import annotations

import base64
import csv
import io
from pathlib import Path
from typing import Iterable

from ..model.errors import GraderError
from ..model.results import SubmissionResult
from .classbook import ClassSummary, read_results, summarize
from .html import CSS, _bar, escape

TOP_CAUSES = 15


def load_summary(folder: Path) -> ClassSummary:
    """The class of a results folder, read one result at a time.

    Raises:
        GraderError: no readable results file in the folder.
    """
    summary = summarize(read_results(folder))
    if not summary.lines:
        raise GraderError(f"{folder}: no results JSON files found")
    return summary


def not_graded_in(folder: Path) -> list[tuple[str, str]]:
    """Entries the batch did not grade, with the reason, from its gradebook (if there is one)."""
    try:
        rows = csv.DictReader(io.StringIO((folder / "gradebook.csv").read_text()))
        return [(r["student"], r.get("reason") or "") for r in rows
                if r.get("status") in ("not graded", "no submission")]
    except (OSError, KeyError, csv.Error):
        return []


def _histogram(scores: list[float], max_points: float) -> bytes:
    from .plots import _png, _pyplot

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 2.6))
    ax.hist(scores, bins=min(20, max(5, len(scores))), range=(0, max_points), color="tab:blue", edgecolor="white")
    ax.set_xlabel("total points")
    ax.set_ylabel("submissions")
    ax.set_title(f"score distribution ({len(scores)} submissions)")
    return _png(fig)


def render_dashboard(results: ClassSummary | Iterable[SubmissionResult],
                     not_graded: Iterable[tuple[str, str]] = ()) -> str:
    """The page, from a streamed summary (or from results, for a few of them)."""
    summary = results if isinstance(results, ClassSummary) else summarize((r.student, r) for r in results)
    lines, titles = summary.lines, summary.titles
    scores = [line.points for line in lines]
    png = base64.b64encode(_histogram(scores, summary.max_points)).decode("ascii")
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Class dashboard</title>",
        f"<style>{CSS}</style></head><body><h1>Class dashboard — {escape(summary.course)}</h1>",
        f"<p class='meta'>{len(lines)} submissions · mean {sum(scores) / len(scores):.2f} / "
        f"{summary.max_points:g} · {sum(line.status == 'pass' for line in lines)} with full marks</p>",
        f"<img alt='score histogram' src='data:image/png;base64,{png}'>",
    ]
    trouble = [(line.student, f"error: {line.reason}") for line in lines if line.status == "error"]
    trouble += [(line.student, "timeout: " + ", ".join(line.timeouts)) for line in lines if line.timeouts]
    trouble += [(name, f"not graded: {reason}") for name, reason in not_graded]
    if trouble:
        parts.append("<h2>Errors, timeouts and submissions not graded</h2>"
                     "<table><tr><th>student</th><th>what happened</th></tr>")
        parts += [f"<tr><td>{escape(name)}</td><td>{escape(text)}</td></tr>" for name, text in sorted(trouble)]
        parts.append("</table>")
    parts.append("<h2>Pass rate per exercise</h2><table><tr><th>exercise</th><th class='num'>passed</th><th></th></tr>")
    for ex_id, title in titles.items():
        rate = summary.passes[ex_id] / summary.seen[ex_id]
        parts.append(f"<tr><td>{escape(ex_id)} {escape(title)}</td><td class='num'>{summary.passes[ex_id]}/"
                     f"{summary.seen[ex_id]}</td><td>{_bar(rate)} {100 * rate:.0f}%</td></tr>")
    parts.append("</table><h2>Most frequent failure causes</h2><table><tr><th>exercise</th><th>cause</th>"
                 "<th class='num'>submissions</th></tr>")
    for (ex_id, text), n in summary.causes.most_common(TOP_CAUSES):
        parts.append(f"<tr><td>{escape(ex_id)} {escape(titles.get(ex_id, ''))}</td><td>{escape(text)}</td>"
                     f"<td class='num'>{n}</td></tr>")
    parts.append("</table><h2>Students</h2><table><tr><th>student</th><th class='num'>score</th><th>status</th>"
                 "<th class='num'>seconds</th><th>first problem</th></tr>")
    for line in sorted(lines, key=lambda x: x.student):
        parts.append(f"<tr><td>{escape(line.student)}</td><td class='num'>{line.points:.2f} / {line.max_points:g}"
                     f"</td><td>{escape(line.status)}</td><td class='num'>{line.seconds:.1f}</td>"
                     f"<td>{escape(line.reason or line.first_problem)}</td></tr>")
    parts.append("</table></body></html>")
    return "\n".join(parts)


def write_dashboard(folder: Path, out: Path) -> None:
    out.write_text(render_dashboard(load_summary(folder), not_graded_in(folder)))
