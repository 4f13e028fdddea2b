"""The child's ``loop`` step: values stacked per body step, odd values kept per iteration, and an
exception mid-loop keeps the iterations that completed."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader.fronts import prepare_workdir
from grader.model.course import Limits
from grader.sandbox.replies import Reply
from grader.sandbox.runner import Child

COUNTER = '''
import numpy as np

class Counter:
    def __init__(self, fail_at=-1, odd_at=-1):
        self.fail_at, self.odd_at, self.t, self.state = fail_at, odd_at, 0, {}

    def update(self, params, grads):
        if self.t == self.fail_at:
            raise ValueError("boom")
        for p, g in zip(params, grads):
            p -= g                      # in place: the parent's array changes
        g[...] = 0                      # the grads are fresh copies: zeroing them harms nothing
        self.t += 1
        self.state["t"] = self.t if self.t != self.odd_at else "odd"
'''


def run_loop(tmp_path: Path, kwargs: dict, times: int = 4) -> Reply:
    (tmp_path / "opt.py").write_text(COUNTER)
    child = Child(prepare_workdir(tmp_path), Limits(timeout_s=10), [])
    body = [{"op": "call", "obj": 0, "method": "update", "args": [["$p"], ["$G#i"]]},
            {"op": "var", "name": "p"},
            {"op": "lookup", "obj": 0, "path": ["state", "t"]},
            {"op": "lookup", "obj": 0, "path": ["state", "nothing"]}]
    grads = np.arange(times * 2, dtype=np.float64).reshape(times, 2)
    try:
        return child.run([{"op": "new", "target": "opt.Counter", "kwargs": kwargs},
                          {"op": "loop", "times": times, "body": body}], {"p": np.zeros(2), "G": grads})
    finally:
        child.close()


def test_loop_stacks_each_body_step_over_the_iterations(tmp_path: Path) -> None:
    reply = run_loop(tmp_path, {})
    assert reply.failure is None
    loop = reply.values[1]
    assert (loop.kind, loop.count, len(loop.items)) == ("loop", 4, 4)
    params, counter, missing = loop.items[1:]
    assert params.kind == "stacked"
    # a copy per iteration, not four views of the final array
    np.testing.assert_array_equal(params.arrays[0], -np.cumsum(np.arange(8.0).reshape(4, 2), axis=0))
    assert counter.kind == "stacked" and counter.arrays[0].tolist() == [1, 2, 3, 4]
    assert missing.kind == "steps" and [v.kind for v in missing.items] == ["missing"] * 4


def test_an_odd_value_keeps_the_column_per_iteration(tmp_path: Path) -> None:
    counter = run_loop(tmp_path, {"odd_at": 3}).values[1].items[2]
    assert counter.kind == "steps"
    assert [v.kind for v in counter.items] == ["scalar", "scalar", "other", "scalar"]
    assert counter.items[2].type == "builtins.str"


@pytest.mark.parametrize("fail_at", [0, 2])
def test_an_exception_keeps_the_completed_iterations(tmp_path: Path, fail_at: int) -> None:
    reply = run_loop(tmp_path, {"fail_at": fail_at})
    assert reply.failure is not None and reply.failure.step == 1
    assert reply.failure.message == "ValueError: boom" and reply.failure.where.startswith("opt.py:")
    loop = reply.values[1]
    assert loop.count == fail_at
    assert all(len(c.items) == fail_at if c.kind == "steps" else c.arrays[0].shape[0] == fail_at
               for c in loop.items)
