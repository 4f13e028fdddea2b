"""Grade one submission against a course: the Python API under ``grader check``.

The children are started first (their numpy import overlaps the parent's work), references come from
the cache or are computed with torch once, then each exercise's checks run in a child. With several
lanes, each lane's child takes the next exercise in turn. A child that dies, hangs or garbles costs the
exercise in progress; its lane's next exercise gets a fresh child.
"""
from __future__ import annotations

import os
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .. import __version__, checks
from ..fronts import NotebookMap, prepare_workdir, take_manifest
from ..kinds import curves, interfaces, kind_of
from ..model.course import Course, Exercise
from ..model.results import (
    FAIL,
    PASS,
    TIMEOUT,
    AssignmentResult,
    CaseResult,
    CheckResult,
    ExerciseResult,
    SubmissionResult,
)
from ..sandbox import rules
from ..sandbox.replies import ChildFailure
from ..sandbox.runner import Child, Zygote, make_private
from .expected import reference_store
from .refstore import ReferenceStore, cache_dir


@dataclass
class Options:
    """How to grade: which seed (public unless given), device, exercises, and where the cache is."""

    seed: int | None = None
    device: str = "cpu"
    exercises: list[str] = field(default_factory=list)
    use_cache: bool = True
    cache: Path | None = None
    plots: bool = False
    """Collect the extra data figures need (curves) for the exercises that do not pass; off by default so
    plain grading does not pay for it."""
    all_figures: bool = False
    """With ``plots``: curves for passing exercises too (``--all-figures``)."""
    on_references: Callable[[list[str]], None] | None = None
    """Told the exercises whose references are about to be computed with torch (a progress line)."""
    on_reference_done: Callable[[str], None] | None = None
    """Told each exercise's id as its references are computed (advances the progress bar)."""
    full_results: bool = False
    """Results JSON with every case's detail; by default an exercise that passed is written compactly."""
    lanes: int = 1
    """Children grading exercises side by side (``grader check`` uses :func:`default_lanes`; batch
    grading keeps one, it runs submissions side by side instead)."""


class Timer:
    """Accumulates time per phase (start-up, references, student calls, comparisons); with several lanes
    the phases sum over them, so they may add up to more than the wall time."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, phase: str, seconds: float) -> None:
        with self._lock:
            self.spent[phase] = self.spent.get(phase, 0.0) + seconds


def default_lanes(cores: int | None = None, load: float | None = None) -> int:
    """Children graded side by side by ``grader check``: two where two cores are free (the parent
    compares one exercise's values while the other child computes), else one: a second lane on a busy
    machine only adds switching (measured slower than one at load 6 on two cores)."""
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if load is None:
        try:
            load = os.getloadavg()[0]
        except OSError:
            load = 0.0
    free = cores - load
    return 2 if cores >= 2 and free >= 1.0 else 1


class _Lane:
    """One child and the exercises it grades, one after another; a dead child is replaced."""

    def __init__(self, start: Callable[[], Child], refs: ReferenceStore, seed: int, options: Options, timer: Timer,
                 places: NotebookMap | None = None, *, hung: dict[str, tuple[str, str]] | None = None,
                 public: bool = False):
        self.start, self.refs, self.seed, self.options, self.timer = start, refs, seed, options, timer
        self.public = public
        self.places = places or NotebookMap()
        self.hung = {} if hung is None else hung
        """Module -> (status, why) of an import that hung or killed its child, shared by the lanes of one
        submission: such a module costs its time limit (or a child) once, not once per exercise it holds."""
        self.imported: set[str] = set()
        self.child = self._started()
        self.isolation: str | None = None

    def _started(self) -> Child:
        t0 = time.perf_counter()
        child = self.start()
        self.imported = set()
        self.timer.add("startup", time.perf_counter() - t0)
        return child

    def grade(self, ex: Exercise, broken_rules: dict[str, list[rules.Violation]]) -> ExerciseResult:
        if not self.child.alive:
            self.child.close()
            self.child = self._started()
        if self.isolation is None:
            t0 = time.perf_counter()
            try:
                self.isolation = self.child.ready()
            except ChildFailure:
                pass
            self.timer.add("startup", time.perf_counter() - t0)
        if ex.module in broken_rules:
            return _stopped(ex, "rules", FAIL, "\n".join(v.message() for v in broken_rules[ex.module]),
                            {"rule": "no torch"})
        if ex.module not in self.hung and ex.module not in self.imported:
            self._import(ex)
        if ex.module in self.hung:
            return self.places.fix(_stopped(ex, "import", *self.hung[ex.module]))
        result = grade_exercise(ex, self.seed, self.child, self.refs, self.timer, self.public)
        wanted = self.options.all_figures or result.status != PASS
        if self.options.plots and wanted and ex.curve is not None and self.child.alive:
            result.plot_data["curve"] = _collect_curve(ex, self.seed, self.child, self.refs)
        return self.places.fix(result)

    def _import(self, ex: Exercise) -> None:
        """Import the exercise's module alone, under the exercise's time limit: an import that does not
        finish or that ends the child is recorded (one that raises is left to the checks, which report it;
        so is a child that did not start: the import is not to blame)."""
        limit = ex.timeout_s or self.child.limits.timeout_s
        t0 = time.perf_counter()
        self.child.new_exercise()
        try:
            self.child.ready()
        except ChildFailure:
            return
        try:
            self.child.run([{"op": "import", "target": ex.target}], {}, timeout=limit)
            self.imported.add(ex.module)
        except ChildFailure as e:
            self.hung[ex.module] = (e.status, (
                f"{ex.module}.py did not finish importing within {limit:g} s (a loop or a long computation at "
                "the top level of the module?)") if e.status == TIMEOUT else f"importing {ex.module}.py: {e}")
        finally:
            self.timer.add("student calls", time.perf_counter() - t0)

    def interrupt(self) -> None:
        """Kill the child (its lane's thread sees it die and stops); closing is left to the owner."""
        self.child.kill()

    def close(self) -> None:
        self.child.close()


def grade(course: Course, submission: Path, options: Options | None = None,
          on_exercise: Callable[[ExerciseResult], None] | None = None, zygote: Zygote | None = None) -> SubmissionResult:
    """Grade one submission folder.

    Args:
        course: the validated course.
        submission: a folder of .py modules and/or notebooks (graded by what they define), a .zip, a notebook.
        options: seed, device, exercise filter, cache settings, lanes.
        on_exercise: called with each exercise's result as soon as it is graded (progress display; from
            a lane's thread when there are several, one call at a time).
        zygote: a warm fork server to start children from (batch grading); None spawns each child.

    Raises:
        SubmissionError: the submission folder cannot be read at all.
    """
    options = options or Options()
    started = time.perf_counter()
    make_private()
    seed = course.seed_for(options.seed)
    wanted = [ex for key in options.exercises for ex in course.select(key)] if options.exercises else course.exercises
    wanted_ids = {ex.id for ex in wanted}
    todo = [ex for a in course.assignments for ex in a.exercises if ex.id in wanted_ids]
    timer = Timer()
    workdir, places, refs, hide = _prepare(course, submission, seed, options)
    result = SubmissionResult(
        submission=str(submission), course=course.title, course_digest=course.digest,
        seed="secret" if course.is_secret(options.seed) else "public",
        device=options.device, isolation="?", grader_version=__version__, notes=places.notes,
        seed_digest=course.seed_digest(options.seed),
    )

    def start() -> Child:
        nonlocal zygote
        if zygote is not None and not zygote.alive:
            zygote = None  # it died: spawn directly for the rest of this submission
        return Child(workdir, course.limits, hide, zygote)

    lanes: list[_Lane] = []
    hung: dict[str, tuple[str, str]] = {}
    graded: dict[str, ExerciseResult] = {}
    try:
        # the children start first: their interpreters come up while the parent scans and loads
        public = not course.is_secret(options.seed)
        lanes = [_Lane(start, refs, seed, options, timer, places, hung=hung, public=public)
                 for _ in range(min(max(1, options.lanes), len(todo)))]
        broken_rules = rules.scan(workdir)
        if todo:
            t0 = time.perf_counter()
            refs.prepare_behind([ex.id for ex in todo])  # computed while the lanes grade, each waits for its own
            timer.add("references", time.perf_counter() - t0)
            _run_lanes(lanes, todo, broken_rules, graded, on_exercise)
    finally:
        refs.finish()
        timer.add("references", refs.waited_s)
        for lane in lanes:
            lane.close()
        shutil.rmtree(workdir, ignore_errors=True)
    result.isolation = next((lane.isolation for lane in lanes if lane.isolation), "?")
    if any(kind_of(ex).trains for ex in todo):  # a network's failing layer names its own failing exercise
        from ..checks.training import point_at_own_exercises

        point_at_own_exercises(course, graded)
    for assignment in course.assignments:
        done = [graded[ex.id] for ex in assignment.exercises if ex.id in graded]
        if done:
            result.assignments.append(AssignmentResult(assignment.id, assignment.title, done))
    result.duration_s = round(time.perf_counter() - started, 4)
    result.timings = {k: round(v, 4) for k, v in timer.spent.items()}
    return result


def _prepare(course: Course, submission: Path, seed: int,
             options: Options) -> tuple[Path, NotebookMap, ReferenceStore, list[Path]]:
    """What grading one submission needs before a child starts: the private working folder, its notebook
    manifest (read before any child runs: what a child writes is never read), the reference store and
    the folders to hide. The working folder is removed if any of it fails."""
    workdir = prepare_workdir(submission, [t for ex in course.exercises for t in interfaces.targets(ex)])
    try:
        places = take_manifest(workdir)
        refs = reference_store(course, seed, options.device, directory=options.cache, use_disk=options.use_cache,
                               on_compute=options.on_references, on_exercise=options.on_reference_done)
        return workdir, places, refs, _hidden(course, refs)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise


class Session:
    """One submission graded one exercise at a time, on demand: the pytest plugin grades an exercise only
    when its test item runs (after -k, --lf), so nothing is graded up front.

    As in :func:`grade`, one child serves every exercise (replaced if it dies), the references are
    loaded or computed once, and a rule violation fails the exercise without running it. The child
    starts here, so its interpreter comes up while the first exercise's references load.
    """

    def __init__(self, course: Course, submission: Path, options: Options | None = None):
        self.course, self.options = course, options or Options()
        make_private()
        self.seed = course.seed_for(self.options.seed)
        self.timer = Timer()
        self.workdir, self.places, self.refs, hide = _prepare(course, submission, self.seed, self.options)
        self._lane = _Lane(lambda: Child(self.workdir, course.limits, hide), self.refs, self.seed,
                           self.options, self.timer, self.places, public=not course.is_secret(self.options.seed))
        self._broken_rules = rules.scan(self.workdir)

    @property
    def isolation(self) -> str:
        """The sandbox tier the child reached ("?" before the first exercise)."""
        return self._lane.isolation or "?"

    def grade(self, key: str) -> ExerciseResult:
        """Grade one exercise, by id or title (:meth:`Course.exercise`)."""
        ex = self.course.exercise(key)
        t0 = time.perf_counter()
        self.refs.prepare([ex.id])  # only what is graded: `pytest -k Affine` computes one exercise
        self.timer.add("references", time.perf_counter() - t0)
        return self._lane.grade(ex, self._broken_rules)

    def close(self) -> None:
        """Stop the child and remove the working folder; safe to call twice."""
        self._lane.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _hidden(course: Course, refs: ReferenceStore) -> list[Path]:
    """What the child must not read: the course's hide list, the reference cache, and $GRADER_HIDE."""
    extra_hidden = [Path(p) for p in os.environ.get("GRADER_HIDE", "").split(os.pathsep) if p]
    return [*course.hide, refs.directory, cache_dir(), *extra_hidden]


def _run_lanes(lanes: list[_Lane], todo: list[Exercise], broken_rules: dict[str, list[rules.Violation]],
               graded: dict[str, ExerciseResult], on_exercise: Callable[[ExerciseResult], None] | None) -> None:
    """Each lane takes the next exercise in course order until none is left; one lane runs inline."""
    queue = list(reversed(todo))
    lock = threading.Lock()
    stop = threading.Event()

    def work(lane: _Lane) -> None:
        while not stop.is_set():
            with lock:
                if not queue:
                    return
                ex = queue.pop()
            ex_result = lane.grade(ex, broken_rules)
            with lock:
                graded[ex.id] = ex_result
                if on_exercise:
                    on_exercise(ex_result)

    if len(lanes) == 1:
        work(lanes[0])
        return
    with ThreadPoolExecutor(max_workers=len(lanes), thread_name_prefix="lane") as pool:
        futures = [pool.submit(work, lane) for lane in lanes]
        try:
            for future in futures:
                future.result()
        except BaseException:
            stop.set()  # an error in one lane, or Ctrl-C: every lane stops now, its child killed
            for lane in lanes:
                lane.interrupt()
            raise


def grade_exercise(ex: Exercise, seed: int, child: Child, refs: ReferenceStore, timer: Timer,
                   public: bool = False) -> ExerciseResult:
    """Run every check of one exercise; a child failure ends the exercise with that status. ``public``: the
    seed is the course's public one (a check may then send reference values into the child)."""
    started = time.perf_counter()
    out = ExerciseResult(ex.id, ex.title, ex.target, ex.points)
    ctx = checks.Context(ex, seed, child, refs, public=public)
    failure: ChildFailure | None = None
    calls_before = child.busy_s
    child.new_exercise()
    for spec in ex.checks:
        check = CheckResult(spec.name, spec.weight)
        out.checks.append(check)
        if failure is not None:
            check.cases.append(CaseResult(f"{spec.name} · skipped", failure.status,
                                          f"not run: {_failure_text(failure, ex.timeout_s or child.limits.timeout_s)}"))
            continue
        try:
            ctx.at("case", None)
            for case in checks.get(spec.name)(ctx, spec):
                check.cases.append(ctx.identify(spec.name, case))
        except ChildFailure as e:
            failure = e
            limit = ex.timeout_s or child.limits.timeout_s
            check.cases.append(CaseResult(f"{spec.name} · aborted", e.status, _failure_text(e, limit)))
    out.output = child.output()
    out.duration_s = round(time.perf_counter() - started, 4)
    spent_in_child = child.busy_s - calls_before
    timer.add("student calls", spent_in_child)
    timer.add("comparisons", out.duration_s - spent_in_child)
    return out


def _stopped(ex: Exercise, step: str, status: str, why: str, details: dict | None = None) -> ExerciseResult:
    """Every check of the exercise stopped before it ran, with one reason: its module's import never
    finished (``step`` "import"), or it imports what the rules forbid ("rules")."""
    return ExerciseResult(ex.id, ex.title, ex.target, ex.points,
                          [CheckResult(c.name, c.weight,
                                       [CaseResult(f"{c.name} · {step}", status, why, dict(details or {}))])
                           for c in ex.checks])


def _collect_curve(ex: Exercise, seed: int, child: Child, refs: ReferenceStore) -> dict[str, object]:
    steps, variables = curves.steps(ex, seed)
    try:
        reply = child.run(interfaces.adapt(ex, steps), variables)
        values = reply.values if reply.failure is None else None
    except ChildFailure:
        values = None
    return curves.assemble(ex, seed, refs.get(ex.id, "curve", 0), values)


def _failure_text(e: ChildFailure, timeout: float) -> str:
    if e.status == "timeout":
        return (f"a call took longer than {timeout:g} s and was stopped (an infinite loop? a very slow "
                "implementation?)")
    return str(e)
