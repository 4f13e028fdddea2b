"""A layer with a parameter: gradients of parameters are written INTO ``self.grads`` (never rebound)."""
import numpy as np


class Scale:
    """Scale each feature: y = x * gamma.

    Forward:  y[n, d] = x[n, d] * gamma[d]
    Backward: dx = dout * gamma; dgamma = sum over the batch of dout * x

    Args:
        gamma: array of shape (D,); the layer keeps this very array: params = [gamma].

    Shapes: x (N, D) -> y (N, D).
    """

    def __init__(self, gamma):
        self.gamma = gamma
        self.params = [gamma]
        self.grads = [np.zeros_like(gamma)]

    def forward(self, x):
        """Return x * gamma. Shapes: x (N, D) -> (N, D)."""
        raise NotImplementedError("Scale.forward is not implemented yet: write your code here")

    def backward(self, dout):
        """Return dL/dx; write dL/dgamma into self.grads[0]. Shapes: dout (N, D) -> (N, D)."""
        raise NotImplementedError("Scale.backward is not implemented yet: write your code here")
