"""Secret seeds: per-case inputs derived with a keyed hash of the whole seed, weak secret seeds refused,
``grader secret`` makes strong ones, and a seed never shows in any process's command line or environment."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from grader.kinds.inputs import rng_for

from .conftest import ROOT, make_submission
from .test_batch_failclosed import SLOW_SIGMOID, descendants

STRONG = 0xC0FFEE_5EED_0DD5_B16B_A11_D00D_F00D_CAFE


def test_seeds_differing_above_bit_64_give_different_inputs() -> None:
    low = 0x1234_5678_9ABC_DEF0
    a = rng_for(low | 1 << 64, "1.1", "case", 0, "x").uniform(size=8)
    b = rng_for(low | 1 << 65, "1.1", "case", 0, "x").uniform(size=8)
    assert not np.array_equal(a, b)


def test_labels_are_separated_unambiguously() -> None:
    a = rng_for(STRONG, "a", "bc").uniform(size=8)
    b = rng_for(STRONG, "ab", "c").uniform(size=8)
    assert not np.array_equal(a, b)
    assert not np.array_equal(rng_for(STRONG, "1", 0).uniform(size=8), rng_for(STRONG, "10").uniform(size=8))


def test_same_seed_and_labels_give_the_same_inputs() -> None:
    assert np.array_equal(rng_for(STRONG, "x", 1).uniform(size=8), rng_for(STRONG, "x", 1).uniform(size=8))


def _grader(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=300)


@pytest.mark.parametrize("command", [["grade", "SUBS", "--out", "OUT"], ["gradescope-bundle", "--out", "OUT/x.zip"]])
def test_weak_secret_seed_is_a_usage_error(command: list[str], tmp_path: Path) -> None:
    (tmp_path / "SUBS").mkdir()
    (tmp_path / "OUT").mkdir()
    args = [a.replace("SUBS", str(tmp_path / "SUBS")).replace("OUT", str(tmp_path / "OUT")) for a in command]
    proc = _grader(*args, "--course", str(ROOT / "course.yml"), "--seed", "424242")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "grader secret" in proc.stderr and "Traceback" not in proc.stderr
    env = {**os.environ, "GRADER_SEED": "777"}
    proc = _grader(*args, "--course", str(ROOT / "course.yml"), env=env)
    assert proc.returncode == 2 and "grader secret" in proc.stderr, proc.stderr


def test_public_seed_is_not_a_secret(tmp_path: Path) -> None:
    (tmp_path / "subs").mkdir()
    proc = _grader("grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "-q", "--seed", "0",
                   "--course", str(ROOT / "course.yml"))
    assert proc.returncode == 0, proc.stderr


def test_grader_secret_prints_a_strong_seed_that_grade_accepts(tmp_path: Path) -> None:
    seeds = {_grader("secret").stdout.strip() for _ in range(2)}
    assert len(seeds) == 2
    for seed in seeds:
        assert int(seed).bit_length() > 64
    out = tmp_path / "a.zip"
    proc = _grader("gradescope-bundle", "--course", str(ROOT / "course.yml"), "--out", str(out), "--seed", seed,
                   "--no-references")
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(out) as z:
        assert z.read("secret/seed").decode() == seed


def test_check_help_says_grading_needs_a_strong_seed() -> None:
    assert "grader secret" in _grader("check", "--help").stdout


def _proc_text(pid: int, name: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/{name}").read_bytes()
    except OSError:
        return b""


@pytest.mark.parametrize("via", ["argv", "env"])
def test_secret_seed_shows_in_no_process(via: str, tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    for i in range(2):
        make_submission(subs / f"s{i}", append={"activations": SLOW_SIGMOID})
    secret = str(STRONG + (via == "env"))
    cmd = [sys.executable, "-m", "grader", "grade", str(subs), "--out", str(tmp_path / "out"), "-j", "2", "-q",
           "--course", str(ROOT / "course.yml")]
    env = dict(os.environ)
    if via == "argv":
        cmd += ["--seed", secret]
    else:
        env["GRADER_SEED"] = secret
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    seen: set[int] = set()
    leaks = []
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            below = descendants(proc.pid)
            if not below:  # still starting: the re-exec that moves the seed out of sight comes first
                time.sleep(0.05)
                continue
            for pid in [proc.pid, *below]:
                seen.add(pid)
                for name in ("cmdline", "environ"):
                    if secret.encode() in _proc_text(pid, name):
                        leaks.append((pid, name, _proc_text(pid, "cmdline")[:200]))
            time.sleep(0.1)
    finally:
        proc.kill()
        proc.wait()
    assert len(seen) >= 5, "too few processes observed to mean anything"
    assert not leaks, leaks
