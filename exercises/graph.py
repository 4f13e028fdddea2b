"""Nodes of a computational graph: matrix product, copying along an axis, summing along an axis.

A network is a graph of small nodes. Each node knows only its own local
derivative; backpropagation multiplies the upstream gradient by it and hands
the result on to the node's inputs. The three nodes here are the building
blocks that appear in almost every layer:

* ``MatMul``: y = x @ W (a fully connected layer without bias);
* ``Repeat``: copy every entry n times along an axis (a branch with n
  outputs); its backward SUMS the n incoming gradients;
* ``Sum``: add entries along an axis; its backward COPIES the incoming
  gradient back to every entry that was summed.

Repeat and Sum are each other's backward: the gradient of a copy is a sum,
the gradient of a sum is a copy.

They follow the same protocol as the other layers: ``self.params`` and
``self.grads`` are lists of numpy arrays (empty for Repeat and Sum);
``forward(x)`` returns a NEW float64 array and never changes ``x``;
``backward(dout)`` returns dL/dx (a new array, ``dout`` untouched) and writes
parameter gradients INTO ``self.grads`` (``self.grads[0][...] = dW``).
"""
import numpy as np


class MatMul:
    """Matrix product node: y = x @ W.

    Forward:  y[n, k] = sum_i x[n, i] * W[i, k]
    Backward: dx = dout @ W.T      shape (N, D_in)
              dW = x.T @ dout      shape (D_in, D_out)
              (every row n of x meets the same W, so dW sums over the
              batch; the matrix product does that sum for you).

    Args:
        W: weight array of shape (D_in, D_out). The layer keeps this very
            array: params = [W].

    Shapes: x (N, D_in) -> y (N, D_out).
    Matches torch.matmul(x, W) (x @ W); the same as
    torch.nn.functional.linear(x, W.T) without a bias.
    """

    def __init__(self, W):
        self.W = W
        self.params = [W]
        self.grads = [np.zeros_like(W)]
        self.x = None

    def forward(self, x):
        """Return x @ W. Shapes: x (N, D_in) -> (N, D_out)."""
        raise NotImplementedError("MatMul.forward is not implemented yet: write your code here")

    def backward(self, dout):
        """Return dL/dx; write dL/dW into self.grads[0].

        Shapes: dout (N, D_out) -> dx (N, D_in).
        """
        raise NotImplementedError("MatMul.backward is not implemented yet: write your code here")


class Repeat:
    """Repeat node: every entry copied n times along one axis (np.repeat).

    Forward:  y = np.repeat(x, n, axis=axis): along `axis`, entry i of x
              becomes entries i*n, i*n+1, ..., i*n+n-1 of y (each entry is
              repeated in place, not the whole array tiled).
              For x of shape (1, D), axis=0: y of shape (n, D), every row
              a copy of x.
    Backward: every copy of x[..., i, ...] receives its own gradient, and
              they add up: dx[..., i, ...] = sum over r < n of
              dout[..., i*n + r, ...]. Reshaping dout so that the n copies
              get an axis of their own, right after `axis`, and summing
              over that axis does it in one call.

    Args:
        axis: the axis to repeat along (negative counts from the end).
        n: how many copies of each entry (a positive int).

    Shapes: x (..., S, ...) -> y (..., S*n, ...), S at position `axis`.
    Matches torch.repeat_interleave(x, n, dim=axis) (which is np.repeat;
    torch's Tensor.repeat is np.tile, a different thing).
    """

    def __init__(self, axis=0, n=2):
        self.params = []
        self.grads = []
        self.axis = axis
        self.n = n
        self.shape = None

    def forward(self, x):
        """Return np.repeat(x, n, axis). Shapes: (..., S, ...) -> (..., S*n, ...)."""
        raise NotImplementedError("Repeat.forward is not implemented yet: write your code here")

    def backward(self, dout):
        """Return dL/dx: the gradients of the n copies of each entry, summed.

        Shapes: dout (..., S*n, ...) -> dx (..., S, ...).
        """
        raise NotImplementedError("Repeat.backward is not implemented yet: write your code here")


class Sum:
    """Sum node: entries added along one axis.

    Forward:  y = np.sum(x, axis=axis, keepdims=keepdims)
    Backward: each summed entry contributes to its sum with derivative 1,
              so every x entry gets the gradient of the sum it went into:
              dx = dout copied back along `axis`. With keepdims=False the
              summed axis is gone from dout: put it back as a size-1 axis
              (np.expand_dims(dout, axis)) before broadcasting to x's shape.

    Args:
        axis: the axis to sum over (negative counts from the end).
        keepdims: keep the summed axis with size 1 (default False).

    Shapes: x (..., S, ...) -> y (..., ...) or (..., 1, ...) with keepdims.
    Matches torch.sum(x, dim=axis, keepdim=keepdims).
    """

    def __init__(self, axis=0, keepdims=False):
        self.params = []
        self.grads = []
        self.axis = axis
        self.keepdims = keepdims
        self.shape = None

    def forward(self, x):
        """Return the sum of x along axis. Shapes: (..., S, ...) -> (..., ...) or (..., 1, ...)."""
        raise NotImplementedError("Sum.forward is not implemented yet: write your code here")

    def backward(self, dout):
        """Return dL/dx: dout copied along the summed axis. Shapes: like y -> like x."""
        raise NotImplementedError("Sum.backward is not implemented yet: write your code here")
