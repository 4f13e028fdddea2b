"""One function per command: the parsed options in, the Python API (grader.api) called, the outcome
printed; the exit code out (0 passed or done, 1 some check failed; errors raise GraderError, which
cli.main turns into exit 2)."""
from __future__ import annotations

import argparse
from pathlib import Path

from . import api
from .model.errors import GraderError
from .seeds import seed_of


def cmd_check(args: argparse.Namespace) -> int:
    from .backs.progress import progress_for
    from .engine import lastrun
    from .engine.grading import Options, default_lanes

    submission = Path(args.submission)
    course = api.with_data(api.load(api.find_course(args.course, submission)), args.data)
    seed = seed_of(args)
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
    progress = progress_for(args.quiet)  # on a terminal only: piped output stays clean
    options = Options(seed=seed, device=args.device, exercises=exercises,
                      use_cache=not args.no_cache, lanes=max(1, args.jobs) if args.jobs else default_lanes(),
                      on_references=progress.references if progress else None,
                      on_reference_done=progress.reference_done if progress else None,
                      all_figures=args.all_figures, full_results=args.full_results)
    targets = {name: Path(p) for name, p in (("json", args.json), ("html", args.html), ("plots", args.plots)) if p}

    def run(options: Options) -> bool:
        try:
            result = api.check(course, submission, options, targets, Path(args.gradescope) if args.gradescope else None,
                               progress.figure if progress else None)
        finally:
            if progress:
                progress.close()
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


def graded_label(student: str, points: float, max_points: float, error: str) -> str:
    """The batch progress bar's label for the student just graded, points rounded for people."""
    from .backs.terminal import points as people

    return f"{student}: {people(points)}/{people(max_points)}" + (" (error)" if error else "")


def cmd_grade(args: argparse.Namespace) -> int:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeRemainingColumn,
    )

    from .executors.batch import BatchOptions, scan_submissions

    folder = Path(args.submissions)
    if args.data and args.dask:
        raise GraderError("--data is not available with --dask (the workers would need the data set's folder)")
    course = api.with_data(api.load(api.find_course(args.course, folder)), args.data)
    options = BatchOptions(seed=seed_of(args), device=args.device, jobs=max(1, args.jobs), force=args.force,
                           gradescope=args.format == "gradescope", executor="dask" if args.dask else "local",
                           address=args.dask or "", roster=api.roster(args.roster), full_results=args.full_results,
                           data=tuple((name, str(folder)) for name, folder in api.data_sets(args.data).items()))
    total = len(scan_submissions(folder)[0])
    columns = (TextColumn("[bold]{task.fields[step]}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
               TextColumn("{task.description}"))
    with Progress(*columns, disable=args.quiet) as progress:
        task = progress.add_task("", total=total, step="grading")
        refs: list[TaskID] = []

        def references(ids: list[str]) -> None:
            n = len(ids)
            refs.append(progress.add_task(f"once for this course and seed: {n} exercise{'s' if n != 1 else ''}",
                                          total=n, step="computing references"))

        options.on_references = references
        options.on_reference_done = lambda ex_id: progress.update(refs[-1], advance=1, refresh=True)

        def done(student: str, points: float, max_points: float, error: str) -> None:
            progress.update(task, advance=1, description=graded_label(student, points, max_points, error))

        summary = api.grade_class(course, folder, Path(args.out), options, done)
        progress.update(task, completed=total)
    if not args.quiet:
        print(f"graded {len(summary.graded)}, skipped {len(summary.skipped)} already graded, "
              f"{len(summary.errors)} could not be graded; {summary.seconds:.1f} s; "
              f"gradebook: {Path(args.out) / 'gradebook.csv'}")
        for title, entries in (("could not be graded", list(summary.reasons.items())), ("not graded", summary.not_graded)):
            if entries:
                print(f"{title} ({len(entries)}):", *(f"  {name}: {reason}" for name, reason in entries), sep="\n")
    return 0


def cmd_gradescope_bundle(args: argparse.Namespace) -> int:
    print(f"wrote {api.bundle(Path(args.course), Path(args.out), seed_of(args), not args.no_references)}")
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


def cmd_new(args: argparse.Namespace) -> int:
    from .authoring.scaffold import new_exercise

    course = Path(args.course) / "course.yml" if args.course and Path(args.course).is_dir() else \
        api.find_course(args.course, Path.cwd())
    print("\n".join(new_exercise(course, args.kind, args.name, args.module, args.assignment)))
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


def cmd_init(args: argparse.Namespace) -> int:
    from .release.homework import init_homework

    folder = Path(args.folder)
    course = api.load(api.find_course(args.course, folder))
    for path in init_homework(course, folder, args.assignment, args.notebooks):
        print(f"wrote {path}")
    print(f"next: read {folder / 'README.txt'}, then `grader check {folder}`")
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
    for line in api.case(course, args.exercise, args.index, Path(args.save), seed_of(args)):
        print(line)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from . import backs
    from .backs.progress import progress_for
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
    progress = progress_for(False)
    try:
        backs.write(result, targets, on_figure=progress.figure if progress else None)
    finally:
        if progress:
            progress.close()
    if not targets:
        render(result)
    return 0 if result.passed else 1
