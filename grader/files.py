"""Writing a file so that no reader ever sees half of it: results, the gradebook, the reference cache."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


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
