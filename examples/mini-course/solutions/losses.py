"""A loss: ``forward(pred, target)`` returns the loss, ``backward()`` returns dL/dpred."""
import numpy as np


class HuberLoss:
    """Huber loss: quadratic for small errors, linear with slope delta for large ones.

    Forward:  d = pred - target; l = 0.5 * d**2 where |d| < delta, else delta * (|d| - 0.5 * delta)
              L = mean of l ("mean"), sum of l ("sum"), l itself ("none")
    Backward: dl/dpred = d clipped to [-delta, delta]; divided by the size for "mean"; times dout.

    Args:
        reduction: "mean" (default), "sum" or "none".
        delta: where the quadratic piece ends, > 0 (default 1.0).

    Matches torch.nn.HuberLoss(reduction=reduction, delta=delta).
    """

    def __init__(self, reduction="mean", delta=1.0):
        self.reduction = reduction
        self.delta = float(delta)

    def forward(self, pred, target):
        """Return the loss (a float, or an array for "none")."""
        ### BEGIN SOLUTION
        self.diff = np.asarray(pred, dtype=np.float64) - np.asarray(target, dtype=np.float64)
        a = np.abs(self.diff)
        losses = np.where(a < self.delta, 0.5 * self.diff ** 2, self.delta * (a - 0.5 * self.delta))
        if self.reduction == "none":
            return losses
        total = np.sum(losses)
        return float(total / losses.size if self.reduction == "mean" else total)
        ### END SOLUTION

    def backward(self, dout=1.0):
        """Return dL/dpred (dout: the upstream gradient, an array of pred's shape for "none")."""
        ### BEGIN SOLUTION
        grad = np.clip(self.diff, -self.delta, self.delta)
        if self.reduction == "mean":
            grad = grad / self.diff.size
        return grad * dout
        ### END SOLUTION
