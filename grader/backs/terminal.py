"""The terminal report: one table row per exercise, then each distinct problem once, then what to do next.

It fits the width it is given (80 columns included): the score and status columns are never cut, the
check marks lose their names below 110 columns, and the reason column takes what is left. Numbers are
rounded for people (2 decimals; the JSON keeps them exact). Problems are told once: a message repeated
by several cases of an exercise is printed once with its count, and exercises failing with the same
text (a missing module, one import error) are grouped under it.
"""
from __future__ import annotations

import os
import re

from rich.console import Console
from rich.markup import escape as _markup_escape
from rich.table import Table

from ..model.results import (
    ERROR,
    FAIL,
    NOT_IMPLEMENTED,
    PARTIAL,
    PASS,
    TIMEOUT,
    ExerciseResult,
    SubmissionResult,
)
from .text import safe

STYLE = {PASS: "green", PARTIAL: "yellow", NOT_IMPLEMENTED: "dim", TIMEOUT: "magenta", ERROR: "red"}
MARK = {PASS: "✓", PARTIAL: "~", FAIL: "✗", NOT_IMPLEMENTED: "·", TIMEOUT: "⏱", ERROR: "!"}
LEGEND = "✓ pass  ~ partial  ✗ fail  ! error  ⏱ timeout  · not implemented"
SHORT_STATUS = {NOT_IMPLEMENTED: "todo"}
"""Status words shortened in narrow tables (the legend and the JSON keep the full word)."""
MAX_CASES_SHOWN = 3
MISSING_MODULE = re.compile(r"[\w.]+\.py is not in the submission")
"""Said by every case of an exercise whose module is missing, after a prefix that varies by check."""
WIDE = 110
"""From this width on, each check mark carries its check's name."""
PIPE_WIDTH = 120
"""Width for a log or a pipe when $COLUMNS does not say (rich would assume 80)."""


def escape(text: str) -> str:
    """Text for rich: control characters shown as escapes (:func:`safe`), then ``[...]`` not read as markup."""
    return _markup_escape(safe(text))


def points(value: float) -> str:
    """Points for people: at most 2 decimals, no trailing zeros (0.7143 -> 0.71, 18.251 -> 18.25, 2.0 -> 2)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _mark(status: str) -> str:
    style = STYLE.get(status, "red")
    return f"[{style}]{MARK.get(status, '✗')}[/{style}]"


def _console() -> Console:
    console = Console()
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console = Console(width=PIPE_WIDTH)
    return console


def _table(result: SubmissionResult, width: int) -> Table:
    wide = width >= WIDE
    table = Table(title=f"{escape(result.course)} — {escape(result.submission)}", title_justify="left",
                  expand=True, pad_edge=False, collapse_padding=True)
    table.add_column("exercise", no_wrap=True, overflow="ellipsis", max_width=34 if wide else 22)
    table.add_column("checks", no_wrap=True)
    score_width = max(len(f"{points(e.points)}/{points(e.max_points)}") for e in result.exercises) if result.exercises else 5
    table.add_column("score", justify="right", no_wrap=True, min_width=max(5, score_width))
    table.add_column("status", no_wrap=True, min_width=7 if not wide else 15)
    table.add_column("reason", overflow="ellipsis", no_wrap=True, ratio=1)
    for a in result.assignments:
        for e in a.exercises:
            checks = (" ".join(f"{_mark(c.status)} {escape(c.name)}" for c in e.checks) if wide
                      else "".join(_mark(c.status) for c in e.checks))
            first_line = escape(e.reason.splitlines()[0]) if e.reason else ""
            if e.status == NOT_IMPLEMENTED:
                first_line = "not implemented yet"
            style = STYLE.get(e.status, "red")
            status = e.status if wide else SHORT_STATUS.get(e.status, e.status)
            table.add_row(f"{escape(e.id)} {escape(e.title)}", checks, f"{points(e.points)}/{points(e.max_points)}",
                          f"[{style}]{escape(status)}[/{style}]", first_line)
        if len(result.assignments) > 1:
            table.add_row(f"[bold]{escape(a.id)} total[/bold]", "",
                          f"[bold]{points(a.points)}/{points(a.max_points)}[/bold]", "", "")
    return table


def _problems(e: ExerciseResult) -> list[str]:
    """The exercise's failing cases as printable blocks, each distinct message once with its count."""
    blocks: list[str] = []
    for c in e.checks:
        bad = [k for k in c.cases if not k.passed]
        seen: dict[str, int] = {}
        order: list[tuple[str, str]] = []
        for k in bad:
            if k.message not in seen:
                order.append((k.message, f"  {_mark(k.status)} {escape(c.name)} · {escape(k.title)}"))
            seen[k.message] = seen.get(k.message, 0) + 1
        for message, head in order[:MAX_CASES_SHOWN]:
            again = seen[message] - 1
            blocks.append(head + (f" [dim](and {again} more case{'s' if again > 1 else ''} with the same message)"
                                  f"[/dim]" if again else ""))
            blocks.append("    " + escape(message).replace("\n", "\n    "))
        if len(order) > MAX_CASES_SHOWN:
            blocks.append(f"    ... and {len(order) - MAX_CASES_SHOWN} more failing case(s) of {escape(c.name)}")
    if e.output.strip():
        blocks.append("  [dim]your code printed:[/dim]")
        blocks.append("    " + escape(e.output.strip()[-600:]).replace("\n", "\n    "))
    return blocks


def _shared_text(e: ExerciseResult) -> str | None:
    """The one message every failing case of the exercise shares (a missing module, an import error),
    else None: such exercises are grouped under the message."""
    messages = {k.message for c in e.checks for k in c.cases if not k.passed}
    missing = {m.group(0) if (m := MISSING_MODULE.search(text)) else text for text in messages}
    return next(iter(missing)) if len(missing) == 1 and not e.output.strip() else None


def render(result: SubmissionResult, console: Console | None = None, details: bool = True) -> None:
    """Print the summary table and legend, each distinct problem once, the total and the next step."""
    console = console or _console()
    console.print(_table(result, console.width))
    console.print(f"[dim]{LEGEND}[/dim]", highlight=False, emoji=False)
    if result.notes:
        console.print("[dim]not run from your notebooks (only definitions are graded):[/dim]")
        for note in result.notes:
            console.print("  " + escape(note), highlight=False, emoji=False)
    failing = [e for e in result.exercises if e.status not in (PASS, NOT_IMPLEMENTED)]
    if details:
        shared_of = {e.id: _shared_text(e) for e in failing}
        grouped: dict[str, list[ExerciseResult]] = {}
        for e in failing:
            if shared_of[e.id] is not None:
                grouped.setdefault(shared_of[e.id], []).append(e)  # type: ignore[arg-type]
        printed: set[str] = set()
        for e in failing:
            shared = shared_of[e.id]
            if shared is not None and len(grouped[shared]) > 1:
                if shared in printed:
                    continue
                printed.add(shared)
                names = ", ".join(f"{x.id} {x.title}" for x in grouped[shared])
                console.print(f"\n[bold][{len(grouped[shared])} exercises: {escape(names)}][/bold]")
                console.print("  " + escape(shared).replace("\n", "\n  "), highlight=False, emoji=False)
                continue
            console.print(f"\n[bold][{escape(e.id)} {escape(e.title)}][/bold]")
            for block in _problems(e):
                console.print(block, highlight=False, emoji=False)
    verdict = "[green]all checks pass[/green]" if result.passed else "[red]some checks fail[/red]"
    console.print(f"\n[bold]Total: {points(result.points)}/{points(result.max_points)}[/bold] — {verdict} "
                  f"[dim](seed: {escape(result.seed)}, device: {escape(result.device)}, isolation tier "
                  f"{escape(result.isolation)}, {result.duration_s:.2f} s)[/dim]")
    todo = failing or [e for e in result.exercises if e.status != PASS]
    if todo:
        first = todo[0]
        console.print(f"next: {escape(first.id)} {escape(first.title)} — grader check {escape(result.submission)} "
                      f"-e {escape(first.id)}", highlight=False, emoji=False)
