"""Build a Gradescope autograder zip: setup.sh installs the grader, run_autograder grades the upload.

The zip holds the grader's source, the course file with the course's own torch twins beside it (masked
from learner code like every course's twins) and, when a secret seed is given, that seed in a folder the
sandbox masks (GRADER_HIDE). Student code never sees the seed: the child's environment is
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


def build_bundle(course: Path, out: Path, seed: int | None) -> Path:
    """Write the autograder zip and return its path."""
    from ..coursefile import load_course
    from ..references import course_sources

    load_course(course)  # refuse to bundle a broken course
    package = Path(__file__).resolve().parent.parent  # the whole grader package
    root = package.parent
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (("setup.sh", SETUP), ("run_autograder", RUN)):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o100755 << 16
            z.writestr(info, text)
        z.writestr("course/course.yml", _without_hide(course.read_text()))
        for path in course_sources(course):  # the course's own twins (references.py, references/)
            z.write(path, f"course/{path.relative_to(course.resolve().parent)}")
        for extra in ("pyproject.toml", "README.md"):
            if (root / extra).exists():
                z.write(root / extra, f"grader_src/{extra}")
        for path in sorted(package.rglob("*.py")):
            z.write(path, f"grader_src/grader/{path.relative_to(package)}")
        if seed is not None:
            z.writestr("secret/seed", str(seed))
    return out
