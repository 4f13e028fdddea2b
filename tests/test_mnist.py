"""MNIST's IDX files read from a local folder (grader.data.idx), tested on small synthetic files written
here: the format's checks (magic bytes, rank, sizes) and the split the capstone trains on."""
from __future__ import annotations

import gzip
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from grader.coursefile import load_course
from grader.data.idx import FILES, IdxError, mnist, read_idx
from grader.kinds.networks import with_data
from grader.model.course import Course
from grader.model.errors import CourseError

from .conftest import SOLUTIONS, run_grade


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
    assert X_train.shape == (300, 784) and X_test.shape == (100, 784) and X_train.dtype == np.float32
    assert np.array_equal(np.round(X_train * 255), arrays["train_images"].reshape(300, 784))  # row-major, / 255
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


def learnable_mnist(folder: Path, n_train: int = 300, n_test: int = 100) -> None:
    """Small IDX files whose digit k lights up row band k of the 28x28 image (with noise): learnable in a
    few dozen steps, so the course text's MLP runs end to end in a second."""
    rng = np.random.default_rng(1)
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        for i, k in enumerate(labels):
            images[i, 2 * k + 4:2 * k + 6, 4:24] = 255
        arrays[f"{split}_images"], arrays[f"{split}_labels"] = images, labels
    folder.mkdir(parents=True, exist_ok=True)
    for key, array in arrays.items():
        (folder / FILES[key]).write_bytes(idx_bytes(array))


def test_mnist_trains_the_course_texts_mlp_against_its_twin(course: Course, tmp_path: Path) -> None:
    """--data mnist=DIR: the digits MLP becomes the course text's 784-64-64-64-10 (batch 15, 2 epochs, Adam
    1e-3) on the folder's images; the solution's run matches torch's step by step, and the accuracy message
    sets both beside the course text's reported figures."""
    learnable_mnist(tmp_path / "mnist")
    switched = with_data(course, {"mnist": tmp_path / "mnist"})
    ex = switched.exercise("7.5")
    assert ex.hyper["layers"][0] == ["Affine", 784, 64] and ex.hyper["data"] == "mnist" and ex.timeout_s == 600
    assert switched.exercise("7.6").hyper == course.exercise("7.6").hyper  # the CNN's 8x8 images stay
    assert switched.digest != course.digest  # MNIST's references never mix with the digits' in the cache
    (graded,) = run_grade(switched, SOLUTIONS, "7.5").exercises
    steps, accuracy = graded.checks[0].cases
    assert steps.passed and "all 40 steps match torch's" in steps.message, steps.message
    assert accuracy.details["yours"] == accuracy.details["torch"]
    assert "(the course text reports 0.9486, 0.9669 after epochs 1, 2; torch's here " in accuracy.message


def test_data_option_errors_are_clear(course: Course, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from grader.cli import main

    with pytest.raises(CourseError, match="unknown data set"):
        with_data(course, {"cifar": tmp_path})
    write_mnist(tmp_path / "m")
    (tmp_path / "m" / FILES["test_images"]).write_bytes(b"\x00\x00\x08\x03")
    assert main(["check", str(SOLUTIONS), "-e", "7.5", "--data", f"mnist={tmp_path / 'm'}"]) == 2
    assert "t10k-images-idx3-ubyte: truncated in its header" in capsys.readouterr().err


def test_grade_takes_data_to_every_submission(tmp_path: Path) -> None:
    """`grader grade --data mnist=DIR`: each worker grades the digits MLP on MNIST, as `check --data` does,
    and a rerun with the same data keeps the results (the data is part of the course digest)."""
    import json

    from grader.cli import main

    from .conftest import small_course

    learnable_mnist(tmp_path / "mnist")
    course_file = small_course(tmp_path / "course", ["7.5"])
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copytree(course_file.parent / "solutions", subs / "alice")
    args = ["grade", str(subs), "--out", str(tmp_path / "out"), "--course", str(course_file), "-q",
            "--data", f"mnist={tmp_path / 'mnist'}"]
    assert main(args) == 0
    alice = json.loads((tmp_path / "out" / "alice.json").read_text())
    (ex,) = alice["assignments"][0]["exercises"]
    assert ex["points"] == ex["max_points"], ex["reason"]
    assert alice["course_digest"] == with_data(load_course(course_file), {"mnist": tmp_path / "mnist"}).digest
    before = (tmp_path / "out" / "alice.json").stat().st_mtime_ns
    assert main(args) == 0 and (tmp_path / "out" / "alice.json").stat().st_mtime_ns == before  # kept
    assert main(args + ["--dask", "local:1"]) == 2  # the workers of a cluster would not have the folder
