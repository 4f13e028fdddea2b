"""A second correct submission for the layers exercises (einsum based)."""
import numpy as np


class Affine:
    def __init__(self, W, b):
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]

    def forward(self, x):
        self.x = np.array(x, dtype=np.float64, copy=True)
        W, b = self.params
        return np.einsum("ni,ik->nk", self.x, W) + b[np.newaxis, :]

    def backward(self, dout):
        W = self.params[0]
        np.copyto(self.grads[0], np.einsum("ni,nk->ik", self.x, dout))
        np.copyto(self.grads[1], np.einsum("nk->k", dout))
        return np.einsum("nk,ik->ni", dout, W)
