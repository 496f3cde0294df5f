"""Keras activation functions (``keras.activations``), each a thin call into ``ganglion.nn.functional``."""

from ..nn import functional as F
from ._registry import lookup


def linear(x):
    return x


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """max(x, 0), or Keras' general form: leaky below ``threshold``, capped at ``max_value``."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return F.relu(x)
    from ..ops import where

    y = where(x >= threshold, x, negative_slope * (x - threshold))
    return y.clamp(max=max_value) if max_value is not None else y


def sigmoid(x):
    return F.sigmoid(x)


def tanh(x):
    return F.tanh(x)


def softmax(x, axis=-1):
    return F.softmax(x, dim=axis)


def log_softmax(x, axis=-1):
    return F.log_softmax(x, dim=axis)


def elu(x, alpha=1.0):
    return F.elu(x, alpha)


def selu(x):
    return F.selu(x)


def softplus(x):
    return F.softplus(x)


def softsign(x):
    return F.softsign(x)


def silu(x):
    return F.silu(x)


swish = silu


def gelu(x, approximate=False):
    return F.gelu(x, approximate="tanh" if approximate else "none")


def exponential(x):
    return x.exp()


def leaky_relu(x, negative_slope=0.2):
    return F.leaky_relu(x, negative_slope)


def relu6(x):
    return F.relu6(x)


def hard_sigmoid(x):
    """Keras 3's hard sigmoid: relu6(x + 3) / 6 (PyTorch's hardsigmoid)."""
    return F.hardsigmoid(x)


def hard_silu(x):
    return F.hardswish(x)


hard_swish = hard_silu


def mish(x):
    return F.mish(x)


_ALL = {
    "linear": linear, "relu": relu, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax,
    "log_softmax": log_softmax, "elu": elu, "selu": selu, "softplus": softplus, "softsign": softsign, "silu": silu,
    "swish": swish, "gelu": gelu, "exponential": exponential, "leaky_relu": leaky_relu, "relu6": relu6,
    "hard_sigmoid": hard_sigmoid, "hard_silu": hard_silu, "hard_swish": hard_swish, "mish": mish,
}


def get(identifier):
    """An activation function from a name ("relu"), a function, or None (no activation)."""
    if identifier is None:
        return None
    return lookup("activation", identifier, _ALL, instantiate=False)


def serialize(activation):
    if activation is None:
        return "linear"
    for name, fn in _ALL.items():
        if fn is activation:
            return name
    return getattr(activation, "__name__", repr(activation))
