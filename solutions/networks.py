"""Whole networks, built from your own parts, trained.

Nothing here is a new layer. Every piece is imported from the modules you
wrote in the earlier assignments (layers.Affine, activations.ReLU,
losses.SoftmaxCrossEntropy, optim.Adam...), and this module only puts them
together:

* ``Sequential`` chains layers: forward runs them in order, backward runs
  them in reverse, and ``params``/``grads`` gather every layer's lists so
  that an optimizer updates the whole network with one call.
* ``TwoLayerNet`` is the small classifier Affine -> Sigmoid -> Affine with
  softmax-with-loss on top, as in "Deep Learning from Scratch".
* ``fit`` is the training loop: shuffle, cut into mini-batches, and for each
  batch forward, loss, backward, one optimizer step.
* ``train_xor`` and ``train_digits`` are two recipes: the 2-2-1 network
  that solves XOR, and an MLP on scikit-learn's 8x8 handwritten digits.

The grader trains a torch twin of every network from the SAME initial
parameters on the SAME mini-batches and compares, step by step, the loss,
every gradient and every parameter. The docstrings say exactly which random
numbers to draw, in which order: follow them, and your run and torch's agree
to the last digit.
"""
import numpy as np

from activations import LogSoftmax, ReLU, Sigmoid
from cnn import Conv2d, Flatten, MaxPool2d
from layers import Affine
from losses import BCEWithLogitsLoss, NLLLoss, SoftmaxCrossEntropy
from optim import SGD, Adam


class Sequential:
    """A network that runs its layers one after the other.

    forward(x):     h = x; for each layer in order: h = layer.forward(h); return h
    backward(dout): d = dout; for each layer in REVERSE order: d = layer.backward(d); return d
                    (backward receives dL/d(output) and returns dL/dx: the chain rule,
                    one layer at a time, last layer first)

    ``params`` and ``grads`` are the concatenation of every layer's
    ``params`` and ``grads`` lists, in layer order: the SAME array objects,
    not copies, so that an optimizer updating ``model.params`` in place
    updates the layers, and reads the gradients the layers write.

    ``train()`` and ``eval()`` switch every layer that has a mode (Dropout,
    BatchNorm1d: their ``train`` attribute) to training or evaluation, and
    return the model.

    Args:
        layers: list of layer objects (anything with forward, backward,
            params and grads).
    Matches torch.nn.Sequential(*layers).
    """

    def __init__(self, layers):
        ### BEGIN SOLUTION
        self.layers = list(layers)
        self.params = [p for layer in self.layers for p in layer.params]
        self.grads = [g for layer in self.layers for g in layer.grads]
        ### END SOLUTION

    def forward(self, x):
        """Run x through every layer in order. Shapes: x (N, ...) -> the last layer's output."""
        ### BEGIN SOLUTION
        for layer in self.layers:
            x = layer.forward(x)
        return x
        ### END SOLUTION

    def backward(self, dout):
        """Run dout back through every layer in reverse order; return dL/dx."""
        ### BEGIN SOLUTION
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout
        ### END SOLUTION

    def train(self):
        """Training mode for every layer that has one; returns self."""
        ### BEGIN SOLUTION
        return self._mode(True)
        ### END SOLUTION

    def eval(self):
        """Evaluation mode for every layer that has one; returns self."""
        ### BEGIN SOLUTION
        return self._mode(False)
        ### END SOLUTION

    def _mode(self, training):
        for layer in self.layers:
            if callable(getattr(layer, "train", None)):  # a nested network
                layer.train() if training else layer.eval()
            elif hasattr(layer, "train"):
                layer.train = training
        return self


class TwoLayerNet:
    """Affine -> Sigmoid -> Affine, with softmax cross-entropy as the loss.

    Initialisation, with the generator rng, in this order:
        W1 = weight_init_std * rng.standard_normal((input_size, hidden_size))
        b1 = zeros(hidden_size)
        W2 = weight_init_std * rng.standard_normal((hidden_size, output_size))
        b2 = zeros(output_size)
    The layers are Affine(W1, b1), Sigmoid(), Affine(W2, b2) and the loss
    layer a SoftmaxCrossEntropy() (mean over the batch); params = [W1, b1,
    W2, b2] and grads the four matching gradient arrays, the layers' own.

    predict(x): the scores (N, output_size), before the softmax.
    loss(x, t): the mean cross-entropy of predict(x) with the labels t (N,).
    backward(dout=1.0): back through the loss layer and the three layers, in
        reverse; writes the gradients into grads and returns dL/dx.

    Matches torch: cross_entropy(linear(sigmoid(linear(x, W1.T, b1)), W2.T, b2), t).
    """

    def __init__(self, input_size, hidden_size, output_size, rng, weight_init_std=0.01):
        ### BEGIN SOLUTION
        W1 = weight_init_std * rng.standard_normal((input_size, hidden_size))
        b1 = np.zeros(hidden_size)
        W2 = weight_init_std * rng.standard_normal((hidden_size, output_size))
        b2 = np.zeros(output_size)
        self.layers = [Affine(W1, b1), Sigmoid(), Affine(W2, b2)]
        self.loss_layer = SoftmaxCrossEntropy()
        self.params = [p for layer in self.layers for p in layer.params]
        self.grads = [g for layer in self.layers for g in layer.grads]
        ### END SOLUTION

    def predict(self, x):
        """The class scores. Shapes: x (N, input_size) -> (N, output_size)."""
        ### BEGIN SOLUTION
        for layer in self.layers:
            x = layer.forward(x)
        return x
        ### END SOLUTION

    def loss(self, x, t):
        """The mean softmax cross-entropy of predict(x) against labels t, a float."""
        ### BEGIN SOLUTION
        return self.loss_layer.forward(self.predict(x), t)
        ### END SOLUTION

    def backward(self, dout=1.0):
        """Gradients of the last loss(x, t), written into self.grads; returns dL/dx."""
        ### BEGIN SOLUTION
        dout = self.loss_layer.backward(dout)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout
        ### END SOLUTION


def accuracy(model, X, y):
    """The fraction of rows of X that model classifies as y (given, not an exercise).

    With one output column the output is a logit: class 1 where it is > 0.
    With several, the class is the column of the largest output.
    """
    out = model.forward(X)
    if out.shape[1] == 1:
        predicted = (out[:, 0] > 0).astype(np.int64)
    else:
        predicted = np.argmax(out, axis=1)
    return float(np.mean(predicted == np.asarray(y).reshape(-1).astype(np.int64)))


def fit(model, loss, optimizer, X, y, epochs, batch_size, rng):
    """Train model on (X, y) with mini-batches; return the history.

    For each epoch:
        model.train()
        order = rng.permutation(len(X))           (one call per epoch, nothing else drawn)
        for start in 0, batch_size, 2 * batch_size, ...:
            idx = order[start:start + batch_size] (the last batch may be smaller)
            out = model.forward(X[idx])
            value = loss.forward(out, y[idx])     (the SAME rows of X and of y)
            model.backward(loss.backward())
            optimizer.update(model.params, model.grads)
            record value (a float) in history["loss"]
        model.eval()
        record accuracy(model, X, y) in history["accuracy"]

    Every step's gradients are those of that batch alone: the layers write
    (not add) their gradients, so nothing needs zeroing between steps.

    Returns:
        {"loss": [one float per step], "accuracy": [one float per epoch]}
    """
    ### BEGIN SOLUTION
    history = {"loss": [], "accuracy": []}
    n = len(X)
    for _ in range(epochs):
        model.train()
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            out = model.forward(X[idx])
            value = loss.forward(out, y[idx])
            model.backward(loss.backward())
            optimizer.update(model.params, model.grads)
            history["loss"].append(float(value))
        model.eval()
        history["accuracy"].append(accuracy(model, X, y))
    return history
    ### END SOLUTION


def uniform_affine(fan_in, fan_out, limit, rng):
    """An Affine layer with W then b drawn from U(-limit, limit): rng.uniform(-limit, limit, shape)."""
    W = rng.uniform(-limit, limit, (fan_in, fan_out))
    b = rng.uniform(-limit, limit, (fan_out,))
    return Affine(W, b)


def train_xor(rng, epochs):
    """Solve XOR with the 2-2-1 network: Affine(2, 2) -> ReLU -> Affine(2, 1), logistic output.

    The data: X = [[0, 0], [0, 1], [1, 0], [1, 1]] (float64), y = [[0], [1], [1], [0]] (float64).
    The network (Glorot-uniform weights, as Keras draws them, biases 0), drawn in this order:
        W1 = rng.uniform(-a, a, (2, 2)) with a = sqrt(6 / (2 + 2)); b1 = zeros(2)
        W2 = rng.uniform(-c, c, (2, 1)) with c = sqrt(6 / (2 + 1)); b2 = zeros(1)
    The loss: BCEWithLogitsLoss() (the logistic unit and binary cross-entropy
    in one, on the output logit). The optimizer: SGD(lr=0.5).
    Training: fit(model, loss, optimizer, X, y, epochs, 4, rng), with the same rng.

    Returns:
        (model, history): the trained Sequential and fit's history.
    """
    ### BEGIN SOLUTION
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    W1 = rng.uniform(-np.sqrt(6 / 4), np.sqrt(6 / 4), (2, 2))
    W2 = rng.uniform(-np.sqrt(6 / 3), np.sqrt(6 / 3), (2, 1))
    model = Sequential([Affine(W1, np.zeros(2)), ReLU(), Affine(W2, np.zeros(1))])
    history = fit(model, BCEWithLogitsLoss(), SGD(lr=0.5), X, y, epochs, 4, rng)
    return model, history
    ### END SOLUTION


def train_digits(X_train, y_train, X_test, y_test, rng, epochs):
    """The MLP of the course text, on the 8x8 digits: 64-64-64-64-10.

    The network: Affine(D, 64) -> ReLU -> Affine(64, 64) -> ReLU ->
    Affine(64, 64) -> ReLU -> Affine(64, 10) -> LogSoftmax(axis=1), where
    D = X_train.shape[1] is the number of pixels of an image (64 for the 8x8
    digits; 784 for MNIST's 28x28, the course text's 784-64-64-64-10), each
    Affine drawn with uniform_affine(fan_in, fan_out, 1 / sqrt(fan_in), rng),
    first layer first (torch.nn.Linear's default range).
    The loss: NLLLoss() on the log-probabilities. The optimizer: Adam(lr=1e-3).
    Training: fit(model, loss, optimizer, X_train, y_train, epochs, 15, rng),
    with the same rng; then the test accuracy, in evaluation mode.

    Returns:
        (model, history, test_accuracy): the trained Sequential (in evaluation
        mode), fit's history and accuracy(model, X_test, y_test).
    """
    ### BEGIN SOLUTION
    sizes = [X_train.shape[1], 64, 64, 64, 10]
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [uniform_affine(fan_in, fan_out, 1 / np.sqrt(fan_in), rng), ReLU()]
    model = Sequential(layers[:-1] + [LogSoftmax(axis=1)])
    history = fit(model, NLLLoss(), Adam(lr=1e-3), X_train, y_train, epochs, 15, rng)
    model.eval()
    return model, history, accuracy(model, X_test, y_test)
    ### END SOLUTION


def train_digits_cnn(X_train, y_train, X_test, y_test, rng, epochs):
    """A small convolutional network on the 8x8 digits, seen as 1-channel images.

    The images: X.reshape(-1, 1, 8, 8) for both splits.
    The network: Conv2d(W, b, padding=1) with 8 kernels 3x3 over the 1
    channel -> ReLU -> MaxPool2d(kernel=2) -> Flatten -> Affine(128, 10)
    (8 channels of 4x4), the two layers drawn first the Conv2d, then the
    Affine, each W then b from U(-k, k) with k = 1 / sqrt(fan_in):
        W = rng.uniform(-k, k, (8, 1, 3, 3)), b = rng.uniform(-k, k, (8,))
            with fan_in = 1 * 3 * 3 = 9 (inputs of one output pixel)
        then uniform_affine(128, 10, 1 / sqrt(128), rng).
    The loss: SoftmaxCrossEntropy(). The optimizer: Adam(lr=3e-3).
    Training: fit(model, loss, optimizer, images_train, y_train, epochs, 15, rng),
    with the same rng; then the test accuracy, in evaluation mode.

    Returns:
        (model, history, test_accuracy): the trained Sequential (in evaluation
        mode), fit's history and accuracy(model, images_test, y_test).
    """
    ### BEGIN SOLUTION
    images_train, images_test = X_train.reshape(-1, 1, 8, 8), X_test.reshape(-1, 1, 8, 8)
    k = 1 / np.sqrt(9)
    conv = Conv2d(rng.uniform(-k, k, (8, 1, 3, 3)), rng.uniform(-k, k, (8,)), padding=1)
    model = Sequential([conv, ReLU(), MaxPool2d(kernel=2), Flatten(), uniform_affine(128, 10, 1 / np.sqrt(128), rng)])
    history = fit(model, SoftmaxCrossEntropy(), Adam(lr=3e-3), images_train, y_train, epochs, 15, rng)
    model.eval()
    return model, history, accuracy(model, images_test, y_test)
    ### END SOLUTION
