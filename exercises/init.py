"""Weight initializers for an Affine layer.

Every function here returns the weight matrix W of an Affine layer, y = x @ W + b, in the course's
convention: W has shape (fan_in, fan_out) = (D_in, D_out), so

    fan_in  = W.shape[0]   (the number of inputs of each output unit)
    fan_out = W.shape[1]   (the number of output units)

PyTorch stores the same weight TRANSPOSED, as (fan_out, fan_in) (nn.Linear computes x @ w.T), and
reads its fan_in from shape[1]: each "torch equivalent" below means "applied to a torch weight w of
shape (fan_out, fan_in), then transposed".

Draw every random number from the ``rng`` argument, a ``numpy.random.Generator`` (rng.uniform,
rng.normal, rng.standard_normal, rng.permutation...), never from ``np.random``'s global functions:
the same generator seed must give the same matrix, so that an experiment can be repeated.
Return float64 arrays.

Why the scales? A unit sums fan_in terms w_i x_i; with independent zero-mean weights of variance
var(w), var(y) = fan_in var(w) var(x). Keeping var(y) = var(x) in the forward pass asks for
var(w) = 1/fan_in, keeping the gradients' variance in the backward pass asks for 1/fan_out: Glorot
and Bengio (2010) take the compromise 2/(fan_in + fan_out); He et al. (2015) double 1/fan_in because
a ReLU zeroes half of its inputs. A uniform law U(-a, a) has variance a**2/3, so its bound is
a = sqrt(3 var). (Beware: some notes write Glorot normal's *variance* as sqrt(2/(m+n)); it is the
standard deviation that is sqrt(2/(fan_in + fan_out)), the variance is 2/(fan_in + fan_out).)
"""
import numpy as np


def uniform_fan_in(fan_in, fan_out, rng):
    """The classic heuristic: every weight uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)].

        W_ij ~ U(-a, a),  a = 1 / sqrt(fan_in),  so var(W_ij) = 1 / (3 fan_in).

    Args:
        fan_in: number of inputs D_in (rows of W).
        fan_out: number of outputs D_out (columns of W).
        rng: a numpy.random.Generator to draw from.

    Returns:
        W of shape (fan_in, fan_out), float64.

    Torch equivalent: nn.Linear's default weight, torch.nn.init.kaiming_uniform_(w, a=math.sqrt(5)),
    whose bound sqrt(6 / ((1 + 5) fan_in)) is 1/sqrt(fan_in).
    """
    raise NotImplementedError("uniform_fan_in is not implemented yet: write your code here")


def glorot_uniform(fan_in, fan_out, rng, gain=1.0):
    """Glorot (Xavier) uniform initialization.

        W_ij ~ U(-a, a),  a = gain * sqrt(6 / (fan_in + fan_out)),
        so var(W_ij) = gain**2 * 2 / (fan_in + fan_out).

    Args:
        fan_in: number of inputs D_in (rows of W).
        fan_out: number of outputs D_out (columns of W).
        rng: a numpy.random.Generator to draw from.
        gain: scale factor for the activation that follows (1 for linear or sigmoid, 5/3 for tanh).

    Returns:
        W of shape (fan_in, fan_out), float64.

    Torch equivalent: torch.nn.init.xavier_uniform_(w, gain=gain).
    """
    raise NotImplementedError("glorot_uniform is not implemented yet: write your code here")


def glorot_normal(fan_in, fan_out, rng, gain=1.0):
    """Glorot (Xavier) normal initialization.

        W_ij ~ N(0, std**2),  std = gain * sqrt(2 / (fan_in + fan_out)),
        so var(W_ij) = gain**2 * 2 / (fan_in + fan_out).

    Args:
        fan_in: number of inputs D_in (rows of W).
        fan_out: number of outputs D_out (columns of W).
        rng: a numpy.random.Generator to draw from.
        gain: scale factor for the activation that follows.

    Returns:
        W of shape (fan_in, fan_out), float64.

    Torch equivalent: torch.nn.init.xavier_normal_(w, gain=gain).
    """
    raise NotImplementedError("glorot_normal is not implemented yet: write your code here")


def he_normal(fan_in, fan_out, rng, a=0.0):
    """He (Kaiming) normal initialization, for layers followed by a ReLU (or a leaky ReLU of slope a).

        W_ij ~ N(0, std**2),  std = gain / sqrt(fan_in),  gain = sqrt(2 / (1 + a**2)),
        so var(W_ij) = 2 / ((1 + a**2) fan_in)   (2 / fan_in for a ReLU).

    Args:
        fan_in: number of inputs D_in (rows of W).
        fan_out: number of outputs D_out (columns of W); it does not enter the scale.
        rng: a numpy.random.Generator to draw from.
        a: negative slope of the leaky ReLU that follows (0 for a ReLU).

    Returns:
        W of shape (fan_in, fan_out), float64.

    Torch equivalent: torch.nn.init.kaiming_normal_(w, a=a, mode="fan_in", nonlinearity="leaky_relu")
    (with a = 0 the same as nonlinearity="relu").
    """
    raise NotImplementedError("he_normal is not implemented yet: write your code here")


def he_uniform(fan_in, fan_out, rng, a=0.0):
    """He (Kaiming) uniform initialization.

        W_ij ~ U(-b, b),  b = gain * sqrt(3 / fan_in),  gain = sqrt(2 / (1 + a**2)),
        so var(W_ij) = 2 / ((1 + a**2) fan_in)   (b = sqrt(6 / fan_in) for a ReLU).

    Args:
        fan_in: number of inputs D_in (rows of W).
        fan_out: number of outputs D_out (columns of W); it does not enter the scale.
        rng: a numpy.random.Generator to draw from.
        a: negative slope of the leaky ReLU that follows (0 for a ReLU).

    Returns:
        W of shape (fan_in, fan_out), float64.

    Torch equivalent: torch.nn.init.kaiming_uniform_(w, a=a, mode="fan_in", nonlinearity="leaky_relu").
    """
    raise NotImplementedError("he_uniform is not implemented yet: write your code here")


def orthogonal(fan_in, fan_out, rng, gain=1.0):
    """A random orthogonal matrix, uniformly distributed (Haar), times gain (Saxe et al., 2014).

    With fan_in >= fan_out the columns of W are orthonormal, W.T @ W = gain**2 * I (fan_out, fan_out);
    with fan_in < fan_out the rows are, W @ W.T = gain**2 * I (fan_in, fan_in). Recipe: draw a
    Gaussian matrix A with the long side first, take A = Q R (np.linalg.qr), multiply each column of
    Q by the sign of R's diagonal entry (without this the law is not uniform over orthogonal
    matrices), transpose back if needed, multiply by gain.

    Args:
        fan_in: number of inputs D_in (rows of W).
        fan_out: number of outputs D_out (columns of W).
        rng: a numpy.random.Generator to draw from.
        gain: the norm of every orthonormal column (or row).

    Returns:
        W of shape (fan_in, fan_out), float64.

    Torch equivalent: torch.nn.init.orthogonal_(w, gain=gain).
    """
    raise NotImplementedError("orthogonal is not implemented yet: write your code here")


def sparse(fan_in, fan_out, rng, k, std=0.01):
    """Sparse initialization (Martens, 2010): every output unit gets exactly k non-zero incoming weights.

    Each column j of W (the weights into output unit j) has k non-zero entries, in k distinct rows
    chosen uniformly at random, independently for every column; the non-zeros are N(0, std**2), all
    other entries are 0. A unit's input scale then no longer shrinks as fan_in grows.

    Args:
        fan_in: number of inputs D_in (rows of W), at least k.
        fan_out: number of outputs D_out (columns of W).
        rng: a numpy.random.Generator to draw from.
        k: non-zeros per column, 1 <= k <= fan_in.
        std: standard deviation of the non-zero weights.

    Returns:
        W of shape (fan_in, fan_out), float64.

    Raises:
        ValueError: if k is not in [1, fan_in].

    Torch equivalent: torch.nn.init.sparse_ fixes the number of ZEROS per column of its argument,
    ceil(sparsity * rows): torch.nn.init.sparse_(w, sparsity=(fan_in - k - 0.5) / fan_in, std=std) on a
    tensor of shape (fan_in, fan_out), not transposed, leaves k non-zeros per column as here (the 0.5
    keeps the ceiling from rounding up by one). On torch's own (fan_out, fan_in) weight, sparse_
    sparsifies per input unit instead.
    """
    raise NotImplementedError("sparse is not implemented yet: write your code here")
