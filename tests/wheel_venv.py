"""The grader as a learner or an outside instructor has it: a wheel built from this repository, installed
(not editable) into a fresh venv, run from a folder outside the repository with no repository on the path.

tests/conftest.py offers it as the session fixture ``wheel_venv``. The venv sees the base environment's
packages (``--system-site-packages``: numpy and torch, not installed again), so :meth:`WheelVenv.where`
checks that ``import grader`` there finds the wheel's copy, not the base environment's editable install.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_NOT_SOURCES = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
                                      ".hypothesis", ".venv", ".whl", ".gl", "*.pyc")


def build_wheel(out: Path, scratch: Path) -> Path:
    """Build the wheel from a copy of the repository's sources (solutions/ included, so that leaving them
    out is the build's doing; the copy keeps a stale build/ folder of the checkout out of the wheel)."""
    source = scratch / "source"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCES)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "--no-index", str(source), "-w", str(out)], check=True, capture_output=True, timeout=300)
    wheels = sorted(out.glob("nn_grader-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def build_sdist_then_wheel(out: Path, scratch: Path) -> tuple[Path, Path]:
    """The publishing path (what ``python -m build`` does): a source distribution from a copy of the
    repository, then a wheel built from the unpacked sdist alone."""
    import tarfile

    source = scratch / "source"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCES)
    subprocess.run([sys.executable, "-c", f"from setuptools import build_meta; build_meta.build_sdist({str(out)!r})"],
                   cwd=source, check=True, capture_output=True, timeout=300)
    (sdist,) = out.glob("nn_grader-*.tar.gz")
    with tarfile.open(sdist) as t:
        t.extractall(scratch / "unpacked", **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    (unpacked,) = (scratch / "unpacked").iterdir()
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
                    str(unpacked), "-w", str(out)], check=True, capture_output=True, timeout=300)
    (wheel,) = out.glob("nn_grader-*.whl")
    return sdist, wheel


def members(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as z:
        return z.namelist()


@dataclass(frozen=True)
class WheelVenv:
    wheel: Path
    root: Path  # the venv

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    def env(self) -> dict[str, str]:
        """This process's environment (the test session's private reference cache, GRADER_HIDE) with no
        path that leads back to the repository or to another course."""
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "GRADER_COURSE", "VIRTUAL_ENV")}
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        env["PYTHONNOUSERSITE"] = "1"
        return env

    def run(self, *args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run the venv's ``grader`` console script in ``cwd`` (keep it outside the repository)."""
        return subprocess.run([str(self.bin / "grader"), *args], cwd=cwd, env=self.env(), capture_output=True,
                              text=True, timeout=timeout)

    def where(self, cwd: Path) -> Path:
        """The file ``import grader`` loads in the venv; asserts it is the wheel's copy."""
        out = subprocess.run([str(self.bin / "python"), "-c", "import grader; print(grader.__file__)"], cwd=cwd,
                             env=self.env(), capture_output=True, text=True, timeout=120, check=True)
        path = Path(out.stdout.strip()).resolve()
        assert self.root.resolve() in path.parents and "site-packages" in path.parts, path
        return path


def make_venv(root: Path, wheel: Path) -> WheelVenv:
    """A fresh venv at ``root`` (no pip of its own: the base pip installs into it) holding the wheel;
    ``--ignore-installed``, or pip would take the base environment's nn-grader for this one."""
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(root)],
                   check=True, capture_output=True, timeout=300)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(root / "bin" / "python"), "install", "-q",
                    "--no-deps", "--no-index", "--ignore-installed", str(wheel)], check=True, capture_output=True, timeout=300)
    return WheelVenv(wheel, root)
