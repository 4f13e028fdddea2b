"""Planted bugs for the optimizers (solutions/optim.py): see tests/planted_bugs.py.

Each bug is a correct class (the ``_SGD``, ``_ADAM``... sources below, the solution's code without the
docstrings and markers) with one change, made by :func:`_patch` so the diff is the bug and a change that no
longer applies fails loudly. The code is appended to optim.py and may use its ``np``.

All are caught by the ``trajectory`` check (teacher forcing against torch.optim, every parameter and state
entry compared after every step). ``quantity`` is what the check reports first: the earliest step at which
anything leaves torch's values; when several quantities leave at the same step the parameters win (they are
compared first), then the state entries in the order ``state{j}:{name}`` sorts. So a bug in an accumulator
that also moves the parameters at that step reports ``param``; ``quantity`` names a state key only where the
parameters are still right at that step. The comment above each bug gives the configuration it needs and where
it was seen to diverge (problems of grader/references/problems.py, 60 steps, rtol 1e-6, atol 1e-8).
"""
from .planted_bugs import PlantedBug


def _patch(source: str, old: str, new: str) -> str:
    """``source`` with the one occurrence of ``old`` replaced by ``new``."""
    if source.count(old) != 1:
        raise ValueError(f"planted bug: {old!r} occurs {source.count(old)} times in the class, expected once")
    return source.replace(old, new)


def _bug(exercise: str, name: str, quantity: str, code: str) -> PlantedBug:
    return PlantedBug(exercise=exercise, module="optim", name=name, check="trajectory", quantity=quantity, code=code)


# --------------------------------------------------------------------------- optim.SGD

_SGD = """\
class SGD:
    def __init__(self, lr=1e-3, weight_decay=0.0):
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.state = {}

    def update(self, params, grads):
        for p, g in zip(params, grads):
            if self.weight_decay != 0:
                g = g + self.weight_decay * p
            p -= self.lr * g
"""

# --------------------------------------------------------------------------- optim.Momentum

_MOMENTUM = """\
class Momentum:
    def __init__(self, lr=1e-3, momentum=0.9, dampening=0.0, weight_decay=0.0):
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.dampening = float(dampening)
        self.weight_decay = float(weight_decay)
        self.state = {}

    def update(self, params, grads):
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
"""

# --------------------------------------------------------------------------- optim.Nesterov

_NESTEROV = """\
class Nesterov:
    def __init__(self, lr=1e-3, momentum=0.9, weight_decay=0.0):
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.weight_decay = float(weight_decay)
        self.state = {}

    def update(self, params, grads):
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
"""

# --------------------------------------------------------------------------- optim.AdaGrad

_ADAGRAD = """\
class AdaGrad:
    def __init__(self, lr=0.01, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
        self.lr = float(lr)
        self.lr_decay = float(lr_decay)
        self.weight_decay = float(weight_decay)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.eps = float(eps)
        self.state = {}

    def update(self, params, grads):
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
"""

# --------------------------------------------------------------------------- optim.AdaDelta

_ADADELTA = """\
class AdaDelta:
    def __init__(self, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
        self.lr = float(lr)
        self.rho = float(rho)
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self.state = {}

    def update(self, params, grads):
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
"""

# --------------------------------------------------------------------------- optim.RMSprop

_RMSPROP = """\
class RMSprop:
    def __init__(self, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        self.lr = float(lr)
        self.alpha = float(alpha)
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self.momentum = float(momentum)
        self.centered = bool(centered)
        self.state = {}

    def update(self, params, grads):
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
"""

# --------------------------------------------------------------------------- optim.Adam and optim.AdamW

_ADAM_BODY = """\
        self.lr = float(lr)
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self.amsgrad = bool(amsgrad)
        self.state = {}

    def update(self, params, grads):
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
                WEIGHT_DECAY
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
"""

_ADAM = ("class Adam:\n"
         "    def __init__(self, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):\n"
         + _ADAM_BODY.replace("WEIGHT_DECAY", "g = g + self.weight_decay * p"))

_ADAMW = ("class AdamW:\n"
          "    def __init__(self, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, amsgrad=False):\n"
          + _ADAM_BODY.replace("WEIGHT_DECAY", "p *= 1 - self.lr * self.weight_decay"))


BUGS: list[PlantedBug] = [
    # ----------------------------------------------------------------------- SGD
    # any configuration (every problem: step 1)
    _bug("SGD", "gradient ascent: p += lr * g", "param",
         _patch(_SGD, "p -= self.lr * g", "p += self.lr * g")),
    # needs weight_decay > 0 (every problem: step 1)
    _bug("SGD", "weight decay subtracted from the gradient: g - wd * p", "param",
         _patch(_SGD, "g = g + self.weight_decay * p", "g = g - self.weight_decay * p")),
    # needs weight_decay > 0 (every problem: step 1)
    _bug("SGD", "weights shrunk by (1 - wd) instead of adding wd * p to the gradient (lr missing)", "param",
         _patch(_SGD, "g = g + self.weight_decay * p", "p *= 1 - self.weight_decay")),
    # any configuration (every problem: step 1; the grader's arrays never move)
    _bug("SGD", "params rebound (params[i] = p - lr * g) instead of updated in place", "param",
         _patch(_patch(_SGD, "for p, g in zip(params, grads):", "for i, (p, g) in enumerate(zip(params, grads)):"),
                "p -= self.lr * g", "params[i] = p - self.lr * g")),
    # needs 2+ parameters with nonzero gradients (mlp, sparse: step 1; zero only with weight_decay > 0)
    _bug("SGD", "return inside the loop: only the first parameter is updated", "param",
         _patch(_SGD, "p -= self.lr * g\n", "p -= self.lr * g\n            return\n")),

    # ----------------------------------------------------------------------- Momentum
    # needs dampening > 0 (every problem: step 1)
    _bug("Momentum", "dampening applied at the first step (buffer starts at 0)", "param",
         _patch(_MOMENTUM,
                """            if "momentum_buffer" not in state:
                state["momentum_buffer"] = np.array(g, dtype=np.float64, copy=True)
            else:
                buf = state["momentum_buffer"]
                buf *= self.momentum
                buf += (1 - self.dampening) * g
""",
                """            buf = state.setdefault("momentum_buffer", np.zeros_like(p, dtype=np.float64))
            buf *= self.momentum
            buf += (1 - self.dampening) * g
""")),
    # needs weight_decay > 0 (every problem: step 1 in the buffer; the parameters are still right at step 1)
    _bug("Momentum", "weight decay applied after momentum (to the step, not the gradient)", "momentum_buffer",
         _patch(_patch(_MOMENTUM, """            if self.weight_decay != 0:
                g = g + self.weight_decay * p
""", ""), 'p -= self.lr * state["momentum_buffer"]',
                'p -= self.lr * (state["momentum_buffer"] + self.weight_decay * p)')),
    # needs momentum != 1 - dampening, e.g. the defaults (every problem: step 2)
    _bug("Momentum", "buffer as a moving average: (1 - momentum) * g instead of (1 - dampening) * g", "param",
         _patch(_MOMENTUM, "buf += (1 - self.dampening) * g", "buf += (1 - self.momentum) * g")),
    # needs lr != 1 (every problem: step 1 in the buffer; the parameters stay right)
    _bug("Momentum", "lr folded into the buffer (velocity form v = mu v + lr g; p -= v)", "momentum_buffer",
         _patch(_patch(_patch(_MOMENTUM,
                              'state["momentum_buffer"] = np.array(g, dtype=np.float64, copy=True)',
                              'state["momentum_buffer"] = self.lr * g'),
                       "buf += (1 - self.dampening) * g", "buf += self.lr * (1 - self.dampening) * g"),
                'p -= self.lr * state["momentum_buffer"]', 'p -= state["momentum_buffer"]')),
    # any configuration (every problem: step 1, the first step does not move)
    _bug("Momentum", "step taken with the old buffer before updating it (buffer starts at 0)", "param",
         _patch(_MOMENTUM,
                """            if "momentum_buffer" not in state:
                state["momentum_buffer"] = np.array(g, dtype=np.float64, copy=True)
            else:
                buf = state["momentum_buffer"]
                buf *= self.momentum
                buf += (1 - self.dampening) * g
            p -= self.lr * state["momentum_buffer"]
""",
                """            buf = state.setdefault("momentum_buffer", np.zeros_like(p, dtype=np.float64))
            p -= self.lr * buf
            buf *= self.momentum
            buf += (1 - self.dampening) * g
""")),

    # ----------------------------------------------------------------------- Nesterov
    # any configuration (every problem: step 1)
    _bug("Nesterov", "no look-ahead: steps by the buffer alone (plain momentum)", "param",
         _patch(_NESTEROV, 'p -= self.lr * (g + self.momentum * state["momentum_buffer"])',
                'p -= self.lr * state["momentum_buffer"]')),
    # any configuration (every problem: step 1)
    _bug("Nesterov", "look-ahead with the OLD buffer (zeros at first), buffer updated after the step", "param",
         _patch(_NESTEROV,
                """            if "momentum_buffer" not in state:
                state["momentum_buffer"] = np.array(g, dtype=np.float64, copy=True)
            else:
                buf = state["momentum_buffer"]
                buf *= self.momentum
                buf += g
            p -= self.lr * (g + self.momentum * state["momentum_buffer"])
""",
                """            buf = state.setdefault("momentum_buffer", np.zeros_like(p, dtype=np.float64))
            p -= self.lr * (g + self.momentum * buf)
            buf *= self.momentum
            buf += g
""")),
    # needs lr != 1 (every problem: step 1 in the buffer, -lr times torch's; the parameters stay right)
    _bug("Nesterov", "Sutskever velocity form v = mu v - lr g; p += -mu v_prev + (1 + mu) v", "momentum_buffer",
         _patch(_NESTEROV,
                """            if "momentum_buffer" not in state:
                state["momentum_buffer"] = np.array(g, dtype=np.float64, copy=True)
            else:
                buf = state["momentum_buffer"]
                buf *= self.momentum
                buf += g
            p -= self.lr * (g + self.momentum * state["momentum_buffer"])
""",
                """            v = state.setdefault("momentum_buffer", np.zeros_like(p, dtype=np.float64))
            v_prev = v.copy()
            v *= self.momentum
            v -= self.lr * g
            p += -self.momentum * v_prev + (1 + self.momentum) * v
""")),
    # needs weight_decay > 0 (every problem: step 1)
    _bug("Nesterov", "weight decay left out of the buffer (added to the step only)", "param",
         _patch(_patch(_NESTEROV, """            if self.weight_decay != 0:
                g = g + self.weight_decay * p
""", ""), 'p -= self.lr * (g + self.momentum * state["momentum_buffer"])',
                'p -= self.lr * (g + self.weight_decay * p + self.momentum * state["momentum_buffer"])')),
    # any configuration (every problem: step 2)
    _bug("Nesterov", "buffer damped by (1 - momentum)", "param",
         _patch(_NESTEROV, "buf += g", "buf += (1 - self.momentum) * g")),

    # ----------------------------------------------------------------------- AdaGrad
    # any configuration (every problem: step 1)
    _bug("AdaGrad", "accumulates |g| instead of g ** 2", "param",
         _patch(_ADAGRAD, 'state["sum"] += g * g', 'state["sum"] += np.abs(g)')),
    # needs sums that are small against eps: at the default eps=1e-10 only mlp (step 1);
    # with eps=1e-3 every problem (step 1)
    _bug("AdaGrad", "eps inside the square root: sqrt(sum + eps)", "param",
         _patch(_ADAGRAD, 'std = np.sqrt(state["sum"]) + self.eps', 'std = np.sqrt(state["sum"] + self.eps)')),
    # needs lr_decay > 0 (every problem: step 1)
    _bug("AdaGrad", "lr decay uses step instead of step - 1", "param",
         _patch(_ADAGRAD, 'clr = self.lr / (1 + (state["step"] - 1) * self.lr_decay)',
                'clr = self.lr / (1 + state["step"] * self.lr_decay)')),
    # needs initial_accumulator_value > 0 (every problem: step 1)
    _bug("AdaGrad", "initial_accumulator_value ignored (sum starts at 0)", "param",
         _patch(_ADAGRAD, "np.full(p.shape, self.initial_accumulator_value, dtype=np.float64)",
                "np.zeros(p.shape, dtype=np.float64)")),
    # needs weight_decay > 0 (every problem: step 1)
    _bug("AdaGrad", "weight decay left out of the sum of squares (added to the step only)", "param",
         _patch(_patch(_ADAGRAD, """            if self.weight_decay != 0:
                g = g + self.weight_decay * p
""", ""), "p -= clr * g / std", "p -= clr * (g + self.weight_decay * p) / std")),

    # ----------------------------------------------------------------------- AdaDelta
    # needs lr != 1 (every problem: step 1)
    _bug("AdaDelta", "lr ignored: p -= delta", "param",
         _patch(_ADADELTA, "p -= self.lr * delta", "p -= delta")),
    # any configuration (every problem: step 1)
    _bug("AdaDelta", "square_avg updated after the step (delta divides by the old square_avg)", "param",
         _patch(_ADADELTA, """            v *= self.rho
            v += (1 - self.rho) * g * g
            delta = np.sqrt(u + self.eps) / np.sqrt(v + self.eps) * g
""", """            delta = np.sqrt(u + self.eps) / np.sqrt(v + self.eps) * g
            v *= self.rho
            v += (1 - self.rho) * g * g
""")),
    # any configuration (every problem: step 1 in acc_delta, which lags one step behind torch's; the
    # parameters stay right)
    _bug("AdaDelta", "acc_delta accumulated at the start of the next step (lags one step)", "acc_delta",
         _patch(_ADADELTA, """            delta = np.sqrt(u + self.eps) / np.sqrt(v + self.eps) * g
            u *= self.rho
            u += (1 - self.rho) * delta * delta
""", """            prev = state.get("delta", np.zeros_like(p, dtype=np.float64))
            u *= self.rho
            u += (1 - self.rho) * prev * prev
            delta = np.sqrt(u + self.eps) / np.sqrt(v + self.eps) * g
            state["delta"] = delta
""")),
    # any configuration (every problem: step 1)
    _bug("AdaDelta", "eps outside the square roots: (sqrt(u) + eps) / (sqrt(v) + eps)", "param",
         _patch(_ADADELTA, "delta = np.sqrt(u + self.eps) / np.sqrt(v + self.eps) * g",
                "delta = (np.sqrt(u) + self.eps) / (np.sqrt(v) + self.eps) * g")),
    # any configuration (every problem: step 1 in acc_delta; the parameters are still right at step 1)
    _bug("AdaDelta", "acc_delta accumulates g ** 2 instead of delta ** 2", "acc_delta",
         _patch(_ADADELTA, "u += (1 - self.rho) * delta * delta", "u += (1 - self.rho) * g * g")),

    # ----------------------------------------------------------------------- RMSprop
    # needs centered=True (every problem: step 1)
    _bug("RMSprop", "centered without subtracting grad_avg ** 2", "param",
         _patch(_RMSPROP, "denom = np.sqrt(v - a * a) + self.eps", "denom = np.sqrt(v) + self.eps")),
    # needs centered=False and gradients small against sqrt(eps) somewhere: defaults: mlp, sparse, zero
    # at step 1, rosenbrock at 12; with momentum > 0 the buffer may leave first (rosenbrock, lr=0.005,
    # momentum=0.9: step 1 in momentum_buffer)
    _bug("RMSprop", "eps inside the square root: sqrt(v + eps)", "param",
         _patch(_RMSPROP, "denom = np.sqrt(v) + self.eps", "denom = np.sqrt(v + self.eps)")),
    # needs momentum > 0 (every problem: step 1 in the buffer; the parameters are still right at step 1)
    _bug("RMSprop", "momentum buffer accumulates g and divides afterwards: p -= lr * buf / denom",
         "momentum_buffer",
         _patch(_patch(_RMSPROP, "buf += g / denom", "buf += g"), "p -= self.lr * buf", "p -= self.lr * buf / denom")),
    # any configuration with alpha != 0.5 (every problem: step 1)
    _bug("RMSprop", "alpha and 1 - alpha swapped in the square average", "param",
         _patch(_patch(_RMSPROP, "v *= self.alpha", "v *= 1 - self.alpha"),
                "v += (1 - self.alpha) * g * g", "v += self.alpha * g * g")),
    # needs weight_decay > 0 (every problem: step 1)
    _bug("RMSprop", "weight decay added after the square average (v uses the raw gradient)", "param",
         _patch(_RMSPROP, """            if self.weight_decay != 0:
                g = g + self.weight_decay * p
            v = state["square_avg"]
            v *= self.alpha
            v += (1 - self.alpha) * g * g
""", """            v = state["square_avg"]
            v *= self.alpha
            v += (1 - self.alpha) * g * g
            if self.weight_decay != 0:
                g = g + self.weight_decay * p
""")),

    # ----------------------------------------------------------------------- Adam
    # any configuration (every problem: step 1)
    _bug("Adam", "no bias correction", "param",
         _patch(_patch(_ADAM, "step_size = self.lr / bias_correction1", "step_size = self.lr"),
                "denom = np.sqrt(v) / bias_correction2 ** 0.5 + self.eps", "denom = np.sqrt(v) + self.eps")),
    # needs amsgrad=False and v_hat small against eps somewhere: mlp (step 1 at every such
    # configuration), sparse (step 2 at lr=0.01, 16 at the defaults), zero with weight_decay > 0
    # (step 1); never on quadratic or rosenbrock
    _bug("Adam", "eps inside the square root: sqrt(v_hat + eps)", "param",
         _patch(_ADAM, "denom = np.sqrt(v) / bias_correction2 ** 0.5 + self.eps",
                "denom = np.sqrt(v / bias_correction2 + self.eps)")),
    # needs 2+ parameters: mlp, sparse: step 1, in the second parameter (and its step); on zero (its second
    # parameter never moves) only state[1]['step'] leaves, at step 1, unless weight_decay > 0
    _bug("Adam", "one step counter shared by all parameters (self.t incremented per parameter)", "param",
         _patch(_patch(_ADAM, "        self.state = {}\n", "        self.state = {}\n        self.t = 0\n"),
                """            state["step"] += 1
            step = state["step"]
""", """            self.t += 1
            state["step"] = self.t
            step = self.t
""")),
    # needs weight_decay > 0 (every problem: step 1)
    _bug("Adam", "weight decay decoupled like AdamW instead of added to the gradient", "param",
         _patch(_ADAM, "g = g + self.weight_decay * p", "p *= 1 - self.lr * self.weight_decay")),
    # needs amsgrad=False (every problem: step 1)
    _bug("Adam", "v bias-corrected without the square root: sqrt(v) / (1 - beta2 ** t)", "param",
         _patch(_ADAM, "denom = np.sqrt(v) / bias_correction2 ** 0.5 + self.eps",
                "denom = np.sqrt(v) / bias_correction2 + self.eps")),
    # needs amsgrad=True (every problem: step 1 in max_exp_avg_sq; the parameters are still right at step 1)
    _bug("Adam", "amsgrad: max taken over the bias-corrected v (stored corrected)", "max_exp_avg_sq",
         _patch(_patch(_ADAM, "np.maximum(v_max, v, out=v_max)", "np.maximum(v_max, v / bias_correction2, out=v_max)"),
                "denom = np.sqrt(v_max) / bias_correction2 ** 0.5 + self.eps", "denom = np.sqrt(v_max) + self.eps")),

    # ----------------------------------------------------------------------- AdamW
    # needs weight_decay > 0, e.g. the default 0.01 (every problem: step 1)
    _bug("AdamW", "decay coupled like Adam: wd * p added to the gradient", "param",
         _patch(_ADAMW, "p *= 1 - self.lr * self.weight_decay", "g = g + self.weight_decay * p")),
    # needs weight_decay > 0, e.g. the default 0.01 (every problem: step 1)
    _bug("AdamW", "decay not scaled by lr: p *= 1 - wd", "param",
         _patch(_ADAMW, "p *= 1 - self.lr * self.weight_decay", "p *= 1 - self.weight_decay")),
    # needs weight_decay > 0 and lr * weight_decay * (Adam's step) above the tolerance: lr=0.01 with
    # weight_decay >= 0.01: every problem at step 1; at the defaults (lr=1e-3) only mlp (step 3), sparse
    # (10), zero (27)
    _bug("AdamW", "decay applied after the Adam step (to the updated weights)", "param",
         _patch(_patch(_ADAMW, """            if self.weight_decay != 0:
                p *= 1 - self.lr * self.weight_decay
""", ""), "p -= step_size * m / denom\n",
                "p -= step_size * m / denom\n            p *= 1 - self.lr * self.weight_decay\n")),
    # any configuration (every problem: step 1)
    _bug("AdamW", "no bias correction", "param",
         _patch(_patch(_ADAMW, "step_size = self.lr / bias_correction1", "step_size = self.lr"),
                "denom = np.sqrt(v) / bias_correction2 ** 0.5 + self.eps", "denom = np.sqrt(v) + self.eps")),
    # needs weight_decay > 0, e.g. the default 0.01 (every problem: step 1)
    _bug("AdamW", "decay scaled by the bias-corrected step size lr / (1 - beta1 ** t) instead of lr", "param",
         _patch(_patch(_ADAMW, """            if self.weight_decay != 0:
                p *= 1 - self.lr * self.weight_decay
""", ""), "step_size = self.lr / bias_correction1\n",
                "step_size = self.lr / bias_correction1\n            p *= 1 - step_size * self.weight_decay\n")),
    # needs beta1 != beta2, e.g. the defaults (every problem: step 1 in exp_avg; the parameters are
    # still right at step 1, where the bias corrections undo the swap)
    _bug("AdamW", "betas unpacked in the wrong order (beta2, beta1 = betas)", "exp_avg",
         _patch(_ADAMW, "beta1, beta2 = self.betas", "beta2, beta1 = self.betas")),
]
