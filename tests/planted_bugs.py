"""Planted bugs: each entry replaces one class of a correct submission with a buggy one."""
from dataclasses import dataclass


@dataclass(frozen=True)
class PlantedBug:
    exercise: str      # the class name, e.g. "Affine"
    module: str        # "activations" | "layers" | "losses"
    name: str          # short description, e.g. "transposed dW"
    check: str         # the check that must catch it: "reference" | "gradcheck" | "contract" | "stability"
    quantity: str      # what is wrong: "out", "dx", a parameter name ("W", "b", "alpha"), or for contract:
                       # "x modified", "dout modified", "not deterministic", "grads rebound"
    code: str          # a complete class definition (with the same name) that is appended to the module
                       # and overrides the correct one


BUGS: list[PlantedBug] = [
    PlantedBug(
        exercise="Sigmoid",
        module="activations",
        name="naive 1/(1+exp(-x)) overflows for large negative x",
        check="stability",
        quantity="out",
        code="""\
class Sigmoid:
    def __init__(self):
        self.params = []
        self.grads = []

    def forward(self, x):
        self.out = 1.0 / (1.0 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return dout * self.out * (1.0 - self.out)
""",
    ),
    PlantedBug(
        exercise="Sigmoid",
        module="activations",
        name="backward forgets to multiply by dout",
        check="gradcheck",
        quantity="dx",
        code="""\
class Sigmoid:
    def __init__(self):
        self.params = []
        self.grads = []

    def forward(self, x):
        z = np.exp(-np.abs(x))
        self.out = np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))
        return self.out

    def backward(self, dout):
        return self.out * (1.0 - self.out)
""",
    ),
    PlantedBug(
        exercise="Sigmoid",
        module="activations",
        name="derivative evaluated at x instead of y: x*(1-x)",
        check="gradcheck",
        quantity="dx",
        code="""\
class Sigmoid:
    def __init__(self):
        self.params = []
        self.grads = []

    def forward(self, x):
        self.x = x.copy()
        z = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))

    def backward(self, dout):
        return dout * self.x * (1.0 - self.x)
""",
    ),
    PlantedBug(
        exercise="Sigmoid",
        module="activations",
        name="sign flip in backward",
        check="gradcheck",
        quantity="dx",
        code="""\
class Sigmoid:
    def __init__(self):
        self.params = []
        self.grads = []

    def forward(self, x):
        z = np.exp(-np.abs(x))
        self.out = np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))
        return self.out

    def backward(self, dout):
        return -dout * self.out * (1.0 - self.out)
""",
    ),
    PlantedBug(
        exercise="Sigmoid",
        module="activations",
        name="forward computes in place into x and returns it",
        check="contract",
        quantity="x modified",
        code="""\
class Sigmoid:
    def __init__(self):
        self.params = []
        self.grads = []

    def forward(self, x):
        z = np.exp(-np.abs(x))
        x[...] = np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))
        self.out = x
        return x

    def backward(self, dout):
        return dout * self.out * (1.0 - self.out)
""",
    ),
    PlantedBug(
        exercise="Sigmoid",
        module="activations",
        name="wrong sign in exponent: 1/(1+exp(x)) with matching backward",
        check="reference",
        quantity="out",
        code="""\
class Sigmoid:
    def __init__(self):
        self.params = []
        self.grads = []

    def forward(self, x):
        z = np.exp(-np.abs(x))
        self.out = np.where(x >= 0, z / (1.0 + z), 1.0 / (1.0 + z))
        return self.out

    def backward(self, dout):
        return -dout * self.out * (1.0 - self.out)
""",
    ),
    PlantedBug(
        exercise="Tanh",
        module="activations",
        name="derivative 1 - x**2 instead of 1 - y**2",
        check="gradcheck",
        quantity="dx",
        code="""\
class Tanh:
    def __init__(self):
        self.params = []
        self.grads = []

    def forward(self, x):
        self.x = x.copy()
        return np.tanh(x)

    def backward(self, dout):
        return dout * (1.0 - self.x ** 2)
""",
    ),
    PlantedBug(
        exercise="Tanh",
        module="activations",
        name="derivative missing the square: 1 - y",
        check="gradcheck",
        quantity="dx",
        code="""\
class Tanh:
    def __init__(self):
        self.params = []
        self.grads = []

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out)
""",
    ),
    PlantedBug(
        exercise="Tanh",
        module="activations",
        name="naive (e^x - e^-x)/(e^x + e^-x) overflows to inf/inf",
        check="stability",
        quantity="out",
        code="""\
class Tanh:
    def __init__(self):
        self.params = []
        self.grads = []

    def forward(self, x):
        ep, em = np.exp(x), np.exp(-x)
        self.out = (ep - em) / (ep + em)
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out ** 2)
""",
    ),
    PlantedBug(
        exercise="Tanh",
        module="activations",
        name="backward multiplies dout in place and returns it",
        check="contract",
        quantity="dout modified",
        code="""\
class Tanh:
    def __init__(self):
        self.params = []
        self.grads = []

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        dout *= 1.0 - self.out ** 2
        return dout
""",
    ),
    PlantedBug(
        exercise="Tanh",
        module="activations",
        name="derivative written as 1 + y**2",
        check="gradcheck",
        quantity="dx",
        code="""\
class Tanh:
    def __init__(self):
        self.params = []
        self.grads = []

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1.0 + self.out ** 2)
""",
    ),
    PlantedBug(
        exercise="ReLU",
        module="activations",
        name="forward zeroes negatives of x in place and returns x",
        check="contract",
        quantity="x modified",
        code="""\
class ReLU:
    def __init__(self):
        self.params = []
        self.grads = []

    def forward(self, x):
        self.mask = x <= 0
        x[self.mask] = 0.0
        return x

    def backward(self, dout):
        dx = dout.copy()
        dx[self.mask] = 0.0
        return dx
""",
    ),
    PlantedBug(
        exercise="ReLU",
        module="activations",
        name="backward returns the mask only (forgets dout)",
        check="gradcheck",
        quantity="dx",
        code="""\
class ReLU:
    def __init__(self):
        self.params = []
        self.grads = []

    def forward(self, x):
        self.mask = x > 0
        return np.maximum(x, 0.0)

    def backward(self, dout):
        return self.mask.astype(np.float64)
""",
    ),
    PlantedBug(
        exercise="ReLU",
        module="activations",
        name="inverted mask: gradient passed where x < 0",
        check="gradcheck",
        quantity="dx",
        code="""\
class ReLU:
    def __init__(self):
        self.params = []
        self.grads = []

    def forward(self, x):
        self.mask = x > 0
        return np.maximum(x, 0.0)

    def backward(self, dout):
        dx = dout.copy()
        dx[self.mask] = 0.0
        return dx
""",
    ),
    PlantedBug(
        exercise="ReLU",
        module="activations",
        name="backward zeroes dout in place and returns it",
        check="contract",
        quantity="dout modified",
        code="""\
class ReLU:
    def __init__(self):
        self.params = []
        self.grads = []

    def forward(self, x):
        self.mask = x <= 0
        return np.maximum(x, 0.0)

    def backward(self, dout):
        dout[self.mask] = 0.0
        return dout
""",
    ),
    PlantedBug(
        exercise="ReLU",
        module="activations",
        name="mask taken from the sign of dout instead of x",
        check="gradcheck",
        quantity="dx",
        code="""\
class ReLU:
    def __init__(self):
        self.params = []
        self.grads = []

    def forward(self, x):
        return np.maximum(x, 0.0)

    def backward(self, dout):
        return np.where(dout > 0, dout, 0.0)
""",
    ),
    PlantedBug(
        exercise="HardTanh",
        module="activations",
        name="gradient passed through outside the bounds",
        check="gradcheck",
        quantity="dx",
        code="""\
class HardTanh:
    def __init__(self, min_val=-1.0, max_val=1.0):
        self.params = []
        self.grads = []
        self.min_val = float(min_val)
        self.max_val = float(max_val)

    def forward(self, x):
        return np.clip(x, self.min_val, self.max_val)

    def backward(self, dout):
        return dout.copy()
""",
    ),
    PlantedBug(
        exercise="HardTanh",
        module="activations",
        name="backward only blocks the upper bound",
        check="gradcheck",
        quantity="dx",
        code="""\
class HardTanh:
    def __init__(self, min_val=-1.0, max_val=1.0):
        self.params = []
        self.grads = []
        self.min_val = float(min_val)
        self.max_val = float(max_val)

    def forward(self, x):
        self.x = x.copy()
        return np.clip(x, self.min_val, self.max_val)

    def backward(self, dout):
        return dout * (self.x < self.max_val)
""",
    ),
    PlantedBug(
        exercise="HardTanh",
        module="activations",
        name="inverted mask: gradient passed only outside the bounds",
        check="gradcheck",
        quantity="dx",
        code="""\
class HardTanh:
    def __init__(self, min_val=-1.0, max_val=1.0):
        self.params = []
        self.grads = []
        self.min_val = float(min_val)
        self.max_val = float(max_val)

    def forward(self, x):
        self.x = x.copy()
        return np.clip(x, self.min_val, self.max_val)

    def backward(self, dout):
        outside = (self.x <= self.min_val) | (self.x >= self.max_val)
        return dout * outside
""",
    ),
    PlantedBug(
        exercise="HardTanh",
        module="activations",
        name="forward only clips from above (with matching backward)",
        check="reference",
        quantity="out",
        code="""\
class HardTanh:
    def __init__(self, min_val=-1.0, max_val=1.0):
        self.params = []
        self.grads = []
        self.min_val = float(min_val)
        self.max_val = float(max_val)

    def forward(self, x):
        self.x = x.copy()
        return np.minimum(x, self.max_val)

    def backward(self, dout):
        return dout * (self.x < self.max_val)
""",
    ),
    PlantedBug(
        exercise="HardTanh",
        module="activations",
        name="backward zeroes dout in place outside the bounds",
        check="contract",
        quantity="dout modified",
        code="""\
class HardTanh:
    def __init__(self, min_val=-1.0, max_val=1.0):
        self.params = []
        self.grads = []
        self.min_val = float(min_val)
        self.max_val = float(max_val)

    def forward(self, x):
        self.x = x.copy()
        return np.clip(x, self.min_val, self.max_val)

    def backward(self, dout):
        dout[(self.x <= self.min_val) | (self.x >= self.max_val)] = 0.0
        return dout
""",
    ),
    PlantedBug(
        exercise="HardTanh",
        module="activations",
        name="forward clips x in place (np.clip(..., out=x))",
        check="contract",
        quantity="x modified",
        code="""\
class HardTanh:
    def __init__(self, min_val=-1.0, max_val=1.0):
        self.params = []
        self.grads = []
        self.min_val = float(min_val)
        self.max_val = float(max_val)

    def forward(self, x):
        self.inside = (x > self.min_val) & (x < self.max_val)
        return np.clip(x, self.min_val, self.max_val, out=x)

    def backward(self, dout):
        return dout * self.inside
""",
    ),
    PlantedBug(
        exercise="LeakyReLU",
        module="activations",
        name="slope applied on the positive side (with matching backward)",
        check="reference",
        quantity="out",
        code="""\
class LeakyReLU:
    def __init__(self, alpha=0.01):
        self.params = []
        self.grads = []
        self.alpha = float(alpha)

    def forward(self, x):
        self.x = x.copy()
        return np.where(x > 0, self.alpha * x, x)

    def backward(self, dout):
        return np.where(self.x > 0, self.alpha * dout, dout)
""",
    ),
    PlantedBug(
        exercise="LeakyReLU",
        module="activations",
        name="backward drops the leak: zero gradient for x <= 0",
        check="gradcheck",
        quantity="dx",
        code="""\
class LeakyReLU:
    def __init__(self, alpha=0.01):
        self.params = []
        self.grads = []
        self.alpha = float(alpha)

    def forward(self, x):
        self.x = x.copy()
        return np.where(x > 0, x, self.alpha * x)

    def backward(self, dout):
        return dout * (self.x > 0)
""",
    ),
    PlantedBug(
        exercise="LeakyReLU",
        module="activations",
        name="backward uses alpha on the positive side",
        check="gradcheck",
        quantity="dx",
        code="""\
class LeakyReLU:
    def __init__(self, alpha=0.01):
        self.params = []
        self.grads = []
        self.alpha = float(alpha)

    def forward(self, x):
        self.x = x.copy()
        return np.where(x > 0, x, self.alpha * x)

    def backward(self, dout):
        return np.where(self.x > 0, self.alpha * dout, dout)
""",
    ),
    PlantedBug(
        exercise="LeakyReLU",
        module="activations",
        name="random slope per call (RReLU confused with LeakyReLU)",
        check="contract",
        quantity="not deterministic",
        code="""\
class LeakyReLU:
    def __init__(self, alpha=0.01):
        self.params = []
        self.grads = []
        self.alpha = float(alpha)

    def forward(self, x):
        self.x = x.copy()
        self.slope = np.random.uniform(0.5 * self.alpha, 2.0 * self.alpha)
        return np.where(x > 0, x, self.slope * x)

    def backward(self, dout):
        return np.where(self.x > 0, dout, self.slope * dout)
""",
    ),
    PlantedBug(
        exercise="LeakyReLU",
        module="activations",
        name="forward scales negatives of x in place and returns x",
        check="contract",
        quantity="x modified",
        code="""\
class LeakyReLU:
    def __init__(self, alpha=0.01):
        self.params = []
        self.grads = []
        self.alpha = float(alpha)

    def forward(self, x):
        self.mask = x <= 0
        x[self.mask] *= self.alpha
        return x

    def backward(self, dout):
        return np.where(self.mask, self.alpha * dout, dout)
""",
    ),
    PlantedBug(
        exercise="LeakyReLU",
        module="activations",
        name="backward returns the local slope only (forgets dout)",
        check="gradcheck",
        quantity="dx",
        code="""\
class LeakyReLU:
    def __init__(self, alpha=0.01):
        self.params = []
        self.grads = []
        self.alpha = float(alpha)

    def forward(self, x):
        self.x = x.copy()
        return np.where(x > 0, x, self.alpha * x)

    def backward(self, dout):
        return np.where(self.x > 0, 1.0, self.alpha)
""",
    ),
    PlantedBug(
        exercise="ELU",
        module="activations",
        name="negative-side derivative uses y instead of y + alpha",
        check="gradcheck",
        quantity="dx",
        code="""\
class ELU:
    def __init__(self, alpha=1.0):
        self.params = []
        self.grads = []
        self.alpha = float(alpha)

    def forward(self, x):
        self.x = x.copy()
        self.out = np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0.0)))
        return self.out

    def backward(self, dout):
        return np.where(self.x > 0, dout, dout * self.out)
""",
    ),
    PlantedBug(
        exercise="ELU",
        module="activations",
        name="forward forgets the -1: alpha*exp(x) (with matching backward)",
        check="reference",
        quantity="out",
        code="""\
class ELU:
    def __init__(self, alpha=1.0):
        self.params = []
        self.grads = []
        self.alpha = float(alpha)

    def forward(self, x):
        self.x = x.copy()
        return np.where(x > 0, x, self.alpha * np.exp(np.minimum(x, 0.0)))

    def backward(self, dout):
        return np.where(self.x > 0, dout, dout * self.alpha * np.exp(np.minimum(self.x, 0.0)))
""",
    ),
    PlantedBug(
        exercise="ELU",
        module="activations",
        name="np.where evaluates exp(x) on the positive side too: overflow",
        check="stability",
        quantity="out",
        code="""\
class ELU:
    def __init__(self, alpha=1.0):
        self.params = []
        self.grads = []
        self.alpha = float(alpha)

    def forward(self, x):
        self.x = x.copy()
        self.out = np.where(x > 0, x, self.alpha * (np.exp(x) - 1.0))
        return self.out

    def backward(self, dout):
        return np.where(self.x > 0, dout, dout * (self.out + self.alpha))
""",
    ),
    PlantedBug(
        exercise="ELU",
        module="activations",
        name="backward returns the local derivative only (forgets dout)",
        check="gradcheck",
        quantity="dx",
        code="""\
class ELU:
    def __init__(self, alpha=1.0):
        self.params = []
        self.grads = []
        self.alpha = float(alpha)

    def forward(self, x):
        self.x = x.copy()
        self.out = np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0.0)))
        return self.out

    def backward(self, dout):
        return np.where(self.x > 0, 1.0, self.out + self.alpha)
""",
    ),
    PlantedBug(
        exercise="ELU",
        module="activations",
        name="backward scales dout in place on the negative side",
        check="contract",
        quantity="dout modified",
        code="""\
class ELU:
    def __init__(self, alpha=1.0):
        self.params = []
        self.grads = []
        self.alpha = float(alpha)

    def forward(self, x):
        self.x = x.copy()
        self.out = np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0.0)))
        return self.out

    def backward(self, dout):
        neg = self.x <= 0
        dout[neg] *= self.out[neg] + self.alpha
        return dout
""",
    ),
    PlantedBug(
        exercise="PReLU",
        module="activations",
        name="dalpha taken from the first sample only (not summed over the batch)",
        check="gradcheck",
        quantity="alpha",
        code="""\
class PReLU:
    def __init__(self, alpha):
        self.alpha = alpha
        self.params = [alpha]
        self.grads = [np.zeros_like(alpha)]

    def forward(self, x):
        self.x = x.copy()
        return np.where(x > 0, x, self.alpha * x)

    def backward(self, dout):
        neg = self.x <= 0
        self.grads[0][...] = (self.x * dout * neg)[0]
        return np.where(neg, self.alpha * dout, dout)
""",
    ),
    PlantedBug(
        exercise="PReLU",
        module="activations",
        name="dalpha averaged over the batch instead of summed",
        check="gradcheck",
        quantity="alpha",
        code="""\
class PReLU:
    def __init__(self, alpha):
        self.alpha = alpha
        self.params = [alpha]
        self.grads = [np.zeros_like(alpha)]

    def forward(self, x):
        self.x = x.copy()
        return np.where(x > 0, x, self.alpha * x)

    def backward(self, dout):
        neg = self.x <= 0
        self.grads[0][...] = np.mean(self.x * dout * neg, axis=0)
        return np.where(neg, self.alpha * dout, dout)
""",
    ),
    PlantedBug(
        exercise="PReLU",
        module="activations",
        name="dalpha accumulated over the positive side",
        check="gradcheck",
        quantity="alpha",
        code="""\
class PReLU:
    def __init__(self, alpha):
        self.alpha = alpha
        self.params = [alpha]
        self.grads = [np.zeros_like(alpha)]

    def forward(self, x):
        self.x = x.copy()
        return np.where(x > 0, x, self.alpha * x)

    def backward(self, dout):
        pos = self.x > 0
        self.grads[0][...] = np.sum(self.x * dout * pos, axis=0)
        return np.where(pos, dout, self.alpha * dout)
""",
    ),
    PlantedBug(
        exercise="PReLU",
        module="activations",
        name="dx drops alpha on the negative side",
        check="gradcheck",
        quantity="dx",
        code="""\
class PReLU:
    def __init__(self, alpha):
        self.alpha = alpha
        self.params = [alpha]
        self.grads = [np.zeros_like(alpha)]

    def forward(self, x):
        self.x = x.copy()
        return np.where(x > 0, x, self.alpha * x)

    def backward(self, dout):
        neg = self.x <= 0
        self.grads[0][...] = np.sum(self.x * dout * neg, axis=0)
        return dout * (self.x > 0)
""",
    ),
    PlantedBug(
        exercise="PReLU",
        module="activations",
        name="gradient list entry rebound instead of written in place",
        check="contract",
        quantity="grads rebound",
        code="""\
class PReLU:
    def __init__(self, alpha):
        self.alpha = alpha
        self.params = [alpha]
        self.grads = [np.zeros_like(alpha)]

    def forward(self, x):
        self.x = x.copy()
        return np.where(x > 0, x, self.alpha * x)

    def backward(self, dout):
        neg = self.x <= 0
        self.grads[0] = np.sum(self.x * dout * neg, axis=0)
        return np.where(neg, self.alpha * dout, dout)
""",
    ),
    PlantedBug(
        exercise="PReLU",
        module="activations",
        name="dalpha forgets dout: sum of x over the negative side",
        check="gradcheck",
        quantity="alpha",
        code="""\
class PReLU:
    def __init__(self, alpha):
        self.alpha = alpha
        self.params = [alpha]
        self.grads = [np.zeros_like(alpha)]

    def forward(self, x):
        self.x = x.copy()
        return np.where(x > 0, x, self.alpha * x)

    def backward(self, dout):
        neg = self.x <= 0
        self.grads[0][...] = np.sum(self.x * neg, axis=0)
        return np.where(neg, self.alpha * dout, dout)
""",
    ),
    PlantedBug(
        exercise="PReLU",
        module="activations",
        name="dalpha summed over features too (one shared slope gradient)",
        check="gradcheck",
        quantity="alpha",
        code="""\
class PReLU:
    def __init__(self, alpha):
        self.alpha = alpha
        self.params = [alpha]
        self.grads = [np.zeros_like(alpha)]

    def forward(self, x):
        self.x = x.copy()
        return np.where(x > 0, x, self.alpha * x)

    def backward(self, dout):
        neg = self.x <= 0
        self.grads[0][...] = np.sum(self.x * dout * neg)
        return np.where(neg, self.alpha * dout, dout)
""",
    ),
    PlantedBug(
        exercise="Softmax",
        module="activations",
        name="no max subtraction: exp overflows for large logits",
        check="stability",
        quantity="out",
        code="""\
class Softmax:
    def __init__(self, axis=-1):
        self.params = []
        self.grads = []
        self.axis = axis

    def forward(self, x):
        e = np.exp(x)
        self.out = e / np.sum(e, axis=self.axis, keepdims=True)
        return self.out

    def backward(self, dout):
        y = self.out
        return y * (dout - np.sum(dout * y, axis=self.axis, keepdims=True))
""",
    ),
    PlantedBug(
        exercise="Softmax",
        module="activations",
        name="backward uses only the Jacobian diagonal: dout*y*(1-y)",
        check="gradcheck",
        quantity="dx",
        code="""\
class Softmax:
    def __init__(self, axis=-1):
        self.params = []
        self.grads = []
        self.axis = axis

    def forward(self, x):
        shifted = x - np.max(x, axis=self.axis, keepdims=True)
        e = np.exp(shifted)
        self.out = e / np.sum(e, axis=self.axis, keepdims=True)
        return self.out

    def backward(self, dout):
        return dout * self.out * (1.0 - self.out)
""",
    ),
    PlantedBug(
        exercise="Softmax",
        module="activations",
        name="normaliser summed over the whole array instead of along axis",
        check="reference",
        quantity="out",
        code="""\
class Softmax:
    def __init__(self, axis=-1):
        self.params = []
        self.grads = []
        self.axis = axis

    def forward(self, x):
        e = np.exp(x - np.max(x))
        self.out = e / np.sum(e)
        return self.out

    def backward(self, dout):
        y = self.out
        return y * (dout - np.sum(dout * y))
""",
    ),
    PlantedBug(
        exercise="Softmax",
        module="activations",
        name="backward drops the sum term: dx = dout * y",
        check="gradcheck",
        quantity="dx",
        code="""\
class Softmax:
    def __init__(self, axis=-1):
        self.params = []
        self.grads = []
        self.axis = axis

    def forward(self, x):
        shifted = x - np.max(x, axis=self.axis, keepdims=True)
        e = np.exp(shifted)
        self.out = e / np.sum(e, axis=self.axis, keepdims=True)
        return self.out

    def backward(self, dout):
        return dout * self.out
""",
    ),
    PlantedBug(
        exercise="Softmax",
        module="activations",
        name="max subtracted from x in place",
        check="contract",
        quantity="x modified",
        code="""\
class Softmax:
    def __init__(self, axis=-1):
        self.params = []
        self.grads = []
        self.axis = axis

    def forward(self, x):
        x -= np.max(x, axis=self.axis, keepdims=True)
        e = np.exp(x)
        self.out = e / np.sum(e, axis=self.axis, keepdims=True)
        return self.out

    def backward(self, dout):
        y = self.out
        return y * (dout - np.sum(dout * y, axis=self.axis, keepdims=True))
""",
    ),
    PlantedBug(
        exercise="Softmax",
        module="activations",
        name="backward sum term not weighted by y: y*(dout - sum(dout))",
        check="gradcheck",
        quantity="dx",
        code="""\
class Softmax:
    def __init__(self, axis=-1):
        self.params = []
        self.grads = []
        self.axis = axis

    def forward(self, x):
        shifted = x - np.max(x, axis=self.axis, keepdims=True)
        e = np.exp(shifted)
        self.out = e / np.sum(e, axis=self.axis, keepdims=True)
        return self.out

    def backward(self, dout):
        y = self.out
        return y * (dout - np.sum(dout, axis=self.axis, keepdims=True))
""",
    ),
    PlantedBug(
        exercise="LogSoftmax",
        module="activations",
        name="log of a (stable) softmax: log(0) = -inf for large gaps",
        check="stability",
        quantity="out",
        code="""\
class LogSoftmax:
    def __init__(self, axis=-1):
        self.params = []
        self.grads = []
        self.axis = axis

    def forward(self, x):
        e = np.exp(x - np.max(x, axis=self.axis, keepdims=True))
        self.p = e / np.sum(e, axis=self.axis, keepdims=True)
        return np.log(self.p)

    def backward(self, dout):
        return dout - self.p * np.sum(dout, axis=self.axis, keepdims=True)
""",
    ),
    PlantedBug(
        exercise="LogSoftmax",
        module="activations",
        name="no max subtraction: x - log(sum(exp(x))) overflows",
        check="stability",
        quantity="out",
        code="""\
class LogSoftmax:
    def __init__(self, axis=-1):
        self.params = []
        self.grads = []
        self.axis = axis

    def forward(self, x):
        self.out = x - np.log(np.sum(np.exp(x), axis=self.axis, keepdims=True))
        return self.out

    def backward(self, dout):
        return dout - np.exp(self.out) * np.sum(dout, axis=self.axis, keepdims=True)
""",
    ),
    PlantedBug(
        exercise="LogSoftmax",
        module="activations",
        name="backward forgets to sum dout: dx = dout - softmax",
        check="gradcheck",
        quantity="dx",
        code="""\
class LogSoftmax:
    def __init__(self, axis=-1):
        self.params = []
        self.grads = []
        self.axis = axis

    def forward(self, x):
        shifted = x - np.max(x, axis=self.axis, keepdims=True)
        self.out = shifted - np.log(np.sum(np.exp(shifted), axis=self.axis, keepdims=True))
        return self.out

    def backward(self, dout):
        return dout - np.exp(self.out)
""",
    ),
    PlantedBug(
        exercise="LogSoftmax",
        module="activations",
        name="backward uses only the Jacobian diagonal: dout*(1-softmax)",
        check="gradcheck",
        quantity="dx",
        code="""\
class LogSoftmax:
    def __init__(self, axis=-1):
        self.params = []
        self.grads = []
        self.axis = axis

    def forward(self, x):
        shifted = x - np.max(x, axis=self.axis, keepdims=True)
        self.out = shifted - np.log(np.sum(np.exp(shifted), axis=self.axis, keepdims=True))
        return self.out

    def backward(self, dout):
        return dout * (1.0 - np.exp(self.out))
""",
    ),
    PlantedBug(
        exercise="LogSoftmax",
        module="activations",
        name="max subtracted from x in place",
        check="contract",
        quantity="x modified",
        code="""\
class LogSoftmax:
    def __init__(self, axis=-1):
        self.params = []
        self.grads = []
        self.axis = axis

    def forward(self, x):
        x -= np.max(x, axis=self.axis, keepdims=True)
        self.out = x - np.log(np.sum(np.exp(x), axis=self.axis, keepdims=True))
        return self.out

    def backward(self, dout):
        return dout - np.exp(self.out) * np.sum(dout, axis=self.axis, keepdims=True)
""",
    ),
    PlantedBug(
        exercise="LogSoftmax",
        module="activations",
        name="log-sum-exp forgets to add the max back",
        check="reference",
        quantity="out",
        code="""\
class LogSoftmax:
    def __init__(self, axis=-1):
        self.params = []
        self.grads = []
        self.axis = axis

    def forward(self, x):
        shifted = x - np.max(x, axis=self.axis, keepdims=True)
        self.p = np.exp(shifted) / np.sum(np.exp(shifted), axis=self.axis, keepdims=True)
        return x - np.log(np.sum(np.exp(shifted), axis=self.axis, keepdims=True))

    def backward(self, dout):
        return dout - self.p * np.sum(dout, axis=self.axis, keepdims=True)
""",
    ),
    PlantedBug(
        exercise="Affine",
        module="layers",
        name="dW computed as dout.T @ x (transposed)",
        check="gradcheck",
        quantity="W",
        code="""\
class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]

    def forward(self, x):
        self.x = x.copy()
        return x @ self.W + self.b

    def backward(self, dout):
        self.grads[0][...] = dout.T @ self.x
        self.grads[1][...] = np.sum(dout, axis=0)
        return dout @ self.W.T
""",
    ),
    PlantedBug(
        exercise="Affine",
        module="layers",
        name="db taken from the first row of dout (not summed over the batch)",
        check="gradcheck",
        quantity="b",
        code="""\
class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]

    def forward(self, x):
        self.x = x.copy()
        return x @ self.W + self.b

    def backward(self, dout):
        self.grads[0][...] = self.x.T @ dout
        self.grads[1][...] = dout[0]
        return dout @ self.W.T
""",
    ),
    PlantedBug(
        exercise="Affine",
        module="layers",
        name="db averaged over the batch instead of summed",
        check="gradcheck",
        quantity="b",
        code="""\
class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]

    def forward(self, x):
        self.x = x.copy()
        return x @ self.W + self.b

    def backward(self, dout):
        self.grads[0][...] = self.x.T @ dout
        self.grads[1][...] = np.mean(dout, axis=0)
        return dout @ self.W.T
""",
    ),
    PlantedBug(
        exercise="Affine",
        module="layers",
        name="dW divided by the batch size",
        check="gradcheck",
        quantity="W",
        code="""\
class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]

    def forward(self, x):
        self.x = x.copy()
        return x @ self.W + self.b

    def backward(self, dout):
        self.grads[0][...] = self.x.T @ dout / self.x.shape[0]
        self.grads[1][...] = np.sum(dout, axis=0)
        return dout @ self.W.T
""",
    ),
    PlantedBug(
        exercise="Affine",
        module="layers",
        name="gradients rebound instead of written into self.grads arrays",
        check="contract",
        quantity="grads rebound",
        code="""\
class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]

    def forward(self, x):
        self.x = x.copy()
        return x @ self.W + self.b

    def backward(self, dout):
        self.grads[0] = self.x.T @ dout
        self.grads[1] = np.sum(dout, axis=0)
        return dout @ self.W.T
""",
    ),
    PlantedBug(
        exercise="Affine",
        module="layers",
        name="forward forgets the bias",
        check="reference",
        quantity="out",
        code="""\
class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]

    def forward(self, x):
        self.x = x.copy()
        return x @ self.W

    def backward(self, dout):
        self.grads[0][...] = self.x.T @ dout
        self.grads[1][...] = np.sum(dout, axis=0)
        return dout @ self.W.T
""",
    ),
    PlantedBug(
        exercise="Affine",
        module="layers",
        name="forward accumulates into a cached output buffer that is never reset",
        check="contract",
        quantity="not deterministic",
        code="""\
class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]
        self.out = None

    def forward(self, x):
        self.x = x.copy()
        if self.out is None or self.out.shape != (x.shape[0], self.W.shape[1]):
            self.out = np.zeros((x.shape[0], self.W.shape[1]))
        self.out += x @ self.W + self.b
        return self.out.copy()

    def backward(self, dout):
        self.grads[0][...] = self.x.T @ dout
        self.grads[1][...] = np.sum(dout, axis=0)
        return dout @ self.W.T
""",
    ),
    PlantedBug(
        exercise="Affine",
        module="layers",
        name="gradient descent step folded into backward: negated gradients",
        check="gradcheck",
        quantity="W",
        code="""\
class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]

    def forward(self, x):
        self.x = x.copy()
        return x @ self.W + self.b

    def backward(self, dout):
        self.grads[0][...] = -(self.x.T @ dout)
        self.grads[1][...] = -np.sum(dout, axis=0)
        return dout @ self.W.T
""",
    ),
    PlantedBug(
        exercise="MSELoss",
        module="losses",
        name="mean backward misses the 1/M factor",
        check="gradcheck",
        quantity="dx",
        code="""\
class MSELoss:
    def __init__(self, reduction="mean"):
        self.reduction = reduction

    def forward(self, pred, target):
        self.diff = pred - target
        s = np.sum(self.diff ** 2)
        return float(s / self.diff.size if self.reduction == "mean" else s)

    def backward(self, dout=1.0):
        return 2.0 * self.diff * dout
""",
    ),
    PlantedBug(
        exercise="MSELoss",
        module="losses",
        name="backward misses the factor 2",
        check="gradcheck",
        quantity="dx",
        code="""\
class MSELoss:
    def __init__(self, reduction="mean"):
        self.reduction = reduction

    def forward(self, pred, target):
        self.diff = pred - target
        s = np.sum(self.diff ** 2)
        return float(s / self.diff.size if self.reduction == "mean" else s)

    def backward(self, dout=1.0):
        g = self.diff if self.reduction == "sum" else self.diff / self.diff.size
        return g * dout
""",
    ),
    PlantedBug(
        exercise="MSELoss",
        module="losses",
        name="forward sums instead of averaging (with matching backward)",
        check="reference",
        quantity="out",
        code="""\
class MSELoss:
    def __init__(self, reduction="mean"):
        self.reduction = reduction

    def forward(self, pred, target):
        self.diff = pred - target
        return float(np.sum(self.diff ** 2))

    def backward(self, dout=1.0):
        return 2.0 * self.diff * dout
""",
    ),
    PlantedBug(
        exercise="MSELoss",
        module="losses",
        name="sign flip: gradient of (target - pred) taken w.r.t. target",
        check="gradcheck",
        quantity="dx",
        code="""\
class MSELoss:
    def __init__(self, reduction="mean"):
        self.reduction = reduction

    def forward(self, pred, target):
        self.diff = target - pred
        s = np.sum(self.diff ** 2)
        return float(s / self.diff.size if self.reduction == "mean" else s)

    def backward(self, dout=1.0):
        g = 2.0 * self.diff
        if self.reduction == "mean":
            g = g / self.diff.size
        return g * dout
""",
    ),
    PlantedBug(
        exercise="MSELoss",
        module="losses",
        name="mean divides by the batch size instead of the element count (needs pred with >1 column)",
        check="reference",
        quantity="out",
        code="""\
class MSELoss:
    def __init__(self, reduction="mean"):
        self.reduction = reduction

    def forward(self, pred, target):
        self.diff = pred - target
        s = np.sum(self.diff ** 2)
        return float(s / self.diff.shape[0] if self.reduction == "mean" else s)

    def backward(self, dout=1.0):
        g = 2.0 * self.diff
        if self.reduction == "mean":
            g = g / self.diff.shape[0]
        return g * dout
""",
    ),
    PlantedBug(
        exercise="MSELoss",
        module="losses",
        name="forward returns a running total over all calls",
        check="contract",
        quantity="not deterministic",
        code="""\
class MSELoss:
    def __init__(self, reduction="mean"):
        self.reduction = reduction
        self.total = 0.0

    def forward(self, pred, target):
        self.diff = pred - target
        s = np.sum(self.diff ** 2)
        self.total += s / self.diff.size if self.reduction == "mean" else s
        return float(self.total)

    def backward(self, dout=1.0):
        g = 2.0 * self.diff
        if self.reduction == "mean":
            g = g / self.diff.size
        return g * dout
""",
    ),
    PlantedBug(
        exercise="SoftmaxCrossEntropy",
        module="losses",
        name="no max subtraction: exp overflows for large logits",
        check="stability",
        quantity="out",
        code="""\
class SoftmaxCrossEntropy:
    def __init__(self, reduction="mean"):
        self.reduction = reduction

    def forward(self, pred, target):
        e = np.exp(pred)
        self.p = e / np.sum(e, axis=1, keepdims=True)
        self.t = target
        n = pred.shape[0]
        losses = np.log(np.sum(e, axis=1)) - pred[np.arange(n), target]
        return float(np.mean(losses) if self.reduction == "mean" else np.sum(losses))

    def backward(self, dout=1.0):
        n = self.p.shape[0]
        g = self.p.copy()
        g[np.arange(n), self.t] -= 1.0
        if self.reduction == "mean":
            g /= n
        return g * dout
""",
    ),
    PlantedBug(
        exercise="SoftmaxCrossEntropy",
        module="losses",
        name="-log of a (stable) softmax: log(0) = -inf when the true logit is far below the max",
        check="stability",
        quantity="out",
        code="""\
class SoftmaxCrossEntropy:
    def __init__(self, reduction="mean"):
        self.reduction = reduction

    def forward(self, pred, target):
        e = np.exp(pred - np.max(pred, axis=1, keepdims=True))
        self.p = e / np.sum(e, axis=1, keepdims=True)
        self.t = target
        n = pred.shape[0]
        losses = -np.log(self.p[np.arange(n), target])
        return float(np.mean(losses) if self.reduction == "mean" else np.sum(losses))

    def backward(self, dout=1.0):
        n = self.p.shape[0]
        g = self.p.copy()
        g[np.arange(n), self.t] -= 1.0
        if self.reduction == "mean":
            g /= n
        return g * dout
""",
    ),
    PlantedBug(
        exercise="SoftmaxCrossEntropy",
        module="losses",
        name="mean backward misses the 1/N factor",
        check="gradcheck",
        quantity="dx",
        code="""\
class SoftmaxCrossEntropy:
    def __init__(self, reduction="mean"):
        self.reduction = reduction

    def forward(self, pred, target):
        shifted = pred - np.max(pred, axis=1, keepdims=True)
        logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        self.p = np.exp(logp)
        self.t = target
        losses = -logp[np.arange(pred.shape[0]), target]
        return float(np.mean(losses) if self.reduction == "mean" else np.sum(losses))

    def backward(self, dout=1.0):
        g = self.p.copy()
        g[np.arange(g.shape[0]), self.t] -= 1.0
        return g * dout
""",
    ),
    PlantedBug(
        exercise="SoftmaxCrossEntropy",
        module="losses",
        name="backward forgets to subtract the one-hot labels",
        check="gradcheck",
        quantity="dx",
        code="""\
class SoftmaxCrossEntropy:
    def __init__(self, reduction="mean"):
        self.reduction = reduction

    def forward(self, pred, target):
        shifted = pred - np.max(pred, axis=1, keepdims=True)
        logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        self.p = np.exp(logp)
        losses = -logp[np.arange(pred.shape[0]), target]
        return float(np.mean(losses) if self.reduction == "mean" else np.sum(losses))

    def backward(self, dout=1.0):
        g = self.p.copy()
        if self.reduction == "mean":
            g /= g.shape[0]
        return g * dout
""",
    ),
    PlantedBug(
        exercise="SoftmaxCrossEntropy",
        module="losses",
        name="forward sums over the batch instead of averaging (with matching backward)",
        check="reference",
        quantity="out",
        code="""\
class SoftmaxCrossEntropy:
    def __init__(self, reduction="mean"):
        self.reduction = reduction

    def forward(self, pred, target):
        shifted = pred - np.max(pred, axis=1, keepdims=True)
        logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        self.p = np.exp(logp)
        self.t = target
        return float(-np.sum(logp[np.arange(pred.shape[0]), target]))

    def backward(self, dout=1.0):
        g = self.p.copy()
        g[np.arange(g.shape[0]), self.t] -= 1.0
        return g * dout
""",
    ),
    PlantedBug(
        exercise="SoftmaxCrossEntropy",
        module="losses",
        name="fancy indexing logp[:, target] averages an N x N block",
        check="reference",
        quantity="out",
        code="""\
class SoftmaxCrossEntropy:
    def __init__(self, reduction="mean"):
        self.reduction = reduction

    def forward(self, pred, target):
        shifted = pred - np.max(pred, axis=1, keepdims=True)
        logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        self.p = np.exp(logp)
        self.t = target
        picked = -logp[:, target]
        return float(np.mean(picked) if self.reduction == "mean" else np.sum(picked))

    def backward(self, dout=1.0):
        n = self.p.shape[0]
        g = self.p.copy()
        g[np.arange(n), self.t] -= 1.0
        if self.reduction == "mean":
            g /= n
        return g * dout
""",
    ),
    PlantedBug(
        exercise="SoftmaxCrossEntropy",
        module="losses",
        name="row max subtracted from pred in place",
        check="contract",
        quantity="x modified",
        code="""\
class SoftmaxCrossEntropy:
    def __init__(self, reduction="mean"):
        self.reduction = reduction

    def forward(self, pred, target):
        pred -= np.max(pred, axis=1, keepdims=True)
        logp = pred - np.log(np.sum(np.exp(pred), axis=1, keepdims=True))
        self.p = np.exp(logp)
        self.t = target
        losses = -logp[np.arange(pred.shape[0]), target]
        return float(np.mean(losses) if self.reduction == "mean" else np.sum(losses))

    def backward(self, dout=1.0):
        n = self.p.shape[0]
        g = self.p.copy()
        g[np.arange(n), self.t] -= 1.0
        if self.reduction == "mean":
            g /= n
        return g * dout
""",
    ),
]
