"""Course rules checked statically: a numpy exercise must not use torch (or another autodiff library).

The parent parses the learner's modules with :mod:`ast` (it never imports them) and finds imports of
the banned packages, including ``__import__("torch")`` and ``importlib.import_module("torch")`` with a
literal name. The child also refuses those imports at run time; the static check names the line.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

BANNED = ("torch", "tensorflow", "jax", "keras", "autograd", "sklearn", "scipy")


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    name: str

    def message(self) -> str:
        return (f"{self.module}.py:{self.line} imports {self.name}: the exercises are written in numpy by hand "
                f"({self.name} is not allowed in a submission)")


def _banned(name: str | None) -> bool:
    return bool(name) and name.split(".")[0] in BANNED  # type: ignore[union-attr]


def violations(source: str, module: str) -> list[Violation]:
    """Banned imports in one module's source (a syntax error yields none: the child reports it)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Violation(module, node.lineno, a.name) for a in node.names if _banned(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and _banned(node.module):
            found.append(Violation(module, node.lineno, node.module or ""))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in ("__import__", "import_module") and _banned(str(node.args[0].value)):
                found.append(Violation(module, node.lineno, str(node.args[0].value)))
    return found


def scan(workdir: Path) -> dict[str, list[Violation]]:
    """Violations per module name of a prepared submission folder."""
    out = {}
    for path in sorted(workdir.rglob("*.py")):
        module = ".".join(path.relative_to(workdir).with_suffix("").parts)
        found = violations(path.read_text(encoding="utf-8", errors="replace"), module)
        if found:
            out[module] = found
    return out
