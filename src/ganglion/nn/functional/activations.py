"""Activation functions with PyTorch's ``torch.nn.functional`` names.

relu, sigmoid, tanh, softmax and log_softmax are the Tensor's own ops (``ganglion.ops``); every other activation is
one Function (``activations_piecewise``, ``activations_smooth``): a fused forward and an exact backward on raw
arrays, saving only what the derivative needs, with no intermediate that can overflow (inputs of any finite size
give finite, exact results). This module checks the arguments and applies them.

``inplace=True`` on relu, leaky_relu, hardtanh, relu6 and threshold (and ``relu_``, ``leaky_relu_``, ``hardtanh_``,
``threshold_``) writes the result over x and returns x, as PyTorch (``Function.apply_in_place`` says when it may not
while the graph is recorded). On the other activations ``inplace=True`` is accepted for compatibility; the result is
computed out of place and the input is left unchanged. Every function maps a tensor of any shape to one
of the same shape, except ``glu`` (halves ``dim``).
"""

import numbers

from ...ops import log_softmax as _log_softmax
from ...ops import relu as _relu
from ...ops import relu_
from ...ops import sigmoid, tanh
from ...ops import softmax as _softmax
from ...ops.util import normalize_dims
from ...tensor import Tensor
from .activations_piecewise import Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, PReLU, Shrink, Threshold
from .activations_smooth import ELU, GELU, GLU, LogSigmoid, Mish, SiLU, Softplus, Softsign, Tanhshrink

__all__ = [
    "identity", "relu", "relu_", "sigmoid", "tanh", "softmax", "log_softmax", "softmin", "leaky_relu", "leaky_relu_",
    "prelu", "elu", "selu", "celu", "relu6", "hardtanh", "hardtanh_", "hardsigmoid", "hardswish", "softplus", "silu",
    "swish", "mish", "gelu", "softsign", "tanhshrink", "threshold", "threshold_", "logsigmoid", "hardshrink",
    "softshrink", "glu",
]

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
GELU_APPROXIMATIONS = ("none", "tanh")


def _float_input(op, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor as input, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point tensor, got dtype {input.dtype}")
    return input


def _number(op, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a number, got {value!r}")
    return float(value)


def identity(input):
    """y = x (the linear activation); the input itself is returned."""
    return input


def relu(input, inplace=False):
    """y = max(x, 0);  dy/dx = 1 where x > 0, else 0. ``inplace``: written over x, which is returned (``relu_``)."""
    return relu_(input) if inplace else _relu(input)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """y_i = e^{x_i} / sum_j e^{x_j} along ``dim`` (stable for inputs of any magnitude)."""
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """y_i = x_i - logsumexp(x) along ``dim`` (finite for any finite input)."""
    return _log_softmax(input, dim, dtype=dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """y = softmax(-x) along ``dim``: the smallest entries get the largest weights."""
    return _softmax(-_float_input("softmin", input), dim, dtype=dtype)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """y = x if x > 0 else negative_slope x. ``inplace``: written over x, which is returned."""
    slope = _number("leaky_relu", "negative_slope", negative_slope)
    return _apply(LeakyReLU, inplace, _float_input("leaky_relu", input), slope)


def leaky_relu_(input, negative_slope=0.01):
    """``leaky_relu`` written over x, which is returned."""
    return leaky_relu(input, negative_slope, inplace=True)


def prelu(input, weight):
    """y = x if x > 0 else w x, with ``weight`` of shape (1,) (one slope) or (C,) (one per channel, dim 1)."""
    _float_input("prelu", input)
    if not isinstance(weight, Tensor):
        raise TypeError(f"prelu: weight must be a Tensor, got {type(weight).__name__}")
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.ndim > 1 or weight.numel() not in (1, channels):
        raise ValueError(
            f"prelu: weight of shape {tuple(weight.shape)} does not match the input of shape {tuple(input.shape)}: "
            f"expected 1 or {channels} (the number of channels, dim 1) slopes"
        )
    return PReLU.apply(input, weight)


def elu(input, alpha=1.0, inplace=False):
    """y = x if x > 0 else alpha (e^x - 1). ``inplace`` is accepted; the result is out of place."""
    return ELU.apply(_float_input("elu", input), _number("elu", "alpha", alpha), 1.0, 1.0)


def selu(input, inplace=False):
    """y = scale elu(x, alpha) with alpha = 1.6732632..., scale = 1.0507009... (self-normalizing)."""
    return ELU.apply(_float_input("selu", input), SELU_ALPHA, SELU_SCALE, 1.0)


def celu(input, alpha=1.0, inplace=False):
    """y = max(0, x) + min(0, alpha (e^{x/alpha} - 1)); alpha must not be 0."""
    alpha = _number("celu", "alpha", alpha)
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (the formula divides by it)")
    return ELU.apply(_float_input("celu", input), alpha, 1.0, 1.0 / alpha)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """y = clamp(x, min_val, max_val); gradient 1 strictly inside, 0 outside and at the kinks."""
    lo, hi = _number("hardtanh", "min_val", min_val), _number("hardtanh", "max_val", max_val)
    if not hi > lo:
        raise ValueError(f"hardtanh: max_val ({max_val}) must be greater than min_val ({min_val})")
    return _apply(Hardtanh, inplace, _float_input("hardtanh", input), lo, hi)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """``hardtanh`` written over x, which is returned."""
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    """y = min(max(x, 0), 6) (= hardtanh(x, 0, 6)). ``inplace``: written over x, which is returned."""
    return _apply(Hardtanh, inplace, _float_input("relu6", input), 0.0, 6.0)


def hardsigmoid(input, inplace=False):
    """y = clamp(x + 3, 0, 6) / 6: a piecewise-linear sigmoid."""
    return Hardsigmoid.apply(_float_input("hardsigmoid", input))


def hardswish(input, inplace=False):
    """y = x hardsigmoid(x) = x clamp(x + 3, 0, 6) / 6."""
    return Hardswish.apply(_float_input("hardswish", input))


def softplus(input, beta=1.0, threshold=20.0):
    """y = log(1 + e^{beta x}) / beta, reverting to y = x where beta x > threshold; finite for any x."""
    beta = _number("softplus", "beta", beta)
    if beta == 0:
        raise ValueError("softplus: beta must not be 0 (the formula divides by it)")
    return Softplus.apply(_float_input("softplus", input), beta, _number("softplus", "threshold", threshold))


def silu(input, inplace=False):
    """SiLU (Swish): y = x sigmoid(x)."""
    return SiLU.apply(_float_input("silu", input))


swish = silu


def mish(input, inplace=False):
    """y = x tanh(softplus(x))."""
    return Mish.apply(_float_input("mish", input))


def gelu(input, approximate="none"):
    """y = x Phi(x) (``approximate="none"``, exact erf form) or its tanh approximation (``approximate="tanh"``)."""
    if approximate not in GELU_APPROXIMATIONS:
        accepted = ", ".join(map(repr, GELU_APPROXIMATIONS))
        raise ValueError(f"gelu: unknown approximate={approximate!r}; accepted values are {accepted}")
    return GELU.apply(_float_input("gelu", input), approximate)


def softsign(input):
    """y = x / (1 + |x|)."""
    return Softsign.apply(_float_input("softsign", input))


def tanhshrink(input):
    """y = x - tanh x."""
    return Tanhshrink.apply(_float_input("tanhshrink", input))


def threshold(input, threshold, value, inplace=False):
    """y = x where x > threshold, else ``value``. ``inplace``: written over x, which is returned."""
    return _apply(Threshold, inplace, _float_input("threshold", input), _number("threshold", "threshold", threshold),
                  _number("threshold", "value", value))


def threshold_(input, threshold, value):
    """``threshold`` written over x, which is returned."""
    return _apply(Threshold, True, _float_input("threshold_", input), _number("threshold_", "threshold", threshold),
                  _number("threshold_", "value", value))


def _apply(op, inplace, x, *args):
    """``op`` over the Tensor x with the plain values ``args``: out of place, or written over x (``inplace``)."""
    return op.apply_in_place(x, *args) if inplace else op.apply(x, *args)


def logsigmoid(input):
    """y = log sigmoid(x) = -softplus(-x); finite for any x."""
    return LogSigmoid.apply(_float_input("logsigmoid", input))


def _lambd(op, lambd):
    lambd = _number(op, "lambd", lambd)
    if lambd < 0:
        raise ValueError(f"{op}: lambd must be >= 0, got {lambd}")
    return lambd


def hardshrink(input, lambd=0.5):
    """y = x where |x| > lambd, else 0."""
    return Shrink.apply(_float_input("hardshrink", input), _lambd("hardshrink", lambd), False)


def softshrink(input, lambd=0.5):
    """y = x - lambd where x > lambd, x + lambd where x < -lambd, else 0."""
    return Shrink.apply(_float_input("softshrink", input), _lambd("softshrink", lambd), True)


def glu(input, dim=-1):
    """y = a sigmoid(b) with a, b the two halves of x along ``dim``: (*, 2n, *) -> (*, n, *)."""
    _float_input("glu", input)
    if input.ndim == 0:
        raise ValueError("glu: does not support 0-dimensional (scalar) tensors")
    (d,) = normalize_dims(dim, input.ndim, "glu")
    if input.shape[d] % 2:
        raise ValueError(f"glu: the halved dimension {dim} must have even size, got input shape {tuple(input.shape)}")
    return GLU.apply(input, d)
