"""Planted bugs for assignment A3 (graph nodes, Maxout, convolutional layers): see tests/planted_bugs.py.

Each bug is a correct class (the ``_MATMUL``, ``_CONV``... sources below, the solutions' code without the
markers) with one change, made by :func:`_patch` so the diff is the bug and a change that no longer applies
fails loudly. The code is appended to the module it belongs to: graph.py and cnn.py bugs may use that
module's ``np`` and ``_pair``. Quantities: ``out``, ``dx``, a parameter's name (``W`` for dW, ``b`` for db),
or a contract rule.

Reference-check bugs on forward keep backward consistent with the buggy forward (gradcheck passes; only
torch can tell); gradcheck bugs keep forward right and break backward.
"""
from .planted_bugs import PlantedBug


def _patch(source: str, old: str, new: str) -> str:
    """``source`` with the one occurrence of ``old`` replaced by ``new``."""
    if source.count(old) != 1:
        raise ValueError(f"planted bug: {old!r} occurs {source.count(old)} times in the class, expected once")
    return source.replace(old, new)


# --------------------------------------------------------------------------- graph.MatMul

_MATMUL = """\
class MatMul:
    def __init__(self, W):
        self.W = W
        self.params = [W]
        self.grads = [np.zeros_like(W)]

    def forward(self, x):
        self.x = np.array(x, dtype=np.float64)
        return self.x @ self.W

    def backward(self, dout):
        self.grads[0][...] = self.x.T @ dout
        return dout @ self.W.T
"""

# --------------------------------------------------------------------------- graph.Repeat

_REPEAT = """\
class Repeat:
    def __init__(self, axis=0, n=2):
        self.params = []
        self.grads = []
        self.axis = axis
        self.n = n

    def forward(self, x):
        self.shape = x.shape
        return np.repeat(x, self.n, axis=self.axis).astype(np.float64)

    def backward(self, dout):
        axis = self.axis % len(self.shape)
        split = self.shape[: axis + 1] + (self.n,) + self.shape[axis + 1 :]
        return np.sum(dout.reshape(split), axis=axis + 1)
"""

# --------------------------------------------------------------------------- graph.Sum

_SUM = """\
class Sum:
    def __init__(self, axis=0, keepdims=False):
        self.params = []
        self.grads = []
        self.axis = axis
        self.keepdims = keepdims

    def forward(self, x):
        self.shape = x.shape
        return np.asarray(np.sum(x, axis=self.axis, keepdims=self.keepdims), dtype=np.float64)

    def backward(self, dout):
        if not self.keepdims:
            dout = np.expand_dims(dout, self.axis)
        return np.broadcast_to(dout, self.shape).astype(np.float64)
"""

# --------------------------------------------------------------------------- activations.Maxout

_MAXOUT = """\
class Maxout:
    def __init__(self, k=2):
        self.params = []
        self.grads = []
        self.k = k

    def forward(self, x):
        groups = x.reshape(x.shape[0], -1, self.k)
        winner = np.argmax(groups, axis=2)
        self.mask = np.arange(self.k) == winner[:, :, None]
        return np.max(groups, axis=2).astype(np.float64)

    def backward(self, dout):
        dx = np.where(self.mask, dout[:, :, None], 0.0)
        return dx.reshape(dout.shape[0], -1)
"""

# --------------------------------------------------------------------------- cnn.Flatten

_FLATTEN = """\
class Flatten:
    def __init__(self):
        self.params = []
        self.grads = []

    def forward(self, x):
        self.shape = x.shape
        return x.reshape(x.shape[0], -1).astype(np.float64)

    def backward(self, dout):
        return dout.reshape(self.shape).astype(np.float64)
"""

# --------------------------------------------------------------------------- cnn.Conv2d

_CONV = """\
class Conv2d:
    def __init__(self, W, b, stride=1, padding=0):
        self.W = W
        self.b = b
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]
        self.stride = _pair(stride)
        self.padding = padding if isinstance(padding, str) else _pair(padding)

    def forward(self, x):
        F, C, kh, kw = self.W.shape
        sh, sw = self.stride
        if self.padding == "same":
            top, left = (kh - 1) // 2, (kw - 1) // 2
            pads = (top, kh - 1 - top, left, kw - 1 - left)
        elif self.padding == "valid":
            pads = (0, 0, 0, 0)
        else:
            pads = (self.padding[0], self.padding[0], self.padding[1], self.padding[1])
        xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), pads[:2], pads[2:]))
        H_out = (xp.shape[2] - kh) // sh + 1
        W_out = (xp.shape[3] - kw) // sw + 1
        Wk = self.W
        out = np.zeros((x.shape[0], F, H_out, W_out))
        for p in range(kh):
            for q in range(kw):
                window = xp[:, :, p : p + sh * H_out : sh, q : q + sw * W_out : sw]
                out += np.einsum("nchw,fc->nfhw", window, Wk[:, :, p, q])
        out += self.b[None, :, None, None]
        self.cache = (xp, pads, x.shape, Wk)
        return out

    def backward(self, dout):
        xp, pads, shape, Wk = self.cache
        F, C, kh, kw = self.W.shape
        sh, sw = self.stride
        H_out, W_out = dout.shape[2], dout.shape[3]
        dxp = np.zeros_like(xp)
        dWk = np.zeros_like(self.W)
        for p in range(kh):
            for q in range(kw):
                rows = slice(p, p + sh * H_out, sh)
                cols = slice(q, q + sw * W_out, sw)
                dWk[:, :, p, q] = np.einsum("nfhw,nchw->fc", dout, xp[:, :, rows, cols])
                dxp[:, :, rows, cols] += np.einsum("nfhw,fc->nchw", dout, Wk[:, :, p, q])
        self.grads[0][...] = dWk
        self.grads[1][...] = np.sum(dout, axis=(0, 2, 3))
        top, left = pads[0], pads[2]
        return dxp[:, :, top : top + shape[2], left : left + shape[3]].copy()
"""

# --------------------------------------------------------------------------- cnn.MaxPool2d, cnn.AvgPool2d

_POOL_INIT = """\
    def __init__(self, kernel=2, stride=None):
        self.params = []
        self.grads = []
        self.kernel = _pair(kernel)
        self.stride = self.kernel if stride is None else _pair(stride)
"""

_MAXPOOL = "class MaxPool2d:\n" + _POOL_INIT + """
    def forward(self, x):
        kh, kw = self.kernel
        sh, sw = self.stride
        H_out = (x.shape[2] - kh) // sh + 1
        W_out = (x.shape[3] - kw) // sw + 1
        windows = np.stack([x[:, :, p : p + sh * H_out : sh, q : q + sw * W_out : sw]
                            for p in range(kh) for q in range(kw)])
        self.winner = np.argmax(windows, axis=0)
        self.shape = x.shape
        return np.max(windows, axis=0).astype(np.float64)

    def backward(self, dout):
        kh, kw = self.kernel
        sh, sw = self.stride
        H_out, W_out = dout.shape[2], dout.shape[3]
        dx = np.zeros(self.shape)
        for p in range(kh):
            for q in range(kw):
                dx[:, :, p : p + sh * H_out : sh, q : q + sw * W_out : sw] += np.where(self.winner == p * kw + q, dout, 0.0)
        return dx
"""

_AVGPOOL = "class AvgPool2d:\n" + _POOL_INIT + """
    def forward(self, x):
        kh, kw = self.kernel
        sh, sw = self.stride
        H_out = (x.shape[2] - kh) // sh + 1
        W_out = (x.shape[3] - kw) // sw + 1
        out = np.zeros((x.shape[0], x.shape[1], H_out, W_out))
        for p in range(kh):
            for q in range(kw):
                out += x[:, :, p : p + sh * H_out : sh, q : q + sw * W_out : sw]
        self.shape = x.shape
        return out / (kh * kw)

    def backward(self, dout):
        kh, kw = self.kernel
        sh, sw = self.stride
        H_out, W_out = dout.shape[2], dout.shape[3]
        dx = np.zeros(self.shape)
        for p in range(kh):
            for q in range(kw):
                dx[:, :, p : p + sh * H_out : sh, q : q + sw * W_out : sw] += dout / (kh * kw)
        return dx
"""

# the window of output position i starts at i*s and its offset p is added: a bug swaps the two roles
_OFFSET_STRIDE = ("p : p + sh * H_out : sh, q : q + sw * W_out : sw",
                  "p * sh : p * sh + H_out, q * sw : q * sw + W_out")


BUGS: list[PlantedBug] = [
    # ----------------------------------------------------------------------- MatMul
    PlantedBug(
        exercise="MatMul", module="graph", check="reference", quantity="W",
        name="transposed dW: dout.T @ x (fits only a square W)",
        code=_patch(_MATMUL, "self.x.T @ dout", "dout.T @ self.x"),
    ),
    PlantedBug(
        exercise="MatMul", module="graph", check="reference", quantity="W",
        name="dW averaged over the batch (an extra 1/N)",
        code=_patch(_MATMUL, "self.x.T @ dout", "self.x.T @ dout / dout.shape[0]"),
    ),
    PlantedBug(
        exercise="MatMul", module="graph", check="gradcheck", quantity="dx",
        name="dx forgets dout: ones @ W.T",
        code=_patch(_MATMUL, "return dout @ self.W.T", "return np.ones_like(dout) @ self.W.T"),
    ),
    PlantedBug(
        exercise="MatMul", module="graph", check="contract", quantity="grads rebound",
        name="backward rebinds self.grads[0] instead of writing into it",
        code=_patch(_MATMUL, "self.grads[0][...] = ", "self.grads[0] = "),
    ),
    # ----------------------------------------------------------------------- Repeat
    PlantedBug(
        exercise="Repeat", module="graph", check="reference", quantity="x",
        name="backward does not sum the copies: keeps only the first of each",
        code=_patch(_REPEAT, "np.sum(dout.reshape(split), axis=axis + 1)",
                    "np.take(dout.reshape(split), 0, axis=axis + 1)"),
    ),
    PlantedBug(
        exercise="Repeat", module="graph", check="reference", quantity="x",
        name="backward averages the copies instead of summing them",
        code=_patch(_REPEAT, "np.sum(dout.reshape(split), axis=axis + 1)",
                    "np.mean(dout.reshape(split), axis=axis + 1)"),
    ),
    PlantedBug(
        exercise="Repeat", module="graph", check="reference", quantity="out",
        name="forward tiles (np.tile / Tensor.repeat) instead of repeating each entry",
        code=_patch(_patch(_REPEAT, "np.repeat(x, self.n, axis=self.axis)",
                           "np.concatenate([x] * self.n, axis=self.axis)"),
                    "split = self.shape[: axis + 1] + (self.n,) + self.shape[axis + 1 :]\n"
                    "        return np.sum(dout.reshape(split), axis=axis + 1)",
                    "split = self.shape[:axis] + (self.n,) + self.shape[axis:]\n"
                    "        return np.sum(dout.reshape(split), axis=axis)"),
    ),
    PlantedBug(
        exercise="Repeat", module="graph", check="gradcheck", quantity="dx",
        name="backward groups the copies as a tile would (copies axis before the repeated one)",
        code=_patch(_REPEAT, "split = self.shape[: axis + 1] + (self.n,) + self.shape[axis + 1 :]\n"
                             "        return np.sum(dout.reshape(split), axis=axis + 1)",
                    "split = self.shape[:axis] + (self.n,) + self.shape[axis:]\n"
                    "        return np.sum(dout.reshape(split), axis=axis)"),
    ),
    PlantedBug(
        exercise="Repeat", module="graph", check="gradcheck", quantity="dx",
        name="negative axis not normalised in backward",
        code=_patch(_REPEAT, "axis = self.axis % len(self.shape)", "axis = self.axis"),
    ),
    # ----------------------------------------------------------------------- Sum
    PlantedBug(
        exercise="Sum", module="graph", check="reference", quantity="dx",
        name="backward broadcasts dout without restoring the summed axis (keepdims=False)",
        code=_patch(_SUM, "        if not self.keepdims:\n            dout = np.expand_dims(dout, self.axis)\n", ""),
    ),
    PlantedBug(
        exercise="Sum", module="graph", check="reference", quantity="dx",
        name="backward divides by the axis length (the mean's gradient)",
        code=_patch(_SUM, "np.broadcast_to(dout, self.shape).astype(np.float64)",
                    "np.broadcast_to(dout, self.shape) / self.shape[self.axis]"),
    ),
    PlantedBug(
        exercise="Sum", module="graph", check="gradcheck", quantity="dx",
        name="gradient given only to the first entry along the axis",
        code=_patch(_SUM, "return np.broadcast_to(dout, self.shape).astype(np.float64)",
                    "dx = np.zeros(self.shape)\n"
                    "        index = [slice(None)] * len(self.shape)\n"
                    "        index[self.axis] = slice(0, 1)\n"
                    "        dx[tuple(index)] = dout\n"
                    "        return dx"),
    ),
    PlantedBug(
        exercise="Sum", module="graph", check="contract", quantity="x modified",
        name="forward sorts x in place before summing (for accuracy)",
        code=_patch(_SUM, "        self.shape = x.shape\n", "        self.shape = x.shape\n        x.sort(axis=self.axis)\n"),
    ),
    # ----------------------------------------------------------------------- Maxout
    PlantedBug(
        exercise="Maxout", module="activations", check="reference", quantity="out",
        name="strided groups (features j, j+D, j+2D...) instead of contiguous ones",
        code=_patch(_patch(_MAXOUT, "groups = x.reshape(x.shape[0], -1, self.k)",
                           "groups = x.reshape(x.shape[0], self.k, -1).transpose(0, 2, 1)"),
                    "return dx.reshape(dout.shape[0], -1)", "return dx.transpose(0, 2, 1).reshape(dout.shape[0], -1)"),
    ),
    PlantedBug(
        exercise="Maxout", module="activations", check="gradcheck", quantity="dx",
        name="gradient routed to the wrong element: the group's first feature",
        code=_patch(_MAXOUT, "np.where(self.mask, dout[:, :, None], 0.0)",
                    "np.where(np.arange(self.k) == 0, dout[:, :, None], 0.0)"),
    ),
    PlantedBug(
        exercise="Maxout", module="activations", check="gradcheck", quantity="dx",
        name="gradient routed to the group's minimum (argmin)",
        code=_patch(_MAXOUT, "winner = np.argmax(groups, axis=2)", "winner = np.argmin(groups, axis=2)"),
    ),
    PlantedBug(
        exercise="Maxout", module="activations", check="gradcheck", quantity="dx",
        name="gradient given to every feature of the group",
        code=_patch(_MAXOUT, "np.where(self.mask, dout[:, :, None], 0.0)",
                    "np.broadcast_to(dout[:, :, None], self.mask.shape)"),
    ),
    PlantedBug(
        exercise="Maxout", module="activations", check="gradcheck", quantity="dx",
        name="backward flattens the (N, D, k) gradient in the wrong order",
        code=_patch(_MAXOUT, "return dx.reshape(dout.shape[0], -1)", "return dx.transpose(0, 2, 1).reshape(dout.shape[0], -1)"),
    ),
    # ----------------------------------------------------------------------- Flatten
    PlantedBug(
        exercise="Flatten", module="cnn", check="reference", quantity="dx",
        name="backward restores the shape in Fortran order",
        code=_patch(_FLATTEN, "dout.reshape(self.shape)", "dout.reshape(self.shape, order='F')"),
    ),
    PlantedBug(
        exercise="Flatten", module="cnn", check="reference", quantity="out",
        name="forward flattens channels-last (NHWC order), backward consistently",
        code=_patch(_patch(_FLATTEN, "x.reshape(x.shape[0], -1)", "np.moveaxis(x, 1, -1).reshape(x.shape[0], -1)"),
                    "dout.reshape(self.shape)",
                    "np.moveaxis(dout.reshape((self.shape[0],) + self.shape[2:] + (self.shape[1],)), -1, 1)"),
    ),
    PlantedBug(
        exercise="Flatten", module="cnn", check="reference", quantity="dx",
        name="backward reshapes dout.T (batch axis mixed with the features)",
        code=_patch(_FLATTEN, "dout.reshape(self.shape)", "dout.T.reshape(self.shape)"),
    ),
    PlantedBug(
        exercise="Flatten", module="cnn", check="contract", quantity="x modified",
        name="forward reshapes x in place (x.shape = ...) and returns it",
        code=_patch(_FLATTEN, "return x.reshape(x.shape[0], -1).astype(np.float64)",
                    "x.shape = (x.shape[0], -1)\n        return x"),
    ),
    # ----------------------------------------------------------------------- Conv2d
    PlantedBug(
        exercise="Conv2d", module="cnn", check="reference", quantity="out",
        name="kernel flipped (true convolution instead of cross-correlation)",
        code=_patch(_CONV, "Wk = self.W\n", "Wk = self.W[:, :, ::-1, ::-1]\n")
        .replace("dWk[:, :, p, q] = ", "dWk[:, :, kh - 1 - p, kw - 1 - q] = "),
    ),
    PlantedBug(
        exercise="Conv2d", module="cnn", check="reference", quantity="out",
        name="wrong stride handling: stride applied to the kernel offset (i + p*s, not i*s + p)",
        code=_patch(_patch(_CONV, "xp[:, :, p : p + sh * H_out : sh, q : q + sw * W_out : sw]",
                           "xp[:, :, p * sh : p * sh + H_out, q * sw : q * sw + W_out]"),
                    "rows = slice(p, p + sh * H_out, sh)\n                cols = slice(q, q + sw * W_out, sw)",
                    "rows = slice(p * sh, p * sh + H_out)\n                cols = slice(q * sw, q * sw + W_out)"),
    ),
    PlantedBug(
        exercise="Conv2d", module="cnn", check="reference", quantity="x",
        name="padding not removed in backward where it was added: cut from the bottom-right only",
        code=_patch(_CONV, "dxp[:, :, top : top + shape[2], left : left + shape[3]]", "dxp[:, :, : shape[2], : shape[3]]"),
    ),
    PlantedBug(
        exercise="Conv2d", module="cnn", check="reference", quantity="b",
        name="db not summed over N: only the first sample's dout",
        code=_patch(_CONV, "np.sum(dout, axis=(0, 2, 3))", "np.sum(dout[0], axis=(1, 2))"),
    ),
    PlantedBug(
        exercise="Conv2d", module="cnn", check="reference", quantity="b",
        name="db averaged over the output pixels instead of summed over H and W",
        code=_patch(_CONV, "np.sum(dout, axis=(0, 2, 3))", "np.sum(np.mean(dout, axis=(2, 3)), axis=0)"),
    ),
    PlantedBug(
        exercise="Conv2d", module="cnn", check="gradcheck", quantity="W",
        name="dW not accumulated over the batch: only the first sample",
        code=_patch(_CONV, "np.einsum(\"nfhw,nchw->fc\", dout, xp[:, :, rows, cols])",
                    "np.einsum(\"fhw,chw->fc\", dout[0], xp[0, :, rows, cols])"),
    ),
    PlantedBug(
        exercise="Conv2d", module="cnn", check="contract", quantity="grads rebound",
        name="backward rebinds self.grads instead of writing into it",
        code=_patch(_CONV, "        self.grads[0][...] = dWk\n        self.grads[1][...] = np.sum(dout, axis=(0, 2, 3))\n",
                    "        self.grads = [dWk, np.sum(dout, axis=(0, 2, 3))]\n"),
    ),
    # ----------------------------------------------------------------------- MaxPool2d
    PlantedBug(
        exercise="MaxPool2d", module="cnn", check="gradcheck", quantity="dx",
        name="gradient routed to every element of the window",
        code=_patch(_MAXPOOL, "np.where(self.winner == p * kw + q, dout, 0.0)", "dout"),
    ),
    PlantedBug(
        exercise="MaxPool2d", module="cnn", check="gradcheck", quantity="dx",
        name="window offsets (p, q) decoded with rows and columns swapped in backward",
        code=_patch(_MAXPOOL, "self.winner == p * kw + q", "self.winner == q * kh + p"),
    ),
    PlantedBug(
        exercise="MaxPool2d", module="cnn", check="gradcheck", quantity="dx",
        name="overlapping windows overwrite instead of add (= instead of +=) in backward",
        code=_patch(_MAXPOOL, "] += np.where(", "] = np.where("),
    ),
    PlantedBug(
        exercise="MaxPool2d", module="cnn", check="gradcheck", quantity="dx",
        name="backward shares dout over the window (1/(kh*kw)) like average pooling",
        code=_patch(_MAXPOOL, "np.where(self.winner == p * kw + q, dout, 0.0)", "dout / (kh * kw)"),
    ),
    PlantedBug(
        exercise="MaxPool2d", module="cnn", check="reference", quantity="out",
        name="wrong stride handling: stride applied to the offset inside the window",
        code=_MAXPOOL.replace(*_OFFSET_STRIDE),
    ),
    # ----------------------------------------------------------------------- AvgPool2d
    PlantedBug(
        exercise="AvgPool2d", module="cnn", check="gradcheck", quantity="dx",
        name="backward misses the 1/(kh*kw)",
        code=_patch(_AVGPOOL, "+= dout / (kh * kw)", "+= dout"),
    ),
    PlantedBug(
        exercise="AvgPool2d", module="cnn", check="gradcheck", quantity="dx",
        name="overlapping windows overwrite instead of add (= instead of +=) in backward",
        code=_patch(_AVGPOOL, "] += dout / (kh * kw)", "] = dout / (kh * kw)"),
    ),
    PlantedBug(
        exercise="AvgPool2d", module="cnn", check="reference", quantity="out",
        name="divides by kh only (1/kh instead of 1/(kh*kw)), backward consistently",
        code=_patch(_patch(_AVGPOOL, "return out / (kh * kw)", "return out / kh"), "+= dout / (kh * kw)", "+= dout / kh"),
    ),
    PlantedBug(
        exercise="AvgPool2d", module="cnn", check="contract", quantity="dout modified",
        name="backward divides dout in place (dout /= kh*kw)",
        code=_patch(_AVGPOOL, "        dx = np.zeros(self.shape)\n",
                    "        dx = np.zeros(self.shape)\n        dout /= kh * kw\n").replace("+= dout / (kh * kw)", "+= dout"),
    ),
    PlantedBug(
        exercise="AvgPool2d", module="cnn", check="reference", quantity="out",
        name="wrong stride handling: stride applied to the offset inside the window",
        code=_AVGPOOL.replace(*_OFFSET_STRIDE),
    ),
]
