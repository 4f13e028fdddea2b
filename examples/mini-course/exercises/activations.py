"""Activations as layers: ``forward(x)`` returns a new array and remembers what ``backward`` needs;
``backward(dout)`` returns dL/dx. ``params`` and ``grads`` are empty lists (no parameters)."""
import numpy as np


class SiLU:
    """SiLU (swish), elementwise: y = x * sigmoid(x).

    Backward: dy/dx = s + x * s * (1 - s), with s = sigmoid(x).
    Stable: sigmoid computed from exp(-|x|) only, so x = +-1000 does not overflow.
    Matches torch.nn.functional.silu.
    """

    def __init__(self):
        self.params = []
        self.grads = []

    def forward(self, x):
        """Return x * sigmoid(x). Shapes: x (any) -> same."""
        raise NotImplementedError("SiLU.forward is not implemented yet: write your code here")

    def backward(self, dout):
        """Return dL/dx given dL/dy. Shapes: dout (same as y) -> same."""
        raise NotImplementedError("SiLU.backward is not implemented yet: write your code here")
