"""One self-contained HTML file per result: no network, no external CSS or JS, figures embedded as PNG.

Built from the Result tree alone (so ``grader report results.json --html`` gives the same page as
``grader check --html``): a summary per assignment, then each exercise as a collapsible section with its
checks, the messages of failing cases and their figures. Exercises that fail start open; passing and
not-implemented ones start closed, so the page opens on what needs work.
"""
from __future__ import annotations

import base64
from html import escape as _html_escape

from ..model.results import NOT_IMPLEMENTED, PASS, SubmissionResult
from . import plots
from .text import safe

STATUS_COLOR = {"pass": "#1a7f37", "partial": "#9a6700", "fail": "#cf222e", "error": "#cf222e",
                "timeout": "#8250df", "not-implemented": "#6e7781"}
MAX_CASES = 6

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1100px;color:#1f2328;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em} .meta{color:#57606a;font-size:.9em}
table{border-collapse:collapse;margin:.6em 0 1.4em} td,th{padding:.3em .8em;border-bottom:1px solid #d0d7de;text-align:left}
th{background:#f6f8fa} .num{text-align:right;font-variant-numeric:tabular-nums}
.status{font-weight:600} details{border:1px solid #d0d7de;border-radius:6px;margin:.5em 0;padding:.3em .8em}
summary{cursor:pointer;font-weight:600} pre{background:#f6f8fa;padding:.6em;overflow-x:auto;font-size:.85em;white-space:pre-wrap}
img{max-width:100%;display:block;margin:.5em 0;border:1px solid #eaeef2} .check{margin:.4em 0 .8em}
.bar{display:inline-block;height:.7em;background:#1a7f37;vertical-align:middle} .barbg{display:inline-block;width:120px;background:#eaeef2}
"""


def escape(text: str) -> str:
    """HTML text: markup escaped, and control characters (ESC...) shown as escapes, never as raw bytes."""
    return _html_escape(safe(text))


def _status(status: str) -> str:
    return f'<span class="status" style="color:{STATUS_COLOR.get(status, "#cf222e")}">{escape(status)}</span>'


def _bar(fraction: float) -> str:
    return f'<span class="barbg"><span class="bar" style="width:{round(120 * fraction)}px"></span></span>'


def _img(fig: plots.Figure) -> str:
    data = base64.b64encode(fig.png).decode("ascii")
    return f'<img alt="{escape(fig.title)}" src="data:image/png;base64,{data}">'


def scoped_css(scope: str) -> str:
    """:data:`CSS` with every rule limited to ``scope`` (``body`` becomes the scope itself), so a fragment
    shown inside a notebook styles itself and nothing around it."""
    rules = []
    for rule in CSS.split("}"):
        if "{" not in rule:
            continue
        selectors, body = rule.split("{", 1)
        scoped = [scope if sel.strip() == "body" else f"{scope} {sel.strip()}" for sel in selectors.split(",")]
        rules.append(",".join(scoped) + "{" + body + "}")
    return "\n".join(rules)


def fragment(result: SubmissionResult, with_figures: bool = True, scope: str = "", ids: str = "ex-",
             on_figure: plots.OnFigure | None = None) -> str:
    """The report's body: the summary, one table per assignment, every failing case's message and the
    figures inlined (data: URIs). With ``scope`` (a class name) it comes wrapped in a ``div`` of that
    class with its own scoped style: the self-contained fragment a notebook displays. ``ids`` prefixes
    the anchors, so that several reports on one notebook page link each to its own exercises."""
    figs: dict[tuple[str, str], list[plots.Figure]] = {}
    if with_figures:
        for fig in plots.figures(result, on_figure=on_figure):
            figs.setdefault((fig.exercise, fig.check), []).append(fig)
    parts = [
        f"<h1>{escape(result.course)}</h1>",
        f"<p class='meta'>submission <code>{escape(result.submission)}</code> · total <b>{result.points:g} / "
        f"{result.max_points:g}</b> · seed {escape(result.seed)} · device {escape(result.device)} · isolation tier "
        f"{escape(result.isolation)} · {result.duration_s:.2f} s · grader {escape(result.grader_version)}</p>",
    ]
    if result.notes:
        parts.append("<details><summary>not run from your notebooks (only definitions are graded): "
                     f"{len(result.notes)} note(s)</summary><pre>{escape(chr(10).join(result.notes))}</pre></details>")
    for a in result.assignments:
        parts.append(f"<h2>{escape(a.id)} {escape(a.title)} — {a.points:g} / {a.max_points:g}</h2>")
        parts.append("<table><tr><th>exercise</th><th>status</th><th class='num'>points</th><th></th>"
                     "<th>first problem</th></tr>")
        for e in a.exercises:
            first = escape(e.reason.splitlines()[0]) if e.reason else ""
            parts.append(f"<tr><td><a href='#{ids}{escape(e.id)}'>{escape(e.id)} {escape(e.title)}</a></td>"
                         f"<td>{_status(e.status)}</td><td class='num'>{e.points:g} / {e.max_points:g}</td>"
                         f"<td>{_bar(e.fraction)}</td><td>{first}</td></tr>")
        parts.append("</table>")
        for e in a.exercises:
            opened = "" if e.status in (PASS, NOT_IMPLEMENTED) else " open"
            parts.append(f"<details id='{ids}{escape(e.id)}'{opened}><summary>{escape(e.id)} {escape(e.title)} "
                         f"<code>{escape(e.target)}</code> — {_status(e.status)} {e.points:g} / {e.max_points:g}"
                         "</summary>")
            for fig in figs.get((e.id, "curve"), []):
                parts.append(_img(fig))
            for c in e.checks:
                parts.append(f"<div class='check'><b>{escape(c.name)}</b> {_status(c.status)} — "
                             f"{sum(k.passed for k in c.cases)}/{len(c.cases)} cases pass (weight {c.weight:g})")
                bad = [k for k in c.cases if not k.passed]
                for k in bad[:MAX_CASES]:
                    parts.append(f"<pre>{escape(k.title)}\n{escape(k.message)}</pre>")
                if len(bad) > MAX_CASES:
                    parts.append(f"<p>… and {len(bad) - MAX_CASES} more failing case(s)</p>")
                for fig in figs.get((e.id, c.name), []):
                    parts.append(_img(fig))
                parts.append("</div>")
            if e.output.strip():
                parts.append(f"<p>Your code printed:</p><pre>{escape(e.output[-2000:])}</pre>")
            parts.append("</details>")
    if scope:
        return f"<div class='{scope}'><style>{scoped_css('.' + scope)}</style>" + "\n".join(parts) + "</div>"
    return "\n".join(parts)


def render(result: SubmissionResult, with_figures: bool = True, on_figure: plots.OnFigure | None = None) -> str:
    """The whole page as a string (``on_figure``: told the progress of the figures, see plots.figures)."""
    return "\n".join([
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{escape(result.course)} — {escape(result.submission)}</title><style>{CSS}</style></head><body>",
        fragment(result, with_figures, on_figure=on_figure),
        "</body></html>",
    ])
