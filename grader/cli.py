"""Command line: a thin layer over the Python API (``grader.engine``, ``grader.course``, ``grader.release``).

Exit codes: 0 everything passed (or the command succeeded), 1 some check failed, 2 usage, course or
submission error (the message names the file, line or field).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .errors import GraderError


def _find_course(explicit: str | None, near: Path) -> Path:
    """--course, else $GRADER_COURSE, else course.yml here or in a parent of the submission."""
    if explicit:
        return Path(explicit)
    if os.environ.get("GRADER_COURSE"):
        return Path(os.environ["GRADER_COURSE"])
    for folder in [Path.cwd(), *near.resolve().parents]:
        if (folder / "course.yml").exists():
            return folder / "course.yml"
    raise GraderError("no course.yml found here or above the submission; pass --course FILE")


def _seed(value: int | None) -> int | None:
    if value is not None:
        return value
    env = os.environ.get("GRADER_SEED")
    if env is None:
        return None
    try:
        return int(env)
    except ValueError:
        raise GraderError(f"GRADER_SEED must be an integer, got {env!r}") from None


def cmd_check(args: argparse.Namespace) -> int:
    from .course import load_course
    from .engine import Options, default_lanes, grade
    from .results import to_json

    submission = Path(args.submission)
    course = load_course(_find_course(args.course, submission))
    options = Options(seed=_seed(args.seed), device=args.device, exercises=args.exercise or [],
                      use_cache=not args.no_cache, plots=bool(args.html or args.plots),
                      lanes=max(1, args.jobs) if args.jobs else default_lanes())
    result = grade(course, submission, options)
    if args.gradescope:
        _gradescope(course, submission, options, result, Path(args.gradescope))
    if args.json:
        Path(args.json).write_text(to_json(result))
    _figures(result, args.html, args.plots)
    if not args.quiet:
        from .report.terminal import render

        render(result)
    return 0 if result.passed else 1


def _gradescope(course: object, submission: Path, options: object, result: object, out: Path) -> None:
    """results.json for Gradescope: the public grading visible, a secret-seed grading hidden until due."""
    import dataclasses
    import json

    from .engine import grade
    from .redact import redact
    from .report.gradebook import write_atomically
    from .report.gradescope import gradescope_results

    secret = options.seed is not None and options.seed != course.public_seed  # type: ignore[attr-defined]
    if secret:
        public = grade(course, submission, dataclasses.replace(options, seed=None))  # type: ignore[arg-type]
        redact(result, course)  # type: ignore[arg-type] # in place: the JSON, HTML and terminal made after it too
        data = gradescope_results(public, result)  # type: ignore[arg-type]
    else:
        data = gradescope_results(result)  # type: ignore[arg-type]
    write_atomically(out, json.dumps(data, indent=2))


def _figures(result: object, html: str | None, plots_dir: str | None) -> None:
    if html:
        from .report.html import render as render_html

        Path(html).write_text(render_html(result))  # type: ignore[arg-type]
    if plots_dir:
        from . import plots

        plots.write(result, Path(plots_dir))  # type: ignore[arg-type]


def cmd_grade(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from .batch import BatchOptions, find_submissions, grade_batch
    from .course import load_course

    folder = Path(args.submissions)
    course = load_course(_find_course(args.course, folder))
    options = BatchOptions(seed=_seed(args.seed), device=args.device, jobs=max(1, args.jobs), force=args.force,
                           gradescope=args.format == "gradescope")
    total = len(find_submissions(folder))
    columns = (TextColumn("[bold]grading"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
               TextColumn("{task.description}"))
    with Progress(*columns, disable=args.quiet) as progress:
        task = progress.add_task("", total=total)

        def done(student: str, points: float, max_points: float, error: str) -> None:
            progress.update(task, advance=1, description=f"{student}: {points:g}/{max_points:g}" + (" (error)" if error else ""))

        summary = grade_batch(course, folder, Path(args.out), options, done)
        progress.update(task, completed=total)
    if not args.quiet:
        print(f"graded {len(summary.graded)}, skipped {len(summary.skipped)} already graded, "
              f"{len(summary.errors)} could not be graded; {summary.seconds:.1f} s; "
              f"gradebook: {Path(args.out) / 'gradebook.csv'}")
    return 0


def cmd_gradescope_bundle(args: argparse.Namespace) -> int:
    from .gradescope_bundle import build_bundle

    path = build_bundle(Path(args.course), Path(args.out), _seed(args.seed))
    print(f"wrote {path}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from rich.console import Console

    from .course import load_course
    from .errors import CourseError
    from .references import load

    course = load_course(args.course)
    twins = load()
    for ex in course.exercises:
        if ex.reference is not None and ex.reference not in twins:
            raise CourseError(f"{course.path}: exercise {ex.id} ({ex.title}): no torch twin named "
                              f"{ex.reference!r}; known: {', '.join(sorted(twins))}")
    n_cases = sum(len(e.cases) for e in course.exercises)
    Console().print(f"{course.path}: valid — {len(course.assignments)} assignment(s), {len(course.exercises)} "
                    f"exercise(s), {n_cases} case(s), {sum(e.points for e in course.exercises):g} points")
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    from .release import diff_release, release

    solutions, exercises = Path(args.solutions), Path(args.exercises)
    if args.check:
        stale = diff_release(solutions, exercises)
        for path in stale:
            print(f"out of date: {exercises / path}")
        return 1 if stale else 0
    for path in release(solutions, exercises):
        print(f"wrote {path}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    import json

    from .report.terminal import render
    from .results import from_dict

    if args.klass:
        from .report.dashboard import write_dashboard

        if not args.html:
            raise GraderError("--class needs --html FILE (the dashboard is an HTML page)")
        write_dashboard(Path(args.klass), Path(args.html))
        return 0
    if not args.results:
        raise GraderError("give a results JSON file, or --class RESULTS_DIR")
    try:
        result = from_dict(json.loads(Path(args.results).read_text()))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise GraderError(f"{args.results}: not a results file this grader can read ({e})") from None
    _figures(result, args.html, args.plots)
    if not (args.html or args.plots):
        render(result)
    return 0 if result.passed else 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="grader", description=__doc__.splitlines()[0] if __doc__ else None)
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check", help="grade one submission and print a report")
    c.add_argument("submission", nargs="?", default=".", help="folder of .py modules (default: .)")
    c.add_argument("-e", "--exercise", action="append", help="grade only this exercise (id or title); repeatable")
    c.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    c.add_argument("--seed", type=int, help="grading seed (default: $GRADER_SEED, else the course's public seed)")
    c.add_argument("--device", default="cpu", help="torch device for references: cpu or cuda")
    c.add_argument("--course", help="course file (default: $GRADER_COURSE, else course.yml nearby)")
    c.add_argument("--no-cache", action="store_true", help="recompute references instead of using the cache")
    c.add_argument("-q", "--quiet", action="store_true", help="print nothing; use the exit code or --json")
    c.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report with figures")
    c.add_argument("--plots", metavar="DIR", help="also write the figures as PNG files")
    c.add_argument("--gradescope", metavar="FILE", help="also write Gradescope's results.json")
    c.add_argument("-j", "--jobs", type=int, help="sandboxed children grading exercises side by side "
                   "(default: 2 where there are 2 or more cores, else 1)")
    c.set_defaults(func=cmd_check)

    g = sub.add_parser("grade", help="grade a folder of submissions (folders, .zip, .ipynb) in parallel")
    g.add_argument("submissions")
    g.add_argument("--out", required=True, metavar="RESULTS", help="folder for one JSON per student + gradebook.csv")
    g.add_argument("-j", "--jobs", type=int, default=1, help="parallel workers (default 1)")
    g.add_argument("--seed", type=int, help="grading seed (default: $GRADER_SEED, else the public seed)")
    g.add_argument("--device", default="cpu")
    g.add_argument("--course", help="course file (default: $GRADER_COURSE, else course.yml nearby)")
    g.add_argument("--force", action="store_true", help="re-grade students already in RESULTS")
    g.add_argument("--format", choices=["json", "gradescope"], default="json",
                   help="gradescope: also write <student>.gradescope.json per Gradescope's spec")
    g.add_argument("-q", "--quiet", action="store_true")
    g.set_defaults(func=cmd_grade)

    gb = sub.add_parser("gradescope-bundle", help="build a Gradescope autograder zip (setup.sh, run_autograder)")
    gb.add_argument("--course", default="course.yml")
    gb.add_argument("--out", default="autograder.zip")
    gb.add_argument("--seed", type=int, help="secret seed for hidden cases (default: $GRADER_SEED; none: public only)")
    gb.set_defaults(func=cmd_gradescope_bundle)

    v = sub.add_parser("validate", help="check a course file and its references")
    v.add_argument("course", nargs="?", default="course.yml")
    v.set_defaults(func=cmd_validate)

    r = sub.add_parser("release", help="regenerate exercises/ (student stubs) from solutions/")
    r.add_argument("--solutions", default="solutions")
    r.add_argument("--exercises", default="exercises")
    r.add_argument("--check", action="store_true", help="only report files that are out of date (exit 1)")
    r.set_defaults(func=cmd_release)

    rep = sub.add_parser("report", help="rebuild a report from results JSON (terminal, --html, --plots), "
                                        "or a class dashboard (--class DIR --html FILE)")
    rep.add_argument("results", nargs="?")
    rep.add_argument("--html", metavar="FILE")
    rep.add_argument("--plots", metavar="DIR")
    rep.add_argument("--class", dest="klass", metavar="RESULTS_DIR", help="a folder of results JSON files")
    rep.set_defaults(func=cmd_report)
    return p


def main(argv: list[str] | None = None) -> int:
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
