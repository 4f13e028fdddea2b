"""The hostile suite in the two tiers a root test run does not reach by itself.

As root this suite grades in tier C. Here, when .ci/run has prepared an unprivileged user and a Python
that user can read (GRADER_TIER_USER, GRADER_TIER_PYTHON), the hostile test files run again as that user
(tier B: unprivileged user namespaces), and as that user with unshare(2) refused by a seccomp filter
(tier A: what is left in a container that forbids namespaces). Each run asserts its tier and that every
hostile case holds there; the whole run fails if any does not.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from .conftest import ROOT

HOSTILE = ["tests/test_confinement.py", "tests/test_hostile.py", "tests/test_hostile_batch.py",
           "tests/test_batch_failclosed.py", "tests/test_hidden_leaks.py", "tests/test_secret_seeds.py",
           "tests/test_parsers_total.py"]
"""Every row of the fail-closed catalogue: the sandbox's, the batch's, the seed's and the parsers'."""
USER = os.environ.get("GRADER_TIER_USER", "")
PYTHON = os.environ.get("GRADER_TIER_PYTHON", "")

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not USER or not PYTHON,
    reason="needs root and an unprivileged user with its own Python (GRADER_TIER_USER, GRADER_TIER_PYTHON; "
           ".ci/run prepares them)")


@pytest.fixture(scope="module")
def tree() -> Iterator[Path]:
    """A copy of the repository (tracked and new files) owned by the unprivileged user, outside pytest's
    own 0700 temporary folders."""
    import pwd

    dest = Path(tempfile.mkdtemp(prefix="grader-tiers-"))
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.splitlines()
    for rel in files:
        if (ROOT / rel).is_file():
            (dest / "repo" / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dest / "repo" / rel)
    (dest / "home").mkdir()
    user = pwd.getpwnam(USER)
    for path in [dest, *dest.rglob("*")]:
        os.chown(path, user.pw_uid, user.pw_gid)
    os.chmod(dest, 0o755)
    yield dest
    shutil.rmtree(dest, ignore_errors=True)


def run_as_user(tree: Path, *prefix: str) -> subprocess.CompletedProcess[str]:
    env = {"HOME": str(tree / "home"), "PATH": f"{Path(PYTHON).parent}:/usr/bin:/bin", "LANG": "C.UTF-8"}
    cmd = ["setpriv", f"--reuid={USER}", f"--regid={USER}", "--clear-groups", "env", "-i", *(f"{k}={v}" for k, v in env.items()),
           *prefix, PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", *HOSTILE]
    return subprocess.run(cmd, cwd=tree / "repo", capture_output=True, text=True, timeout=1200)


def _tier_seen(tree: Path, *prefix: str) -> str:
    code = ("from pathlib import Path; from grader.coursefile import load_course; from grader.engine.grading import Options, grade;"
            "c = load_course(Path('course.yml')); print(grade(c, Path('solutions'), Options(exercises=['1.1'])).isolation)")
    cmd = ["setpriv", f"--reuid={USER}", f"--regid={USER}", "--clear-groups", "env", "-i", f"HOME={tree / 'home'}",
           *prefix, PYTHON, "-c", code]
    out = subprocess.run(cmd, cwd=tree / "repo", capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.strip().splitlines()[-1]


def test_hostile_suite_in_tier_b(tree: Path) -> None:
    assert _tier_seen(tree) == "B"
    proc = run_as_user(tree)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]


def test_hostile_suite_in_tier_a(tree: Path) -> None:
    refuse = [PYTHON, str(tree / "repo" / "tests" / "tiers" / "refuse_unshare.py")]
    assert _tier_seen(tree, *refuse) == "A"
    proc = run_as_user(tree, *refuse)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
