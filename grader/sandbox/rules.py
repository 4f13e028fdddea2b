"""Course rules checked statically: a numpy exercise must not use torch (or another autodiff library).

The parent parses the learner's modules with :mod:`ast` (it never imports them) and finds imports of
the banned packages, including ``__import__("torch")`` and ``importlib.import_module("torch")`` with a
literal name. The child also refuses those imports at run time; the static check names the line.
The scan never raises: a module it cannot parse for another reason than a syntax error (a NUL byte,
nesting that exhausts the parser) fails closed, as a violation of its own.
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
    problem: str = ""
    """Set when the module could not be scanned at all (then line is 0 and name empty)."""

    def message(self) -> str:
        if self.problem:
            return f"{self.module}.py could not be checked for banned imports: {self.problem}"
        return (f"{self.module}.py:{self.line} imports {self.name}: the exercises are written in numpy by hand "
                f"({self.name} is not allowed in a submission)")


def _banned(name: str | None) -> bool:
    return bool(name) and name.split(".")[0] in BANNED  # type: ignore[union-attr]


def _unscannable(module: str, problem: str) -> list[Violation]:
    return [Violation(module, 0, "", problem)]


def violations(source: str, module: str) -> list[Violation]:
    """Banned imports in one module's source (a syntax error yields none: the child reports it). Total:
    a source the parser cannot take (a NUL byte, an expression nested thousands deep) is one violation
    saying so, never an exception, so that it fails closed instead of slipping past the check."""
    if "\0" in source:
        return _unscannable(module, "the source contains a NUL byte")
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        if "null bytes" in str(e):
            return _unscannable(module, "the source contains a NUL byte")
        return []
    except RecursionError:
        return _unscannable(module, "the code is nested too deeply for the parser")
    except MemoryError:
        return _unscannable(module, "the code is nested too deeply for the parser (out of memory)")
    except Exception as e:  # ValueError and whatever else a parser may raise on odd input
        return _unscannable(module, f"the parser failed ({type(e).__name__}: {str(e)[:200]})")
    try:
        return _walk(tree, module)
    except Exception as e:  # ast.walk is iterative; this is a guard, not an expected path
        return _unscannable(module, f"the scan failed ({type(e).__name__}: {str(e)[:200]})")


def _walk(tree: ast.AST, module: str) -> list[Violation]:
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
        try:
            source = path.read_text(encoding="utf-8", errors="replace")
        except (OSError, MemoryError) as e:
            out[module] = _unscannable(module, f"it could not be read ({type(e).__name__})")
            continue
        found = violations(source, module)
        if found:
            out[module] = found
    return out
