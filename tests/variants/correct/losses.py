"""A second correct submission for the losses exercises."""
import numpy as np


class MSELoss:
    def __init__(self, reduction="mean"):
        if reduction not in ("mean", "sum"):
            raise ValueError(reduction)
        self.reduction = reduction

    def forward(self, pred, target):
        r = (np.asarray(pred, dtype=np.float64) - np.asarray(target, dtype=np.float64)).ravel()
        self.r = r
        self.shape = np.shape(pred)
        self.scale = 1.0 / r.size if self.reduction == "mean" else 1.0
        return float(np.dot(r, r) * self.scale)

    def backward(self, dout=1.0):
        return ((2.0 * self.scale * dout) * self.r).reshape(self.shape)


class SoftmaxCrossEntropy:
    def __init__(self, reduction="mean"):
        if reduction not in ("mean", "sum"):
            raise ValueError(reduction)
        self.reduction = reduction

    def forward(self, pred, target):
        z = np.asarray(pred, dtype=np.float64)
        n, c = z.shape
        m = z.max(axis=1)
        lse = m + np.log(np.exp(z - m[:, None]).sum(axis=1))
        onehot = np.eye(c)[np.asarray(target)]
        picked = np.einsum("nc,nc->n", z, onehot)
        self.onehot = onehot
        self.p = np.exp(z - lse[:, None])
        self.weight = 1.0 / n if self.reduction == "mean" else 1.0
        return float(np.sum(lse - picked) * self.weight)

    def backward(self, dout=1.0):
        return (self.p - self.onehot) * (self.weight * dout)
