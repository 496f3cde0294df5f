"""``keras.ops`` from Keras' math module: logsumexp, top_k, rsqrt."""

from ... import ops as E
from ._convert import float_dtype, tensor_of


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(e^x)) over ``axis``, computed stably (ints become float32)."""
    x = tensor_of(x, "logsumexp")
    x = tensor_of(x, "logsumexp", float_dtype(x))
    axis = tuple(range(x.ndim)) if axis is None else tuple(axis) if isinstance(axis, list) else axis
    return E.logsumexp(x, axis=axis, keepdims=keepdims)


def top_k(x, k, sorted=True):
    """The ``k`` largest values along the last axis and their indices (int64, as Keras' torch backend gives)."""
    x = tensor_of(x, "top_k")
    if not 0 <= int(k) <= x.shape[-1]:
        raise ValueError(f"top_k: k={k} must be in [0, {x.shape[-1]}] for input of shape {tuple(x.shape)}")
    values, indices = E.topk(x, int(k), dim=-1, largest=True, sorted=sorted)
    return values, indices


def rsqrt(x):
    """1 / sqrt(x) (ints become float32)."""
    x = tensor_of(x, "rsqrt")
    return E.div(1.0, E.sqrt(tensor_of(x, "rsqrt", float_dtype(x))))
