"""A second correct submission for the convolutional exercises, written differently from solutions/cnn.py:
im2col with sliding_window_view and one matrix product for Conv2d, np.add.at to scatter gradients back,
flat argmax indices for MaxPool2d."""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _two(v):
    return (int(v[0]), int(v[1])) if isinstance(v, (list, tuple)) else (int(v), int(v))


def _windows(x, kh, kw, sh, sw):
    """(N, C, H_out, W_out, kh, kw) view of the windows."""
    return sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]


def _scatter(dwin, shape, kh, kw, sh, sw):
    """Add window gradients (N, C, H_out, W_out, kh, kw) back into an array of ``shape``."""
    n, c, ho, wo = dwin.shape[:4]
    rows = (np.arange(ho) * sh)[:, None, None, None] + np.arange(kh)[None, None, :, None]
    cols = (np.arange(wo) * sw)[None, :, None, None] + np.arange(kw)[None, None, None, :]
    rows, cols = np.broadcast_arrays(rows, cols)
    out = np.zeros(shape)
    np.add.at(out, (slice(None), slice(None), rows, cols), dwin)
    return out


class Flatten:
    def __init__(self):
        self.params = []
        self.grads = []

    def forward(self, x):
        self.shape = np.shape(x)
        return np.array(x, dtype=np.float64).reshape(len(x), int(np.prod(self.shape[1:])))

    def backward(self, dout):
        return np.array(dout, dtype=np.float64).reshape(self.shape)


class Conv2d:
    def __init__(self, W, b, stride=1, padding=0):
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]
        self.sh, self.sw = _two(stride)
        kh, kw = W.shape[2:]
        if padding == "valid":
            self.pads = ((0, 0), (0, 0))
        elif padding == "same":
            self.pads = (((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2))
        else:
            ph, pw = _two(padding)
            self.pads = ((ph, ph), (pw, pw))

    def forward(self, x):
        W, b = self.params
        f, c, kh, kw = W.shape
        self.xshape = x.shape
        xp = np.pad(np.asarray(x, dtype=np.float64), ((0, 0), (0, 0)) + self.pads)
        self.xpshape = xp.shape
        win = _windows(xp, kh, kw, self.sh, self.sw)                 # (N, C, Ho, Wo, kh, kw)
        n, _, ho, wo = win.shape[:4]
        self.cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * kh * kw)
        out = self.cols @ W.reshape(f, -1).T + b                     # (N*Ho*Wo, F)
        return out.reshape(n, ho, wo, f).transpose(0, 3, 1, 2).copy()

    def backward(self, dout):
        W = self.params[0]
        f, c, kh, kw = W.shape
        n, _, ho, wo = dout.shape
        d = np.asarray(dout, dtype=np.float64).transpose(0, 2, 3, 1).reshape(-1, f)  # (N*Ho*Wo, F)
        self.grads[0][...] = (d.T @ self.cols).reshape(W.shape)
        self.grads[1][...] = d.sum(axis=0)
        dcols = (d @ W.reshape(f, -1)).reshape(n, ho, wo, c, kh, kw).transpose(0, 3, 1, 2, 4, 5)
        dxp = _scatter(dcols, self.xpshape, kh, kw, self.sh, self.sw)
        (t, _), (l, _) = self.pads
        return dxp[:, :, t : t + self.xshape[2], l : l + self.xshape[3]].copy()


class MaxPool2d:
    def __init__(self, kernel=2, stride=None):
        self.params = []
        self.grads = []
        self.k = _two(kernel)
        self.s = self.k if stride is None else _two(stride)

    def forward(self, x):
        x = np.asarray(x, dtype=np.float64)
        self.shape = x.shape
        win = _windows(x, *self.k, *self.s)
        flat = win.reshape(win.shape[:4] + (-1,))
        self.arg = flat.argmax(axis=-1)
        return np.take_along_axis(flat, self.arg[..., None], axis=-1)[..., 0]

    def backward(self, dout):
        kh, kw = self.k
        onehot = (np.arange(kh * kw) == self.arg[..., None]) * np.asarray(dout, dtype=np.float64)[..., None]
        return _scatter(onehot.reshape(onehot.shape[:4] + (kh, kw)), self.shape, kh, kw, *self.s)


class AvgPool2d:
    def __init__(self, kernel=2, stride=None):
        self.params = []
        self.grads = []
        self.k = _two(kernel)
        self.s = self.k if stride is None else _two(stride)

    def forward(self, x):
        x = np.asarray(x, dtype=np.float64)
        self.shape = x.shape
        return _windows(x, *self.k, *self.s).mean(axis=(-2, -1))

    def backward(self, dout):
        kh, kw = self.k
        d = np.asarray(dout, dtype=np.float64)[..., None, None] / (kh * kw)
        return _scatter(np.broadcast_to(d, d.shape[:4] + (kh, kw)), self.shape, kh, kw, *self.s)
