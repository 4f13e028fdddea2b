"""Training utilities: gradient clipping, weight decay, a learning-rate schedule, early stopping, mini-batches.

None of these is a layer: they are the small pieces of a training loop around the layers.

* Gradient clipping bounds the size of one update. Where the loss surface
  has a cliff, the gradient can be huge, and one step would throw the
  weights far away; clipping keeps the direction (``clip_grad_norm``) or
  bounds every entry (``clip_grad_value``).
* Weight decay adds a penalty lam * Omega(w) to the loss, pulling the weights
  towards 0: L1 (Omega = sum |w|, LASSO) makes many weights exactly 0; L2
  (Omega = 1/2 sum w**2, ridge) makes them small.
* A learning-rate schedule lowers the step size as training goes on.
* Early stopping ends training when the validation loss has stopped
  improving for ``patience`` epochs.
* ``minibatches`` cuts a data set into batches for one epoch: batch_size = N
  is batch gradient descent (BGD), 1 is stochastic gradient descent (SGD),
  anything in between is mini-batch gradient descent (MBGD).

Conventions: ``params`` and ``grads`` are lists of float64 numpy arrays, as a
model collects them from its layers (``layer.params``, ``layer.grads``).
Functions that change ``grads`` do so IN PLACE (``g *= c``, ``g += d``,
``np.clip(g, lo, hi, out=g)``): the layers keep references to these very
arrays, so a new array would never reach them.
"""
import math

import numpy as np


def clip_grad_norm(grads, max_norm, norm_type=2.0):
    """Scale all gradients together so that their total norm is at most max_norm.

    total = (sum over all arrays g and entries i of |g_i| ** p) ** (1 / p)
            with p = norm_type; for p = inf: total = max over all entries of |g_i|
    coef  = max_norm / (total + 1e-6)
    if coef < 1: every g is multiplied by coef (in place); otherwise nothing changes.

    The norm is taken over ALL arrays at once, as if they were one long
    vector, so the direction of the whole update is kept. The 1e-6 keeps the
    division finite when every gradient is 0.

    Args:
        grads: list of float64 arrays (any shapes), changed in place.
        max_norm: largest allowed total norm (float > 0).
        norm_type: p of the p-norm (float, default 2.0), or ``math.inf``.

    Returns:
        The total norm BEFORE clipping, as a float.

    Matches torch.nn.utils.clip_grad_norm_(parameters, max_norm, norm_type),
    which reads each parameter's .grad.
    """
    ### BEGIN SOLUTION
    p = float(norm_type)
    if math.isinf(p):
        total = max((float(np.max(np.abs(g))) for g in grads if g.size), default=0.0)
    else:
        total = sum(float(np.sum(np.abs(g) ** p)) for g in grads) ** (1.0 / p)
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for g in grads:
            g *= coef
    return float(total)
    ### END SOLUTION


def clip_grad_value(grads, clip):
    """Clip every gradient entry into [-clip, clip], in place.

    g_i <- min(max(g_i, -clip), clip)   for every entry of every array.

    Unlike clip_grad_norm this changes the direction of the update: only the
    entries that are too large (in either direction) are cut.

    Args:
        grads: list of float64 arrays (any shapes), changed in place.
        clip: the bound (float > 0).

    Returns:
        None.

    Matches torch.nn.utils.clip_grad_value_(parameters, clip_value=clip).
    """
    ### BEGIN SOLUTION
    for g in grads:
        np.clip(g, -clip, clip, out=g)
    ### END SOLUTION


def l1_penalty(params, lam):
    """The L1 weight-decay penalty lam * sum |w| over all parameter arrays.

    P = lam * sum over all arrays w and entries i of |w_i|

    Args:
        params: list of float64 arrays (any shapes); not changed.
        lam: penalty strength (float >= 0).

    Returns:
        P as a Python float.

    Matches lam * sum(p.abs().sum() for p in model.parameters()) in torch
    (added to the loss by hand: torch optimizers have no L1 option).
    """
    ### BEGIN SOLUTION
    return float(lam * sum(float(np.sum(np.abs(w))) for w in params))
    ### END SOLUTION


def l1_penalty_grad(params, grads, lam):
    """Add the gradient of the L1 penalty to grads, in place.

    dP/dw = lam * sign(w)        (sign(0) = 0, as torch's abs backward)
    grads[k] += lam * sign(params[k])   for every k

    The gradients of the data loss are already in ``grads`` (backward wrote
    them); the penalty's gradient is added on top, so that the optimizer
    step sees the gradient of loss + penalty.

    Args:
        params: list of float64 arrays; not changed.
        grads: list of float64 arrays of the same shapes, changed in place.
        lam: penalty strength (float >= 0).

    Returns:
        None.

    Matches the .grad that autograd adds for lam * sum(p.abs().sum()).
    """
    ### BEGIN SOLUTION
    for w, g in zip(params, grads):
        g += lam * np.sign(w)
    ### END SOLUTION


def l2_penalty(params, lam):
    """The L2 weight-decay penalty 0.5 * lam * sum w**2 over all parameter arrays.

    P = lam / 2 * sum over all arrays w and entries i of w_i ** 2

    The 1/2 makes the gradient simply lam * w.

    Args:
        params: list of float64 arrays (any shapes); not changed.
        lam: penalty strength (float >= 0).

    Returns:
        P as a Python float.

    Matches 0.5 * lam * sum((p ** 2).sum() for p in model.parameters()).
    """
    ### BEGIN SOLUTION
    return float(0.5 * lam * sum(float(np.sum(w * w)) for w in params))
    ### END SOLUTION


def l2_penalty_grad(params, grads, lam):
    """Add the gradient of the L2 penalty to grads, in place.

    dP/dw = lam * w
    grads[k] += lam * params[k]   for every k

    Args:
        params: list of float64 arrays; not changed.
        grads: list of float64 arrays of the same shapes, changed in place.
        lam: penalty strength (float >= 0).

    Returns:
        None.

    Matches torch.optim.SGD(..., weight_decay=lam), which adds lam * p to
    p.grad before its step; the same as autograd of 0.5 * lam * sum(p ** 2).
    """
    ### BEGIN SOLUTION
    for w, g in zip(params, grads):
        g += lam * w
    ### END SOLUTION


def step_lr(lr, epoch, step_size, gamma=0.1):
    """The learning rate of a step schedule after ``epoch`` epochs.

    lr_epoch = lr * gamma ** floor(epoch / step_size)

    The rate is multiplied by gamma every step_size epochs: with lr=0.1,
    step_size=3, gamma=0.5: epochs 0-2 use 0.1, epochs 3-5 use 0.05, ...

    Args:
        lr: initial learning rate (float).
        epoch: number of epochs done (int >= 0).
        step_size: epochs between two decays (int >= 1).
        gamma: decay factor (float, default 0.1).

    Returns:
        The learning rate as a float.

    Matches torch.optim.lr_scheduler.StepLR(optimizer, step_size, gamma):
    the optimizer's lr after ``epoch`` calls of scheduler.step().
    """
    ### BEGIN SOLUTION
    return float(lr * gamma ** (epoch // step_size))
    ### END SOLUTION


class EarlyStopping:
    """Stop training when the validation loss has not improved for ``patience`` epochs.

    Call ``step(val_loss)`` once per epoch, after evaluating on the validation
    set:

        improvement  iff  val_loss < best - min_delta      (STRICTLY below)
        improvement:      best = val_loss, counter = 0
        otherwise:        counter += 1
        return counter >= patience                (True = stop training now)

    A loss equal to best - min_delta (or, with min_delta = 0, equal to best)
    is NOT an improvement. The first call always improves on best = inf.

    Example, patience 2, min_delta 0: losses 0.9, 0.7, 0.8, 0.7 give
    counters 0, 0, 1, 2 -> step returns False, False, False, True (epoch 4:
    two epochs without improvement; the second 0.7 only ties the best).

    Args:
        patience: epochs without improvement after which to stop (int >= 1).
        min_delta: how much lower than best a loss must be to count as an
            improvement (float >= 0, default 0.0).

    Attributes:
        best: the lowest validation loss seen so far (inf before the first step).
        counter: epochs since the last improvement.

    Matches the EarlyStopping callbacks of Keras and PyTorch Lightning
    (monitor="val_loss", mode="min"); torch itself has none.
    """

    def __init__(self, patience, min_delta=0.0):
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.best = math.inf
        self.counter = 0

    def step(self, val_loss):
        """Record one epoch's validation loss; return True when training should stop."""
        ### BEGIN SOLUTION
        val_loss = float(val_loss)
        if val_loss < self.best - self.min_delta:
            self.best = val_loss
            self.counter = 0
        else:
            self.counter += 1
        return self.counter >= self.patience
        ### END SOLUTION


def minibatches(X, y, batch_size, shuffle=True, rng=None):
    """Yield the batches (X_batch, y_batch) of one epoch.

    order = rng.permutation(N) when shuffle, else 0, 1, ..., N-1
    batch b holds the samples order[b * batch_size : (b + 1) * batch_size]

    Every sample appears in exactly one batch. All batches have batch_size
    samples except the last, which holds the rest (N % batch_size) when N is
    not a multiple of batch_size: it is kept, not dropped. Rows of X and
    entries of y stay paired: both are indexed with the SAME permutation.
    Each call draws a new permutation from ``rng`` (a new epoch, a new
    order); X and y themselves are never changed.

    batch_size = N gives batch gradient descent (one batch, the whole data
    set), batch_size = 1 stochastic gradient descent (one sample per update).

    Args:
        X: array of shape (N, D) (or any shape with N rows).
        y: array of shape (N,) (or N rows).
        batch_size: samples per batch (int >= 1).
        shuffle: shuffle the order (default True) or keep it.
        rng: a numpy.random.Generator to draw the permutation from; None: a
            fresh np.random.default_rng().

    Yields:
        (X_batch, y_batch) of shapes (B, D) and (B,), B = batch_size except
        for a last, smaller batch.

    Matches torch.utils.data.DataLoader(TensorDataset(X, y), batch_size,
    shuffle=shuffle, drop_last=False), one pass over the loader.
    """
    ### BEGIN SOLUTION
    n = X.shape[0]
    if shuffle:
        rng = np.random.default_rng() if rng is None else rng
        order = rng.permutation(n)
    else:
        order = np.arange(n)
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]
    ### END SOLUTION
