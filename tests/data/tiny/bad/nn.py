"""Like good/nn.py, but Rectifier.backward forgets the mask: wrong solutions of the tiny test course (tests/data/tiny/course.yml)."""
import numpy as np


class Rectifier:
    """max(0, x), elementwise."""

    def __init__(self):
        self.params = []
        self.grads = []
        self.mask = None

    def forward(self, x):
        self.mask = x > 0
        return np.where(self.mask, x, 0.0).astype(np.float64)

    def backward(self, dout):
        return np.array(dout, dtype=np.float64)  # bug: the gradient also flows where x <= 0


class Squared:
    """Squared error, averaged ("mean") or summed ("sum") over all elements."""

    def __init__(self, reduction="mean"):
        self.reduction = reduction
        self.diff = None

    def forward(self, pred, target):
        self.diff = np.asarray(pred, dtype=np.float64) - np.asarray(target, dtype=np.float64)
        total = float(np.sum(self.diff ** 2))
        return total / self.diff.size if self.reduction == "mean" else total

    def backward(self, dout=1.0):
        grad = 2.0 * self.diff
        if self.reduction == "mean":
            grad = grad / self.diff.size
        return grad * dout
