"""The shape of the package holds: no import circles, a leaf model, kinds named in one place, modules of
a readable size (docs/architecture.md draws the same picture)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from .conftest import ROOT

PACKAGE = ROOT / "grader"
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Modules of the package that ``name`` imports (at top level or inside functions)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in MODULES else base)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle() -> None:
    assert _cycles() == []


def test_the_model_imports_nothing_else_of_the_package() -> None:
    for name, deps in GRAPH.items():
        if name.startswith("grader.model"):
            assert all(d.startswith("grader.model") for d in deps), (name, deps)


def test_the_sandbox_child_imports_no_grader_module() -> None:
    """The child loads its two siblings by path; importing the package would bring references within reach."""
    for name in ("grader.sandbox.child", "grader.sandbox.protocol", "grader.sandbox.confinement"):
        assert GRAPH[name] == set(), (name, GRAPH[name])


KIND_NAMES = "layer|loss|function|optimizer"
KIND_TEST = re.compile(rf"""\b(ex|exercise)\.kind\s*(==|!=|in\b|not in\b)|kind\s*(==|!=)\s*["']({KIND_NAMES})["']"""
                       rf"""|["']({KIND_NAMES})["']\s*(==|!=)""")


def test_kinds_are_compared_to_strings_only_in_the_kinds_module() -> None:
    offenders = []
    for name, path in MODULES.items():
        if name == "grader.kinds":
            continue
        for n, line in enumerate(path.read_text().splitlines(), start=1):
            if KIND_TEST.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []


def test_no_module_is_long_without_a_reason() -> None:
    """Above MAX_LINES a module says in its docstring why it stays whole ('Why one module: ...')."""
    long = []
    for name, path in MODULES.items():
        text = path.read_text()
        if len(text.splitlines()) > MAX_LINES and "Why one module:" not in (ast.get_docstring(ast.parse(text)) or ""):
            long.append(f"{path.relative_to(ROOT)} ({len(text.splitlines())} lines)")
    assert long == []
