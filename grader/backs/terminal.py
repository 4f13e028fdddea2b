"""The terminal report: one table row per exercise, then the details of what failed."""
from __future__ import annotations

from rich.console import Console
from rich.markup import escape as _markup_escape
from rich.table import Table

from ..model.results import (
    ERROR,
    NOT_IMPLEMENTED,
    PARTIAL,
    PASS,
    TIMEOUT,
    SubmissionResult,
)
from .text import safe

STYLE = {PASS: "green", PARTIAL: "yellow", NOT_IMPLEMENTED: "dim", TIMEOUT: "magenta", ERROR: "red"}
MARK = {PASS: "✓", PARTIAL: "~", NOT_IMPLEMENTED: "·", TIMEOUT: "⏱", ERROR: "!"}
MAX_CASES_SHOWN = 3


def escape(text: str) -> str:
    """Text for rich: control characters shown as escapes (:func:`safe`), then ``[...]`` not read as markup."""
    return _markup_escape(safe(text))


def _mark(status: str) -> str:
    style = STYLE.get(status, "red")
    return f"[{style}]{MARK.get(status, '✗')}[/{style}]"


def render(result: SubmissionResult, console: Console | None = None, details: bool = True) -> None:
    """Print the summary table, then each failing case's message (a few per check)."""
    if console is None:
        console = Console()
        if not console.is_terminal:  # a log or a pipe: rich would assume 80 columns
            console = Console(width=140)
    table = Table(title=f"{escape(result.course)} — {escape(result.submission)}", title_justify="left", expand=True)
    table.add_column("exercise", no_wrap=True)
    table.add_column("checks", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("reason", overflow="ellipsis", no_wrap=True, ratio=1)
    for a in result.assignments:
        for e in a.exercises:
            checks = " ".join(f"{_mark(c.status)} {escape(c.name)}" for c in e.checks)
            first_line = escape(e.reason.splitlines()[0]) if e.reason else ""
            style = STYLE.get(e.status, "red")
            table.add_row(f"{escape(e.id)} {escape(e.title)}", checks, f"{e.points:g}/{e.max_points:g}",
                          f"[{style}]{escape(e.status)}[/{style}]", first_line)
        if len(result.assignments) > 1:
            table.add_row(f"[bold]{escape(a.id)} total[/bold]", "", f"[bold]{a.points:g}/{a.max_points:g}[/bold]", "", "")
    console.print(table)
    if result.notes:
        console.print("[dim]not run from your notebooks (only definitions are graded):[/dim]")
        for note in result.notes:
            console.print("  " + escape(note), highlight=False, emoji=False)
    if details:
        for e in result.exercises:
            if e.status in (PASS, NOT_IMPLEMENTED):
                continue
            console.print(f"\n[bold][{escape(e.id)} {escape(e.title)}][/bold]")
            for c in e.checks:
                bad = [k for k in c.cases if not k.passed]
                for k in bad[:MAX_CASES_SHOWN]:
                    console.print(f"  {_mark(k.status)} {escape(c.name)} · {escape(k.title)}")
                    console.print("    " + escape(k.message).replace("\n", "\n    "), highlight=False,
                                  emoji=False)
                if len(bad) > MAX_CASES_SHOWN:
                    console.print(f"    ... and {len(bad) - MAX_CASES_SHOWN} more failing case(s) of {escape(c.name)}")
            if e.output.strip():
                console.print("  [dim]your code printed:[/dim]")
                console.print("    " + escape(e.output.strip()[-600:]).replace("\n", "\n    "), highlight=False,
                              emoji=False)
    verdict = "[green]all checks pass[/green]" if result.passed else "[red]some checks fail[/red]"
    console.print(f"\n[bold]Total: {result.points:g}/{result.max_points:g}[/bold] — {verdict} "
                  f"[dim](seed: {escape(result.seed)}, device: {escape(result.device)}, isolation tier "
                  f"{escape(result.isolation)}, "
                  f"{result.duration_s:.2f} s)[/dim]")
