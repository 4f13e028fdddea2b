"""Planted bugs for assignment A4B (training utilities, module ``training``): see tests/planted_bugs.py.

Functions compared with torch are caught by ``reference``: ``out`` is the returned value, ``g0 after``
the first gradient array as the function left it (in-place results). EarlyStopping is caught by the
``scripted`` check and minibatches by ``batching``; there ``quantity`` names the rule of the failing case
(its ``details["rule"]``): ``stop decisions``, ``every sample once``, ``X and y aligned``...
"""
from .planted_bugs import PlantedBug

# --------------------------------------------------------------------------- clip_grad_norm

_NORM = """\
def clip_grad_norm(grads, max_norm, norm_type=2.0):
    p = float(norm_type)
    if math.isinf(p):
        total = max(float(np.max(np.abs(g))) for g in grads)
    else:
        total = sum(float(np.sum(np.abs(g) ** p)) for g in grads) ** (1.0 / p)
    coef = max_norm / (total + 1e-6)
"""

BUGS: list[PlantedBug] = [
    PlantedBug("clip_grad_norm", "training", "returns the norm after clipping, not before", "reference", "out",
               _NORM + """\
    if coef < 1.0:
        for g in grads:
            g *= coef
        return float(min(total, max_norm))
    return float(total)
"""),
    PlantedBug("clip_grad_norm", "training", "scales even when the norm is below max_norm", "reference", "g0 after",
               _NORM + """\
    for g in grads:
        g *= coef
    return float(total)
"""),
    PlantedBug("clip_grad_norm", "training", "ignores norm_type: always the 2-norm", "reference", "out", """\
def clip_grad_norm(grads, max_norm, norm_type=2.0):
    total = math.sqrt(sum(float(np.sum(g * g)) for g in grads))
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for g in grads:
            g *= coef
    return total
"""),
    PlantedBug("clip_grad_norm", "training", "clips each array by its own norm", "reference", "g0 after",
               _NORM + """\
    for g in grads:
        own = float(np.sum(np.abs(g) ** p)) ** (1.0 / p) if not math.isinf(p) else float(np.max(np.abs(g)))
        c = max_norm / (own + 1e-6)
        if c < 1.0:
            g *= c
    return float(total)
"""),
    # ----------------------------------------------------------------------- clip_grad_value
    PlantedBug("clip_grad_value", "training", "clips only the top: np.minimum(g, clip)", "reference", "g0 after", """\
def clip_grad_value(grads, clip):
    for g in grads:
        np.minimum(g, clip, out=g)
"""),
    PlantedBug("clip_grad_value", "training", "clipped copies: grads not changed in place", "reference", "g0 after",
               """\
def clip_grad_value(grads, clip):
    for g in grads:
        g = np.clip(g, -clip, clip)
"""),
    PlantedBug("clip_grad_value", "training", "large entries set to +clip whatever their sign", "reference",
               "g0 after", """\
def clip_grad_value(grads, clip):
    for g in grads:
        g[np.abs(g) > clip] = clip
"""),
    # ----------------------------------------------------------------------- l1_penalty
    PlantedBug("l1_penalty", "training", "forgets lam", "reference", "out", """\
def l1_penalty(params, lam):
    return float(sum(float(np.sum(np.abs(w))) for w in params))
"""),
    PlantedBug("l1_penalty", "training", "squares instead of absolute values", "reference", "out", """\
def l1_penalty(params, lam):
    return float(lam * sum(float(np.sum(w * w)) for w in params))
"""),
    PlantedBug("l1_penalty", "training", "mean of |w| instead of the sum", "reference", "out", """\
def l1_penalty(params, lam):
    return float(lam * sum(float(np.mean(np.abs(w))) for w in params))
"""),
    PlantedBug("l1_penalty", "training", "only the first parameter array", "reference", "out", """\
def l1_penalty(params, lam):
    return float(lam * np.sum(np.abs(params[0])))
"""),
    # ----------------------------------------------------------------------- l1_penalty_grad
    PlantedBug("l1_penalty_grad", "training", "overwrites grads instead of adding to them", "reference", "g0 after",
               """\
def l1_penalty_grad(params, grads, lam):
    for w, g in zip(params, grads):
        g[...] = lam * np.sign(w)
"""),
    PlantedBug("l1_penalty_grad", "training", "L2's gradient lam * w instead of lam * sign(w)", "reference",
               "g0 after", """\
def l1_penalty_grad(params, grads, lam):
    for w, g in zip(params, grads):
        g += lam * w
"""),
    PlantedBug("l1_penalty_grad", "training", "g = g + ... rebinds: grads unchanged", "reference", "g0 after", """\
def l1_penalty_grad(params, grads, lam):
    for w, g in zip(params, grads):
        g = g + lam * np.sign(w)
"""),
    # ----------------------------------------------------------------------- l2_penalty
    PlantedBug("l2_penalty", "training", "forgets the 1/2", "reference", "out", """\
def l2_penalty(params, lam):
    return float(lam * sum(float(np.sum(w * w)) for w in params))
"""),
    PlantedBug("l2_penalty", "training", "the norm instead of the squared norm", "reference", "out", """\
def l2_penalty(params, lam):
    return float(0.5 * lam * math.sqrt(sum(float(np.sum(w * w)) for w in params)))
"""),
    PlantedBug("l2_penalty", "training", "squares the sum instead of summing the squares", "reference", "out", """\
def l2_penalty(params, lam):
    return float(0.5 * lam * sum(float(np.sum(w)) ** 2 for w in params))
"""),
    # ----------------------------------------------------------------------- l2_penalty_grad
    PlantedBug("l2_penalty_grad", "training", "keeps the 1/2: adds 0.5 * lam * w", "reference", "g0 after", """\
def l2_penalty_grad(params, grads, lam):
    for w, g in zip(params, grads):
        g += 0.5 * lam * w
"""),
    PlantedBug("l2_penalty_grad", "training", "2 * lam * w (derivative of lam * w**2)", "reference", "g0 after", """\
def l2_penalty_grad(params, grads, lam):
    for w, g in zip(params, grads):
        g += 2.0 * lam * w
"""),
    PlantedBug("l2_penalty_grad", "training", "overwrites grads instead of adding to them", "reference", "g0 after",
               """\
def l2_penalty_grad(params, grads, lam):
    for w, g in zip(params, grads):
        g[...] = lam * w
"""),
    PlantedBug("l2_penalty_grad", "training", "decays the weights instead of the gradients", "reference", "g0 after",
               """\
def l2_penalty_grad(params, grads, lam):
    for w in params:
        w -= lam * w
"""),
    # ----------------------------------------------------------------------- step_lr
    PlantedBug("step_lr", "training", "off by one: (epoch + 1) // step_size", "reference", "out", """\
def step_lr(lr, epoch, step_size, gamma=0.1):
    return float(lr * gamma ** ((epoch + 1) // step_size))
"""),
    PlantedBug("step_lr", "training", "decays every epoch", "reference", "out", """\
def step_lr(lr, epoch, step_size, gamma=0.1):
    return float(lr * gamma ** epoch)
"""),
    PlantedBug("step_lr", "training", "no floor: gamma ** (epoch / step_size)", "reference", "out", """\
def step_lr(lr, epoch, step_size, gamma=0.1):
    return float(lr * gamma ** (epoch / step_size))
"""),
]

# --------------------------------------------------------------------------- EarlyStopping

_ES_HEAD = """\
class EarlyStopping:
    def __init__(self, patience, min_delta=0.0):
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.best = math.inf
        self.counter = 0

    def step(self, val_loss):
"""

BUGS += [
    PlantedBug("EarlyStopping", "training", "a tie counts as an improvement (<=)", "scripted", "stop decisions",
               _ES_HEAD + """\
        if val_loss <= self.best - self.min_delta:
            self.best = val_loss
            self.counter = 0
        else:
            self.counter += 1
        return self.counter >= self.patience
"""),
    PlantedBug("EarlyStopping", "training", "stops one epoch late (counter > patience)", "scripted", "stop decisions",
               _ES_HEAD + """\
        if val_loss < self.best - self.min_delta:
            self.best = val_loss
            self.counter = 0
        else:
            self.counter += 1
        return self.counter > self.patience
"""),
    PlantedBug("EarlyStopping", "training", "the counter is never reset", "scripted", "stop decisions",
               _ES_HEAD + """\
        if val_loss < self.best - self.min_delta:
            self.best = val_loss
        else:
            self.counter += 1
        return self.counter >= self.patience
"""),
    PlantedBug("EarlyStopping", "training", "ignores min_delta", "scripted", "stop decisions", _ES_HEAD + """\
        if val_loss < self.best:
            self.best = val_loss
            self.counter = 0
        else:
            self.counter += 1
        return self.counter >= self.patience
"""),
]

# --------------------------------------------------------------------------- minibatches

_MB_HEAD = """\
def minibatches(X, y, batch_size, shuffle=True, rng=None):
    n = X.shape[0]
"""

BUGS += [
    PlantedBug("minibatches", "training", "drops the last partial batch", "batching", "every sample once",
               _MB_HEAD + """\
    rng = np.random.default_rng() if rng is None else rng
    order = rng.permutation(n) if shuffle else np.arange(n)
    for start in range(0, n - batch_size + 1, batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]
"""),
    PlantedBug("minibatches", "training", "X and y shuffled with different permutations", "batching",
               "X and y aligned", _MB_HEAD + """\
    rng = np.random.default_rng() if rng is None else rng
    ox = rng.permutation(n) if shuffle else np.arange(n)
    oy = rng.permutation(n) if shuffle else np.arange(n)
    for start in range(0, n, batch_size):
        yield X[ox[start:start + batch_size]], y[oy[start:start + batch_size]]
"""),
    PlantedBug("minibatches", "training", "the same permutation every epoch (fixed seed)", "batching",
               "other seed, other order", _MB_HEAD + """\
    order = np.random.default_rng(0).permutation(n) if shuffle else np.arange(n)
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]
"""),
    PlantedBug("minibatches", "training", "shuffles X and y in place", "batching", "X and y unchanged",
               _MB_HEAD + """\
    if shuffle:
        rng = np.random.default_rng() if rng is None else rng
        order = rng.permutation(n)
        X[...] = X[order]
        y[...] = y[order]
    for start in range(0, n, batch_size):
        yield X[start:start + batch_size].copy(), y[start:start + batch_size].copy()
"""),
    PlantedBug("minibatches", "training", "shuffles even when shuffle is False", "batching", "order kept",
               _MB_HEAD + """\
    rng = np.random.default_rng() if rng is None else rng
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]
"""),
    PlantedBug("minibatches", "training", "draws from np.random, not from rng", "batching", "same seed, same batches",
               _MB_HEAD + """\
    order = np.random.permutation(n) if shuffle else np.arange(n)
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]
"""),
]
