"""First-order update rules as CS231n writes them: each is a function

    next_w, config = update(w, dw, config)

where config is a dict of hyper-parameters and of the state the rule keeps between steps (a velocity, the
moments of Adam). A config of None means every default.
"""
import numpy as np


def sgd(w, dw, config=None):
    """Performs vanilla stochastic gradient descent.

    config format:
    - learning_rate: Scalar learning rate.
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    ### BEGIN SOLUTION
    w -= config["learning_rate"] * dw
    ### END SOLUTION
    return w, config


def sgd_momentum(w, dw, config=None):
    """Performs stochastic gradient descent with momentum.

    config format:
    - learning_rate: Scalar learning rate.
    - momentum: Scalar between 0 and 1 giving the momentum value.
    - velocity: A numpy array of the same shape as w and dw used to store a moving average of the gradients.
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    next_w = None
    ### BEGIN SOLUTION
    v = config["momentum"] * v - config["learning_rate"] * dw
    next_w = w + v
    ### END SOLUTION
    config["velocity"] = v
    return next_w, config


def adam(w, dw, config=None):
    """Uses the Adam update rule, which incorporates moving averages of both the gradient and its square
    and a bias correction term.

    config format:
    - learning_rate: Scalar learning rate.
    - beta1: Decay rate for moving average of first moment of gradient.
    - beta2: Decay rate for moving average of second moment of gradient.
    - epsilon: Small scalar used for smoothing to avoid dividing by zero.
    - m: Moving average of gradient.
    - v: Moving average of squared gradient.
    - t: Iteration number.
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)
    next_w = None
    ### BEGIN SOLUTION
    config["t"] += 1
    config["m"] = config["beta1"] * config["m"] + (1 - config["beta1"]) * dw
    config["v"] = config["beta2"] * config["v"] + (1 - config["beta2"]) * (dw * dw)
    mb = config["m"] / (1 - config["beta1"] ** config["t"])
    vb = config["v"] / (1 - config["beta2"] ** config["t"])
    next_w = w - config["learning_rate"] * mb / (np.sqrt(vb) + config["epsilon"])
    ### END SOLUTION
    return next_w, config
