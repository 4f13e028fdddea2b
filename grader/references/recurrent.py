"""Twins of the recurrent layers: torch's own RNNCell, LSTMCell and RNN, with the course's weight layout.

The course writes x @ Wx + h @ Wh + b (Wx of shape (D, H) or (D, 4H)); torch stores the transposes and
two biases. Calling torch's modules with those weights (torch.func.functional_call) makes the gate
order (i, f, g, o) and every detail torch's, not a re-derivation.
"""
from __future__ import annotations

import torch
from torch.func import functional_call

from . import twin


def _weights(Wx: torch.Tensor, Wh: torch.Tensor, b: torch.Tensor, suffix: str = "") -> dict[str, torch.Tensor]:
    return {f"weight_ih{suffix}": Wx.T, f"weight_hh{suffix}": Wh.T, f"bias_ih{suffix}": b,
            f"bias_hh{suffix}": torch.zeros_like(b)}


@twin("rnn_cell")
def rnn_cell(x: torch.Tensor, h: torch.Tensor, Wx: torch.Tensor, Wh: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    cell = torch.nn.RNNCell(Wx.shape[0], Wh.shape[0], nonlinearity="tanh", dtype=torch.float64, device=x.device)
    return functional_call(cell, _weights(Wx, Wh, b), (x, h))


@twin("lstm_cell")
def lstm_cell(x: torch.Tensor, h: torch.Tensor, c: torch.Tensor, Wx: torch.Tensor, Wh: torch.Tensor,
              b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    cell = torch.nn.LSTMCell(Wx.shape[0], Wh.shape[0], dtype=torch.float64, device=x.device)
    return functional_call(cell, _weights(Wx, Wh, b), (x, (h, c)))


@twin("rnn")
def rnn(xs: torch.Tensor, h0: torch.Tensor, Wx: torch.Tensor, Wh: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Sequence-first (T, N, D) input, all hidden states (T, N, H) out; backpropagation through time."""
    layer = torch.nn.RNN(Wx.shape[0], Wh.shape[0], nonlinearity="tanh", dtype=torch.float64, device=xs.device)
    hs, _ = functional_call(layer, _weights(Wx, Wh, b, "_l0"), (xs, h0.unsqueeze(0)))
    return hs
