"""Regularization layers: dropout, batch normalization and randomized leaky ReLU.

These layers behave differently in TRAINING and in EVALUATION, like their
PyTorch twins (``model.train()`` / ``model.eval()``). Here the mode is the
constructor keyword ``train`` (True or False), kept in ``self.train``; you may
switch it later with ``layer.train = False``.

The protocol is the one of the other layers:

* ``forward(x)`` returns a NEW float64 array and never changes ``x``.
* ``backward(dout)`` returns dL/dx (a new array, ``dout`` untouched) for the
  LAST forward call, and writes parameter gradients INTO ``self.grads``.

Dropout and RReLU draw random numbers in training. Draw them in forward, keep
them, and apply exactly the same numbers in backward: the gradient belongs to
the function forward actually computed. Every forward call in training draws
fresh numbers (use ``self.rng``, a ``numpy.random.Generator``). In evaluation
they draw nothing and are deterministic.

Batch normalization keeps running estimates of the mean and the variance of
every feature. In training they are updated IN PLACE at each forward call
(``self.running_mean[...] = ...``), so that whoever handed the arrays in sees
the new values; in evaluation they replace the batch statistics.
"""
import numpy as np


class Dropout:
    """Inverted dropout: zero each element with probability p in training.

    Training:   draw a mask m with m = 1 with probability 1 - p and 0 with
                probability p, independently for every element, then
                    y = x * m / (1 - p)
                (the kept elements are scaled by 1 / (1 - p), so that the
                expected value of y is x: nothing needs rescaling at test
                time; that is the "inverted" in inverted dropout).
                Backward: dx = dout * m / (1 - p), with the SAME mask.
    Evaluation: the identity, y = x and dx = dout (return copies).

    p is the probability to DROP an element (as in PyTorch), not to keep it.
    Conventions: ours is torch's inverted dropout with p = drop probability.
    Some textbooks take p as the KEEP probability; the original paper does
    not scale in training and multiplies by 1 - p at test time instead.
    Typical values: 0.2 on inputs, up to 0.5 on hidden layers. With p = 1
    every element is dropped: y = 0.

    Args:
        p: drop probability, 0 <= p <= 1 (default 0.5).
        train: True for training mode (random mask), False for evaluation.

    Shapes: x of any shape -> y of the same shape.
    Matches torch.nn.Dropout(p) (torch.nn.functional.dropout(x, p, training)).
    """

    def __init__(self, p=0.5, train=True):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must lie in [0, 1], got {p}")
        self.p = float(p)
        self.train = bool(train)
        self.params = []
        self.grads = []
        self.rng = np.random.default_rng()
        self.scale = None

    def forward(self, x):
        """Return dropout(x): masked and scaled in training, x itself (a copy) in evaluation.

        Shapes: x (any) -> same.
        """
        ### BEGIN SOLUTION
        x = np.asarray(x, dtype=np.float64)
        if not self.train:
            self.scale = None
            return x.copy()
        if self.p == 1.0:
            self.scale = np.zeros_like(x)
        else:
            keep = self.rng.random(x.shape) >= self.p  # True with probability 1 - p
            self.scale = keep / (1.0 - self.p)
        return x * self.scale
        ### END SOLUTION

    def backward(self, dout):
        """Return dL/dx given dL/dy, with the mask of the last forward call.

        Shapes: dout (same as y) -> same.
        """
        ### BEGIN SOLUTION
        if self.scale is None:
            return np.array(dout, dtype=np.float64)
        return dout * self.scale
        ### END SOLUTION


class BatchNorm1d:
    """Batch normalization over the batch axis of an (N, D) input.

    Training (statistics of the current batch, per feature j):
        mu[j]   = mean over n of x[n, j]
        var[j]  = mean over n of (x[n, j] - mu[j])**2      (BIASED: divide by N)
        xhat    = (x - mu) / sqrt(var + eps)
        y       = gamma * xhat + beta
      and the running estimates are updated in place:
        running_mean = (1 - momentum) * running_mean + momentum * mu
        running_var  = (1 - momentum) * running_var  + momentum * var * N / (N - 1)
      (the running variance uses the UNBIASED batch variance, divided by
      N - 1, as PyTorch does; normalisation uses the biased one).
    Evaluation: the same, with mu = running_mean and var = running_var;
      nothing is updated.

    Backward (training), with dxhat = dout * gamma and sums over the batch:
        dgamma = sum_n dout * xhat            dbeta = sum_n dout
        dx = (dxhat - mean_n(dxhat) - xhat * mean_n(dxhat * xhat)) / sqrt(var + eps)
      (mu and var depend on x, hence the two extra terms).
    Backward (evaluation): mu and var are constants, so
        dx = dxhat / sqrt(running_var + eps)

    Conventions: ours is torch's, momentum = weight of the NEW batch value
    (default 0.1). Some textbooks weight the OLD value instead, running =
    momentum * running + (1 - momentum) * batch with momentum = 0.9; some
    update running_var with the biased variance (divided by N, not N - 1).

    Args:
        gamma: scale, shape (D,); beta: shift, shape (D,). The layer keeps
            these very arrays: params = [gamma, beta].
        momentum: weight of the batch statistics in the running update.
        eps: added to the variance before the square root.
        running_mean, running_var: arrays of shape (D,) that the layer keeps
            and updates in place (defaults: zeros and ones).
        train: True for training mode, False for evaluation.

    Shapes: x (N, D) -> y (N, D); N >= 2 in training.
    Matches torch.nn.BatchNorm1d(D, eps=eps, momentum=momentum) with
    weight = gamma, bias = beta (torch.nn.functional.batch_norm).
    """

    def __init__(self, gamma, beta, momentum=0.1, eps=1e-5, running_mean=None, running_var=None, train=True):
        self.gamma = gamma
        self.beta = beta
        self.params = [gamma, beta]
        self.grads = [np.zeros_like(gamma), np.zeros_like(beta)]
        self.momentum = float(momentum)
        self.eps = float(eps)
        self.running_mean = np.zeros_like(gamma) if running_mean is None else running_mean
        self.running_var = np.ones_like(gamma) if running_var is None else running_var
        self.train = bool(train)
        self.cache = None

    def forward(self, x):
        """Return gamma * xhat + beta; in training also update the running statistics in place.

        Shapes: x (N, D) -> (N, D).
        """
        ### BEGIN SOLUTION
        x = np.asarray(x, dtype=np.float64)
        if self.train:
            n = x.shape[0]
            if n < 2:
                raise ValueError("batch normalization in training needs more than one sample per feature")
            mu = x.mean(axis=0)
            var = x.var(axis=0)  # biased: divides by N
            m = self.momentum
            self.running_mean[...] = (1.0 - m) * self.running_mean + m * mu
            self.running_var[...] = (1.0 - m) * self.running_var + m * var * n / (n - 1)
        else:
            mu, var = self.running_mean, self.running_var
        inv_std = 1.0 / np.sqrt(var + self.eps)
        xhat = (x - mu) * inv_std
        self.cache = (xhat, inv_std, self.train)
        return self.gamma * xhat + self.beta
        ### END SOLUTION

    def backward(self, dout):
        """Return dL/dx; write dL/dgamma and dL/dbeta into self.grads.

        Shapes: dout (N, D) -> dx (N, D).
        """
        ### BEGIN SOLUTION
        xhat, inv_std, train = self.cache
        self.grads[0][...] = np.sum(dout * xhat, axis=0)
        self.grads[1][...] = np.sum(dout, axis=0)
        dxhat = dout * self.gamma
        if not train:
            return dxhat * inv_std
        return (dxhat - dxhat.mean(axis=0) - xhat * np.mean(dxhat * xhat, axis=0)) * inv_std
        ### END SOLUTION


class RReLU:
    """Randomized leaky ReLU.

    Training:   draw one slope a per element, uniformly in [lower, upper]:
                    y = x       where x >= 0
                    y = a * x   where x < 0
                Backward: dx = dout where x >= 0, a * dout where x < 0, with
                the SAME slopes a as forward.
    Evaluation: a fixed slope a = (lower + upper) / 2 for every element.

    Args:
        lower, upper: range of the random slopes (defaults 1/8 and 1/3).
        train: True for training mode (random slopes), False for evaluation.

    Shapes: x of any shape -> y of the same shape.
    Matches torch.nn.RReLU(lower, upper) (torch.nn.functional.rrelu).
    """

    def __init__(self, lower=1 / 8, upper=1 / 3, train=True):
        if not lower <= upper:
            raise ValueError(f"need lower <= upper, got {lower} and {upper}")
        self.lower = float(lower)
        self.upper = float(upper)
        self.train = bool(train)
        self.params = []
        self.grads = []
        self.rng = np.random.default_rng()
        self.slope = None

    def forward(self, x):
        """Return rrelu(x). Shapes: x (any) -> same."""
        ### BEGIN SOLUTION
        x = np.asarray(x, dtype=np.float64)
        if self.train:
            a = self.rng.uniform(self.lower, self.upper, size=x.shape)
        else:
            a = (self.lower + self.upper) / 2
        self.slope = np.where(x >= 0, 1.0, a)
        return x * self.slope
        ### END SOLUTION

    def backward(self, dout):
        """Return dL/dx given dL/dy, with the slopes of the last forward call.

        Shapes: dout (same as y) -> same.
        """
        ### BEGIN SOLUTION
        return dout * self.slope
        ### END SOLUTION
