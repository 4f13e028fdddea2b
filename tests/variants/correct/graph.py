"""A second correct submission for the graph-node exercises, written differently from solutions/graph.py:
index arrays and np.add.at for Repeat, np.add.reduce and np.repeat for Sum, np.dot for MatMul."""
import numpy as np


class MatMul:
    def __init__(self, W):
        self.params = [W]
        self.grads = [np.zeros_like(W)]

    def forward(self, x):
        self.x = np.array(x, dtype=np.float64, copy=True)
        return np.dot(self.x, self.params[0])

    def backward(self, dout):
        np.dot(self.x.T, dout, out=self.grads[0])
        return np.dot(dout, self.params[0].T)


class Repeat:
    def __init__(self, axis=0, n=2):
        self.params = []
        self.grads = []
        self.axis = axis
        self.n = n

    def forward(self, x):
        x = np.asarray(x, dtype=np.float64)
        self.axis_ = self.axis if self.axis >= 0 else x.ndim + self.axis
        self.size = x.shape[self.axis_]
        self.index = np.arange(self.size * self.n) // self.n  # entry i of y comes from x[i // n]
        self.shape = x.shape
        return np.take(x, self.index, axis=self.axis_)

    def backward(self, dout):
        moved = np.moveaxis(np.asarray(dout, dtype=np.float64), self.axis_, 0)
        acc = np.zeros((self.size,) + moved.shape[1:])
        np.add.at(acc, self.index, moved)
        return np.moveaxis(acc, 0, self.axis_)


class Sum:
    def __init__(self, axis=0, keepdims=False):
        self.params = []
        self.grads = []
        self.axis = axis
        self.keepdims = keepdims

    def forward(self, x):
        x = np.asarray(x, dtype=np.float64)
        self.shape = x.shape
        self.axis_ = self.axis % x.ndim
        out = np.add.reduce(x, axis=self.axis_)
        return np.expand_dims(out, self.axis_) if self.keepdims else np.array(out)

    def backward(self, dout):
        d = np.asarray(dout, dtype=np.float64)
        if not self.keepdims:
            d = np.expand_dims(d, self.axis_)
        return np.repeat(d, self.shape[self.axis_], axis=self.axis_)
