"""Notebooks graded by what they define, not by their file name.

A learner's notebook holds definitions and also everything else a notebook is for: training runs,
plots, magics, ``check("Affine")`` calls. Running all of it in the sandbox would time out, or fail on
``import matplotlib``; naming the notebook after a course module is a rule learners forget. So each
notebook becomes one module of its definitions only (:func:`keep_definitions`: imports, ``def``,
``class``, constant assignments; the rest commented out line for line, so line numbers still map back
to cells), under a safe name (``_nb_carol``); and each course module without a .py file becomes a small
shim that imports each target name from the notebook that defines it. A name defined by two notebooks
raises ImportError naming both when (and only when) that name is used, so other exercises still grade.

The parent writes a manifest (line -> notebook, cell, line in cell; the notes on dropped code) before
any child starts, and :func:`take_manifest` reads and removes it before the children start, so what the
child could write there is never read. :class:`NotebookMap` then rewrites ``_nb_carol.py:17`` in
messages as ``carol.ipynb, cell 2, line 3``. Cells are counted from 1, markdown cells included (as a
learner counts them scrolling down).
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model.errors import SubmissionError
from ..model.results import ExerciseResult
from .submission import _not_python, read_cells

MANIFEST = ".grader-notebooks.json"
DISPLAY_ONLY = ("matplotlib", "IPython", "ipywidgets", "seaborn", "plotly", "bokeh", "tqdm", "google.colab",
                "nbgrader", "grader", "pylab", "ipykernel", "display")
"""Imports kept out of notebook modules: plotting, widgets, display and the grader's own notebook helper
(none of them is available in the sandbox, and no definition needs them to be graded)."""
GRADER_CALLS = ("check", "grade_cell")
"""``check("Affine")`` cells of a learner notebook: the grader's own, dropped and counted in one note per
notebook (a released notebook has one after every exercise)."""
GRADER_OWN = "the grader's own"
MAX_NOTES = 60


@dataclass
class Cell:
    """One code cell after filtering: its kept text (one line out per line in), and what it provides."""

    number: int
    lines: list[str]
    defines: dict[str, int] = field(default_factory=dict)
    """Top-level names it defines (def, class, assignment) -> line in the cell."""
    dropped: list[str] = field(default_factory=list)
    grader_lines: int = 0
    """Statements of the grader's own (``check(...)``, ``from grader.notebook import check``) dropped."""
    futures: list[str] = field(default_factory=list)


def _constant(node: ast.AST) -> bool:
    """Literals, containers of them, arithmetic on them, and names (``np.pi``, another constant)."""
    if isinstance(node, (ast.Constant, ast.Name)):
        return True
    if isinstance(node, ast.Attribute):
        return _constant(node.value) and not isinstance(node.value, ast.Constant)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_constant(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and _constant(k) for k in node.keys) and all(_constant(v) for v in node.values)
    if isinstance(node, ast.UnaryOp):
        return _constant(node.operand)
    if isinstance(node, ast.BinOp):
        return _constant(node.left) and _constant(node.right)
    return False


def _display_only(name: str | None) -> bool:
    return bool(name) and any(name == m or name.startswith(m + ".") for m in DISPLAY_ONLY)  # type: ignore[union-attr]


def _names(target: ast.AST) -> list[str] | None:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        out: list[str] = []
        for t in target.elts:
            names = _names(t)
            if names is None:
                return None
            out += names
        return out
    return None


def _judge(stmt: ast.stmt) -> tuple[bool, list[str], str]:
    """(kept, names defined, why dropped) of one top-level statement."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return True, [stmt.name], ""
    if isinstance(stmt, ast.Import):
        shown = [a.name for a in stmt.names if _display_only(a.name)]
        return (False, [], "display-only import") if shown else (True, [], "")
    if isinstance(stmt, ast.ImportFrom):
        if stmt.level == 0 and (stmt.module or "").split(".")[0] == "grader":
            return False, [], GRADER_OWN
        if stmt.level == 0 and _display_only(stmt.module):
            return False, [], "display-only import"
        return True, [], ""
    if (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Name)
            and stmt.value.func.id in GRADER_CALLS):
        return False, [], GRADER_OWN
    if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        names = [n for t in targets for n in (_names(t) or [""])]
        if all(names) and (stmt.value is None or _constant(stmt.value)):
            return True, names, ""
    if isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
                                      and isinstance(stmt.value.value, str)):
        return True, [], ""
    return False, [], "top-level code not run by the grader"


def _first(lines: list[str], stmt: ast.stmt) -> str:
    text = lines[stmt.lineno - 1].strip()
    return text if len(text) <= 60 else text[:57] + "..."


def keep_definitions(number: int, source: str) -> Cell:
    """The cell with only its definitions left as code; magics, shell and help lines, and every other
    top-level statement, commented out in place (``# (dropped) ...``), each listed in ``dropped``."""
    raw = source.splitlines()
    cell = Cell(number, list(raw))
    if raw and raw[0].lstrip().startswith("%%"):
        cell.lines = [f"# (dropped) {ln}" for ln in raw]
        cell.dropped.append(f"line 1: {raw[0].strip()[:60]} (a cell magic: the whole cell)")
        return cell
    for i, ln in enumerate(raw):
        if _not_python(ln):
            cell.lines[i] = f"# (dropped) {ln}"
            cell.dropped.append(f"line {i + 1}: {ln.strip()[:60]} (IPython syntax)")
    try:
        tree = ast.parse("\n".join(cell.lines))
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        where = f" (line {e.lineno})" if isinstance(e, SyntaxError) and e.lineno else ""
        reason = e.msg if isinstance(e, SyntaxError) else type(e).__name__
        cell.lines = [f"# (dropped) {ln}" for ln in raw]
        cell.dropped = [f"not run: it does not parse: {reason}{where}; its definitions are missing"]
        return cell
    judged = [(stmt, *_judge(stmt)) for stmt in tree.body]
    spans = {id(s): (min([s.lineno, *(d.lineno for d in getattr(s, "decorator_list", []))]),
                     s.end_lineno or s.lineno) for s, *_ in judged}
    dropped_lines = {n for s, kept, _, _ in judged if not kept for n in range(spans[id(s)][0], spans[id(s)][1] + 1)}
    for stmt, kept, names, why in judged:
        start, end = spans[id(stmt)]
        if kept and any(n in dropped_lines for n in range(start, end + 1)):  # ``x = 1; plot(x)``
            kept, why = False, "shares a line with code not run by the grader"
        if kept:
            if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
                cell.futures += [a.name for a in stmt.names]  # must open the module: moved to its line 1
                kept, why = False, ""
            else:
                cell.defines.update({n: start for n in names})
                continue
        for n in range(start, end + 1):
            cell.lines[n - 1] = f"# (dropped) {cell.lines[n - 1]}"
        if why == GRADER_OWN:
            cell.grader_lines += 1
        elif why:
            cell.dropped.append(f"line {start}: {_first(raw, stmt)} ({why})")
    return cell


@dataclass
class Notebook:
    """One notebook's module: its name in messages, its module name, and its filtered code cells."""

    name: str
    module: str
    cells: list[Cell]

    def source(self) -> tuple[str, list[tuple[int, int, int]]]:
        """The module text, and per cell (first module line, cell number, line count)."""
        futures = sorted({f for c in self.cells for f in c.futures})
        out = [f"from __future__ import {', '.join(futures)}" if futures else f"# definitions of {self.name}"]
        spans = []
        for c in self.cells:
            out.append(f"# --- {self.name}, cell {c.number} ---")
            spans.append((len(out) + 1, c.number, len(c.lines)))
            out += c.lines
            out.append("")
        return "\n".join(out) + "\n", spans

    def defines(self) -> dict[str, int]:
        """Name -> cell of its last definition (a later cell redefines, as when run top to bottom)."""
        return {n: c.number for c in self.cells for n in c.defines}


def read_notebook(text: str, name: str, module: str) -> Notebook:
    return Notebook(name, module, [keep_definitions(i, src) for i, src in read_cells(text, name)])


def _module_name(rel: Path, taken: set[str]) -> str:
    base = "_nb_" + re.sub(r"[^A-Za-z0-9_]", "_", str(rel.with_suffix("")))
    name, k = base, 1
    while name in taken:
        k += 1
        name = f"{base}_{k}"
    taken.add(name)
    return name


def write_notebooks(notebooks: list[tuple[Path, str]], workdir: Path, targets: list[str]) -> list[Path]:
    """Write one module per notebook, a shim per target module without a .py file, and the manifest.

    ``notebooks`` holds (relative path, text) in path order; ``targets`` the course's ``module.Name``s.
    Returns the files written."""
    taken = {".".join(p.relative_to(workdir).with_suffix("").parts) for p in workdir.rglob("*.py")}
    books = [read_notebook(text, str(rel), _module_name(rel, taken)) for rel, text in notebooks]
    manifest: dict[str, Any] = {"modules": {}, "shims": {}, "notes": []}
    written: list[Path] = []
    for nb in books:
        text, spans = nb.source()
        written.append(workdir / f"{nb.module}.py")
        written[-1].write_text(text)
        manifest["modules"][f"{nb.module}.py"] = {"notebook": nb.name, "cells": spans}
        manifest["notes"] += [f"{nb.name}, cell {c.number}: {d}" for c in nb.cells for d in c.dropped]
        own = [c.number for c in nb.cells if c.grader_lines]
        if own:
            manifest["notes"].append(f"{nb.name}, cell{'s' if len(own) > 1 else ''} {', '.join(map(str, own))}: "
                                     f"check(...) and its import (the grader's own, not run when grading)")
    wanted: dict[str, list[str]] = {}
    for target in targets:
        module, _, name = target.rpartition(".")
        if module.isidentifier() and not (workdir / f"{module}.py").exists():
            wanted.setdefault(module, []).append(name)
    searched = [nb.name for nb in books]
    for module, names in wanted.items():
        written.append(workdir / f"{module}.py")
        written[-1].write_text(_shim(module, names, books))
        manifest["shims"][f"{module}.py"] = searched
    if len(manifest["notes"]) > MAX_NOTES:
        extra = len(manifest["notes"]) - MAX_NOTES
        manifest["notes"] = manifest["notes"][:MAX_NOTES] + [f"... and {extra} more"]
    (workdir / MANIFEST).write_text(json.dumps(manifest))
    return [*written, workdir / MANIFEST]


def _shim(module: str, names: list[str], books: list[Notebook]) -> str:
    lines = [f'"""{module}: written by the grader from the submission\'s notebooks."""']
    ambiguous = {}
    for name in dict.fromkeys(names):
        where = [(nb, nb.defines()[name]) for nb in books if name in nb.defines()]
        if len(where) == 1:
            lines.append(f"from {where[0][0].module} import {name}")
        elif where:
            places = " and ".join(f"{nb.name} cell {c}" for nb, c in where)
            ambiguous[name] = f"{name} is defined in {places}: keep one"
    if ambiguous:
        lines += [f"_AMBIGUOUS = {ambiguous!r}", "", "",
                  "def __getattr__(name):",
                  "    if name in _AMBIGUOUS:",
                  "        raise ImportError(_AMBIGUOUS[name])",
                  "    raise AttributeError(name)"]
    return "\n".join(lines) + "\n"


_FILE_LINE = re.compile(r'(?P<indent> *)File "(?P<file>[^"\n]+)", line (?P<line>\d+)(?P<rest>[^\n]*)\n?(?P<code>    [^\n]*\n?)?')
_WHERE = re.compile(r"(?P<file>[\w./-]+\.py)(?::(?P<line>\d+))?(?P<rest> in \w+)?")


@dataclass
class NotebookMap:
    """Where generated lines come from, read once from the manifest; empty for a .py submission."""

    modules: dict[str, dict[str, Any]] = field(default_factory=dict)
    shims: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def place(self, file: str, line: int | None) -> tuple[str, str] | None:
        """(``carol.ipynb``, ``cell 2, line 3``) for a line of a notebook module; None for other files."""
        info = self.modules.get(file)
        if info is None:
            return None
        for start, number, count in info["cells"]:
            if line is not None and start <= line < start + count:
                return str(info["notebook"]), f"cell {number}, line {line - start + 1}"
        return str(info["notebook"]), ""

    def where(self, where: str) -> str:
        """A child's ``file.py:LINE in func`` in the learner's terms."""
        m = _WHERE.fullmatch(where)
        if not m:
            return where
        if m.group("file") in self.shims:
            return "notebooks searched: " + (", ".join(self.shims[m.group("file")]) or "none")
        place = self.place(m.group("file"), int(m.group("line")) if m.group("line") else None)
        if place is None:
            return where
        return ", ".join(p for p in place if p) + (m.group("rest") or "")

    def text(self, text: str) -> str:
        """Traceback frames rewritten (the shims' frames left out) and every ``(where)`` translated."""
        def frame(m: re.Match[str]) -> str:
            if m.group("file") in self.shims:
                return ""
            place = self.place(m.group("file"), int(m.group("line")))
            if place is None:
                return m.group(0)
            end = "\n" if m.group(0).endswith("\n") or m.group("code") else ""
            return f'{m.group("indent")}File "{place[0]}", {place[1] or "line " + m.group("line")}{m.group("rest")}{end}' \
                + (m.group("code") or "")

        text = _FILE_LINE.sub(frame, text)
        return re.sub(r"\(([\w./-]+\.py(?::\d+)?(?: in \w+)?)\)", lambda m: f"({self.where(m.group(1))})", text)

    def fix(self, result: ExerciseResult) -> ExerciseResult:
        """Every case's message and ``where`` in notebook terms (in place; returned for chaining)."""
        if not self.modules and not self.shims:
            return result
        for check in result.checks:
            for case in check.cases:
                case.message = self.text(case.message)
                if isinstance(case.details.get("where"), str):
                    case.details["where"] = self.where(case.details["where"])
        return result


def take_manifest(workdir: Path) -> NotebookMap:
    """Read the manifest the front wrote and remove it: called before any child starts."""
    path = workdir / MANIFEST
    if not path.exists():
        return NotebookMap()
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise SubmissionError(f"{path}: the grader's notebook manifest cannot be read ({e})") from None
    path.unlink()
    return NotebookMap(data["modules"], data["shims"], data["notes"])
