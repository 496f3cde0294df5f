"""Keras activation functions (``keras.activations``), each a thin call into ``ganglion.nn.functional``.

``softmax`` (over the last axis) and ``sigmoid`` also mark their output with its logits (``mark_probabilities``): a
model compiled with the matching cross-entropy then computes the loss from the logits (``logits_of``), as Keras does
with its TensorFlow backend.
"""

import weakref

from ..nn import functional as F
from ._registry import lookup

# id(probabilities) -> (weak reference to them, kind, logits). Tensor has __slots__, so the mark cannot be an
# attribute, and its elementwise == rules out a WeakKeyDictionary; an entry goes when its tensor does (the weak
# reference's callback), and a lookup checks that the reference still points at the tensor asked about.
_LOGITS = {}


def mark_probabilities(probabilities, logits, kind):
    """Record that ``probabilities`` is ``kind`` ("softmax" over the last axis, or "sigmoid") of ``logits``; only
    outputs that take part in a graph (``requires_grad``) are marked, as only training losses use the mark. Called
    where the Keras face produces probabilities: these activations, the Softmax layer, ``keras.ops``. Returns
    ``probabilities``."""
    if probabilities.requires_grad:
        key = id(probabilities)
        _LOGITS[key] = (weakref.ref(probabilities, lambda _, key=key: _LOGITS.pop(key, None)), kind, logits)
    return probabilities


def logits_of(probabilities, kind):
    """The logits that ``mark_probabilities`` recorded for ``probabilities`` as ``kind``, else None."""
    mark = _LOGITS.get(id(probabilities))
    if mark is None or mark[0]() is not probabilities or mark[1] != kind:
        return None
    return mark[2]


def _last_axis(x, axis):
    return axis == -1 or axis == x.ndim - 1


def linear(x):
    return x


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """max(x, 0), or Keras' general form: leaky below ``threshold``, capped at ``max_value``."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return F.relu(x)
    from ..ops import where

    y = where(x > threshold, x, negative_slope * (x - threshold))
    return y.clamp(max=max_value) if max_value is not None else y


def sigmoid(x):
    return mark_probabilities(F.sigmoid(x), x, "sigmoid")


def softmax(x, axis=-1):
    y = F.softmax(x, dim=axis)
    return mark_probabilities(y, x, "softmax") if _last_axis(x, axis) else y


def log_softmax(x, axis=-1):
    return F.log_softmax(x, dim=axis)


def glu(x, axis=-1):
    """a * sigmoid(b), where a and b are the two halves of ``x`` along ``axis``."""
    return F.glu(x, dim=axis)


def gelu(x, approximate=False):
    return F.gelu(x, approximate="tanh" if approximate else "none")


def exponential(x):
    return x.exp()


def leaky_relu(x, negative_slope=0.2):
    """Keras' default slope is 0.2 (PyTorch's 0.01)."""
    return F.leaky_relu(x, negative_slope)


def hard_shrink(x, threshold=0.5):
    """x where |x| > threshold, else 0."""
    return F.hardshrink(x, threshold)


def soft_shrink(x, threshold=0.5):
    """x - threshold above threshold, x + threshold below -threshold, 0 between."""
    return F.softshrink(x, threshold)


def threshold(x, threshold, default_value):
    """x where x > threshold, else ``default_value``."""
    return F.threshold(x, threshold, default_value)


# the engine's functions as they are: Keras' arguments are theirs (x first, then alpha where there is one)
tanh, selu, softplus, softsign, mish = F.tanh, F.selu, F.softplus, F.softsign, F.mish
silu = swish = F.silu
relu6, elu, celu, log_sigmoid = F.relu6, F.elu, F.celu, F.logsigmoid
hard_sigmoid = F.hardsigmoid  # Keras 3's hard sigmoid is relu6(x + 3) / 6, PyTorch's
hard_silu = hard_swish = F.hardswish
hard_tanh, tanh_shrink = F.hardtanh, F.tanhshrink


def squareplus(x, b=4):
    """(x + sqrt(x^2 + b)) / 2, a smooth ReLU (b >= 0)."""
    if b < 0:
        raise ValueError(f"squareplus: b must be >= 0, got {b}")
    return (x + (x * x + b).sqrt()) * 0.5


def sparse_plus(x):
    """0 for x <= -1, (x + 1)^2 / 4 for -1 < x < 1, x for x >= 1."""
    from ..ops import where

    inner = x.clamp(-1.0, 1.0) + 1.0
    return where(x >= 1.0, x, inner * inner * 0.25)


def sparse_sigmoid(x):
    """0 for x <= -1, (x + 1) / 2 for -1 < x < 1, 1 for x >= 1."""
    return ((x + 1.0) * 0.5).clamp(0.0, 1.0)


def sparsemax(x, axis=-1):
    """Euclidean projection of x onto the probability simplex along ``axis``: max(x - tau, 0), with tau chosen so
    the result sums to 1 (sparse, unlike softmax). The support is found by sorting; tau = (sum of x over the
    support - 1) / support size is computed with Tensor ops, so the gradient is exact."""
    from .. import backend
    from ..tensor import Tensor

    xp = backend.get_array_module(x.array)
    z = xp.moveaxis(x.array, axis, -1)
    z_sorted = -xp.sort(-z, axis=-1)
    ranks = xp.arange(1, z.shape[-1] + 1, dtype=z.dtype)
    in_support = 1 + ranks * z_sorted > xp.cumsum(z_sorted, axis=-1)
    k = in_support.sum(axis=-1, keepdims=True)
    kth = xp.take_along_axis(z_sorted, k - 1, axis=-1)
    mask = Tensor._wrap(xp.moveaxis((z >= kth).astype(z.dtype), -1, axis))
    size = Tensor._wrap(xp.moveaxis(k.astype(z.dtype), -1, axis))
    tau = ((x * mask).sum(dim=axis, keepdim=True) - 1.0) / size
    return F.relu(x - tau)


_ALL = {
    "linear": linear, "relu": relu, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax,
    "log_softmax": log_softmax, "elu": elu, "selu": selu, "softplus": softplus, "softsign": softsign, "silu": silu,
    "swish": swish, "gelu": gelu, "exponential": exponential, "leaky_relu": leaky_relu, "relu6": relu6,
    "hard_sigmoid": hard_sigmoid, "hard_silu": hard_silu, "hard_swish": hard_swish, "mish": mish, "celu": celu,
    "glu": glu, "hard_tanh": hard_tanh, "hard_shrink": hard_shrink, "soft_shrink": soft_shrink,
    "tanh_shrink": tanh_shrink, "threshold": threshold, "log_sigmoid": log_sigmoid, "squareplus": squareplus,
    "sparse_plus": sparse_plus, "sparse_sigmoid": sparse_sigmoid, "sparsemax": sparsemax,
}


def get(identifier):
    """An activation function from a name ("relu") or a function; None gives ``linear``, as in Keras 3."""
    if identifier is None:
        return linear
    return lookup("activation", identifier, _ALL, instantiate=False)


def get_optional(identifier):
    """As ``get``, but None stays None: the layers' own way to say "no activation" (they then skip the call)."""
    return None if identifier is None else get(identifier)


def serialize(activation):
    if activation is None:
        return "linear"
    for name, fn in _ALL.items():
        if fn is activation:
            return name
    return getattr(activation, "__name__", repr(activation))
