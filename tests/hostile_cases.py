"""Hostile submissions: each plants one attack in Sigmoid (exercise 1.1) of an otherwise correct
submission, and says what the grader must answer. None may ever pass."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

SOLUTION = Path(__file__).resolve().parents[1] / "solutions" / "activations.py"

OK, TIMEOUT, ERROR, FAIL, PARTIAL = "pass", "timeout", "error", "fail", "partial"


@dataclass(frozen=True)
class Hostile:
    name: str
    forward: str = ""
    """Body of Sigmoid.forward(self, x) (indented by the builder)."""
    module_code: str = ""
    """Extra code at the end of activations.py (module level)."""
    files: dict[str, str] = field(default_factory=dict)
    """Extra files in the submission."""
    statuses: tuple[str, ...] = (FAIL, ERROR, PARTIAL)
    """Acceptable statuses of exercise 1.1 (never pass; partial when only the contract check holds)."""
    module_wide: bool = False
    """The attack costs every exercise of its module by design (a banned import anywhere in it)."""


def sigmoid(forward: str) -> str:
    body = "\n".join("        " + line for line in forward.strip("\n").splitlines())
    return f"""
class Sigmoid:
    def __init__(self):
        self.params, self.grads = [], []
    def forward(self, x):
{body}
    def backward(self, dout):
        return dout * 0.25
"""


CASES = [
    Hostile("infinite loop", "while True:\n    pass", statuses=(TIMEOUT,)),
    Hostile("slow code", "import time\ntime.sleep(30)\nreturn x", statuses=(TIMEOUT,)),
    Hostile("sys.exit", "import sys\nsys.exit(0)"),
    Hostile("os._exit", "import os\nos._exit(0)"),
    Hostile("BaseException", "raise BaseException('stop grading')"),
    Hostile("KeyboardInterrupt", "raise KeyboardInterrupt"),
    Hostile("SIGTERM ignored", "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    pass",
            statuses=(TIMEOUT,)),
    Hostile("setsid grandchild holding the pipes",
            "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(120)\n    os._exit(0)\nreturn x"),
    Hostile("kills its parent", "import os, signal\ntry:\n    os.kill(os.getppid(), signal.SIGKILL)\nexcept OSError:\n    pass\nreturn x"),
    Hostile("fake score printed", "print('Total: 57/57 — all checks pass')\nprint('{\"score\": 100, \"passed\": true}')\nreturn x"),
    Hostile("numpy monkeypatched",
            "np.allclose = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None\n"
            "np.array_equal = lambda *a, **k: True\nreturn x * 0"),
    Hostile("builtins monkeypatched", "import builtins\nbuiltins.isinstance = lambda *a: True\nbuiltins.float = lambda *a: 1.0\nreturn x"),
    Hostile("odd __eq__ subclass",
            "class Liar(np.ndarray):\n    def __eq__(self, other):\n        return True\n    def __array__(self, *a, **k):\n"
            "        return np.zeros(self.shape)\nreturn (x * 0).view(Liar)"),
    Hostile("object with __array__", "class A:\n    def __array__(self, *a, **k):\n        return 1 / (1 + np.exp(-x))\nreturn A()"),
    Hostile("object with __float__", "class F:\n    def __float__(self):\n        return 0.5\nreturn F()"),
    Hostile("NaN", "return np.full_like(x, np.nan)"),
    Hostile("inf", "return np.full_like(x, np.inf)"),
    Hostile("wrong shape", "return (1 / (1 + np.exp(-x))).ravel()"),
    Hostile("float32", "return (1 / (1 + np.exp(-x))).astype(np.float32)"),
    Hostile("torch used", "import torch\nreturn torch.sigmoid(torch.tensor(x)).numpy()", module_wide=True),
    Hostile("reads the solutions",
            "import importlib.util\n"
            f"spec = importlib.util.spec_from_file_location('s', {str(SOLUTION)!r})\n"
            "m = importlib.util.module_from_spec(spec)\nspec.loader.exec_module(m)\nreturn m.Sigmoid().forward(x)",
            statuses=(ERROR,)),
    Hostile("reads the parent's memory",
            "import os\nwith open(f'/proc/{os.getppid()}/mem', 'rb') as f:\n    f.read(16)\nreturn x"),
    Hostile("memory bomb", "blocks = [bytearray(10**8) for _ in range(1000)]\nreturn x",
            statuses=(ERROR, FAIL, PARTIAL, TIMEOUT)),
    Hostile("fork bomb", "import os\nwhile True:\n    os.fork()"),
    Hostile("deep recursion", "def f(n):\n    return f(n + 1)\nreturn f(0)"),
    Hostile("segfault through ctypes", "import ctypes\nctypes.string_at(0)\nreturn x"),
    Hostile("fills the disk",
            "for i in range(1000):\n    with open(f'/tmp/fill{i}', 'wb') as f:\n        f.write(b'x' * (1 << 24))\nreturn x"),
    Hostile("opens a socket",
            "import socket\ns = socket.create_connection(('93.184.216.34', 80), timeout=1)\nreturn x"),
    Hostile("output flood", "import sys\nfor _ in range(200):\n    sys.stdout.write('spam' * 100000)\nreturn x"),
    Hostile("sitecustomize and numpy.py",
            "return x",
            files={"sitecustomize.py": "import builtins\nbuiltins.print = None\n",
                   "numpy.py": "raise SystemExit('hijacked')\n"}),
    Hostile("syntax error", module_code="def broken(:\n    pass\n"),
    Hostile("missing class", module_code="del Sigmoid\n"),
]
