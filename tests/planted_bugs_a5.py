"""Planted bugs for assignment A5 (regularization and recurrent layers): see tests/planted_bugs.py.

Dropout and RReLU in training are caught by the ``stochastic`` check (the law of the random factors,
backward reusing them, fresh draws per call); their evaluation mode and every other layer by the
deterministic checks. Quantities use the names the grader prints: declared outputs (``h_next``,
``c_next``), buffers (``running_var``), ``out``/``dx``, or an input or parameter name whose gradient is
meant (``h`` for dh, ``Wh`` for dWh, ``xs`` for dxs).
"""
from .planted_bugs import PlantedBug

# --------------------------------------------------------------------------- regularization.Dropout

_DROPOUT_HEAD = """\
class Dropout:
    def __init__(self, p=0.5, train=True):
        self.p = float(p)
        self.train = bool(train)
        self.params = []
        self.grads = []
        self.rng = np.random.default_rng()
        self.scale = None
"""

# --------------------------------------------------------------------------- regularization.RReLU

_RRELU_HEAD = """\
class RReLU:
    def __init__(self, lower=1 / 8, upper=1 / 3, train=True):
        self.lower = float(lower)
        self.upper = float(upper)
        self.train = bool(train)
        self.params = []
        self.grads = []
        self.rng = np.random.default_rng()
        self.slope = None
"""

# --------------------------------------------------------------------------- regularization.BatchNorm1d

_BN_HEAD = """\
class BatchNorm1d:
    def __init__(self, gamma, beta, momentum=0.1, eps=1e-5, running_mean=None, running_var=None, train=True):
        self.gamma = gamma
        self.beta = beta
        self.params = [gamma, beta]
        self.grads = [np.zeros_like(gamma), np.zeros_like(beta)]
        self.momentum = float(momentum)
        self.eps = float(eps)
        self.running_mean = np.zeros_like(gamma) if running_mean is None else running_mean
        self.running_var = np.ones_like(gamma) if running_var is None else running_var
        self.train = bool(train)
"""

_BN_BACKWARD = """
    def backward(self, dout):
        xhat, inv_std, train = self.cache
        self.grads[0][...] = np.sum(dout * xhat, axis=0)
        self.grads[1][...] = np.sum(dout, axis=0)
        dxhat = dout * self.gamma
        if not train:
            return dxhat * inv_std
        return (dxhat - dxhat.mean(axis=0) - xhat * np.mean(dxhat * xhat, axis=0)) * inv_std
"""


def _bn_forward(stats: str) -> str:
    """A BatchNorm1d forward whose training statistics (and running update) are ``stats``."""
    return f"""
    def forward(self, x):
        if self.train:
{stats}
        else:
            mu, var = self.running_mean, self.running_var
        inv_std = 1.0 / np.sqrt(var + self.eps)
        xhat = (x - mu) * inv_std
        self.cache = (xhat, inv_std, self.train)
        return self.gamma * xhat + self.beta
"""


_BN_STATS = """\
            n = x.shape[0]
            mu = x.mean(axis=0)
            var = x.var(axis=0)
            m = self.momentum
            self.running_mean[...] = (1.0 - m) * self.running_mean + m * mu
            self.running_var[...] = (1.0 - m) * self.running_var + m * var * n / (n - 1)"""

# --------------------------------------------------------------------------- recurrent

_CELL_HEAD = """\
class {name}:
    def __init__(self, Wx, Wh, b):
        self.Wx = Wx
        self.Wh = Wh
        self.b = b
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
"""

_RNN_CELL_FORWARD = """
    def forward(self, x, h):
        h_next = np.tanh(x @ self.Wx + h @ self.Wh + self.b)
        self.cache = (x.copy(), h.copy(), h_next)
        return h_next
"""

_RNN_CELL_BACKWARD = """
    def backward(self, dh_next):
        x, h, h_next = self.cache
        da = dh_next * (1.0 - h_next ** 2)
        self.grads[0][...] = x.T @ da
        self.grads[1][...] = h.T @ da
        self.grads[2][...] = da.sum(axis=0)
        return da @ self.Wx.T, da @ self.Wh.T
"""


def _lstm_forward(gates: str = "i, f, g, o = _sigmoid(a[:, :H]), _sigmoid(a[:, H:2 * H]), "
                               "np.tanh(a[:, 2 * H:3 * H]), _sigmoid(a[:, 3 * H:])",
                  cell: str = "c_next = f * c + i * g", hidden: str = "h_next = o * tc") -> str:
    return f"""
    def forward(self, x, h, c):
        H = self.Wh.shape[0]
        a = x @ self.Wx + h @ self.Wh + self.b
        {gates}
        {cell}
        tc = np.tanh(c_next)
        {hidden}
        self.cache = (x.copy(), h.copy(), c.copy(), i, f, g, o, tc)
        return h_next, c_next
"""


def _lstm_backward(total: str = "dc_total = dc_next + dh_next * o * (1.0 - tc ** 2)",
                   dc: str = "dc_total * f") -> str:
    return f"""
    def backward(self, dh_next, dc_next):
        x, h, c, i, f, g, o, tc = self.cache
        {total}
        do = dh_next * tc
        di = dc_total * g
        df = dc_total * c
        dg = dc_total * i
        da = np.concatenate([di * i * (1.0 - i), df * f * (1.0 - f), dg * (1.0 - g ** 2), do * o * (1.0 - o)],
                            axis=1)
        self.grads[0][...] = x.T @ da
        self.grads[1][...] = h.T @ da
        self.grads[2][...] = da.sum(axis=0)
        return da @ self.Wx.T, da @ self.Wh.T, {dc}
"""


_RNN_FORWARD = """
    def forward(self, xs, h0):
        T, N = xs.shape[:2]
        hs = np.empty((T, N, self.Wh.shape[0]))
        h = h0
        for t in range(T):
            h = np.tanh(xs[t] @ self.Wx + h @ self.Wh + self.b)
            hs[t] = h
        self.cache = (xs.copy(), h0.copy(), hs.copy())
        return hs
"""


def _rnn_backward(step: str, carry: str = "dh_carry = da @ self.Wh.T", h_prev: str = "hs[t - 1] if t > 0 else h0",
                  ret: str = "dh_carry") -> str:
    """An RNN backward whose per-step parameter update is ``step`` (correct: the three ``+=`` lines)."""
    return f"""
    def backward(self, dhs):
        xs, h0, hs = self.cache
        dWx, dWh, db = np.zeros_like(self.Wx), np.zeros_like(self.Wh), np.zeros_like(self.b)
        dxs = np.empty(xs.shape)
        dh_carry = np.zeros(h0.shape)
        for t in reversed(range(xs.shape[0])):
            h_prev = {h_prev}
            da = (dhs[t] + dh_carry) * (1.0 - hs[t] ** 2)
            dxs[t] = da @ self.Wx.T
{step}
            {carry}
        self.grads[0][...] = dWx
        self.grads[1][...] = dWh
        self.grads[2][...] = db
        return dxs, {ret}
"""


_RNN_STEP = """\
            dWx += xs[t].T @ da
            dWh += h_prev.T @ da
            db += da.sum(axis=0)"""


BUGS: list[PlantedBug] = [
    # ----------------------------------------------------------------------- Dropout
    PlantedBug(
        exercise="Dropout", module="regularization", check="stochastic", quantity="dx",
        name="backward draws a new mask instead of reusing forward's",
        code=_DROPOUT_HEAD + """
    def forward(self, x):
        if not self.train:
            return x.copy()
        return x * (self.rng.random(x.shape) >= self.p) / (1.0 - self.p)

    def backward(self, dout):
        if not self.train:
            return dout.copy()
        return dout * (self.rng.random(dout.shape) >= self.p) / (1.0 - self.p)
""",
    ),
    PlantedBug(
        exercise="Dropout", module="regularization", check="stochastic", quantity="out",
        name="not inverted: kept elements are not scaled by 1/(1-p)",
        code=_DROPOUT_HEAD + """
    def forward(self, x):
        if not self.train:
            self.scale = None
            return x.copy()
        self.scale = (self.rng.random(x.shape) >= self.p).astype(np.float64)
        return x * self.scale

    def backward(self, dout):
        return dout.copy() if self.scale is None else dout * self.scale
""",
    ),
    PlantedBug(
        exercise="Dropout", module="regularization", check="stochastic", quantity="out",
        name="p taken as the probability to keep an element",
        code=_DROPOUT_HEAD + """
    def forward(self, x):
        if not self.train:
            self.scale = None
            return x.copy()
        self.scale = (self.rng.random(x.shape) < self.p) / (1.0 - self.p)
        return x * self.scale

    def backward(self, dout):
        return dout.copy() if self.scale is None else dout * self.scale
""",
    ),
    PlantedBug(
        exercise="Dropout", module="regularization", check="stochastic", quantity="out",
        name="the same mask at every call (generator re-seeded in forward)",
        code=_DROPOUT_HEAD + """
    def forward(self, x):
        if not self.train:
            self.scale = None
            return x.copy()
        rng = np.random.default_rng(0)
        self.scale = (rng.random(x.shape) >= self.p) / (1.0 - self.p)
        return x * self.scale

    def backward(self, dout):
        return dout.copy() if self.scale is None else dout * self.scale
""",
    ),
    PlantedBug(
        exercise="Dropout", module="regularization", check="reference", quantity="out",
        name="evaluation scales by 1-p (non-inverted test-time rule)",
        code=_DROPOUT_HEAD + """
    def forward(self, x):
        if not self.train:
            self.scale = np.full(x.shape, 1.0 - self.p)
        else:
            self.scale = (self.rng.random(x.shape) >= self.p) / (1.0 - self.p)
        return x * self.scale

    def backward(self, dout):
        return dout * self.scale
""",
    ),
    # ----------------------------------------------------------------------- RReLU
    PlantedBug(
        exercise="RReLU", module="regularization", check="stochastic", quantity="out",
        name="random slopes applied on the positive side too",
        code=_RRELU_HEAD + """
    def forward(self, x):
        if self.train:
            a = self.rng.uniform(self.lower, self.upper, size=x.shape)
            self.slope = np.where(x >= 0, a, a)
        else:
            self.slope = np.where(x >= 0, 1.0, (self.lower + self.upper) / 2)
        return x * self.slope

    def backward(self, dout):
        return dout * self.slope
""",
    ),
    PlantedBug(
        exercise="RReLU", module="regularization", check="stochastic", quantity="out",
        name="a single random slope shared by all elements",
        code=_RRELU_HEAD + """
    def forward(self, x):
        a = self.rng.uniform(self.lower, self.upper) if self.train else (self.lower + self.upper) / 2
        self.slope = np.where(x >= 0, 1.0, a)
        return x * self.slope

    def backward(self, dout):
        return dout * self.slope
""",
    ),
    PlantedBug(
        exercise="RReLU", module="regularization", check="stochastic", quantity="dx",
        name="backward draws new slopes",
        code=_RRELU_HEAD + """
    def forward(self, x):
        a = self.rng.uniform(self.lower, self.upper, size=x.shape) if self.train else (self.lower + self.upper) / 2
        self.x = x.copy()
        return np.where(x >= 0, x, a * x)

    def backward(self, dout):
        a = self.rng.uniform(self.lower, self.upper, size=dout.shape) if self.train else (self.lower + self.upper) / 2
        return np.where(self.x >= 0, dout, a * dout)
""",
    ),
    PlantedBug(
        exercise="RReLU", module="regularization", check="stochastic", quantity="out",
        name="slopes drawn from U(0, 1), ignoring lower and upper",
        code=_RRELU_HEAD + """
    def forward(self, x):
        a = self.rng.random(x.shape) if self.train else (self.lower + self.upper) / 2
        self.slope = np.where(x >= 0, 1.0, a)
        return x * self.slope

    def backward(self, dout):
        return dout * self.slope
""",
    ),
    PlantedBug(
        exercise="RReLU", module="regularization", check="reference", quantity="out",
        name="evaluation uses the slope lower instead of (lower + upper) / 2",
        code=_RRELU_HEAD + """
    def forward(self, x):
        a = self.rng.uniform(self.lower, self.upper, size=x.shape) if self.train else self.lower
        self.slope = np.where(x >= 0, 1.0, a)
        return x * self.slope

    def backward(self, dout):
        return dout * self.slope
""",
    ),
    PlantedBug(
        exercise="RReLU", module="regularization", check="gradcheck", quantity="dx",
        name="backward passes dout through unchanged",
        code=_RRELU_HEAD + """
    def forward(self, x):
        a = self.rng.uniform(self.lower, self.upper, size=x.shape) if self.train else (self.lower + self.upper) / 2
        return np.where(x >= 0, x, a * x)

    def backward(self, dout):
        return dout.copy()
""",
    ),
    # ----------------------------------------------------------------------- BatchNorm1d
    PlantedBug(
        exercise="BatchNorm1d", module="regularization", check="reference", quantity="running_var",
        name="running variance updated with the biased batch variance",
        code=_BN_HEAD + _bn_forward(_BN_STATS.replace(" * n / (n - 1)", "")) + _BN_BACKWARD,
    ),
    PlantedBug(
        exercise="BatchNorm1d", module="regularization", check="reference", quantity="out",
        name="evaluation normalises with the batch statistics",
        code=_BN_HEAD + _bn_forward(_BN_STATS).replace(
            "mu, var = self.running_mean, self.running_var", "mu, var = x.mean(axis=0), x.var(axis=0)")
        + _BN_BACKWARD,
    ),
    PlantedBug(
        exercise="BatchNorm1d", module="regularization", check="reference", quantity="running_mean",
        name="momentum weights the old running mean (torch's momentum is the new value's weight)",
        code=_BN_HEAD + _bn_forward(_BN_STATS.replace("(1.0 - m) * self.running_mean + m * mu",
                                                      "m * self.running_mean + (1.0 - m) * mu")) + _BN_BACKWARD,
    ),
    PlantedBug(
        exercise="BatchNorm1d", module="regularization", check="reference", quantity="out",
        name="normalises with the unbiased batch variance",
        code=_BN_HEAD + _bn_forward(_BN_STATS.replace("var = x.var(axis=0)", "var = x.var(axis=0, ddof=1)")
                                    .replace(" * n / (n - 1)", "")) + _BN_BACKWARD,
    ),
    PlantedBug(
        exercise="BatchNorm1d", module="regularization", check="gradcheck", quantity="dx",
        name="training backward ignores that mean and variance depend on x",
        code=_BN_HEAD + _bn_forward(_BN_STATS) + _BN_BACKWARD.replace(
            "        return (dxhat - dxhat.mean(axis=0) - xhat * np.mean(dxhat * xhat, axis=0)) * inv_std",
            "        return dxhat * inv_std"),
    ),
    PlantedBug(
        exercise="BatchNorm1d", module="regularization", check="reference", quantity="gamma",
        name="dgamma sums dout instead of dout * xhat",
        code=_BN_HEAD + _bn_forward(_BN_STATS) + _BN_BACKWARD.replace("np.sum(dout * xhat, axis=0)",
                                                                     "np.sum(dout, axis=0)"),
    ),
    PlantedBug(
        exercise="BatchNorm1d", module="regularization", check="reference", quantity="out",
        name="eps added to the standard deviation instead of the variance",
        code=_BN_HEAD + _bn_forward(_BN_STATS).replace("inv_std = 1.0 / np.sqrt(var + self.eps)",
                                                       "inv_std = 1.0 / (np.sqrt(var) + self.eps)") + _BN_BACKWARD,
    ),
    # ----------------------------------------------------------------------- RNNCell
    PlantedBug(
        exercise="RNNCell", module="recurrent", check="gradcheck", quantity="dx",
        name="backward forgets the tanh derivative",
        code=_CELL_HEAD.format(name="RNNCell") + _RNN_CELL_FORWARD
        + _RNN_CELL_BACKWARD.replace("da = dh_next * (1.0 - h_next ** 2)", "da = dh_next"),
    ),
    PlantedBug(
        exercise="RNNCell", module="recurrent", check="reference", quantity="Wh",
        name="dWh computed from h_next instead of the previous state h",
        code=_CELL_HEAD.format(name="RNNCell") + _RNN_CELL_FORWARD
        + _RNN_CELL_BACKWARD.replace("self.grads[1][...] = h.T @ da", "self.grads[1][...] = h_next.T @ da"),
    ),
    PlantedBug(
        exercise="RNNCell", module="recurrent", check="reference", quantity="out",
        name="hidden weights used transposed: h @ Wh.T",
        code=_CELL_HEAD.format(name="RNNCell") + _RNN_CELL_FORWARD.replace("h @ self.Wh", "h @ self.Wh.T")
        + _RNN_CELL_BACKWARD.replace("da @ self.Wh.T", "da @ self.Wh").replace("h.T @ da", "(h.T @ da).T"),
    ),
    PlantedBug(
        exercise="RNNCell", module="recurrent", check="reference", quantity="b",
        name="db averaged over the batch instead of summed",
        code=_CELL_HEAD.format(name="RNNCell") + _RNN_CELL_FORWARD
        + _RNN_CELL_BACKWARD.replace("da.sum(axis=0)", "da.mean(axis=0)"),
    ),
    PlantedBug(
        exercise="RNNCell", module="recurrent", check="reference", quantity="h",
        name="dh multiplies by Wh instead of Wh.T",
        code=_CELL_HEAD.format(name="RNNCell") + _RNN_CELL_FORWARD
        + _RNN_CELL_BACKWARD.replace("return da @ self.Wx.T, da @ self.Wh.T", "return da @ self.Wx.T, da @ self.Wh"),
    ),
    # ----------------------------------------------------------------------- LSTMCell
    PlantedBug(
        exercise="LSTMCell", module="recurrent", check="reference", quantity="h_next",
        name="gate blocks read in the order i, f, o, g instead of torch's i, f, g, o",
        code=_CELL_HEAD.format(name="LSTMCell")
        + _lstm_forward(gates="i, f, o, g = _sigmoid(a[:, :H]), _sigmoid(a[:, H:2 * H]), "
                              "_sigmoid(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])")
        + _lstm_backward().replace(
            "[di * i * (1.0 - i), df * f * (1.0 - f), dg * (1.0 - g ** 2), do * o * (1.0 - o)]",
            "[di * i * (1.0 - i), df * f * (1.0 - f), do * o * (1.0 - o), dg * (1.0 - g ** 2)]"),
    ),
    PlantedBug(
        exercise="LSTMCell", module="recurrent", check="reference", quantity="h_next",
        name="h_next = o * c_next, without the tanh",
        code=_CELL_HEAD.format(name="LSTMCell") + _lstm_forward(hidden="h_next = o * c_next") + _lstm_backward(),
    ),
    PlantedBug(
        exercise="LSTMCell", module="recurrent", check="reference", quantity="c",
        name="dc returned without the forget gate factor",
        code=_CELL_HEAD.format(name="LSTMCell") + _lstm_forward() + _lstm_backward(dc="dc_total"),
    ),
    PlantedBug(
        exercise="LSTMCell", module="recurrent", check="gradcheck", quantity="x",
        name="the cell state's gradient through h_next is dropped",
        code=_CELL_HEAD.format(name="LSTMCell") + _lstm_forward()
        + _lstm_backward(total="dc_total = dc_next + 0.0 * dh_next"),
    ),
    PlantedBug(
        exercise="LSTMCell", module="recurrent", check="reference", quantity="c_next",
        name="sigmoid instead of tanh for the candidate g",
        code=_CELL_HEAD.format(name="LSTMCell")
        + _lstm_forward(gates="i, f, g, o = _sigmoid(a[:, :H]), _sigmoid(a[:, H:2 * H]), "
                              "_sigmoid(a[:, 2 * H:3 * H]), _sigmoid(a[:, 3 * H:])")
        + _lstm_backward(),
    ),
    # ----------------------------------------------------------------------- RNN
    PlantedBug(
        exercise="RNN", module="recurrent", check="reference", quantity="Wh",
        name="BPTT keeps only the last step's parameter gradients (= instead of +=)",
        code=_CELL_HEAD.format(name="RNN") + _RNN_FORWARD + _rnn_backward(_RNN_STEP.replace("+=", "=")),
    ),
    PlantedBug(
        exercise="RNN", module="recurrent", check="gradcheck", quantity="Wh",
        name="dWh uses the current state h_t instead of h_{t-1}",
        code=_CELL_HEAD.format(name="RNN") + _RNN_FORWARD + _rnn_backward(_RNN_STEP, h_prev="hs[t]"),
    ),
    PlantedBug(
        exercise="RNN", module="recurrent", check="reference", quantity="xs",
        name="no gradient carried from step t+1 to step t (truncated BPTT)",
        code=_CELL_HEAD.format(name="RNN") + _RNN_FORWARD
        + _rnn_backward(_RNN_STEP, carry="dh_prev = da @ self.Wh.T", ret="dh_prev"),
    ),
    PlantedBug(
        exercise="RNN", module="recurrent", check="reference", quantity="h0",
        name="dh0 returned as zeros",
        code=_CELL_HEAD.format(name="RNN") + _RNN_FORWARD + _rnn_backward(_RNN_STEP, ret="np.zeros(h0.shape)"),
    ),
    PlantedBug(
        exercise="RNN", module="recurrent", check="reference", quantity="out",
        name="the same step applied with the initial state h0 at every time step",
        code=_CELL_HEAD.format(name="RNN") + _RNN_FORWARD.replace("h = np.tanh(xs[t] @ self.Wx + h @ self.Wh",
                                                                  "h = np.tanh(xs[t] @ self.Wx + h0 @ self.Wh")
        + _rnn_backward(_RNN_STEP),
    ),
]
