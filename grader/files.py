"""Writing files: whole or not at all (results, the gradebook, the reference cache), and shipped files
only under the folder they were sent to."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable


def write_atomically(path: Path, data: str | bytes, folder_mode: int = 0o777) -> None:
    """Write to a temporary file beside the target, then rename; the folder is made (with
    ``folder_mode``: 0o700 for a private cache) when missing, and no temporary file is left on failure."""
    path.parent.mkdir(mode=folder_mode, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_under(root: Path, members: list[tuple[str, bytes]], outside: Callable[[str], Exception]) -> None:
    """Write (relative path, bytes) pairs under ``root``; a path leading out of it raises ``outside(path)``
    (what was shipped to this process names its own paths)."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, data in members:
        target = (root / rel).resolve()
        if not target.is_relative_to(root.resolve()):
            raise outside(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
