"""Planted bugs for assignment A2 (losses): see tests/planted_bugs.py.

Each bug is a correct class (the ``_L1``, ``_BCE``... sources below, the solutions' code without the
markers and docstrings) with one change, made by :func:`_patch` so that the diff is the bug and a change
that no longer applies fails loudly. The code is appended to solutions/losses.py and may use its ``np``.
Quantities: ``out`` (the loss value), ``dx`` (dL/dpred), or a contract rule.

Reference-check bugs on forward keep backward consistent with the buggy forward where that is easy
(gradcheck passes; only torch can tell); gradcheck bugs keep forward right and break backward; stability
bugs are right on ordinary inputs and break on logits of +-1000 or probabilities of exactly 0 and 1.
"""
from .planted_bugs import PlantedBug


def _patch(source: str, *changes: tuple[str, str]) -> str:
    """``source`` with each ``old`` (occurring exactly once) replaced by its ``new``."""
    for old, new in changes:
        if source.count(old) != 1:
            raise ValueError(f"planted bug: {old!r} occurs {source.count(old)} times in the class, expected once")
        source = source.replace(old, new)
    return source


def _bug(exercise: str, name: str, check: str, quantity: str, code: str) -> PlantedBug:
    return PlantedBug(exercise=exercise, module="losses", name=name, check=check, quantity=quantity, code=code)


# --------------------------------------------------------------------------- sources (correct)

_L1 = """\
class L1Loss:
    def __init__(self, reduction="mean"):
        self.reduction = reduction
        self.diff = None

    def forward(self, pred, target):
        self.diff = np.asarray(pred, dtype=np.float64) - np.asarray(target, dtype=np.float64)
        losses = np.abs(self.diff)
        if self.reduction == "none":
            return losses
        total = np.sum(losses)
        return float(total / losses.size if self.reduction == "mean" else total)

    def backward(self, dout=1.0):
        grad = np.sign(self.diff)
        if self.reduction == "mean":
            grad = grad / self.diff.size
        return grad * dout
"""

_MSLE = """\
class MSLELoss:
    def __init__(self, reduction="mean"):
        self.reduction = reduction
        self.r = None
        self.pred = None

    def forward(self, pred, target):
        self.pred = np.array(pred, dtype=np.float64)
        self.r = np.log1p(self.pred) - np.log1p(np.asarray(target, dtype=np.float64))
        losses = self.r ** 2
        if self.reduction == "none":
            return losses
        total = np.sum(losses)
        return float(total / losses.size if self.reduction == "mean" else total)

    def backward(self, dout=1.0):
        grad = 2.0 * self.r / (1.0 + self.pred)
        if self.reduction == "mean":
            grad = grad / self.r.size
        return grad * dout
"""

_MAPE = """\
class MAPELoss:
    def __init__(self, reduction="mean"):
        self.reduction = reduction
        self.diff = None
        self.target = None

    def forward(self, pred, target):
        self.target = np.array(target, dtype=np.float64)
        self.diff = np.asarray(pred, dtype=np.float64) - self.target
        losses = np.abs(self.diff / self.target)
        if self.reduction == "none":
            return losses
        total = np.sum(losses)
        return float(total / losses.size if self.reduction == "mean" else total)

    def backward(self, dout=1.0):
        grad = np.sign(self.diff) / np.abs(self.target)
        if self.reduction == "mean":
            grad = grad / self.diff.size
        return grad * dout
"""

_SMOOTH_L1 = """\
class SmoothL1Loss:
    def __init__(self, reduction="mean", beta=1.0):
        self.reduction = reduction
        self.beta = float(beta)
        self.diff = None

    def forward(self, pred, target):
        self.diff = np.asarray(pred, dtype=np.float64) - np.asarray(target, dtype=np.float64)
        a = np.abs(self.diff)
        if self.beta == 0.0:
            losses = a
        else:
            losses = np.where(a < self.beta, 0.5 * self.diff ** 2 / self.beta, a - 0.5 * self.beta)
        if self.reduction == "none":
            return losses
        total = np.sum(losses)
        return float(total / losses.size if self.reduction == "mean" else total)

    def backward(self, dout=1.0):
        if self.beta == 0.0:
            grad = np.sign(self.diff)
        else:
            grad = np.where(np.abs(self.diff) < self.beta, self.diff / self.beta, np.sign(self.diff))
        if self.reduction == "mean":
            grad = grad / self.diff.size
        return grad * dout
"""

_HUBER = """\
class HuberLoss:
    def __init__(self, reduction="mean", delta=1.0):
        self.reduction = reduction
        self.delta = float(delta)
        self.diff = None

    def forward(self, pred, target):
        self.diff = np.asarray(pred, dtype=np.float64) - np.asarray(target, dtype=np.float64)
        a = np.abs(self.diff)
        losses = np.where(a < self.delta, 0.5 * self.diff ** 2, self.delta * (a - 0.5 * self.delta))
        if self.reduction == "none":
            return losses
        total = np.sum(losses)
        return float(total / losses.size if self.reduction == "mean" else total)

    def backward(self, dout=1.0):
        grad = np.clip(self.diff, -self.delta, self.delta)
        if self.reduction == "mean":
            grad = grad / self.diff.size
        return grad * dout
"""

_HINGE = """\
class HingeLoss:
    def __init__(self, reduction="mean"):
        self.reduction = reduction
        self.target = None
        self.active = None

    def forward(self, pred, target):
        self.target = np.array(target, dtype=np.float64)
        slack = 1.0 - self.target * np.asarray(pred, dtype=np.float64)
        self.active = slack > 0
        losses = np.maximum(slack, 0.0)
        if self.reduction == "none":
            return losses
        total = np.sum(losses)
        return float(total / losses.size if self.reduction == "mean" else total)

    def backward(self, dout=1.0):
        grad = np.where(self.active, -self.target, 0.0)
        if self.reduction == "mean":
            grad = grad / grad.size
        return grad * dout
"""

_SQUARED_HINGE = """\
class SquaredHingeLoss:
    def __init__(self, reduction="mean"):
        self.reduction = reduction
        self.target = None
        self.slack = None

    def forward(self, pred, target):
        self.target = np.array(target, dtype=np.float64)
        self.slack = np.maximum(1.0 - self.target * np.asarray(pred, dtype=np.float64), 0.0)
        losses = self.slack ** 2
        if self.reduction == "none":
            return losses
        total = np.sum(losses)
        return float(total / losses.size if self.reduction == "mean" else total)

    def backward(self, dout=1.0):
        grad = -2.0 * self.target * self.slack
        if self.reduction == "mean":
            grad = grad / grad.size
        return grad * dout
"""

_LOGISTIC = """\
class LogisticLoss:
    def __init__(self, reduction="mean"):
        self.reduction = reduction
        self.target = None
        self.margin = None

    def forward(self, pred, target):
        self.target = np.array(target, dtype=np.float64)
        self.margin = self.target * np.asarray(pred, dtype=np.float64)
        losses = np.maximum(-self.margin, 0.0) + np.log1p(np.exp(-np.abs(self.margin)))
        if self.reduction == "none":
            return losses
        total = np.sum(losses)
        return float(total / losses.size if self.reduction == "mean" else total)

    def backward(self, dout=1.0):
        e = np.exp(-np.abs(self.margin))
        sig_neg = np.where(self.margin >= 0, e / (1.0 + e), 1.0 / (1.0 + e))  # sigmoid(-m)
        grad = -self.target * sig_neg
        if self.reduction == "mean":
            grad = grad / grad.size
        return grad * dout
"""

_EXPONENTIAL = """\
class ExponentialLoss:
    def __init__(self, reduction="mean"):
        self.reduction = reduction
        self.target = None
        self.losses = None

    def forward(self, pred, target):
        self.target = np.array(target, dtype=np.float64)
        self.losses = np.exp(-self.target * np.asarray(pred, dtype=np.float64))
        if self.reduction == "none":
            return self.losses.copy()
        total = np.sum(self.losses)
        return float(total / self.losses.size if self.reduction == "mean" else total)

    def backward(self, dout=1.0):
        grad = -self.target * self.losses
        if self.reduction == "mean":
            grad = grad / grad.size
        return grad * dout
"""

_BCE = """\
class BCELoss:
    def __init__(self, weight=None, reduction="mean"):
        self.weight = weight
        self.reduction = reduction
        self.pred = None
        self.target = None

    def forward(self, pred, target):
        self.pred = np.array(pred, dtype=np.float64)
        self.target = np.array(target, dtype=np.float64)
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(self.pred), -100.0)
            log_q = np.maximum(np.log(1.0 - self.pred), -100.0)
        losses = -(self.target * log_p + (1.0 - self.target) * log_q)
        if self.weight is not None:
            losses = losses * self.weight
        losses = np.broadcast_to(losses, self.pred.shape).copy()
        if self.reduction == "none":
            return losses
        total = np.sum(losses)
        return float(total / losses.size if self.reduction == "mean" else total)

    def backward(self, dout=1.0):
        p = self.pred
        grad = (p - self.target) / np.maximum(p * (1.0 - p), 1e-12)
        if self.weight is not None:
            grad = grad * self.weight
        if self.reduction == "mean":
            grad = grad / p.size
        return np.broadcast_to(grad * dout, p.shape).copy()
"""

_BCE_LOGITS = """\
class BCEWithLogitsLoss:
    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        self.weight = weight
        self.pos_weight = pos_weight
        self.reduction = reduction
        self.x = None
        self.target = None

    def forward(self, pred, target):
        self.x = np.array(pred, dtype=np.float64)
        self.target = np.array(target, dtype=np.float64)
        x, t = self.x, self.target
        tail = np.log1p(np.exp(-np.abs(x)))
        softplus_pos = np.maximum(x, 0.0) + tail    # -log(1 - sigmoid(x))
        softplus_neg = np.maximum(-x, 0.0) + tail   # -log(sigmoid(x))
        pw = 1.0 if self.pos_weight is None else self.pos_weight
        losses = pw * t * softplus_neg + (1.0 - t) * softplus_pos
        if self.weight is not None:
            losses = losses * self.weight
        losses = np.broadcast_to(losses, x.shape).copy()
        if self.reduction == "none":
            return losses
        total = np.sum(losses)
        return float(total / losses.size if self.reduction == "mean" else total)

    def backward(self, dout=1.0):
        x, t = self.x, self.target
        e = np.exp(-np.abs(x))
        s = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))   # sigmoid(x)
        one_minus_s = np.where(x >= 0, e / (1.0 + e), 1.0 / (1.0 + e))
        pw = 1.0 if self.pos_weight is None else self.pos_weight
        grad = (1.0 - t) * s - pw * t * one_minus_s
        if self.weight is not None:
            grad = grad * self.weight
        if self.reduction == "mean":
            grad = grad / x.size
        return np.broadcast_to(grad * dout, x.shape).copy()
"""

_NLL = """\
class NLLLoss:
    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        self.weight = weight
        self.ignore_index = int(ignore_index)
        self.reduction = reduction
        self.shape = None
        self.index = None
        self.coef = None
        self.denominator = None

    def forward(self, pred, target):
        pred = np.asarray(pred, dtype=np.float64)
        target = np.asarray(target, dtype=np.int64)
        n, c = pred.shape
        valid = target != self.ignore_index
        self.index = np.where(valid, target, 0)
        w = np.ones(c) if self.weight is None else np.asarray(self.weight, dtype=np.float64)
        self.coef = np.where(valid, w[self.index], 0.0)         # weight of each sample, 0 if ignored
        losses = -self.coef * pred[np.arange(n), self.index]
        self.shape = pred.shape
        self.denominator = np.sum(self.coef)
        if self.reduction == "none":
            return losses
        if self.reduction == "mean":
            return float(np.sum(losses) / self.denominator)
        return float(np.sum(losses))

    def backward(self, dout=1.0):
        n = self.shape[0]
        scale = np.asarray(dout, dtype=np.float64)
        if self.reduction == "mean":
            scale = scale / self.denominator
        grad = np.zeros(self.shape)
        grad[np.arange(n), self.index] = -self.coef * scale
        return grad
"""

_CROSS_ENTROPY = """\
class CrossEntropyLoss:
    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        self.weight = weight
        self.ignore_index = int(ignore_index)
        self.reduction = reduction
        self.label_smoothing = float(label_smoothing)
        self.probs = None
        self.index = None
        self.valid = None
        self.w = None
        self.coef = None
        self.denominator = None

    def forward(self, pred, target):
        pred = np.asarray(pred, dtype=np.float64)
        target = np.asarray(target, dtype=np.int64)
        n, c = pred.shape
        shifted = pred - np.max(pred, axis=1, keepdims=True)
        log_p = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        self.probs = np.exp(log_p)
        self.valid = target != self.ignore_index
        self.index = np.where(self.valid, target, 0)
        self.w = np.ones(c) if self.weight is None else np.asarray(self.weight, dtype=np.float64)
        self.coef = np.where(self.valid, self.w[self.index], 0.0)
        nll = -self.coef * log_p[np.arange(n), self.index]
        smooth = np.where(self.valid, -np.sum(log_p * self.w, axis=1), 0.0)
        eps = self.label_smoothing
        losses = (1.0 - eps) * nll + (eps / c) * smooth
        self.denominator = np.sum(self.coef)
        if self.reduction == "none":
            return losses
        if self.reduction == "mean":
            return float(np.sum(losses) / self.denominator)
        return float(np.sum(losses))

    def backward(self, dout=1.0):
        n, c = self.probs.shape
        eps = self.label_smoothing
        onehot = np.zeros((n, c))
        onehot[np.arange(n), self.index] = 1.0
        grad = (1.0 - eps) * self.coef[:, None] * (self.probs - onehot)
        grad = grad + (eps / c) * (self.probs * np.sum(self.w) - self.w)
        grad = grad * self.valid[:, None]
        scale = np.asarray(dout, dtype=np.float64)
        if self.reduction == "mean":
            scale = scale / self.denominator
        if scale.ndim == 1:
            scale = scale[:, None]
        return grad * scale
"""

_KLDIV = """\
class KLDivLoss:
    def __init__(self, reduction="batchmean"):
        self.reduction = reduction
        self.target = None

    def forward(self, pred, target):
        pred = np.asarray(pred, dtype=np.float64)
        self.target = np.array(target, dtype=np.float64)
        y = self.target
        positive = y > 0
        y_log_y = np.where(positive, y * np.log(np.where(positive, y, 1.0)), 0.0)
        losses = y_log_y - y * pred
        if self.reduction == "none":
            return losses
        total = np.sum(losses)
        if self.reduction == "batchmean":
            return float(total / pred.shape[0])
        if self.reduction == "mean":
            return float(total / losses.size)
        return float(total)

    def backward(self, dout=1.0):
        grad = -self.target
        if self.reduction == "batchmean":
            grad = grad / self.target.shape[0]
        elif self.reduction == "mean":
            grad = grad / self.target.size
        return grad * dout
"""


# --------------------------------------------------------------------------- the bugs

_MEAN_GRAD_M = '''        if self.reduction == "mean":
            grad = grad / self.diff.size
'''

BUGS: list[PlantedBug] = [
    # ----------------------------------------------------------------------- L1Loss
    _bug("L1Loss", "mean backward misses the 1/M factor", "gradcheck", "dx",
         _patch(_L1, (_MEAN_GRAD_M, ""))),
    _bug("L1Loss", "backward takes sign(target - pred)", "gradcheck", "dx",
         _patch(_L1, ("grad = np.sign(self.diff)", "grad = np.sign(-self.diff)"))),
    _bug("L1Loss", "mean divides by the batch size instead of the element count", "reference", "out",
         _patch(_L1, ("total / losses.size", "total / losses.shape[0]"),
                ("grad / self.diff.size", "grad / self.diff.shape[0]"))),
    _bug("L1Loss", "pred - target computed in place into pred", "contract", "x modified",
         _patch(_L1, ("self.diff = np.asarray(pred, dtype=np.float64) - np.asarray(target, dtype=np.float64)",
                      "pred -= target\n        self.diff = pred"))),
    # ----------------------------------------------------------------------- MSLELoss
    _bug("MSLELoss", "backward misses the chain-rule factor 1 / (1 + pred)", "gradcheck", "dx",
         _patch(_MSLE, ("grad = 2.0 * self.r / (1.0 + self.pred)", "grad = 2.0 * self.r"))),
    _bug("MSLELoss", "backward divides by 1 + target instead of 1 + pred", "gradcheck", "dx",
         _patch(_MSLE, ("self.r = np.log1p(self.pred) - np.log1p(np.asarray(target, dtype=np.float64))",
                        "self.t = np.asarray(target, dtype=np.float64)\n"
                        "        self.r = np.log1p(self.pred) - np.log1p(self.t)"),
                ("grad = 2.0 * self.r / (1.0 + self.pred)", "grad = 2.0 * self.r / (1.0 + self.t)"))),
    _bug("MSLELoss", "log instead of log1p: log(pred) - log(target)", "reference", "out",
         _patch(_MSLE, ("self.r = np.log1p(self.pred) - np.log1p(np.asarray(target, dtype=np.float64))",
                        "self.r = np.log(self.pred) - np.log(np.asarray(target, dtype=np.float64))"),
                ("grad = 2.0 * self.r / (1.0 + self.pred)", "grad = 2.0 * self.r / self.pred"))),
    _bug("MSLELoss", "mean divides by the batch size instead of the element count", "reference", "out",
         _patch(_MSLE, ("total / losses.size", "total / losses.shape[0]"),
                ("grad / self.r.size", "grad / self.r.shape[0]"))),
    # ----------------------------------------------------------------------- MAPELoss
    _bug("MAPELoss", "relative to pred instead of target: |(pred - target) / pred|", "reference", "out",
         _patch(_MAPE, ("losses = np.abs(self.diff / self.target)", "losses = np.abs(self.diff / pred)"),
                ("grad = np.sign(self.diff) / np.abs(self.target)",
                 "grad = np.sign(self.diff) * self.target / (self.diff + self.target) ** 2"))),
    _bug("MAPELoss", "a percentage: everything times 100", "reference", "out",
         _patch(_MAPE, ("losses = np.abs(self.diff / self.target)", "losses = 100.0 * np.abs(self.diff / self.target)"),
                ("grad = np.sign(self.diff) / np.abs(self.target)",
                 "grad = 100.0 * np.sign(self.diff) / np.abs(self.target)"))),
    _bug("MAPELoss", "backward sign flipped: sign(target - pred)", "gradcheck", "dx",
         _patch(_MAPE, ("grad = np.sign(self.diff) / np.abs(self.target)",
                        "grad = np.sign(-self.diff) / np.abs(self.target)"))),
    _bug("MAPELoss", "backward forgets the 1 / |target| factor", "gradcheck", "dx",
         _patch(_MAPE, ("grad = np.sign(self.diff) / np.abs(self.target)", "grad = np.sign(self.diff)"))),
    # ----------------------------------------------------------------------- SmoothL1Loss
    _bug("SmoothL1Loss", "branch threshold fixed at 1 instead of beta", "reference", "out",
         _patch(_SMOOTH_L1, ("np.where(a < self.beta,", "np.where(a < 1.0,"),
                ("np.abs(self.diff) < self.beta", "np.abs(self.diff) < 1.0"))),
    _bug("SmoothL1Loss", "branch test on the signed error d < beta instead of |d| < beta", "reference", "out",
         _patch(_SMOOTH_L1, ("np.where(a < self.beta,", "np.where(self.diff < self.beta,"),
                ("np.abs(self.diff) < self.beta", "self.diff < self.beta"))),
    _bug("SmoothL1Loss", "quadratic piece not divided by beta (Huber's formula)", "reference", "out",
         _patch(_SMOOTH_L1, ("0.5 * self.diff ** 2 / self.beta", "0.5 * self.diff ** 2"),
                ("self.diff / self.beta, np.sign(self.diff)", "self.diff, np.sign(self.diff)"))),
    _bug("SmoothL1Loss", "backward uses d / beta in the linear branch too", "gradcheck", "dx",
         _patch(_SMOOTH_L1, ("np.where(np.abs(self.diff) < self.beta, self.diff / self.beta, np.sign(self.diff))",
                             "self.diff / self.beta"))),
    # ----------------------------------------------------------------------- HuberLoss
    _bug("HuberLoss", "quadratic piece divided by delta (SmoothL1's formula)", "reference", "out",
         _patch(_HUBER, ("0.5 * self.diff ** 2,", "0.5 * self.diff ** 2 / self.delta,"),
                ("np.clip(self.diff, -self.delta, self.delta)",
                 "np.where(np.abs(self.diff) < self.delta, self.diff / self.delta, self.delta * np.sign(self.diff))"))),
    _bug("HuberLoss", "linear piece misses the -delta / 2 offset", "reference", "out",
         _patch(_HUBER, ("self.delta * (a - 0.5 * self.delta)", "self.delta * a"))),
    _bug("HuberLoss", "backward slope 1 instead of delta in the linear branch", "gradcheck", "dx",
         _patch(_HUBER, ("grad = np.clip(self.diff, -self.delta, self.delta)",
                         "grad = np.where(np.abs(self.diff) < self.delta, self.diff, np.sign(self.diff))"))),
    _bug("HuberLoss", "pred - target computed in place into pred", "contract", "x modified",
         _patch(_HUBER, ("self.diff = np.asarray(pred, dtype=np.float64) - np.asarray(target, dtype=np.float64)",
                         "pred -= target\n        self.diff = pred"))),
    # ----------------------------------------------------------------------- HingeLoss
    _bug("HingeLoss", "subgradient sign flipped: +target where the margin is violated", "gradcheck", "dx",
         _patch(_HINGE, ("np.where(self.active, -self.target, 0.0)", "np.where(self.active, self.target, 0.0)"))),
    _bug("HingeLoss", "backward forgets the mask: -target everywhere", "gradcheck", "dx",
         _patch(_HINGE, ("np.where(self.active, -self.target, 0.0)", "-self.target"))),
    _bug("HingeLoss", "mask where target * pred > 0 instead of target * pred < 1", "gradcheck", "dx",
         _patch(_HINGE, ("self.active = slack > 0", "self.active = slack < 1"))),
    _bug("HingeLoss", "no clamp at 0: 1 - target * pred summed as is", "reference", "out",
         _patch(_HINGE, ("self.active = slack > 0", "self.active = np.ones(slack.shape, dtype=bool)"),
                ("losses = np.maximum(slack, 0.0)", "losses = slack"))),
    # ----------------------------------------------------------------------- SquaredHingeLoss
    _bug("SquaredHingeLoss", "backward misses the factor 2", "gradcheck", "dx",
         _patch(_SQUARED_HINGE, ("grad = -2.0 * self.target * self.slack", "grad = -self.target * self.slack"))),
    _bug("SquaredHingeLoss", "backward forgets the target factor", "gradcheck", "dx",
         _patch(_SQUARED_HINGE, ("grad = -2.0 * self.target * self.slack", "grad = -2.0 * self.slack"))),
    _bug("SquaredHingeLoss", "no clamp: (1 - target * pred)**2 everywhere", "reference", "out",
         _patch(_SQUARED_HINGE, ("self.slack = np.maximum(1.0 - self.target * np.asarray(pred, dtype=np.float64), 0.0)",
                                 "self.slack = 1.0 - self.target * np.asarray(pred, dtype=np.float64)"))),
    # ----------------------------------------------------------------------- LogisticLoss
    _bug("LogisticLoss", "naive log(1 + exp(-m)) overflows for m = -1000", "stability", "out",
         _patch(_LOGISTIC, ("losses = np.maximum(-self.margin, 0.0) + np.log1p(np.exp(-np.abs(self.margin)))",
                            "losses = np.log(1.0 + np.exp(-self.margin))"))),
    _bug("LogisticLoss", "naive backward 1 / (1 + exp(m)) overflows for m = 1000", "stability", "dx",
         _patch(_LOGISTIC, ("sig_neg = np.where(self.margin >= 0, e / (1.0 + e), 1.0 / (1.0 + e))  # sigmoid(-m)",
                            "sig_neg = 1.0 / (1.0 + np.exp(self.margin))"))),
    _bug("LogisticLoss", "backward uses sigmoid(m) instead of sigmoid(-m)", "gradcheck", "dx",
         _patch(_LOGISTIC, ("np.where(self.margin >= 0, e / (1.0 + e), 1.0 / (1.0 + e))",
                            "np.where(self.margin >= 0, 1.0 / (1.0 + e), e / (1.0 + e))"))),
    _bug("LogisticLoss", "backward forgets the target factor", "gradcheck", "dx",
         _patch(_LOGISTIC, ("grad = -self.target * sig_neg", "grad = -sig_neg"))),
    # ----------------------------------------------------------------------- ExponentialLoss
    _bug("ExponentialLoss", "backward drops the -target factor", "gradcheck", "dx",
         _patch(_EXPONENTIAL, ("grad = -self.target * self.losses", "grad = self.losses"))),
    _bug("ExponentialLoss", "exp(+target * pred): the margin's sign flipped", "reference", "out",
         _patch(_EXPONENTIAL, ("np.exp(-self.target * np.asarray(pred, dtype=np.float64))",
                               "np.exp(self.target * np.asarray(pred, dtype=np.float64))"),
                ("grad = -self.target * self.losses", "grad = self.target * self.losses"))),
    _bug("ExponentialLoss", "mean divides by the batch size instead of the element count", "reference", "out",
         _patch(_EXPONENTIAL, ("total / self.losses.size", "total / self.losses.shape[0]"),
                ("grad = grad / grad.size", "grad = grad / grad.shape[0]"))),
    # ----------------------------------------------------------------------- BCELoss
    _bug("BCELoss", "logs not clamped: log(0) for probabilities of exactly 0 or 1", "stability", "out",
         _patch(_BCE, ("""        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(self.pred), -100.0)
            log_q = np.maximum(np.log(1.0 - self.pred), -100.0)
""", """        log_p = np.log(self.pred)
        log_q = np.log(1.0 - self.pred)
"""))),
    _bug("BCELoss", "probabilities clipped to [1e-7, 1 - 1e-7] instead of clamping each log at -100",
         "stability", "out",
         _patch(_BCE, ("""        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(self.pred), -100.0)
            log_q = np.maximum(np.log(1.0 - self.pred), -100.0)
""", """        p = np.clip(self.pred, 1e-7, 1.0 - 1e-7)
        log_p = np.log(p)
        log_q = np.log(1.0 - p)
"""))),
    _bug("BCELoss", "weight ignored", "reference", "out",
         _patch(_BCE, ("""        if self.weight is not None:
            losses = losses * self.weight
""", ""), ("""        if self.weight is not None:
            grad = grad * self.weight
""", ""))),
    _bug("BCELoss", "backward misses the (1 - target) / (1 - pred) term", "gradcheck", "dx",
         _patch(_BCE, ("grad = (p - self.target) / np.maximum(p * (1.0 - p), 1e-12)",
                       "grad = -self.target / p"))),
    # ----------------------------------------------------------------------- BCEWithLogitsLoss
    _bug("BCEWithLogitsLoss", "naive sigmoid then log: exp overflows and log(0) for logits of +-1000",
         "stability", "out",
         _patch(_BCE_LOGITS, ("""        tail = np.log1p(np.exp(-np.abs(x)))
        softplus_pos = np.maximum(x, 0.0) + tail    # -log(1 - sigmoid(x))
        softplus_neg = np.maximum(-x, 0.0) + tail   # -log(sigmoid(x))
""", """        s = 1.0 / (1.0 + np.exp(-x))
        softplus_pos = -np.log(1.0 - s)
        softplus_neg = -np.log(s)
"""))),
    _bug("BCEWithLogitsLoss", "pos_weight applied to the negative targets' term", "reference", "out",
         _patch(_BCE_LOGITS, ("pw * t * softplus_neg + (1.0 - t) * softplus_pos",
                              "t * softplus_neg + pw * (1.0 - t) * softplus_pos"),
                ("grad = (1.0 - t) * s - pw * t * one_minus_s", "grad = pw * (1.0 - t) * s - t * one_minus_s"))),
    _bug("BCEWithLogitsLoss", "backward ignores pos_weight: sigmoid(x) - target", "gradcheck", "dx",
         _patch(_BCE_LOGITS, ("grad = (1.0 - t) * s - pw * t * one_minus_s", "grad = s - t"))),
    _bug("BCEWithLogitsLoss", "backward ignores weight", "gradcheck", "dx",
         _patch(_BCE_LOGITS, ("""        if self.weight is not None:
            grad = grad * self.weight
""", ""))),
    # ----------------------------------------------------------------------- NLLLoss
    _bug("NLLLoss", "mean divides by N instead of the sum of the target classes' weights", "reference", "out",
         _patch(_NLL, ("return float(np.sum(losses) / self.denominator)", "return float(np.sum(losses) / n)"),
                ("scale = scale / self.denominator", "scale = scale / n"))),
    _bug("NLLLoss", "ignore_index not handled: ignored samples still count", "reference", "out",
         _patch(_NLL, ("valid = target != self.ignore_index", "valid = np.ones(n, dtype=bool)"))),
    _bug("NLLLoss", "backward sign flipped: +weight at the target class", "gradcheck", "dx",
         _patch(_NLL, ("= -self.coef * scale", "= self.coef * scale"))),
    _bug("NLLLoss", "backward divides by N while forward divides by the weight sum", "gradcheck", "dx",
         _patch(_NLL, ("scale = scale / self.denominator", "scale = scale / n"))),
    # ----------------------------------------------------------------------- CrossEntropyLoss
    _bug("CrossEntropyLoss", "label smoothing spread over the C - 1 wrong classes instead of all C", "reference", "out",
         _patch(_CROSS_ENTROPY, ("losses = (1.0 - eps) * nll + (eps / c) * smooth",
                                 "losses = (1.0 - eps) * nll + (eps / (c - 1)) * (smooth - nll)"),
                ("""        grad = (1.0 - eps) * self.coef[:, None] * (self.probs - onehot)
        grad = grad + (eps / c) * (self.probs * np.sum(self.w) - self.w)
""", """        grad = (1.0 - eps - eps / (c - 1)) * self.coef[:, None] * (self.probs - onehot)
        grad = grad + (eps / (c - 1)) * (self.probs * np.sum(self.w) - self.w)
"""))),
    _bug("CrossEntropyLoss", "no max subtraction: exp overflows for logits of 1000", "stability", "out",
         _patch(_CROSS_ENTROPY, ("shifted = pred - np.max(pred, axis=1, keepdims=True)", "shifted = pred"))),
    _bug("CrossEntropyLoss", "weighted mean divides by the number of samples, not the weight sum", "reference", "out",
         _patch(_CROSS_ENTROPY, ("self.denominator = np.sum(self.coef)", "self.denominator = np.sum(self.valid)"))),
    _bug("CrossEntropyLoss", "label smoothing term ignores the class weights", "reference", "out",
         _patch(_CROSS_ENTROPY, ("-np.sum(log_p * self.w, axis=1)", "-np.sum(log_p, axis=1)"),
                ("(self.probs * np.sum(self.w) - self.w)", "(self.probs * c - 1.0)"))),
    _bug("CrossEntropyLoss", "backward ignores label smoothing: w * (p - onehot)", "gradcheck", "dx",
         _patch(_CROSS_ENTROPY, ("""        grad = (1.0 - eps) * self.coef[:, None] * (self.probs - onehot)
        grad = grad + (eps / c) * (self.probs * np.sum(self.w) - self.w)
""", """        grad = self.coef[:, None] * (self.probs - onehot)
"""))),
    # ----------------------------------------------------------------------- KLDivLoss
    _bug("KLDivLoss", "arguments swapped: KL(model || target) = exp(pred) * (pred - log(target))", "reference", "out",
         _patch(_KLDIV, ("losses = y_log_y - y * pred",
                         "self.q = np.exp(pred)\n        self.r = pred - np.log(y)\n        losses = self.q * self.r"),
                ("grad = -self.target", "grad = self.q * (self.r + 1.0)"))),
    _bug("KLDivLoss", "batchmean divides by the number of elements (torch's 'mean')", "reference", "out",
         _patch(_KLDIV, ("return float(total / pred.shape[0])", "return float(total / losses.size)"),
                ("grad = grad / self.target.shape[0]", "grad = grad / self.target.size"))),
    _bug("KLDivLoss", "0 * log(0) not special-cased: nan for zero target probabilities", "stability", "out",
         _patch(_KLDIV, ("y_log_y = np.where(positive, y * np.log(np.where(positive, y, 1.0)), 0.0)",
                         "y_log_y = y * np.log(y)"))),
    _bug("KLDivLoss", "backward sign flipped: +target", "gradcheck", "dx",
         _patch(_KLDIV, ("grad = -self.target", "grad = self.target"))),
]
