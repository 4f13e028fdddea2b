"""Planted bugs as mutations of the real solutions: one catalogue, read from ``solutions/``.

Each :class:`Mutant` names the module, the class or function it mutates (``target``, a top-level
definition of ``solutions/<module>.py``), the exact text it replaces (``old``) and its replacement
(``new``), and the check expected to catch the bug with the quantity that check reports. The mutation is
applied to the CURRENT solution, so the diff is the bug and nothing else: there are no private copies of
the classes to drift away from the solutions. When a solution changes so that ``old`` no longer occurs
exactly ``count`` times inside the target, :meth:`Mutant.source` raises :class:`MutantDoesNotApply`
naming the mutant (tests/test_planted_bugs.py::test_mutant_applies_cleanly fails loudly) instead of
silently planting a different bug.

A bug that must change two places of the same target (a buggy forward with its backward kept consistent,
so that gradcheck passes and only torch can tell) lists the further ``(old, new)`` pairs in ``also``; each
is applied after the previous ones and must occur exactly once in the target at that point.

Fields:

* ``exercise`` the exercise's name in course.yml (the class or function name, e.g. ``Affine``);
* ``module`` the solutions module (``activations``, ``layers``, ``losses``, ``optim``...);
* ``name`` a short description of the bug, unique within the exercise;
* ``check`` the check that must catch it: ``reference``, ``gradcheck``, ``contract``, ``stability``,
  ``trajectory``, ``stochastic``, ``statistics``, ``scripted`` or ``batching``;
* ``quantity`` what that check reports as wrong: ``out``, ``dx``, a parameter or input name (``W`` for
  dW, ``h`` for dh), a declared output or buffer (``h_next``, ``running_var``), ``g0 after`` (an
  argument changed in place), a contract rule (``x modified``, ``dout modified``, ``not deterministic``,
  ``grads rebound``), a trajectory quantity (``param`` or a state key) or the rule of a scripted or
  batching case (``stop decisions``, ``every sample once``...);
* ``old``, ``new``, ``count`` (default 1), ``also`` and ``target`` (default: ``exercise``) as above;
* ``hint`` words that the hint of one of the check's failing cases must contain: the known cause the
  grader names for this bug (tests/test_planted_bugs.py::test_known_cause_is_named).

For the before/after comparison of graders: :func:`submissions` yields
``(bug_id, exercise, {module: full_source_text})`` for every mutant, with ``bug_id`` equal to
``f"{exercise}/{name}"`` (unique); the dictionary holds the one mutated module, to be laid over a copy
of ``solutions/``. :meth:`Mutant.submission` writes such a folder.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"


class MutantDoesNotApply(ValueError):
    """The solution no longer holds the text a mutant replaces (the solution drifted): fix the mutant."""


def _segment(text: str, target: str) -> tuple[int, int]:
    """Character offsets [start, end) of the top-level class or function ``target`` in module ``text``
    (decorators included): the only region a mutant may change."""
    tree = ast.parse(text)
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == target:
            first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
            starts = [0]
            for line in text.splitlines(keepends=True):
                starts.append(starts[-1] + len(line))
            assert node.end_lineno is not None
            return starts[first - 1], starts[node.end_lineno]  # whole lines: offsets are characters
    raise KeyError(target)


@dataclass(frozen=True)
class Mutant:
    exercise: str
    module: str
    name: str
    check: str
    quantity: str
    old: str
    new: str
    count: int = 1
    also: tuple[tuple[str, str], ...] = ()
    target: str = ""
    hint: str = ""
    """Words the cause hint of a failing case of ``check`` must contain (empty: no hint asserted)."""

    def __post_init__(self) -> None:
        if not self.target:
            object.__setattr__(self, "target", self.exercise)

    @property
    def bug_id(self) -> str:
        return f"{self.exercise}/{self.name}"

    @property
    def changes(self) -> tuple[tuple[str, str, int], ...]:
        """Every (old, new, expected count) in the order applied."""
        return ((self.old, self.new, self.count),) + tuple((o, n, 1) for o, n in self.also)

    def apply(self, text: str) -> str:
        """``text`` (a whole module) with this mutant's replacements made inside its target only.

        Raises :class:`MutantDoesNotApply` when the target is missing or an ``old`` does not occur exactly
        the expected number of times inside it."""
        try:
            start, end = _segment(text, self.target)
        except KeyError:
            raise MutantDoesNotApply(f"mutant {self.bug_id!r}: no top-level class or function "
                                     f"{self.target!r} in solutions/{self.module}.py") from None
        segment = text[start:end]
        for old, new, count in self.changes:
            found = segment.count(old)
            if found != count:
                raise MutantDoesNotApply(
                    f"mutant {self.bug_id!r}: {old!r} occurs {found} time(s) in {self.module}.{self.target}, "
                    f"expected {count}: the solution changed; update the mutant")
            segment = segment.replace(old, new)
        return text[:start] + segment + text[end:]

    def source(self, solutions_dir: Path = SOLUTIONS) -> str:
        """The whole mutated module: the real solution with the bug planted in its target."""
        return self.apply((Path(solutions_dir) / f"{self.module}.py").read_text())

    def submission(self, dest: Path, solutions_dir: Path = SOLUTIONS) -> Path:
        """A copy of ``solutions_dir`` at ``dest`` with this one module mutated."""
        from .conftest import make_submission

        return make_submission(dest, base=Path(solutions_dir), replace={self.module: self.source(solutions_dir)})


def combined(mutants: list[Mutant], solutions_dir: Path = SOLUTIONS) -> dict[str, str]:
    """{module: text} with every mutant planted (at most one per target), for a submission with several
    bugs at once."""
    targets = [(m.module, m.target) for m in mutants]
    assert len(set(targets)) == len(targets), f"two mutants of one target: {targets}"
    texts: dict[str, str] = {}
    for m in mutants:
        text = texts.get(m.module) or (Path(solutions_dir) / f"{m.module}.py").read_text()
        texts[m.module] = m.apply(text)
    return texts


def submissions(solutions_dir: Path = SOLUTIONS) -> Iterator[tuple[str, str, dict[str, str]]]:
    """``(bug_id, exercise, {module: full_source_text})`` for every mutant, in catalogue order."""
    for m in MUTANTS:
        yield m.bug_id, m.exercise, {m.module: m.source(solutions_dir)}


def find(exercise: str, name_part: str) -> Mutant:
    """The one mutant of ``exercise`` whose name contains ``name_part`` (for tests that pick a bug)."""
    (m,) = [m for m in MUTANTS if m.exercise == exercise and name_part in m.name]
    return m


MUTANTS: list[Mutant] = [
    # ====================================================================================================
    # A1/A2: activations, Affine, MSELoss, SoftmaxCrossEntropy
    # ====================================================================================================
    # ---------------------------------------- activations.Sigmoid
    Mutant('Sigmoid', 'activations', 'backward forgets to multiply by dout',
           'gradcheck', 'dx',
           old='return dout * self.out * (1.0 - self.out)',
           new='return self.out * (1.0 - self.out)'),
    Mutant('Sigmoid', 'activations', 'derivative evaluated at x instead of y: x*(1-x)',
           'gradcheck', 'dx',
           old='return dout * self.out * (1.0 - self.out)',
           new='return dout * self.x * (1.0 - self.x)',
           also=(('z = np.exp(-np.abs(x))',
                  'self.x = x.copy()\n        z = np.exp(-np.abs(x))'),)),
    Mutant('Sigmoid', 'activations', 'sign flip in backward',
           'gradcheck', 'dx',
           old='return dout * self.out * (1.0 - self.out)',
           new='return -dout * self.out * (1.0 - self.out)'),
    Mutant('Sigmoid', 'activations', 'forward computes in place into x and returns it',
           'contract', 'x modified',
           old=('self.out = np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))\n'
                '        return self.out'),
           new=('x[...] = np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))\n'
                '        self.out = x\n'
                '        return x')),
    Mutant('Sigmoid', 'activations', 'wrong sign in exponent: 1/(1+exp(x)) with matching backward',
           'reference', 'out',
           old='self.out = np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))',
           new='self.out = np.where(x >= 0, z / (1.0 + z), 1.0 / (1.0 + z))',
           also=(('return dout * self.out * (1.0 - self.out)',
                  'return -dout * self.out * (1.0 - self.out)'),)),
    # ---------------------------------------- activations.Tanh
    Mutant('Tanh', 'activations', 'derivative 1 - x**2 instead of 1 - y**2',
           'gradcheck', 'dx',
           old='return dout * (1.0 - self.out ** 2)',
           new='return dout * (1.0 - self.x ** 2)',
           also=(('self.out = np.tanh(x)',
                  'self.x = x.copy()\n        self.out = np.tanh(x)'),)),
    Mutant('Tanh', 'activations', 'derivative missing the square: 1 - y',
           'gradcheck', 'dx',
           old='return dout * (1.0 - self.out ** 2)',
           new='return dout * (1.0 - self.out)'),
    Mutant('Tanh', 'activations', 'naive (e^x - e^-x)/(e^x + e^-x) overflows to inf/inf',
           'stability', 'out',
           old='self.out = np.tanh(x)',
           new=('ep, em = np.exp(x), np.exp(-x)\n'
                '        self.out = (ep - em) / (ep + em)')),
    Mutant('Tanh', 'activations', 'backward multiplies dout in place and returns it',
           'contract', 'dout modified',
           old='return dout * (1.0 - self.out ** 2)',
           new='dout *= 1.0 - self.out ** 2\n        return dout'),
    Mutant('Tanh', 'activations', 'forward computed in float32 (returned as float64)',
           'gradcheck', 'x',
           old='self.out = np.tanh(x)',
           new='self.out = np.tanh(x.astype(np.float32)).astype(np.float64)',
           hint="your forward's values are float32 numbers"),
    Mutant('Tanh', 'activations', 'derivative written as 1 + y**2',
           'gradcheck', 'dx',
           old='return dout * (1.0 - self.out ** 2)',
           new='return dout * (1.0 + self.out ** 2)'),
    # ---------------------------------------- activations.ReLU
    Mutant('ReLU', 'activations', 'forward zeroes negatives of x in place and returns x',
           'contract', 'x modified',
           old='out = x.astype(np.float64, copy=True)',
           new='out = x'),
    Mutant('ReLU', 'activations', 'backward returns the mask only (forgets dout)',
           'gradcheck', 'dx',
           old='return dx',
           new='return self.mask.astype(np.float64)'),
    Mutant('ReLU', 'activations', 'inverted mask: gradient passed where x < 0',
           'gradcheck', 'dx',
           old='dx[~self.mask] = 0.0',
           new='dx[self.mask] = 0.0'),
    Mutant('ReLU', 'activations', 'backward zeroes dout in place and returns it',
           'contract', 'dout modified',
           old='dx = dout.astype(np.float64, copy=True)',
           new='dx = dout'),
    Mutant('ReLU', 'activations', 'mask taken from the sign of dout instead of x',
           'gradcheck', 'dx',
           old='dx[~self.mask] = 0.0',
           new='dx[dout <= 0] = 0.0'),
    # ---------------------------------------- activations.HardTanh
    Mutant('HardTanh', 'activations', 'gradient passed through outside the bounds',
           'gradcheck', 'dx',
           old='return dout * inside',
           new='return dout.copy()'),
    Mutant('HardTanh', 'activations', 'backward only blocks the upper bound',
           'gradcheck', 'dx',
           old='inside = (self.x > self.min_val) & (self.x < self.max_val)',
           new='inside = self.x < self.max_val'),
    Mutant('HardTanh', 'activations', 'inverted mask: gradient passed only outside the bounds',
           'gradcheck', 'dx',
           old='return dout * inside',
           new='return dout * ~inside'),
    Mutant('HardTanh', 'activations', 'forward only clips from above (with matching backward)',
           'reference', 'out',
           old='np.clip(x, self.min_val, self.max_val)',
           new='np.minimum(x, self.max_val)',
           also=(('inside = (self.x > self.min_val) & (self.x < self.max_val)',
                  'inside = self.x < self.max_val'),)),
    Mutant('HardTanh', 'activations', 'backward zeroes dout in place outside the bounds',
           'contract', 'dout modified',
           old='return dout * inside',
           new='dout[~inside] = 0.0\n        return dout'),
    Mutant('HardTanh', 'activations', 'forward clips x in place (np.clip(..., out=x))',
           'contract', 'x modified',
           old='return np.clip(x, self.min_val, self.max_val).astype(np.float64)',
           new='return np.clip(x, self.min_val, self.max_val, out=x)'),
    # ---------------------------------------- activations.LeakyReLU
    Mutant('LeakyReLU', 'activations', 'slope applied on the positive side (with matching backward)',
           'reference', 'out',
           old='return np.where(x > 0, x, self.alpha * x).astype(np.float64)',
           new='return np.where(x > 0, self.alpha * x, x).astype(np.float64)',
           also=(('return np.where(self.x > 0, dout, self.alpha * dout)',
                  'return np.where(self.x > 0, self.alpha * dout, dout)'),)),
    Mutant('LeakyReLU', 'activations', 'backward drops the leak: zero gradient for x <= 0',
           'gradcheck', 'dx',
           old='return np.where(self.x > 0, dout, self.alpha * dout)',
           new='return dout * (self.x > 0)'),
    Mutant('LeakyReLU', 'activations', 'backward uses alpha on the positive side',
           'gradcheck', 'dx',
           old='return np.where(self.x > 0, dout, self.alpha * dout)',
           new='return np.where(self.x > 0, self.alpha * dout, dout)'),
    Mutant('LeakyReLU', 'activations', 'random slope per call (RReLU confused with LeakyReLU)',
           'contract', 'not deterministic',
           old='return np.where(x > 0, x, self.alpha * x).astype(np.float64)',
           new=('self.slope = np.random.uniform(0.5 * self.alpha, 2.0 * self.alpha)\n'
                '        return np.where(x > 0, x, self.slope * x)'),
           also=(('return np.where(self.x > 0, dout, self.alpha * dout)',
                  'return np.where(self.x > 0, dout, self.slope * dout)'),)),
    Mutant('LeakyReLU', 'activations', 'forward scales negatives of x in place and returns x',
           'contract', 'x modified',
           old='return np.where(x > 0, x, self.alpha * x).astype(np.float64)',
           new='x[x <= 0] *= self.alpha\n        return x'),
    Mutant('LeakyReLU', 'activations', 'backward returns the local slope only (forgets dout)',
           'gradcheck', 'dx',
           old='return np.where(self.x > 0, dout, self.alpha * dout)',
           new='return np.where(self.x > 0, 1.0, self.alpha)'),
    # ---------------------------------------- activations.ELU
    Mutant('ELU', 'activations', 'negative-side derivative uses y instead of y + alpha',
           'gradcheck', 'dx',
           old='return np.where(self.x > 0, dout, dout * (self.out + self.alpha))',
           new='return np.where(self.x > 0, dout, dout * self.out)'),
    Mutant('ELU', 'activations', 'forward forgets the -1: alpha*exp(x) (with matching backward)',
           'reference', 'out',
           old='neg = self.alpha * np.expm1(np.minimum(x, 0.0))',
           new='neg = self.alpha * np.exp(np.minimum(x, 0.0))',
           also=(('dout * (self.out + self.alpha)',
                  'dout * self.out'),)),
    Mutant('ELU', 'activations', 'backward returns the local derivative only (forgets dout)',
           'gradcheck', 'dx',
           old='return np.where(self.x > 0, dout, dout * (self.out + self.alpha))',
           new='return np.where(self.x > 0, 1.0, self.out + self.alpha)'),
    Mutant('ELU', 'activations', 'backward scales dout in place on the negative side',
           'contract', 'dout modified',
           old='return np.where(self.x > 0, dout, dout * (self.out + self.alpha))',
           new=('neg = self.x <= 0\n'
                '        dout[neg] *= self.out[neg] + self.alpha\n'
                '        return dout')),
    # ---------------------------------------- activations.PReLU
    Mutant('PReLU', 'activations', 'dalpha taken from the first sample only (not summed over the batch)',
           'gradcheck', 'alpha',
           old='self.grads[0][...] = np.sum(np.where(positive, 0.0, self.x * dout), axis=0)',
           new='self.grads[0][...] = np.where(positive, 0.0, self.x * dout)[0]'),
    Mutant('PReLU', 'activations', 'dalpha averaged over the batch instead of summed',
           'gradcheck', 'alpha',
           old='self.grads[0][...] = np.sum(np.where(positive, 0.0, self.x * dout), axis=0)',
           new='self.grads[0][...] = np.mean(np.where(positive, 0.0, self.x * dout), axis=0)'),
    Mutant('PReLU', 'activations', 'dalpha accumulated over the positive side',
           'gradcheck', 'alpha',
           old='np.where(positive, 0.0, self.x * dout)',
           new='np.where(positive, self.x * dout, 0.0)'),
    Mutant('PReLU', 'activations', 'dx drops alpha on the negative side',
           'gradcheck', 'dx',
           old='return np.where(positive, dout, self.alpha * dout)',
           new='return np.where(positive, dout, 0.0)'),
    Mutant('PReLU', 'activations', 'gradient list entry rebound instead of written in place',
           'contract', 'grads rebound',
           old='self.grads[0][...] = ',
           new='self.grads[0] = '),
    Mutant('PReLU', 'activations', 'dalpha forgets dout: sum of x over the negative side',
           'gradcheck', 'alpha',
           old='np.where(positive, 0.0, self.x * dout)',
           new='np.where(positive, 0.0, self.x)'),
    Mutant('PReLU', 'activations', 'dalpha summed over features too (one shared slope gradient)',
           'gradcheck', 'alpha',
           old='self.grads[0][...] = np.sum(np.where(positive, 0.0, self.x * dout), axis=0)',
           new='self.grads[0][...] = np.sum(np.where(positive, 0.0, self.x * dout))'),
    # ---------------------------------------- activations.Softmax
    Mutant('Softmax', 'activations', 'no max subtraction: exp overflows for large logits',
           'stability', 'out',
           old='shifted = x - np.max(x, axis=self.axis, keepdims=True)',
           new='shifted = x'),
    Mutant('Softmax', 'activations', 'backward uses only the Jacobian diagonal: dout*y*(1-y)',
           'gradcheck', 'dx',
           old='return y * (dout - np.sum(dout * y, axis=self.axis, keepdims=True))',
           new='return dout * y * (1.0 - y)',
           hint="keeps only the diagonal of softmax's Jacobian"),
    Mutant('Softmax', 'activations', 'normaliser summed over the whole array instead of along axis',
           'reference', 'out',
           old='self.out = e / np.sum(e, axis=self.axis, keepdims=True)',
           new='self.out = e / np.sum(e)',
           also=(('np.max(x, axis=self.axis, keepdims=True)',
                  'np.max(x)'), ('return y * (dout - np.sum(dout * y, axis=self.axis, keepdims=True))',
                  'return y * (dout - np.sum(dout * y))'),)),
    Mutant('Softmax', 'activations', 'backward drops the sum term: dx = dout * y',
           'gradcheck', 'dx',
           old='return y * (dout - np.sum(dout * y, axis=self.axis, keepdims=True))',
           new='return dout * y'),
    Mutant('Softmax', 'activations', 'max subtracted from x in place',
           'contract', 'x modified',
           old='shifted = x - np.max(x, axis=self.axis, keepdims=True)',
           new=('x -= np.max(x, axis=self.axis, keepdims=True)\n'
                '        shifted = x')),
    Mutant('Softmax', 'activations', 'backward sum term not weighted by y: y*(dout - sum(dout))',
           'gradcheck', 'dx',
           old='np.sum(dout * y, axis=self.axis, keepdims=True)',
           new='np.sum(dout, axis=self.axis, keepdims=True)'),
    # ---------------------------------------- activations.LogSoftmax
    Mutant('LogSoftmax', 'activations', 'log of a (stable) softmax: log(0) = -inf for large gaps',
           'stability', 'out',
           old='self.out = shifted - log_norm',
           new='self.out = np.log(np.exp(shifted) / np.exp(log_norm))'),
    Mutant('LogSoftmax', 'activations', 'no max subtraction: x - log(sum(exp(x))) overflows',
           'stability', 'out',
           old='shifted = x - np.max(x, axis=self.axis, keepdims=True)',
           new='shifted = x'),
    Mutant('LogSoftmax', 'activations', 'backward forgets to sum dout: dx = dout - softmax',
           'gradcheck', 'dx',
           old='return dout - softmax * np.sum(dout, axis=self.axis, keepdims=True)',
           new='return dout - softmax'),
    Mutant('LogSoftmax', 'activations', 'backward uses only the Jacobian diagonal: dout*(1-softmax)',
           'gradcheck', 'dx',
           old='return dout - softmax * np.sum(dout, axis=self.axis, keepdims=True)',
           new='return dout * (1.0 - softmax)'),
    Mutant('LogSoftmax', 'activations', 'max subtracted from x in place',
           'contract', 'x modified',
           old='shifted = x - np.max(x, axis=self.axis, keepdims=True)',
           new=('x -= np.max(x, axis=self.axis, keepdims=True)\n'
                '        shifted = x')),
    Mutant('LogSoftmax', 'activations', 'log-sum-exp forgets to add the max back',
           'reference', 'out',
           old='return self.out',
           new='return x - log_norm'),
    # ---------------------------------------- layers.Affine
    Mutant('Affine', 'layers', 'dW computed as dout.T @ x (transposed)',
           'gradcheck', 'W',
           old='self.grads[0][...] = self.x.T @ dout',
           new='self.grads[0][...] = dout.T @ self.x'),
    Mutant('Affine', 'layers', 'db taken from the first row of dout (not summed over the batch)',
           'gradcheck', 'b',
           old='self.grads[1][...] = np.sum(dout, axis=0)',
           new='self.grads[1][...] = dout[0]'),
    Mutant('Affine', 'layers', 'db averaged over the batch instead of summed',
           'gradcheck', 'b',
           old='self.grads[1][...] = np.sum(dout, axis=0)',
           new='self.grads[1][...] = np.mean(dout, axis=0)'),
    Mutant('Affine', 'layers', 'dW divided by the batch size',
           'gradcheck', 'W',
           old='self.grads[0][...] = self.x.T @ dout',
           new='self.grads[0][...] = self.x.T @ dout / self.x.shape[0]'),
    Mutant('Affine', 'layers', 'gradients rebound instead of written into self.grads arrays',
           'contract', 'grads rebound',
           old='][...] = ',
           new='] = ', count=2),
    Mutant('Affine', 'layers', 'forward forgets the bias',
           'reference', 'out',
           old='return self.x @ self.W + self.b',
           new='return self.x @ self.W'),
    Mutant('Affine', 'layers', 'forward accumulates into a cached output buffer that is never reset',
           'contract', 'not deterministic',
           old='return self.x @ self.W + self.b',
           new=('if getattr(self, "out", None) is None or self.out.shape != (x.shape[0], self.W.shape[1]):\n'
                '            self.out = np.zeros((x.shape[0], self.W.shape[1]))\n'
                '        self.out += self.x @ self.W + self.b\n'
                '        return self.out.copy()')),
    Mutant('Affine', 'layers', 'gradient descent step folded into backward: negated gradients',
           'gradcheck', 'W',
           old='self.grads[0][...] = self.x.T @ dout',
           new='self.grads[0][...] = -(self.x.T @ dout)',
           also=(('self.grads[1][...] = np.sum(dout, axis=0)',
                  'self.grads[1][...] = -np.sum(dout, axis=0)'),)),
    # ---------------------------------------- losses.MSELoss
    Mutant('MSELoss', 'losses', 'mean backward misses the 1/M factor',
           'gradcheck', 'dx',
           old='grad = grad / self.diff.size',
           new='grad = grad'),
    Mutant('MSELoss', 'losses', 'backward misses the factor 2',
           'gradcheck', 'dx',
           old='grad = 2.0 * self.diff',
           new='grad = self.diff',
           hint='a factor 2 from the derivative of a square'),
    Mutant('MSELoss', 'losses', 'forward sums instead of averaging (with matching backward)',
           'reference', 'out',
           old='return float(total / self.diff.size)',
           new='return float(total)',
           also=(('grad = grad / self.diff.size',
                  'grad = grad'),)),
    Mutant('MSELoss', 'losses', 'sign flip: gradient of (target - pred) taken w.r.t. target',
           'gradcheck', 'dx',
           old='grad = 2.0 * self.diff',
           new='grad = -2.0 * self.diff'),
    Mutant('MSELoss', 'losses', 'mean divides by the batch size instead of the element count (needs pred with >1 column)',
           'reference', 'out',
           old='return float(total / self.diff.size)',
           new='return float(total / self.diff.shape[0])',
           also=(('grad = grad / self.diff.size',
                  'grad = grad / self.diff.shape[0]'),)),
    Mutant('MSELoss', 'losses', 'forward returns a running total over all calls',
           'contract', 'not deterministic',
           old='total = np.sum(self.diff ** 2)',
           new=('self.total = getattr(self, "total", 0.0) + np.sum(self.diff ** 2)\n'
                '        total = self.total')),
    # ---------------------------------------- losses.SoftmaxCrossEntropy
    Mutant('SoftmaxCrossEntropy', 'losses', 'no max subtraction: exp overflows for large logits',
           'stability', 'out',
           old='shifted = pred - np.max(pred, axis=1, keepdims=True)',
           new='shifted = pred'),
    Mutant('SoftmaxCrossEntropy', 'losses', '-log of a (stable) softmax: log(0) = -inf when the true logit is far below the max',
           'stability', 'out',
           old='losses = -log_p[np.arange(n), self.target]',
           new='losses = -np.log(self.probs[np.arange(n), self.target])'),
    Mutant('SoftmaxCrossEntropy', 'losses', 'mean backward misses the 1/N factor',
           'gradcheck', 'dx',
           old='grad = grad / n',
           new='grad = grad'),
    Mutant('SoftmaxCrossEntropy', 'losses', 'backward forgets to subtract the one-hot labels',
           'gradcheck', 'dx',
           old='\n        grad[np.arange(n), self.target] -= 1.0',
           new=''),
    Mutant('SoftmaxCrossEntropy', 'losses', 'forward sums over the batch instead of averaging (with matching backward)',
           'reference', 'out',
           old='return float(np.mean(losses))',
           new='return float(np.sum(losses))',
           also=(('grad = grad / n',
                  'grad = grad'),)),
    Mutant('SoftmaxCrossEntropy', 'losses', 'fancy indexing logp[:, target] averages an N x N block',
           'reference', 'out',
           old='losses = -log_p[np.arange(n), self.target]',
           new='losses = -log_p[:, self.target]'),
    Mutant('SoftmaxCrossEntropy', 'losses', 'row max subtracted from pred in place',
           'contract', 'x modified',
           old='shifted = pred - np.max(pred, axis=1, keepdims=True)',
           new=('pred -= np.max(pred, axis=1, keepdims=True)\n'
                '        shifted = pred')),
    # ====================================================================================================
    # A4B: training utilities (module training)
    # ====================================================================================================
    # ---------------------------------------- training.clip_grad_norm
    Mutant('clip_grad_norm', 'training', 'returns the norm after clipping, not before',
           'reference', 'out',
           old='            g *= coef\n',
           new=('            g *= coef\n'
                '        return float(min(total, max_norm))\n')),
    Mutant('clip_grad_norm', 'training', 'scales even when the norm is below max_norm',
           'reference', 'g0 after',
           old=('    if coef < 1.0:\n'
                '        for g in grads:\n'
                '            g *= coef'),
           new='    for g in grads:\n        g *= coef'),
    Mutant('clip_grad_norm', 'training', 'scaled copies made (g = g * coef): the caller\'s grads unchanged',
           'reference', 'g0 after',
           old='            g *= coef',
           new='            g = g * coef',
           hint='is unchanged after the call'),
    Mutant('clip_grad_norm', 'training', 'ignores norm_type: always the 2-norm',
           'reference', 'out',
           old='p = float(norm_type)',
           new='p = 2.0'),
    Mutant('clip_grad_norm', 'training', 'clips each array by its own norm',
           'reference', 'g0 after',
           old='            g *= coef',
           new=('            own = float(np.max(np.abs(g))) if math.isinf(p) else float(np.sum(np.abs(g) ** p)) ** (1.0 / p)\n'
                '            g *= min(1.0, max_norm / (own + 1e-6))')),
    # ---------------------------------------- training.clip_grad_value
    Mutant('clip_grad_value', 'training', 'clips only the top: np.minimum(g, clip)',
           'reference', 'g0 after',
           old='np.clip(g, -clip, clip, out=g)',
           new='np.minimum(g, clip, out=g)'),
    Mutant('clip_grad_value', 'training', 'clipped copies: grads not changed in place',
           'reference', 'g0 after',
           old='np.clip(g, -clip, clip, out=g)',
           new='g = np.clip(g, -clip, clip)',
           hint='is unchanged after the call'),
    Mutant('clip_grad_value', 'training', 'large entries set to +clip whatever their sign',
           'reference', 'g0 after',
           old='np.clip(g, -clip, clip, out=g)',
           new='g[np.abs(g) > clip] = clip'),
    # ---------------------------------------- training.l1_penalty
    Mutant('l1_penalty', 'training', 'forgets lam',
           'reference', 'out',
           old='return float(lam * sum(float(np.sum(np.abs(w))) for w in params))',
           new='return float(sum(float(np.sum(np.abs(w))) for w in params))'),
    Mutant('l1_penalty', 'training', 'squares instead of absolute values',
           'reference', 'out',
           old='return float(lam * sum(float(np.sum(np.abs(w))) for w in params))',
           new='return float(lam * sum(float(np.sum(w * w)) for w in params))'),
    Mutant('l1_penalty', 'training', 'mean of |w| instead of the sum',
           'reference', 'out',
           old='return float(lam * sum(float(np.sum(np.abs(w))) for w in params))',
           new='return float(lam * sum(float(np.mean(np.abs(w))) for w in params))'),
    Mutant('l1_penalty', 'training', 'only the first parameter array',
           'reference', 'out',
           old='return float(lam * sum(float(np.sum(np.abs(w))) for w in params))',
           new='return float(lam * np.sum(np.abs(params[0])))'),
    # ---------------------------------------- training.l1_penalty_grad
    Mutant('l1_penalty_grad', 'training', 'overwrites grads instead of adding to them',
           'reference', 'g0 after',
           old='g += lam * np.sign(w)',
           new='g[...] = lam * np.sign(w)'),
    Mutant('l1_penalty_grad', 'training', "L2's gradient lam * w instead of lam * sign(w)",
           'reference', 'g0 after',
           old='g += lam * np.sign(w)',
           new='g += lam * w'),
    Mutant('l1_penalty_grad', 'training', 'g = g + ... rebinds: grads unchanged',
           'reference', 'g0 after',
           old='g += lam * np.sign(w)',
           new='g = g + lam * np.sign(w)',
           hint='is unchanged after the call'),
    # ---------------------------------------- training.l2_penalty
    Mutant('l2_penalty', 'training', 'forgets the 1/2',
           'reference', 'out',
           old='return float(0.5 * lam * sum(float(np.sum(w * w)) for w in params))',
           new='return float(lam * sum(float(np.sum(w * w)) for w in params))',
           hint='yours / reference = 2'),
    Mutant('l2_penalty', 'training', 'the norm instead of the squared norm',
           'reference', 'out',
           old='return float(0.5 * lam * sum(float(np.sum(w * w)) for w in params))',
           new='return float(0.5 * lam * math.sqrt(sum(float(np.sum(w * w)) for w in params)))'),
    Mutant('l2_penalty', 'training', 'squares the sum instead of summing the squares',
           'reference', 'out',
           old='return float(0.5 * lam * sum(float(np.sum(w * w)) for w in params))',
           new='return float(0.5 * lam * sum(float(np.sum(w)) ** 2 for w in params))'),
    # ---------------------------------------- training.l2_penalty_grad
    Mutant('l2_penalty_grad', 'training', 'keeps the 1/2: adds 0.5 * lam * w',
           'reference', 'g0 after',
           old='g += lam * w',
           new='g += 0.5 * lam * w'),
    Mutant('l2_penalty_grad', 'training', '2 * lam * w (derivative of lam * w**2)',
           'reference', 'g0 after',
           old='g += lam * w',
           new='g += 2.0 * lam * w'),
    Mutant('l2_penalty_grad', 'training', 'overwrites grads instead of adding to them',
           'reference', 'g0 after',
           old='g += lam * w',
           new='g[...] = lam * w'),
    Mutant('l2_penalty_grad', 'training', 'decays the weights instead of the gradients',
           'reference', 'g0 after',
           old='g += lam * w',
           new='w -= lam * w',
           hint='is unchanged after the call'),
    # ---------------------------------------- training.step_lr
    Mutant('step_lr', 'training', 'off by one: (epoch + 1) // step_size',
           'reference', 'out',
           old='return float(lr * gamma ** (epoch // step_size))',
           new='return float(lr * gamma ** ((epoch + 1) // step_size))'),
    Mutant('step_lr', 'training', 'decays every epoch',
           'reference', 'out',
           old='return float(lr * gamma ** (epoch // step_size))',
           new='return float(lr * gamma ** epoch)'),
    Mutant('step_lr', 'training', 'no floor: gamma ** (epoch / step_size)',
           'reference', 'out',
           old='return float(lr * gamma ** (epoch // step_size))',
           new='return float(lr * gamma ** (epoch / step_size))'),
    # ---------------------------------------- training.EarlyStopping
    Mutant('EarlyStopping', 'training', 'a tie counts as an improvement (<=)',
           'scripted', 'stop decisions',
           old='if val_loss < self.best - self.min_delta:',
           new='if val_loss <= self.best - self.min_delta:'),
    Mutant('EarlyStopping', 'training', 'stops one epoch late (counter > patience)',
           'scripted', 'stop decisions',
           old='return self.counter >= self.patience',
           new='return self.counter > self.patience'),
    Mutant('EarlyStopping', 'training', 'the counter is never reset',
           'scripted', 'stop decisions',
           old='            self.counter = 0\n',
           new=''),
    Mutant('EarlyStopping', 'training', 'ignores min_delta',
           'scripted', 'stop decisions',
           old='if val_loss < self.best - self.min_delta:',
           new='if val_loss < self.best:'),
    # ---------------------------------------- training.minibatches
    Mutant('minibatches', 'training', 'drops the last partial batch',
           'batching', 'every sample once',
           old='for start in range(0, n, batch_size):',
           new='for start in range(0, n - batch_size + 1, batch_size):'),
    Mutant('minibatches', 'training', 'X and y shuffled with different permutations',
           'batching', 'X and y aligned',
           old='order = rng.permutation(n)',
           new='order, order_y = rng.permutation(n), rng.permutation(n)',
           also=(('yield X[idx], y[idx]',
                  'yield X[idx], y[(order_y if shuffle else order)[start:start + batch_size]]'),)),
    Mutant('minibatches', 'training', 'the same permutation every epoch (fixed seed)',
           'batching', 'other seed, other order',
           old='order = rng.permutation(n)',
           new='order = np.random.default_rng(0).permutation(n)'),
    Mutant('minibatches', 'training', 'shuffles X and y in place',
           'batching', 'X and y unchanged',
           old='        order = rng.permutation(n)\n',
           new=('        order = rng.permutation(n)\n'
                '        X[...] = X[order]\n'
                '        y[...] = y[order]\n')),
    Mutant('minibatches', 'training', 'shuffles even when shuffle is False',
           'batching', 'order kept',
           old='if shuffle:',
           new='if True:'),
    Mutant('minibatches', 'training', 'draws from np.random, not from rng',
           'batching', 'same seed, same batches',
           old='order = rng.permutation(n)',
           new='order = np.random.permutation(n)'),
    # ====================================================================================================
    # A5: regularization and recurrent layers
    # ====================================================================================================
    # ---------------------------------------- regularization.Dropout
    Mutant('Dropout', 'regularization', "backward draws a new mask instead of reusing forward's",
           'stochastic', 'dx',
           old='return dout * self.scale',
           new='return dout * ((self.rng.random(dout.shape) >= self.p) / (1.0 - self.p))',
           hint='keep the mask'),
    Mutant('Dropout', 'regularization', "backward keeps forward's mask but not its 1/(1-p) scale",
           'stochastic', 'dx',
           old='return dout * self.scale',
           new='return dout * (self.scale != 0)',
           hint='zeroes the same elements as forward, but scales the kept ones differently'),
    Mutant('Dropout', 'regularization', 'not inverted: kept elements are not scaled by 1/(1-p)',
           'stochastic', 'out',
           old='self.scale = keep / (1.0 - self.p)',
           new='self.scale = keep.astype(np.float64)',
           hint='non-inverted dropout'),
    Mutant('Dropout', 'regularization', 'p taken as the probability to keep an element',
           'stochastic', 'out',
           old='keep = self.rng.random(x.shape) >= self.p',
           new='keep = self.rng.random(x.shape) < self.p',
           hint='p is used as the KEEP probability'),
    Mutant('Dropout', 'regularization', 'the same mask at every call (generator re-seeded in forward)',
           'stochastic', 'out',
           old='keep = self.rng.random(x.shape) >= self.p',
           new='keep = np.random.default_rng(0).random(x.shape) >= self.p'),
    Mutant('Dropout', 'regularization', 'evaluation scales by 1-p (non-inverted test-time rule)',
           'reference', 'out',
           old='            self.scale = None\n            return x.copy()',
           new=('            self.scale = np.full(x.shape, 1.0 - self.p)\n'
                '            return x * self.scale'),
           hint='non-inverted dropout'),
    # ---------------------------------------- regularization.RReLU
    Mutant('RReLU', 'regularization', 'random slopes applied on the positive side too',
           'stochastic', 'out',
           old='self.slope = np.where(x >= 0, 1.0, a)',
           new='self.slope = np.where(x >= 0, a if self.train else 1.0, a)'),
    Mutant('RReLU', 'regularization', 'a single random slope shared by all elements',
           'stochastic', 'out',
           old='a = self.rng.uniform(self.lower, self.upper, size=x.shape)',
           new='a = self.rng.uniform(self.lower, self.upper)'),
    Mutant('RReLU', 'regularization', 'backward draws new slopes',
           'stochastic', 'dx',
           old='return dout * self.slope',
           new=('if not self.train:\n'
                '            return dout * self.slope\n'
                '        return dout * np.where(self.slope == 1.0, 1.0, self.rng.uniform(self.lower, self.upper, size=dout.shape))'),
           hint='keep the mask'),
    Mutant('RReLU', 'regularization', 'slopes drawn from U(0, 1), ignoring lower and upper',
           'stochastic', 'out',
           old='a = self.rng.uniform(self.lower, self.upper, size=x.shape)',
           new='a = self.rng.random(x.shape)'),
    Mutant('RReLU', 'regularization', 'evaluation uses the slope lower instead of (lower + upper) / 2',
           'reference', 'out',
           old='a = (self.lower + self.upper) / 2',
           new='a = self.lower'),
    Mutant('RReLU', 'regularization', 'backward passes dout through unchanged',
           'gradcheck', 'dx',
           old='return dout * self.slope',
           new='return dout.copy()',
           hint='backward returns dout unchanged'),
    # ---------------------------------------- regularization.BatchNorm1d
    Mutant('BatchNorm1d', 'regularization', 'running variance updated with the biased batch variance',
           'reference', 'running_var',
           old='m * var * n / (n - 1)',
           new='m * var',
           hint='biased batch variance'),
    Mutant('BatchNorm1d', 'regularization', 'evaluation normalises with the batch statistics',
           'reference', 'out',
           old='mu, var = self.running_mean, self.running_var',
           new='mu, var = x.mean(axis=0), x.var(axis=0)'),
    Mutant('BatchNorm1d', 'regularization', "momentum weights the old running mean (torch's momentum is the new value's weight)",
           'reference', 'running_mean',
           old='(1.0 - m) * self.running_mean + m * mu',
           new='m * self.running_mean + (1.0 - m) * mu',
           hint='weight the old running value'),
    Mutant('BatchNorm1d', 'regularization', 'normalises with the unbiased batch variance',
           'reference', 'out',
           old='var = x.var(axis=0)',
           new='var = x.var(axis=0, ddof=1)',
           also=(('m * var * n / (n - 1)',
                  'm * var'),)),
    Mutant('BatchNorm1d', 'regularization', 'training backward ignores that mean and variance depend on x',
           'gradcheck', 'dx',
           old='return (dxhat - dxhat.mean(axis=0) - xhat * np.mean(dxhat * xhat, axis=0)) * inv_std',
           new='return dxhat * inv_std'),
    Mutant('BatchNorm1d', 'regularization', 'dgamma sums dout instead of dout * xhat',
           'reference', 'gamma',
           old='np.sum(dout * xhat, axis=0)',
           new='np.sum(dout, axis=0)',
           hint="equals the reference's dbeta"),
    Mutant('BatchNorm1d', 'regularization', 'eps added to the standard deviation instead of the variance',
           'reference', 'out',
           old='inv_std = 1.0 / np.sqrt(var + self.eps)',
           new='inv_std = 1.0 / (np.sqrt(var) + self.eps)'),
    # ---------------------------------------- recurrent.RNNCell
    Mutant('RNNCell', 'recurrent', 'backward forgets the tanh derivative',
           'gradcheck', 'dx',
           old='da = dh_next * (1.0 - h_next ** 2)',
           new='da = dh_next'),
    Mutant('RNNCell', 'recurrent', 'dWh computed from h_next instead of the previous state h',
           'reference', 'Wh',
           old='self.grads[1][...] = h.T @ da',
           new='self.grads[1][...] = h_next.T @ da'),
    Mutant('RNNCell', 'recurrent', 'hidden weights used transposed: h @ Wh.T',
           'reference', 'out',
           old='x @ self.Wx + h @ self.Wh + self.b',
           new='x @ self.Wx + h @ self.Wh.T + self.b',
           also=(('da @ self.Wh.T',
                  'da @ self.Wh'), ('self.grads[1][...] = h.T @ da',
                  'self.grads[1][...] = (h.T @ da).T'),)),
    Mutant('RNNCell', 'recurrent', 'db averaged over the batch instead of summed',
           'reference', 'b',
           old='da.sum(axis=0)',
           new='da.mean(axis=0)'),
    Mutant('RNNCell', 'recurrent', 'dh multiplies by Wh instead of Wh.T',
           'reference', 'h',
           old='da @ self.Wh.T',
           new='da @ self.Wh'),
    # ---------------------------------------- recurrent.LSTMCell
    Mutant('LSTMCell', 'recurrent', "gate blocks read in the order i, f, o, g instead of torch's i, f, g, o",
           'reference', 'h_next',
           old='g = np.tanh(a[:, 2 * H:3 * H])',
           new='g = np.tanh(a[:, 3 * H:])',
           also=(('o = _sigmoid(a[:, 3 * H:])',
                  'o = _sigmoid(a[:, 2 * H:3 * H])'), ('dg * (1.0 - g ** 2), do * o * (1.0 - o)',
                  'do * o * (1.0 - o), dg * (1.0 - g ** 2)'),),
           hint='in the order i, f, o, g'),
    Mutant('LSTMCell', 'recurrent', "gate blocks read in the order f, g, i, o (forward only)",
           'reference', 'h_next',
           old='i = _sigmoid(a[:, :H])',
           new='i = _sigmoid(a[:, 2 * H:3 * H])',
           also=(('f = _sigmoid(a[:, H:2 * H])', 'f = _sigmoid(a[:, :H])'),
                 ('g = np.tanh(a[:, 2 * H:3 * H])', 'g = np.tanh(a[:, H:2 * H])')),
           hint='in the order f, g, i, o'),
    Mutant('LSTMCell', 'recurrent', 'h_next = o * c_next, without the tanh',
           'reference', 'h_next',
           old='h_next = o * tc',
           new='h_next = o * c_next'),
    Mutant('LSTMCell', 'recurrent', 'dc returned without the forget gate factor',
           'reference', 'c',
           old=', dc_total * f',
           new=', dc_total'),
    Mutant('LSTMCell', 'recurrent', "the cell state's gradient through h_next is dropped",
           'gradcheck', 'x',
           old='dc_total = dc_next + dh_next * o * (1.0 - tc ** 2)',
           new='dc_total = dc_next + 0.0 * dh_next'),
    Mutant('LSTMCell', 'recurrent', 'sigmoid instead of tanh for the candidate g',
           'reference', 'c_next',
           old='g = np.tanh(a[:, 2 * H:3 * H])',
           new='g = _sigmoid(a[:, 2 * H:3 * H])'),
    # ---------------------------------------- recurrent.RNN
    Mutant('RNN', 'recurrent', "BPTT keeps only the last step's parameter gradients (= instead of +=)",
           'reference', 'Wh',
           old='dWx += xs[t].T @ da',
           new='dWx = xs[t].T @ da',
           also=(('dWh += h_prev.T @ da',
                  'dWh = h_prev.T @ da'), ('db += da.sum(axis=0)',
                  'db = da.sum(axis=0)'),)),
    Mutant('RNN', 'recurrent', 'hidden states returned batch-first (N, T, H)',
           'reference', 'out',
           old='        return hs\n',
           new='        return hs.transpose(1, 0, 2)\n',
           hint='batch-first (N, T, ...)'),
    Mutant('RNN', 'recurrent', 'dWh uses the current state h_t instead of h_{t-1}',
           'gradcheck', 'Wh',
           old='h_prev = hs[t - 1] if t > 0 else h0',
           new='h_prev = hs[t]'),
    Mutant('RNN', 'recurrent', 'no gradient carried from step t+1 to step t (truncated BPTT)',
           'reference', 'xs',
           old='dh_carry = da @ self.Wh.T',
           new='dh_prev = da @ self.Wh.T',
           also=(('return dxs, dh_carry',
                  'return dxs, dh_prev'),)),
    Mutant('RNN', 'recurrent', 'dh0 returned as zeros',
           'reference', 'h0',
           old='return dxs, dh_carry',
           new='return dxs, np.zeros(h0.shape)',
           hint='is all zeros'),
    Mutant('RNN', 'recurrent', 'the same step applied with the initial state h0 at every time step',
           'reference', 'out',
           old='h = np.tanh(xs[t] @ self.Wx + h @ self.Wh + self.b)',
           new='h = np.tanh(xs[t] @ self.Wx + h0 @ self.Wh + self.b)'),
    # ====================================================================================================
    # A6: initializers (statistics) and counts (reference)
    # ====================================================================================================
    # ---------------------------------------- init.uniform_fan_in
    Mutant('uniform_fan_in', 'init', 'scale factor 2: bound 2/sqrt(fan_in)',
           'statistics', 'out',
           old='a = 1.0 / np.sqrt(fan_in)',
           new='a = 2.0 / np.sqrt(fan_in)'),
    Mutant('uniform_fan_in', 'init', 'wrong fan: 1/sqrt(fan_out)',
           'statistics', 'out',
           old='a = 1.0 / np.sqrt(fan_in)',
           new='a = 1.0 / np.sqrt(fan_out)'),
    Mutant('uniform_fan_in', 'init', 'not centred: U(0, a)',
           'statistics', 'out',
           old='return rng.uniform(-a, a, size=(fan_in, fan_out))',
           new='return rng.uniform(0.0, a, size=(fan_in, fan_out))'),
    Mutant('uniform_fan_in', 'init', "ignores rng: draws from np.random's global state",
           'statistics', 'out',
           old='return rng.uniform(-a, a, size=(fan_in, fan_out))',
           new='return np.random.uniform(-a, a, size=(fan_in, fan_out))'),
    # ---------------------------------------- init.glorot_uniform
    Mutant('glorot_uniform', 'init', 'scale factor 2 on the bound',
           'statistics', 'out',
           old='a = gain * np.sqrt(6.0 / (fan_in + fan_out))',
           new='a = 2.0 * gain * np.sqrt(6.0 / (fan_in + fan_out))'),
    Mutant('glorot_uniform', 'init', 'wrong fan: fan_in twice, sqrt(6/(2 fan_in))',
           'statistics', 'out',
           old='a = gain * np.sqrt(6.0 / (fan_in + fan_out))',
           new='a = gain * np.sqrt(6.0 / (fan_in + fan_in))'),
    Mutant('glorot_uniform', 'init', "the normal law's std used as the bound: sqrt(2/(fan_in+fan_out))",
           'statistics', 'out',
           old='a = gain * np.sqrt(6.0 / (fan_in + fan_out))',
           new='a = gain * np.sqrt(2.0 / (fan_in + fan_out))'),
    Mutant('glorot_uniform', 'init', 'gain forgotten',
           'statistics', 'out',
           old='a = gain * np.sqrt(6.0 / (fan_in + fan_out))',
           new='a = np.sqrt(6.0 / (fan_in + fan_out))'),
    # ---------------------------------------- init.glorot_normal
    Mutant('glorot_normal', 'init', 'scale factor 2 on the standard deviation',
           'statistics', 'out',
           old='std = gain * np.sqrt(2.0 / (fan_in + fan_out))',
           new='std = 2.0 * gain * np.sqrt(2.0 / (fan_in + fan_out))'),
    Mutant('glorot_normal', 'init', 'wrong fan: fan_out twice, sqrt(2/(2 fan_out))',
           'statistics', 'out',
           old='std = gain * np.sqrt(2.0 / (fan_in + fan_out))',
           new='std = gain * np.sqrt(2.0 / (fan_out + fan_out))'),
    Mutant('glorot_normal', 'init', "the notes' slip: variance sqrt(2/(fan_in+fan_out))",
           'statistics', 'out',
           old='std = gain * np.sqrt(2.0 / (fan_in + fan_out))',
           new='std = gain * (2.0 / (fan_in + fan_out)) ** 0.25'),
    Mutant('glorot_normal', 'init', 'uniform draws of the right variance instead of normal ones',
           'statistics', 'out',
           old=('std = gain * np.sqrt(2.0 / (fan_in + fan_out))\n'
                '    return rng.normal(0.0, std, size=(fan_in, fan_out))'),
           new=('a = np.sqrt(3.0) * gain * np.sqrt(2.0 / (fan_in + fan_out))\n'
                '    return rng.uniform(-a, a, size=(fan_in, fan_out))')),
    # ---------------------------------------- init.he_normal
    Mutant('he_normal', 'init', 'scale factor 2 on the standard deviation',
           'statistics', 'out',
           old='std = np.sqrt(2.0 / (1.0 + a * a)) / np.sqrt(fan_in)',
           new='std = 2.0 * np.sqrt(2.0 / (1.0 + a * a)) / np.sqrt(fan_in)'),
    Mutant('he_normal', 'init', 'wrong fan: sqrt(2/fan_out)',
           'statistics', 'out',
           old='std = np.sqrt(2.0 / (1.0 + a * a)) / np.sqrt(fan_in)',
           new='std = np.sqrt(2.0 / (1.0 + a * a)) / np.sqrt(fan_out)'),
    Mutant('he_normal', 'init', 'ReLU gain sqrt(2) forgotten: sqrt(1/fan_in)',
           'statistics', 'out',
           old='std = np.sqrt(2.0 / (1.0 + a * a)) / np.sqrt(fan_in)',
           new='std = 1.0 / np.sqrt(fan_in)'),
    Mutant('he_normal', 'init', 'ignores rng: a default_rng() of its own',
           'statistics', 'out',
           old='return rng.normal(0.0, std, size=(fan_in, fan_out))',
           new='return np.random.default_rng().normal(0.0, std, size=(fan_in, fan_out))'),
    # ---------------------------------------- init.he_uniform
    Mutant('he_uniform', 'init', 'scale factor 2 on the bound',
           'statistics', 'out',
           old='b = np.sqrt(2.0 / (1.0 + a * a)) * np.sqrt(3.0 / fan_in)',
           new='b = 2.0 * np.sqrt(2.0 / (1.0 + a * a)) * np.sqrt(3.0 / fan_in)'),
    Mutant('he_uniform', 'init', 'wrong fan: sqrt(6/fan_out)',
           'statistics', 'out',
           old='b = np.sqrt(2.0 / (1.0 + a * a)) * np.sqrt(3.0 / fan_in)',
           new='b = np.sqrt(2.0 / (1.0 + a * a)) * np.sqrt(3.0 / fan_out)'),
    Mutant('he_uniform', 'init', 'the standard deviation used as the bound: sqrt(2/fan_in)',
           'statistics', 'out',
           old='b = np.sqrt(2.0 / (1.0 + a * a)) * np.sqrt(3.0 / fan_in)',
           new='b = np.sqrt(2.0 / (1.0 + a * a)) / np.sqrt(fan_in)'),
    Mutant('he_uniform', 'init', 'the leaky slope a ignored (ReLU gain always)',
           'statistics', 'out',
           old='b = np.sqrt(2.0 / (1.0 + a * a)) * np.sqrt(3.0 / fan_in)',
           new='b = np.sqrt(6.0 / fan_in)'),
    # ---------------------------------------- init.orthogonal
    Mutant('orthogonal', 'init', 'gain forgotten',
           'statistics', 'out',
           old='return gain * (q if tall else q.T)',
           new='return q if tall else q.T'),
    Mutant('orthogonal', 'init', 'scale factor 2: 2 gain',
           'statistics', 'out',
           old='return gain * (q if tall else q.T)',
           new='return 2.0 * gain * (q if tall else q.T)'),
    Mutant('orthogonal', 'init', 'not orthogonalised: a Gaussian matrix of the right variance',
           'statistics', 'out',
           old='return gain * (q if tall else q.T)',
           new='return gain * rng.standard_normal((fan_in, fan_out)) / np.sqrt(max(fan_in, fan_out))'),
    Mutant('orthogonal', 'init', 'not transposed back when fan_in < fan_out',
           'statistics', 'out',
           old='return gain * (q if tall else q.T)',
           new='return gain * q'),
    Mutant('orthogonal', 'init', "not random: gain times the identity's first columns",
           'statistics', 'out',
           old='return gain * (q if tall else q.T)',
           new='return gain * np.eye(fan_in, fan_out)'),
    # ---------------------------------------- init.sparse
    Mutant('sparse', 'init', 'k non-zeros per row instead of per column',
           'statistics', 'out',
           old='rows = np.argsort(rng.random((fan_in, fan_out)), axis=0)[:k]',
           new='cols = np.argsort(rng.random((fan_in, fan_out)), axis=1)[:, :k]',
           also=(('w[rows, np.arange(fan_out)] = rng.normal(0.0, std, size=(k, fan_out))',
                  'w[np.arange(fan_in)[:, None], cols] = rng.normal(0.0, std, size=(fan_in, k))'),)),
    Mutant('sparse', 'init', 'scale factor 2 on std',
           'statistics', 'out',
           old='rng.normal(0.0, std, size=(k, fan_out))',
           new='rng.normal(0.0, 2.0 * std, size=(k, fan_out))'),
    Mutant('sparse', 'init', 'the same k rows in every column',
           'statistics', 'out',
           old='rows = np.argsort(rng.random((fan_in, fan_out)), axis=0)[:k]',
           new='rows = rng.choice(fan_in, size=(k, 1), replace=False)'),
    Mutant('sparse', 'init', 'rows drawn with replacement: some columns get fewer than k',
           'statistics', 'out',
           old='rows = np.argsort(rng.random((fan_in, fan_out)), axis=0)[:k]',
           new='rows = rng.integers(0, fan_in, size=(k, fan_out))'),
    Mutant('sparse', 'init', 'std**2 passed as the standard deviation',
           'statistics', 'out',
           old='rng.normal(0.0, std, size=(k, fan_out))',
           new='rng.normal(0.0, std * std, size=(k, fan_out))'),
    # ---------------------------------------- counting.conv2d_output_shape
    Mutant('conv2d_output_shape', 'counting', 'padding ignored',
           'reference', 'out',
           old='return (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1',
           new='return (h - kh) // sh + 1, (w - kw) // sw + 1'),
    Mutant('conv2d_output_shape', 'counting', 'stride off by one: (h + 2p - k + 1) // s',
           'reference', 'out',
           old='return (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1',
           new='return (h + 2 * ph - kh + 1) // sh, (w + 2 * pw - kw + 1) // sw'),
    Mutant('conv2d_output_shape', 'counting', 'padding on one side only',
           'reference', 'out',
           old='return (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1',
           new='return (h + ph - kh) // sh + 1, (w + pw - kw) // sw + 1'),
    Mutant('conv2d_output_shape', 'counting', 'ceil instead of floor',
           'reference', 'out',
           old='return (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1',
           new='return -(-(h + 2 * ph - kh) // sh) + 1, -(-(w + 2 * pw - kw) // sw) + 1'),
    # ---------------------------------------- counting.affine_param_count
    Mutant('affine_param_count', 'counting', 'bias forgotten',
           'reference', 'out',
           old='return d_in * d_out + d_out',
           new='return d_in * d_out'),
    Mutant('affine_param_count', 'counting', 'bias of size d_in',
           'reference', 'out',
           old='return d_in * d_out + d_out',
           new='return d_in * d_out + d_in'),
    Mutant('affine_param_count', 'counting', 'one bias for the whole layer',
           'reference', 'out',
           old='return d_in * d_out + d_out',
           new='return d_in * d_out + 1'),
    # ---------------------------------------- counting.conv2d_param_count
    Mutant('conv2d_param_count', 'counting', 'bias forgotten',
           'reference', 'out',
           old='return kh * kw * c_in * c_out + (c_out if bias else 0)',
           new='return kh * kw * c_in * c_out'),
    Mutant('conv2d_param_count', 'counting', 'bias=False ignored',
           'reference', 'out',
           old='return kh * kw * c_in * c_out + (c_out if bias else 0)',
           new='return kh * kw * c_in * c_out + c_out'),
    Mutant('conv2d_param_count', 'counting', 'input channels forgotten',
           'reference', 'out',
           old='return kh * kw * c_in * c_out + (c_out if bias else 0)',
           new='return kh * kw * c_out + (c_out if bias else 0)'),
    Mutant('conv2d_param_count', 'counting', 'square kernel assumed: kh * kh',
           'reference', 'out',
           old='return kh * kw * c_in * c_out + (c_out if bias else 0)',
           new='return kh * kh * c_in * c_out + (c_out if bias else 0)'),
    # ---------------------------------------- counting.conv2d_macs
    Mutant('conv2d_macs', 'counting', 'padding ignored',
           'reference', 'out',
           old='conv2d_output_shape(h, w, kernel, stride, padding)',
           new='conv2d_output_shape(h, w, kernel, stride, 0)'),
    Mutant('conv2d_macs', 'counting', 'stride off by one: (h + 2p - k + 1) // s',
           'reference', 'out',
           old=('kh, kw = _pair(kernel)\n'
                '    h_out, w_out = conv2d_output_shape(h, w, kernel, stride, padding)'),
           new=('(kh, kw), (sh, sw), (ph, pw) = _pair(kernel), _pair(stride), _pair(padding)\n'
                '    h_out, w_out = (h + 2 * ph - kh + 1) // sh, (w + 2 * pw - kw + 1) // sw')),
    Mutant('conv2d_macs', 'counting', 'input channels forgotten',
           'reference', 'out',
           old='return h_out * w_out * c_out * c_in * kh * kw',
           new='return h_out * w_out * c_out * kh * kw'),
    Mutant('conv2d_macs', 'counting', 'FLOPs (2 per MAC) instead of MACs',
           'reference', 'out',
           old='return h_out * w_out * c_out * c_in * kh * kw',
           new='return 2 * h_out * w_out * c_out * c_in * kh * kw'),
    Mutant('conv2d_macs', 'counting', 'bias additions counted as MACs',
           'reference', 'out',
           old='return h_out * w_out * c_out * c_in * kh * kw',
           new='return h_out * w_out * c_out * (c_in * kh * kw + 1)'),
    # ====================================================================================================
    # A3: graph nodes, Maxout, convolutional layers
    # ====================================================================================================
    # ---------------------------------------- graph.MatMul
    Mutant('MatMul', 'graph', 'transposed dW: dout.T @ x (fits only a square W)',
           'reference', 'W',
           old='self.x.T @ dout',
           new='dout.T @ self.x'),
    Mutant('MatMul', 'graph', 'dW averaged over the batch (an extra 1/N)',
           'reference', 'W',
           old='self.x.T @ dout',
           new='self.x.T @ dout / dout.shape[0]'),
    Mutant('MatMul', 'graph', 'dx forgets dout: ones @ W.T',
           'gradcheck', 'dx',
           old='return dout @ self.W.T',
           new='return np.ones_like(dout) @ self.W.T'),
    Mutant('MatMul', 'graph', 'backward rebinds self.grads[0] instead of writing into it',
           'contract', 'grads rebound',
           old='self.grads[0][...] = ',
           new='self.grads[0] = '),
    # ---------------------------------------- graph.Repeat
    Mutant('Repeat', 'graph', 'backward does not sum the copies: keeps only the first of each',
           'reference', 'x',
           old='np.sum(dout.reshape(split), axis=axis + 1)',
           new='np.take(dout.reshape(split), 0, axis=axis + 1)'),
    Mutant('Repeat', 'graph', 'backward averages the copies instead of summing them',
           'reference', 'x',
           old='np.sum(dout.reshape(split), axis=axis + 1)',
           new='np.mean(dout.reshape(split), axis=axis + 1)'),
    Mutant('Repeat', 'graph', 'forward tiles (np.tile / Tensor.repeat) instead of repeating each entry',
           'reference', 'out',
           old='np.repeat(x, self.n, axis=self.axis)',
           new='np.concatenate([x] * self.n, axis=self.axis)',
           also=(('self.shape[: axis + 1] + (self.n,) + self.shape[axis + 1 :]',
                  'self.shape[:axis] + (self.n,) + self.shape[axis:]'), ('np.sum(dout.reshape(split), axis=axis + 1)',
                  'np.sum(dout.reshape(split), axis=axis)'),)),
    Mutant('Repeat', 'graph', 'backward groups the copies as a tile would (copies axis before the repeated one)',
           'gradcheck', 'dx',
           old='self.shape[: axis + 1] + (self.n,) + self.shape[axis + 1 :]',
           new='self.shape[:axis] + (self.n,) + self.shape[axis:]',
           also=(('np.sum(dout.reshape(split), axis=axis + 1)',
                  'np.sum(dout.reshape(split), axis=axis)'),)),
    Mutant('Repeat', 'graph', 'negative axis not normalised in backward',
           'gradcheck', 'dx',
           old='axis = self.axis % len(self.shape)',
           new='axis = self.axis'),
    # ---------------------------------------- graph.Sum
    Mutant('Sum', 'graph', 'backward broadcasts dout without restoring the summed axis (keepdims=False)',
           'reference', 'dx',
           old=('        if not self.keepdims:\n'
                '            dout = np.expand_dims(dout, self.axis)\n'),
           new=''),
    Mutant('Sum', 'graph', "backward divides by the axis length (the mean's gradient)",
           'reference', 'dx',
           old='np.broadcast_to(dout, self.shape).astype(np.float64)',
           new='np.broadcast_to(dout, self.shape) / self.shape[self.axis]'),
    Mutant('Sum', 'graph', 'gradient given only to the first entry along the axis',
           'gradcheck', 'dx',
           old='return np.broadcast_to(dout, self.shape).astype(np.float64)',
           new=('dx = np.zeros(self.shape)\n'
                '        index = [slice(None)] * len(self.shape)\n'
                '        index[self.axis] = slice(0, 1)\n'
                '        dx[tuple(index)] = dout\n'
                '        return dx')),
    Mutant('Sum', 'graph', 'forward sorts x in place before summing (for accuracy)',
           'contract', 'x modified',
           old='        self.shape = x.shape\n',
           new=('        self.shape = x.shape\n'
                '        x.sort(axis=self.axis)\n')),
    # ---------------------------------------- activations.Maxout
    Mutant('Maxout', 'activations', 'strided groups (features j, j+D, j+2D...) instead of contiguous ones',
           'reference', 'out',
           old='groups = x.reshape(x.shape[0], -1, self.k)',
           new='groups = x.reshape(x.shape[0], self.k, -1).transpose(0, 2, 1)',
           also=(('return dx.reshape(dout.shape[0], -1)',
                  'return dx.transpose(0, 2, 1).reshape(dout.shape[0], -1)'),)),
    Mutant('Maxout', 'activations', "gradient routed to the wrong element: the group's first feature",
           'gradcheck', 'dx',
           old='np.where(self.mask, dout[:, :, None], 0.0)',
           new='np.where(np.arange(self.k) == 0, dout[:, :, None], 0.0)'),
    Mutant('Maxout', 'activations', "gradient routed to the group's minimum (argmin)",
           'gradcheck', 'dx',
           old='winner = np.argmax(groups, axis=2)',
           new='winner = np.argmin(groups, axis=2)'),
    Mutant('Maxout', 'activations', 'gradient given to every feature of the group',
           'gradcheck', 'dx',
           old='np.where(self.mask, dout[:, :, None], 0.0)',
           new='np.broadcast_to(dout[:, :, None], self.mask.shape)'),
    Mutant('Maxout', 'activations', 'backward flattens the (N, D, k) gradient in the wrong order',
           'gradcheck', 'dx',
           old='return dx.reshape(dout.shape[0], -1)',
           new='return dx.transpose(0, 2, 1).reshape(dout.shape[0], -1)'),
    # ---------------------------------------- cnn.Flatten
    Mutant('Flatten', 'cnn', 'backward restores the shape in Fortran order',
           'reference', 'dx',
           old='dout.reshape(self.shape)',
           new="dout.reshape(self.shape, order='F')"),
    Mutant('Flatten', 'cnn', 'forward flattens channels-last (NHWC order), backward consistently',
           'reference', 'out',
           old='x.reshape(x.shape[0], -1)',
           new='np.moveaxis(x, 1, -1).reshape(x.shape[0], -1)',
           also=(('dout.reshape(self.shape)',
                  'np.moveaxis(dout.reshape((self.shape[0],) + self.shape[2:] + (self.shape[1],)), -1, 1)'),)),
    Mutant('Flatten', 'cnn', 'backward reshapes dout.T (batch axis mixed with the features)',
           'reference', 'dx',
           old='dout.reshape(self.shape)',
           new='dout.T.reshape(self.shape)'),
    Mutant('Flatten', 'cnn', 'forward reshapes x in place (x.shape = ...) and returns it',
           'contract', 'x modified',
           old='return x.reshape(x.shape[0], -1).astype(np.float64)',
           new='x.shape = (x.shape[0], -1)\n        return x'),
    # ---------------------------------------- cnn.Conv2d
    Mutant('Conv2d', 'cnn', 'kernel flipped (true convolution instead of cross-correlation)',
           'reference', 'out',
           old='self.W[:, :, p, q]',
           new='self.W[:, :, kh - 1 - p, kw - 1 - q]', count=2,
           also=(('self.grads[0][:, :, p, q]',
                  'self.grads[0][:, :, kh - 1 - p, kw - 1 - q]'),)),
    Mutant('Conv2d', 'cnn', 'wrong stride handling: stride applied to the kernel offset (i + p*s, not i*s + p)',
           'reference', 'out',
           old='xp[:, :, p : p + sh * H_out : sh, q : q + sw * W_out : sw]',
           new='xp[:, :, p * sh : p * sh + H_out, q * sw : q * sw + W_out]',
           also=(('rows = slice(p, p + sh * H_out, sh)',
                  'rows = slice(p * sh, p * sh + H_out)'), ('cols = slice(q, q + sw * W_out, sw)',
                  'cols = slice(q * sw, q * sw + W_out)'),)),
    Mutant('Conv2d', 'cnn', 'padding not removed in backward where it was added: cut from the bottom-right only',
           'reference', 'x',
           old='dxp[:, :, top : top + shape[2], left : left + shape[3]]',
           new='dxp[:, :, : shape[2], : shape[3]]'),
    Mutant('Conv2d', 'cnn', "db not summed over N: only the first sample's dout",
           'reference', 'b',
           old='np.sum(dout, axis=(0, 2, 3))',
           new='np.sum(dout[0], axis=(1, 2))'),
    Mutant('Conv2d', 'cnn', 'db averaged over the output pixels instead of summed over H and W',
           'reference', 'b',
           old='np.sum(dout, axis=(0, 2, 3))',
           new='np.sum(np.mean(dout, axis=(2, 3)), axis=0)'),
    Mutant('Conv2d', 'cnn', 'dW not accumulated over the batch: only the first sample',
           'gradcheck', 'W',
           old='np.einsum("nfhw,nchw->fc", dout, xp[:, :, rows, cols])',
           new='np.einsum("fhw,chw->fc", dout[0], xp[0, :, rows, cols])'),
    Mutant('Conv2d', 'cnn', 'backward rebinds self.grads instead of writing into it',
           'contract', 'grads rebound',
           old='self.grads[1][...] = np.sum(dout, axis=(0, 2, 3))',
           new='self.grads = [self.grads[0].copy(), np.sum(dout, axis=(0, 2, 3))]'),
    # ---------------------------------------- cnn.MaxPool2d
    Mutant('MaxPool2d', 'cnn', 'gradient routed to every element of the window',
           'gradcheck', 'dx',
           old='np.where(winner == p * kw + q, dout, 0.0)',
           new='dout'),
    Mutant('MaxPool2d', 'cnn', 'window offsets (p, q) decoded with rows and columns swapped in backward',
           'gradcheck', 'dx',
           old='winner == p * kw + q',
           new='winner == q * kh + p'),
    Mutant('MaxPool2d', 'cnn', 'overlapping windows overwrite instead of add (= instead of +=) in backward',
           'gradcheck', 'dx',
           old='] += np.where(',
           new='] = np.where('),
    Mutant('MaxPool2d', 'cnn', 'backward shares dout over the window (1/(kh*kw)) like average pooling',
           'gradcheck', 'dx',
           old='np.where(winner == p * kw + q, dout, 0.0)',
           new='dout / (kh * kw)'),
    Mutant('MaxPool2d', 'cnn', 'wrong stride handling: stride applied to the offset inside the window',
           'reference', 'out',
           old='p : p + sh * H_out : sh, q : q + sw * W_out : sw',
           new='p * sh : p * sh + H_out, q * sw : q * sw + W_out', count=2),
    # ---------------------------------------- cnn.AvgPool2d
    Mutant('AvgPool2d', 'cnn', 'backward misses the 1/(kh*kw)',
           'gradcheck', 'dx',
           old='+= dout / (kh * kw)',
           new='+= dout'),
    Mutant('AvgPool2d', 'cnn', 'overlapping windows overwrite instead of add (= instead of +=) in backward',
           'gradcheck', 'dx',
           old='] += dout / (kh * kw)',
           new='] = dout / (kh * kw)'),
    Mutant('AvgPool2d', 'cnn', 'divides by kh only (1/kh instead of 1/(kh*kw)), backward consistently',
           'reference', 'out',
           old='return out / (kh * kw)',
           new='return out / kh',
           also=(('+= dout / (kh * kw)',
                  '+= dout / kh'),)),
    Mutant('AvgPool2d', 'cnn', 'backward divides dout in place (dout /= kh*kw)',
           'contract', 'dout modified',
           old='+= dout / (kh * kw)',
           new='+= dout',
           also=(('dx = np.zeros(self.shape)',
                  'dx = np.zeros(self.shape)\n        dout /= kh * kw'),)),
    Mutant('AvgPool2d', 'cnn', 'wrong stride handling: stride applied to the offset inside the window',
           'reference', 'out',
           old='p : p + sh * H_out : sh, q : q + sw * W_out : sw',
           new='p * sh : p * sh + H_out, q * sw : q * sw + W_out', count=2),
    # ====================================================================================================
    # losses beyond MSE and cross-entropy
    # ====================================================================================================
    # ---------------------------------------- losses.L1Loss
    Mutant('L1Loss', 'losses', 'mean backward misses the 1/M factor',
           'gradcheck', 'dx',
           old=('        if self.reduction == "mean":\n'
                '            grad = grad / self.diff.size\n'),
           new=''),
    Mutant('L1Loss', 'losses', 'backward takes sign(target - pred)',
           'gradcheck', 'dx',
           old='grad = np.sign(self.diff)',
           new='grad = np.sign(-self.diff)'),
    Mutant('L1Loss', 'losses', 'mean divides by the batch size instead of the element count',
           'reference', 'out',
           old='total / losses.size',
           new='total / losses.shape[0]',
           also=(('grad / self.diff.size',
                  'grad / self.diff.shape[0]'),)),
    Mutant('L1Loss', 'losses', 'pred - target computed in place into pred',
           'contract', 'x modified',
           old='self.diff = np.asarray(pred, dtype=np.float64) - np.asarray(target, dtype=np.float64)',
           new='pred -= target\n        self.diff = pred'),
    # ---------------------------------------- losses.MSLELoss
    Mutant('MSLELoss', 'losses', 'backward misses the chain-rule factor 1 / (1 + pred)',
           'gradcheck', 'dx',
           old='grad = 2.0 * self.r / (1.0 + self.pred)',
           new='grad = 2.0 * self.r'),
    Mutant('MSLELoss', 'losses', 'backward divides by 1 + target instead of 1 + pred',
           'gradcheck', 'dx',
           old='self.r = np.log1p(self.pred) - np.log1p(np.asarray(target, dtype=np.float64))',
           new=('self.t = np.asarray(target, dtype=np.float64)\n'
                '        self.r = np.log1p(self.pred) - np.log1p(self.t)'),
           also=(('grad = 2.0 * self.r / (1.0 + self.pred)',
                  'grad = 2.0 * self.r / (1.0 + self.t)'),)),
    Mutant('MSLELoss', 'losses', 'log instead of log1p: log(pred) - log(target)',
           'reference', 'out',
           old='self.r = np.log1p(self.pred) - np.log1p(np.asarray(target, dtype=np.float64))',
           new='self.r = np.log(self.pred) - np.log(np.asarray(target, dtype=np.float64))',
           also=(('grad = 2.0 * self.r / (1.0 + self.pred)',
                  'grad = 2.0 * self.r / self.pred'),)),
    Mutant('MSLELoss', 'losses', 'mean divides by the batch size instead of the element count',
           'reference', 'out',
           old='total / losses.size',
           new='total / losses.shape[0]',
           also=(('grad / self.r.size',
                  'grad / self.r.shape[0]'),)),
    # ---------------------------------------- losses.MAPELoss
    Mutant('MAPELoss', 'losses', 'relative to pred instead of target: |(pred - target) / pred|',
           'reference', 'out',
           old='losses = np.abs(self.diff / self.target)',
           new='losses = np.abs(self.diff / pred)',
           also=(('grad = np.sign(self.diff) / np.abs(self.target)',
                  'grad = np.sign(self.diff) * self.target / (self.diff + self.target) ** 2'),)),
    Mutant('MAPELoss', 'losses', 'a percentage: everything times 100',
           'reference', 'out',
           old='losses = np.abs(self.diff / self.target)',
           new='losses = 100.0 * np.abs(self.diff / self.target)',
           also=(('grad = np.sign(self.diff) / np.abs(self.target)',
                  'grad = 100.0 * np.sign(self.diff) / np.abs(self.target)'),)),
    Mutant('MAPELoss', 'losses', 'backward sign flipped: sign(target - pred)',
           'gradcheck', 'dx',
           old='grad = np.sign(self.diff) / np.abs(self.target)',
           new='grad = np.sign(-self.diff) / np.abs(self.target)'),
    Mutant('MAPELoss', 'losses', 'backward forgets the 1 / |target| factor',
           'gradcheck', 'dx',
           old='grad = np.sign(self.diff) / np.abs(self.target)',
           new='grad = np.sign(self.diff)'),
    # ---------------------------------------- losses.SmoothL1Loss
    Mutant('SmoothL1Loss', 'losses', 'branch threshold fixed at 1 instead of beta',
           'reference', 'out',
           old='np.where(a < self.beta,',
           new='np.where(a < 1.0,',
           also=(('np.abs(self.diff) < self.beta',
                  'np.abs(self.diff) < 1.0'),)),
    Mutant('SmoothL1Loss', 'losses', 'branch test on the signed error d < beta instead of |d| < beta',
           'reference', 'out',
           old='np.where(a < self.beta,',
           new='np.where(self.diff < self.beta,',
           also=(('np.abs(self.diff) < self.beta',
                  'self.diff < self.beta'),)),
    Mutant('SmoothL1Loss', 'losses', "quadratic piece not divided by beta (Huber's formula)",
           'reference', 'out',
           old='0.5 * self.diff ** 2 / self.beta',
           new='0.5 * self.diff ** 2',
           also=(('self.diff / self.beta, np.sign(self.diff)',
                  'self.diff, np.sign(self.diff)'),)),
    Mutant('SmoothL1Loss', 'losses', 'backward uses d / beta in the linear branch too',
           'gradcheck', 'dx',
           old='np.where(np.abs(self.diff) < self.beta, self.diff / self.beta, np.sign(self.diff))',
           new='self.diff / self.beta'),
    # ---------------------------------------- losses.HuberLoss
    Mutant('HuberLoss', 'losses', "quadratic piece divided by delta (SmoothL1's formula)",
           'reference', 'out',
           old='0.5 * self.diff ** 2,',
           new='0.5 * self.diff ** 2 / self.delta,',
           also=(('np.clip(self.diff, -self.delta, self.delta)',
                  'np.where(np.abs(self.diff) < self.delta, self.diff / self.delta, self.delta * np.sign(self.diff))'),)),
    Mutant('HuberLoss', 'losses', 'linear piece misses the -delta / 2 offset',
           'reference', 'out',
           old='self.delta * (a - 0.5 * self.delta)',
           new='self.delta * a'),
    Mutant('HuberLoss', 'losses', 'backward slope 1 instead of delta in the linear branch',
           'gradcheck', 'dx',
           old='grad = np.clip(self.diff, -self.delta, self.delta)',
           new='grad = np.where(np.abs(self.diff) < self.delta, self.diff, np.sign(self.diff))'),
    Mutant('HuberLoss', 'losses', 'pred - target computed in place into pred',
           'contract', 'x modified',
           old='self.diff = np.asarray(pred, dtype=np.float64) - np.asarray(target, dtype=np.float64)',
           new='pred -= target\n        self.diff = pred'),
    # ---------------------------------------- losses.HingeLoss
    Mutant('HingeLoss', 'losses', 'subgradient sign flipped: +target where the margin is violated',
           'gradcheck', 'dx',
           old='np.where(self.active, -self.target, 0.0)',
           new='np.where(self.active, self.target, 0.0)'),
    Mutant('HingeLoss', 'losses', 'backward forgets the mask: -target everywhere',
           'gradcheck', 'dx',
           old='np.where(self.active, -self.target, 0.0)',
           new='-self.target'),
    Mutant('HingeLoss', 'losses', 'mask where target * pred > 0 instead of target * pred < 1',
           'gradcheck', 'dx',
           old='self.active = slack > 0',
           new='self.active = slack < 1'),
    Mutant('HingeLoss', 'losses', 'no clamp at 0: 1 - target * pred summed as is',
           'reference', 'out',
           old='self.active = slack > 0',
           new='self.active = np.ones(slack.shape, dtype=bool)',
           also=(('losses = np.maximum(slack, 0.0)',
                  'losses = slack'),)),
    # ---------------------------------------- losses.SquaredHingeLoss
    Mutant('SquaredHingeLoss', 'losses', 'backward misses the factor 2',
           'gradcheck', 'dx',
           old='grad = -2.0 * self.target * self.slack',
           new='grad = -self.target * self.slack',
           hint='a factor 2 from the derivative of a square'),
    Mutant('SquaredHingeLoss', 'losses', 'backward forgets the target factor',
           'gradcheck', 'dx',
           old='grad = -2.0 * self.target * self.slack',
           new='grad = -2.0 * self.slack'),
    Mutant('SquaredHingeLoss', 'losses', 'no clamp: (1 - target * pred)**2 everywhere',
           'reference', 'out',
           old='self.slack = np.maximum(1.0 - self.target * np.asarray(pred, dtype=np.float64), 0.0)',
           new='self.slack = 1.0 - self.target * np.asarray(pred, dtype=np.float64)'),
    # ---------------------------------------- losses.LogisticLoss
    Mutant('LogisticLoss', 'losses', 'naive log(1 + exp(-m)) overflows for m = -1000',
           'stability', 'out',
           old='losses = np.maximum(-self.margin, 0.0) + np.log1p(np.exp(-np.abs(self.margin)))',
           new='losses = np.log(1.0 + np.exp(-self.margin))'),
    Mutant('LogisticLoss', 'losses', 'backward uses sigmoid(m) instead of sigmoid(-m)',
           'gradcheck', 'dx',
           old='np.where(self.margin >= 0, e / (1.0 + e), 1.0 / (1.0 + e))',
           new='np.where(self.margin >= 0, 1.0 / (1.0 + e), e / (1.0 + e))'),
    Mutant('LogisticLoss', 'losses', 'backward forgets the target factor',
           'gradcheck', 'dx',
           old='grad = -self.target * sig_neg',
           new='grad = -sig_neg'),
    # ---------------------------------------- losses.ExponentialLoss
    Mutant('ExponentialLoss', 'losses', 'backward drops the -target factor',
           'gradcheck', 'dx',
           old='grad = -self.target * self.losses',
           new='grad = self.losses'),
    Mutant('ExponentialLoss', 'losses', "exp(+target * pred): the margin's sign flipped",
           'reference', 'out',
           old='np.exp(-self.target * np.asarray(pred, dtype=np.float64))',
           new='np.exp(self.target * np.asarray(pred, dtype=np.float64))',
           also=(('grad = -self.target * self.losses',
                  'grad = self.target * self.losses'),)),
    Mutant('ExponentialLoss', 'losses', 'mean divides by the batch size instead of the element count',
           'reference', 'out',
           old='total / self.losses.size',
           new='total / self.losses.shape[0]',
           also=(('grad = grad / grad.size',
                  'grad = grad / grad.shape[0]'),)),
    # ---------------------------------------- losses.BCELoss
    Mutant('BCELoss', 'losses', 'logs not clamped: log(0) for probabilities of exactly 0 or 1',
           'stability', 'out',
           old=('        with np.errstate(divide="ignore"):\n'
                '            log_p = np.maximum(np.log(self.pred), -100.0)\n'
                '            log_q = np.maximum(np.log(1.0 - self.pred), -100.0)\n'),
           new=('        log_p = np.log(self.pred)\n'
                '        log_q = np.log(1.0 - self.pred)\n')),
    Mutant('BCELoss', 'losses', 'probabilities clipped to [1e-7, 1 - 1e-7] instead of clamping each log at -100',
           'stability', 'out',
           old=('        with np.errstate(divide="ignore"):\n'
                '            log_p = np.maximum(np.log(self.pred), -100.0)\n'
                '            log_q = np.maximum(np.log(1.0 - self.pred), -100.0)\n'),
           new=('        p = np.clip(self.pred, 1e-7, 1.0 - 1e-7)\n'
                '        log_p = np.log(p)\n'
                '        log_q = np.log(1.0 - p)\n')),
    Mutant('BCELoss', 'losses', 'weight ignored',
           'reference', 'out',
           old=('        if self.weight is not None:\n'
                '            losses = losses * self.weight\n'),
           new='',
           also=((('        if self.weight is not None:\n'
                   '            grad = grad * self.weight\n'),
                  ''),)),
    Mutant('BCELoss', 'losses', 'backward misses the (1 - target) / (1 - pred) term',
           'gradcheck', 'dx',
           old='grad = (p - self.target) / np.maximum(p * (1.0 - p), 1e-12)',
           new='grad = -self.target / p'),
    # ---------------------------------------- losses.BCEWithLogitsLoss
    Mutant('BCEWithLogitsLoss', 'losses', 'naive sigmoid then log: exp overflows and log(0) for logits of +-1000',
           'stability', 'out',
           old=('        tail = np.log1p(np.exp(-np.abs(x)))\n'
                '        softplus_pos = np.maximum(x, 0.0) + tail    # -log(1 - sigmoid(x))\n'
                '        softplus_neg = np.maximum(-x, 0.0) + tail   # -log(sigmoid(x))\n'),
           new=('        s = 1.0 / (1.0 + np.exp(-x))\n'
                '        softplus_pos = -np.log(1.0 - s)\n'
                '        softplus_neg = -np.log(s)\n')),
    Mutant('BCEWithLogitsLoss', 'losses', "pos_weight applied to the negative targets' term",
           'reference', 'out',
           old='pw * t * softplus_neg + (1.0 - t) * softplus_pos',
           new='t * softplus_neg + pw * (1.0 - t) * softplus_pos',
           also=(('grad = (1.0 - t) * s - pw * t * one_minus_s',
                  'grad = pw * (1.0 - t) * s - t * one_minus_s'),)),
    Mutant('BCEWithLogitsLoss', 'losses', 'backward ignores pos_weight: sigmoid(x) - target',
           'gradcheck', 'dx',
           old='grad = (1.0 - t) * s - pw * t * one_minus_s',
           new='grad = s - t'),
    Mutant('BCEWithLogitsLoss', 'losses', 'backward ignores weight',
           'gradcheck', 'dx',
           old=('        if self.weight is not None:\n'
                '            grad = grad * self.weight\n'),
           new=''),
    # ---------------------------------------- losses.NLLLoss
    Mutant('NLLLoss', 'losses', "mean divides by N instead of the sum of the target classes' weights",
           'reference', 'out',
           old='return float(np.sum(losses) / self.denominator)',
           new='return float(np.sum(losses) / n)',
           also=(('scale = scale / self.denominator',
                  'scale = scale / n'),)),
    Mutant('NLLLoss', 'losses', 'ignore_index not handled: ignored samples still count',
           'reference', 'out',
           old='valid = target != self.ignore_index',
           new='valid = np.ones(n, dtype=bool)'),
    Mutant('NLLLoss', 'losses', 'backward sign flipped: +weight at the target class',
           'gradcheck', 'dx',
           old='= -self.coef * scale',
           new='= self.coef * scale'),
    Mutant('NLLLoss', 'losses', 'backward divides by N while forward divides by the weight sum',
           'gradcheck', 'dx',
           old='scale = scale / self.denominator',
           new='scale = scale / n'),
    # ---------------------------------------- losses.CrossEntropyLoss
    Mutant('CrossEntropyLoss', 'losses', 'label smoothing spread over the C - 1 wrong classes instead of all C',
           'reference', 'out',
           old='losses = (1.0 - eps) * nll + (eps / c) * smooth',
           new='losses = (1.0 - eps) * nll + (eps / (c - 1)) * (smooth - nll)',
           also=((('        grad = (1.0 - eps) * self.coef[:, None] * (self.probs - onehot)\n'
                   '        grad = grad + (eps / c) * (self.probs * np.sum(self.w) - self.w)\n'),
                  ('        grad = (1.0 - eps - eps / (c - 1)) * self.coef[:, None] * (self.probs - onehot)\n'
                   '        grad = grad + (eps / (c - 1)) * (self.probs * np.sum(self.w) - self.w)\n')),)),
    Mutant('CrossEntropyLoss', 'losses', 'no max subtraction: exp overflows for logits of 1000',
           'stability', 'out',
           old='shifted = pred - np.max(pred, axis=1, keepdims=True)',
           new='shifted = pred'),
    Mutant('CrossEntropyLoss', 'losses', 'weighted mean divides by the number of samples, not the weight sum',
           'reference', 'out',
           old='self.denominator = np.sum(self.coef)',
           new='self.denominator = np.sum(self.valid)'),
    Mutant('CrossEntropyLoss', 'losses', 'label smoothing term ignores the class weights',
           'reference', 'out',
           old='-np.sum(log_p * self.w, axis=1)',
           new='-np.sum(log_p, axis=1)',
           also=(('(self.probs * np.sum(self.w) - self.w)',
                  '(self.probs * c - 1.0)'),)),
    Mutant('CrossEntropyLoss', 'losses', 'backward ignores label smoothing: w * (p - onehot)',
           'gradcheck', 'dx',
           old=('        grad = (1.0 - eps) * self.coef[:, None] * (self.probs - onehot)\n'
                '        grad = grad + (eps / c) * (self.probs * np.sum(self.w) - self.w)\n'),
           new='        grad = self.coef[:, None] * (self.probs - onehot)\n'),
    # ---------------------------------------- losses.KLDivLoss
    Mutant('KLDivLoss', 'losses', 'arguments swapped: KL(model || target) = exp(pred) * (pred - log(target))',
           'reference', 'out',
           old='losses = y_log_y - y * pred',
           new=('self.q = np.exp(pred)\n'
                '        self.r = pred - np.log(y)\n'
                '        losses = self.q * self.r'),
           also=(('grad = -self.target',
                  'grad = self.q * (self.r + 1.0)'),)),
    Mutant('KLDivLoss', 'losses', "batchmean divides by the number of elements (torch's 'mean')",
           'reference', 'out',
           old='return float(total / pred.shape[0])',
           new='return float(total / losses.size)',
           also=(('grad = grad / self.target.shape[0]',
                  'grad = grad / self.target.size'),)),
    Mutant('KLDivLoss', 'losses', '0 * log(0) not special-cased: nan for zero target probabilities',
           'stability', 'out',
           old='y_log_y = np.where(positive, y * np.log(np.where(positive, y, 1.0)), 0.0)',
           new='y_log_y = y * np.log(y)'),
    Mutant('KLDivLoss', 'losses', 'backward sign flipped: +target',
           'gradcheck', 'dx',
           old='grad = -self.target',
           new='grad = self.target'),
    # ====================================================================================================
    # optimizers (trajectory against torch.optim)
    # ====================================================================================================
    # ---------------------------------------- optim.SGD
    Mutant('SGD', 'optim', 'gradient ascent: p += lr * g',
           'trajectory', 'param',
           old='p -= self.lr * g',
           new='p += self.lr * g'),
    Mutant('SGD', 'optim', 'weight decay subtracted from the gradient: g - wd * p',
           'trajectory', 'param',
           old='g = g + self.weight_decay * p',
           new='g = g - self.weight_decay * p'),
    Mutant('SGD', 'optim', 'weights shrunk by (1 - wd) instead of adding wd * p to the gradient (lr missing)',
           'trajectory', 'param',
           old='g = g + self.weight_decay * p',
           new='p *= 1 - self.weight_decay'),
    Mutant('SGD', 'optim', 'params rebound (params[i] = p - lr * g) instead of updated in place',
           'trajectory', 'param',
           old='for p, g in zip(params, grads):',
           new='for i, (p, g) in enumerate(zip(params, grads)):',
           also=(('p -= self.lr * g',
                  'params[i] = p - self.lr * g'),)),
    Mutant('SGD', 'optim', 'return inside the loop: only the first parameter is updated',
           'trajectory', 'param',
           old='p -= self.lr * g',
           new='p -= self.lr * g\n            return'),
    # ---------------------------------------- optim.Momentum
    Mutant('Momentum', 'optim', 'dampening applied at the first step (buffer starts at 0)',
           'trajectory', 'param',
           old='state["momentum_buffer"] = np.array(g, dtype=np.float64, copy=True)',
           new='state["momentum_buffer"] = (1 - self.dampening) * np.array(g, dtype=np.float64)',
           hint='1 - dampening'),
    Mutant('Momentum', 'optim', 'weight decay applied after momentum (to the step, not the gradient)',
           'trajectory', 'momentum_buffer',
           old=('            if self.weight_decay != 0:\n'
                '                g = g + self.weight_decay * p\n'),
           new='',
           also=(('p -= self.lr * state["momentum_buffer"]',
                  'p -= self.lr * (state["momentum_buffer"] + self.weight_decay * p)'),)),
    Mutant('Momentum', 'optim', 'buffer as a moving average: (1 - momentum) * g instead of (1 - dampening) * g',
           'trajectory', 'param',
           old='buf += (1 - self.dampening) * g',
           new='buf += (1 - self.momentum) * g'),
    Mutant('Momentum', 'optim', 'lr folded into the buffer (velocity form v = mu v + lr g; p -= v)',
           'trajectory', 'momentum_buffer',
           old='state["momentum_buffer"] = np.array(g, dtype=np.float64, copy=True)',
           new='state["momentum_buffer"] = self.lr * g',
           also=(('buf += (1 - self.dampening) * g',
                  'buf += self.lr * (1 - self.dampening) * g'), ('p -= self.lr * state["momentum_buffer"]',
                  'p -= state["momentum_buffer"]'),),
           hint='you keep the velocity'),
    Mutant('Momentum', 'optim', 'step taken with the old buffer before updating it (buffer starts at 0)',
           'trajectory', 'param',
           old=('if "momentum_buffer" not in state:\n'
                '                state["momentum_buffer"] = np.array(g, dtype=np.float64, copy=True)\n'
                '            else:\n'
                '                buf = state["momentum_buffer"]\n'
                '                buf *= self.momentum\n'
                '                buf += (1 - self.dampening) * g\n'
                '            p -= self.lr * state["momentum_buffer"]'),
           new=('buf = state.setdefault("momentum_buffer", np.zeros_like(p, dtype=np.float64))\n'
                '            p -= self.lr * buf\n'
                '            buf *= self.momentum\n'
                '            buf += (1 - self.dampening) * g')),
    # ---------------------------------------- optim.Nesterov
    Mutant('Nesterov', 'optim', 'no look-ahead: steps by the buffer alone (plain momentum)',
           'trajectory', 'param',
           old='p -= self.lr * (g + self.momentum * state["momentum_buffer"])',
           new='p -= self.lr * state["momentum_buffer"]',
           hint="lacks torch's look-ahead"),
    Mutant('Nesterov', 'optim', 'look-ahead done twice: g + mu * (g + mu * buf)',
           'trajectory', 'param',
           old='p -= self.lr * (g + self.momentum * state["momentum_buffer"])',
           new='p -= self.lr * (g + self.momentum * (g + self.momentum * state["momentum_buffer"]))',
           hint='the look-ahead is done twice'),
    Mutant('Nesterov', 'optim', 'look-ahead with the OLD buffer (zeros at first), buffer updated after the step',
           'trajectory', 'param',
           old=('if "momentum_buffer" not in state:\n'
                '                state["momentum_buffer"] = np.array(g, dtype=np.float64, copy=True)\n'
                '            else:\n'
                '                buf = state["momentum_buffer"]\n'
                '                buf *= self.momentum\n'
                '                buf += g\n'
                '            p -= self.lr * (g + self.momentum * state["momentum_buffer"])'),
           new=('buf = state.setdefault("momentum_buffer", np.zeros_like(p, dtype=np.float64))\n'
                '            p -= self.lr * (g + self.momentum * buf)\n'
                '            buf *= self.momentum\n'
                '            buf += g'),
           hint="lacks torch's look-ahead"),
    Mutant('Nesterov', 'optim', 'Sutskever velocity form v = mu v - lr g; p += -mu v_prev + (1 + mu) v',
           'trajectory', 'momentum_buffer',
           old=('if "momentum_buffer" not in state:\n'
                '                state["momentum_buffer"] = np.array(g, dtype=np.float64, copy=True)\n'
                '            else:\n'
                '                buf = state["momentum_buffer"]\n'
                '                buf *= self.momentum\n'
                '                buf += g\n'
                '            p -= self.lr * (g + self.momentum * state["momentum_buffer"])'),
           new=('v = state.setdefault("momentum_buffer", np.zeros_like(p, dtype=np.float64))\n'
                '            v_prev = v.copy()\n'
                '            v *= self.momentum\n'
                '            v -= self.lr * g\n'
                '            p += -self.momentum * v_prev + (1 + self.momentum) * v'),
           hint='you keep the velocity'),
    Mutant('Nesterov', 'optim', 'weight decay left out of the buffer (added to the step only)',
           'trajectory', 'param',
           old=('            if self.weight_decay != 0:\n'
                '                g = g + self.weight_decay * p\n'),
           new='',
           also=(('p -= self.lr * (g + self.momentum * state["momentum_buffer"])',
                  'p -= self.lr * (g + self.weight_decay * p + self.momentum * state["momentum_buffer"])'),)),
    Mutant('Nesterov', 'optim', 'buffer damped by (1 - momentum)',
           'trajectory', 'param',
           old='buf += g',
           new='buf += (1 - self.momentum) * g'),
    # ---------------------------------------- optim.AdaGrad
    Mutant('AdaGrad', 'optim', 'accumulates |g| instead of g ** 2',
           'trajectory', 'param',
           old='state["sum"] += g * g',
           new='state["sum"] += np.abs(g)'),
    Mutant('AdaGrad', 'optim', 'eps inside the square root: sqrt(sum + eps)',
           'trajectory', 'param',
           old='std = np.sqrt(state["sum"]) + self.eps',
           new='std = np.sqrt(state["sum"] + self.eps)',
           hint='eps inside the square root'),
    Mutant('AdaGrad', 'optim', 'eps hard-coded to 1e-10 (the constructor\'s eps ignored)',
           'trajectory', 'param',
           old='std = np.sqrt(state["sum"]) + self.eps',
           new='std = np.sqrt(state["sum"]) + 1e-10',
           hint='eps hard-coded to 1e-10'),
    Mutant('AdaGrad', 'optim', 'lr decay uses step instead of step - 1',
           'trajectory', 'param',
           old='clr = self.lr / (1 + (state["step"] - 1) * self.lr_decay)',
           new='clr = self.lr / (1 + state["step"] * self.lr_decay)'),
    Mutant('AdaGrad', 'optim', 'initial_accumulator_value ignored (sum starts at 0)',
           'trajectory', 'param',
           old='np.full(p.shape, self.initial_accumulator_value, dtype=np.float64)',
           new='np.zeros(p.shape, dtype=np.float64)'),
    Mutant('AdaGrad', 'optim', 'weight decay left out of the sum of squares (added to the step only)',
           'trajectory', 'param',
           old=('            if self.weight_decay != 0:\n'
                '                g = g + self.weight_decay * p\n'),
           new='',
           also=(('p -= clr * g / std',
                  'p -= clr * (g + self.weight_decay * p) / std'),)),
    # ---------------------------------------- optim.AdaDelta
    Mutant('AdaDelta', 'optim', 'lr ignored: p -= delta',
           'trajectory', 'param',
           old='p -= self.lr * delta',
           new='p -= delta'),
    Mutant('AdaDelta', 'optim', 'square_avg updated after the step (delta divides by the old square_avg)',
           'trajectory', 'param',
           old=('            v *= self.rho\n'
                '            v += (1 - self.rho) * g * g\n'
                '            delta = np.sqrt(u + self.eps) / np.sqrt(v + self.eps) * g\n'),
           new=('            delta = np.sqrt(u + self.eps) / np.sqrt(v + self.eps) * g\n'
                '            v *= self.rho\n'
                '            v += (1 - self.rho) * g * g\n')),
    Mutant('AdaDelta', 'optim', 'acc_delta accumulated at the start of the next step (lags one step)',
           'trajectory', 'acc_delta',
           old=('            delta = np.sqrt(u + self.eps) / np.sqrt(v + self.eps) * g\n'
                '            u *= self.rho\n'
                '            u += (1 - self.rho) * delta * delta\n'),
           new=('            prev = state.get("delta", np.zeros_like(p, dtype=np.float64))\n'
                '            u *= self.rho\n'
                '            u += (1 - self.rho) * prev * prev\n'
                '            delta = np.sqrt(u + self.eps) / np.sqrt(v + self.eps) * g\n'
                '            state["delta"] = delta\n')),
    Mutant('AdaDelta', 'optim', 'eps outside the square roots: (sqrt(u) + eps) / (sqrt(v) + eps)',
           'trajectory', 'param',
           old='delta = np.sqrt(u + self.eps) / np.sqrt(v + self.eps) * g',
           new='delta = (np.sqrt(u) + self.eps) / (np.sqrt(v) + self.eps) * g'),
    Mutant('AdaDelta', 'optim', 'acc_delta accumulates g ** 2 instead of delta ** 2',
           'trajectory', 'acc_delta',
           old='u += (1 - self.rho) * delta * delta',
           new='u += (1 - self.rho) * g * g'),
    # ---------------------------------------- optim.RMSprop
    Mutant('RMSprop', 'optim', 'centered without subtracting grad_avg ** 2',
           'trajectory', 'param',
           old='denom = np.sqrt(v - a * a) + self.eps',
           new='denom = np.sqrt(v) + self.eps'),
    Mutant('RMSprop', 'optim', 'eps inside the square root: sqrt(v + eps)',
           'trajectory', 'param',
           old='denom = np.sqrt(v) + self.eps',
           new='denom = np.sqrt(v + self.eps)',
           hint='eps inside the square root'),
    Mutant('RMSprop', 'optim', 'momentum buffer accumulates g and divides afterwards: p -= lr * buf / denom',
           'trajectory', 'momentum_buffer',
           old='buf += g / denom',
           new='buf += g',
           also=(('p -= self.lr * buf',
                  'p -= self.lr * buf / denom'),)),
    Mutant('RMSprop', 'optim', 'alpha and 1 - alpha swapped in the square average',
           'trajectory', 'param',
           old='v *= self.alpha',
           new='v *= 1 - self.alpha',
           also=(('v += (1 - self.alpha) * g * g',
                  'v += self.alpha * g * g'),)),
    Mutant('RMSprop', 'optim', 'weight decay added after the square average (v uses the raw gradient)',
           'trajectory', 'param',
           old=('            if self.weight_decay != 0:\n'
                '                g = g + self.weight_decay * p\n'
                '            v = state["square_avg"]\n'
                '            v *= self.alpha\n'
                '            v += (1 - self.alpha) * g * g\n'),
           new=('            v = state["square_avg"]\n'
                '            v *= self.alpha\n'
                '            v += (1 - self.alpha) * g * g\n'
                '            if self.weight_decay != 0:\n'
                '                g = g + self.weight_decay * p\n')),
    # ---------------------------------------- optim.Adam
    Mutant('Adam', 'optim', 'no bias correction',
           'trajectory', 'param',
           old='step_size = self.lr / bias_correction1',
           new='step_size = self.lr',
           also=(('denom = np.sqrt(v) / bias_correction2 ** 0.5 + self.eps',
                  'denom = np.sqrt(v) + self.eps'),),
           hint='the bias correction of the moments is missing'),
    Mutant('Adam', 'optim', 'eps inside the square root: sqrt(v_hat + eps)',
           'trajectory', 'param',
           old='denom = np.sqrt(v) / bias_correction2 ** 0.5 + self.eps',
           new='denom = np.sqrt(v / bias_correction2 + self.eps)',
           hint='eps inside the square root'),
    Mutant('Adam', 'optim', 'one step counter shared by all parameters (self.t incremented per parameter)',
           'trajectory', 'param',
           old='        self.state = {}\n',
           new='        self.state = {}\n        self.t = 0\n',
           also=((('            state["step"] += 1\n'
                   '            step = state["step"]\n'),
                  ('            self.t += 1\n'
                   '            state["step"] = self.t\n'
                   '            step = self.t\n')),),
           hint='a bias correction with t + 1'),
    Mutant('Adam', 'optim', 'weight decay decoupled like AdamW instead of added to the gradient',
           'trajectory', 'param',
           old='g = g + self.weight_decay * p',
           new='p *= 1 - self.lr * self.weight_decay'),
    Mutant('Adam', 'optim', 'v bias-corrected without the square root: sqrt(v) / (1 - beta2 ** t)',
           'trajectory', 'param',
           old='denom = np.sqrt(v) / bias_correction2 ** 0.5 + self.eps',
           new='denom = np.sqrt(v) / bias_correction2 + self.eps'),
    Mutant('Adam', 'optim', 'amsgrad: max taken over the bias-corrected v (stored corrected)',
           'trajectory', 'max_exp_avg_sq',
           old='np.maximum(v_max, v, out=v_max)',
           new='np.maximum(v_max, v / bias_correction2, out=v_max)',
           also=(('denom = np.sqrt(v_max) / bias_correction2 ** 0.5 + self.eps',
                  'denom = np.sqrt(v_max) + self.eps'),)),
    Mutant('Adam', 'optim', 'bias correction with t + 1 (the step counted after correcting)',
           'trajectory', 'param',
           old='bias_correction1 = 1 - beta1 ** step',
           new='bias_correction1 = 1 - beta1 ** (step + 1)',
           also=(('bias_correction2 = 1 - beta2 ** step',
                  'bias_correction2 = 1 - beta2 ** (step + 1)'),),
           hint='a bias correction with t + 1'),
    Mutant('Adam', 'optim', 'bias correction with a constant t = 1',
           'trajectory', 'param',
           old='bias_correction1 = 1 - beta1 ** step',
           new='bias_correction1 = 1 - beta1',
           also=(('bias_correction2 = 1 - beta2 ** step',
                  'bias_correction2 = 1 - beta2'),),
           hint='a bias correction with a constant t = 1'),
    # ---------------------------------------- optim.AdamW
    Mutant('AdamW', 'optim', 'decay coupled like Adam: wd * p added to the gradient',
           'trajectory', 'param',
           old='p *= 1 - self.lr * self.weight_decay',
           new='g = g + self.weight_decay * p'),
    Mutant('AdamW', 'optim', 'decay not scaled by lr: p *= 1 - wd',
           'trajectory', 'param',
           old='p *= 1 - self.lr * self.weight_decay',
           new='p *= 1 - self.weight_decay'),
    Mutant('AdamW', 'optim', 'decay applied after the Adam step (to the updated weights)',
           'trajectory', 'param',
           old=('            if self.weight_decay != 0:\n'
                '                p *= 1 - self.lr * self.weight_decay\n'),
           new='',
           also=(('            p -= step_size * m / denom',
                  ('            p -= step_size * m / denom\n'
                   '            p *= 1 - self.lr * self.weight_decay')),)),
    Mutant('AdamW', 'optim', 'no bias correction',
           'trajectory', 'param',
           old='step_size = self.lr / bias_correction1',
           new='step_size = self.lr',
           also=(('denom = np.sqrt(v) / bias_correction2 ** 0.5 + self.eps',
                  'denom = np.sqrt(v) + self.eps'),)),
    Mutant('AdamW', 'optim', 'decay scaled by the bias-corrected step size lr / (1 - beta1 ** t) instead of lr',
           'trajectory', 'param',
           old=('            if self.weight_decay != 0:\n'
                '                p *= 1 - self.lr * self.weight_decay\n'),
           new='',
           also=(('step_size = self.lr / bias_correction1\n',
                  ('step_size = self.lr / bias_correction1\n'
                   '            p *= 1 - step_size * self.weight_decay\n')),)),
    Mutant('AdamW', 'optim', 'betas unpacked in the wrong order (beta2, beta1 = betas)',
           'trajectory', 'exp_avg',
           old='beta1, beta2 = self.betas',
           new='beta2, beta1 = self.betas'),
]


TEXTBOOK: list[Mutant] = [
    # Correct code in the textbooks' style that only makes numpy *warn* on extreme inputs: the values are
    # finite and exactly right (1/inf = 0; np.where throws the overflowed branch away), so it keeps full
    # marks and the stability check adds advice. Not bugs: graded by tests/test_textbook_forms.py.
    Mutant('Sigmoid', 'activations', 'textbook 1/(1+exp(-x)): overflow gives exactly 0',
           'stability', 'out',
           old='self.out = np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))',
           new='self.out = 1.0 / (1.0 + np.exp(-x))'),
    Mutant('ELU', 'activations', 'np.where(x > 0, x, alpha * (exp(x) - 1)): the overflowed branch is thrown away',
           'stability', 'out',
           old='neg = self.alpha * np.expm1(np.minimum(x, 0.0))',
           new='neg = self.alpha * (np.exp(x) - 1.0)'),
    Mutant('LogisticLoss', 'losses', 'backward 1 / (1 + exp(m)): overflow gives exactly 0',
           'stability', 'dx',
           old='sig_neg = np.where(self.margin >= 0, e / (1.0 + e), 1.0 / (1.0 + e))  # sigmoid(-m)',
           new='sig_neg = 1.0 / (1.0 + np.exp(self.margin))'),
]


STYLES: list[Mutant] = [
    # Correct code in the other styles of the textbooks, without any warning: it keeps full marks and no case
    # of it carries a hint (a hint that does not apply is worse than none). Graded by tests/test_textbook_forms.py.
    Mutant('Momentum', 'optim', 'velocity form v = mu v - lr g; p += v, buffer exposed as -v / lr',
           'trajectory', 'param',
           old=('if "momentum_buffer" not in state:\n'
                '                state["momentum_buffer"] = np.array(g, dtype=np.float64, copy=True)\n'
                '            else:\n'
                '                buf = state["momentum_buffer"]\n'
                '                buf *= self.momentum\n'
                '                buf += (1 - self.dampening) * g\n'
                '            p -= self.lr * state["momentum_buffer"]'),
           new=('if "velocity" not in state:\n'
                '                state["velocity"] = -self.lr * np.array(g, dtype=np.float64)\n'
                '            else:\n'
                '                state["velocity"] = self.momentum * state["velocity"] - self.lr * (1 - self.dampening) * g\n'
                '            p += state["velocity"]\n'
                '            state["momentum_buffer"] = -state["velocity"] / self.lr')),
    Mutant('Affine', 'layers', 'loops over the batch instead of vector code',
           'reference', 'out',
           old=('        self.grads[0][...] = self.x.T @ dout\n'
                '        self.grads[1][...] = np.sum(dout, axis=0)\n'
                '        return dout @ self.W.T'),
           new=('        dW, db, dx = np.zeros_like(self.W), np.zeros_like(self.b), np.zeros_like(self.x)\n'
                '        for n in range(dout.shape[0]):\n'
                '            dW += np.outer(self.x[n], dout[n])\n'
                '            db += dout[n]\n'
                '            for i in range(self.x.shape[1]):\n'
                '                dx[n, i] = float(np.dot(dout[n], self.W[i]))\n'
                '        self.grads[0][...] = dW\n'
                '        self.grads[1][...] = db\n'
                '        return dx')),
]
