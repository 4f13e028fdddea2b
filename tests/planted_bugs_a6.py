"""Planted bugs for assignment A6 (initializers and counting): see tests/planted_bugs.py.

Each entry's ``exercise`` is the FUNCTION's name (the last part of the target) and its ``code`` a complete
function definition appended to the module, overriding the correct one. The initializers (module
``init``) are caught by the ``statistics`` check (a test of the law: shape, use of rng, bounds, mean,
variance, distribution, orthonormality, k per column); the counts (module ``counting``) by ``reference``
(exact comparison with torch's counts).
"""
from .planted_bugs import PlantedBug


def _init(exercise: str, name: str, code: str) -> PlantedBug:
    return PlantedBug(exercise=exercise, module="init", name=name, check="statistics", quantity="out", code=code)


def _count(exercise: str, name: str, code: str) -> PlantedBug:
    return PlantedBug(exercise=exercise, module="counting", name=name, check="reference", quantity="out", code=code)


BUGS: list[PlantedBug] = [
    # ----------------------------------------------------------------------------- init.uniform_fan_in
    _init("uniform_fan_in", "scale factor 2: bound 2/sqrt(fan_in)", """\
def uniform_fan_in(fan_in, fan_out, rng):
    a = 2.0 / np.sqrt(fan_in)
    return rng.uniform(-a, a, size=(fan_in, fan_out))
"""),
    _init("uniform_fan_in", "wrong fan: 1/sqrt(fan_out)", """\
def uniform_fan_in(fan_in, fan_out, rng):
    a = 1.0 / np.sqrt(fan_out)
    return rng.uniform(-a, a, size=(fan_in, fan_out))
"""),
    _init("uniform_fan_in", "not centred: U(0, a)", """\
def uniform_fan_in(fan_in, fan_out, rng):
    a = 1.0 / np.sqrt(fan_in)
    return rng.uniform(0.0, a, size=(fan_in, fan_out))
"""),
    _init("uniform_fan_in", "ignores rng: draws from np.random's global state", """\
def uniform_fan_in(fan_in, fan_out, rng):
    a = 1.0 / np.sqrt(fan_in)
    return np.random.uniform(-a, a, size=(fan_in, fan_out))
"""),
    # ----------------------------------------------------------------------------- init.glorot_uniform
    _init("glorot_uniform", "scale factor 2 on the bound", """\
def glorot_uniform(fan_in, fan_out, rng, gain=1.0):
    a = 2.0 * gain * np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, size=(fan_in, fan_out))
"""),
    _init("glorot_uniform", "wrong fan: fan_in twice, sqrt(6/(2 fan_in))", """\
def glorot_uniform(fan_in, fan_out, rng, gain=1.0):
    a = gain * np.sqrt(6.0 / (fan_in + fan_in))
    return rng.uniform(-a, a, size=(fan_in, fan_out))
"""),
    _init("glorot_uniform", "the normal law's std used as the bound: sqrt(2/(fan_in+fan_out))", """\
def glorot_uniform(fan_in, fan_out, rng, gain=1.0):
    a = gain * np.sqrt(2.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, size=(fan_in, fan_out))
"""),
    _init("glorot_uniform", "gain forgotten", """\
def glorot_uniform(fan_in, fan_out, rng, gain=1.0):
    a = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, size=(fan_in, fan_out))
"""),
    # ----------------------------------------------------------------------------- init.glorot_normal
    _init("glorot_normal", "scale factor 2 on the standard deviation", """\
def glorot_normal(fan_in, fan_out, rng, gain=1.0):
    std = 2.0 * gain * np.sqrt(2.0 / (fan_in + fan_out))
    return rng.normal(0.0, std, size=(fan_in, fan_out))
"""),
    _init("glorot_normal", "wrong fan: fan_out twice, sqrt(2/(2 fan_out))", """\
def glorot_normal(fan_in, fan_out, rng, gain=1.0):
    std = gain * np.sqrt(2.0 / (fan_out + fan_out))
    return rng.normal(0.0, std, size=(fan_in, fan_out))
"""),
    _init("glorot_normal", "the notes' slip: variance sqrt(2/(fan_in+fan_out))", """\
def glorot_normal(fan_in, fan_out, rng, gain=1.0):
    std = gain * (2.0 / (fan_in + fan_out)) ** 0.25
    return rng.normal(0.0, std, size=(fan_in, fan_out))
"""),
    _init("glorot_normal", "uniform draws of the right variance instead of normal ones", """\
def glorot_normal(fan_in, fan_out, rng, gain=1.0):
    a = np.sqrt(3.0) * gain * np.sqrt(2.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, size=(fan_in, fan_out))
"""),
    # ----------------------------------------------------------------------------- init.he_normal
    _init("he_normal", "scale factor 2 on the standard deviation", """\
def he_normal(fan_in, fan_out, rng, a=0.0):
    std = 2.0 * np.sqrt(2.0 / (1.0 + a * a)) / np.sqrt(fan_in)
    return rng.normal(0.0, std, size=(fan_in, fan_out))
"""),
    _init("he_normal", "wrong fan: sqrt(2/fan_out)", """\
def he_normal(fan_in, fan_out, rng, a=0.0):
    std = np.sqrt(2.0 / (1.0 + a * a)) / np.sqrt(fan_out)
    return rng.normal(0.0, std, size=(fan_in, fan_out))
"""),
    _init("he_normal", "ReLU gain sqrt(2) forgotten: sqrt(1/fan_in)", """\
def he_normal(fan_in, fan_out, rng, a=0.0):
    std = 1.0 / np.sqrt(fan_in)
    return rng.normal(0.0, std, size=(fan_in, fan_out))
"""),
    _init("he_normal", "ignores rng: a default_rng() of its own", """\
def he_normal(fan_in, fan_out, rng, a=0.0):
    std = np.sqrt(2.0 / (1.0 + a * a)) / np.sqrt(fan_in)
    return np.random.default_rng().normal(0.0, std, size=(fan_in, fan_out))
"""),
    # ----------------------------------------------------------------------------- init.he_uniform
    _init("he_uniform", "scale factor 2 on the bound", """\
def he_uniform(fan_in, fan_out, rng, a=0.0):
    b = 2.0 * np.sqrt(2.0 / (1.0 + a * a)) * np.sqrt(3.0 / fan_in)
    return rng.uniform(-b, b, size=(fan_in, fan_out))
"""),
    _init("he_uniform", "wrong fan: sqrt(6/fan_out)", """\
def he_uniform(fan_in, fan_out, rng, a=0.0):
    b = np.sqrt(2.0 / (1.0 + a * a)) * np.sqrt(3.0 / fan_out)
    return rng.uniform(-b, b, size=(fan_in, fan_out))
"""),
    _init("he_uniform", "the standard deviation used as the bound: sqrt(2/fan_in)", """\
def he_uniform(fan_in, fan_out, rng, a=0.0):
    b = np.sqrt(2.0 / (1.0 + a * a)) / np.sqrt(fan_in)
    return rng.uniform(-b, b, size=(fan_in, fan_out))
"""),
    _init("he_uniform", "the leaky slope a ignored (ReLU gain always)", """\
def he_uniform(fan_in, fan_out, rng, a=0.0):
    b = np.sqrt(6.0 / fan_in)
    return rng.uniform(-b, b, size=(fan_in, fan_out))
"""),
    # ----------------------------------------------------------------------------- init.orthogonal
    _init("orthogonal", "gain forgotten", """\
def orthogonal(fan_in, fan_out, rng, gain=1.0):
    tall = fan_in >= fan_out
    rows, cols = (fan_in, fan_out) if tall else (fan_out, fan_in)
    q, r = np.linalg.qr(rng.standard_normal((rows, cols)))
    q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
    return q if tall else q.T
"""),
    _init("orthogonal", "scale factor 2: 2 gain", """\
def orthogonal(fan_in, fan_out, rng, gain=1.0):
    tall = fan_in >= fan_out
    rows, cols = (fan_in, fan_out) if tall else (fan_out, fan_in)
    q, r = np.linalg.qr(rng.standard_normal((rows, cols)))
    q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
    return 2.0 * gain * (q if tall else q.T)
"""),
    _init("orthogonal", "not orthogonalised: a Gaussian matrix of the right variance", """\
def orthogonal(fan_in, fan_out, rng, gain=1.0):
    return gain * rng.standard_normal((fan_in, fan_out)) / np.sqrt(max(fan_in, fan_out))
"""),
    _init("orthogonal", "not transposed back when fan_in < fan_out", """\
def orthogonal(fan_in, fan_out, rng, gain=1.0):
    tall = fan_in >= fan_out
    rows, cols = (fan_in, fan_out) if tall else (fan_out, fan_in)
    q, r = np.linalg.qr(rng.standard_normal((rows, cols)))
    q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
    return gain * q
"""),
    _init("orthogonal", "not random: gain times the identity's first columns", """\
def orthogonal(fan_in, fan_out, rng, gain=1.0):
    return gain * np.eye(fan_in, fan_out)
"""),
    # ----------------------------------------------------------------------------- init.sparse
    _init("sparse", "k non-zeros per row instead of per column", """\
def sparse(fan_in, fan_out, rng, k, std=0.01):
    cols = np.argsort(rng.random((fan_in, fan_out)), axis=1)[:, :k]
    w = np.zeros((fan_in, fan_out))
    w[np.arange(fan_in)[:, None], cols] = rng.normal(0.0, std, size=(fan_in, k))
    return w
"""),
    _init("sparse", "scale factor 2 on std", """\
def sparse(fan_in, fan_out, rng, k, std=0.01):
    rows = np.argsort(rng.random((fan_in, fan_out)), axis=0)[:k]
    w = np.zeros((fan_in, fan_out))
    w[rows, np.arange(fan_out)] = rng.normal(0.0, 2.0 * std, size=(k, fan_out))
    return w
"""),
    _init("sparse", "the same k rows in every column", """\
def sparse(fan_in, fan_out, rng, k, std=0.01):
    rows = rng.choice(fan_in, size=k, replace=False)
    w = np.zeros((fan_in, fan_out))
    w[rows, :] = rng.normal(0.0, std, size=(k, fan_out))
    return w
"""),
    _init("sparse", "rows drawn with replacement: some columns get fewer than k", """\
def sparse(fan_in, fan_out, rng, k, std=0.01):
    w = np.zeros((fan_in, fan_out))
    for j in range(fan_out):
        rows = rng.integers(0, fan_in, size=k)
        w[rows, j] = rng.normal(0.0, std, size=k)
    return w
"""),
    _init("sparse", "std**2 passed as the standard deviation", """\
def sparse(fan_in, fan_out, rng, k, std=0.01):
    rows = np.argsort(rng.random((fan_in, fan_out)), axis=0)[:k]
    w = np.zeros((fan_in, fan_out))
    w[rows, np.arange(fan_out)] = rng.normal(0.0, std * std, size=(k, fan_out))
    return w
"""),
    # ----------------------------------------------------------------------------- counting.conv2d_output_shape
    _count("conv2d_output_shape", "padding ignored", """\
def conv2d_output_shape(h, w, kernel, stride=1, padding=0):
    (kh, kw), (sh, sw) = _pair(kernel), _pair(stride)
    return (h - kh) // sh + 1, (w - kw) // sw + 1
"""),
    _count("conv2d_output_shape", "stride off by one: (h + 2p - k + 1) // s", """\
def conv2d_output_shape(h, w, kernel, stride=1, padding=0):
    (kh, kw), (sh, sw), (ph, pw) = _pair(kernel), _pair(stride), _pair(padding)
    return (h + 2 * ph - kh + 1) // sh, (w + 2 * pw - kw + 1) // sw
"""),
    _count("conv2d_output_shape", "padding on one side only", """\
def conv2d_output_shape(h, w, kernel, stride=1, padding=0):
    (kh, kw), (sh, sw), (ph, pw) = _pair(kernel), _pair(stride), _pair(padding)
    return (h + ph - kh) // sh + 1, (w + pw - kw) // sw + 1
"""),
    _count("conv2d_output_shape", "ceil instead of floor", """\
def conv2d_output_shape(h, w, kernel, stride=1, padding=0):
    (kh, kw), (sh, sw), (ph, pw) = _pair(kernel), _pair(stride), _pair(padding)
    return -(-(h + 2 * ph - kh) // sh) + 1, -(-(w + 2 * pw - kw) // sw) + 1
"""),
    # ----------------------------------------------------------------------------- counting.affine_param_count
    _count("affine_param_count", "bias forgotten", """\
def affine_param_count(d_in, d_out):
    return d_in * d_out
"""),
    _count("affine_param_count", "bias of size d_in", """\
def affine_param_count(d_in, d_out):
    return d_in * d_out + d_in
"""),
    _count("affine_param_count", "one bias for the whole layer", """\
def affine_param_count(d_in, d_out):
    return d_in * d_out + 1
"""),
    # ----------------------------------------------------------------------------- counting.conv2d_param_count
    _count("conv2d_param_count", "bias forgotten", """\
def conv2d_param_count(c_in, c_out, kernel, bias=True):
    kh, kw = _pair(kernel)
    return kh * kw * c_in * c_out
"""),
    _count("conv2d_param_count", "bias=False ignored", """\
def conv2d_param_count(c_in, c_out, kernel, bias=True):
    kh, kw = _pair(kernel)
    return kh * kw * c_in * c_out + c_out
"""),
    _count("conv2d_param_count", "input channels forgotten", """\
def conv2d_param_count(c_in, c_out, kernel, bias=True):
    kh, kw = _pair(kernel)
    return kh * kw * c_out + (c_out if bias else 0)
"""),
    _count("conv2d_param_count", "square kernel assumed: kh * kh", """\
def conv2d_param_count(c_in, c_out, kernel, bias=True):
    kh, kw = _pair(kernel)
    return kh * kh * c_in * c_out + (c_out if bias else 0)
"""),
    # ----------------------------------------------------------------------------- counting.conv2d_macs
    _count("conv2d_macs", "padding ignored", """\
def conv2d_macs(c_in, c_out, h, w, kernel, stride=1, padding=0):
    (kh, kw), (sh, sw) = _pair(kernel), _pair(stride)
    return ((h - kh) // sh + 1) * ((w - kw) // sw + 1) * c_out * c_in * kh * kw
"""),
    _count("conv2d_macs", "stride off by one: (h + 2p - k + 1) // s", """\
def conv2d_macs(c_in, c_out, h, w, kernel, stride=1, padding=0):
    (kh, kw), (sh, sw), (ph, pw) = _pair(kernel), _pair(stride), _pair(padding)
    h_out, w_out = (h + 2 * ph - kh + 1) // sh, (w + 2 * pw - kw + 1) // sw
    return h_out * w_out * c_out * c_in * kh * kw
"""),
    _count("conv2d_macs", "input channels forgotten", """\
def conv2d_macs(c_in, c_out, h, w, kernel, stride=1, padding=0):
    kh, kw = _pair(kernel)
    h_out, w_out = conv2d_output_shape(h, w, kernel, stride, padding)
    return h_out * w_out * c_out * kh * kw
"""),
    _count("conv2d_macs", "FLOPs (2 per MAC) instead of MACs", """\
def conv2d_macs(c_in, c_out, h, w, kernel, stride=1, padding=0):
    kh, kw = _pair(kernel)
    h_out, w_out = conv2d_output_shape(h, w, kernel, stride, padding)
    return 2 * h_out * w_out * c_out * c_in * kh * kw
"""),
    _count("conv2d_macs", "bias additions counted as MACs", """\
def conv2d_macs(c_in, c_out, h, w, kernel, stride=1, padding=0):
    kh, kw = _pair(kernel)
    h_out, w_out = conv2d_output_shape(h, w, kernel, stride, padding)
    return h_out * w_out * c_out * (c_in * kh * kw + 1)
"""),
]
