"""Counting: output shapes, parameters and multiply-accumulates of affine and convolutional layers.

Conventions (PyTorch's): a convolution takes images of shape (N, C_in, H, W) and a weight of shape
(C_out, C_in, kh, kw), plus one bias per output channel. ``kernel``, ``stride`` and ``padding`` are
an int (the same for height and width) or a pair (for height, then width); padding adds that many
zeros on EACH side. Return Python ints (or a tuple of ints).

Worked example (a 3x3 convolution from 3 to 100 channels on a 32x32 RGB image, padding 1):

    parameters = 3 * 3 * 3 * 100 + 100 = 2800          (kh * kw * C_in * C_out weights + C_out biases)
    output     = 32 x 32                               ((32 + 2*1 - 3) // 1 + 1 = 32)
    MACs       = 32 * 32 * 100 * 3 * 3 * 3 = 2 764 800 (one multiply-accumulate per weight and output pixel)

A multiply-accumulate (MAC) is one a * b + c; tools that count FLOPs count it as 2 operations
(torch.utils.flop_counter reports 2 * MACs for a convolution).
"""


def _pair(v):
    """``3`` -> ``(3, 3)``; ``(3, 5)`` or ``[3, 5]`` -> ``(3, 5)``."""
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"expected an int or a pair, got {v!r}")
        return int(v[0]), int(v[1])
    return int(v), int(v)


def conv2d_output_shape(h, w, kernel, stride=1, padding=0):
    """Height and width of a 2-d convolution's (or pooling's) output.

        h_out = (h + 2 * ph - kh) // sh + 1,   w_out = (w + 2 * pw - kw) // sw + 1

    (floor division: a last window that would stick out of the padded image is dropped).

    Args:
        h: input height.
        w: input width.
        kernel: kernel size, an int or a pair (kh, kw).
        stride: step between windows, an int or a pair (sh, sw).
        padding: zeros added on each side, an int or a pair (ph, pw).

    Returns:
        (h_out, w_out), a tuple of two ints.

    Raises:
        ValueError: if the kernel is larger than the padded input.

    Torch equivalent: the last two dimensions of torch.nn.functional.conv2d(x, weight, stride=stride,
    padding=padding) for x of shape (N, C_in, h, w).
    """
    raise NotImplementedError("conv2d_output_shape is not implemented yet: write your code here")


def affine_param_count(d_in, d_out):
    """Number of learnable parameters of an Affine (fully connected) layer: W (d_in, d_out) and b (d_out,).

        count = d_in * d_out + d_out

    Args:
        d_in: number of inputs.
        d_out: number of outputs.

    Returns:
        The count, an int (5 inputs, 10 outputs: 5 * 10 + 10 = 60).

    Torch equivalent: sum(p.numel() for p in torch.nn.Linear(d_in, d_out).parameters()).
    """
    raise NotImplementedError("affine_param_count is not implemented yet: write your code here")


def conv2d_param_count(c_in, c_out, kernel, bias=True):
    """Number of learnable parameters of a 2-d convolution.

        count = kh * kw * c_in * c_out  (+ c_out biases when bias is True)

    Every one of the c_out filters spans all c_in input channels; the count does not depend on the
    image size, the stride or the padding (the weights are shared over positions).

    Args:
        c_in: input channels.
        c_out: output channels (number of filters).
        kernel: kernel size, an int or a pair (kh, kw).
        bias: whether the layer has one bias per output channel.

    Returns:
        The count, an int (3x3, 3 -> 100 channels: 3 * 3 * 3 * 100 + 100 = 2800).

    Torch equivalent: sum(p.numel() for p in torch.nn.Conv2d(c_in, c_out, kernel, bias=bias).parameters()).
    """
    raise NotImplementedError("conv2d_param_count is not implemented yet: write your code here")


def conv2d_macs(c_in, c_out, h, w, kernel, stride=1, padding=0):
    """Multiply-accumulates of a 2-d convolution on ONE image of shape (c_in, h, w), bias not counted.

        MACs = h_out * w_out * c_out * c_in * kh * kw

    with (h_out, w_out) from :func:`conv2d_output_shape`: every output value is a dot product of
    c_in * kh * kw weights with as many inputs.

    Args:
        c_in: input channels.
        c_out: output channels.
        h: input height.
        w: input width.
        kernel: kernel size, an int or a pair (kh, kw).
        stride: an int or a pair (sh, sw).
        padding: an int or a pair (ph, pw), zeros on each side.

    Returns:
        The count, an int (3x3, 3 -> 100 channels, 32x32 image, padding 1: 2 764 800).

    Torch equivalent: half the FLOPs that torch.utils.flop_counter.FlopCounterMode counts for
    torch.nn.functional.conv2d on a (1, c_in, h, w) input.
    """
    raise NotImplementedError("conv2d_macs is not implemented yet: write your code here")
