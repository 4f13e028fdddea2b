"""Layers with learnable parameters.

A layer keeps its parameters in ``self.params`` and their gradients in
``self.grads`` (lists of numpy arrays, in the same order). The rules are the
same as for the activations:

* ``forward(x)`` returns a NEW float64 array, leaves ``x`` and the parameters
  unchanged, and remembers what the backward pass needs.
* ``backward(dout)`` returns dL/dx (a new array, ``dout`` untouched) and
  writes each parameter gradient INTO the existing array:
  ``self.grads[0][...] = dW``. An optimiser holds references to these arrays,
  so rebinding ``self.grads[0] = dW`` would silently cut it off.

A useful sanity check for every backward pass: each gradient has exactly the
shape of the quantity it belongs to (dW like W, db like b, dx like x).
"""
import numpy as np


class Affine:
    """Fully connected (affine) layer: y = x @ W + b.

    Forward:  y[n, k] = sum_i x[n, i] * W[i, k] + b[k]
    Backward: dx = dout @ W.T              shape (N, D_in)
              dW = x.T @ dout              shape (D_in, D_out)
              db = sum of dout over the batch axis 0, shape (D_out,)
              (b is added to every row, so every row sends its gradient
              back to the same b).

    Args:
        W: weight array of shape (D_in, D_out).
        b: bias array of shape (D_out,).
        The layer keeps these very arrays: params = [W, b].

    Shapes: x (N, D_in) -> y (N, D_out).
    Matches torch.nn.functional.linear(x, W.T, b); note that
    torch.nn.Linear stores its weight transposed, as (D_out, D_in).
    """

    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]
        self.x = None

    def forward(self, x):
        """Return x @ W + b. Shapes: x (N, D_in) -> (N, D_out)."""
        ### BEGIN SOLUTION
        self.x = np.array(x, dtype=np.float64)  # private copy for backward
        return self.x @ self.W + self.b
        ### END SOLUTION

    def backward(self, dout):
        """Return dL/dx; write dL/dW and dL/db into self.grads.

        Shapes: dout (N, D_out) -> dx (N, D_in).
        """
        ### BEGIN SOLUTION
        self.grads[0][...] = self.x.T @ dout
        self.grads[1][...] = np.sum(dout, axis=0)
        return dout @ self.W.T
        ### END SOLUTION
