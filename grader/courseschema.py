"""The course file's schema, in one place: every key of course.yml, its type, default, bounds and meaning.

The loader (:mod:`grader.coursefile`) reads only keys listed here (a key it reads that is missing here
is a programming error, raised at once), takes defaults and bounds from here, and suggests the nearest
known key for a typo; ``docs/course-format.md`` is rendered from here
(``python -m grader.courseschema --markdown > docs/course-format.md``) and a test holds the file to the
rendering, so the loader, the schema and the reference cannot drift apart.

Plain data, no dependency: a JSON Schema or pydantic model would need a second description of what the
loader already checks (line numbers, key paths, cross-field rules), and a package for nothing else.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Any

REQUIRED: Any = ...
"""The default of a key the course must give."""

NUM = (int, float)


@dataclass(frozen=True)
class Field:
    """One key of one section of course.yml."""

    name: str
    types: tuple[type, ...]
    """The Python types YAML must produce for it (``int`` accepts no ``bool``)."""
    meaning: str
    default: Any = REQUIRED
    """The value when the key is absent (:data:`REQUIRED`: none), unless ``default_text`` says it is computed."""
    default_text: str = ""
    """How the doc states a default that depends on something else (the course's tolerance, the kind)."""
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    kinds: tuple[str, ...] = ()
    """The exercise kinds the key applies to (empty: every kind)."""
    section: str = ""
    """The section a mapping value (or each item of a list) is read as."""
    type_doc: str = ""
    """How the doc states the type, where the types alone would mislead."""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED and not self.default_text

    def type_text(self) -> str:
        if self.type_doc:
            return self.type_doc
        if self.section:
            link = f"[{self.section}](#{self.section})"
            return f"list of {link}" if list in self.types else f"number or {link}" if int in self.types else link
        names = {int: "integer", float: "number", str: "string", bool: "true/false", list: "list",
                 dict: "mapping"}
        parts = [names[t] for t in self.types if not (t is int and float in self.types)]
        return " or ".join(parts)

    def default_doc(self) -> str:
        if self.default_text:
            return self.default_text
        if self.default is REQUIRED:
            return "required"
        if self.default is None:
            return "none"
        if isinstance(self.default, bool):
            return str(self.default).lower()
        if isinstance(self.default, float):
            return f"`{yaml_number(self.default)}`"
        if isinstance(self.default, list):
            return f"`[{', '.join(map(str, self.default))}]`"
        return f"`{self.default!r}`" if not isinstance(self.default, str) else f"`{self.default}`"

    def bounds_text(self) -> str:
        if self.low == -math.inf and self.high == math.inf:
            return ""
        low = "" if self.low == -math.inf else f"{'>' if self.low_open else '≥'} {yaml_number(self.low)}"
        high = f"≤ {yaml_number(self.high)}" if self.high < math.inf else ""
        return ", ".join(p for p in (low, high) if p)


def yaml_number(value: float) -> str:
    """A number as YAML 1.1 reads it back as one: ``1.0e-6`` (``1e-06`` would be text), ``86400``."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value)) if not isinstance(value, float) or abs(value) >= 1 or value == 0 else f"{value:.1f}"
    if 1e-3 <= abs(value) < 1e15:
        return repr(float(value))
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa}e{exponent[0]}{exponent[1:].lstrip('0')}"


@dataclass(frozen=True)
class Section:
    name: str
    meaning: str
    fields: tuple[Field, ...]
    extra: Field | None = None
    """What any key not listed is (a case's other keys are its input arrays); None: an unknown key."""

    def __getitem__(self, key: str) -> Field:
        for f in self.fields:
            if f.name == key:
                return f
        if self.extra is not None:
            return self.extra
        raise KeyError(key)

    def names(self) -> list[str]:
        return [f.name for f in self.fields]


LAYER, LOSS, FUNCTION, OPTIMIZER, NETWORK = "layer", "loss", "function", "optimizer", "network"
KIND_NAMES = (LAYER, LOSS, FUNCTION, OPTIMIZER, NETWORK)

SECTIONS: dict[str, Section] = {s.name: s for s in (
    Section("course", "The top level of course.yml.", (
        Field("version", (int,), "The course file format: 1 (the only one this grader reads)."),
        Field("title", (str,), "The course's title, shown in reports."),
        Field("seed", (int,), "The public seed: the cases learners see. Grade with `--seed` or "
              "`$GRADER_SEED` (`grader secret` makes one) for hidden cases.", 0, low=0, high=2 ** 32 - 1),
        Field("tolerance", (dict,), "The default comparison tolerance of every exercise.",
              default_text="`{rtol: 1.0e-6, atol: 1.0e-8}`", section="tolerance"),
        Field("limits", (dict,), "Resource limits of the sandboxed child.", default_text="each limit's default",
              section="limits"),
        Field("hide", (list,), "Folders of the course folder the sandboxed learner code must not read; each "
              "must exist.", default_text="`[solutions]` where that folder exists, else `[]`"),
        Field("forward_calls_in_backward", (int,), "How many times a backward may call forward (the default "
              "of every exercise): once recomputes the output; finite differences call it at least twice.",
              1, low=0, high=1 << 30),
        Field("assignments", (list,), "The assignments, in order.", section="assignment"),
    )),
    Section("tolerance", "How close a result must be to the reference: "
            "`|got - expected| <= atol + rtol * |expected|`.", (
        Field("rtol", NUM, "Relative tolerance.", 1e-6, low=0),
        Field("atol", NUM, "Absolute tolerance.", 1e-8, low=0),
    )),
    Section("limits", "Resource limits of the sandboxed child that runs one submission.", (
        Field("timeout_s", NUM, "Wall-clock limit of one call plan (one case), enforced with SIGKILL.", 10.0,
              low=0, high=86_400, low_open=True),
        Field("memory_mb", (int,), "Address-space limit of the child (RLIMIT_AS).", 1024, low=128, high=1 << 20),
        Field("cpu_s", (int,), "CPU-time limit of the child over its whole life (RLIMIT_CPU).", 120, low=1,
              high=86_400),
        Field("file_mb", (int,), "Largest file the child may write (RLIMIT_FSIZE).", 16, low=1, high=1 << 20),
        Field("output_kb", (int,), "How much of the child's stdout/stderr a report keeps, per exercise.", 4,
              low=0, high=1 << 20),
    )),
    Section("assignment", "One assignment: a list of exercises, released and reported together.", (
        Field("id", (str, int), "Short id (`A1`), used by `-e A1`."),
        Field("title", (str,), "Title shown in reports."),
        Field("exercises", (list,), "The exercises, in order.", section="exercise"),
    )),
    Section("exercise", "One graded unit: a class or function the learner writes, and how to grade it.", (
        Field("id", (str, int, float), "Unique id across the course (`\"1.3\"`: quote it, or YAML reads a "
              "number), used by `-e`."),
        Field("title", (str,), "Name shown in reports, also accepted by `-e`."),
        Field("kind", (str,), "What is graded: `layer`, `loss`, `function`, `optimizer` or `network` (see the "
              "examples below)."),
        Field("target", (str,), "`module.Name`: the class or function in the submission (and in solutions/)."),
        Field("reference", (str,), "The torch twin's registered name (the statistics and stochastic checks: the "
              "law's). Required unless every check judges by its own rules (`scripted`, `batching`).", None),
        Field("points", NUM, "The exercise's points, shared among its checks by weight.", low=0),
        Field("checks", (dict,), "The checks to run, each `name: weight` or `name: {weight, cases, quantities}` "
              "(see [checks](#checks)).", section="checks"),
        Field("cases", (list,), "The input cases: at least one.", section="case"),
        Field("params", (list,), "Case arrays passed, in order, as positional constructor arguments "
              "(learnable parameters: `[W, b]`).", [], kinds=(LAYER,)),
        Field("hyper", (dict,), "Hyper-parameters passed in every case (a case's own `hyper` overrides). Leave "
              "the learner's defaults out, so that some case runs them. A network's layers, loss, optimizer and "
              "driver.", {}),
        Field("kinks", (list,), "Points where the function is not differentiable: float inputs keep `margin` "
              "away from them. A string names a hyper-parameter whose value is the kink in each case.", []),
        Field("margin", NUM, "How far float inputs keep from each kink.", 1e-2, low=0),
        Field("tolerance", (dict,), "This exercise's tolerance.", default_text="the course's `tolerance`",
              section="tolerance"),
        Field("inputs", (list,), "Names of the case arrays forward takes, in order.", default_text="`[x]`",
              kinds=(LAYER,)),
        Field("outputs", (list,), "Names of forward's results; with several, forward returns a tuple and "
              "backward takes one upstream gradient per output.", ["out"], kinds=(LAYER,)),
        Field("buffers", (list,), "Case arrays passed to the constructor by keyword and read back as attributes "
              "after the calls (BatchNorm's `running_mean`).", [], kinds=(LAYER,)),
        Field("args", (list,), "How case arrays are passed, in order; a list groups arrays into one list "
              "argument (`[[g0, g1]]` calls `f([g0, g1])`).", default_text="every case array, one argument each",
              kinds=(FUNCTION,)),
        Field("mutates", (list,), "Arrays the function changes in place, compared after the call as "
              "`<name> after`.", [], kinds=(FUNCTION,)),
        Field("curve", (list,), "`[low, high]`: the range figures draw f and f' over.", None, kinds=(LAYER, LOSS)),
        Field("problems", (list,), "Test problems each case's trajectory runs on (`quadratic`, `rosenbrock`, "
              "`mlp`, `sparse`, `zero`).", [], kinds=(OPTIMIZER,)),
        Field("steps", (int,), "Update steps of each trajectory.", 50, low=1, kinds=(OPTIMIZER,)),
        Field("forward_calls_in_backward", (int,), "How many times backward may call forward.",
              default_text="the course's `forward_calls_in_backward`", low=0, high=1 << 30),
        Field("timeout_s", NUM, "Wall-clock limit of one call plan of this exercise (a whole training run).",
              default_text="the course's `limits.timeout_s`", low=0, high=3600, low_open=True),
        Field("interface", (dict,), "The shape of existing code graded as it is, in place of the class protocol "
              "(docs/interfaces.md).", default_text="the class protocol", kinds=(LAYER, LOSS, OPTIMIZER),
              section="interface"),
    )),
    Section("interface", "How existing code is called in place of the class protocol (docs/interfaces.md). "
            "Names are the course's own: case arrays (`x`, `W`), outputs (`out`), gradients (`dx`, `dW`), the "
            "twin's hyper-parameters (`lr`), torch's optimizer state (`exp_avg`).", (
        Field("style", (str,), "`functions` (forward/backward functions with a cache: layers, losses), `class` "
              "(a class with gradients as attributes: layers) or `config` (a function with a config dict: "
              "optimizers)."),
        Field("returns", (list,), "functions: the parts of forward's result, in order (`[out, cache]`).", []),
        Field("backward", (str,), "functions: the backward function (`affine_backward`, or `module.name`); none "
              "when forward returns the gradients too.", ""),
        Field("gives", (list,), "functions: the parts of backward's result, in order (`[dx, dW, db]`).", []),
        Field("grads", (dict,), "class: parameter -> the attribute holding its gradient after backward "
              "(`{W: dW}`).", default_text="`self.grads`, as the class protocol"),
        Field("config", (dict,), "config, functions: the learner's config key -> the hyper-parameter it holds "
              "(`{learning_rate: lr, beta1: betas[0]}`).", {}),
        Field("state", (dict,), "config: the learner's config key -> torch's state name it holds (`{m: exp_avg}`);"
              " only these states are compared.", {}),
        Field("axes", (dict,), "An array's layout in the learner's code: theirs = np.transpose(ours, axes) "
              "(`{W: [1, 0]}`).", {}),
    )),
    Section("checks", "An exercise's checks: each key one of the checks below (a module of `grader/checks/`), "
            "each value its weight (a number) or its [options](#check).", (), extra=Field("*", (int, float, dict), "A check: its weight, or its "
                                                      "options.", section="check")),
    Section("check", "A check's options, where `checks:` gives a mapping rather than a weight.", (
        Field("weight", NUM, "The check's share of the exercise's points.", 1.0, low=0, low_open=True),
        Field("cases", (list,), "The check's own cases (required by `stability` and `stochastic`).", [],
              section="case"),
        Field("quantities", (list,), "Compare only these quantities (`loss`, `out`, `dx`...).",
              default_text="all"),
    )),
    Section("case", "One input case: every key but `hyper` names an input array and says how to draw it "
            "(an [array](#array) spec).", (
        Field("hyper", (dict,), "Hyper-parameters of this case, over the exercise's `hyper`.", {}),
    ), extra=Field("*", (list, dict), "An input array: a shape, or a spec.", section="array",
                       type_doc="shape list or [array](#array)")),
    Section("array", "How to draw one input array: a shape list (`[4, 5]`, uniform in [-3, 3]) or a mapping.", (
        Field("shape", (list,), "The array's shape: positive integers."),
        Field("low", NUM, "Lower end of the uniform draw.", -3.0),
        Field("high", NUM, "Upper end of the uniform draw (above `low`).", 3.0),
        Field("classes", (int,), "int64 labels in [0, classes) instead of floats.", None, low=1),
        Field("choices", (list,), "Floats drawn from these values (ties, labels -1 and +1).", None),
        Field("relu", (bool,), "Pass the uniform draw through a ReLU (many zeros, tied maxima); needs `low` "
              "below 0.", False),
    )),
)}


EXAMPLES: dict[str, str] = {
    LAYER: """\
- id: "1.4"
  title: ReLU
  kind: layer
  target: activations.ReLU      # class ReLU in solutions/activations.py
  reference: relu               # the torch twin
  points: 2
  curve: [-4, 4]
  kinks: [0]
  cases:
    - {x: [4, 5]}
    - {x: {shape: [2, 3, 4], low: -2, high: 2}}
  checks: {reference: 3, gradcheck: 2, contract: 1}
""",
    LOSS: """\
- id: "1.11"
  title: MSELoss
  kind: loss
  target: losses.MSELoss
  reference: mse_loss
  points: 3
  cases:
    - {pred: [4, 3], target: [4, 3]}
    - {pred: [5, 2], target: [5, 2], hyper: {reduction: sum}}
  checks: {reference: 3, gradcheck: 2, contract: 1}
""",
    FUNCTION: """\
- id: "4.20"
  title: clip_grad_norm
  kind: function
  target: training.clip_grad_norm
  reference: clip_grad_norm
  points: 3
  args: [[g0, g1]]              # f([g0, g1], max_norm=...)
  mutates: [g0, g1]             # changed in place, compared after the call
  cases:
    - {g0: [3, 4], g1: [4], hyper: {max_norm: 1.0}}
  checks: {reference: 3, contract: 1}
""",
    OPTIMIZER: """\
- id: "4.1"
  title: SGD
  kind: optimizer
  target: optim.SGD
  reference: sgd
  points: 2
  problems: [quadratic, rosenbrock]
  steps: 50
  cases:
    - {hyper: {}}               # every default
    - {hyper: {lr: 0.01, weight_decay: 0.1}}
  checks: {trajectory: 5, contract: 1}
""",
    NETWORK: """\
- id: "7.1"
  title: Sequential
  kind: network
  target: networks.Sequential
  reference: network
  points: 4
  hyper:
    driver: steps
    layers: [[Affine, 6, 8], ReLU, [Affine, 8, 3]]
    loss: SoftmaxCrossEntropy
    optimizer: [Adam, {lr: 0.01}]
    batch_size: 5
    epochs: 2
  cases:
    - {X: [20, 6], y: {shape: [20], classes: 3}}
  checks: {training: 1}
""",
}
"""One exercise per kind, as course.yml holds it (tests/test_courseschema.py loads each)."""


def _check_docs() -> list[tuple[str, str]]:
    """(name, first line of its module's docstring) for every registered check."""
    import importlib

    from .checks import known

    out = []
    for name in known():
        doc = (importlib.import_module(f"grader.checks.{name}").__doc__ or "").strip().split("\n\n")[0]
        first = " ".join(doc.split()).split(". ")[0].rstrip(".") + "."
        prefix = f"The ``{name}`` check: "
        out.append((name, first[len(prefix):] if first.startswith(prefix) else first))
    return out


def markdown() -> str:
    """docs/course-format.md, whole."""
    out = ["<!-- Generated by `python -m grader.courseschema --markdown > docs/course-format.md`: "
           "edit grader/courseschema.py, not this file. -->",
           "# course.yml: the course file",
           "",
           "A course is a folder: `course.yml`, the reference `solutions/`, and the learners' `exercises/` "
           "(made by `grader release`). `grader validate` checks the file, every target against `solutions/` "
           "and every torch twin against the declared cases; each problem is reported as one line naming "
           "`course.yml:LINE` and the key path. Unknown keys are errors (with the nearest known key "
           "suggested): a typo must never silently change what is graded. `grader new exercise --kind KIND "
           "--name NAME --module MODULE` appends a valid exercise of a kind (entry, solution, twin, planted-bug "
           "test) to start from.",
           "",
           "YAML 1.1 reads `1e-5` as text: write `1.0e-5` (a dot, and a signed exponent).",
           ""]
    for section in SECTIONS.values():
        out += [f"## {section.name}", "", section.meaning, ""]
        if not section.fields:  # the checks mapping: its keys are the registered checks
            out += ["| check | what it judges |", "|---|---|"]
            out += [f"| `{name}` | {text.replace('``', '`')} |" for name, text in _check_docs()]
            out.append("")
            continue
        out += ["| key | type | default | bounds | kinds | meaning |", "|---|---|---|---|---|---|"]
        for f in section.fields:
            kinds = ", ".join(f.kinds) if f.kinds else "all"
            out.append(f"| `{f.name}` | {f.type_text()} | {f.default_doc()} | {f.bounds_text()} | {kinds} | "
                       f"{f.meaning.replace('|', '/')} |")
        if section.extra is not None:
            out.append(f"| *any other key* | {section.extra.type_text()} | | | | {section.extra.meaning} |")
        out.append("")
    out += ["## examples, one per kind", ""]
    for kind, text in EXAMPLES.items():
        out += [f"### {kind}", "", "```yaml", text.rstrip("\n"), "```", ""]
    return "\n".join(out)


if __name__ == "__main__":
    if sys.argv[1:] != ["--markdown"]:
        sys.exit("usage: python -m grader.courseschema --markdown > docs/course-format.md")
    sys.stdout.write(markdown())
