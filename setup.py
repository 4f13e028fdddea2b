"""Build hook: the wheel carries the learner kit (course.yml and the stubs of exercises/, under
grader/bundled/), copied at build time so that course.yml at the repository root stays the one file
instructors edit; solutions/ is never copied (grader/release/kit.py says what the kit holds).
Everything else about the package is in pyproject.toml."""
import importlib.util
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def _kit():
    spec = importlib.util.spec_from_file_location("_grader_kit", ROOT / "grader" / "release" / "kit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildWithKit(build_py):
    """build_py, then the kit into the build's grader/bundled/ (not in an editable install, which finds
    the course beside the package)."""

    def run(self):
        super().run()
        if not getattr(self, "editable_mode", False):
            kit = _kit()
            kit.write_kit(ROOT, Path(self.build_lib) / "grader" / kit.KIT_DIR)


setup(cmdclass={"build_py": BuildWithKit})
