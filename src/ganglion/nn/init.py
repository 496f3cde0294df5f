"""Weight initializers (PyTorch's ``torch.nn.init``): fill a tensor in place, without recording the graph, and
return it. Random ones take an optional ``generator`` (a ``ganglion.Generator``); without one they draw from the
default stream, so ``ganglion.manual_seed`` makes them reproducible. Values are drawn on the CPU in the tensor's own
precision (float32 for float32 and float16 tensors, float64 otherwise: no float64 scratch copy of a float32 weight)
and then moved to the tensor's device, so a seed gives the same weights everywhere.

fan_in and fan_out follow PyTorch: for a weight of shape (out, in, *kernel), fan_in = in x prod(kernel) and
fan_out = out x prod(kernel). A convolution's weight is (out_channels, in_channels / groups, *kernel), so fan_in is
in_channels / groups x kernel area, as it should be.

The notes' names are aliases: "random" init is ``normal_`` (``random_normal_``) or ``uniform_`` (``random_uniform_``),
"standard" init is ``standard_uniform_`` (``standard_``), Glorot is Xavier (``glorot_uniform_``, ``glorot_normal_``),
He is Kaiming (``he_uniform_``, ``he_normal_``), and ``truncated_normal_`` / ``identity_`` are ``trunc_normal_`` /
``eye_``.
"""

import math
import warnings

from .. import backend
from ..autograd.grad_mode import no_grad
from .functional.special import ndtr, ndtri

_GAINS = {
    "linear": 1.0, "conv1d": 1.0, "conv2d": 1.0, "conv3d": 1.0, "conv_transpose1d": 1.0, "conv_transpose2d": 1.0,
    "conv_transpose3d": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3, "relu": math.sqrt(2.0), "selu": 3.0 / 4,
}
NONLINEARITIES = tuple(_GAINS) + ("leaky_relu",)


def calculate_gain(nonlinearity, param=None):
    """The recommended scale of the weights for a nonlinearity: 1 for linear/conv/sigmoid, 5/3 for tanh, sqrt(2) for
    relu, sqrt(2 / (1 + slope^2)) for leaky_relu (``param`` = negative slope, 0.01 by default), 3/4 for selu."""
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity not in _GAINS:
        raise ValueError(
            f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; accepted: {', '.join(NONLINEARITIES)}"
        )
    return _GAINS[nonlinearity]


def calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) = (shape[1] x receptive field, shape[0] x receptive field) of a weight with >= 2 dims."""
    if tensor.ndim < 2:
        raise ValueError(
            "fan in and fan out can not be computed for a tensor with fewer than 2 dimensions "
            f"(shape {tuple(tensor.shape)})"
        )
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


_calculate_fan_in_and_fan_out = calculate_fan_in_and_fan_out  # PyTorch's (private) name, which user code calls


def _fan(tensor, mode, op):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{op}: mode {mode!r} is not supported; accepted modes are 'fan_in' and 'fan_out'")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _is_empty(tensor, op):
    if tensor.numel() == 0:
        warnings.warn(f"{op}: initializing a zero-element tensor is a no-op", stacklevel=3)
        return True
    return False


def _draw_dtype(tensor):
    """The precision to draw ``tensor``'s values in: float32 for float32 (and float16) tensors, float64 otherwise."""
    dtype = backend.np.dtype(tensor.dtype)
    return backend.np.dtype("float32") if dtype.kind == "f" and dtype.itemsize <= 4 else backend.np.dtype("float64")


def _fill(tensor, values):
    with no_grad():
        tensor.array[...] = backend.to_device(backend.np.asarray(values).astype(tensor.dtype, copy=False),
                                              tensor.device)
    tensor._bump_version()
    return tensor


_CHUNK = 2**16  # values per block where a draw needs temporaries (rejection, the float64 inverse-CDF tail path)


def _truncated_standard_normal(shape, lo, hi, generator, dtype):
    """N(0, 1) conditioned on [lo, hi], exactly, as an array of ``dtype``.

    When the interval holds at least a quarter of the mass (the usual +-2 sigma holds 95%), by rejection: draw
    normals in ``dtype``, keep those inside. Otherwise by inverting the CDF, x = Phi^-1(U(Phi(lo), Phi(hi))), which
    works for any interval, also far in a tail where rejection would almost never accept; that needs float64 (tail
    probabilities underflow float32). Both run in blocks of ``_CHUNK`` values written into the ``dtype`` result, so
    the temporaries stay small whatever the tensor's size.
    """
    np = backend.np
    rng = backend.rng(generator)
    flip = lo > 0  # solve in the lower half, where Phi has full relative precision
    if flip:
        lo, hi = -hi, -lo
    p_lo, p_hi = ndtr(np.array([lo, hi], dtype=np.float64), np)
    n = math.prod(shape)
    x = np.empty(n, dtype=dtype)
    if p_hi - p_lo >= 0.25:
        count = 0
        while count < n:
            draw = rng.standard_normal(min(int((n - count) / (p_hi - p_lo) * 1.1) + 16, _CHUNK), dtype=dtype)
            draw = draw[(draw >= lo) & (draw <= hi)][:n - count]
            x[count:count + draw.size] = draw
            count += draw.size
    else:
        for start in range(0, n, _CHUNK):
            u = rng.random(min(_CHUNK, n - start))
            x[start:start + u.size] = np.clip(ndtri(p_lo + (p_hi - p_lo) * u, np), lo, hi)
    x = x.reshape(shape)
    if flip:
        np.negative(x, out=x)
    return x


# the std of N(0, 1) truncated to [-2, 2]: dividing by it makes a 2-sigma truncated draw have the intended std
_TRUNC2_STD = math.sqrt(1 - 4 * math.exp(-2) / math.sqrt(2 * math.pi) / math.erf(math.sqrt(2)))


def _normal_or_truncated(tensor, std, truncated, generator):
    if not truncated:
        return normal_(tensor, 0.0, std, generator)
    x = _truncated_standard_normal(tensor.shape, -2.0, 2.0, generator, _draw_dtype(tensor))
    x *= std / _TRUNC2_STD
    return _fill(tensor, x)


# ------------------------------------------------------------------------------------------------ fixed values
def constant_(tensor, val):
    """Fill with ``val``."""
    with no_grad():
        tensor.array.fill(val)
    tensor._bump_version()
    return tensor


def zeros_(tensor):
    """Fill with 0."""
    return constant_(tensor, 0)


def ones_(tensor):
    """Fill with 1."""
    return constant_(tensor, 1)


def eye_(tensor):
    """The identity matrix (ones on the diagonal of a 2-D, possibly rectangular, tensor): keeps a linear layer's
    input as it is."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got shape {tuple(tensor.shape)}")
    return _fill(tensor, backend.np.eye(*tensor.shape, dtype=_draw_dtype(tensor)))


def dirac_(tensor, groups=1):
    """The Dirac delta: a convolution weight (out, in, *kernel) that passes channel c to output channel c (within
    each of ``groups`` groups) through the kernel's centre, so the convolution preserves its input."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(
            f"dirac_: only tensors with 3, 4 or 5 dimensions are supported, got shape {tuple(tensor.shape)}"
        )
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1 or tensor.shape[0] % groups:
        raise ValueError(f"dirac_: dim 0 of shape {tuple(tensor.shape)} must be divisible by groups={groups!r}")
    np = backend.np
    out_per_group = tensor.shape[0] // groups
    n = min(out_per_group, tensor.shape[1])
    values = np.zeros(tensor.shape, dtype=_draw_dtype(tensor))
    d = np.arange(n)
    centre = tuple(k // 2 for k in tensor.shape[2:])
    for gi in range(groups):
        values[(gi * out_per_group + d, d) + centre] = 1
    return _fill(tensor, values)


# -------------------------------------------------------------------------------------------------- random
def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """U(a, b)."""
    if a > b:
        raise ValueError(f"uniform_: expected a <= b, got a={a}, b={b}")
    x = backend.rng(generator).random(tensor.shape, dtype=_draw_dtype(tensor))
    x *= b - a
    x += a
    return _fill(tensor, x)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """N(mean, std^2)."""
    if std < 0:
        raise ValueError(f"normal_: std must be >= 0, got {std}")
    x = backend.rng(generator).standard_normal(tensor.shape, dtype=_draw_dtype(tensor))
    x *= std
    x += mean
    return _fill(tensor, x)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """N(mean, std^2) conditioned on [a, b] (``a``, ``b`` are absolute bounds): values outside are never drawn.

    Sampled exactly, for any interval, even one far from the mean (by rejection or by inverting the normal CDF).
    """
    if not a < b:
        raise ValueError(f"trunc_normal_: expected a < b, got a={a}, b={b}")
    if std < 0:
        raise ValueError(f"trunc_normal_: std must be >= 0, got {std}")
    if std == 0:
        return constant_(tensor, min(max(mean, a), b))
    x = _truncated_standard_normal(tensor.shape, (a - mean) / std, (b - mean) / std, generator, _draw_dtype(tensor))
    x *= std
    x += mean
    return _fill(tensor, backend.np.clip(x, a, b, out=x))


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot uniform: U(-limit, limit) with limit = gain * sqrt(6 / (fan_in + fan_out))."""
    if _is_empty(tensor, "xavier_uniform_"):
        return tensor
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    limit = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -limit, limit, generator)


def xavier_normal_(tensor, gain=1.0, generator=None, *, truncated=False):
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)). ``truncated``: see kaiming_normal_."""
    if _is_empty(tensor, "xavier_normal_"):
        return tensor
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return _normal_or_truncated(tensor, gain * math.sqrt(2.0 / (fan_in + fan_out)), truncated, generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He uniform: U(-bound, bound) with bound = gain * sqrt(3 / fan), fan = fan_in or fan_out (``mode``), gain =
    calculate_gain(nonlinearity, a) (sqrt(2) for ReLU: the default leaky_relu with a = 0)."""
    if _is_empty(tensor, "kaiming_uniform_"):
        return tensor
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(tensor, mode, "kaiming_uniform_"))
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None, *, truncated=False):
    """He normal: N(0, std^2) with std = gain / sqrt(fan) (fan and gain as in kaiming_uniform_).

    ``truncated=True`` (ganglion's addition; Keras' he_normal does this): draw from a normal truncated at two of its
    standard deviations, with that deviation raised by 1 / 0.8796... so the weights' std is still exactly ``std``.
    """
    if _is_empty(tensor, "kaiming_normal_"):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode, "kaiming_normal_"))
    return _normal_or_truncated(tensor, std, truncated, generator)


def lecun_uniform_(tensor, generator=None):
    """LeCun uniform: U(-limit, limit) with limit = sqrt(3 / fan_in) (variance 1 / fan_in)."""
    if _is_empty(tensor, "lecun_uniform_"):
        return tensor
    limit = math.sqrt(3.0 / _fan(tensor, "fan_in", "lecun_uniform_"))
    return uniform_(tensor, -limit, limit, generator)


def lecun_normal_(tensor, generator=None, *, truncated=False):
    """LeCun normal: N(0, 1 / fan_in), the init SELU networks need. ``truncated``: see kaiming_normal_."""
    if _is_empty(tensor, "lecun_normal_"):
        return tensor
    return _normal_or_truncated(tensor, 1.0 / math.sqrt(_fan(tensor, "fan_in", "lecun_normal_")), truncated, generator)


def standard_uniform_(tensor, fan_in=None, generator=None):
    """The notes' "standard" init and PyTorch's Linear/Conv default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

    ``fan_in`` defaults to the tensor's own (give it for a bias, which has a single dimension).
    """
    if fan_in is None:
        fan_in = calculate_fan_in_and_fan_out(tensor)[0]
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    return uniform_(tensor, -bound, bound, generator)


def orthogonal_(tensor, gain=1, generator=None):
    """A (semi-)orthogonal matrix times ``gain``: the tensor seen as (shape[0], rest) has orthonormal rows (or
    columns, whichever are fewer). From the QR decomposition of a Gaussian matrix, with the signs of R's diagonal
    moved into Q so that Q is uniformly (Haar) distributed."""
    if tensor.ndim < 2:
        raise ValueError(
            f"orthogonal_: only tensors with 2 or more dimensions are supported, got shape {tuple(tensor.shape)}"
        )
    if tensor.numel() == 0:
        return tensor
    np = backend.np
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = backend.rng(generator).standard_normal((rows, cols), dtype=_draw_dtype(tensor))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    signs = np.sign(np.diag(r))
    q *= np.where(signs == 0, 1, signs).astype(q.dtype)
    if rows < cols:
        q = q.T
    q *= gain
    return _fill(tensor, q.reshape(tensor.shape))


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """A 2-D tensor drawn from N(0, std^2) with a fraction ``sparsity`` of each column's entries set to 0 (Martens,
    2010)."""
    if tensor.ndim != 2:
        raise ValueError(f"sparse_: only 2-D tensors are supported, got shape {tuple(tensor.shape)}")
    if not 0 <= sparsity <= 1:
        raise ValueError(f"sparse_: sparsity must be in [0, 1], got {sparsity}")
    np = backend.np
    rows, cols = tensor.shape
    rng = backend.rng(generator)
    dtype = _draw_dtype(tensor)
    values = rng.standard_normal((rows, cols), dtype=dtype)
    values *= std
    zeros = int(math.ceil(sparsity * rows))
    # a random set of ``zeros`` rows in every column: each column's row numbers shuffled, the first ``zeros`` kept
    rows_index = np.arange(rows, dtype=np.min_scalar_type(max(rows - 1, 0)))
    chosen = rng.permuted(np.broadcast_to(rows_index[:, None], (rows, cols)), axis=0)[:zeros]
    block = max(1, _CHUNK // max(zeros, 1))  # columns per assignment, so its index arrays stay small
    for start in range(0, cols, block):
        stop = min(start + block, cols)
        values[chosen[:, start:stop], np.arange(start, stop)] = 0
    return _fill(tensor, values)


# the notes' and Keras' names
random_normal_ = normal_
random_uniform_ = uniform_
truncated_normal_ = trunc_normal_
standard_ = standard_uniform_
glorot_uniform_ = xavier_uniform_
glorot_normal_ = xavier_normal_
he_uniform_ = kaiming_uniform_
he_normal_ = kaiming_normal_
identity_ = eye_
