"""Progress bars for the long steps of one check: references computed with torch, and figures drawn.

Shown on stderr, and only on a terminal: with ``-q`` or piped output nothing is printed, so scripts read
clean streams. Each bar is fed by a plain callback of the engine (Options.on_references and
on_reference_done) or of the figures (plots.OnFigure), so the engine knows nothing of rich.
"""
from __future__ import annotations

import sys
from typing import IO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

MIN_FIGURES = 8
"""Fewer figures than this draw in a second or two: no bar for them."""


class StepProgress:
    """One rich bar at a time on a console: ``start`` a step of N items, ``advance`` per item; the bar
    closes itself when the last item is done (``close`` ends one cut short by an error)."""

    def __init__(self, console: Console):
        self.console = console
        self._bar: Progress | None = None
        self._task = 0
        self.total = 0
        self.done = 0

    def start(self, what: str, total: int) -> None:
        self.close()
        self.total, self.done = total, 0
        self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                             console=self.console, transient=False)
        self._bar.start()
        self._task = self._bar.add_task(what, total=total)

    def advance(self, done: int | None = None) -> None:
        if self._bar is None:
            return
        self.done = self.done + 1 if done is None else done
        self._bar.update(self._task, completed=self.done, refresh=True)
        if self.done >= self.total:
            self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    # the engine's callbacks

    def references(self, ids: list[str]) -> None:
        """Options.on_references: the exercises whose references torch is about to compute."""
        n = len(ids)
        self.start(f"computing references once for this course and seed: {n} exercise{'s' if n != 1 else ''}", n)

    def reference_done(self, ex_id: str) -> None:
        """Options.on_reference_done: one exercise's references are computed."""
        self.advance()

    def figure(self, drawn: int, total: int) -> None:
        """plots.OnFigure: a bar from the first figure on, when there are many to draw."""
        if total < MIN_FIGURES:
            return
        if drawn == 1:
            self.start(f"drawing {total} figures", total)
        self.advance(drawn)


def progress_for(quiet: bool, stream: IO[str] | None = None) -> StepProgress | None:
    """A progress display on ``stream`` (stderr), or None with ``-q`` or when it is not a terminal."""
    stream = sys.stderr if stream is None else stream
    if quiet or not stream.isatty():
        return None
    return StepProgress(Console(file=stream))
