"""Torch twins: the trusted reference for every exercise, computed in float64 in the parent.

A twin is a plain torch function of the exercise's inputs (the layer input and its parameters, or a
loss's prediction and target) and its hyper-parameters, registered under the name course.yml uses.
Gradients come from autograd, so a twin states only the forward computation, in PyTorch's own terms.
torch is imported only when a reference must actually be computed (see :mod:`grader.engine.refstore`).

A course folder may bring twins of its own, beside its course.yml: a module ``references.py`` or a package
``references/``, using the same ``@twin`` decorator. They are loaded by path, in the trusted parent only
(:func:`load`), win over a built-in twin of the same name (with a one-line warning), are part of the
reference cache key (:func:`source_files`) and are masked from the sandboxed child like the solutions
(:func:`course_twin_paths`, added to the course's ``hide`` by grader.coursefile).
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import threading
import types
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Collection, Iterator, Mapping, Union

import numpy as np

if TYPE_CHECKING:
    from ..model.course import Course

TWINS: dict[str, Callable[..., Any]] = {}
"""The built-in twins (this package's modules)."""

COURSE_TWINS = ("references.py", "references")
"""Where a course folder keeps its own twins, beside course.yml: a module, or a package."""

CourseLike = Union["Course", Path, str, None]
"""A course (its folder is the course file's), a course folder, or None for the built-in twins only."""


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run the twins on one torch thread, then restore the caller's setting (a notebook's kernel).

    The twins' ops are tiny: handed to torch's thread pool on a busy machine they wait for it. A cold
    `grader check solutions` beside two busy processes took 20-28 s with the default pool and 6.6-8.1 s on
    one thread (idle: 5.1 s either way)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@contextmanager
def without_compiler_guards() -> Iterator[None]:
    """torch.optim's own code, without its torch.compile guards: their first use imports torch._dynamo
    (0.75 s of CPU, a fifth of a cold course's references), which twins that compile nothing never need.

    ``add_param_group``, ``zero_grad`` and the FLOP counter's dispatch run their own function (the guard
    caches the function it would call on the function itself; set here, removed after), and
    :func:`optim_step` calls ``step``'s own body. What the twins compute is unchanged
    (tests/test_reference_values.py)."""
    from torch.optim import Optimizer
    from torch.utils.flop_counter import _FlopCounterMode

    guarded = [(Optimizer, "add_param_group"), (Optimizer, "zero_grad"), (_FlopCounterMode, "__torch_dispatch__")]
    plain = [f for f in (getattr(getattr(owner, n, None), "__wrapped__", None) for owner, n in guarded)
             if f is not None]
    ours = [f for f in plain if getattr(f, "__dynamo_disable", None) is None]
    for f in ours:
        f.__dynamo_disable = f  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for f in ours:
            if getattr(f, "__dynamo_disable", None) is f:
                del f.__dynamo_disable  # type: ignore[attr-defined]


def optim_step(opt: Any) -> None:
    """``opt.step()``: its own body, under no_grad as its guard would run it (not differentiable), without
    the profiler hook and the guard that imports torch._dynamo (:func:`without_compiler_guards`)."""
    import inspect

    import torch

    if opt.defaults.get("differentiable"):
        opt.step()
        return
    with torch.no_grad():
        inspect.unwrap(type(opt).step)(opt)


def twin(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a torch function as the twin called ``name`` in course files."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        (_collecting if _collecting is not None else TWINS)[name] = fn
        return fn

    return register


def _modules() -> list[str]:
    """Every module of this package: adding a file of twins needs no registration anywhere else."""
    return sorted(p.stem for p in Path(__file__).parent.glob("*.py") if p.stem != "__init__")


def _load_builtins() -> dict[str, Callable[..., Any]]:
    for module in _modules():
        importlib.import_module(f"{__name__}.{module}")
    return TWINS


class Twins(dict):  # type: ignore[type-arg]
    """The twins one course can use, by name; a missing name is a CourseError naming where twins come from."""

    where: str = "the built-in twins"

    def __missing__(self, name: str) -> Any:
        from ..model.errors import CourseError

        raise CourseError(f"no torch twin named {name!r} ({self.where}); known: {', '.join(sorted(self))}")


def course_root(course: CourseLike) -> Path | None:
    """The course folder (where course.yml, solutions/ and the course's twins lie), or None."""
    if course is None:
        return None
    path = Path(getattr(course, "path", course)).resolve()
    return path.parent if path.suffix in (".yml", ".yaml") or path.is_file() else path


def course_twin_paths(course: CourseLike) -> list[Path]:
    """The course's own twin sources that exist: ``references.py`` and/or ``references/`` (what the child
    must never read)."""
    root = course_root(course)
    return [] if root is None else [root / name for name in COURSE_TWINS if (root / name).exists()]


def course_sources(course: CourseLike) -> list[Path]:
    """Every Python file of the course's twins, in a stable order (the package's submodules sorted)."""
    files: list[Path] = []
    for path in course_twin_paths(course):
        files += [path] if path.is_file() else sorted(p for p in path.rglob("*.py") if "__pycache__" not in p.parts)
    return files


def course_source_bytes(course: CourseLike) -> bytes:
    """The course's twin files, each named by its path in the folder (empty without twins): the course's
    digest hashes them with course.yml, so editing a twin regrades a class like editing the file does."""
    root = course_root(course)
    return b"".join(b"\0" + f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes()  # type: ignore[arg-type]
                    for f in course_sources(course))


_collecting: dict[str, Callable[..., Any]] | None = None
"""While a course's twins are being imported, the registry their ``@twin`` decorators fill."""
_LOCK = threading.Lock()
_COURSE_CACHE: dict[tuple[Path, str], dict[str, Callable[..., Any]]] = {}
"""(course folder, digest of its twin sources) -> that course's own twins: an edited file is loaded again."""


def _digest(files: list[Path]) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(str(f).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _import_course_twins(root: Path, key: str) -> dict[str, Callable[..., Any]]:
    """Execute the course's twin module or package under a private name; return what it registered."""
    global _collecting
    from ..model.errors import CourseError

    name = f"_grader_course_twins_{hashlib.sha256(str(root).encode()).hexdigest()[:12]}_{key}"
    for old in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[old]
    found: dict[str, Callable[..., Any]] = {}
    _collecting = found
    current = root
    try:
        for path in course_twin_paths(root):
            current = path
            if path.is_file():
                spec = importlib.util.spec_from_file_location(f"{name}_module", path)
                module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
                sys.modules[spec.name] = module  # type: ignore[union-attr]
                spec.loader.exec_module(module)  # type: ignore[union-attr]
                continue
            init = path / "__init__.py"
            if init.exists():
                spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(path)])
                package = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
                sys.modules[name] = package
                spec.loader.exec_module(package)  # type: ignore[union-attr]
            else:
                package = types.ModuleType(name)
                package.__path__ = [str(path)]
                sys.modules[name] = package
            for sub in sorted(p.stem for p in path.glob("*.py") if p.stem != "__init__"):
                current = path / f"{sub}.py"
                importlib.import_module(f"{name}.{sub}")
    except Exception as e:  # the course's code: any failure is the course's, named by its file
        raise CourseError(f"{current}: the course's torch twins could not be loaded: {type(e).__name__}: {e}") from None
    finally:
        _collecting = None
    return found


def load(course: CourseLike = None) -> Twins:
    """The twins a course can use: the built-in ones (imports them, and so torch), and the course folder's
    own (``references.py`` or ``references/`` beside course.yml), which win on a name clash with a
    one-line warning on stderr. The one way every caller gets twins (references, check_twins, case files,
    Dask workers, bundles)."""
    builtins = _load_builtins()  # first: a course module importing a built-in one must not register it
    root = course_root(course)
    files = course_sources(course) if root is not None else []
    twins = Twins(builtins)
    if not files:
        return twins
    key = (root, _digest(files))
    with _LOCK:
        if key not in _COURSE_CACHE:
            own = _import_course_twins(root, key[1])  # type: ignore[arg-type]
            for name in sorted(own):
                if name in builtins:
                    print(f"grader: warning: {_defined_in(own[name], root)}: twin {name!r} replaces the built-in "
                          "twin of that name", file=sys.stderr)
            _COURSE_CACHE[key] = own
    twins.update(_COURSE_CACHE[key])
    twins.where = f"built in, or @twin in {' or '.join(str(p) for p in course_twin_paths(course))}"
    return twins


def check(course: Course, only: Collection[str] | None = None) -> Twins:
    """The course's twins, after making sure every exercise (of ``only``, else all) names one that exists.

    Raises:
        CourseError: naming the course file, the exercise and where twins come from (never a KeyError).
    """
    from ..model.errors import CourseError, did_you_mean

    twins = load(course)
    for ex in course.exercises:
        if ex.reference is not None and ex.reference not in twins and (only is None or ex.id in only):
            raise CourseError(f"{course.path}: exercise {ex.id} ({ex.title}): no torch twin named {ex.reference!r} "
                              f"({twins.where}){did_you_mean(ex.reference, list(twins))} (`grader validate` names "
                              "the line)")
    return twins


def _defined_in(fn: Callable[..., Any], root: Path) -> str:
    code = getattr(fn, "__code__", None)
    return code.co_filename if code is not None else str(root / COURSE_TWINS[0])


def source_files(course: CourseLike = None) -> list[str]:
    """The twin modules' paths, the course's own included: their content is part of the reference cache key."""
    here = Path(__file__).parent
    return [str(here / f"{m}.py") for m in ("__init__", *_modules())] + [str(p) for p in course_sources(course)]


@dataclass(frozen=True)
class TwinCall:
    """One call of a twin, forward and backward (built by the exercise's Kind: grader.kinds)."""

    reference: str
    """The twin's registered name."""
    inputs: tuple[tuple[str, np.ndarray, bool], ...]
    """(name, array, differentiable) in the twin's argument order."""
    hyper: dict[str, Any]
    """Keyword hyper-parameters."""
    make_dout: Callable[[tuple[int, ...], str], np.ndarray]
    """Draws an upstream gradient (shape, name) once the output shapes are known."""
    device: str = "cpu"
    array_kwargs: dict[str, np.ndarray] = field(default_factory=dict)
    """Arrays passed as keyword arguments (a loss's ``weight``, a layer's buffers), never differentiated."""
    outputs: tuple[str, ...] = ("out",)
    """The result keys of the twin's outputs (a twin returning a tuple has several)."""
    douts: tuple[str, ...] = ("dout",)
    """The upstream gradients' names, one per output."""
    track: tuple[str, ...] = ()
    """Keyword arrays whose final values are results too (buffers the twin updates in place)."""
    call_args: tuple[Any, ...] = ()
    """A function's argument structure (names, or tuples of names passed as one list)."""
    mutates: tuple[str, ...] = ()
    """Inputs the twin changes in place, returned as ``<name> after``."""
    backward: str = "none"
    """"douts": seeded with ``make_dout(out.shape)`` per output (a layer); "auto": the same where the
    output is not a scalar (a loss with reduction "none"), else from the scalar; "none": no backward."""


def compute(call: TwinCall, twins: Mapping[str, Callable[..., Any]] | None = None) -> dict[str, np.ndarray]:
    """Run a twin forward and backward (``twins``: the course's, from :func:`load`; default the built-in ones).

    Returns:
        ``out`` and ``d<name>`` for each differentiable input, as float64 numpy arrays on the CPU.
    """
    import torch

    device, inputs = call.device, call.inputs
    if device.startswith("cuda") and not torch.cuda.is_available():
        from ..model.errors import GraderError

        raise GraderError(f"--device {device}: this torch build ({torch.__version__}) sees no CUDA device")
    fn = (load() if twins is None else twins)[call.reference]
    def tensor(arr: np.ndarray, diff: bool = False) -> Any:
        dtype = torch.float64 if arr.dtype.kind == "f" else torch.int64
        return torch.tensor(arr, dtype=dtype, device=device, requires_grad=diff)

    tensors = [tensor(arr, diff) for _, arr, diff in inputs]
    extra = {k: tensor(v) for k, v in call.array_kwargs.items()}
    if call.call_args:
        by_name = {name: t for (name, _, _), t in zip(inputs, tensors)}
        args = [by_name[a] if isinstance(a, str) else [by_name[n] for n in a] for a in call.call_args]
        raw = fn(*args, **call.hyper, **extra)
    else:
        raw = fn(*tensors, **call.hyper, **extra)
    outputs = call.outputs
    if raw is None:  # a function that only changes its arguments (clip_grad_value_): no result to compare
        outputs, raw = (), ()
    outs = [torch.as_tensor(o) for o in (raw if isinstance(raw, (tuple, list)) else [raw])]
    if len(outs) != len(outputs):
        raise ValueError(f"twin {call.reference!r} returned {len(outs)} outputs, the course declares {len(outputs)}")

    def numpy(t: Any) -> np.ndarray:
        # integer results (shapes, counts) stay integers: they are compared exactly
        return t.detach().to("cpu", torch.float64 if t.is_floating_point() else torch.int64).numpy()

    result = {key: numpy(o) for key, o in zip(outputs, outs)}
    result.update({name: numpy(extra[name]) for name in call.track})
    named = {name: t for (name, _, _), t in zip(inputs, tensors)}
    result.update({f"{name} after": numpy(named[name]) for name in call.mutates})
    if call.backward == "none" or not any(d for *_, d in inputs):
        return result
    if call.backward == "douts" or outs[0].ndim > 0:
        grads = [torch.tensor(call.make_dout(tuple(o.shape), d), dtype=torch.float64, device=device)
                 for o, d in zip(outs, call.douts)]
        # the scalar sum(out * dout) sends exactly dout back through out (1.0 * dout is exact); handing
        # torch.autograd.backward the douts themselves imports sympy on its first call (0.75 s of CPU)
        sum((o * g).sum() for o, g in zip(outs, grads) if o.requires_grad).backward()  # type: ignore[union-attr]
    else:
        outs[0].backward()
    for (name, _, diff), t in zip(inputs, tensors):
        if diff:
            grad = t.grad if t.grad is not None else torch.zeros_like(t)
            result["d" + name] = grad.detach().to("cpu", torch.float64).numpy()
    return result
