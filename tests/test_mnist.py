"""MNIST's IDX files read from a local folder (grader.data.idx), tested on small synthetic files written
here: the format's checks (magic bytes, rank, sizes) and the split the capstone trains on."""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from grader.data.idx import FILES, IdxError, mnist, read_idx


def idx_bytes(array: np.ndarray, type_byte: int = 0x08) -> bytes:
    return bytes([0, 0, type_byte, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def write_mnist(folder: Path, n_train: int = 300, n_test: int = 100, gz: bool = False) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    arrays = {"train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              "train_labels": rng.integers(0, 10, n_train, dtype=np.uint8),
              "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              "test_labels": rng.integers(0, 10, n_test, dtype=np.uint8)}
    folder.mkdir(parents=True, exist_ok=True)
    for key, array in arrays.items():
        data = idx_bytes(array)
        if gz:
            (folder / f"{FILES[key]}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / FILES[key]).write_bytes(data)
    return arrays


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzipped"])
def test_a_folder_of_idx_files_gives_the_split(tmp_path: Path, gz: bool) -> None:
    arrays = write_mnist(tmp_path / "mnist", gz=gz)
    X_train, y_train, X_test, y_test = mnist(tmp_path / "mnist")
    assert X_train.shape == (300, 784) and X_test.shape == (100, 784) and X_train.dtype == np.float64
    assert np.array_equal(X_train * 255, arrays["train_images"].reshape(300, 784))  # row-major, pixels / 255
    assert np.array_equal(y_test, arrays["test_labels"]) and y_test.dtype == np.int64
    assert 0 <= X_test.min() and X_test.max() <= 1


def test_a_truncated_file_is_named(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    path = tmp_path / FILES["train_images"]
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(IdxError, match=r"train-images-idx3-ubyte: truncated: the header gives shape \(300, 28, 28\)"):
        mnist(tmp_path)


@pytest.mark.parametrize("change, problem", [
    (lambda b: b"\x01" + b[1:], "not an IDX file"),
    (lambda b: b[:2] + b"\x0d" + b[3:], "IDX data type 0x0d, expected 0x08"),
    (lambda b: b + b"\x00", "longer than its header says"),
    (lambda b: b[:6], "truncated in its header"),
])
def test_a_malformed_file_is_refused(tmp_path: Path, change, problem: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "f"
    path.write_bytes(change(idx_bytes(np.zeros((3, 28, 28), dtype=np.uint8))))
    with pytest.raises(IdxError, match=problem) as caught:
        read_idx(path, 3)
    assert str(path) in str(caught.value)


def test_files_swapped_or_missing_or_disagreeing(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    images, labels = tmp_path / FILES["test_images"], tmp_path / FILES["test_labels"]
    saved = labels.read_bytes()
    labels.write_bytes(images.read_bytes())  # an images file where the labels should be
    with pytest.raises(IdxError, match=r"t10k-labels-idx1-ubyte: an IDX file of rank 3, expected labels"):
        mnist(tmp_path)
    labels.write_bytes(idx_bytes(np.zeros(99, dtype=np.uint8)))
    with pytest.raises(IdxError, match=r"99 labels for the 100 images of t10k-images-idx3-ubyte"):
        mnist(tmp_path)
    labels.write_bytes(saved)
    (tmp_path / FILES["train_labels"]).unlink()
    with pytest.raises(IdxError, match="no train-labels-idx1-ubyte .*never downloaded"):
        mnist(tmp_path)
    gz = tmp_path / "gz"
    write_mnist(gz, gz=True)
    broken = gz / f"{FILES['train_images']}.gz"
    broken.write_bytes(broken.read_bytes()[:200])
    with pytest.raises(IdxError, match=r"train-images-idx3-ubyte\.gz: cannot be read"):
        mnist(gz)
