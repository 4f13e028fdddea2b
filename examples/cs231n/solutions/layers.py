"""Layers as CS231n writes them: a forward function that returns its output and a cache, and a backward
function that takes the upstream gradient and that cache.

    out, cache = affine_forward(x, w, b)
    dx, dw, db = affine_backward(dout, cache)

The grader calls these functions as they are (course.yml declares the shape under ``interface:``).
"""
import numpy as np


def affine_forward(x, w, b):
    """Computes the forward pass for an affine (fully connected) layer.

    Inputs:
    - x: A numpy array of shape (N, D)
    - w: A numpy array of weights, of shape (D, M)
    - b: A numpy array of biases, of shape (M,)

    Returns a tuple of:
    - out: output, of shape (N, M)
    - cache: (x, w, b)
    """
    out = None
    ### BEGIN SOLUTION
    out = x.reshape(x.shape[0], -1).dot(w) + b
    ### END SOLUTION
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    """Computes the backward pass for an affine layer.

    Inputs:
    - dout: Upstream derivative, of shape (N, M)
    - cache: Tuple of x (N, D), w (D, M), b (M,)

    Returns a tuple of:
    - dx: Gradient with respect to x, of shape (N, D)
    - dw: Gradient with respect to w, of shape (D, M)
    - db: Gradient with respect to b, of shape (M,)
    """
    x, w, b = cache
    dx, dw, db = None, None, None
    ### BEGIN SOLUTION
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T.dot(dout)
    db = np.sum(dout, axis=0)
    ### END SOLUTION
    return dx, dw, db


def relu_forward(x):
    """Computes the forward pass for a layer of rectified linear units (ReLUs).

    Input:
    - x: Inputs, of any shape

    Returns a tuple of:
    - out: Output, of the same shape as x
    - cache: x
    """
    out = None
    ### BEGIN SOLUTION
    out = np.maximum(0, x)
    ### END SOLUTION
    cache = x
    return out, cache


def relu_backward(dout, cache):
    """Computes the backward pass for a layer of rectified linear units (ReLUs).

    Input:
    - dout: Upstream derivatives, of any shape
    - cache: Input x, of same shape as dout

    Returns:
    - dx: Gradient with respect to x
    """
    dx, x = None, cache
    ### BEGIN SOLUTION
    dx = dout * (x > 0)
    ### END SOLUTION
    return dx


def softmax_loss(x, y):
    """Computes the loss and gradient for softmax classification.

    Inputs:
    - x: Input data, of shape (N, C) where x[i, j] is the score for the jth class for the ith input.
    - y: Vector of labels, of shape (N,) where y[i] is the label for x[i] and 0 <= y[i] < C

    Returns a tuple of:
    - loss: Scalar giving the loss
    - dx: Gradient of the loss with respect to x
    """
    loss, dx = None, None
    ### BEGIN SOLUTION
    shifted_logits = x - np.max(x, axis=1, keepdims=True)
    Z = np.sum(np.exp(shifted_logits), axis=1, keepdims=True)
    log_probs = shifted_logits - np.log(Z)
    probs = np.exp(log_probs)
    N = x.shape[0]
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    dx /= N
    ### END SOLUTION
    return loss, dx


class FromScratchAffine:
    """An affine layer as "Deep Learning from Scratch" writes it, with torch's weight layout: W has
    shape (M, D) (out, in), and backward leaves the parameters' gradients in self.dW and self.db.

        out = x @ W.T + b
    """

    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.x = None
        self.dW = None
        self.db = None

    def forward(self, x):
        ### BEGIN SOLUTION
        self.x = x
        return x @ self.W.T + self.b
        ### END SOLUTION

    def backward(self, dout):
        ### BEGIN SOLUTION
        self.dW = dout.T @ self.x
        self.db = np.sum(dout, axis=0)
        return dout @ self.W
        ### END SOLUTION
