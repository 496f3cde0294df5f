"""Reductions and scans in ``keras.ops``: sum, mean, max, min, argmax, argmin, std, var, prod, cumsum, cumprod, all,
any, sort, argsort. Keras' ``axis`` (None, an int or a tuple) and ``keepdims``; Keras' result dtypes (small ints
sum to int32, means of ints are float32, indices are int32)."""

import numpy as np

from ... import ops as E
from ._convert import float_dtype, standardize_dtype, tensor_of

_INT32 = np.dtype("int32")
_WIDENED = ("bool", "uint8", "int8", "int16")  # Keras sums and multiplies these as int32


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _whole(x, axis):
    return axis == () or axis == []


def sum(x, axis=None, keepdims=False):
    """Sum over ``axis`` (all elements when None)."""
    x = tensor_of(x, "sum")
    if _whole(x, axis):
        return x
    dtype = _INT32 if str(x.dtype) in _WIDENED else x.dtype
    return tensor_of(E.sum(x, axis=_axis(axis), keepdims=keepdims), "sum", dtype)


def prod(x, axis=None, keepdims=False, dtype=None):
    """Product over ``axis`` (all elements when None)."""
    x = tensor_of(x, "prod")
    out_dtype = _INT32 if str(x.dtype) in _WIDENED else x.dtype
    out_dtype = standardize_dtype(dtype, "prod") or out_dtype
    return tensor_of(E.prod(tensor_of(x, "prod", out_dtype), axis=_axis(axis), keepdims=keepdims), "prod", out_dtype)


def mean(x, axis=None, keepdims=False):
    """Arithmetic mean over ``axis``; ints and bools give float32."""
    x = tensor_of(x, "mean")
    x = tensor_of(x, "mean", float_dtype(x))
    return x if _whole(x, axis) else E.mean(x, axis=_axis(axis), keepdims=keepdims)


def var(x, axis=None, keepdims=False):
    """Population variance (divided by n, NumPy's default) over ``axis``; ints give float32."""
    x = tensor_of(x, "var")
    x = tensor_of(x, "var", float_dtype(x))
    return E.var(x, axis=_axis(axis), keepdims=keepdims, ddof=0)


def std(x, axis=None, keepdims=False):
    """Population standard deviation (divided by n) over ``axis``; ints give float32."""
    x = tensor_of(x, "std")
    x = tensor_of(x, "std", float_dtype(x))
    return E.std(x, axis=_axis(axis), keepdims=keepdims, ddof=0)


def _extreme(name, engine_op, combine, x, axis, keepdims, initial):
    x = tensor_of(x, name)
    if x.numel() == 0:
        raise ValueError(f"{name}: cannot reduce an empty tensor of shape {tuple(x.shape)}")
    out = engine_op(x, axis=_axis(axis), keepdims=keepdims)
    return out if initial is None else combine(out, tensor_of(initial, name, out.dtype))


def max(x, axis=None, keepdims=False, initial=None):
    """Largest value over ``axis`` (at least ``initial`` when given); the gradient goes to the maxima."""
    return _extreme("max", E.amax, E.maximum, x, axis, keepdims, initial)


def min(x, axis=None, keepdims=False, initial=None):
    """Smallest value over ``axis`` (at most ``initial`` when given); the gradient goes to the minima."""
    return _extreme("min", E.amin, E.minimum, x, axis, keepdims, initial)


amax, amin = max, min


def _arg(name, engine_op, x, axis, keepdims):
    x = tensor_of(x, name)
    if x.dtype == bool:
        x = tensor_of(x, name, np.dtype("uint8"))
    return tensor_of(engine_op(x, axis=axis, keepdims=keepdims), name, _INT32)


def argmax(x, axis=None, keepdims=False):
    """Index (int32) of the largest value along ``axis`` (of the flattened array when None)."""
    return _arg("argmax", E.argmax, x, axis, keepdims)


def argmin(x, axis=None, keepdims=False):
    """Index (int32) of the smallest value along ``axis`` (of the flattened array when None)."""
    return _arg("argmin", E.argmin, x, axis, keepdims)


def all(x, axis=None, keepdims=False):
    """True where every element over ``axis`` is nonzero."""
    return E.all(tensor_of(x, "all"), _axis(axis), keepdims)


def any(x, axis=None, keepdims=False):
    """True where some element over ``axis`` is nonzero."""
    return E.any(tensor_of(x, "any"), _axis(axis), keepdims)


def _scan(name, engine_op, x, axis, dtype):
    x = tensor_of(x, name)
    if axis is None:
        x, axis = x.reshape(-1), 0
    dtype = standardize_dtype(dtype, name) or (_INT32 if x.dtype == bool else x.dtype)
    return tensor_of(engine_op(tensor_of(x, name, dtype), axis), name, dtype)


def cumsum(x, axis=None, dtype=None):
    """Running sum along ``axis`` (of the flattened array when None)."""
    return _scan("cumsum", E.cumsum, x, axis, dtype)


def cumprod(x, axis=None, dtype=None):
    """Running product along ``axis`` (of the flattened array when None)."""
    return _scan("cumprod", E.cumprod, x, axis, dtype)


def sort(x, axis=-1):
    """Values sorted ascending along ``axis`` (of the flattened array when None); differentiable."""
    x = tensor_of(x, "sort")
    if axis is None:
        x, axis = x.reshape(-1), -1
    return E.sort(x, axis)[0]


def argsort(x, axis=-1):
    """Indices (int32) that sort ``x`` ascending along ``axis`` (stable; flattened when None)."""
    x = tensor_of(x, "argsort")
    if axis is None:
        x, axis = x.reshape(-1), -1
    if x.dtype == bool:
        x = tensor_of(x, "argsort", np.dtype("uint8"))
    return tensor_of(E.argsort(x, axis, stable=True), "argsort", _INT32)
