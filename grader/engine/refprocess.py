"""The parent's side of the reference worker (engine/refworker.py): start it, hand it the exercises,
take each one's references as it is done, stop it."""
from __future__ import annotations

import pickle
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ..model.course import Course

Key = tuple[str, str, int, str]

ERROR = "error"
"""The first item of the frame that ends a stream early: ``(ERROR, id, why)``."""


class ReferenceProcess:
    """One worker computing ``ids`` in order; iterate for ``(id, values)`` as each is done."""

    def __init__(self, course: Course, seed: int, device: str, ids: list[str],
                 on_exercise: Callable[[str], None] | None = None):
        self.on_exercise = on_exercise
        """Told each exercise's id as its references arrive (a progress bar)."""
        # this very grader (a checkout, a worktree or the installed package), whatever sys.path says there
        package_parent = str(Path(__file__).resolve().parents[2])
        boot = (f"import sys; sys.path.insert(0, {package_parent!r}); "
                "from grader.engine.refworker import main; sys.exit(main())")
        self._proc = subprocess.Popen([sys.executable, "-c", boot], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=None, close_fds=True)
        self._lock = threading.Lock()
        assert self._proc.stdin is not None
        try:
            pickle.dump((course, seed, device, ids), self._proc.stdin)
            self._proc.stdin.close()
        except OSError:
            self.kill()

    def __iter__(self) -> Iterator[tuple[str, dict[Key, np.ndarray]]]:
        assert self._proc.stdout is not None
        try:
            while True:
                try:
                    frame = pickle.load(self._proc.stdout)
                except (EOFError, OSError, pickle.UnpicklingError, ValueError):
                    return
                if frame[0] == ERROR:
                    return
                yield frame
                if self.on_exercise is not None:
                    self.on_exercise(frame[0])
        finally:
            self.kill()

    def kill(self) -> None:
        """Stop the worker (grading ended or was interrupted) and reap it."""
        with self._lock:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            if self._proc.stdout is not None:
                self._proc.stdout.close()
