"""Run a command on a machine where unshare(2) is refused, as some container runtimes do: the
grader's child can then reach tier A only. ``python tests/tiers/refuse_unshare.py CMD ARGS...``."""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "_confinement", Path(__file__).resolve().parents[2] / "grader" / "sandbox" / "confinement.py")
confinement = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(confinement)  # type: ignore[union-attr]

if __name__ == "__main__":
    confinement.refuse(("unshare",))
    os.execvp(sys.argv[1], sys.argv[1:])
