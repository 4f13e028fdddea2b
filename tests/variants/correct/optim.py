"""Correct optimizers written the textbook way rather than torch's: new arrays instead of in-place
buffer updates, bias-corrected moments m_hat and v_hat, one combined AdamW step, sqrt of a ratio in
AdaDelta, the plain running mean in centered RMSprop, a float step counter. They must get full marks."""
import numpy as np


def _decayed(g, p, weight_decay):
    return g + weight_decay * p if weight_decay else g


class SGD:
    def __init__(self, lr=1e-3, weight_decay=0.0):
        self.lr, self.weight_decay, self.state = lr, weight_decay, {}

    def update(self, params, grads):
        for p, g in zip(params, grads):
            p[...] = p - self.lr * _decayed(g, p, self.weight_decay)


class Momentum:
    def __init__(self, lr=1e-3, momentum=0.9, dampening=0.0, weight_decay=0.0):
        self.lr, self.momentum, self.dampening, self.weight_decay = lr, momentum, dampening, weight_decay
        self.state = {}

    def update(self, params, grads):
        for i, (p, g) in enumerate(zip(params, grads)):
            g = _decayed(g, p, self.weight_decay)
            old = self.state.get(i, {}).get("momentum_buffer")
            b = g.copy() if old is None else self.momentum * old + (1.0 - self.dampening) * g
            self.state[i] = {"momentum_buffer": b}
            p[...] = p - self.lr * b


class Nesterov:
    def __init__(self, lr=1e-3, momentum=0.9, weight_decay=0.0):
        self.lr, self.momentum, self.weight_decay, self.state = lr, momentum, weight_decay, {}

    def update(self, params, grads):
        for i, (p, g) in enumerate(zip(params, grads)):
            g = _decayed(g, p, self.weight_decay)
            old = self.state.get(i, {}).get("momentum_buffer")
            b = g.copy() if old is None else self.momentum * old + g
            self.state[i] = {"momentum_buffer": b}
            p[...] = p - self.lr * (g + self.momentum * b)


class AdaGrad:
    def __init__(self, lr=0.01, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
        self.lr, self.lr_decay, self.weight_decay, self.eps = lr, lr_decay, weight_decay, eps
        self.initial, self.state = initial_accumulator_value, {}

    def update(self, params, grads):
        for i, (p, g) in enumerate(zip(params, grads)):
            s = self.state.setdefault(i, {"sum": np.full_like(p, self.initial), "step": 0.0})
            s["step"] = s["step"] + 1.0
            g = _decayed(g, p, self.weight_decay)
            s["sum"] = s["sum"] + g ** 2
            rate = self.lr / (1.0 + (s["step"] - 1.0) * self.lr_decay)
            p[...] = p - rate * g / (np.sqrt(s["sum"]) + self.eps)


class AdaDelta:
    def __init__(self, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
        self.lr, self.rho, self.eps, self.weight_decay, self.state = lr, rho, eps, weight_decay, {}

    def update(self, params, grads):
        for i, (p, g) in enumerate(zip(params, grads)):
            s = self.state.setdefault(i, {"step": 0.0, "square_avg": np.zeros_like(p), "acc_delta": np.zeros_like(p)})
            s["step"] = s["step"] + 1.0
            g = _decayed(g, p, self.weight_decay)
            s["square_avg"] = self.rho * s["square_avg"] + (1.0 - self.rho) * g ** 2
            delta = np.sqrt((s["acc_delta"] + self.eps) / (s["square_avg"] + self.eps)) * g
            s["acc_delta"] = self.rho * s["acc_delta"] + (1.0 - self.rho) * delta ** 2
            p[...] = p - self.lr * delta


class RMSprop:
    def __init__(self, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        self.lr, self.alpha, self.eps, self.weight_decay = lr, alpha, eps, weight_decay
        self.momentum, self.centered, self.state = momentum, centered, {}

    def update(self, params, grads):
        for i, (p, g) in enumerate(zip(params, grads)):
            if i not in self.state:
                self.state[i] = {"step": 0.0, "square_avg": np.zeros_like(p)}
                if self.momentum > 0:
                    self.state[i]["momentum_buffer"] = np.zeros_like(p)
                if self.centered:
                    self.state[i]["grad_avg"] = np.zeros_like(p)
            s = self.state[i]
            s["step"] = s["step"] + 1.0
            g = _decayed(g, p, self.weight_decay)
            s["square_avg"] = self.alpha * s["square_avg"] + (1.0 - self.alpha) * g ** 2
            if self.centered:
                s["grad_avg"] = self.alpha * s["grad_avg"] + (1.0 - self.alpha) * g
                scale = np.sqrt(s["square_avg"] - s["grad_avg"] ** 2) + self.eps
            else:
                scale = np.sqrt(s["square_avg"]) + self.eps
            if self.momentum > 0:
                s["momentum_buffer"] = self.momentum * s["momentum_buffer"] + g / scale
                p[...] = p - self.lr * s["momentum_buffer"]
            else:
                p[...] = p - self.lr * g / scale


class Adam:
    decoupled = False

    def __init__(self, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        self.lr, self.betas, self.eps, self.weight_decay, self.amsgrad = lr, betas, eps, weight_decay, amsgrad
        self.state = {}

    def update(self, params, grads):
        b1, b2 = self.betas
        for i, (p, g) in enumerate(zip(params, grads)):
            if i not in self.state:
                self.state[i] = {"step": 0.0, "exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)}
                if self.amsgrad:
                    self.state[i]["max_exp_avg_sq"] = np.zeros_like(p)
            s = self.state[i]
            s["step"] = t = s["step"] + 1.0
            if not self.decoupled:
                g = _decayed(g, p, self.weight_decay)
            s["exp_avg"] = b1 * s["exp_avg"] + (1.0 - b1) * g
            s["exp_avg_sq"] = b2 * s["exp_avg_sq"] + (1.0 - b2) * g * g
            v = s["exp_avg_sq"]
            if self.amsgrad:
                s["max_exp_avg_sq"] = v = np.maximum(s["max_exp_avg_sq"], v)
            m_hat = s["exp_avg"] / (1.0 - b1 ** t)
            v_hat = v / (1.0 - b2 ** t)
            step = m_hat / (np.sqrt(v_hat) + self.eps)
            if self.decoupled:
                step = step + self.weight_decay * p  # one combined step from the old weights
            p[...] = p - self.lr * step


class AdamW(Adam):
    decoupled = True

    def __init__(self, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, amsgrad=False):
        super().__init__(lr, betas, eps, weight_decay, amsgrad)
