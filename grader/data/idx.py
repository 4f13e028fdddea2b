"""MNIST from a local folder of IDX files (``--data mnist=DIR``): read, never downloaded.

The IDX format (LeCun's): a big-endian header, two zero bytes, a type byte (0x08: unsigned bytes), the
number of dimensions, one 4-byte size per dimension, then the data. A file that is truncated, padded or
of another kind (an images file given for labels) is refused with an error naming the file, not read
into arrays of the wrong shape. Both the plain and the gzipped files (``.gz``) are accepted.
"""
from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..model.errors import GraderError

FILES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
         "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}
UNSIGNED_BYTE = 0x08
MAX_BYTES = 200 << 20
"""Larger than MNIST's training images (47 MB) with room; a bigger file is not MNIST."""


class IdxError(GraderError):
    """An IDX file that cannot be MNIST's: missing, truncated, padded, or of another kind."""


def read_idx(path: Path, dims: int) -> np.ndarray:
    """The array of one IDX file of unsigned bytes with ``dims`` dimensions (3: images, 1: labels).

    Raises:
        IdxError: the file is missing, not IDX, not unsigned bytes, of another rank, or its size does not
            match its header; the message names the file."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except (OSError, EOFError) as e:  # gzip's errors (BadGzipFile, a truncated stream) are OSError/EOFError
        raise IdxError(f"{path}: cannot be read ({e})") from None
    if len(raw) > MAX_BYTES:
        raise IdxError(f"{path}: larger than {MAX_BYTES >> 20} MB, not an MNIST file")
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise IdxError(f"{path}: not an IDX file (it must start with two zero bytes, a type and a rank)")
    if raw[2] != UNSIGNED_BYTE:
        raise IdxError(f"{path}: IDX data type 0x{raw[2]:02x}, expected 0x08 (unsigned bytes)")
    if raw[3] != dims:
        kind = {3: "images (idx3)", 1: "labels (idx1)"}.get(dims, f"idx{dims}")
        raise IdxError(f"{path}: an IDX file of rank {raw[3]}, expected {kind}: is it the right file?")
    head = 4 + 4 * dims
    if len(raw) < head:
        raise IdxError(f"{path}: truncated in its header ({len(raw)} bytes)")
    shape = tuple(int(v) for v in np.frombuffer(raw, dtype=">u4", count=dims, offset=4))
    expected = head + int(np.prod(shape, dtype=np.int64))
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "longer than its header says"
        raise IdxError(f"{path}: {what}: the header gives shape {shape}, {expected} bytes in all, the file has "
                       f"{len(raw)}")
    return np.frombuffer(raw, dtype=np.uint8, offset=head).reshape(shape)


def _find(folder: Path, name: str) -> Path:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise IdxError(f"{folder}: no {name} (nor {name}.gz): MNIST's four IDX files are read from this folder, "
                   "never downloaded")


def mnist(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST's split from a folder: X_train (N, 784) and X_test (M, 784) as float32 in [0, 1] (bytes / 255:
    half the bytes of float64 to send to the child, exact in float64 for the twin), y_train (N,) and
    y_test (M,) as int64 labels 0..9. Fresh arrays at every call; the files are read once per folder.

    Raises:
        IdxError: a file is missing or malformed, images and labels disagree in number, the images are not
            28x28, or a label is not a digit; the message names the file."""
    images_train, y_train, images_test, y_test = _read(str(Path(folder).resolve()))
    scale = np.float32(255.0)
    return (images_train.reshape(len(images_train), -1).astype(np.float32) / scale, y_train.astype(np.int64),
            images_test.reshape(len(images_test), -1).astype(np.float32) / scale, y_test.astype(np.int64))


@lru_cache(maxsize=2)
def _read(where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    folder = Path(where)
    if not folder.is_dir():
        raise IdxError(f"{folder}: not a folder (--data mnist=DIR names the folder of MNIST's IDX files)")
    out = []
    for split in ("train", "test"):
        images_path, labels_path = _find(folder, FILES[f"{split}_images"]), _find(folder, FILES[f"{split}_labels"])
        images, labels = read_idx(images_path, 3), read_idx(labels_path, 1)
        if images.shape[1:] != (28, 28):
            raise IdxError(f"{images_path}: images of {images.shape[1]}x{images.shape[2]} pixels, MNIST's are 28x28")
        if len(labels) != len(images):
            raise IdxError(f"{labels_path}: {len(labels)} labels for the {len(images)} images of {images_path.name}")
        if len(labels) and labels.max() > 9:
            raise IdxError(f"{labels_path}: a label {int(labels.max())}, MNIST's are digits 0..9")
        out += [images, labels]
    return out[0], out[1], out[2], out[3]
