"""Build a Gradescope autograder zip: setup.sh installs the grader, run_autograder grades the upload.

The zip holds the grader's source, the course file with the course's own torch twins beside it (masked
from learner code like every course's twins), the references of the course computed for the
bundle's seeds (so a submission does not pay for torch), and, when a secret seed is given, that seed,
all of it but the course in ``secret/``, a folder the sandbox masks (GRADER_HIDE). Student code never
sees the seed nor the references: the child's environment is cleared and the folder is hidden where the
OS allows it (Gradescope runs as root: tier C).

Gradescope's base images are bare Ubuntu 22.04 or 24.04: setup.sh installs python3, venv and pip with
apt-get and installs the grader into a virtual environment (/autograder/venv), since 24.04's python
refuses a system-wide ``pip install`` (PEP 668, "externally managed environment").
"""
from __future__ import annotations

import sys
import tempfile
import zipfile
from pathlib import Path

from ..files import write_under
from ..model.errors import GraderError

TORCH = "torch==2.13.0"
"""The torch the references are computed with (the README's pin): the reference cache is keyed by the
torch version, so a bundle installed with another one computes its references again in setup.sh."""

VENV = "/autograder/venv"

SETUP = f"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (base: Ubuntu 22.04 or 24.04).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip
# a virtual environment: Ubuntu 24.04's python refuses `pip install` outside one (PEP 668)
python3 -m venv {VENV}
{VENV}/bin/python -m pip install --upgrade pip
{VENV}/bin/python -m pip install "{TORCH}" --index-url https://download.pytorch.org/whl/cpu
{VENV}/bin/python -m pip install /autograder/source/grader_src
# the references shipped in secret/references were computed with {TORCH}; this loads them (or, with
# another torch, computes them now, once, rather than for each submission)
cd /autograder/source
GRADER_CACHE=/autograder/source/secret/references {VENV}/bin/python -m grader.release.gradescope_bundle \\
    course/course.yml
"""

RUN = f"""#!/usr/bin/env bash
# Gradescope runs this for each submission; results go to /autograder/results/results.json.
# GRADER_AUTOGRADER_ROOT and GRADER_PYTHON exist for tests of this script in a simulated root.
set -u
ROOT="${{GRADER_AUTOGRADER_ROOT:-/autograder}}"
PY="${{GRADER_PYTHON:-{VENV}/bin/python}}"
RESULTS="$ROOT/results/results.json"
cd "$ROOT/source"
export GRADER_COURSE="$ROOT/source/course/course.yml" GRADER_HIDE="$ROOT/source/secret"
export GRADER_CACHE="$ROOT/source/secret/references"
if [ -f secret/seed ]; then export GRADER_SEED="$(cat secret/seed)"; fi
mkdir -p "$ROOT/results"
rm -f "$RESULTS"
"$PY" -m grader check "$ROOT/submission" --gradescope "$RESULTS" -q
if [ ! -s "$RESULTS" ]; then  # the grader itself failed: say so rather than leave Gradescope guessing
  printf '%s\\n' '{{"score": 0, "output": "The autograder failed before grading this submission; please tell your instructor.", "tests": []}}' > "$RESULTS"
fi
exit 0  # a failing grade is still a successful autograder run
"""


def _without_hide(text: str) -> str:
    """The course file with an empty ``hide:`` list: the bundle ships none of those folders (the loader
    refuses a hide path that does not exist), and the seed's folder is hidden by GRADER_HIDE. Line
    numbers stay as they were, so course errors still point at the instructor's lines."""
    import yaml

    root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    for key, value in root.value if isinstance(root, yaml.MappingNode) else []:
        if key.value == "hide":
            start, end = value.start_mark.index, value.end_mark.index
            return text[:start] + "[]" + "\n" * text[start:end].count("\n") + text[end:]
    return text


def compute_references(course_path: Path, seed: int | None, cache: Path) -> list[Path]:
    """The references of every exercise for the public seed and, when given, the secret one (a secret
    submission is graded on both: public tests are shown at once), in ``cache``. Returns the files."""
    from ..coursefile import load_course
    from ..engine.expected import reference_store

    course = load_course(course_path)
    seeds = [None] + ([seed] if course.is_secret(seed) else [])
    files = []
    for s in seeds:
        store = reference_store(course, course.seed_for(s), "cpu", directory=cache)
        store.prepare()
        files.append(store.path)
    return files


def build_bundle(course: Path, out: Path, seed: int | None, references: bool = True) -> Path:
    """Write the autograder zip and return its path; ``references=False`` leaves the references to be
    computed in setup.sh."""
    from ..coursefile import load_course
    from ..references import course_sources

    load_course(course)  # refuse to bundle a broken course
    package = Path(__file__).resolve().parent.parent  # the whole grader package
    root = package.parent
    shipped = _without_hide(course.read_text())
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z, tempfile.TemporaryDirectory() as tmp:
        for name, text in (("setup.sh", SETUP), ("run_autograder", RUN)):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o100755 << 16
            z.writestr(info, text)
        z.writestr("course/course.yml", shipped)
        twins = [(path, path.relative_to(course.resolve().parent)) for path in course_sources(course)]
        for path, rel in twins:  # the course's own twins (references.py, references/)
            z.write(path, f"course/{rel}")
        for extra in ("pyproject.toml", "README.md"):
            if (root / extra).exists():
                z.write(root / extra, f"grader_src/{extra}")
        for path in sorted(package.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                z.write(path, f"grader_src/grader/{path.relative_to(package)}")  # code and package data
        if seed is not None:
            z.writestr("secret/seed", str(seed))
        if references:
            # computed from the very course folder shipped (its digest, twins included, is part of the key)
            shipped_course = Path(tmp) / "course"
            write_under(shipped_course, [("course.yml", shipped.encode()),
                                         *((str(rel), path.read_bytes()) for path, rel in twins)],
                        lambda rel: GraderError(f"{rel}: a course twin outside the course folder"))
            for path in compute_references(shipped_course / "course.yml", seed, Path(tmp) / "references"):
                z.write(path, f"secret/references/{path.name}")
    return out


def main(argv: list[str]) -> int:
    """setup.sh: make sure the references for the bundle's seeds are in $GRADER_CACHE (loaded if the
    shipped ones match this torch, else computed once now)."""
    import os

    course = Path(argv[0])
    seed_file = course.parent.parent / "secret" / "seed"
    seed = int(seed_file.read_text()) if seed_file.exists() else None
    from ..engine.refstore import cache_dir

    for path in compute_references(course, seed, Path(os.environ.get("GRADER_CACHE") or cache_dir())):
        print(f"references ready: {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
