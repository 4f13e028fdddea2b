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
        raise NotImplementedError("HuberLoss.forward is not implemented yet: write your code here")

    def backward(self, dout=1.0):
        """Return dL/dpred (dout: the upstream gradient, an array of pred's shape for "none")."""
        raise NotImplementedError("HuberLoss.backward is not implemented yet: write your code here")
