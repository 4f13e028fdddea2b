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
import threading
import time
from importlib import metadata
from pathlib import Path
from typing import Callable, Iterator, Protocol, Sequence

import numpy as np

from .. import references
from ..files import write_atomically
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


def cache_key(course_digest: str, seed: int, device: str, course_root: Path | None = None) -> str:
    """The reference file's key; ``course_root``: the course folder, whose own twins count too."""
    h = hashlib.sha256()
    for part in (course_digest, str(seed), device, torch_version()):
        h.update(part.encode() + b"\0")
    # the twins' code (the course's own too) and how inputs are drawn from the seed (a new derivation
    # must not meet old values)
    for path in [*references.source_files(course_root), inputs.__file__]:
        h.update(Path(path).read_bytes())
    return h.hexdigest()[:32]


DONE = "-computed"

STREAM_FROM = 4
"""Fewer missing exercises are computed in a thread: a worker process's start would cost more than
it overlaps (``-e Affine``)."""


class Streamed(Protocol):
    """Exercises' references handed over as each is done, by a process that can be stopped."""

    def __iter__(self) -> Iterator[tuple[str, dict[Key, np.ndarray]]]: ...

    def kill(self) -> None: ...
"""Purpose of the marker key ``(exercise id, DONE, 0, "")`` kept in the file for each exercise whose
references are there (an exercise may have none: the marker still says it was computed)."""


class ReferenceStore:
    """Lazily loaded reference values of one course, seed and device, backed by one file.

    Only what is asked for is computed: ``prepare(ids)`` loads the file, and on a miss ``fill(ids)``
    (given by the engine) computes the missing exercises' references with torch at once; the store
    merges them into the file (atomically, with what another process may have added meanwhile). So
    ``grader check -e Affine`` on a cold cache computes one exercise, not the course.
    """

    def __init__(self, course_digest: str, seed: int, device: str,
                 fill: Callable[[list[str]], dict[Key, np.ndarray]], exercise_ids: Sequence[str] = (),
                 directory: Path | None = None, use_disk: bool = True,
                 on_compute: Callable[[list[str]], None] | None = None, course_root: Path | None = None,
                 stream: Callable[[list[str]], Streamed] | None = None):
        self.directory = directory or cache_dir()
        self.path = self.directory / f"refs-{cache_key(course_digest, seed, device, course_root)}.bin"
        self.fill = fill
        self.exercise_ids = list(exercise_ids)
        self.use_disk = use_disk
        self.on_compute = on_compute
        """Told the exercises about to be computed (a progress line: torch takes seconds)."""
        self.values: dict[Key, np.ndarray] = {}
        self.done: set[str] = set()
        self.computed = False
        self._loaded = False
        self._lock = threading.Lock()
        self._by_case: dict[tuple[str, str, int], dict[str, np.ndarray]] = {}
        self._behind: threading.Thread | None = None
        self.waited_s = 0.0
        """Time ``get`` spent waiting for references not yet computed (summed over the lanes)."""
        self._stop = threading.Event()
        self.stream = stream
        """Computes exercises in another process, handing each one's values as it is done
        (engine/refworker.py); without it, the background computes in a thread of this process."""
        self._arrived = threading.Condition(self._lock)
        self._streamed: Streamed | None = None

    def _load(self) -> dict[Key, np.ndarray]:
        if not (self.use_disk and self.path.exists()):
            return {}
        try:
            return unpack_arrays(self.path.read_bytes())
        except (OSError, ValueError, KeyError, TypeError, struct.error):
            return {}  # a truncated or foreign file: recompute

    def _take(self, values: dict[Key, np.ndarray]) -> None:
        for key, value in values.items():
            if key[1] == DONE:
                self.done.add(key[0])
            else:
                self.values[key] = value
                self._by_case.setdefault(key[:3], {})[key[3]] = value

    def _save(self) -> None:
        self._take({k: v for k, v in self._load().items() if k[0] not in self.done})  # another process's
        markers = {(ex_id, DONE, 0, ""): np.zeros(0, np.uint8) for ex_id in self.done}
        write_atomically(self.path, pack_arrays({**self.values, **markers}), folder_mode=0o700)

    def _missing(self, wanted: Sequence[str]) -> list[str]:
        if not self._loaded:
            self._take(self._load())
            self._loaded = True
        return [i for i in dict.fromkeys(wanted) if i not in self.done]

    def _fill(self, missing: list[str]) -> None:
        self._take(self.fill(missing))
        self.done.update(missing)
        self.computed = True

    def prepare(self, ids: Sequence[str] | None = None) -> None:
        """Load, or compute, the references of these exercises (all of the course's by default); after
        this, ``get`` of them only reads, so lanes grading side by side can share the store."""
        wanted = list(self.exercise_ids if ids is None else ids)
        with self._lock:
            missing = self._missing(wanted)
            if not missing:
                return
            if self.on_compute is not None and self._behind is None:
                self.on_compute(missing)
            self._fill(missing)
            if self.use_disk and self._behind is None:  # else saved once, when the background is done
                self._save()

    def prepare_behind(self, ids: Sequence[str]) -> None:
        """Load the file now; compute the missing exercises in a background thread, one at a time in the
        order given, while the lanes grade: ``get`` of an exercise waits for its own references only
        (or computes them itself, should it come first). A cold whole-course check so overlaps torch
        with the learner's calls instead of running one after the other. :meth:`finish` saves."""
        with self._lock:
            missing = self._missing(ids)
            if not missing:
                return
            if self.on_compute is not None:
                self.on_compute(missing)
            if self.stream is not None and len(missing) >= STREAM_FROM:
                try:
                    self._streamed = self.stream(missing)
                except OSError:  # no process to be had: a thread, as below
                    self._streamed = None
            work = self._receive if self._streamed is not None else self._compute_behind
            self._behind = threading.Thread(target=work, args=(missing,), daemon=True, name="references")
            self._behind.start()

    def _receive(self, missing: list[str]) -> None:
        """Take each exercise's values as the worker process hands them; when it stops (done, an error,
        killed), lanes still waiting compute theirs themselves (``get``)."""
        streamed = self._streamed
        try:
            for ex_id, values in streamed:  # type: ignore[union-attr]
                with self._arrived:
                    if ex_id not in self.done:
                        self._take(values)
                        self.done.add(ex_id)
                        self.computed = True
                    self._arrived.notify_all()
                if self._stop.is_set():
                    return
        finally:
            with self._arrived:
                self._streamed = None
                self._arrived.notify_all()

    def _compute_behind(self, missing: list[str]) -> None:
        for ex_id in missing:
            if self._stop.is_set():
                return
            with self._lock:
                if ex_id in self.done:
                    continue
                try:
                    self._fill([ex_id])
                except Exception:  # noqa: BLE001 - the lane that needs it computes it again and reports
                    return

    def finish(self) -> None:
        """Stop the background computation (if any is left: grading was interrupted) and save what it
        computed, in one write."""
        if self._behind is None:
            return
        self._stop.set()
        streamed = self._streamed
        if streamed is not None:
            streamed.kill()
        self._behind.join()
        with self._lock:
            self._behind = None
            if self.use_disk and self.computed:
                self._save()

    def all(self) -> dict[Key, np.ndarray]:
        """Every reference of the course (computing what is missing)."""
        self.prepare()
        return dict(self.values)

    def get(self, ex_id: str, purpose: str, index: int) -> dict[str, np.ndarray]:
        """The reference quantities (``out``, ``dx``, ``dW``...) of one case."""
        if ex_id not in self.done:
            t0 = time.perf_counter()
            with self._arrived:  # on its way from the worker process: wait for it, not compute it twice
                while self._streamed is not None and ex_id not in self.done:
                    self._arrived.wait()
            self.prepare([ex_id])
            self.waited_s += time.perf_counter() - t0
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
