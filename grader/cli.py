"""Command line: it parses options and calls one function of grader.commands per command.

Exit codes: 0 everything passed (or the command succeeded), 1 some check failed, 2 usage, course or
submission error (the message names the file, line or field).
"""
from __future__ import annotations

import argparse
import os
import sys

from .commands import (
    cmd_case,
    cmd_check,
    cmd_grade,
    cmd_gradescope_bundle,
    cmd_init,
    cmd_list,
    cmd_nbgrader,
    cmd_new,
    cmd_release,
    cmd_report,
    cmd_secret,
    cmd_validate,
)
from .model.errors import GraderError
from .seeds import hide_seed

DESCRIPTION = "Grade neural-network exercises written by hand in numpy against PyTorch references."
EPILOG = """\
learners:     grader init hw                   write the course's stubs into hw/
              grader check hw                  grade them (-e Affine: one exercise; --html report.html)
              grader check hw --failed         regrade what did not pass last time (--watch: on save)
instructors:  grader grade SUBMISSIONS/ --out RESULTS/ -j 2 --seed $SECRET  (grader secret)
              grader report --class RESULTS/ --html class.html
course authors: grader validate; grader new exercise --kind layer --name SiLU --module activations

exit codes: 0 all passed (or done), 1 some check failed, 2 usage, course or submission error.
`grader COMMAND --help` says more; the README has the rest."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="grader", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    from . import __version__

    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check", help="grade one submission and print a report")
    c.add_argument("submission", nargs="?", default=".", help="your work: a folder of .py modules, a .zip "
                   "of one, or a .ipynb notebook (default: the current folder)")
    c.add_argument("-e", "--exercise", action="append", help="grade only this exercise (id or title) or assignment (id); repeatable")
    c.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    c.add_argument("--seed", type=int, help="grading seed (default: $GRADER_SEED, else the course's public seed); "
                   "any value for a local test, but `grade` and `gradescope-bundle` need a strong secret one: "
                   "make it with `grader secret`")
    c.add_argument("--seed-fd", type=int, help=argparse.SUPPRESS)
    c.add_argument("--device", default="cpu", help="torch device for references: cpu or cuda")
    c.add_argument("--course", help="course file or folder (default: $GRADER_COURSE, else course.yml nearby)")
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
    c.add_argument("--full-results", action="store_true", help="with --json: every case's detail, passing "
                   "exercises too (by default they keep only their case names and scores)")
    c.add_argument("--data", action="append", metavar="NAME=DIR", help="a local data set: mnist=DIR (MNIST's IDX "
                   "files, never downloaded) trains the digits MLP as the course text's 784-64-64-64-10")
    c.add_argument("-j", "--jobs", type=int, help="sandboxed children grading exercises side by side "
                   "(default: 2 where there are 2 or more cores, else 1)")
    c.set_defaults(func=cmd_check)

    g = sub.add_parser("grade", help="grade a folder of submissions (folders, .zip, .ipynb) in parallel")
    g.add_argument("submissions", help="a folder holding one entry per student: a folder of .py modules, a .zip "
                   "or a .ipynb (the entry's name is the student's identifier)")
    g.add_argument("--out", required=True, metavar="RESULTS", help="folder for one JSON per student + gradebook.csv")
    g.add_argument("-j", "--jobs", type=int, default=1, help="parallel workers on this machine (default 1; with "
                   "--dask the cluster's workers set it)")
    g.add_argument("--seed", type=int, help="secret grading seed, at least 64 bits: make one with `grader secret` "
                   "(default: $GRADER_SEED, else the public seed)")
    g.add_argument("--seed-fd", type=int, help=argparse.SUPPRESS)
    g.add_argument("--device", default="cpu", help="torch device for references: cpu or cuda")
    g.add_argument("--course", help="course file or folder (default: $GRADER_COURSE, else course.yml nearby)")
    g.add_argument("--force", action="store_true", help="re-grade students already in RESULTS")
    g.add_argument("--roster", metavar="CSV", help="a CSV with a 'student' (or 'id') column and optional 'name' "
                   "and 'email': the gradebook gets those columns, and a row for each rostered student "
                   "without a submission")
    g.add_argument("--dask", metavar="ADDRESS", help="grade on a Dask cluster: a scheduler address "
                   "(tcp://host:8786) or local:N for N worker processes here; needs the dask extra "
                   "(docs/scaling.md)")
    g.add_argument("--format", choices=["json", "gradescope"], default="json",
                   help="gradescope: also write <student>.gradescope.json per Gradescope's spec")
    g.add_argument("--full-results", action="store_true", help="every case's detail in each JSON, passing "
                   "exercises too (by default they keep only their case names and scores)")
    g.add_argument("--data", action="append", metavar="NAME=DIR", help="a local data set for every submission: "
                   "mnist=DIR (MNIST's IDX files) trains the digits MLP on MNIST; not with --dask")
    g.add_argument("-q", "--quiet", action="store_true", help="no progress bar; only the summary")
    g.set_defaults(func=cmd_grade)

    ls = sub.add_parser("list", help="list the course's assignments and exercises (ids for -e)")
    ls.add_argument("--course", help="course file or folder (default: $GRADER_COURSE, else course.yml nearby)")
    ls.add_argument("--markdown", action="store_true", help="one table row per assignment (the README's course table)")
    ls.set_defaults(func=cmd_list)

    gb = sub.add_parser("gradescope-bundle", help="build a Gradescope autograder zip (setup.sh, run_autograder, "
                        "the references for its seeds)")
    gb.add_argument("--course", default="course.yml", help="course file to bundle")
    gb.add_argument("--out", default="autograder.zip", help="the zip to write")
    gb.add_argument("--seed", type=int, help="secret seed for hidden cases, at least 64 bits: make one with "
                    "`grader secret` (default: $GRADER_SEED; none: public only)")
    gb.add_argument("--seed-fd", type=int, help=argparse.SUPPRESS)
    gb.add_argument("--no-references", action="store_true", help="do not ship the references (setup.sh computes them)")
    gb.set_defaults(func=cmd_gradescope_bundle)

    sec = sub.add_parser("secret", help="print a fresh 128-bit secret seed (decimal) for --seed or $GRADER_SEED")
    sec.set_defaults(func=cmd_secret)

    v = sub.add_parser("validate", help="check a course file and its references")
    v.add_argument("course", nargs="?", default="course.yml", help="course file or folder (default: course.yml)")
    v.set_defaults(func=cmd_validate)

    from .authoring.scaffold import TEMPLATES

    new = sub.add_parser("new", help="scaffold a new exercise, valid as written")
    new = new.add_subparsers(dest="what", required=True, help="what to scaffold")
    what = ("append an exercise to course.yml (comments kept), its solution between markers, its torch twin "
            "(references.py) and a planted-bug test, each a placeholder marked TODO; the course validates after it")
    ne = new.add_parser("exercise", help=what, description=what)
    ne.add_argument("--kind", required=True, choices=list(TEMPLATES),
                    help="the exercise kind, which decides the templates: " + ", ".join(TEMPLATES))
    ne.add_argument("--name", required=True, help="the class or function name (SiLU)")
    ne.add_argument("--module", required=True, help="the module of solutions/ it goes in (activations)")
    ne.add_argument("--assignment", help="assignment id (default: the last; a new id adds an assignment)")
    ne.add_argument("--course", help="course folder or file (default: $GRADER_COURSE, else course.yml nearby)")
    ne.set_defaults(func=cmd_new)

    r = sub.add_parser("release", help="regenerate exercises/ (student stubs, notebooks stripped too) from "
                                       "solutions/; --notebooks DIR also writes one learner notebook per assignment")
    r.add_argument("--solutions", default="solutions", help="the solutions folder to release from (default: solutions)")
    r.add_argument("--exercises", default="exercises", help="the stubs folder to write (default: exercises)")
    r.add_argument("--notebooks", metavar="DIR", help="also write DIR/<assignment>.ipynb: an introduction, one stub "
                                                      "cell and one check cell per exercise")
    r.add_argument("--course", help="course file, for --notebooks (default: $GRADER_COURSE, else course.yml "
                                    "nearby)")
    r.add_argument("--check", action="store_true", help="only report files that are out of date (exit 1); with "
                                                        "--notebooks, the notebooks too")
    r.set_defaults(func=cmd_release)

    i = sub.add_parser("init", help="start a homework folder: the course's stubs and a README.txt on how to check them")
    i.add_argument("folder", help="the folder to write (new or empty; never overwritten)")
    i.add_argument("--assignment", action="append", metavar="ID", help="only this assignment (`grader list` "
                   "shows the ids; repeatable); default: all")
    i.add_argument("--notebooks", action="store_true", help="one notebook per assignment instead of .py modules")
    i.add_argument("--course", help="course file (default: $GRADER_COURSE, else course.yml nearby, else the "
                   "course installed with the grader)")
    i.set_defaults(func=cmd_init)

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
    k.add_argument("--course", help="course file or folder (default: $GRADER_COURSE, else course.yml nearby)")
    k.add_argument("--seed", type=int, help=argparse.SUPPRESS)  # only to refuse it: public cases only
    k.add_argument("--seed-fd", type=int, help=argparse.SUPPRESS)
    k.set_defaults(func=cmd_case)

    rep = sub.add_parser("report", help="rebuild a report from results JSON (terminal, --html, --plots), "
                                        "or a class dashboard (--class DIR --html FILE)")
    rep.add_argument("results", nargs="?", help="a results JSON file written by check --json or grade")
    rep.add_argument("--html", metavar="FILE", help="write the HTML report (or, with --class, the dashboard)")
    rep.add_argument("--plots", metavar="DIR", help="write the figures as PNG files")
    rep.add_argument("--class", dest="klass", metavar="RESULTS_DIR", help="a folder of results JSON files")
    rep.set_defaults(func=cmd_report)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run one command; from the real command line, first re-exec with the seed out of argv and environ."""
    if argv is None:
        hide_seed()
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
