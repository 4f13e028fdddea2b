"""The reference cache: a warm cache means no torch import; keys separate seeds; secrets stay secret."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from grader.engine.grading import Options, grade
from grader.engine.refstore import ReferenceStore, cache_key, pack_arrays, unpack_arrays
from grader.model.course import Course

from .conftest import ROOT, SOLUTIONS, make_submission, run_grade


def _check(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    code = ("import sys; from grader.cli import main; rc = main(sys.argv[1:]); "
            "print('TORCH-IMPORTED' if 'torch' in sys.modules else 'NO-TORCH'); "
            "print('LAZY-OK' if not {'matplotlib', 'nbformat'} & set(sys.modules) else 'EAGER'); sys.exit(rc)")
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True)


def test_second_check_imports_no_torch(tmp_path: Path) -> None:
    env = {**os.environ, "GRADER_CACHE": str(tmp_path)}
    first = _check(env, "check", "solutions", "-q")
    # cold: the references come from a worker process (engine/refworker.py); the grader never imports torch
    assert first.returncode == 0 and "NO-TORCH" in first.stdout and list(tmp_path.glob("refs-*.bin"))
    second = _check(env, "check", "solutions", "-q")
    assert second.returncode == 0
    assert "NO-TORCH" in second.stdout, second.stdout
    assert "LAZY-OK" in second.stdout, "figures and notebooks must cost nothing when not used"


def test_cache_key_separates_seed_device_and_course() -> None:
    keys = {cache_key("c1", 0, "cpu"), cache_key("c1", 1, "cpu"), cache_key("c1", 0, "cuda"), cache_key("c2", 0, "cpu")}
    assert len(keys) == 4
    assert "12345" not in cache_key("c1", 12345, "cpu")


def test_secret_seed_never_written(course: Course, tmp_path: Path) -> None:
    secret = 987654321
    result = grade(course, SOLUTIONS, Options(seed=secret, exercises=["1.1"], cache=tmp_path))
    assert result.seed == "secret"
    from grader.model.results import to_json

    assert str(secret) not in to_json(result)
    assert all(str(secret) not in p.name for p in tmp_path.iterdir())


def test_corrupt_cache_file_is_recomputed(course: Course, tmp_path: Path) -> None:
    grade(course, SOLUTIONS, Options(exercises=["1.1"], cache=tmp_path))
    (cache_file,) = tmp_path.glob("refs-*.bin")
    cache_file.write_bytes(b"not a zip file")
    result = grade(course, SOLUTIONS, Options(exercises=["1.1"], cache=tmp_path))
    assert result.passed
    assert any(key[:3] == ("1.1", "case", 0) for key in unpack_arrays(cache_file.read_bytes()))


def test_store_serves_one_case(tmp_path: Path) -> None:
    values = {("e", "case", 0, "out"): np.ones(2), ("e", "case", 1, "out"): np.zeros(2)}
    store = ReferenceStore("digest", 0, "cpu", lambda ids: values, ["e"], directory=tmp_path)
    assert set(store.get("e", "case", 1)) == {"out"}
    assert store.computed
    again = ReferenceStore("digest", 0, "cpu", lambda ids: {}, ["e"], directory=tmp_path)
    np.testing.assert_array_equal(again.get("e", "case", 0)["out"], np.ones(2))
    assert not again.computed


def test_store_computes_only_what_is_asked_and_keeps_the_rest(tmp_path: Path) -> None:
    """A cold `-e Affine` computes one exercise; a later run of another adds to the same file; an
    exercise with no references at all is remembered as computed."""
    asked: list[list[str]] = []

    def fill(ids: list[str]) -> dict:
        asked.append(list(ids))
        return {(i, "case", 0, "out"): np.full(2, float(len(i))) for i in ids if i != "empty"}

    store = ReferenceStore("digest", 0, "cpu", fill, ["a", "bb", "empty"], directory=tmp_path)
    store.prepare(["a"])
    assert asked == [["a"]]
    other = ReferenceStore("digest", 0, "cpu", fill, ["a", "bb", "empty"], directory=tmp_path)
    np.testing.assert_array_equal(other.get("bb", "case", 0)["out"], [2.0, 2.0])
    other.prepare(["a", "empty"])
    assert asked == [["a"], ["bb"], ["empty"]]
    third = ReferenceStore("digest", 0, "cpu", fill, ["a", "bb", "empty"], directory=tmp_path)
    assert set(third.all()) == {("a", "case", 0, "out"), ("bb", "case", 0, "out")}
    assert asked == [["a"], ["bb"], ["empty"]] and not third.computed


def test_child_cannot_read_the_cache(course: Course, tmp_path: Path) -> None:
    cache = Path(os.environ["GRADER_CACHE"])
    spy = f'''
class Sigmoid:
    def __init__(self):
        self.params, self.grads = [], []
    def forward(self, x):
        import os
        names = os.listdir({str(cache)!r})
        return 1.0 / (1.0 + np.exp(-x))
    def backward(self, dout):
        raise NotImplementedError
'''
    sub = make_submission(tmp_path / "sub", append={"activations": spy})
    result = run_grade(course, sub, "1.1")
    if result.isolation == "A":
        import pytest

        pytest.skip("no namespaces or root here: tier A cannot mask the cache")
    reason = result.exercises[0].reason
    # masked (PermissionError), or gone from the child's private /tmp (FileNotFoundError): unreadable
    assert "PermissionError" in reason or "FileNotFoundError" in reason, reason


def test_cuda_flag_without_cuda_is_a_clear_error(tmp_path: Path) -> None:
    import torch

    if torch.cuda.is_available():
        import pytest

        pytest.skip("CUDA present")
    env = {**os.environ, "GRADER_CACHE": str(tmp_path)}
    proc = _check(env, "check", "solutions", "-e", "1.1", "--device", "cuda")
    assert proc.returncode == 2
    assert "sees no CUDA device" in proc.stderr
    assert "Traceback" not in proc.stderr



def test_reference_file_round_trip_keeps_shapes_and_dtypes() -> None:
    values = {("e", "case", 0, "loss"): np.float64(2.5) * np.ones(()),  # 0-d stays 0-d
              ("e", "case", 0, "idx"): np.arange(6, dtype=np.int64).reshape(2, 3),
              ("e", "case", 1, "mask"): np.array([True, False]),
              ("e", "case", 1, "none"): np.zeros((0, 4)),
              ("e", "case", 2, "t"): np.arange(12.0).reshape(3, 4).T}  # not C-contiguous
    back = unpack_arrays(pack_arrays(values))
    assert list(back) == list(values)
    for key, value in values.items():
        assert back[key].shape == value.shape and back[key].dtype == value.dtype
        np.testing.assert_array_equal(back[key], value)
    back[("e", "case", 0, "idx")][0, 0] = 99  # writable, and the others untouched
    np.testing.assert_array_equal(back[("e", "case", 1, "mask")], [True, False])


def test_truncated_reference_file_is_refused() -> None:
    data = pack_arrays({("e", "case", 0, "out"): np.ones(100)})
    with pytest.raises(ValueError):
        unpack_arrays(data[:-8])


def test_background_references_reach_every_get_and_one_save(tmp_path: Path) -> None:
    """prepare_behind computes in a thread while lanes grade: each get sees its exercise's values, a
    failing twin's error reaches the lane that needs it (never a silent empty reference), finish saves."""
    calls: list[list[str]] = []

    def fill(ids: list[str]) -> dict:
        calls.append(list(ids))
        if ids == ["bad"]:
            raise ValueError("twin failed")
        return {(i, "case", 0, "out"): np.full(2, float(len(i))) for i in ids}

    store = ReferenceStore("c", 0, "cpu", fill, ["a", "bb", "bad"], directory=tmp_path)
    store.prepare_behind(["a", "bb", "bad"])
    assert store.get("bb", "case", 0)["out"].tolist() == [2.0, 2.0]
    assert store.get("a", "case", 0)["out"].tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="twin failed"):
        store.get("bad", "case", 0)
    store.finish()
    assert calls.count(["a"]) == calls.count(["bb"]) == 1  # each computed once, by the thread or its lane
    assert 1 <= calls.count(["bad"]) <= 2  # the lane retries what failed (the thread may have stopped first)
    saved = unpack_arrays(next(tmp_path.glob("refs-*.bin")).read_bytes())
    assert {k[0] for k in saved} >= {"a", "bb"} and not any(k[0] == "bad" for k in saved)


def test_the_worker_process_hands_the_same_references_as_this_process(course: Course) -> None:
    from grader.engine.expected import compute_references
    from grader.engine.refprocess import ReferenceProcess

    ids = ["1.1", "1.10", "4.7"]  # an activation, a layer with parameters, an optimizer's trajectories
    seen: list[str] = []
    streamed = dict(ReferenceProcess(course, course.public_seed, "cpu", ids, seen.append))
    assert list(streamed) == ids == seen  # in order, each told once
    for ex_id in ids:
        here = compute_references(course, course.public_seed, "cpu", [ex_id])
        assert streamed[ex_id].keys() == here.keys()
        assert all(np.array_equal(streamed[ex_id][k], here[k]) for k in here)


def test_a_worker_that_stops_early_leaves_the_rest_to_this_process(course: Course, tmp_path: Path) -> None:
    """Fail closed: a worker that dies (or reports an error) after one exercise costs time, not grades."""
    from grader.engine.expected import compute_references

    class Dies:
        killed = False

        def __init__(self, ids: list[str]):
            self.first = ids[0]

        def __iter__(self):  # noqa: ANN204
            yield self.first, compute_references(course, course.public_seed, "cpu", [self.first])

        def kill(self) -> None:
            Dies.killed = True

    ids = ["1.1", "1.2", "1.3", "1.4", "1.10"]
    store = ReferenceStore(course.digest, course.public_seed, "cpu",
                           lambda wanted: compute_references(course, course.public_seed, "cpu", wanted), ids,
                           directory=tmp_path, stream=Dies)
    store.prepare_behind(ids)
    for ex_id in ids:
        assert store.get(ex_id, "case", 0)  # the first from the worker, the rest computed here
    store.finish()
    assert store.done >= set(ids) and not Dies.killed  # it ended by itself: nothing left to stop
    result = grade(course, SOLUTIONS, Options(exercises=ids, cache=tmp_path))
    assert result.passed


def test_finishing_early_stops_the_worker(course: Course) -> None:
    from grader.engine.refprocess import ReferenceProcess

    worker = ReferenceProcess(course, course.public_seed, "cpu", [ex.id for ex in course.exercises])
    worker.kill()
    assert worker._proc.poll() is not None  # reaped: no process left behind an interrupted check
