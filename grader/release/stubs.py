"""Turn the reference solutions into the stubs students start from, nbgrader-style.

The course keeps one copy of each exercise module: the solved one under ``solutions/``. The code a
student must write is fenced by two comment lines, at the indentation of the code they enclose::

    def forward(self, x: float) -> float:
        \"\"\"Return the logistic sigmoid of ``x``.\"\"\"
        ### BEGIN SOLUTION
        return 1.0 / (1.0 + math.exp(-x))
        ### END SOLUTION

Releasing replaces each fenced block, markers included, by a single line at the markers' indentation::

        raise NotImplementedError("Sigmoid.forward is not implemented yet: write your code here")

so that the stub still imports, the tests fail with a message that says which function to write, and
everything around the blocks (signatures, docstrings, comments, imports) reaches students byte for byte.
A block outside any function gets ``"this part is not implemented yet: write your code here"``.

Notebooks in ``solutions/`` are released the same way, cell by cell (:func:`strip_notebook`), their
outputs cleared; other files are copied as they are, unless they hold a solution block (an error, since
nothing would strip it); ``__pycache__`` and ``.ipynb_checkpoints`` are left out.

Why one module: a release is one all-or-nothing walk over ``solutions/`` that strips each file by its
kind with one marker grammar; a notebook's code cell is stripped exactly as a module is.

Only real comment lines count as markers (found with ``tokenize``), so a docstring that documents this
convention is left alone. A block that is malformed, or that would leave a stub that does not compile,
is an error rather than something to guess at: a broken stub shipped to a whole class costs far more
than a failed release.
"""
from __future__ import annotations

import ast
import io
import re
import shutil
import tokenize
from pathlib import Path

from ..model.errors import GraderError

__all__ = ["BEGIN_MARKER", "END_MARKER", "ReleaseError", "diff_release", "release", "strip_notebook",
           "strip_solutions"]

BEGIN_MARKER = "### BEGIN SOLUTION"
END_MARKER = "### END SOLUTION"

_MODULE_LEVEL = "this part"
_RAISE_TEMPLATE = 'raise NotImplementedError("{what} is not implemented yet: write your code here")'
_INDENT = re.compile(r"[ \t\f]*")
_SKIPPED_DIRS = frozenset({"__pycache__", ".ipynb_checkpoints"})


class ReleaseError(GraderError):
    """A solution file cannot be turned into a stub; the message starts with ``file:line:``.

    Attributes:
        filename: The file being released, as given to :func:`strip_solutions`.
        lineno: The 1-based line the problem was found on, or ``None`` when it concerns the whole file.
    """

    def __init__(self, filename: str, lineno: int | None, problem: str) -> None:
        self.filename = filename
        self.lineno = lineno
        where = filename if lineno is None else f"{filename}:{lineno}"
        super().__init__(f"{where}: {problem}")


def _split_lines(source: str) -> list[str]:
    """Split on ``\\n`` only, keeping the endings, so that line numbers agree with ``ast``.

    ``str.splitlines`` also breaks on form feeds and other separators that Python does not treat as
    line ends, which would shift every line number after them.
    """
    parts = source.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _comment_rows(source: str) -> set[int]:
    """Return the lines whose first token is a comment, so that marker text inside strings is ignored."""
    rows = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and not token.line[: token.start[1]].strip():
            rows.add(token.start[0])
    return rows


def _find_blocks(lines: list[str], comment_rows: set[int], filename: str) -> list[tuple[int, int, str]]:
    """Pair the markers into ``(begin, end, indentation)`` blocks, with 1-based line numbers."""
    blocks: list[tuple[int, int, str]] = []
    open_at: int | None = None
    open_indent = ""
    for lineno, line in enumerate(lines, start=1):
        if lineno not in comment_rows:
            continue
        text = line.strip()
        indent = _INDENT.match(line).group()
        if text == BEGIN_MARKER:
            if open_at is not None:
                problem = f"nested {BEGIN_MARKER!r}: the block opened on line {open_at} is not closed"
                raise ReleaseError(filename, lineno, problem)
            open_at, open_indent = lineno, indent
        elif text == END_MARKER:
            if open_at is None:
                raise ReleaseError(filename, lineno, f"{END_MARKER!r} without a {BEGIN_MARKER!r} before it")
            if indent != open_indent:
                raise ReleaseError(
                    filename,
                    lineno,
                    f"{END_MARKER!r} is indented {indent!r} but its {BEGIN_MARKER!r} on line {open_at} is "
                    f"indented {open_indent!r}: the stub's indentation would be ambiguous",
                )
            blocks.append((open_at, lineno, indent))
            open_at = None
    if open_at is not None:
        raise ReleaseError(filename, open_at, f"{BEGIN_MARKER!r} is never closed by {END_MARKER!r}")
    return blocks


class _FunctionSpans(ast.NodeVisitor):
    """Collect every function with the ``__qualname__`` Python will give it and the lines it owns."""

    def __init__(self) -> None:
        self.functions: list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, str]] = []
        self._prefix: list[str] = []

    def _visit_scope(self, node: ast.AST, name: str, is_function: bool) -> None:
        qualname = ".".join([*self._prefix, name])
        if is_function:
            self.functions.append((node, qualname))  # type: ignore[arg-type]
        # Matches Python's own rule: names defined inside a function are qualified with <locals>.
        self._prefix.extend([name, "<locals>"] if is_function else [name])
        self.generic_visit(node)
        del self._prefix[-(2 if is_function else 1) :]

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:  # noqa: N802 (ast visitor naming)
        self._visit_scope(node, node.name, is_function=True)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:  # noqa: N802
        self._visit_scope(node, node.name, is_function=True)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:  # noqa: N802
        self._visit_scope(node, node.name, is_function=False)


def _statement_start(node: ast.stmt) -> int:
    """First line of a statement, counting decorators, which ``lineno`` leaves out."""
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno, *(decorator.lineno for decorator in decorators)])


def _enclosing_qualnames(tree: ast.Module, n_lines: int) -> list[tuple[int, int, int, str]]:
    """Return ``(first_line, last_line, body_column, qualname)`` for every function.

    ``end_lineno`` stops at the last statement, but a block made only of comments (or sitting after the
    last statement) still belongs to the function visually; so a function's span runs on until the next
    statement at or left of its ``def``'s column.
    """
    collector = _FunctionSpans()
    collector.visit(tree)
    starts = [
        (_statement_start(node), node.col_offset) for node in ast.walk(tree) if isinstance(node, ast.stmt)
    ]
    spans = []
    for node, qualname in collector.functions:
        last = min(
            (start - 1 for start, col in starts if start > node.end_lineno and col <= node.col_offset),
            default=n_lines,
        )
        spans.append((node.lineno, last, node.col_offset, qualname))
    return spans


def _qualname_at(spans: list[tuple[int, int, int, str]], lineno: int, indent: str) -> str:
    """Name the innermost function whose body holds ``lineno``, or the module-level text."""
    best: tuple[int, str] | None = None
    for first, last, column, qualname in spans:
        if first < lineno <= last and len(indent) > column and (best is None or first > best[0]):
            best = (first, qualname)
    return _MODULE_LEVEL if best is None else best[1]


def strip_solutions(source: str, filename: str = "<source>") -> str:
    """Replace every solution block in ``source`` by a ``raise NotImplementedError`` line.

    Args:
        source: The text of a reference solution module.
        filename: Used only in error messages and for ``compile``, so that errors point at the file.

    Returns:
        The stub: ``source`` with each block, markers included, replaced by one line at the markers'
        indentation, and every other line unchanged.

    Raises:
        ReleaseError: If ``source`` does not parse, a marker is unmatched, nested or indented unlike its
            partner, or the stub would not compile (e.g. a block that cut a statement in half).
    """
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as error:
        raise ReleaseError(filename, error.lineno, f"the solution does not parse: {error.msg}") from error
    lines = _split_lines(source)
    blocks = _find_blocks(lines, _comment_rows(source), filename)
    if not blocks:
        return source
    spans = _enclosing_qualnames(tree, len(lines))
    out: list[str] = []
    copied_up_to = 0  # 0-based index of the first line not yet copied
    for begin, end, indent in blocks:
        out.extend(lines[copied_up_to : begin - 1])
        end_line = lines[end - 1]
        newline = end_line[len(end_line.rstrip("\r\n")) :]
        what = _qualname_at(spans, begin, indent)
        out.append(indent + _RAISE_TEMPLATE.format(what=what) + newline)
        copied_up_to = end
    out.extend(lines[copied_up_to:])
    result = "".join(out)
    try:
        compile(result, filename, "exec", dont_inherit=True)
    except SyntaxError as error:
        problem = f"the stub would not compile ({error.msg}): check where the blocks start and end"
        raise ReleaseError(filename, error.lineno, problem) from error
    return result


HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"
_CELL_STUB = 'raise NotImplementedError("this cell is not implemented yet: write your code here")'
_ANSWER_STUB = "*Write your answer here.*"


def _cut_blocks(text: str, begin: str, end: str, replacement: str | None, where: str) -> str:
    """Replace each line-level ``begin``..``end`` block (markers included) by ``replacement`` (None: by
    nothing), line by line: for markdown and hidden tests, where there is no Python to parse."""
    out: list[str] = []
    open_at: int | None = None
    for lineno, line in enumerate(_split_lines(text), start=1):
        marker = line.strip()
        if marker == begin:
            if open_at is not None:
                raise ReleaseError(where, lineno, f"nested {begin!r}: the block opened on line {open_at} is not closed")
            open_at = lineno
            if replacement is not None:
                out.append(_INDENT.match(line).group() + replacement + "\n")
        elif marker == end:
            if open_at is None:
                raise ReleaseError(where, lineno, f"{end!r} without a {begin!r} before it")
            open_at = None
        elif open_at is None:
            out.append(line)
    if open_at is not None:
        raise ReleaseError(where, open_at, f"{begin!r} is never closed by {end!r}")
    return "".join(out).rstrip("\n") if not text.endswith("\n") else "".join(out)


def _has_marker(text: str, *markers: str) -> bool:
    return any(line.strip() in markers for line in text.split("\n"))


def strip_notebook(text: str, filename: str = "<notebook>") -> str:
    """Release a notebook of ``solutions/``: what :func:`strip_solutions` does to a module, per cell.

    A code cell with solution markers is stripped like a module (and must parse, so a cell that mixes
    magics with a solution block is an error); a markdown or raw cell has its blocks replaced by a line
    asking for the answer; ``### BEGIN HIDDEN TESTS`` blocks are removed; a cell nbgrader marks as a
    solution but without markers is replaced whole, as nbgrader would. Every output and execution count
    is cleared (a solved notebook's outputs show what the solution computes, a traceback its source).
    Works on the JSON itself (not nbformat's reader, which may add random cell ids), so the same input
    gives the same bytes and ``release --check`` can compare them.
    """
    import json

    try:
        nb = json.loads(text)
        cells = nb["cells"]
        assert isinstance(cells, list) and all(isinstance(c, dict) for c in cells)
    except (ValueError, KeyError, TypeError, AssertionError) as error:
        raise ReleaseError(filename, None, f"not a readable notebook: {error}") from error
    for number, cell in enumerate(cells, start=1):
        where = f"{filename}, cell {number}"
        raw = cell.get("source", "")
        source = "".join(raw) if isinstance(raw, list) else str(raw)
        kind = cell.get("cell_type")
        is_solution = bool((cell.get("metadata") or {}).get("nbgrader", {}).get("solution"))
        if _has_marker(source, HIDDEN_BEGIN, HIDDEN_END):
            source = _cut_blocks(source, HIDDEN_BEGIN, HIDDEN_END, None, where)
        if _has_marker(source, BEGIN_MARKER, END_MARKER):
            if kind == "code":
                try:
                    source = strip_solutions(source, where)
                except ReleaseError as error:
                    if not any(line.lstrip().startswith(("%", "!")) for line in source.split("\n")):
                        raise
                    hint = "; a cell with a solution block must be plain Python: move its magics and shell lines"
                    raise ReleaseError(where, error.lineno, str(error).split(": ", 1)[1] + hint) from error
            else:
                source = _cut_blocks(source, BEGIN_MARKER, END_MARKER, _ANSWER_STUB, where)
        elif is_solution:
            source = _CELL_STUB if kind == "code" else _ANSWER_STUB
        cell["source"] = source.splitlines(keepends=True) if isinstance(raw, list) else source
        if kind == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _cell_text(path: Path) -> str:
    """Every cell's source of a notebook, one after another (the raw text if it is not JSON)."""
    import json

    text = path.read_text("utf-8", errors="replace")
    try:
        cells = json.loads(text).get("cells", [])
        return "\n".join("".join(c.get("source", "")) for c in cells if isinstance(c, dict))
    except (ValueError, AttributeError, TypeError):
        return text


def _walk(root: Path) -> list[Path]:
    """Files under ``root`` relative to it, sorted, leaving out ``__pycache__``, notebook checkpoints."""
    if not root.is_dir():
        return []
    return sorted(
        path.relative_to(root)
        for path in root.rglob("*")
        if path.is_file() and not _SKIPPED_DIRS.intersection(path.relative_to(root).parts)
    )


def _expected(solutions_dir: Path) -> dict[Path, bytes]:
    """What the exercises folder should hold, relative path to bytes; strips everything before any write."""
    if not solutions_dir.is_dir():
        # An empty source would otherwise make release() delete every exercise.
        raise ReleaseError(str(solutions_dir), None, "the solutions folder does not exist")
    expected: dict[Path, bytes] = {}
    for relative in _walk(solutions_dir):
        path = solutions_dir / relative
        if relative.suffix not in (".py", ".ipynb"):
            expected[relative] = path.read_bytes()
            lines = expected[relative].decode("utf-8", errors="replace").split("\n")
            marked = next((n for n, line in enumerate(lines, 1) if line.strip() == BEGIN_MARKER), None)
            if marked:
                problem = "a solution block in a file release cannot strip (only .py and .ipynb): remove it"
                raise ReleaseError(str(path), marked, problem)
            continue
        try:
            # Text mode turns \r\n into \n, so stubs come out the same on every platform.
            source = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise ReleaseError(str(path), None, f"not valid UTF-8: {error}") from error
        strip = strip_solutions if relative.suffix == ".py" else strip_notebook
        expected[relative] = strip(source, str(path)).encode("utf-8")
    return expected


def release(solutions_dir: Path, exercises_dir: Path) -> list[Path]:
    """Write the student stubs for every file in ``solutions_dir`` into ``exercises_dir``.

    Every solution is stripped before anything is written, so a malformed block leaves the exercises
    untouched instead of half released. ``.py`` files in ``exercises_dir`` that no longer have a solution
    are deleted, so that renamed exercises do not linger; other files there are left alone, since they
    may be data the course added by hand.

    Args:
        solutions_dir: Root of the reference solutions; searched recursively, ``__pycache__`` skipped.
        exercises_dir: Root the stubs go to, same relative paths; created as needed.

    Returns:
        Every path written (stubs and copied non-Python files), under ``exercises_dir``, sorted.

    Raises:
        ReleaseError: If ``solutions_dir`` is missing or any solution cannot be stripped.
    """
    expected = _expected(solutions_dir)
    for relative in _walk(exercises_dir):
        if relative.suffix == ".py" and relative not in expected:
            (exercises_dir / relative).unlink()
    written = []
    for relative, content in expected.items():
        target = exercises_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if relative.suffix in (".py", ".ipynb"):
            # Bytes, not text mode: the stub already has "\n" endings, whatever the platform.
            target.write_bytes(content)
        else:
            shutil.copyfile(solutions_dir / relative, target)
        written.append(target)
    return sorted(written)


def diff_release(solutions_dir: Path, exercises_dir: Path) -> list[str]:
    """List what :func:`release` would change in ``exercises_dir``, so a test can keep it in sync.

    Args:
        solutions_dir: Root of the reference solutions.
        exercises_dir: Root of the released stubs.

    Returns:
        Sorted POSIX relative paths that differ from what :func:`release` would write, are missing, or are
        ``.py`` files without a solution, or notebooks without one that hold a solution block; an empty
        list means the exercises are up to date.

    Raises:
        ReleaseError: If ``solutions_dir`` is missing or any solution cannot be stripped.
    """
    expected = _expected(solutions_dir)
    present = set(_walk(exercises_dir))
    stale = {
        relative
        for relative, content in expected.items()
        if relative not in present or (exercises_dir / relative).read_bytes() != content
    }
    extra = {relative for relative in present if relative.suffix == ".py" and relative not in expected}
    # A notebook no solution releases (copied there by hand) is out of date if it holds a solution block.
    extra |= {relative for relative in present if relative.suffix == ".ipynb" and relative not in expected
              and _has_marker(_cell_text(exercises_dir / relative), BEGIN_MARKER)}
    return sorted(relative.as_posix() for relative in stale | extra)
