"""Build a Gradescope autograder zip: setup.sh installs the grader, run_autograder grades the upload.

The zip holds the grader's source, the course file and, when a secret seed is given, that seed in a
folder the sandbox masks (GRADER_HIDE). Student code never sees the seed: the child's environment is
cleared and the folder is hidden where the OS allows it (Gradescope runs as root: tier C).
"""
from __future__ import annotations

import zipfile
from pathlib import Path

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once when the autograder image is built.
set -euo pipefail
pip3 install "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu
pip3 install /autograder/source/grader_src
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for each submission; results go to /autograder/results/results.json.
set -u
cd /autograder/source
export GRADER_COURSE=/autograder/source/course/course.yml GRADER_HIDE=/autograder/source/secret
if [ -f secret/seed ]; then export GRADER_SEED="$(cat secret/seed)"; fi
grader check /autograder/submission --gradescope /autograder/results/results.json -q
exit 0  # a failing grade is still a successful autograder run
"""


def build_bundle(course: Path, out: Path, seed: int | None) -> Path:
    """Write the autograder zip and return its path."""
    from .course import load_course

    load_course(course)  # refuse to bundle a broken course
    package = Path(__file__).resolve().parent
    root = package.parent
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (("setup.sh", SETUP), ("run_autograder", RUN)):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o100755 << 16
            z.writestr(info, text)
        z.write(course, "course/course.yml")
        for extra in ("pyproject.toml", "README.md"):
            if (root / extra).exists():
                z.write(root / extra, f"grader_src/{extra}")
        for path in sorted(package.rglob("*.py")):
            z.write(path, f"grader_src/grader/{path.relative_to(package)}")
        if seed is not None:
            z.writestr("secret/seed", str(seed))
    return out
