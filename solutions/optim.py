"""Optimizers: the update rules of torch.optim, by hand in numpy.

Training repeats two things: compute the gradient g = dL/dtheta of the loss
for the current parameters theta (backpropagation), then move theta a little
against it. How far and in which direction is the optimizer's business:

* SGD steps straight down the gradient: theta <- theta - lr * g.
* Momentum and Nesterov keep a running sum of past gradients (a "velocity"),
  so steps along a ravine add up while zig-zags across it cancel out.
* AdaGrad, AdaDelta and RMSprop give every entry of theta its own step size,
  dividing by the root of an accumulated (AdaGrad) or averaged (RMSprop,
  AdaDelta) square of its past gradients: entries with large gradients take
  small steps, rarely updated ones (sparse features) take large steps.
* Adam combines both ideas: a running mean of g (first moment) divided by
  the root of a running mean of g**2 (second moment), each corrected for the
  bias of starting at 0. AdamW is Adam with the weight decay taken out of the
  gradient and applied to the weights directly.

Every class follows the same small protocol:

* ``__init__(lr=..., ...)`` stores the hyper-parameters under the names
  torch.optim uses, with torch's defaults, and sets ``self.state = {}``.
* ``update(params, grads)`` performs ONE step. ``params`` and ``grads`` are
  lists of float64 arrays (one pair per parameter, shapes may differ), in
  the same order at every call. Each ``params[i]`` is changed IN PLACE
  (``p -= ...``, ``p *= ...``, ``p[...] = ...``): the layers hold references
  to these very arrays, so ``params[i] = p - lr * g`` would change nothing
  the model sees. ``grads[i]`` is never changed: weight decay makes a NEW
  array ``g = g + weight_decay * p``.
* What an optimizer remembers about parameter i lives in the dict
  ``self.state[i]``, created at the first update of that parameter, with the
  key names torch uses (``"momentum_buffer"``, ``"sum"``, ``"square_avg"``,
  ``"exp_avg"``...). ``"step"`` counts the updates of that parameter (an int
  here; torch keeps it in a tensor) and is increased BEFORE it is used, so
  the first update runs with step = 1. Each parameter has its own counter.

Weight decay ``weight_decay`` = lambda > 0 is L2 regularisation: except in
AdamW it is added to the gradient, g <- g + lambda * theta, as if
0.5 * lambda * ||theta||**2 were part of the loss, and that decayed gradient
is what every later line of the update uses (moments, accumulators...).

The docstrings give torch's formulas step by step, in the order torch
evaluates them. Follow the order: the grader compares your parameters and
every state entry with torch's after every step.
"""
import numpy as np


class SGD:
    """Plain stochastic gradient descent (no momentum, no state).

    For each parameter theta with gradient g:
        if weight_decay != 0:  g <- g + weight_decay * theta
        theta <- theta - lr * g

    State: none (``self.state`` stays empty).

    Args:
        lr: learning rate (float, default 1e-3 as in torch).
        weight_decay: L2 penalty lambda (float, default 0.0).

    Matches torch.optim.SGD(params, lr, weight_decay=weight_decay) (momentum=0).
    """

    def __init__(self, lr=1e-3, weight_decay=0.0):
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.state = {}

    def update(self, params, grads):
        """One step: change every params[i] in place; grads are read only."""
        ### BEGIN SOLUTION
        for p, g in zip(params, grads):
            if self.weight_decay != 0:
                g = g + self.weight_decay * p
            p -= self.lr * g
        ### END SOLUTION


class Momentum:
    """SGD with (heavy-ball) momentum.

    For each parameter theta with gradient g, at its t-th update:
        if weight_decay != 0:  g <- g + weight_decay * theta
        if t == 1:  b <- g                      (a copy; NO dampening at t = 1)
        else:       b <- momentum * b + (1 - dampening) * g
        theta <- theta - lr * b

    The buffer b starts as the first gradient itself, not as 0, so the first
    step is exactly an SGD step, whatever the dampening.

    State per parameter: ``"momentum_buffer"`` = b.

    Conventions: ours is torch's, b = mu * b + g and theta -= lr * b.
    Textbook velocity, v = mu * v - lr * g and theta += v: the same path
    while lr is constant, but store b = -v / lr as "momentum_buffer".

    Args:
        lr: learning rate (float, default 1e-3 as in torch).
        momentum: momentum factor mu (float, default 0.9).
        dampening: dampening tau of the new gradient (float, default 0.0).
        weight_decay: L2 penalty lambda (float, default 0.0).

    Matches torch.optim.SGD(params, lr, momentum=momentum, dampening=dampening,
    weight_decay=weight_decay).
    """

    def __init__(self, lr=1e-3, momentum=0.9, dampening=0.0, weight_decay=0.0):
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.dampening = float(dampening)
        self.weight_decay = float(weight_decay)
        self.state = {}

    def update(self, params, grads):
        """One step: change every params[i] in place; grads are read only."""
        ### BEGIN SOLUTION
        for i, (p, g) in enumerate(zip(params, grads)):
            if self.weight_decay != 0:
                g = g + self.weight_decay * p
            state = self.state.setdefault(i, {})
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = np.array(g, dtype=np.float64, copy=True)
            else:
                buf = state["momentum_buffer"]
                buf *= self.momentum
                buf += (1 - self.dampening) * g
            p -= self.lr * state["momentum_buffer"]
        ### END SOLUTION


class Nesterov:
    """SGD with Nesterov momentum (the look-ahead form torch uses).

    For each parameter theta with gradient g, at its t-th update:
        if weight_decay != 0:  g <- g + weight_decay * theta
        if t == 1:  b <- g                      (a copy)
        else:       b <- momentum * b + g
        theta <- theta - lr * (g + momentum * b)

    The step uses the gradient PLUS the momentum-scaled NEW buffer: it looks
    one momentum step ahead. (Plain momentum would step by b alone.)

    Conventions: ours is torch's look-ahead form above, with the look-ahead
    taken once. Sutskever's velocity form (v = mu * v - lr * g, then
    theta += -mu * v_prev + (1 + mu) * v) keeps another state: use the above.

    State per parameter: ``"momentum_buffer"`` = b.

    Args:
        lr: learning rate (float, default 1e-3 as in torch).
        momentum: momentum factor mu (float, default 0.9; must be > 0).
        weight_decay: L2 penalty lambda (float, default 0.0).

    Matches torch.optim.SGD(params, lr, momentum=momentum, nesterov=True,
    dampening=0, weight_decay=weight_decay).
    """

    def __init__(self, lr=1e-3, momentum=0.9, weight_decay=0.0):
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.weight_decay = float(weight_decay)
        self.state = {}

    def update(self, params, grads):
        """One step: change every params[i] in place; grads are read only."""
        ### BEGIN SOLUTION
        for i, (p, g) in enumerate(zip(params, grads)):
            if self.weight_decay != 0:
                g = g + self.weight_decay * p
            state = self.state.setdefault(i, {})
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = np.array(g, dtype=np.float64, copy=True)
            else:
                buf = state["momentum_buffer"]
                buf *= self.momentum
                buf += g
            p -= self.lr * (g + self.momentum * state["momentum_buffer"])
        ### END SOLUTION


class AdaGrad:
    """AdaGrad: per-entry step sizes from the sum of all past squared gradients.

    For each parameter theta with gradient g; the sum s starts at
    initial_accumulator_value (every entry) and step at 0:
        step <- step + 1
        if weight_decay != 0:  g <- g + weight_decay * theta
        clr <- lr / (1 + (step - 1) * lr_decay)
        s <- s + g * g
        theta <- theta - clr * g / (sqrt(s) + eps)

    The sum only grows, so the steps only shrink: good for sparse gradients
    (rarely seen features keep a large step), too eager to stop otherwise.
    eps is added OUTSIDE the square root.

    State per parameter: ``"sum"`` = s, ``"step"`` = step.

    Args:
        lr: learning rate (float, default 0.01).
        lr_decay: learning-rate decay per step (float, default 0.0).
        weight_decay: L2 penalty lambda (float, default 0.0).
        initial_accumulator_value: starting value of every entry of s
            (float, default 0.0).
        eps: added to the denominator (float, default 1e-10).

    Matches torch.optim.Adagrad(params, lr, lr_decay, weight_decay,
    initial_accumulator_value, eps).
    """

    def __init__(self, lr=0.01, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
        self.lr = float(lr)
        self.lr_decay = float(lr_decay)
        self.weight_decay = float(weight_decay)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.eps = float(eps)
        self.state = {}

    def update(self, params, grads):
        """One step: change every params[i] in place; grads are read only."""
        ### BEGIN SOLUTION
        for i, (p, g) in enumerate(zip(params, grads)):
            if i not in self.state:
                self.state[i] = {"sum": np.full(p.shape, self.initial_accumulator_value, dtype=np.float64),
                                 "step": 0}
            state = self.state[i]
            state["step"] += 1
            if self.weight_decay != 0:
                g = g + self.weight_decay * p
            clr = self.lr / (1 + (state["step"] - 1) * self.lr_decay)
            state["sum"] += g * g
            std = np.sqrt(state["sum"]) + self.eps
            p -= clr * g / std
        ### END SOLUTION


class AdaDelta:
    """AdaDelta: RMSprop whose step size is itself a running RMS of past steps.

    For each parameter theta with gradient g; v (square_avg) and u
    (acc_delta) start at 0, step at 0:
        step <- step + 1
        if weight_decay != 0:  g <- g + weight_decay * theta
        v <- rho * v + (1 - rho) * g * g
        delta <- sqrt(u + eps) / sqrt(v + eps) * g      (u from the PREVIOUS step)
        u <- rho * u + (1 - rho) * delta * delta
        theta <- theta - lr * delta

    The ratio of the two RMS values has the units of theta, so AdaDelta
    needs no learning rate in principle; torch still multiplies the step by
    lr (default 1.0). eps is added INSIDE both square roots; at the first
    step u = 0, so the step is sqrt(eps) / sqrt(v + eps) * g.

    State per parameter: ``"square_avg"`` = v, ``"acc_delta"`` = u,
    ``"step"`` = step.

    Args:
        lr: factor applied to delta (float, default 1.0).
        rho: decay of both running averages (float, default 0.9).
        eps: added inside the square roots (float, default 1e-6).
        weight_decay: L2 penalty lambda (float, default 0.0).

    Matches torch.optim.Adadelta(params, lr, rho, eps, weight_decay).
    """

    def __init__(self, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
        self.lr = float(lr)
        self.rho = float(rho)
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self.state = {}

    def update(self, params, grads):
        """One step: change every params[i] in place; grads are read only."""
        ### BEGIN SOLUTION
        for i, (p, g) in enumerate(zip(params, grads)):
            if i not in self.state:
                self.state[i] = {"step": 0, "square_avg": np.zeros_like(p, dtype=np.float64),
                                 "acc_delta": np.zeros_like(p, dtype=np.float64)}
            state = self.state[i]
            state["step"] += 1
            if self.weight_decay != 0:
                g = g + self.weight_decay * p
            v, u = state["square_avg"], state["acc_delta"]
            v *= self.rho
            v += (1 - self.rho) * g * g
            delta = np.sqrt(u + self.eps) / np.sqrt(v + self.eps) * g
            u *= self.rho
            u += (1 - self.rho) * delta * delta
            p -= self.lr * delta
        ### END SOLUTION


class RMSprop:
    """RMSprop: divide by the root of a running average of squared gradients.

    For each parameter theta with gradient g; v (square_avg), b
    (momentum_buffer) and a (grad_avg) start at 0, step at 0:
        step <- step + 1
        if weight_decay != 0:  g <- g + weight_decay * theta
        v <- alpha * v + (1 - alpha) * g * g
        if centered:
            a <- alpha * a + (1 - alpha) * g      (torch: a + (1 - alpha) * (g - a))
            denom <- sqrt(v - a * a) + eps       (an estimate of the std of g)
        else:
            denom <- sqrt(v) + eps
        if momentum > 0:
            b <- momentum * b + g / denom
            theta <- theta - lr * b
        else:
            theta <- theta - lr * g / denom

    eps is added OUTSIDE the square root. Unlike SGD's, this momentum buffer
    starts at 0, not at the first step.

    State per parameter: ``"step"``, ``"square_avg"`` = v, plus
    ``"momentum_buffer"`` = b only when momentum > 0 and ``"grad_avg"`` = a
    only when centered.

    Args:
        lr: learning rate (float, default 0.01).
        alpha: decay of the running averages (float, default 0.99).
        eps: added to the denominator (float, default 1e-8).
        weight_decay: L2 penalty lambda (float, default 0.0).
        momentum: momentum factor (float, default 0.0).
        centered: divide by the (estimated) standard deviation of g instead of
            its RMS (bool, default False).

    Matches torch.optim.RMSprop(params, lr, alpha, eps, weight_decay,
    momentum, centered).
    """

    def __init__(self, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        self.lr = float(lr)
        self.alpha = float(alpha)
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self.momentum = float(momentum)
        self.centered = bool(centered)
        self.state = {}

    def update(self, params, grads):
        """One step: change every params[i] in place; grads are read only."""
        ### BEGIN SOLUTION
        for i, (p, g) in enumerate(zip(params, grads)):
            if i not in self.state:
                state = {"step": 0, "square_avg": np.zeros_like(p, dtype=np.float64)}
                if self.momentum > 0:
                    state["momentum_buffer"] = np.zeros_like(p, dtype=np.float64)
                if self.centered:
                    state["grad_avg"] = np.zeros_like(p, dtype=np.float64)
                self.state[i] = state
            state = self.state[i]
            state["step"] += 1
            if self.weight_decay != 0:
                g = g + self.weight_decay * p
            v = state["square_avg"]
            v *= self.alpha
            v += (1 - self.alpha) * g * g
            if self.centered:
                a = state["grad_avg"]
                a += (1 - self.alpha) * (g - a)
                denom = np.sqrt(v - a * a) + self.eps
            else:
                denom = np.sqrt(v) + self.eps
            if self.momentum > 0:
                buf = state["momentum_buffer"]
                buf *= self.momentum
                buf += g / denom
                p -= self.lr * buf
            else:
                p -= self.lr * g / denom
        ### END SOLUTION


class Adam:
    """Adam: momentum on g divided by the root of a running average of g**2.

    For each parameter theta with gradient g; m (exp_avg), v (exp_avg_sq)
    and v_max (max_exp_avg_sq) start at 0, step at 0; beta1, beta2 = betas:
        step <- step + 1
        if weight_decay != 0:  g <- g + weight_decay * theta     (L2, coupled)
        m <- beta1 * m + (1 - beta1) * g      (torch: m + (1 - beta1) * (g - m))
        v <- beta2 * v + (1 - beta2) * g * g
        bias_correction1 <- 1 - beta1 ** step
        bias_correction2 <- 1 - beta2 ** step
        if amsgrad:
            v_max <- max(v_max, v)            (elementwise; of the RAW v)
            denom <- sqrt(v_max) / sqrt(bias_correction2) + eps
        else:
            denom <- sqrt(v) / sqrt(bias_correction2) + eps
        theta <- theta - (lr / bias_correction1) * m / denom

    m and v start at 0, so early on they are too small; dividing by the bias
    corrections (1 - beta ** step) undoes this. The update is the textbook
    theta - lr * m_hat / (sqrt(v_hat) + eps) with m_hat = m / bias_correction1
    and v_hat = v / bias_correction2; the form above is the one torch
    evaluates. Each parameter counts its own steps.

    Conventions: eps OUTSIDE the root, sqrt(v_hat) + eps (torch); some texts
    write sqrt(v_hat + eps). Take eps from the constructor, never a constant.
    The first step has step = 1 in both bias corrections.

    State per parameter: ``"step"``, ``"exp_avg"`` = m, ``"exp_avg_sq"`` = v,
    plus ``"max_exp_avg_sq"`` = v_max only when amsgrad.

    Args:
        lr: learning rate (float, default 1e-3).
        betas: (beta1, beta2), decays of the two moments (tuple or list,
            default (0.9, 0.999)).
        eps: added to the denominator, outside the square root (float,
            default 1e-8).
        weight_decay: L2 penalty lambda, added to the gradient (float,
            default 0.0).
        amsgrad: normalise by the largest v seen so far (bool, default False).

    Matches torch.optim.Adam(params, lr, betas, eps, weight_decay, amsgrad).
    """

    def __init__(self, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        self.lr = float(lr)
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self.amsgrad = bool(amsgrad)
        self.state = {}

    def update(self, params, grads):
        """One step: change every params[i] in place; grads are read only."""
        ### BEGIN SOLUTION
        beta1, beta2 = self.betas
        for i, (p, g) in enumerate(zip(params, grads)):
            if i not in self.state:
                state = {"step": 0, "exp_avg": np.zeros_like(p, dtype=np.float64),
                         "exp_avg_sq": np.zeros_like(p, dtype=np.float64)}
                if self.amsgrad:
                    state["max_exp_avg_sq"] = np.zeros_like(p, dtype=np.float64)
                self.state[i] = state
            state = self.state[i]
            state["step"] += 1
            step = state["step"]
            if self.weight_decay != 0:
                g = g + self.weight_decay * p
            m, v = state["exp_avg"], state["exp_avg_sq"]
            m += (1 - beta1) * (g - m)
            v *= beta2
            v += (1 - beta2) * g * g
            bias_correction1 = 1 - beta1 ** step
            bias_correction2 = 1 - beta2 ** step
            step_size = self.lr / bias_correction1
            if self.amsgrad:
                v_max = state["max_exp_avg_sq"]
                np.maximum(v_max, v, out=v_max)
                denom = np.sqrt(v_max) / bias_correction2 ** 0.5 + self.eps
            else:
                denom = np.sqrt(v) / bias_correction2 ** 0.5 + self.eps
            p -= step_size * m / denom
        ### END SOLUTION


class AdamW:
    """AdamW: Adam with decoupled weight decay.

    For each parameter theta with gradient g; m, v, v_max start at 0, step
    at 0; beta1, beta2 = betas:
        step <- step + 1
        theta <- theta * (1 - lr * weight_decay)     (FIRST, on the weights; g unchanged)
        m <- beta1 * m + (1 - beta1) * g      (torch: m + (1 - beta1) * (g - m))
        v <- beta2 * v + (1 - beta2) * g * g
        bias_correction1 <- 1 - beta1 ** step
        bias_correction2 <- 1 - beta2 ** step
        if amsgrad:
            v_max <- max(v_max, v)
            denom <- sqrt(v_max) / sqrt(bias_correction2) + eps
        else:
            denom <- sqrt(v) / sqrt(bias_correction2) + eps
        theta <- theta - (lr / bias_correction1) * m / denom

    In Adam the decay term weight_decay * theta goes through m and v and is
    divided by sqrt(v) like the gradient; here it shrinks the weights by the
    same factor whatever their gradients. Note the default weight_decay is
    0.01, not 0.

    State per parameter: ``"step"``, ``"exp_avg"`` = m, ``"exp_avg_sq"`` = v,
    plus ``"max_exp_avg_sq"`` = v_max only when amsgrad.

    Args:
        lr: learning rate (float, default 1e-3).
        betas: (beta1, beta2) (tuple or list, default (0.9, 0.999)).
        eps: added to the denominator (float, default 1e-8).
        weight_decay: decoupled decay factor (float, default 0.01).
        amsgrad: normalise by the largest v seen so far (bool, default False).

    Matches torch.optim.AdamW(params, lr, betas, eps, weight_decay, amsgrad).
    """

    def __init__(self, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, amsgrad=False):
        self.lr = float(lr)
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self.amsgrad = bool(amsgrad)
        self.state = {}

    def update(self, params, grads):
        """One step: change every params[i] in place; grads are read only."""
        ### BEGIN SOLUTION
        beta1, beta2 = self.betas
        for i, (p, g) in enumerate(zip(params, grads)):
            if i not in self.state:
                state = {"step": 0, "exp_avg": np.zeros_like(p, dtype=np.float64),
                         "exp_avg_sq": np.zeros_like(p, dtype=np.float64)}
                if self.amsgrad:
                    state["max_exp_avg_sq"] = np.zeros_like(p, dtype=np.float64)
                self.state[i] = state
            state = self.state[i]
            state["step"] += 1
            step = state["step"]
            if self.weight_decay != 0:
                p *= 1 - self.lr * self.weight_decay
            m, v = state["exp_avg"], state["exp_avg_sq"]
            m += (1 - beta1) * (g - m)
            v *= beta2
            v += (1 - beta2) * g * g
            bias_correction1 = 1 - beta1 ** step
            bias_correction2 = 1 - beta2 ** step
            step_size = self.lr / bias_correction1
            if self.amsgrad:
                v_max = state["max_exp_avg_sq"]
                np.maximum(v_max, v, out=v_max)
                denom = np.sqrt(v_max) / bias_correction2 ** 0.5 + self.eps
            else:
                denom = np.sqrt(v) / bias_correction2 ** 0.5 + self.eps
            p -= step_size * m / denom
        ### END SOLUTION
