"""Command line: it parses options and calls one function of the Python API (grader.api) per command.

Exit codes: 0 everything passed (or the command succeeded), 1 some check failed, 2 usage, course or
submission error (the message names the file, line or field).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import api
from .model.errors import GraderError

SEED_FD_ENV = "GRADER_SEED_FD"


def _hide_seed() -> None:
    """Re-exec this command with the seed of ``--seed VALUE`` or $GRADER_SEED moved into an inherited
    pipe (``--seed-fd N`` in place of ``--seed VALUE``, else $GRADER_SEED_FD), so that neither
    /proc/PID/cmdline nor /proc/PID/environ of the long-running grader holds it: both stay readable to
    other processes (environ keeps the exec-time block even after ``del os.environ[...]``)."""
    argv, value = sys.argv[1:], None
    rest: list[str | None] = []  # None: where the pipe's fd number goes
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            rest += argv[i:]
            break
        if a == "--seed" and i + 1 < len(argv):
            value, i = argv[i + 1], i + 2
        elif a.startswith("--seed="):
            value, i = a[len("--seed="):], i + 1
        else:
            rest.append(a)
            i += 1
            continue
        rest += ["--seed-fd", None]
    env = dict(os.environ)
    from_env = env.pop("GRADER_SEED", None)
    if value is None and from_env is None:
        return
    r, w = os.pipe()
    os.write(w, (value if value is not None else from_env or "").encode())  # a seed fits the pipe's buffer
    os.close(w)
    os.set_inheritable(r, True)
    if value is None:
        env[SEED_FD_ENV] = str(r)
    os.execve(sys.executable, [sys.executable, "-m", "grader", *(str(r) if a is None else a for a in rest)], env)


def _parse_seed(text: str, where: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise GraderError(f"{where} must be an integer, got {text.strip()!r}") from None


def _read_fd(fd: int) -> str:
    with os.fdopen(fd, "rb") as f:
        return f.read().decode()


def _seed(args: argparse.Namespace) -> int | None:
    """--seed (passed through a pipe after the re-exec), else $GRADER_SEED, else None (the public seed).
    The seed is removed from this process's environment at once, before any worker or child starts."""
    fd_env = os.environ.pop(SEED_FD_ENV, None)
    env = os.environ.pop("GRADER_SEED", None)
    from_env = _parse_seed(_read_fd(int(fd_env)), "GRADER_SEED") if fd_env else None
    if getattr(args, "seed_fd", None) is not None:
        return _parse_seed(_read_fd(args.seed_fd), "--seed")
    if getattr(args, "seed", None) is not None:
        return int(args.seed)
    if from_env is not None:
        return from_env
    return None if env is None else _parse_seed(env, "GRADER_SEED")


def _announce_references(ids: list[str]) -> None:
    print(f"computing references with torch for {len(ids)} exercise{'s' if len(ids) != 1 else ''} "
          f"(once for this course and seed; later checks read them from the cache)...", file=sys.stderr, flush=True)


def cmd_check(args: argparse.Namespace) -> int:
    from .engine import lastrun
    from .engine.grading import Options, default_lanes

    submission = Path(args.submission)
    course = api.load(api.find_course(args.course, submission))
    seed = _seed(args)
    exercises = list(args.exercise or [])
    if args.failed:
        left = lastrun.unfinished(course, submission)
        if left is None:
            raise GraderError(f"{submission}: no earlier check of this submission to take the failures from; "
                              f"run `grader check {submission}` first")
        if not left:
            print("every exercise passed last time; nothing to rerun")
            return 0
        exercises = left
    options = Options(seed=seed, device=args.device, exercises=exercises,
                      use_cache=not args.no_cache, lanes=max(1, args.jobs) if args.jobs else default_lanes(),
                      on_references=None if args.quiet else _announce_references, all_figures=args.all_figures)
    targets = {name: Path(p) for name, p in (("json", args.json), ("html", args.html), ("plots", args.plots)) if p}

    def run(options: Options) -> bool:
        result = api.check(course, submission, options, targets, Path(args.gradescope) if args.gradescope else None)
        if not course.is_secret(seed):
            lastrun.record(course, submission, result)
        if not args.quiet:
            from .backs.terminal import render

            render(result)
        return result.passed

    passed = run(options)
    if args.watch:
        from .watch import watch

        watch(course, submission, options, run)
    return 0 if passed else 1


def cmd_grade(args: argparse.Namespace) -> int:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from .executors.batch import BatchOptions, scan_submissions

    folder = Path(args.submissions)
    course = api.load(api.find_course(args.course, folder))
    options = BatchOptions(seed=_seed(args), device=args.device, jobs=max(1, args.jobs), force=args.force,
                           gradescope=args.format == "gradescope", executor="dask" if args.dask else "local",
                           address=args.dask or "", roster=api.roster(args.roster))
    total = len(scan_submissions(folder)[0])
    columns = (TextColumn("[bold]grading"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
               TextColumn("{task.description}"))
    with Progress(*columns, disable=args.quiet) as progress:
        task = progress.add_task("", total=total)

        def done(student: str, points: float, max_points: float, error: str) -> None:
            progress.update(task, advance=1, description=f"{student}: {points:g}/{max_points:g}" + (" (error)" if error else ""))

        summary = api.grade_class(course, folder, Path(args.out), options, done)
        progress.update(task, completed=total)
    if not args.quiet:
        print(f"graded {len(summary.graded)}, skipped {len(summary.skipped)} already graded, "
              f"{len(summary.errors)} could not be graded; {summary.seconds:.1f} s; "
              f"gradebook: {Path(args.out) / 'gradebook.csv'}")
        if summary.not_graded:
            print(f"not graded ({len(summary.not_graded)}):")
            for name, reason in summary.not_graded:
                print(f"  {name}: {reason}")
    return 0


def cmd_gradescope_bundle(args: argparse.Namespace) -> int:
    print(f"wrote {api.bundle(Path(args.course), Path(args.out), _seed(args))}")
    return 0


def cmd_secret(args: argparse.Namespace) -> int:
    """A fresh 128-bit secret seed, in decimal, as --seed and $GRADER_SEED take it."""
    print(api.secret())
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from rich.console import Console

    course = api.validate(args.course)
    n_cases = sum(len(e.cases) for e in course.exercises)
    Console().print(f"{course.path}: valid — {len(course.assignments)} assignment(s), {len(course.exercises)} "
                    f"exercise(s), {n_cases} case(s), {sum(e.points for e in course.exercises):g} points")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from .backs.listing import course_lines, course_markdown

    course = api.load(api.find_course(args.course, Path.cwd()))
    print(course_markdown(course) if args.markdown else "\n".join(course_lines(course)), end="" if args.markdown else "\n")
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    from .release.stubs import diff_release, release

    solutions, exercises = Path(args.solutions), Path(args.exercises)
    notebooks = Path(args.notebooks) if args.notebooks else None
    course = api.load(api.find_course(args.course, solutions)) if notebooks else None
    if args.check:
        stale = [exercises / path for path in diff_release(solutions, exercises)]
        if notebooks:
            from .release.notebooks import diff_notebooks

            stale += [notebooks / name for name in diff_notebooks(course, solutions, notebooks)]
        for path in stale:
            print(f"out of date: {path}")
        return 1 if stale else 0
    written = release(solutions, exercises)
    if notebooks:
        from .release.notebooks import release_notebooks

        written += release_notebooks(course, solutions, notebooks)
    for path in written:
        print(f"wrote {path}")
    return 0


def cmd_nbgrader(args: argparse.Namespace) -> int:
    import importlib.util

    out = Path(args.course_dir)
    course = api.find_course(args.course, out)
    assignments = [a.strip() for a in args.assignments.split(",") if a.strip()] if args.assignments else None
    for path in api.nbgrader_course(course, out, assignments, Path(args.solutions) if args.solutions else None):
        print(f"wrote {path}")
    if importlib.util.find_spec("nbgrader") is None:
        print("nbgrader is not installed here: pip install 'nn-grader[nbgrader]' to run it on this course")
    print(f"next: cd {out} && nbgrader generate_assignment ID; autograde with GRADER_SEED set grades the hidden cases")
    return 0


def cmd_case(args: argparse.Namespace) -> int:
    """A public case to a .npz file, for debugging in a REPL."""
    course = api.load(api.find_course(args.course, Path.cwd()))
    for line in api.case(course, args.exercise, args.index, Path(args.save), _seed(args)):
        print(line)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from . import backs
    from .backs.terminal import render

    if args.klass:
        from .backs.dashboard import write_dashboard

        if not args.html:
            raise GraderError("--class needs --html FILE (the dashboard is an HTML page)")
        write_dashboard(Path(args.klass), Path(args.html))
        return 0
    if not args.results:
        raise GraderError("give a results JSON file, or --class RESULTS_DIR")
    result = api.report(Path(args.results))
    targets = {name: Path(p) for name, p in (("html", args.html), ("plots", args.plots)) if p}
    backs.write(result, targets)
    if not targets:
        render(result)
    return 0 if result.passed else 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="grader", description=__doc__.splitlines()[0] if __doc__ else None)
    from . import __version__

    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check", help="grade one submission and print a report")
    c.add_argument("submission", nargs="?", default=".", help="folder of .py modules (default: .)")
    c.add_argument("-e", "--exercise", action="append", help="grade only this exercise (id or title) or assignment (id); repeatable")
    c.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    c.add_argument("--seed", type=int, help="grading seed (default: $GRADER_SEED, else the course's public seed); "
                   "any value for a local test, but `grade` and `gradescope-bundle` need a strong secret one: "
                   "make it with `grader secret`")
    c.add_argument("--seed-fd", type=int, help=argparse.SUPPRESS)
    c.add_argument("--device", default="cpu", help="torch device for references: cpu or cuda")
    c.add_argument("--course", help="course file (default: $GRADER_COURSE, else course.yml nearby)")
    c.add_argument("--no-cache", action="store_true", help="recompute references instead of using the cache")
    c.add_argument("-q", "--quiet", action="store_true", help="print nothing; use the exit code or --json")
    c.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report with figures")
    c.add_argument("--plots", metavar="DIR", help="also write the figures as PNG files")
    c.add_argument("--failed", action="store_true", help="grade only the exercises that did not pass in the "
                   "last check of this submission")
    c.add_argument("--watch", action="store_true", help="after grading, regrade the exercises of each module "
                   "you save, until Ctrl-C")
    c.add_argument("--all-figures", action="store_true", help="with --html or --plots: curves for passing "
                   "exercises too (by default only what did not pass is drawn)")
    c.add_argument("--gradescope", metavar="FILE", help="also write Gradescope's results.json")
    c.add_argument("-j", "--jobs", type=int, help="sandboxed children grading exercises side by side "
                   "(default: 2 where there are 2 or more cores, else 1)")
    c.set_defaults(func=cmd_check)

    g = sub.add_parser("grade", help="grade a folder of submissions (folders, .zip, .ipynb) in parallel")
    g.add_argument("submissions")
    g.add_argument("--out", required=True, metavar="RESULTS", help="folder for one JSON per student + gradebook.csv")
    g.add_argument("-j", "--jobs", type=int, default=1, help="parallel workers (default 1)")
    g.add_argument("--seed", type=int, help="secret grading seed, at least 64 bits: make one with `grader secret` "
                   "(default: $GRADER_SEED, else the public seed)")
    g.add_argument("--seed-fd", type=int, help=argparse.SUPPRESS)
    g.add_argument("--device", default="cpu")
    g.add_argument("--course", help="course file (default: $GRADER_COURSE, else course.yml nearby)")
    g.add_argument("--force", action="store_true", help="re-grade students already in RESULTS")
    g.add_argument("--roster", metavar="CSV", help="a CSV with a 'student' (or 'id') column and optional 'name' "
                   "and 'email': the gradebook gets those columns, and a row for each rostered student "
                   "without a submission")
    g.add_argument("--dask", metavar="ADDRESS", help="grade on a Dask cluster: a scheduler address "
                   "(tcp://host:8786) or local:N for N worker processes here; needs the dask extra "
                   "(docs/scaling.md)")
    g.add_argument("--format", choices=["json", "gradescope"], default="json",
                   help="gradescope: also write <student>.gradescope.json per Gradescope's spec")
    g.add_argument("-q", "--quiet", action="store_true")
    g.set_defaults(func=cmd_grade)

    ls = sub.add_parser("list", help="list the course's assignments and exercises (ids for -e)")
    ls.add_argument("--course", help="course file (default: $GRADER_COURSE, else course.yml nearby)")
    ls.add_argument("--markdown", action="store_true", help="one table row per assignment (the README's course table)")
    ls.set_defaults(func=cmd_list)

    gb = sub.add_parser("gradescope-bundle", help="build a Gradescope autograder zip (setup.sh, run_autograder)")
    gb.add_argument("--course", default="course.yml")
    gb.add_argument("--out", default="autograder.zip")
    gb.add_argument("--seed", type=int, help="secret seed for hidden cases, at least 64 bits: make one with "
                    "`grader secret` (default: $GRADER_SEED; none: public only)")
    gb.add_argument("--seed-fd", type=int, help=argparse.SUPPRESS)
    gb.set_defaults(func=cmd_gradescope_bundle)

    sec = sub.add_parser("secret", help="print a fresh 128-bit secret seed (decimal) for --seed or $GRADER_SEED")
    sec.set_defaults(func=cmd_secret)

    v = sub.add_parser("validate", help="check a course file and its references")
    v.add_argument("course", nargs="?", default="course.yml")
    v.set_defaults(func=cmd_validate)

    r = sub.add_parser("release", help="regenerate exercises/ (student stubs, notebooks stripped too) from "
                                       "solutions/; --notebooks DIR also writes one learner notebook per assignment")
    r.add_argument("--solutions", default="solutions")
    r.add_argument("--exercises", default="exercises")
    r.add_argument("--notebooks", metavar="DIR", help="also write DIR/<assignment>.ipynb: an introduction, one stub "
                                                      "cell and one check cell per exercise")
    r.add_argument("--course", help="course file, for --notebooks (default: $GRADER_COURSE, else course.yml "
                                    "nearby)")
    r.add_argument("--check", action="store_true", help="only report files that are out of date (exit 1); with "
                                                        "--notebooks, the notebooks too")
    r.set_defaults(func=cmd_release)

    nb = sub.add_parser("nbgrader", help="write an nbgrader course (nbgrader_config.py, source/<id>/<id>.ipynb) "
                                          "whose test cells grade with this grader")
    nb.add_argument("course_dir", metavar="COURSE_DIR", help="the nbgrader course folder to write into")
    nb.add_argument("--course", help="course file (default: $GRADER_COURSE, else course.yml here or above)")
    nb.add_argument("--assignments", metavar="A1,A2", help="only these assignments (default: all)")
    nb.add_argument("--solutions", metavar="DIR", help="solutions folder (default: solutions/ beside the course file)")
    nb.set_defaults(func=cmd_nbgrader)

    k = sub.add_parser("case", help="save a public case (inputs, upstream gradients, expected values) "
                                    "to a .npz file, to rerun it in a REPL")
    k.add_argument("exercise", help="exercise id or title")
    k.add_argument("index", type=int, help="case number, as reports name it (case 0, case 1, ...)")
    k.add_argument("--save", required=True, metavar="FILE", help="the .npz file to write")
    k.add_argument("--course", help="course file (default: $GRADER_COURSE, else course.yml nearby)")
    k.add_argument("--seed", type=int, help=argparse.SUPPRESS)  # only to refuse it: public cases only
    k.add_argument("--seed-fd", type=int, help=argparse.SUPPRESS)
    k.set_defaults(func=cmd_case)

    rep = sub.add_parser("report", help="rebuild a report from results JSON (terminal, --html, --plots), "
                                        "or a class dashboard (--class DIR --html FILE)")
    rep.add_argument("results", nargs="?")
    rep.add_argument("--html", metavar="FILE")
    rep.add_argument("--plots", metavar="DIR")
    rep.add_argument("--class", dest="klass", metavar="RESULTS_DIR", help="a folder of results JSON files")
    rep.set_defaults(func=cmd_report)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run one command; from the real command line, first re-exec with the seed out of argv and environ."""
    if argv is None:
        _hide_seed()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy: small matrices; a pool cost 11% CPU
    from .sandbox.runner import make_private

    make_private()  # not dumpable: our environ and memory (the seed) unreadable to same-user processes
    args = build_parser().parse_args(argv)
    if getattr(args, "device", "cpu") not in ("cpu", "cuda") and not str(args.device).startswith("cuda:"):
        print(f"grader: error: --device must be cpu or cuda, got {args.device!r}", file=sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except GraderError as e:
        print(f"grader: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
