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
