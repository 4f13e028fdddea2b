"""``grader new exercise``: one new exercise scaffolded across the course folder, valid as written.

It appends, as text (course.yml's comments and layout stay as they are): the exercise's entry in
course.yml, its solution between solution markers in ``solutions/<module>.py``, its torch twin in the
course folder's ``references.py`` (unless a twin of that name exists already) and a planted-bug test in
``tests/test_<twin>_planted.py``. Each placeholder is the same simple, correct computation on both sides
(a layer: the identity; a loss: the mean squared error; a function: ``2 * x``; an optimizer: plain SGD)
and is marked ``TODO(<Name>)``: so the course validates and grades solutions to full marks at once, the
released stub raises NotImplementedError, and the planted bug is caught; the author then replaces both
sides. Nothing is kept when the result does not validate: every file is restored.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..courseyaml import parse
from ..model.course import Course
from ..model.errors import CourseError, GraderError


@dataclass(frozen=True)
class Template:
    """What a kind's scaffold writes; ``{name}``, ``{id}``, ``{module}``, ``{twin}`` are filled in."""

    entry: str
    """course.yml lines, indented as an item of ``exercises:`` at column 0."""
    solution: str
    twin: str
    old: str
    """The placeholder line the planted bug replaces (once in the solution module)..."""
    new: str
    """...by this."""
    check: str
    """The check that catches the planted bug."""


TEMPLATES: dict[str, Template] = {
    "layer": Template(
        entry='''\
- id: "{id}"
  title: {name}
  kind: layer
  target: {module}.{name}
  reference: {twin}  # TODO({name}): the twin in references.py
  points: 2
  cases:  # TODO({name}): shapes, ranges ({{shape, low, high}}), hyper-parameters, kinks
    - {{x: [4, 5]}}
    - {{x: [2, 3, 4]}}
  checks: {{reference: 3, gradcheck: 2, contract: 1}}
''',
        solution='''\
class {name}:
    """TODO({name}): what the layer computes. Scaffolded by `grader new exercise`: a placeholder, the identity.

    Shapes: x (any) -> same.
    """

    def __init__(self):
        self.params = []
        self.grads = []

    def forward(self, x):
        """Return a NEW array; never change x."""
        ### BEGIN SOLUTION
        return x.copy()  # TODO({name}): placeholder, the identity
        ### END SOLUTION

    def backward(self, dout):
        """Return dL/dx given dL/dy (dout, same shape as the output); never change dout."""
        ### BEGIN SOLUTION
        return dout.copy()  # TODO({name}): placeholder, the identity's gradient
        ### END SOLUTION
''',
        twin='''\
@twin("{twin}")
def {twin}(x: torch.Tensor) -> torch.Tensor:
    """The torch twin of {module}.{name}: its forward in torch; autograd gives the gradient."""
    return x.clone()  # TODO({name}): placeholder, the identity
''',
        old="return x.copy()  # TODO({name}): placeholder, the identity",
        new="return 2.0 * x",
        check="reference"),
    "loss": Template(
        entry='''\
- id: "{id}"
  title: {name}
  kind: loss
  target: {module}.{name}
  reference: {twin}  # TODO({name}): the twin in references.py
  points: 2
  cases:  # TODO({name}): shapes; {{shape, classes}} for labels; hyper-parameters
    - {{pred: [4, 3], target: [4, 3]}}
    - {{pred: [6], target: [6]}}
  checks: {{reference: 3, gradcheck: 2, contract: 1}}
''',
        solution='''\
class {name}:
    """TODO({name}): what the loss computes. Scaffolded by `grader new exercise`: a placeholder, the mean squared
    error.

    forward(pred, target) -> a float; backward() -> dL/dpred, the shape of pred.
    """

    def __init__(self):
        self.diff = None

    def forward(self, pred, target):
        ### BEGIN SOLUTION
        self.diff = pred - target  # TODO({name}): placeholder, the mean squared error
        return float((self.diff ** 2).mean())
        ### END SOLUTION

    def backward(self, dout=1.0):
        ### BEGIN SOLUTION
        return dout * 2.0 * self.diff / self.diff.size
        ### END SOLUTION
''',
        twin='''\
@twin("{twin}")
def {twin}(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The torch twin of {module}.{name}: the loss in torch; autograd gives dL/dpred."""
    return torch.mean((pred - target) ** 2)  # TODO({name}): placeholder, the mean squared error
''',
        old="self.diff = pred - target  # TODO({name}): placeholder, the mean squared error",
        new="self.diff = target - pred",
        check="reference"),
    "function": Template(
        entry='''\
- id: "{id}"
  title: {name}
  kind: function
  target: {module}.{name}
  reference: {twin}  # TODO({name}): the twin in references.py
  points: 2
  cases:  # TODO({name}): one array per argument, in order; hyper-parameters by keyword
    - {{x: [3, 4]}}
    - {{x: [5]}}
  checks: {{reference: 3, contract: 1}}
''',
        solution='''\
def {name}(x):
    """TODO({name}): what the function computes. Scaffolded by `grader new exercise`: a placeholder, 2 * x."""
    ### BEGIN SOLUTION
    return 2.0 * x  # TODO({name}): placeholder
    ### END SOLUTION
''',
        twin='''\
@twin("{twin}")
def {twin}(x: torch.Tensor) -> torch.Tensor:
    """The torch twin of {module}.{name}."""
    return 2.0 * x  # TODO({name}): placeholder
''',
        old="return 2.0 * x  # TODO({name}): placeholder",
        new="return 3.0 * x",
        check="reference"),
    "optimizer": Template(
        entry='''\
- id: "{id}"
  title: {name}
  kind: optimizer
  target: {module}.{name}
  reference: {twin}  # TODO({name}): the twin in references.py
  points: 2
  problems: [quadratic, rosenbrock, mlp, sparse, zero]
  steps: 20
  cases:  # TODO({name}): hyper-parameter sets; keep one with every default
    - {{hyper: {{}}}}
    - {{hyper: {{lr: 0.01}}}}
  checks: {{trajectory: 5, contract: 1}}
''',
        solution='''\
class {name}:
    """TODO({name}): the update rule. Scaffolded by `grader new exercise`: a placeholder, plain SGD.

    update(params, grads) changes every params[i] in place; grads are read only.
    """

    def __init__(self, lr=1e-3):
        self.lr = float(lr)
        self.state = {{}}

    def update(self, params, grads):
        ### BEGIN SOLUTION
        for p, g in zip(params, grads):
            p -= self.lr * g  # TODO({name}): placeholder, plain SGD
        ### END SOLUTION
''',
        twin='''\
@twin("{twin}")
def {twin}(params, **hyper):
    """The torch twin of {module}.{name}: a torch.optim optimizer over params, with the case's hyper-parameters."""
    return torch.optim.SGD(params, **hyper)  # TODO({name}): placeholder, plain SGD
''',
        old="p -= self.lr * g  # TODO({name}): placeholder, plain SGD",
        new="p -= 2.0 * self.lr * g",
        check="trajectory"),
}

TWINS_HEADER = '''\
"""Torch twins of this course's own exercises, registered by the name course.yml's `reference:` uses.

A twin states the forward computation in torch, in float64; autograd gives the gradients.
"""
from __future__ import annotations

import torch

from grader.references import twin
'''

TEST_TEMPLATE = '''\
"""Planted bug for {name} ({module}.{name}), scaffolded by `grader new exercise`.

The course's solution must pass every check of {name}, and the solution with one planted bug (OLD replaced
by NEW) must fail the {check} check. TODO({name}): once the real solution is written, make NEW a mistake a
learner would make, and OLD the text it replaces.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from grader import api
from grader.engine.grading import Options

COURSE = Path(__file__).resolve().parent.parent / "course.yml"
EXERCISE, MODULE, CHECK = {name!r}, {module!r}, {check!r}
OLD = {old!r}
NEW = {new!r}


def grade(tmp_path: Path, planted: bool) -> dict[str, str]:
    """{{check: status}} of {name} graded on a copy of solutions/, the bug planted or not."""
    submission = tmp_path / "submission"
    shutil.copytree(COURSE.parent / "solutions", submission)
    source = (submission / f"{{MODULE}}.py").read_text()
    assert source.count(OLD) == 1, f"the planted bug no longer applies: OLD is not once in {{MODULE}}.py; edit it"
    if planted:
        (submission / f"{{MODULE}}.py").write_text(source.replace(OLD, NEW))
    course = api.validate(COURSE)  # also loads the course's own twins
    result = api.check(course, submission, Options(exercises=[EXERCISE], use_cache=False))
    (exercise,) = [e for a in result.assignments for e in a.exercises]
    return {{c.name: c.status for c in exercise.checks}}


def test_the_solution_passes(tmp_path: Path) -> None:
    assert set(grade(tmp_path, planted=False).values()) == {{"pass"}}


def test_the_planted_bug_is_caught(tmp_path: Path) -> None:
    assert grade(tmp_path, planted=True)[CHECK] != "pass"
'''


def twin_name(name: str) -> str:
    """``SiLU`` -> ``silu``, ``LeakyReLU`` -> ``leaky_relu``, ``MyLoss`` -> ``my_loss``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z][a-z])", "_", name).lower()


def new_exercise(course_path: Path, kind: str, name: str, module: str, assignment: str | None = None) -> list[str]:
    """Scaffold one exercise in the course folder of ``course_path``; return the lines to print.

    Raises:
        GraderError: a name that is not an identifier or is taken, a kind without a template.
        CourseError: the course does not load, or the result does not validate (nothing is kept then).
    """
    from .. import api

    if kind not in TEMPLATES:
        raise GraderError(f"no scaffold for kind {kind!r}; one of {', '.join(TEMPLATES)}")
    for what, value in (("--name", name), ("--module", module)):
        if not value.isidentifier():
            raise GraderError(f"{what} must be a Python identifier, got {value!r}")
    course_path = Path(course_path).resolve()
    course = api.load(course_path)
    folder = course_path.parent
    target = f"{module}.{name}"
    if any(ex.target == target for ex in course.exercises):
        raise GraderError(f"{course_path}: an exercise with target {target} exists already")
    solution = folder / "solutions" / f"{module}.py"
    if solution.exists() and re.search(rf"^(class|def) {re.escape(name)}\b", solution.read_text(), re.M):
        raise GraderError(f"{solution}: {name} is defined already")
    template = TEMPLATES[kind]
    twin = twin_name(name)
    from .validation import twins

    own = folder / "references.py"
    builtin = {n for n, fn in twins(course).items() if fn.__module__.startswith("grader.references")}
    # the registry is the process's: another course's twin of that name may be in it, this course lacks it
    write_twin = twin not in builtin and not (own.is_file() and f'@twin("{twin}")' in own.read_text())
    ex_id = _next_id(course, assignment)
    fill = {"name": name, "module": module, "twin": twin, "id": ex_id}
    files = {
        course_path: _with_entry(course, course_path.read_text(), assignment, template.entry.format(**fill)),
        solution: _appended(solution, '"""TODO: what this module holds."""\n', template.solution.format(**fill)),
        folder / "tests" / f"test_{twin}_planted.py": TEST_TEMPLATE.format(
            **fill, check=template.check, old=template.old.format(**fill), new=template.new.format(**fill)),
    }
    if write_twin:
        files[own] = _appended(own, TWINS_HEADER, template.twin.format(**fill),
                               ("import torch", "from grader.references import twin"))
    before = {path: path.read_bytes() if path.exists() else None for path in files}
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        api.validate(course_path)
    except BaseException as e:
        for path, data in before.items():
            if data is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(data)
        if isinstance(e, GraderError):
            hint = f" (the twin {twin!r} exists already: choose another --name)" if not write_twin else ""
            raise type(e)(f"{e}; the scaffold did not validate, nothing was written{hint}") from None
        raise
    lines = [f"wrote {path}" for path in files]
    if not write_twin:
        lines.append(f"uses the existing torch twin {twin!r}")
    lines += [f"exercise {ex_id} ({name}) scaffolded and valid: every placeholder is marked TODO({name});",
              f"next: write {name} in {solution} and its twin, then `grader release` and "
              f"`pytest {folder / 'tests' / f'test_{twin}_planted.py'}`"]
    return lines


def _appended(path: Path, header: str, block: str, needs: tuple[str, ...] = ()) -> str:
    """The file's text (``header`` for a new one) with ``block`` at the end, after any of the import lines
    ``needs`` it lacks."""
    text = path.read_text() if path.exists() else header
    missing = [line for line in needs if line not in text.splitlines()]
    return text.rstrip("\n") + "\n" + "".join(f"{line}\n" for line in missing) + "\n\n" + block


def _next_id(course: Course, assignment: str | None) -> str:
    """``1.13`` after 1.1..1.12; else ``<assignment>.<n>``; never an id in use."""
    chosen = next((a for a in course.assignments if a.id == assignment), None) if assignment else \
        (course.assignments[-1] if course.assignments else None)
    taken = {ex.id for ex in course.exercises}
    ids = [ex.id for ex in chosen.exercises] if chosen else []
    numbered = [re.fullmatch(r"(\d+)\.(\d+)", i) for i in ids]
    if ids and all(numbered) and len({m.group(1) for m in numbered}) == 1:  # type: ignore[union-attr]
        major, minor = numbered[0].group(1), max(int(m.group(2)) for m in numbered)  # type: ignore[union-attr]
        candidate = f"{major}.{minor + 1}"
    else:
        candidate = f"{assignment or (chosen.id if chosen else 'A1')}.{len(ids) + 1}"
    while candidate in taken:
        candidate += "b"
    return candidate


def _with_entry(course: Course, text: str, assignment: str | None, entry: str) -> str:
    """course.yml's text with ``entry`` appended to the assignment's exercises (a new assignment at the end
    when ``assignment`` names none), everything else byte for byte."""
    tree = parse(text.encode(), course.path)
    items = tree.value["assignments"].value
    index = next((i for i, a in enumerate(course.assignments) if a.id == assignment), None) if assignment \
        else len(items) - 1
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    if index is None:  # a new assignment, after the last one
        first = items[0].line - 1 if items else None
        indent = _indent(lines[first]) if first is not None else "  "
        block = (f"\n{indent}- id: {assignment}\n{indent}  title: \"TODO: {assignment}'s title\"\n"
                 f"{indent}  exercises:\n" + _indented(entry, indent + "    "))
        return "".join(lines) + block
    exercises = items[index].value["exercises"]
    if not exercises.value or exercises.line == items[index].value["exercises"].key_line:
        raise CourseError(f"{course.path}:{exercises.key_line}: assignments[{index}].exercises: a block list "
                          "(one '- id:' per line) is needed to append an exercise as text")
    indent = _indent(lines[exercises.value[0].line - 1])
    if index + 1 < len(items):  # before the next assignment, and the comments and blank lines above it
        at = items[index + 1].line - 1
        while at > 0 and (not lines[at - 1].strip() or lines[at - 1].lstrip().startswith("#")):
            at -= 1
    else:
        at = len(lines)
    return "".join(lines[:at]) + "\n" + _indented(entry, indent) + "".join(lines[at:])


def _indent(line: str) -> str:
    return line[:len(line) - len(line.lstrip(" "))]


def _indented(entry: str, indent: str) -> str:
    return "".join(indent + line if line.strip() else line for line in entry.splitlines(keepends=True))
