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
    write: Callable[[SubmissionResult, Path], None]
    needs_plots: bool = False
    """The engine must collect the data figures are drawn from (curves) for this back."""
    compact: bool = False
    """The back writes passing exercises compactly unless asked for everything (``--full-results``)."""


def _json(result: SubmissionResult, path: Path, full: bool = True) -> None:
    from ..files import write_atomically

    write_atomically(path, to_json(result, full))  # a full disk leaves no empty or partial file


def _html(result: SubmissionResult, path: Path) -> None:
    from .html import render

    path.write_text(render(result))


def _plots(result: SubmissionResult, path: Path) -> None:
    from . import plots

    plots.write(result, path)


BACKS: dict[str, Back] = {b.name: b for b in (Back("json", _json, compact=True), Back("html", _html, needs_plots=True),
                                              Back("plots", _plots, needs_plots=True))}


def write(result: SubmissionResult, targets: dict[str, Path], full_results: bool = False) -> None:
    """Write each requested back (name -> path), in the registry's order; ``full_results``: every case's
    detail in the JSON, passing ones included."""
    for name, back in BACKS.items():
        if name in targets:
            if back.compact:
                back.write(result, targets[name], full_results)  # type: ignore[call-arg]
            else:
                back.write(result, targets[name])
