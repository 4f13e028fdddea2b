"""Loss functions with a forward and a backward pass.

A loss is the last node of the computational graph:

* ``forward(pred, target)`` returns the loss as a plain Python ``float`` and
  remembers what the backward pass needs. It does not change its inputs.
* ``backward(dout=1.0)`` returns dL/dpred multiplied by ``dout`` (the upstream
  gradient, 1.0 when the loss is the final output). The result has the shape
  of ``pred`` and dtype float64.

``reduction`` follows PyTorch: ``"mean"`` averages the per-element (or
per-sample) losses, ``"sum"`` adds them up. With ``"mean"`` every gradient
entry carries the factor 1 / (number of terms averaged).
"""
import numpy as np


class MSELoss:
    """Mean squared error.

    Forward:  L = sum((pred - target)**2) / M   with reduction="mean",
                  where M = pred.size (ALL elements, not just the batch)
              L = sum((pred - target)**2)       with reduction="sum"
    Backward: dL/dpred = 2 * (pred - target) / M   ("mean")
              dL/dpred = 2 * (pred - target)       ("sum")
              each multiplied by the upstream gradient dout.

    Args:
        reduction: "mean" (default) or "sum".

    Shapes: pred and target of the same (any) shape -> float.
    Matches torch.nn.MSELoss(reduction=reduction).
    """

    def __init__(self, reduction="mean"):
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
        self.reduction = reduction
        self.diff = None

    def forward(self, pred, target):
        """Return the loss as a Python float. Shapes: pred, target (same) -> float."""
        raise NotImplementedError("MSELoss.forward is not implemented yet: write your code here")

    def backward(self, dout=1.0):
        """Return dL/dpred * dout. Shapes: -> same as pred."""
        raise NotImplementedError("MSELoss.backward is not implemented yet: write your code here")


class SoftmaxCrossEntropy:
    """Softmax followed by the negative log-likelihood of the true class.

    Forward:  log_p = log_softmax(pred) along the class axis 1
              l_n   = -log_p[n, target[n]]
              L     = mean_n l_n  ("mean")   or   sum_n l_n  ("sum")
    Backward: dL/dpred[n, c] = (softmax(pred)[n, c] - [c == target[n]]) / N
              for "mean" (no division by N for "sum"), times dout.
              Combining softmax and cross-entropy gives this very simple
              gradient: "probabilities minus one-hot labels".

    Stability: compute log_p with the log-sum-exp trick (subtract the row
    maximum before exponentiating). Never take log(softmax(pred)): for
    logits of +-1000 the softmax underflows to 0 and log(0) = -inf.

    Args:
        reduction: "mean" (default) or "sum".

    Shapes: pred (N, C) float logits, target (N,) integer class indices in
    [0, C) -> float.
    Matches torch.nn.functional.cross_entropy(pred, target, reduction=reduction)
    (equivalently torch.nn.CrossEntropyLoss).
    """

    def __init__(self, reduction="mean"):
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
        self.reduction = reduction
        self.probs = None
        self.target = None

    def forward(self, pred, target):
        """Return the loss as a Python float. Shapes: pred (N, C), target (N,) -> float."""
        raise NotImplementedError("SoftmaxCrossEntropy.forward is not implemented yet: write your code here")

    def backward(self, dout=1.0):
        """Return dL/dpred * dout. Shapes: -> (N, C)."""
        raise NotImplementedError("SoftmaxCrossEntropy.backward is not implemented yet: write your code here")


# --------------------------------------------------------------------------- regression losses
#
# The losses below also accept reduction="none": forward then returns the
# per-element (or per-sample) losses as a float64 array instead of a float,
# and backward(dout) takes dout of that array's shape (the upstream gradient
# of every single loss term) and returns dL/dpred * dout.

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction, allowed=_REDUCTIONS):
    if reduction not in allowed:
        raise ValueError(f"reduction must be one of {', '.join(map(repr, allowed))}, got {reduction!r}")
    return reduction


class L1Loss:
    """Mean absolute error (MAE, L1 loss).

    Forward:  l = |pred - target|                element by element
              L = sum(l) / M   ("mean", M = pred.size, ALL elements)
              L = sum(l)       ("sum")
              L = l            ("none": a float64 array of pred's shape)
    Backward: dl/dpred = sign(pred - target)   (|d| has no slope at d = 0;
              like PyTorch, use sign(0) = 0), divided by M for "mean";
              times dout (a scalar, or an array of pred's shape for "none").

    Unlike MSE, every error pulls with the same strength (the gradient is
    +-1 whatever the size of the error), which makes MAE robust to outliers.

    Args:
        reduction: "mean" (default), "sum" or "none".

    Shapes: pred and target of the same (any) shape -> float
    (pred's shape for "none").
    Matches torch.nn.L1Loss(reduction=reduction).
    """

    def __init__(self, reduction="mean"):
        self.reduction = _check_reduction(reduction)
        self.diff = None

    def forward(self, pred, target):
        """Return the loss (a float, or an array for "none"). Shapes: pred, target (same) -> float."""
        raise NotImplementedError("L1Loss.forward is not implemented yet: write your code here")

    def backward(self, dout=1.0):
        """Return dL/dpred * dout. Shapes: -> same as pred."""
        raise NotImplementedError("L1Loss.backward is not implemented yet: write your code here")


class MSLELoss:
    """Mean squared logarithmic error.

    Forward:  r = log(1 + pred) - log(1 + target)   element by element
                  (np.log1p(x) computes log(1 + x) accurately for small x)
              l = r**2
              L = sum(l) / M ("mean", M = pred.size), sum(l) ("sum"), l ("none")
    Backward: dl/dpred = 2 * r / (1 + pred), divided by M for "mean", times dout.

    MSLE compares relative rather than absolute errors: predicting 110 for
    100 costs about as much as predicting 1.1 for 1. Inputs must be > -1
    (in practice non-negative quantities: prices, counts).

    Args:
        reduction: "mean" (default), "sum" or "none".

    Shapes: pred and target of the same (any) shape, entries > -1 -> float
    (pred's shape for "none").
    PyTorch has no MSLE class; this equals
    torch.nn.MSELoss(reduction=reduction)(torch.log1p(pred), torch.log1p(target)).
    """

    def __init__(self, reduction="mean"):
        self.reduction = _check_reduction(reduction)
        self.r = None
        self.pred = None

    def forward(self, pred, target):
        """Return the loss (a float, or an array for "none"). Shapes: pred, target (same) -> float."""
        raise NotImplementedError("MSLELoss.forward is not implemented yet: write your code here")

    def backward(self, dout=1.0):
        """Return dL/dpred * dout. Shapes: -> same as pred."""
        raise NotImplementedError("MSLELoss.backward is not implemented yet: write your code here")


class MAPELoss:
    """Mean absolute percentage error, as a fraction (0.05 means 5 %).

    Forward:  l = |(target - pred) / target|   element by element
              L = sum(l) / M ("mean", M = pred.size), sum(l) ("sum"), l ("none")
    Backward: dl/dpred = sign(pred - target) / |target|   (sign(0) = 0),
              divided by M for "mean", times dout.

    The error is measured relative to the target, so the target must never
    be 0 (and near-zero targets make the loss explode). No factor 100 here:
    multiply by 100 yourself to print a percentage.

    Args:
        reduction: "mean" (default), "sum" or "none".

    Shapes: pred and target of the same (any) shape, target != 0 -> float
    (pred's shape for "none").
    PyTorch has no MAPE class; this equals
    torch.mean(torch.abs((target - pred) / target)) for "mean".
    """

    def __init__(self, reduction="mean"):
        self.reduction = _check_reduction(reduction)
        self.diff = None
        self.target = None

    def forward(self, pred, target):
        """Return the loss (a float, or an array for "none"). Shapes: pred, target (same) -> float."""
        raise NotImplementedError("MAPELoss.forward is not implemented yet: write your code here")

    def backward(self, dout=1.0):
        """Return dL/dpred * dout. Shapes: -> same as pred."""
        raise NotImplementedError("MAPELoss.backward is not implemented yet: write your code here")


class SmoothL1Loss:
    """Smooth L1 loss: quadratic for small errors, linear for large ones.

    Forward:  d = pred - target                      element by element
              l = 0.5 * d**2 / beta      where |d| < beta
              l = |d| - 0.5 * beta       elsewhere
              L = sum(l) / M ("mean", M = pred.size), sum(l) ("sum"), l ("none")
    Backward: dl/dpred = d / beta where |d| < beta, sign(d) elsewhere;
              divided by M for "mean", times dout.

    The two pieces meet with the same value and the same slope (+-1) at
    |d| = beta. beta = 0 makes it exactly the L1 loss (PyTorch's special
    case: then the quadratic piece is never used). Note the difference with
    HuberLoss: here the linear part has slope 1, so the quadratic part is
    scaled by 1/beta; Huber = beta * SmoothL1 when delta = beta.

    Args:
        reduction: "mean" (default), "sum" or "none".
        beta: where the quadratic piece ends, >= 0 (default 1.0).

    Shapes: pred and target of the same (any) shape -> float
    (pred's shape for "none").
    Matches torch.nn.SmoothL1Loss(reduction=reduction, beta=beta).
    """

    def __init__(self, reduction="mean", beta=1.0):
        self.reduction = _check_reduction(reduction)
        if beta < 0:
            raise ValueError(f"beta must be non-negative, got {beta}")
        self.beta = float(beta)
        self.diff = None

    def forward(self, pred, target):
        """Return the loss (a float, or an array for "none"). Shapes: pred, target (same) -> float."""
        raise NotImplementedError("SmoothL1Loss.forward is not implemented yet: write your code here")

    def backward(self, dout=1.0):
        """Return dL/dpred * dout. Shapes: -> same as pred."""
        raise NotImplementedError("SmoothL1Loss.backward is not implemented yet: write your code here")


class HuberLoss:
    """Huber loss: quadratic for small errors, linear with slope delta for large ones.

    Forward:  d = pred - target                          element by element
              l = 0.5 * d**2                   where |d| < delta
              l = delta * (|d| - 0.5 * delta)  elsewhere
              L = sum(l) / M ("mean", M = pred.size), sum(l) ("sum"), l ("none")
    Backward: dl/dpred = d where |d| < delta, delta * sign(d) elsewhere;
              divided by M for "mean", times dout.
              In other words the gradient is d clipped to [-delta, delta].

    Unlike SmoothL1Loss, the quadratic part is not divided by delta, so the
    linear part has slope delta (HuberLoss(delta) = delta * SmoothL1Loss(beta=delta)).

    Args:
        reduction: "mean" (default), "sum" or "none".
        delta: where the quadratic piece ends, > 0 (default 1.0).

    Shapes: pred and target of the same (any) shape -> float
    (pred's shape for "none").
    Matches torch.nn.HuberLoss(reduction=reduction, delta=delta).
    """

    def __init__(self, reduction="mean", delta=1.0):
        self.reduction = _check_reduction(reduction)
        if delta <= 0:
            raise ValueError(f"delta must be positive, got {delta}")
        self.delta = float(delta)
        self.diff = None

    def forward(self, pred, target):
        """Return the loss (a float, or an array for "none"). Shapes: pred, target (same) -> float."""
        raise NotImplementedError("HuberLoss.forward is not implemented yet: write your code here")

    def backward(self, dout=1.0):
        """Return dL/dpred * dout. Shapes: -> same as pred."""
        raise NotImplementedError("HuberLoss.backward is not implemented yet: write your code here")


# --------------------------------------------------------------------------- margin losses (labels -1 / +1)


class HingeLoss:
    """Hinge loss (the loss of a linear SVM), for labels -1 and +1.

    Forward:  m = target * pred            (the margin, element by element)
              l = max(0, 1 - m)
              L = sum(l) / M ("mean", M = pred.size), sum(l) ("sum"), l ("none")
    Backward: dl/dpred = -target where m < 1, 0 where m > 1 (a subgradient:
              l has a kink at m = 1), divided by M for "mean", times dout.

    Correct predictions beyond the margin (m >= 1) cost nothing and get no
    gradient; everything else is pushed towards the margin with constant force.

    Args:
        reduction: "mean" (default), "sum" or "none".

    Shapes: pred (any shape) float scores, target of the same shape holding
    -1.0 or +1.0 -> float (pred's shape for "none").
    PyTorch has no binary hinge class; this equals
    torch.clamp(1 - target * pred, min=0).mean() for "mean".
    """

    def __init__(self, reduction="mean"):
        self.reduction = _check_reduction(reduction)
        self.target = None
        self.active = None

    def forward(self, pred, target):
        """Return the loss (a float, or an array for "none"). Shapes: pred, target (same) -> float."""
        raise NotImplementedError("HingeLoss.forward is not implemented yet: write your code here")

    def backward(self, dout=1.0):
        """Return dL/dpred * dout. Shapes: -> same as pred."""
        raise NotImplementedError("HingeLoss.backward is not implemented yet: write your code here")


class SquaredHingeLoss:
    """Squared hinge loss, for labels -1 and +1.

    Forward:  m = target * pred
              l = max(0, 1 - m)**2
              L = sum(l) / M ("mean", M = pred.size), sum(l) ("sum"), l ("none")
    Backward: dl/dpred = -2 * target * max(0, 1 - m), divided by M for "mean",
              times dout. Squaring removes the kink of the hinge: the
              gradient goes smoothly to 0 at the margin m = 1.

    Args:
        reduction: "mean" (default), "sum" or "none".

    Shapes: pred (any shape) float scores, target of the same shape holding
    -1.0 or +1.0 -> float (pred's shape for "none").
    PyTorch has no class for it; this equals
    (torch.clamp(1 - target * pred, min=0) ** 2).mean() for "mean".
    """

    def __init__(self, reduction="mean"):
        self.reduction = _check_reduction(reduction)
        self.target = None
        self.slack = None

    def forward(self, pred, target):
        """Return the loss (a float, or an array for "none"). Shapes: pred, target (same) -> float."""
        raise NotImplementedError("SquaredHingeLoss.forward is not implemented yet: write your code here")

    def backward(self, dout=1.0):
        """Return dL/dpred * dout. Shapes: -> same as pred."""
        raise NotImplementedError("SquaredHingeLoss.backward is not implemented yet: write your code here")


class LogisticLoss:
    """Logistic loss (logistic regression), for labels -1 and +1 and real-valued scores (logits).

    Forward:  m = target * pred
              l = log(1 + exp(-m))          = softplus(-m)
              L = sum(l) / M ("mean", M = pred.size), sum(l) ("sum"), l ("none")
    Backward: dl/dpred = -target * sigmoid(-m), divided by M for "mean", times dout.

    With labels 0/1 instead of -1/+1 this is exactly binary cross-entropy on
    logits (BCEWithLogitsLoss with target = (y + 1) / 2).

    Stability: exp(-m) overflows for m = -1000. Use
        log(1 + exp(-m)) = max(-m, 0) + log1p(exp(-|m|))
    and compute sigmoid(-m) from exp(-|m|) as well, so that no exp ever
    sees a large positive argument. Both must be exact for any score.

    Args:
        reduction: "mean" (default), "sum" or "none".

    Shapes: pred (any shape) float scores, target of the same shape holding
    -1.0 or +1.0 -> float (pred's shape for "none").
    PyTorch has no class for it; this equals
    torch.nn.functional.softplus(-target * pred).mean() for "mean"
    (torch.nn.SoftMarginLoss is the same loss with "mean").
    """

    def __init__(self, reduction="mean"):
        self.reduction = _check_reduction(reduction)
        self.target = None
        self.margin = None

    def forward(self, pred, target):
        """Return the loss (a float, or an array for "none"). Shapes: pred, target (same) -> float."""
        raise NotImplementedError("LogisticLoss.forward is not implemented yet: write your code here")

    def backward(self, dout=1.0):
        """Return dL/dpred * dout. Shapes: -> same as pred."""
        raise NotImplementedError("LogisticLoss.backward is not implemented yet: write your code here")


class ExponentialLoss:
    """Exponential loss (the loss AdaBoost minimizes), for labels -1 and +1.

    Forward:  m = target * pred
              l = exp(-m)
              L = sum(l) / M ("mean", M = pred.size), sum(l) ("sum"), l ("none")
    Backward: dl/dpred = -target * exp(-m), divided by M for "mean", times dout.

    Badly misclassified points (m very negative) cost exponentially much,
    which makes this loss very sensitive to outliers and label noise.

    Args:
        reduction: "mean" (default), "sum" or "none".

    Shapes: pred (any shape) float scores, target of the same shape holding
    -1.0 or +1.0 -> float (pred's shape for "none").
    PyTorch has no class for it; this equals
    torch.exp(-target * pred).mean() for "mean".
    """

    def __init__(self, reduction="mean"):
        self.reduction = _check_reduction(reduction)
        self.target = None
        self.losses = None

    def forward(self, pred, target):
        """Return the loss (a float, or an array for "none"). Shapes: pred, target (same) -> float."""
        raise NotImplementedError("ExponentialLoss.forward is not implemented yet: write your code here")

    def backward(self, dout=1.0):
        """Return dL/dpred * dout. Shapes: -> same as pred."""
        raise NotImplementedError("ExponentialLoss.backward is not implemented yet: write your code here")


# --------------------------------------------------------------------------- probabilistic losses


class BCELoss:
    """Binary cross-entropy on probabilities.

    Forward:  l = -weight * (target * log(pred) + (1 - target) * log(1 - pred))
              element by element, where, as in PyTorch, each log is clamped
              to be >= -100 (so pred = 0 or 1 gives a finite loss):
                  log(pred) -> max(log(pred), -100)
              L = sum(l) / M ("mean", M = pred.size), sum(l) ("sum"), l ("none")
    Backward: dl/dpred = weight * (pred - target) / (pred * (1 - pred))
              (= weight * (-target / pred + (1 - target) / (1 - pred))),
              divided by M for "mean", times dout. PyTorch guards the
              denominator with max(pred * (1 - pred), 1e-12).

    pred must lie in [0, 1] (the output of a sigmoid); target may be any
    value in [0, 1] (usually 0 or 1). np.log(0) is -inf and warns (raises
    under np.errstate(divide="raise")): compute it under
    np.errstate(divide="ignore"), then clamp, and never multiply an
    unclamped -inf by a zero target (0 * -inf = nan).
    Prefer BCEWithLogitsLoss in practice: it is stable without any clamp.

    Args:
        weight: optional float array broadcastable to pred's shape, a
            rescaling weight of each element's loss (not learned).
        reduction: "mean" (default), "sum" or "none".

    Shapes: pred and target of the same (any) shape -> float
    (pred's shape for "none").
    Matches torch.nn.BCELoss(weight=weight, reduction=reduction).
    """

    def __init__(self, weight=None, reduction="mean"):
        self.weight = weight
        self.reduction = _check_reduction(reduction)
        self.pred = None
        self.target = None

    def forward(self, pred, target):
        """Return the loss (a float, or an array for "none"). Shapes: pred, target (same) -> float."""
        raise NotImplementedError("BCELoss.forward is not implemented yet: write your code here")

    def backward(self, dout=1.0):
        """Return dL/dpred * dout. Shapes: -> same as pred."""
        raise NotImplementedError("BCELoss.backward is not implemented yet: write your code here")


class BCEWithLogitsLoss:
    """Binary cross-entropy on logits: a sigmoid and BCELoss in one stable step.

    Forward:  with x = pred (logits), t = target, s = sigmoid(x),
              w = weight (1 if None), pw = pos_weight (1 if None):
                  l = -w * (pw * t * log(s) + (1 - t) * log(1 - s))
                    =  w * (pw * t * softplus(-x) + (1 - t) * softplus(x))
              since -log(sigmoid(x)) = softplus(-x) = log(1 + exp(-x)) and
              -log(1 - sigmoid(x)) = softplus(x).
              L = sum(l) / M ("mean", M = pred.size), sum(l) ("sum"), l ("none")
    Backward: dl/dx = w * ((1 - t) * s - pw * t * (1 - s)), which is
              w * (s - t) without pos_weight; divided by M for "mean", times dout.

    pos_weight multiplies the loss of positive targets only (pos_weight > 1
    raises recall on an imbalanced problem); weight rescales every element.

    Stability: never compute log(sigmoid(x)): for x = -1000 the sigmoid is 0
    and its log -inf. Use softplus(z) = max(z, 0) + log1p(exp(-|z|)), and a
    sigmoid computed from exp(-|x|). Both are exact for any logit.

    Args:
        weight: optional float array broadcastable to pred's shape (not learned).
        pos_weight: optional float array broadcastable to pred's shape, usually
            of shape (C,) for pred (N, C): one weight per class (not learned).
        reduction: "mean" (default), "sum" or "none".

    Shapes: pred (any shape) float logits, target of the same shape with
    values in [0, 1] -> float (pred's shape for "none").
    Matches torch.nn.BCEWithLogitsLoss(weight=weight, reduction=reduction,
    pos_weight=pos_weight).
    """

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        self.weight = weight
        self.pos_weight = pos_weight
        self.reduction = _check_reduction(reduction)
        self.x = None
        self.target = None

    def forward(self, pred, target):
        """Return the loss (a float, or an array for "none"). Shapes: pred, target (same) -> float."""
        raise NotImplementedError("BCEWithLogitsLoss.forward is not implemented yet: write your code here")

    def backward(self, dout=1.0):
        """Return dL/dpred * dout. Shapes: -> same as pred."""
        raise NotImplementedError("BCEWithLogitsLoss.backward is not implemented yet: write your code here")


class NLLLoss:
    """Negative log-likelihood of the true class, from log-probabilities.

    Forward:  pred holds log-probabilities (N, C) (the output of a
              LogSoftmax); for each sample n with target t_n != ignore_index:
                  l_n = -weight[t_n] * pred[n, t_n]
              and l_n = 0 for ignored samples.
              L = sum_n l_n / sum_{n not ignored} weight[t_n]   ("mean": a
                  WEIGHTED mean; with weight=None, the mean over the samples
                  that are not ignored)
              L = sum_n l_n   ("sum");   L = l, shape (N,)   ("none")
    Backward: dL/dpred[n, c] = -weight[t_n] if c == t_n and n is not ignored,
              0 everywhere else; divided by the same denominator for "mean";
              times dout (dout[n] per row for "none").

    Careful with ignore_index = -100: target[n] = -100 would index
    pred[n, -100] (numpy counts negative indices from the end). Mask the
    ignored samples first (e.g. use np.where(valid, target, 0) as the index).

    Args:
        weight: optional float array (C,), the weight of each class (not learned).
        ignore_index: a target value that contributes neither to the loss nor
            to the denominator of "mean" (default -100).
        reduction: "mean" (default), "sum" or "none".

    Shapes: pred (N, C) float log-probabilities, target (N,) integer class
    indices in [0, C) or equal to ignore_index -> float ((N,) for "none").
    Matches torch.nn.NLLLoss(weight=weight, ignore_index=ignore_index,
    reduction=reduction).
    """

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        self.weight = weight
        self.ignore_index = int(ignore_index)
        self.reduction = _check_reduction(reduction)
        self.shape = None
        self.index = None
        self.coef = None
        self.denominator = None

    def forward(self, pred, target):
        """Return the loss (a float, or an array for "none"). Shapes: pred (N, C), target (N,) -> float."""
        raise NotImplementedError("NLLLoss.forward is not implemented yet: write your code here")

    def backward(self, dout=1.0):
        """Return dL/dpred * dout. Shapes: -> (N, C)."""
        raise NotImplementedError("NLLLoss.backward is not implemented yet: write your code here")


class CrossEntropyLoss:
    """Cross-entropy on logits, as torch.nn.CrossEntropyLoss: LogSoftmax + NLLLoss,
    with class weights, an ignored target value and label smoothing.

    Forward:  log_p = log_softmax(pred) along axis 1 (log-sum-exp trick)
              For sample n with target t_n != ignore_index (w = weight, all
              ones if None; eps = label_smoothing; C classes):
                  nll_n    = -w[t_n] * log_p[n, t_n]
                  smooth_n = -sum_c w[c] * log_p[n, c]
                  l_n = (1 - eps) * nll_n + (eps / C) * smooth_n
              and l_n = 0 for ignored samples. Label smoothing mixes the
              one-hot target with the uniform distribution over ALL C classes
              (the true class included): target_c = (1 - eps) [c == t_n] + eps / C.
              L = sum_n l_n / sum_{n not ignored} w[t_n]   ("mean"; both the
                  nll and the smoothing terms are divided by the weights of
                  the TRUE classes, as PyTorch does)
              L = sum_n l_n ("sum");   L = l, shape (N,) ("none")
    Backward: with p = softmax(pred), for a sample that is not ignored:
                  dl_n/dpred[n] = (1 - eps) * w[t_n] * (p[n] - onehot(t_n))
                                + (eps / C) * (p[n] * sum(w) - w)
              (without weights: p[n] - ((1 - eps) * onehot(t_n) + eps / C));
              zero rows for ignored samples; divided by the same denominator
              for "mean"; times dout (dout[n] per row for "none").

    Stability: subtract the row maximum before exponentiating and never take
    log(softmax(pred)): logits of +-1000 must give finite, exact results.

    Args:
        weight: optional float array (C,), the weight of each class (not learned).
        ignore_index: a target value to skip (default -100); mask before
            indexing, as in NLLLoss.
        reduction: "mean" (default), "sum" or "none".
        label_smoothing: eps in [0, 1] (default 0.0).

    Shapes: pred (N, C) float logits, target (N,) integer class indices in
    [0, C) or equal to ignore_index -> float ((N,) for "none").
    Matches torch.nn.CrossEntropyLoss(weight=weight, ignore_index=ignore_index,
    reduction=reduction, label_smoothing=label_smoothing).
    """

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        self.weight = weight
        self.ignore_index = int(ignore_index)
        self.reduction = _check_reduction(reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"label_smoothing must lie in [0, 1], got {label_smoothing}")
        self.label_smoothing = float(label_smoothing)
        self.probs = None
        self.index = None
        self.valid = None
        self.w = None
        self.coef = None
        self.denominator = None

    def forward(self, pred, target):
        """Return the loss (a float, or an array for "none"). Shapes: pred (N, C), target (N,) -> float."""
        raise NotImplementedError("CrossEntropyLoss.forward is not implemented yet: write your code here")

    def backward(self, dout=1.0):
        """Return dL/dpred * dout. Shapes: -> (N, C)."""
        raise NotImplementedError("CrossEntropyLoss.backward is not implemented yet: write your code here")


class KLDivLoss:
    """Kullback-Leibler divergence KL(target || exp(pred)), as torch.nn.KLDivLoss.

    Forward:  pred holds LOG-probabilities (the model's output after a
              LogSoftmax), target holds probabilities (NOT logs):
                  l = target * (log(target) - pred)      element by element,
              with the convention 0 * log(0) = 0 where target == 0.
              L = sum(l) / N  ("batchmean", N = pred.shape[0]: the true KL
                              divergence per sample, the default here)
              L = sum(l) / M  ("mean", M = pred.size: PyTorch's default, which
                              also divides by the number of classes)
              L = sum(l) ("sum");   L = l ("none", pred's shape)
    Backward: dl/dpred = -target, divided by N ("batchmean") or M ("mean"),
              times dout.

    Beware the argument order: the model's log-probabilities come FIRST, the
    target distribution second, and the divergence is measured FROM the
    target: KL(target || model) = sum target * log(target / model).
    np.log(0) gives -inf and 0 * -inf = nan: mask zero targets (np.where on
    a "safe" copy) rather than relying on the product.

    Args:
        reduction: "batchmean" (default), "mean", "sum" or "none".

    Shapes: pred and target of the same shape (N, ...) -> float
    (pred's shape for "none").
    Matches torch.nn.KLDivLoss(reduction=reduction, log_target=False).
    """

    def __init__(self, reduction="batchmean"):
        self.reduction = _check_reduction(reduction, ("batchmean", *_REDUCTIONS))
        self.target = None

    def forward(self, pred, target):
        """Return the loss (a float, or an array for "none"). Shapes: pred, target (same) -> float."""
        raise NotImplementedError("KLDivLoss.forward is not implemented yet: write your code here")

    def backward(self, dout=1.0):
        """Return dL/dpred * dout. Shapes: -> same as pred."""
        raise NotImplementedError("KLDivLoss.backward is not implemented yet: write your code here")
