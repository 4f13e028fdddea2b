"""Where results go: each back renders the Result tree and none recomputes a verdict.

The file backs are an ordered registry with one signature, ``write(result, path)``: the CLI (and any
front end) asks for them by name. Each imports what it draws with only when used, so a plain check
never pays for matplotlib. The terminal (``terminal.render``), the gradebook, the dashboard and
Gradescope's results.json, which take more than one result, sit beside them in this package.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..model.results import SubmissionResult, to_json


@dataclass(frozen=True)
class Back:
    name: str
    write: Callable[..., None]
    """``write(result, path)``, plus ``full`` for a compact back, ``on_figure`` for one that draws."""
    needs_plots: bool = False
    """The engine must collect the data figures are drawn from (curves) for this back."""
    compact: bool = False
    """The back writes passing exercises compactly unless asked for everything (``--full-results``)."""


def _json(result: SubmissionResult, path: Path, full: bool = True) -> None:
    from ..files import write_atomically

    write_atomically(path, to_json(result, full))  # a full disk leaves no empty or partial file


def _html(result: SubmissionResult, path: Path, on_figure: Callable[[int, int], None] | None = None) -> None:
    from .html import render

    path.write_text(render(result, on_figure=on_figure))


def _plots(result: SubmissionResult, path: Path, on_figure: Callable[[int, int], None] | None = None) -> None:
    from . import plots

    plots.write(result, path, on_figure)


BACKS: dict[str, Back] = {b.name: b for b in (Back("json", _json, compact=True), Back("html", _html, needs_plots=True),
                                              Back("plots", _plots, needs_plots=True))}


def write(result: SubmissionResult, targets: dict[str, Path], full_results: bool = False,
          on_figure: Callable[[int, int], None] | None = None) -> None:
    """Write each requested back (name -> path), in the registry's order; ``full_results``: every case's
    detail in the JSON, passing ones included; ``on_figure``: told (drawn, in all) after each figure."""
    for name, back in BACKS.items():
        if name in targets:
            extra = {"full": full_results} if back.compact else {"on_figure": on_figure} if back.needs_plots else {}
            back.write(result, targets[name], **extra)
