"""Reference values, computed once per course, seed, device and torch version, and cached on disk.

A warm cache means grading needs no torch import at all. The key is computed without importing torch
(the version comes from the installed package's metadata), and it hashes the seed, so a file name
never reveals a secret seed. The cache folder is private to the user (0700) and is masked from the
sandboxed child like the solutions folder.
"""
from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Callable

import numpy as np

from .. import references
from ..kinds import inputs

Key = tuple[str, str, int, str]
"""(exercise id, purpose, case index, quantity)."""


def cache_dir() -> Path:
    """``$GRADER_CACHE``, else ``$XDG_CACHE_HOME/nn-grader``, else ``~/.cache/nn-grader``."""
    if os.environ.get("GRADER_CACHE"):
        return Path(os.environ["GRADER_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "nn-grader"


def torch_version() -> str:
    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return "none"


def cache_key(course_digest: str, seed: int, device: str) -> str:
    h = hashlib.sha256()
    for part in (course_digest, str(seed), device, torch_version()):
        h.update(part.encode() + b"\0")
    # the twins' code and how inputs are drawn from the seed (a new derivation must not meet old values)
    for path in [*references.source_files(), inputs.__file__]:
        h.update(Path(path).read_bytes())
    return h.hexdigest()[:32]


class ReferenceStore:
    """Lazily loaded reference values of one course, seed and device, backed by one file.

    ``get`` serves from the file when present; on a miss, ``fill`` (given by the engine) computes every
    reference of the course with torch at once, and the store writes the file atomically for next time.
    """

    def __init__(self, course_digest: str, seed: int, device: str, fill: Callable[[], dict[Key, np.ndarray]],
                 directory: Path | None = None, use_disk: bool = True):
        self.directory = directory or cache_dir()
        self.path = self.directory / f"refs-{cache_key(course_digest, seed, device)}.bin"
        self.fill = fill
        self.use_disk = use_disk
        self.values: dict[Key, np.ndarray] | None = None
        self.computed = False
        self._by_case: dict[tuple[str, str, int], dict[str, np.ndarray]] | None = None

    def _load(self) -> dict[Key, np.ndarray] | None:
        if not (self.use_disk and self.path.exists()):
            return None
        try:
            return unpack_arrays(self.path.read_bytes())
        except (OSError, ValueError, KeyError, TypeError, struct.error):
            return None  # a truncated or foreign file: recompute

    def _save(self, values: dict[Key, np.ndarray]) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(pack_arrays(values))
            os.replace(tmp, self.path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def all(self) -> dict[Key, np.ndarray]:
        if self.values is None:
            self.values = self._load()
            if self.values is None:
                self.values = self.fill()
                self.computed = True
                if self.use_disk:
                    self._save(self.values)
        return self.values

    def prepare(self) -> None:
        """Load (or compute) every value and index them by case; after this, ``get`` only reads, so
        lanes grading side by side can share the store."""
        if self._by_case is None:
            by_case: dict[tuple[str, str, int], dict[str, np.ndarray]] = {}
            for (e, p, i, quantity), value in self.all().items():
                by_case.setdefault((e, p, i), {})[quantity] = value
            self._by_case = by_case

    def get(self, ex_id: str, purpose: str, index: int) -> dict[str, np.ndarray]:
        """The reference quantities (``out``, ``dx``, ``dW``...) of one case."""
        self.prepare()
        assert self._by_case is not None
        return dict(self._by_case.get((ex_id, purpose, index), {}))


_MAGIC = b"nn-grader refs 1\n"
_LEN = struct.Struct("<Q")


def pack_arrays(values: dict[Key, np.ndarray]) -> bytes:
    """One file: a JSON index (key, dtype, shape, offset) and the arrays' raw bytes.

    Loading it is one read and a slice per array: ``np.load`` of an ``.npz`` parsed each array's
    header with ``ast.literal_eval`` (~0.1 s for a course's 1,300 arrays, on every warm run).
    """
    index, chunks, offset = [], [], 0
    for key, value in values.items():
        a = np.asarray(value)  # (np.ascontiguousarray would make 0-d arrays 1-d; tobytes is C order)
        if a.dtype.hasobject:
            raise TypeError(f"reference {key} has dtype {a.dtype}")
        index.append([list(key), a.dtype.str, list(a.shape), offset])
        chunks.append(a.tobytes())
        offset += len(chunks[-1])
    head = json.dumps(index).encode()
    return b"".join([_MAGIC, _LEN.pack(len(head)), head, *chunks])


def unpack_arrays(data: bytes) -> dict[Key, np.ndarray]:
    """Inverse of :func:`pack_arrays`; each array is a writable copy."""
    if not data.startswith(_MAGIC):
        raise ValueError("not a reference file")
    start = len(_MAGIC) + _LEN.size
    (n,) = _LEN.unpack_from(data, len(_MAGIC))
    body = bytearray(data[start + n:])
    out: dict[Key, np.ndarray] = {}
    for (ex_id, purpose, index, quantity), dtype, shape, offset in json.loads(data[start:start + n]):
        dt = np.dtype(dtype)
        count = int(np.prod(shape, dtype=np.int64))
        if offset + count * dt.itemsize > len(body):
            raise ValueError("reference file is truncated")
        out[(str(ex_id), str(purpose), int(index), str(quantity))] = (
            np.frombuffer(body, dtype=dt, count=count, offset=offset).reshape(shape))
    return out
