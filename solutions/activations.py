"""Activation functions as layers with a forward and a backward pass.

Every class here follows the same small protocol:

* ``self.params`` and ``self.grads`` are lists of numpy arrays. Activations
  without learnable parameters keep both lists empty; ``PReLU`` holds its
  slope vector ``alpha``.
* ``forward(x)`` returns a NEW float64 array. It must not change ``x`` and
  must not return ``x`` itself. It remembers whatever the backward pass needs
  (usually the input or the output).
* ``backward(dout)`` receives the upstream gradient dL/dy (same shape as the
  output) and returns dL/dx, a new array. It never changes ``dout``. Gradients
  of parameters are written INTO the existing arrays in ``self.grads``
  (``self.grads[0][...] = ...``), never by rebinding the list entries.

The chain rule for an elementwise activation y = f(x) is simply
dL/dx = dL/dy * f'(x), computed elementwise. Softmax and LogSoftmax mix the
entries along one axis, so their backward passes need the full Jacobian-vector
product along that axis.

Numerical stability matters: ``exp`` of a large positive number overflows to
``inf``. The stable forms below never exponentiate a large positive value.
Each class states the PyTorch function it matches, so you can check your
results against it.
"""
import numpy as np


class Sigmoid:
    """Logistic sigmoid, elementwise.

    Forward:  y = 1 / (1 + exp(-x))
    Backward: dy/dx = y * (1 - y), so dx = dout * y * (1 - y)

    Stable evaluation: for x >= 0 use 1 / (1 + exp(-x)); for x < 0 use
    exp(x) / (1 + exp(x)). Both only ever call exp on -|x| <= 0, so no
    overflow happens even for x = +-1000.

    Shapes: x of any shape -> y of the same shape.
    Matches torch.sigmoid / torch.nn.Sigmoid.
    """

    def __init__(self):
        self.params = []
        self.grads = []
        self.out = None

    def forward(self, x):
        """Return sigmoid(x) elementwise. Shapes: x (any) -> same."""
        ### BEGIN SOLUTION
        z = np.exp(-np.abs(x))  # always in (0, 1]: no overflow
        self.out = np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))
        return self.out
        ### END SOLUTION

    def backward(self, dout):
        """Return dL/dx given dL/dy. Shapes: dout (same as y) -> same."""
        ### BEGIN SOLUTION
        return dout * self.out * (1.0 - self.out)
        ### END SOLUTION


class Tanh:
    """Hyperbolic tangent, elementwise.

    Forward:  y = tanh(x) = (exp(x) - exp(-x)) / (exp(x) + exp(-x))
    Backward: dy/dx = 1 - y**2, so dx = dout * (1 - y**2)

    np.tanh is already numerically stable, so use it for the forward pass.

    Shapes: x of any shape -> y of the same shape.
    Matches torch.tanh / torch.nn.Tanh.
    """

    def __init__(self):
        self.params = []
        self.grads = []
        self.out = None

    def forward(self, x):
        """Return tanh(x) elementwise. Shapes: x (any) -> same."""
        ### BEGIN SOLUTION
        self.out = np.tanh(x)
        return self.out
        ### END SOLUTION

    def backward(self, dout):
        """Return dL/dx given dL/dy. Shapes: dout (same as y) -> same."""
        ### BEGIN SOLUTION
        return dout * (1.0 - self.out ** 2)
        ### END SOLUTION


class ReLU:
    """Rectified linear unit, elementwise.

    Forward:  y = max(0, x)
    Backward: dy/dx = 1 where x > 0 and 0 elsewhere (PyTorch also uses 0 at
              exactly x = 0), so dx = dout where x > 0, else 0.

    Shapes: x of any shape -> y of the same shape.
    Matches torch.relu / torch.nn.ReLU.
    """

    def __init__(self):
        self.params = []
        self.grads = []
        self.mask = None

    def forward(self, x):
        """Return max(0, x) elementwise. Shapes: x (any) -> same."""
        ### BEGIN SOLUTION
        self.mask = x > 0
        out = x.astype(np.float64, copy=True)  # never touch x itself
        out[~self.mask] = 0.0
        return out
        ### END SOLUTION

    def backward(self, dout):
        """Return dL/dx given dL/dy. Shapes: dout (same as y) -> same."""
        ### BEGIN SOLUTION
        dx = dout.astype(np.float64, copy=True)  # never touch dout itself
        dx[~self.mask] = 0.0
        return dx
        ### END SOLUTION


class HardTanh:
    """Hard tanh: a linear function clipped to [min_val, max_val].

    Forward:  y = min_val      if x <= min_val
              y = x            if min_val < x < max_val
              y = max_val      if x >= max_val
    Backward: dy/dx = 1 strictly inside (min_val, max_val) and 0 outside
              (PyTorch also uses 0 exactly at the two bounds).

    Args:
        min_val: lower bound of the output (default -1.0).
        max_val: upper bound of the output (default 1.0).

    Shapes: x of any shape -> y of the same shape.
    Matches torch.nn.Hardtanh(min_val, max_val).
    """

    def __init__(self, min_val=-1.0, max_val=1.0):
        self.params = []
        self.grads = []
        self.min_val = float(min_val)
        self.max_val = float(max_val)
        self.x = None

    def forward(self, x):
        """Return x clipped to [min_val, max_val]. Shapes: x (any) -> same."""
        ### BEGIN SOLUTION
        self.x = x.copy()
        return np.clip(x, self.min_val, self.max_val).astype(np.float64)
        ### END SOLUTION

    def backward(self, dout):
        """Return dL/dx given dL/dy. Shapes: dout (same as y) -> same."""
        ### BEGIN SOLUTION
        inside = (self.x > self.min_val) & (self.x < self.max_val)
        return dout * inside
        ### END SOLUTION


class LeakyReLU:
    """Leaky ReLU: like ReLU, but with a small slope for negative inputs.

    Forward:  y = x          if x > 0
              y = alpha * x  otherwise
    Backward: dy/dx = 1 if x > 0 else alpha

    Args:
        alpha: slope for x <= 0 (default 0.01).

    Shapes: x of any shape -> y of the same shape.
    Matches torch.nn.LeakyReLU(negative_slope=alpha).
    """

    def __init__(self, alpha=0.01):
        self.params = []
        self.grads = []
        self.alpha = float(alpha)
        self.x = None

    def forward(self, x):
        """Return leaky_relu(x) elementwise. Shapes: x (any) -> same."""
        ### BEGIN SOLUTION
        self.x = x.copy()
        return np.where(x > 0, x, self.alpha * x).astype(np.float64)
        ### END SOLUTION

    def backward(self, dout):
        """Return dL/dx given dL/dy. Shapes: dout (same as y) -> same."""
        ### BEGIN SOLUTION
        return np.where(self.x > 0, dout, self.alpha * dout)
        ### END SOLUTION


class ELU:
    """Exponential linear unit.

    Forward:  y = x                       if x > 0
              y = alpha * (exp(x) - 1)    otherwise
    Backward: dy/dx = 1                   if x > 0
              dy/dx = alpha * exp(x)      otherwise  (= y + alpha there)

    Stability: np.where evaluates BOTH branches for every element, so
    exp(x) would overflow for large positive x even though that branch is
    not selected. Evaluate the exponential on min(x, 0) instead.
    np.expm1(t) computes exp(t) - 1 accurately for small t.

    Args:
        alpha: value the output approaches as x -> -inf is -alpha
            (default 1.0).

    Shapes: x of any shape -> y of the same shape.
    Matches torch.nn.ELU(alpha).
    """

    def __init__(self, alpha=1.0):
        self.params = []
        self.grads = []
        self.alpha = float(alpha)
        self.x = None
        self.out = None

    def forward(self, x):
        """Return elu(x) elementwise. Shapes: x (any) -> same."""
        ### BEGIN SOLUTION
        self.x = x.copy()
        neg = self.alpha * np.expm1(np.minimum(x, 0.0))
        self.out = np.where(x > 0, x, neg).astype(np.float64)
        return self.out
        ### END SOLUTION

    def backward(self, dout):
        """Return dL/dx given dL/dy. Shapes: dout (same as y) -> same."""
        ### BEGIN SOLUTION
        return np.where(self.x > 0, dout, dout * (self.out + self.alpha))
        ### END SOLUTION


class PReLU:
    """Parametric ReLU with one learnable slope per feature.

    Forward:  y[n, j] = x[n, j]             if x[n, j] > 0
              y[n, j] = alpha[j] * x[n, j]  otherwise
    Backward: dx[n, j] = dout[n, j] if x[n, j] > 0 else alpha[j] * dout[n, j]
              dalpha[j] = sum over n of dout[n, j] * x[n, j], taken only
              where x[n, j] <= 0 (the slope is shared by the whole batch,
              so its gradient is summed over the batch).

    Args:
        alpha: numpy array of shape (D,), the initial slopes. The layer keeps
            this very array as its parameter: params = [alpha].

    Shapes: x (N, D) -> y (N, D); alpha (D,); dalpha (D,).
    Matches torch.nn.PReLU(num_parameters=D) on an (N, D) input
    (channel axis 1).
    """

    def __init__(self, alpha):
        self.alpha = alpha
        self.params = [alpha]
        self.grads = [np.zeros_like(alpha)]
        self.x = None

    def forward(self, x):
        """Return prelu(x). Shapes: x (N, D) -> (N, D)."""
        ### BEGIN SOLUTION
        self.x = x.copy()
        return np.where(x > 0, x, self.alpha * x).astype(np.float64)
        ### END SOLUTION

    def backward(self, dout):
        """Return dL/dx and store dL/dalpha in self.grads[0].

        Shapes: dout (N, D) -> dx (N, D).
        """
        ### BEGIN SOLUTION
        positive = self.x > 0
        self.grads[0][...] = np.sum(np.where(positive, 0.0, self.x * dout), axis=0)
        return np.where(positive, dout, self.alpha * dout)
        ### END SOLUTION


class Softmax:
    """Softmax along one axis.

    Forward:  y_i = exp(x_i) / sum_k exp(x_k)   (sums run along `axis`)
    Backward: dy_i/dx_j = y_i * (delta_ij - y_j), hence
              dx = y * (dout - sum(dout * y))   (sum along `axis`, kept
              as a size-1 axis so it broadcasts).

    Stability: softmax does not change if the same constant is subtracted
    from every entry along the axis. Subtract the maximum first so the
    largest exponent is exp(0) = 1 and nothing overflows (logits of +-1000
    still work).

    Args:
        axis: the axis to normalise over (default -1, the last one).

    Shapes: x of any shape -> y of the same shape.
    Matches torch.softmax(x, dim=axis) / torch.nn.Softmax(dim=axis).
    """

    def __init__(self, axis=-1):
        self.params = []
        self.grads = []
        self.axis = axis
        self.out = None

    def forward(self, x):
        """Return softmax(x) along self.axis. Shapes: x (any) -> same."""
        ### BEGIN SOLUTION
        shifted = x - np.max(x, axis=self.axis, keepdims=True)
        e = np.exp(shifted)
        self.out = e / np.sum(e, axis=self.axis, keepdims=True)
        return self.out
        ### END SOLUTION

    def backward(self, dout):
        """Return dL/dx given dL/dy. Shapes: dout (same as y) -> same."""
        ### BEGIN SOLUTION
        y = self.out
        return y * (dout - np.sum(dout * y, axis=self.axis, keepdims=True))
        ### END SOLUTION


class LogSoftmax:
    """Logarithm of the softmax along one axis.

    Forward:  y_i = x_i - log(sum_k exp(x_k))     (sums along `axis`)
    Backward: dy_i/dx_j = delta_ij - softmax(x)_j, hence
              dx = dout - softmax(x) * sum(dout)   (sum along `axis`)
              where softmax(x) = exp(y).

    Stability: never compute log(softmax(x)) directly; for logits of +-1000
    the softmax underflows to 0 and its log is -inf. Use the log-sum-exp
    trick instead: with m = max(x), log(sum exp(x)) = m + log(sum exp(x - m)).

    Args:
        axis: the axis to normalise over (default -1, the last one).

    Shapes: x of any shape -> y of the same shape.
    Matches torch.log_softmax(x, dim=axis) / torch.nn.LogSoftmax(dim=axis).
    """

    def __init__(self, axis=-1):
        self.params = []
        self.grads = []
        self.axis = axis
        self.out = None

    def forward(self, x):
        """Return log_softmax(x) along self.axis. Shapes: x (any) -> same."""
        ### BEGIN SOLUTION
        shifted = x - np.max(x, axis=self.axis, keepdims=True)
        log_norm = np.log(np.sum(np.exp(shifted), axis=self.axis, keepdims=True))
        self.out = shifted - log_norm
        return self.out
        ### END SOLUTION

    def backward(self, dout):
        """Return dL/dx given dL/dy. Shapes: dout (same as y) -> same."""
        ### BEGIN SOLUTION
        softmax = np.exp(self.out)
        return dout - softmax * np.sum(dout, axis=self.axis, keepdims=True)
        ### END SOLUTION


class Maxout:
    """Maxout: the maximum over groups of k consecutive features.

    Maxout is not applied entry by entry: it splits the D*k input features
    of each sample into D groups of k and outputs the largest value of each
    group. The groups are CONTIGUOUS: output j is the max over features
    j*k, j*k+1, ..., j*k+k-1 (a reshape of x to (N, D, k) puts each group
    on the last axis).

    Forward:  y[n, j] = max over r < k of x[n, j*k + r]
    Backward: the max passes the gradient to its winner only:
              dx[n, j*k + r] = dout[n, j] if x[n, j*k + r] is the maximum
              of group j, else 0. Ties (equal maxima, e.g. zeros after a
              ReLU): only the FIRST maximum of the group wins, as np.argmax
              and torch's max pick.

    Args:
        k: the group size (a positive int); the number of features must be
            a multiple of k.

    Shapes: x (N, D*k) -> y (N, D); dout (N, D) -> dx (N, D*k).
    Matches x.reshape(N, D, k).max(dim=2).values in torch (Goodfellow et
    al., 2013); torch has no Maxout layer of its own.
    """

    def __init__(self, k=2):
        self.params = []
        self.grads = []
        self.k = k
        self.mask = None

    def forward(self, x):
        """Return the max of each group of k features. Shapes: (N, D*k) -> (N, D)."""
        ### BEGIN SOLUTION
        groups = x.reshape(x.shape[0], -1, self.k)
        out = np.max(groups, axis=2)
        winner = np.argmax(groups, axis=2)
        self.mask = np.arange(self.k) == winner[:, :, None]  # (N, D, k): True at each group's maximum
        return out.astype(np.float64)
        ### END SOLUTION

    def backward(self, dout):
        """Return dL/dx: dout routed to each group's maximum. Shapes: (N, D) -> (N, D*k)."""
        ### BEGIN SOLUTION
        dx = np.where(self.mask, dout[:, :, None], 0.0)
        return dx.reshape(dout.shape[0], -1)
        ### END SOLUTION
