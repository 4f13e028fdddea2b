"""Compare ``grader check --json`` between two trees (a refactor must not change a single verdict).

Why: issue 16 moves the engine into packages without changing behaviour; its acceptance is that the JSON
written by ``grader check`` on solutions/, exercises/, the correct variants and every planted bug is the
same before and after, timings aside. This script grades each submission with each tree's *own* code,
course file and catalogue of bugs, normalises away what legitimately varies, and diffs the rest.

Run (from the tree to check, the "head"):

    python benchmarks/compare_json.py --base main            # base = a revision, checked out in a temp worktree
    python benchmarks/compare_json.py --base HEAD --head ../other-worktree
    python benchmarks/compare_json.py --base HEAD --only solutions,variants
    python benchmarks/compare_json.py --base HEAD --only bugs --limit 20 -j 2

Each tree runs ``python -m grader check SUB --json OUT -q -j 1 --course course.yml`` with cwd = the tree
(so ``grader`` is that tree's package), every ``GRADER_*`` variable removed from the environment and a
private, initially empty ``GRADER_CACHE`` per tree (never the user's). solutions/ is graded first in each
tree, which fills that tree's reference cache before the parallel runs start. Submissions:

- ``solutions``: solutions/; ``exercises``: exercises/ (the stubs);
- ``variants``: solutions/ with tests/variants/correct/*.py copied over it;
- ``bugs``: every planted bug, solutions/ with one module changed, graded with ``-e <its exercise id>``.

Bugs are listed *inside each tree's Python* (``python -c`` with cwd = the tree), from, in order:

1. the mutant hook, if the tree has it: module ``tests/mutants.py`` defining ::

       def submissions() -> Iterable[tuple[str, str, dict[str, str]]]:
           '''yield (bug_id, exercise, {module: full source text}) for every mutant'''

   ``bug_id`` is a name unique within its exercise (the planted bug's ``name`` where one exists, so that
   both sides match during the conversion); ``exercise`` is an exercise id ("1.10"), class/function name
   ("Affine") or title, as in course.yml; the dict maps a module name without ``.py`` ("layers") to the
   *complete* text of that module in the mutated submission. Modules not named are solutions/ unchanged.
   It is imported as ``tests.mutants`` and called with cwd = the tree's root (``Path("solutions")`` works).
   A tests/mutants.py without ``submissions`` is ignored (the fallback below is used). Keep the bug names
   of UNSEEDED_BUGS below (or update that list): their figures are random and masked by name;
2. else the PlantedBug catalogues, ``BUGS`` in tests/planted_bugs.py and tests/planted_bugs_*.py: the
   module's text is solutions/<module>.py + "\\n\\n" + code + "\\n", as tests/conftest.py make_submission.

Bugs are matched between trees by (exercise id, bug_id); a bug found on one side only is a note, not a
failure. What is normalised, and why, is stated at DROPPED_TOP, TIMING_KEYS, SCRATCH, RANDOM_CHECKS and
UNSEEDED_BUGS. Exit status: 0 when every compared submission is the same, 1 when one differs, 2 on an error.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, NoReturn

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("solutions", "exercises", "variants", "bugs")
ABSENT = "<absent>"

# --- normalisation ---------------------------------------------------------------------------------------

DROPPED_TOP = ("grader_version", "submission")
"""Top-level fields that say where/what ran, not what was found: the version string and the path graded."""
TIMING_KEYS = ("timings",)
"""Keys holding measured time (besides any key in seconds: ``*_s``, ``*_seconds``), dropped at any depth."""
SCRATCH = re.compile(r"/[^\s'\"]*?/grader-sub-[A-Za-z0-9_]+")
"""The sandbox's per-run scratch folder (a fresh mkdtemp name), quoted in ``output`` by learner warnings
("/tmp/grader-sub-btgjg3d_/optim.py:555: RuntimeWarning ..."): replaced by <scratch> in every string."""
RANDOM_CHECKS = ("stochastic",)
"""Checks whose every case quotes figures of the learner's random draws, which come from numpy's OS-seeded
global generator: messages and details of all their cases have their numbers masked, and so has the
exercise's ``reason`` when it quotes one of them ("stochastic: kept 1134/5600 ..."). Found by grading
solutions/ twice with one tree (Dropout's "keep rate", RReLU's "slopes uniform" messages) and every planted
bug twice (also "factors are 0 or 1/(1-p)", "slopes in [lower, upper]", "backward reuses forward's
factors": counts, worst index, values). Case names, statuses, check scores and points are kept."""
UNSEEDED_BUGS = frozenset({
    ("1.5", "random slope per call (RReLU confused with LeakyReLU)"),
    ("4.28", "draws from np.random, not from rng"),
    ("6.1", "ignores rng: draws from np.random's global state"),
    ("6.4", "ignores rng: a default_rng() of its own"),
})
"""Planted bugs (exercise id, bug name) whose learner code draws from an OS-seeded generator outside the
stochastic check, so that figures in their reference, gradcheck, batching or statistics messages and details
differ between two runs of the same code: the same masking applies to all their checks. These four, and
nothing else, differed when every planted bug was graded twice with one tree."""
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _is_timing(key: str) -> bool:
    return key in TIMING_KEYS or key.endswith("_s") or key.endswith("_seconds")


def _clean(value: Any) -> Any:
    """Drop timing keys at any depth; name the sandbox's scratch folder <scratch>."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if not _is_timing(k)}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, str):
        return SCRATCH.sub("<scratch>", value)
    return value


def _mask(value: Any) -> Any:
    """Every number, in a string or as a value, becomes "#"; the structure (keys, lengths) stays."""
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    if isinstance(value, str):
        return NUMBER.sub("#", value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "#"
    return value


def normalise(result: dict[str, Any], unseeded: bool = False) -> dict[str, Any]:
    """A copy of one ``--json`` result without what differs between two runs of the same code.

    ``unseeded``: the submission is one of UNSEEDED_BUGS (every check's figures are random)."""
    out = _clean({k: v for k, v in result.items() if k not in DROPPED_TOP})
    for assignment in out.get("assignments") or []:
        for exercise in assignment.get("exercises") or []:
            random_checks = [c.get("name") for c in exercise.get("checks") or []
                             if unseeded or c.get("name") in RANDOM_CHECKS]
            for check in exercise.get("checks") or []:
                if check.get("name") not in random_checks:
                    continue
                for case in check.get("cases") or []:
                    for key in ("message", "details"):
                        if key in case:
                            case[key] = _mask(case[key])
            reason = exercise.get("reason")
            if isinstance(reason, str) and any(reason.startswith(f"{name}: ") for name in random_checks):
                exercise["reason"] = _mask(reason)
    return out


# --- diff ------------------------------------------------------------------------------------------------

def _label(a: Any, b: Any, index: int) -> str:
    """A list element's path step: its id or name when both sides agree on it (readable), else its index."""
    for key in ("id", "name"):
        if isinstance(a, dict) and isinstance(b, dict) and key in a and a.get(key) == b.get(key):
            return f"[{a[key]}]"
    return f"[{index}]"


def diff(base: Any, head: Any, path: str = "$") -> Iterator[tuple[str, Any, Any]]:
    """Yield (JSON path, base value, head value) for every leaf that differs; ABSENT marks a missing side."""
    if isinstance(base, dict) and isinstance(head, dict):
        for key in list(base) + [k for k in head if k not in base]:
            yield from diff(base.get(key, ABSENT), head.get(key, ABSENT), f"{path}.{key}")
    elif isinstance(base, list) and isinstance(head, list):
        for i in range(max(len(base), len(head))):
            a = base[i] if i < len(base) else ABSENT
            b = head[i] if i < len(head) else ABSENT
            yield from diff(a, b, path + _label(a, b, i))
    elif base != head or type(base) is not type(head):
        yield path, base, head


def _short(value: Any, width: int = 100) -> str:
    text = value if value == ABSENT else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 3] + "..."


# --- trees, submissions, grading -------------------------------------------------------------------------

@dataclass
class Tree:
    """One side: a checkout whose own grader, course.yml and catalogue are used; scratch lives in work."""
    side: str
    path: Path
    work: Path
    bugs: dict[tuple[str, str], tuple[str, Path]] = field(default_factory=dict)  # key -> (label, folder)
    full_results: list[str] = field(default_factory=list)
    """``["--full-results"]`` where the tree's check has it (it writes passing cases compactly otherwise:
    both sides are compared in full, messages of passing cases included)."""

    @property
    def cache(self) -> Path:
        return self.work / "cache"


@dataclass(frozen=True)
class Job:
    """One submission graded in both trees; ``key`` matches the two sides."""
    key: str
    kind: str
    label: str


BUG_HELPER = r'''
"""Run inside a tree (cwd): write every bug's submission under argv[1]; print a JSON manifest."""
import importlib, json, shutil, sys
from pathlib import Path
import yaml

dest, solutions = Path(sys.argv[1]), Path("solutions")
ids = {}
course = yaml.safe_load(Path("course.yml").read_text())
for a in course.get("assignments") or []:
    for e in a.get("exercises") or []:
        i = str(e["id"])
        for alias in (i, str(e.get("target", "")).rsplit(".", 1)[-1], str(e.get("title", ""))):
            ids.setdefault(alias, i)

def catalogue():
    try:
        mutants = importlib.import_module("tests.mutants")
    except ModuleNotFoundError as err:
        if err.name not in ("tests.mutants", "tests"):
            raise
        mutants = None
    if mutants is not None and hasattr(mutants, "submissions"):
        yield "tests/mutants.py", None
        for bug_id, exercise, modules in mutants.submissions():
            bug_id = str(bug_id)  # "Exercise/name": the name alone matches the planted bug of the other side
            if bug_id.startswith(f"{exercise}/"):
                bug_id = bug_id[len(f"{exercise}/"):]
            yield bug_id, (str(exercise), dict(modules))
        return
    names = ["tests.planted_bugs"] + ["tests." + p.stem for p in sorted(Path("tests").glob("planted_bugs_*.py"))]
    yield "tests/planted_bugs*.py", None
    for name in names:
        for bug in importlib.import_module(name).BUGS:
            text = (solutions / f"{bug.module}.py").read_text() + "\n\n" + bug.code + "\n"
            yield bug.name, (bug.exercise, {bug.module: text})

manifest, source = [], None
for n, (bug_id, item) in enumerate(catalogue()):
    if item is None:
        source = bug_id
        continue
    exercise, modules = item
    folder = dest / f"{n:04d}"
    folder.mkdir(parents=True)
    for f in sorted(solutions.glob("*.py")):
        shutil.copyfile(f, folder / f.name)
    for module, text in modules.items():
        (folder / f"{module}.py").write_text(text)
    manifest.append({"exercise": exercise, "id": ids.get(exercise, exercise), "name": bug_id, "dir": str(folder)})
print(json.dumps({"source": source, "bugs": manifest}))
'''


def fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def child_env(tree: Tree) -> dict[str, str]:
    """The caller's environment without any GRADER_* setting, and this tree's private reference cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env["GRADER_CACHE"] = str(tree.cache)
    return env


def check_imports_own_grader(tree: Tree) -> None:
    """The package is installed editable from elsewhere: make sure cwd wins, or the comparison is void."""
    got = subprocess.run([sys.executable, "-c", "import grader; print(grader.__file__)"], cwd=tree.path,
                         env=child_env(tree), capture_output=True, text=True, check=True).stdout.strip()
    if not Path(got).resolve().is_relative_to(tree.path.resolve()):
        fail(f"in {tree.path}, `import grader` gives {got}, not that tree's package")
    usage = subprocess.run([sys.executable, "-m", "grader", "check", "--help"], cwd=tree.path, env=child_env(tree),
                           capture_output=True, text=True).stdout
    tree.full_results = ["--full-results"] if "--full-results" in usage else []


def list_bugs(tree: Tree) -> str:
    """Materialise the tree's bugs with its own catalogue; fill tree.bugs; return the catalogue used."""
    dest = tree.work / "bugs"
    proc = subprocess.run([sys.executable, "-c", BUG_HELPER, str(dest)], cwd=tree.path, env=child_env(tree),
                          capture_output=True, text=True)
    if proc.returncode:
        fail(f"listing the planted bugs in {tree.path} failed:\n{proc.stderr[-3000:]}")
    manifest = json.loads(proc.stdout)
    for bug in manifest["bugs"]:
        key = (bug["id"], bug["name"])
        if key in tree.bugs:
            fail(f"{tree.path}: two bugs named {bug['name']!r} in exercise {bug['id']}")
        tree.bugs[key] = (f"bug {bug['exercise']} · {bug['name']}", Path(bug["dir"]))
    return f"{manifest['source']}: {len(manifest['bugs'])} bugs"


def submission(tree: Tree, job: Job) -> tuple[Path, list[str]]:
    """The folder to grade in this tree, and the extra arguments (``-e`` for a bug)."""
    if job.kind in ("solutions", "exercises"):
        return tree.path / job.kind, []
    if job.kind == "variants":
        folder = tree.work / "variants"
        if not folder.exists():
            folder.mkdir()
            for src in (tree.path / "solutions", tree.path / "tests" / "variants" / "correct"):
                for f in sorted(src.glob("*.py")):
                    shutil.copyfile(f, folder / f.name)
        return folder, []
    exercise, name = json.loads(job.key)
    return tree.bugs[(exercise, name)][1], ["-e", exercise]


def grade(tree: Tree, job: Job, timeout: float) -> dict[str, Any]:
    """Grade one submission with this tree's code; the exit status travels with the (raw) JSON."""
    sub, extra = submission(tree, job)
    out = tree.work / "json" / f"{hashlib.sha1(job.key.encode()).hexdigest()[:16]}.json"
    out.parent.mkdir(exist_ok=True)
    out.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "grader", "check", str(sub), "--json", str(out), "-q", "-j", "1",
           "--course", "course.yml", *tree.full_results, *extra]
    proc = subprocess.Popen(cmd, cwd=tree.path, env=child_env(tree), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    with LIVE_LOCK:
        LIVE.add(proc)
    try:
        _, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop(proc)
        return {"exit": "timeout", "json": None, "stderr": f"no result within {timeout:g} s"}
    finally:
        with LIVE_LOCK:
            LIVE.discard(proc)
    data = json.loads(out.read_text()) if out.exists() else None
    return {"exit": proc.returncode, "json": data, "stderr": "" if data is not None else stderr[-2000:]}


LIVE: set[subprocess.Popen[str]] = set()
"""Grader runs in flight, so that an interrupted comparison can stop them before removing their trees."""
LIVE_LOCK = threading.Lock()


def stop(proc: subprocess.Popen[str]) -> None:
    """SIGTERM first: the grader then kills its own sandboxed children (a SIGKILL would orphan them)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def compared(record: dict[str, Any], job_key: str = "") -> dict[str, Any]:
    """What is compared for one side: exit status, the normalised JSON, and stderr only if no JSON came."""
    unseeded = job_key.startswith("[") and tuple(json.loads(job_key)) in UNSEEDED_BUGS
    json_part = normalise(record["json"], unseeded) if isinstance(record["json"], dict) else record["json"]
    return {"exit": record["exit"], "json": json_part, "stderr": record["stderr"]}


# --- worktrees -------------------------------------------------------------------------------------------

def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def add_worktree(rev: str, where: Path) -> Path:
    """A detached temporary worktree of rev (the caller removes it)."""
    try:
        commit = git("rev-parse", "--verify", f"{rev}^{{commit}}")
        git("worktree", "add", "--detach", "--quiet", str(where), commit)
    except subprocess.CalledProcessError as err:
        fail(f"no worktree of {rev!r}: {err.stderr.strip() or err}")
    return where


def remove_worktree(where: Path) -> None:
    subprocess.run(["git", "worktree", "remove", "--force", str(where)], cwd=ROOT, capture_output=True)
    subprocess.run(["git", "worktree", "prune"], cwd=ROOT, capture_output=True)


# --- main ------------------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", required=True, help="revision to compare against (checked out in a temp worktree)")
    p.add_argument("--head", default=str(ROOT),
                   help="folder of the tree to check (default: this script's tree, as it is on disk), or a revision")
    p.add_argument("--only", default=",".join(KINDS), help=f"comma-separated subset of {','.join(KINDS)}")
    p.add_argument("--limit", type=int, default=None, help="compare only the first N bugs")
    p.add_argument("-j", "--jobs", type=int, default=2, help="grader processes side by side (default 2)")
    p.add_argument("--show", type=int, default=5, help="differing paths shown per submission (default 5)")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds allowed for one grader run")
    p.add_argument("--save", type=Path, default=None, help="also write every raw JSON pair into this folder")
    args = p.parse_args(argv)
    args.only = [k.strip() for k in args.only.split(",") if k.strip()]
    unknown = set(args.only) - set(KINDS)
    if unknown or not args.only:
        p.error(f"--only takes a comma-separated subset of {','.join(KINDS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(2))  # run the clean-up below (worktrees, temp dirs)
    start = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="compare-json-"))
    worktrees: list[Path] = []
    try:
        trees = []
        for side, spec in (("base", args.base), ("head", args.head)):
            work = scratch / side
            (work / "cache").mkdir(parents=True)
            if side == "head" and Path(spec).is_dir():
                path = Path(spec).resolve()
            else:
                path = add_worktree(spec, scratch / f"{side}-tree")
                worktrees.append(path)
            trees.append(Tree(side, path, work))
        base, head = trees
        for tree in trees:
            check_imports_own_grader(tree)
            try:
                rev = git("rev-parse", "--short", "HEAD", cwd=tree.path)
                dirty = " (with uncommitted changes)" if git("status", "--porcelain", cwd=tree.path) else ""
            except subprocess.CalledProcessError:
                rev, dirty = "?", " (not a git checkout)"
            print(f"{tree.side}: {tree.path} at {rev}{dirty}", flush=True)

        jobs = [Job(k, k, k) for k in ("solutions", "exercises", "variants") if k in args.only]
        notes = []
        if "bugs" in args.only:
            for tree in trees:
                print(f"{tree.side} bugs: {list_bugs(tree)}", flush=True)
            keys = [k for k in base.bugs if k in head.bugs]
            for tree, other in ((base, head), (head, base)):
                notes += [f"note: only in {tree.side}: {tree.bugs[k][0]}" for k in tree.bugs if k not in other.bugs]
            keys = keys[: args.limit] if args.limit is not None else keys
            jobs += [Job(json.dumps(k), "bugs", base.bugs[k][0]) for k in keys]
        return run_jobs(args, base, head, jobs, notes, start)
    finally:
        for where in worktrees:
            remove_worktree(where)
        shutil.rmtree(scratch, ignore_errors=True)


def run_jobs(args: argparse.Namespace, base: Tree, head: Tree, jobs: list[Job], notes: list[str],
             start: float) -> int:
    """Grade every job in both trees (solutions first: it fills each tree's cache), compare, report."""
    warm = Job("solutions", "solutions", "solutions")
    first = [warm]  # graded first in each tree even when not compared: it fills the tree's reference cache
    results: dict[tuple[str, str], dict[str, Any]] = {}
    lock = threading.Lock()
    done: list[str] = []
    differences: list[tuple[Job, list[tuple[str, Any, Any]]]] = []
    total = len(jobs)

    def finish(job: Job) -> None:
        """Both sides are in: compare, print the submission's line."""
        a, b = compared(results[(job.key, "base")], job.key), compared(results[(job.key, "head")], job.key)
        found = list(diff(a, b))
        with lock:
            done.append(job.key)
            if found:
                differences.append((job, found))
            print(f"[{len(done):{len(str(total))}}/{total}] {'DIFFERENT' if found else 'same':9}  {job.label}",
                  flush=True)
            if args.save:
                stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", job.label)[:120]
                for side in ("base", "head"):
                    path = args.save / side / f"{len(done):04d}-{stem}.json"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(json.dumps(results[(job.key, side)], indent=1, ensure_ascii=False))

    def one(tree: Tree, job: Job) -> None:
        try:
            record = grade(tree, job, args.timeout)
        except Exception as err:  # an unreadable JSON, say: a difference to report, not a crash of the run
            record = {"exit": "error", "json": None, "stderr": f"{type(err).__name__}: {err}"}
        with lock:
            results[(job.key, tree.side)] = record
            both = (job.key, "base") in results and (job.key, "head") in results
        if both and job in jobs:
            finish(job)

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs))
    try:
        for fut in [pool.submit(one, tree, job) for job in first for tree in (base, head)]:
            fut.result()
        rest = [job for job in jobs if job not in first]
        futures = [pool.submit(one, tree, job) for job in rest for tree in (base, head)]
        for fut in concurrent.futures.as_completed(futures):
            fut.result()
    finally:  # interrupted (Ctrl-C, SIGTERM): drop the queue and stop the runs in flight, not wait for them
        pool.shutdown(wait=False, cancel_futures=True)
        with LIVE_LOCK:
            running = list(LIVE)
        for proc in running:
            stop(proc)
        pool.shutdown(wait=True)

    for job, found in differences:
        print(f"\nDIFFERENT: {job.label} ({len(found)} paths)")
        for path, a, b in found[: args.show]:
            print(f"  {path}\n    base: {_short(a)}\n    head: {_short(b)}")
        if len(found) > args.show:
            print(f"  ... and {len(found) - args.show} more")
    for note in notes:
        print(note)
    counts = {kind: sum(j.kind == kind for j in jobs) for kind in KINDS if any(j.kind == kind for j in jobs)}
    print(f"\n{total - len(differences)}/{total} same, {len(differences)} different "
          f"({', '.join(f'{n} {k}' for k, n in counts.items())}); {len(notes)} bugs on one side only; "
          f"{2 * total + (0 if warm in jobs else 2)} grader runs in {time.perf_counter() - start:.0f} s")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
