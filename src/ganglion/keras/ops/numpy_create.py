"""``keras.ops`` that make tensors: zeros, ones, full, their ``*_like`` forms, arange, linspace, eye, identity.
Dtypes follow Keras: float32 by default, int32 for Python ints, the input's dtype for ``*_like``."""

import numpy as np

from ... import factories
from ._convert import result_dtype, standardize_dtype, tensor_of

_F32 = np.dtype("float32")


def _shape(name, shape):
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if any(not isinstance(s, (int, np.integer)) or s < 0 for s in shape):
        raise ValueError(f"{name}: shape must be non-negative ints, got {shape}")
    return tuple(int(s) for s in shape)


def zeros(shape, dtype=None):
    """A tensor of ``shape`` filled with 0 (float32 unless ``dtype``)."""
    return factories.zeros(_shape("zeros", shape), dtype=standardize_dtype(dtype, "zeros") or _F32)


def ones(shape, dtype=None):
    """A tensor of ``shape`` filled with 1 (float32 unless ``dtype``)."""
    return factories.ones(_shape("ones", shape), dtype=standardize_dtype(dtype, "ones") or _F32)


def full(shape, fill_value, dtype=None):
    """A tensor of ``shape`` filled with ``fill_value`` (float32 unless ``dtype``)."""
    fill = tensor_of(fill_value, "full", standardize_dtype(dtype, "full") or _F32)
    return factories.full(_shape("full", shape), fill.item(), dtype=fill.dtype) if fill.ndim == 0 else (
        fill + factories.zeros(_shape("full", shape), dtype=fill.dtype))


def zeros_like(x, dtype=None):
    """Zeros with the shape of ``x`` (and its dtype unless ``dtype``)."""
    x = tensor_of(x, "zeros_like")
    return factories.zeros(x.shape, dtype=standardize_dtype(dtype, "zeros_like") or x.dtype)


def ones_like(x, dtype=None):
    """Ones with the shape of ``x`` (and its dtype unless ``dtype``)."""
    x = tensor_of(x, "ones_like")
    return factories.ones(x.shape, dtype=standardize_dtype(dtype, "ones_like") or x.dtype)


def full_like(x, fill_value, dtype=None):
    """``fill_value`` in the shape of ``x`` (and its dtype unless ``dtype``)."""
    x = tensor_of(x, "full_like")
    return full(x.shape, fill_value, dtype=standardize_dtype(dtype, "full_like") or x.dtype)


def arange(start, stop=None, step=1, dtype=None):
    """Evenly spaced values in [start, stop) (int32 for int arguments, float32 otherwise)."""
    if stop is None:
        start, stop = 0, start
    dtype = standardize_dtype(dtype, "arange") or result_dtype(start, stop, step)
    return factories.arange(start, stop, step, dtype=dtype)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced values from ``start`` to ``stop`` (float32 unless ``dtype``); scalar ends only."""
    if not all(isinstance(v, (int, float, np.number)) for v in (start, stop)):
        raise TypeError(f"linspace: start and stop must be numbers, got {type(start).__name__} and {type(stop).__name__}")
    dtype = standardize_dtype(dtype, "linspace") or _F32
    values = np.linspace(start, stop, int(num), endpoint=endpoint, retstep=retstep)
    if retstep:
        return tensor_of(values[0], "linspace", dtype), values[1]
    return tensor_of(values, "linspace", dtype)


def eye(N, M=None, k=0, dtype=None):
    """An N x M matrix with ones on the k-th diagonal (float32 unless ``dtype``)."""
    return tensor_of(np.eye(N, M, k), "eye", standardize_dtype(dtype, "eye") or _F32)


def identity(n, dtype=None):
    """The n x n identity matrix (float32 unless ``dtype``)."""
    return eye(n, dtype=dtype)
