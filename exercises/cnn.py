"""Convolutional layers: flatten, 2-D convolution, max pooling and average pooling.

Images travel as 4-D arrays in PyTorch's NCHW layout: x[n, c, h, w] is
pixel (h, w) of channel c of image n. A convolution slides a small kernel
over the image; at each position it multiplies the window by the kernel
entry by entry, adds everything up (over all input channels) and adds a
bias: one output pixel. Each of the C_out kernels gives one output channel
(a feature map). Two ideas make it cheap: local connections (a window, not
the whole image) and weight sharing (the same kernel at every position).

Output size. With input height H, kernel height kh, padding p_top/p_bottom
and stride s, the output height is

    H_out = floor((H + p_top + p_bottom - kh) / s) + 1

and likewise for the width. Padding adds rows and columns of zeros around
the image; "valid" means no padding; "same" (stride 1 only) pads so that
H_out = H.

The layers follow the protocol of the other layers: ``self.params`` and
``self.grads`` are lists of numpy arrays; ``forward(x)`` returns a NEW float64
array and never changes ``x``; ``backward(dout)`` returns dL/dx (a new array,
``dout`` untouched) and writes parameter gradients INTO ``self.grads``
(``self.grads[0][...] = dW``).

A hint for the backward passes: whatever forward did with a window of x,
backward does in reverse with the same window of dx, and windows that
overlap (stride smaller than the kernel) ADD their contributions (+=).
"""
import numpy as np


def _pair(value):
    """An int or a pair (tuple or list) of ints, as a tuple (rows, columns)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"expected an int or a pair of ints, got {value!r}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


class Flatten:
    """Flatten every sample to a vector: the bridge from conv layers to Affine.

    Forward:  y = x.reshape(N, -1): (N, C, H, W) becomes (N, C*H*W), in
              C order (the last axis varies fastest), as torch does.
    Backward: flattening only moves numbers around, so the gradient is
              dout moved back: dx = dout.reshape(x.shape).

    Shapes: x (N, d1, d2, ...) -> y (N, d1*d2*...); dout (N, d1*d2*...) ->
            dx (N, d1, d2, ...).
    Matches torch.flatten(x, start_dim=1) / torch.nn.Flatten().
    """

    def __init__(self):
        self.params = []
        self.grads = []
        self.shape = None

    def forward(self, x):
        """Return x with each sample flattened. Shapes: (N, ...) -> (N, prod(...))."""
        raise NotImplementedError("Flatten.forward is not implemented yet: write your code here")

    def backward(self, dout):
        """Return dL/dx. Shapes: (N, prod(...)) -> (N, ...), x's shape."""
        raise NotImplementedError("Flatten.backward is not implemented yet: write your code here")


class Conv2d:
    """2-D convolution (cross-correlation, as in every deep-learning library).

    Forward, for stride (sh, sw) and xp = x zero-padded:
        y[n, f, i, j] = b[f] + sum over c, p, q of
                        xp[n, c, i*sh + p, j*sw + q] * W[f, c, p, q]
    The kernel is NOT flipped: this is cross-correlation, which is what
    torch.nn.Conv2d computes under the name "convolution".
    Backward:
        db[f]          = sum of dout[:, f, :, :] over n, i, j
        dW[f, c, p, q] = sum over n, i, j of
                         dout[n, f, i, j] * xp[n, c, i*sh + p, j*sw + q]
        dxp[n, c, i*sh + p, j*sw + q] += dout[n, f, i, j] * W[f, c, p, q]
                         (summed over f, and over every window that covers
                         the pixel), then dx = dxp with the padding cut off.
    One way that stays vectorised: loop over the kh*kw kernel offsets
    (p, q); for each, the slice xp[:, :, p : p + sh*H_out : sh,
    q : q + sw*W_out : sw] has shape (N, C_in, H_out, W_out) and meets the
    matrix W[:, :, p, q] of shape (C_out, C_in) (np.einsum or
    np.tensordot). Unfolding the windows into a matrix (im2col) works too.

    Args:
        W: kernels, shape (C_out, C_in, kh, kw).
        b: biases, shape (C_out,). The layer keeps these very arrays:
            params = [W, b].
        stride: an int, or a pair (sh, sw) for rows and columns.
        padding: zeros added around the image: an int (all four sides), a
            pair (ph, pw) (ph rows at the top and at the bottom, pw columns
            at the left and at the right), "valid" (none) or "same" (stride
            1 only: H_out = H and W_out = W; the total padding kh - 1 is
            split as (kh - 1) // 2 at the top and the rest at the bottom,
            so an even kernel gets one more row at the bottom; columns
            likewise, the extra one on the right).

    Shapes: x (N, C_in, H, W) -> y (N, C_out, H_out, W_out) with
            H_out = (H + pad_top + pad_bottom - kh) // sh + 1 and
            W_out = (W + pad_left + pad_right - kw) // sw + 1.
    Matches torch.nn.functional.conv2d(x, W, b, stride, padding) /
    torch.nn.Conv2d (whose weight has this same layout).
    """

    def __init__(self, W, b, stride=1, padding=0):
        self.W = W
        self.b = b
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]
        self.stride = _pair(stride)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
            if padding == "same" and self.stride != (1, 1):
                raise ValueError("padding='same' needs stride 1 (as in torch)")
            self.padding = padding
        else:
            self.padding = _pair(padding)
        self.cache = None

    def forward(self, x):
        """Return the convolution of x with the kernels, plus the biases.

        Shapes: x (N, C_in, H, W) -> (N, C_out, H_out, W_out).
        """
        raise NotImplementedError("Conv2d.forward is not implemented yet: write your code here")

    def backward(self, dout):
        """Return dL/dx; write dL/dW and dL/db into self.grads.

        Shapes: dout (N, C_out, H_out, W_out) -> dx (N, C_in, H, W).
        """
        raise NotImplementedError("Conv2d.backward is not implemented yet: write your code here")


class MaxPool2d:
    """2-D max pooling: the largest value of each window, channel by channel.

    Forward:  y[n, c, i, j] = max over p < kh, q < kw of
                              x[n, c, i*sh + p, j*sw + q]
              No padding; windows that would stick out of the image are
              dropped (H_out = (H - kh) // sh + 1).
    Backward: the max passes on only its winner: in each window the whole
              dout[n, c, i, j] goes to the ONE element that was the
              maximum, every other element of the window gets 0 from that
              window. Overlapping windows (stride < kernel) add up (+=).
              Remember where each maximum was in forward.
              Ties (equal maxima, common after a ReLU): the FIRST maximum
              in the window, row by row, wins, as np.argmax and torch pick.

    Args:
        kernel: window size, an int or a pair (kh, kw).
        stride: an int or a pair (sh, sw); None (default) means the kernel
            size, i.e. windows that touch but do not overlap.

    Shapes: x (N, C, H, W) -> y (N, C, H_out, W_out) with
            H_out = (H - kh) // sh + 1 and W_out = (W - kw) // sw + 1.
    Matches torch.nn.functional.max_pool2d(x, kernel, stride) /
    torch.nn.MaxPool2d(kernel, stride).
    """

    def __init__(self, kernel=2, stride=None):
        self.params = []
        self.grads = []
        self.kernel = _pair(kernel)
        self.stride = self.kernel if stride is None else _pair(stride)
        self.cache = None

    def forward(self, x):
        """Return the maximum of each window. Shapes: (N, C, H, W) -> (N, C, H_out, W_out)."""
        raise NotImplementedError("MaxPool2d.forward is not implemented yet: write your code here")

    def backward(self, dout):
        """Return dL/dx: each window's dout routed to its maximum. Shapes: like y -> like x."""
        raise NotImplementedError("MaxPool2d.backward is not implemented yet: write your code here")


class AvgPool2d:
    """2-D average pooling: the mean of each window, channel by channel.

    Forward:  y[n, c, i, j] = 1/(kh*kw) * sum over p < kh, q < kw of
                              x[n, c, i*sh + p, j*sw + q]
              No padding; windows that would stick out are dropped.
    Backward: each of the kh*kw elements of a window contributes to the
              mean with weight 1/(kh*kw), so each gets
              dout[n, c, i, j] / (kh*kw); overlapping windows add up (+=).

    Args:
        kernel: window size, an int or a pair (kh, kw).
        stride: an int or a pair (sh, sw); None (default) means the kernel
            size.

    Shapes: x (N, C, H, W) -> y (N, C, H_out, W_out) with
            H_out = (H - kh) // sh + 1 and W_out = (W - kw) // sw + 1.
    Matches torch.nn.functional.avg_pool2d(x, kernel, stride) /
    torch.nn.AvgPool2d(kernel, stride).
    """

    def __init__(self, kernel=2, stride=None):
        self.params = []
        self.grads = []
        self.kernel = _pair(kernel)
        self.stride = self.kernel if stride is None else _pair(stride)
        self.shape = None

    def forward(self, x):
        """Return the mean of each window. Shapes: (N, C, H, W) -> (N, C, H_out, W_out)."""
        raise NotImplementedError("AvgPool2d.forward is not implemented yet: write your code here")

    def backward(self, dout):
        """Return dL/dx: each window's dout shared equally by its elements. Shapes: like y -> like x."""
        raise NotImplementedError("AvgPool2d.backward is not implemented yet: write your code here")
