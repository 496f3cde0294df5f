"""``graph_xp``: the few NumPy-style functions that array ``backward`` rules call, written as differentiable ops.

An op whose ``backward`` uses only operators and these functions declares ``backward_composes = True``; under
``create_graph=True`` the engine then runs that same ``backward`` on Tensors with ``self.xp`` set to this namespace,
so one rule serves both the fast array walk and the recorded one. The signatures are NumPy's (``axis=``), the
implementations ganglion's ops.
"""

from .. import backend
from . import arithmetic, einsum as einsum_ops, rearrange, reduction, scan, shape, unary


def _is_tensor(x):
    return hasattr(x, "_node")


def _on_tensors(op, numpy_name):
    """``op`` when an argument is a Tensor; NumPy's (or CuPy's) ``numpy_name`` for plain values and arrays, which
    backward rules also pass (a scalar exponent, a constant mask)."""

    def call(*args, **kwargs):
        if any(_is_tensor(a) for a in args):
            return op(*args, **kwargs)
        xp = backend.get_array_module(*[a for a in args if hasattr(a, "shape")])
        return getattr(xp, numpy_name)(*args, **kwargs)

    call.__name__ = numpy_name
    return call


def asarray(x):
    return x


where = _on_tensors(arithmetic.where, "where")
sign = _on_tensors(unary.sign, "sign")
sin = _on_tensors(unary.sin, "sin")
cos = _on_tensors(unary.cos, "cos")
exp = _on_tensors(unary.exp, "exp")
log = _on_tensors(unary.log, "log")
abs = _on_tensors(unary.abs, "abs")
sqrt = _on_tensors(unary.sqrt, "sqrt")


def zeros_like(x):
    """Zeros shaped like ``x``: a constant (its derivative is zero), so no graph."""
    return x.detach() * 0 if _is_tensor(x) else backend.get_array_module(x).zeros_like(x)


def expand_dims(x, axis):
    axes = sorted(a % (x.ndim + len(axis)) for a in axis) if isinstance(axis, tuple) else [axis]
    for a in axes:
        x = shape.unsqueeze(x, a)
    return x


def broadcast_to(x, to_shape):
    return shape.broadcast_to(x, tuple(to_shape))


def swapaxes(x, a, b):
    return shape.swapaxes(x, a, b)


def flip(x, axis):
    return rearrange.flip(x, axis if isinstance(axis, (tuple, list)) else (axis,))


def cumsum(x, axis):
    return scan.cumsum(x, axis)


def roll(x, shifts, axis):
    return rearrange.roll(x, shifts, axis)


def tril(x, k=0):
    return rearrange.tril(x, k)


def triu(x, k=0):
    return rearrange.triu(x, k)


def sum(x, axis=None, keepdims=False):
    return reduction.sum(x, axis=axis, keepdims=keepdims)


def einsum(equation, *operands, optimize=False):
    return einsum_ops.einsum(equation, *operands)


maximum = _on_tensors(arithmetic.maximum, "maximum")


__all__ = [name for name in dir() if not name.startswith("_") and name not in ("backend", "einsum_ops")]
