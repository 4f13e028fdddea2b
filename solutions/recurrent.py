"""Recurrent layers: a vanilla RNN cell, an LSTM cell, and an RNN over a whole sequence.

A recurrent network carries a hidden state h from one time step to the next:
the state computed at step t is an input of step t + 1, and the SAME weights
are used at every step. The layers here follow the protocol of the others,
with several inputs and outputs:

* ``forward`` takes several arrays (the input x and the previous state) and
  returns the new state; when there are several outputs (the LSTM's h and c)
  it returns them as a tuple.
* ``backward`` takes one upstream gradient per output, in the same order, and
  returns one gradient per input of forward, as a tuple in the order of
  forward's arguments. It never changes its arguments and writes parameter
  gradients INTO ``self.grads`` (``self.grads[0][...] = dWx``).

Weight layout: this course writes the affine part as x @ Wx + h @ Wh + b,
with Wx of shape (D, H) and Wh of shape (H, H) (times 4 for the LSTM's four
gates). PyTorch stores the transposes, weight_ih = Wx.T and
weight_hh = Wh.T, and two biases, bias_ih and bias_hh, that are always
added together: the course's single b plays the part of bias_ih + bias_hh.

Shapes: N is the batch size, D the input size, H the hidden size, T the
number of time steps.
"""
import numpy as np


def _sigmoid(z):
    """Logistic sigmoid without overflow: exp is only ever called on -|z|."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


class RNNCell:
    """One step of a vanilla (Elman) RNN with tanh.

    Forward:  a = x @ Wx + h @ Wh + b
              h_next = tanh(a)
    Backward: da = dh_next * (1 - h_next**2)
              dx  = da @ Wx.T       dh  = da @ Wh.T
              dWx = x.T @ da        dWh = h.T @ da        db = sum of da over the batch

    Args:
        Wx: input-to-hidden weights, shape (D, H).
        Wh: hidden-to-hidden weights, shape (H, H).
        b: bias, shape (H,).
        The layer keeps these very arrays: params = [Wx, Wh, b].

    Shapes: forward(x (N, D), h (N, H)) -> h_next (N, H);
            backward(dh_next (N, H)) -> (dx (N, D), dh (N, H)).
    Matches torch.nn.RNNCell(D, H, nonlinearity="tanh") with
    weight_ih = Wx.T, weight_hh = Wh.T, bias_ih = b, bias_hh = 0.
    """

    def __init__(self, Wx, Wh, b):
        self.Wx = Wx
        self.Wh = Wh
        self.b = b
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.cache = None

    def forward(self, x, h):
        """Return h_next = tanh(x @ Wx + h @ Wh + b). Shapes: (N, D), (N, H) -> (N, H)."""
        ### BEGIN SOLUTION
        h_next = np.tanh(x @ self.Wx + h @ self.Wh + self.b)
        self.cache = (x.copy(), h.copy(), h_next)
        return h_next
        ### END SOLUTION

    def backward(self, dh_next):
        """Return (dx, dh); write dWx, dWh, db into self.grads.

        Shapes: dh_next (N, H) -> dx (N, D), dh (N, H).
        """
        ### BEGIN SOLUTION
        x, h, h_next = self.cache
        da = dh_next * (1.0 - h_next ** 2)
        self.grads[0][...] = x.T @ da
        self.grads[1][...] = h.T @ da
        self.grads[2][...] = da.sum(axis=0)
        return da @ self.Wx.T, da @ self.Wh.T
        ### END SOLUTION


class LSTMCell:
    """One step of a long short-term memory (LSTM) cell.

    Forward:  a = x @ Wx + h @ Wh + b, of shape (N, 4H), cut into four blocks
              of H columns, in PyTorch's order i, f, g, o (some texts
              use i, f, o, g or f, g, i, o: not here):
                  i = sigmoid(a[:, 0H:1H])   input gate
                  f = sigmoid(a[:, 1H:2H])   forget gate
                  g = tanh(a[:, 2H:3H])      candidate values
                  o = sigmoid(a[:, 3H:4H])   output gate
              c_next = f * c + i * g         (forget part of the old cell
                                              state, write part of the new)
              h_next = o * tanh(c_next)      (expose part of the cell state)
    Backward: the cell state receives gradient both directly (dc_next) and
              through h_next:
                  dc_total = dc_next + dh_next * o * (1 - tanh(c_next)**2)
                  do = dh_next * tanh(c_next)
                  di = dc_total * g     df = dc_total * c     dg = dc_total * i
                  dc = dc_total * f
              through the nonlinearities (sigmoid' = s (1 - s), tanh' = 1 - t**2):
                  da = [di * i (1 - i), df * f (1 - f), dg * (1 - g**2), do * o (1 - o)]
              then, as for an affine layer:
                  dx = da @ Wx.T    dh = da @ Wh.T
                  dWx = x.T @ da    dWh = h.T @ da    db = sum of da over the batch

    Args:
        Wx: input weights, shape (D, 4H).
        Wh: hidden weights, shape (H, 4H).
        b: bias, shape (4H,).
        The layer keeps these very arrays: params = [Wx, Wh, b].

    Shapes: forward(x (N, D), h (N, H), c (N, H)) -> (h_next (N, H), c_next (N, H));
            backward(dh_next (N, H), dc_next (N, H)) -> (dx (N, D), dh (N, H), dc (N, H)).
    Matches torch.nn.LSTMCell(D, H) with weight_ih = Wx.T, weight_hh = Wh.T,
    bias_ih = b, bias_hh = 0 (torch orders the gate blocks i, f, g, o too).
    """

    def __init__(self, Wx, Wh, b):
        self.Wx = Wx
        self.Wh = Wh
        self.b = b
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.cache = None

    def forward(self, x, h, c):
        """Return (h_next, c_next). Shapes: (N, D), (N, H), (N, H) -> (N, H), (N, H)."""
        ### BEGIN SOLUTION
        H = self.Wh.shape[0]
        a = x @ self.Wx + h @ self.Wh + self.b
        i = _sigmoid(a[:, :H])
        f = _sigmoid(a[:, H:2 * H])
        g = np.tanh(a[:, 2 * H:3 * H])
        o = _sigmoid(a[:, 3 * H:])
        c_next = f * c + i * g
        tc = np.tanh(c_next)
        h_next = o * tc
        self.cache = (x.copy(), h.copy(), c.copy(), i, f, g, o, tc)
        return h_next, c_next
        ### END SOLUTION

    def backward(self, dh_next, dc_next):
        """Return (dx, dh, dc); write dWx, dWh, db into self.grads.

        Shapes: dh_next (N, H), dc_next (N, H) -> dx (N, D), dh (N, H), dc (N, H).
        """
        ### BEGIN SOLUTION
        x, h, c, i, f, g, o, tc = self.cache
        dc_total = dc_next + dh_next * o * (1.0 - tc ** 2)
        do = dh_next * tc
        di = dc_total * g
        df = dc_total * c
        dg = dc_total * i
        da = np.concatenate([di * i * (1.0 - i), df * f * (1.0 - f), dg * (1.0 - g ** 2), do * o * (1.0 - o)],
                            axis=1)
        self.grads[0][...] = x.T @ da
        self.grads[1][...] = h.T @ da
        self.grads[2][...] = da.sum(axis=0)
        return da @ self.Wx.T, da @ self.Wh.T, dc_total * f
        ### END SOLUTION


class RNN:
    """A vanilla tanh RNN run over a whole sequence, with backpropagation through time.

    Forward:  h_0 is given; for t = 1, ..., T:
                  h_t = tanh(x_t @ Wx + h_{t-1} @ Wh + b)
              and the result stacks all hidden states: hs[t - 1] = h_t.
    Backward (backpropagation through time): dhs[t - 1] is the gradient
              reaching h_t from above (from a loss or a next layer). Walk the
              steps BACKWARDS, carrying the gradient that flows into h_t from
              step t + 1 (zero after the last step):
                  dh_t = dhs[t - 1] + (gradient from step t + 1)
                  da_t = dh_t * (1 - h_t**2)
                  dx_t = da_t @ Wx.T
                  gradient to h_{t-1}: da_t @ Wh.T
              The weights are shared by all steps, so their gradients are
              SUMMED over t:
                  dWx = sum_t x_t.T @ da_t    dWh = sum_t h_{t-1}.T @ da_t
                  db  = sum_t (sum of da_t over the batch)
              and dh0 is the gradient that reaches h_0 at the end.

    Args:
        Wx: input-to-hidden weights, shape (D, H).
        Wh: hidden-to-hidden weights, shape (H, H).
        b: bias, shape (H,).
        The layer keeps these very arrays: params = [Wx, Wh, b].

    Conventions: sequences are TIME-first, (T, N, D), as torch's default
    batch_first=False; some texts use batch-first (N, T, D): not here.

    Shapes: forward(xs (T, N, D), h0 (N, H)) -> hs (T, N, H) (time first);
            backward(dhs (T, N, H)) -> (dxs (T, N, D), dh0 (N, H)).
    Matches torch.nn.RNN(D, H, nonlinearity="tanh") (one layer, time-first
    input, batch_first=False) with weight_ih_l0 = Wx.T, weight_hh_l0 = Wh.T,
    bias_ih_l0 = b, bias_hh_l0 = 0: its first result is hs, and
    torch's h0 has an extra leading axis of size 1 (h0[None]).
    """

    def __init__(self, Wx, Wh, b):
        self.Wx = Wx
        self.Wh = Wh
        self.b = b
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.cache = None

    def forward(self, xs, h0):
        """Return all hidden states hs. Shapes: xs (T, N, D), h0 (N, H) -> hs (T, N, H)."""
        ### BEGIN SOLUTION
        T, N = xs.shape[:2]
        hs = np.empty((T, N, self.Wh.shape[0]))
        h = h0
        for t in range(T):
            h = np.tanh(xs[t] @ self.Wx + h @ self.Wh + self.b)
            hs[t] = h
        self.cache = (xs.copy(), h0.copy(), hs.copy())
        return hs
        ### END SOLUTION

    def backward(self, dhs):
        """Return (dxs, dh0); write dWx, dWh, db (summed over time) into self.grads.

        Shapes: dhs (T, N, H) -> dxs (T, N, D), dh0 (N, H).
        """
        ### BEGIN SOLUTION
        xs, h0, hs = self.cache
        dWx, dWh, db = np.zeros_like(self.Wx), np.zeros_like(self.Wh), np.zeros_like(self.b)
        dxs = np.empty(xs.shape)
        dh_carry = np.zeros(h0.shape)
        for t in reversed(range(xs.shape[0])):
            h_prev = hs[t - 1] if t > 0 else h0
            da = (dhs[t] + dh_carry) * (1.0 - hs[t] ** 2)
            dxs[t] = da @ self.Wx.T
            dWx += xs[t].T @ da
            dWh += h_prev.T @ da
            db += da.sum(axis=0)
            dh_carry = da @ self.Wh.T
        self.grads[0][...] = dWx
        self.grads[1][...] = dWh
        self.grads[2][...] = db
        return dxs, dh_carry
        ### END SOLUTION
