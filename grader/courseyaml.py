"""course.yml as YAML with line numbers: the tree of values each with its line, and the reader that
reports the file, line and key path of any problem, checked against the schema (grader.courseschema).

Kept apart from :mod:`grader.coursefile` (what each section means): parsing, alias bombs, YAML 1.1's
numbers read as text and unknown keys are the same problems whatever the section.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import yaml

from .courseschema import REQUIRED, SECTIONS, Field
from .model.errors import CourseError, did_you_mean

_NUM = (int, float)


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser where PyYAML was built with it: the pure-Python one took ~0.2 s of every check."""


MAX_NODES = 100_000
"""Most YAML values a course file may expand to, aliases counted at each use: a 1 KB "billion laughs"
alias bomb expands to 10**9 and would take minutes and gigabytes to wrap."""


def _check_expansion(root: yaml.Node, path: Path) -> None:
    """Refuse alias bombs and recursive aliases before anything is expanded: the composed graph shares
    aliased nodes, so its expanded size is counted in time linear in the file."""
    sizes: dict[int, int] = {}
    on_stack: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in on_stack:
            raise CourseError(f"{path}:{node.start_mark.line + 1}: a recursive alias (an anchor used inside "
                              "itself) is refused")
        on_stack.add(key)
        children = ([n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode)
                    else node.value if isinstance(node, yaml.SequenceNode) else [])
        total = 1
        for child in children:
            total += size(child)
            if total > MAX_NODES:
                raise CourseError(f"{path}:{node.start_mark.line + 1}: aliases expand this value to more than "
                                  f"{MAX_NODES} values (an alias bomb?)")
        on_stack.discard(key)
        sizes[key] = total
        return total

    size(root)


class _Node:
    """A YAML value with the line it came from, so validation errors can point at it."""

    def __init__(self, value: Any, line: int):
        self.value = value
        self.line = line
        self.key_line = line
        """For a mapping's value: the line of its key (a block value starts on a later line)."""


def _wrap(node: yaml.Node, loader: yaml.SafeLoader, file: Path, where: str = "") -> _Node:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, _Node] = {}
        for key_node, value_node in node.value:
            key = str(loader.construct_object(key_node))
            if key in out:  # YAML would silently keep the last one: a course must say what it means once
                raise CourseError(f"{file}:{key_node.start_mark.line + 1}: {(where + '.' + key).lstrip('.')}: "
                                  f"duplicate key {key!r} (first on line {out[key].key_line})")
            out[key] = _wrap(value_node, loader, file, f"{where}.{key}")
            out[key].key_line = key_node.start_mark.line + 1
        return _Node(out, line)
    if isinstance(node, yaml.SequenceNode):
        return _Node([_wrap(n, loader, file, f"{where}[{i}]") for i, n in enumerate(node.value)], line)
    value = loader.construct_object(node)
    if isinstance(value, str) and not node.style and _YAML12_NUMBER.match(value):  # plain, unquoted
        raise CourseError(f"{file}:{line}: {where.lstrip('.') or '(top)'}: YAML 1.1 reads {value} as the text "
                          f"{value!r}, not a number: write {_yaml11_number(value)} (a dot, and a signed exponent)"
                          " or quote it if text is meant")
    return _Node(value, line)


_YAML12_NUMBER = re.compile(r"^[-+]?(\d[\d_]*\.?\d*|\.\d+)([eE][-+]?\d+)$")
"""A number in YAML 1.2 and JSON, text in YAML 1.1 (PyYAML's): ``1e-5``, ``1.0e5``, ``2E+3``."""


def _yaml11_number(text: str) -> str:
    mantissa, exponent = re.split("[eE]", text.replace("_", ""))
    if "." not in mantissa:
        mantissa += ".0"
    elif mantissa.endswith("."):
        mantissa += "0"
    return f"{mantissa}e{exponent if exponent[0] in '+-' else '+' + exponent}"


def _unwrap(node: _Node) -> Any:
    if isinstance(node.value, dict):
        return {k: _unwrap(v) for k, v in node.value.items()}
    if isinstance(node.value, list):
        return [_unwrap(v) for v in node.value]
    return node.value


class Reader:
    """Typed access to a YAML mapping that reports the file, line and key path of any problem.

    ``section`` names its schema (:data:`grader.courseschema.SECTIONS`): the keys it may hold, their
    types, defaults and bounds. Every key read was declared there (else :class:`SchemaDrift`)."""

    def __init__(self, file: Path, node: _Node, path: str, section: str):
        self.file, self.node, self.path = file, node, path
        self.section = SECTIONS[section]
        if not isinstance(node.value, dict):
            self.fail(f"expected a mapping, got {type(node.value).__name__}")
        self.used: set[str] = set()

    def fail(self, message: str, key: str | None = None) -> None:
        line = self.node.value[key].key_line if key and key in self.node.value else self.node.line
        where = f"{self.path}.{key}" if key else self.path
        raise CourseError(f"{self.file}:{line}: {where.lstrip('.') or '(top)'}: {message}")

    def field(self, key: str) -> Field:
        try:
            field = self.section[key]
        except KeyError:
            raise SchemaDrift(f"the loader reads {self.section.name}.{key}, which grader.courseschema does not "
                              "declare") from None
        KEYS_READ.add((self.section.name, field.name))
        return field

    def has(self, key: str) -> bool:
        self.field(key)
        return key in self.node.value

    def raw(self, key: str, default: Any = ..., *, types: tuple[type, ...] | None = None) -> Any:
        """The value of ``key``; absent: ``default``, else the schema's (a required key: an error).
        ``types``: the schema's unless given."""
        field = self.field(key)
        self.used.add(key)
        types = field.types if types is None else types
        if key not in self.node.value:
            default = field.default if default is ... else default
            if default is REQUIRED:
                self.missing(key)
            return list(default) if isinstance(default, list) else dict(default) if isinstance(default, dict) \
                else default
        value = _unwrap(self.node.value[key])
        if isinstance(value, float) and not math.isfinite(value):
            self.fail(f"expected a finite number, got {value!r}", key)
        if types and not (isinstance(value, types) and not (isinstance(value, bool) and bool not in types)):
            names = " or ".join(t.__name__ for t in types)
            self.fail(f"expected {names}, got {type(value).__name__} {value!r}", key)
        return value

    def number(self, key: str, default: Any = ..., *, integer: bool = False) -> Any:
        """A finite number within the schema's bounds, named in the error."""
        field = self.field(key)
        low, high, low_open = field.low, field.high, field.low_open
        value = self.raw(key, default, types=(int,) if integer else _NUM)
        if value < low or (low_open and value == low) or value > high:
            bound = ("positive" if low_open and low == 0 else "non-negative" if low == 0 else f"at least {low:g}") + \
                (f" and at most {high:g}" if high < math.inf else "")
            self.fail(f"must be {bound}, got {value!r}", key)
        return value

    def child(self, key: str) -> Reader:
        section = self.field(key).section or key
        self.used.add(key)
        if key not in self.node.value:
            self.missing(key)
        return Reader(self.file, self.node.value[key], f"{self.path}.{key}", section)

    def items(self, key: str) -> list[Reader]:
        section = self.field(key).section
        self.used.add(key)
        node = self.node.value.get(key)
        if node is None or not isinstance(node.value, list):
            self.fail(f"expected a list under {key!r}", key)
        return [Reader(self.file, n, f"{self.path}.{key}[{i}]", section) for i, n in enumerate(node.value)]

    def missing(self, key: str) -> None:
        """A required key is absent: name the misspelling that took its place, if one did."""
        names = self.section.names()
        for typo in self.node.value:
            if typo not in names and did_you_mean(typo, [key]):
                self.fail(f"unknown key {typo!r}; did you mean {key!r}?", typo)
        self.fail(f"missing required key {key!r}")

    def done(self) -> None:
        """Refuse keys nobody read: they are typos or options this engine does not have."""
        for key in self.node.value:
            if key not in self.used:
                self.fail(f"unknown key {key!r}{did_you_mean(key, self.section.names())}", key)


class SchemaDrift(AssertionError):
    """The loader reads a key grader.courseschema does not declare: a bug of the grader, not the course."""


KEYS_READ: set[tuple[str, str]] = set()
"""(section, key) of every key the loader has asked about in this process: the test that the schema and
the loader agree (tests/test_courseschema.py) compares it with the schema."""


def parse(data: bytes, path: Path) -> _Node:
    """The course file's bytes as a tree of values with their lines.

    Raises:
        CourseError: not YAML, empty, an alias bomb, or a number YAML 1.1 reads as text.
    """
    loader = _LOADER(data.decode("utf-8", errors="replace"))
    try:
        root = loader.get_single_node()
        if root is None:
            raise CourseError(f"{path}: the course file is empty")
        _check_expansion(root, path)
        return _wrap(root, yaml.SafeLoader(""), path)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise CourseError(f"{path}{line}: not valid YAML: {getattr(e, 'problem', e)}") from None
    except RecursionError:
        raise CourseError(f"{path}: not valid YAML: nested too deeply") from None
    finally:
        loader.dispose()
