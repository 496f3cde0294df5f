"""Turning what Keras code passes (Tensors, Keras variables, NumPy arrays, Python numbers and lists) into engine
Tensors, and Keras 3's dtype rules for results.

Keras promotes dtypes on JAX's lattice: Python numbers are *weak* (``int32_tensor + 1.5`` is float32, ``x_f16 + 1.5``
stays float16); bool < int < float; an int meeting a float takes the float's dtype. Python ints become int32 and
Python floats float32 when nothing else decides.
"""

import numpy as np

from ... import backend
from ...factories import from_numpy
from ...tensor import Tensor
from ..variables import DtypeName

_WEAK = (bool, int, float, np.bool_)
_KINDS = {"b": 0, "u": 1, "i": 1, "f": 2}


def _unwrap(x):
    """A Keras variable becomes its value Tensor; everything else as it is."""
    if not isinstance(x, Tensor) and hasattr(x, "value") and hasattr(x, "assign"):
        return x.value
    return x


def _python_dtype(x):
    if isinstance(x, (bool, np.bool_)):
        return np.dtype("bool")
    return np.dtype("int32") if isinstance(x, int) else np.dtype("float32")


def _plain_array(x, op):
    """``x`` (array-like, not a Tensor) as a NumPy array with Keras' default dtypes for Python data."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{op}: expected a tensor, array or number, got {type(x).__name__} {x!r}")
    if isinstance(x, _WEAK):
        return np.asarray(x, dtype=_python_dtype(x))
    array = np.asarray([_as_numpy(v) for v in x] if isinstance(x, (list, tuple)) else x)
    if array.dtype.kind not in _KINDS:
        raise TypeError(f"{op}: expected numeric data, got {type(x).__name__} of dtype {array.dtype}")
    if isinstance(x, (list, tuple)):  # Python lists follow the Python-number rule
        array = array.astype({"b": "bool", "f": "float32"}.get(array.dtype.kind, "int32")) if not any(
            isinstance(v, (Tensor, np.ndarray)) for v in x) else array
    return array


def _as_numpy(x):
    x = _unwrap(x)
    return backend.to_numpy(x.array) if isinstance(x, Tensor) else x


def tensor_of(x, op, dtype=None):
    """``x`` as a Tensor (the same Tensor when it is one, so gradients flow), cast to ``dtype`` when given."""
    x = _unwrap(x)
    if not isinstance(x, Tensor):
        array = _plain_array(x, op)
        if array.dtype not in backend.DTYPES.values():
            array = array.astype("int64" if array.dtype.kind in "iu" else "float32")
        x = from_numpy(np.array(array, order="C"))
    return x if dtype is None or x.dtype == dtype else x.to(dtype=dtype)


def standardize_dtype(dtype, op):
    """A Keras dtype argument (name, NumPy dtype, Python type) as a NumPy dtype; None stays None."""
    if dtype is None:
        return None
    if dtype in (int, "int"):
        return np.dtype("int32")
    if dtype in (float, "float"):
        return np.dtype("float32")
    try:
        return backend.resolve_dtype(str(dtype) if isinstance(dtype, DtypeName) else dtype)
    except TypeError:
        raise TypeError(f"{op}: unknown dtype {dtype!r}; accepted: {', '.join(sorted(backend.DTYPES))}") from None


def _promote(a, b):
    """Two strong dtypes on Keras' lattice."""
    ka, kb = _KINDS[a.kind], _KINDS[b.kind]
    if ka != kb:
        return a if ka > kb else b
    return np.promote_types(a, b)


def result_dtype(*values, op="result_dtype"):
    """The dtype Keras gives an op combining ``values``; Python numbers only raise the kind (weak typing)."""
    strong, weak_kind = None, 0
    for v in values:
        v = _unwrap(v)
        if isinstance(v, _WEAK):
            weak_kind = max(weak_kind, _KINDS[_python_dtype(v).kind])
            continue
        dtype = v.dtype if hasattr(v, "dtype") else _plain_array(v, op).dtype
        dtype = np.dtype(str(dtype)) if isinstance(dtype, DtypeName) else np.dtype(dtype)
        strong = dtype if strong is None else _promote(strong, dtype)
    if strong is None:
        return np.dtype(["bool", "int32", "float32"][weak_kind])
    if weak_kind > _KINDS[strong.kind]:
        return np.dtype(["bool", "int32", "float32"][weak_kind])
    return strong


def float_dtype(x):
    """Keras' dtype for float-valued results (mean, sqrt, divide): a float input keeps its dtype, others become
    float32."""
    return x.dtype if x.dtype.kind == "f" else np.dtype("float32")


def tensors_of(op, *values, dtype=None):
    """All ``values`` as Tensors of one dtype: ``dtype`` or Keras' promoted one."""
    dtype = dtype or result_dtype(*values, op=op)
    return [tensor_of(v, op, dtype) for v in values]


def named(op, name, doc):
    """``op`` made by one of the ops' factories, given the op's public name and docstring."""
    op.__name__, op.__qualname__, op.__doc__ = name, name, doc
    return op


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """``x`` as a ganglion Tensor (a Tensor passes through; Python ints become int32, floats float32)."""
    return tensor_of(x, "convert_to_tensor", standardize_dtype(dtype, "convert_to_tensor"))


def convert_to_numpy(x):
    """``x`` as a NumPy array (a copy for Tensors)."""
    x = _unwrap(x)
    if isinstance(x, Tensor):
        return np.array(backend.to_numpy(x.detach().array))
    return np.asarray(x)


def cast(x, dtype):
    """``x`` converted to ``dtype`` (differentiable between float dtypes)."""
    return tensor_of(x, "cast", standardize_dtype(dtype, "cast"))


def shape(x):
    """The shape of ``x`` as a tuple of ints."""
    x = _unwrap(x)
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def is_tensor(x):
    """True for a ganglion Tensor (what this backend's ops return)."""
    return isinstance(x, Tensor)
