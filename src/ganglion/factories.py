"""Functions that make tensors: ``tensor``, ``zeros``, ``ones``, ``full``, ``arange``, ``linspace``, ``eye``,
``rand``, ``randn``, ``randint``, the ``*_like`` forms and ``from_numpy``.

Dtype rules (PyTorch's, plus one from the notes): Python floats and NumPy float64 arrays become the default float
(float32) unless a dtype is given; Python ints become int64; bools stay bool. ``from_numpy`` keeps the array's
dtype and shares its memory.
"""

import numpy as np

from . import backend
from .arguments import size_argument
from .tensor import Tensor


def to_array(data, dtype=None, device=None):
    """A fresh backend array holding ``data`` (nested lists, scalars, NumPy/CuPy arrays or Tensors)."""
    dtype = backend.resolve_dtype(dtype)
    if isinstance(data, Tensor):
        array = data.array
    elif isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flatten_items(data)):
        array = np.asarray([_plain(x) for x in data])
    else:
        array = data
    if hasattr(array, "__cuda_array_interface__") and device is None:
        device = backend.device_of(array)
    if not isinstance(array, np.ndarray):
        try:
            array = backend.to_numpy(array)
        except ValueError:  # NumPy's message for ragged lists names no rule; say what is expected
            raise ValueError(
                f"tensor: nested sequences must be rectangular (every row of one dimension the same length), "
                f"got ragged {type(data).__name__} data"
            ) from None
    if array.dtype == object:
        raise TypeError(f"tensor: could not infer a numeric dtype from {type(data).__name__} data (ragged or mixed)")
    if dtype is None:
        kind = array.dtype.kind
        if kind == "f" and array.dtype == np.float64:
            dtype = backend.get_default_dtype()
        elif kind in "iu" and not isinstance(data, (np.ndarray, Tensor)):
            dtype = backend.int64
        elif kind in "US":
            raise TypeError(f"tensor: strings are not numbers (got dtype {array.dtype})")
        elif kind == "c":
            raise TypeError("tensor: complex numbers are not supported")
        else:
            dtype = array.dtype
    array = np.array(array, dtype=dtype, copy=True)
    return backend.to_device(array, device) if device is not None else array


def _flatten_items(data):
    for x in data:
        if isinstance(x, (list, tuple)):
            yield from _flatten_items(x)
        else:
            yield x


def _plain(x):
    if isinstance(x, Tensor):
        return backend.to_numpy(x.array)
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x


def _finish(array, device, requires_grad):
    if device is not None:
        array = backend.to_device(array, device)
    t = Tensor._wrap(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data``."""
    return _finish(to_array(data, dtype), device, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, without copying when it already is one of the right dtype and device."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype)
    return tensor(data, dtype, device)


def from_numpy(array):
    """A tensor sharing memory with the NumPy array ``array`` (same dtype, no copy)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    if array.dtype not in backend.DTYPES.values():
        raise TypeError(f"from_numpy: unsupported dtype {array.dtype}")
    return Tensor._wrap(array)


def _float_dtype(dtype):
    return backend.resolve_dtype(dtype) or backend.get_default_dtype()


def zeros(*args, size=None, dtype=None, device=None, requires_grad=False):
    """Zeros of the given shape (``zeros(2, 3)``, ``zeros((2, 3))`` or ``zeros(size=(2, 3))``)."""
    return _finish(np.zeros(size_argument("zeros", args, size), _float_dtype(dtype)), device, requires_grad)


def ones(*args, size=None, dtype=None, device=None, requires_grad=False):
    """Ones of the given shape (``ones(2, 3)``, ``ones((2, 3))`` or ``ones(size=(2, 3))``)."""
    return _finish(np.ones(size_argument("ones", args, size), _float_dtype(dtype)), device, requires_grad)


def empty(*args, size=None, dtype=None, device=None, requires_grad=False):
    """An uninitialized tensor of the given shape (positional sizes, a tuple, or ``size=``)."""
    return _finish(np.empty(size_argument("empty", args, size), _float_dtype(dtype)), device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor of ``size`` filled with ``fill_value`` (dtype inferred from it: int64, bool or the default float)."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:
        dtype = backend.bool_ if isinstance(fill_value, bool) else (
            backend.int64 if isinstance(fill_value, (int, np.integer)) else backend.get_default_dtype()
        )
    size = size_argument("full", (size,))
    return _finish(np.full(size, fill_value, backend.resolve_dtype(dtype)), device, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Values from ``start`` up to (not including) ``end`` by ``step``; int64 for ints, else the default float."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if dtype is None:
        integral = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = backend.int64 if integral else backend.get_default_dtype()
    return _finish(np.arange(start, end, step).astype(backend.resolve_dtype(dtype)), device, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if steps < 0:
        raise ValueError(f"linspace: number of steps must be non-negative, got {steps}")
    return _finish(np.linspace(start, end, steps).astype(_float_dtype(dtype)), device, requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    """The n x m identity matrix (m defaults to n)."""
    return _finish(np.eye(n, n if m is None else m, dtype=_float_dtype(dtype)), device, requires_grad)


def rand(*args, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples in [0, 1) of the given shape (positional sizes, a tuple, or ``size=``)."""
    shape = size_argument("rand", args, size)
    return _finish(backend.rng(generator).random(shape).astype(_float_dtype(dtype)), device, requires_grad)


def randn(*args, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples N(0, 1) of the given shape (positional sizes, a tuple, or ``size=``)."""
    shape = size_argument("randn", args, size)
    return _finish(backend.rng(generator).standard_normal(shape).astype(_float_dtype(dtype)), device, requires_grad)


def randint(low, high=None, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Integers uniform in [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint: size must be given, e.g. randint(0, 10, (3,))")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    size = size_argument("randint", (size,))
    array = backend.rng(generator).integers(low, high, size)
    return _finish(array.astype(backend.resolve_dtype(dtype) or backend.int64), device, requires_grad)


def randperm(n, generator=None, dtype=None, device=None):
    """A random permutation of 0..n-1."""
    return _finish(backend.rng(generator).permutation(n).astype(backend.resolve_dtype(dtype) or backend.int64), device, False)


def zeros_like(input, dtype=None, device=None, requires_grad=False):
    return zeros(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad=False):
    return ones(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def empty_like(input, dtype=None, device=None, requires_grad=False):
    return empty(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    return full(input.shape, fill_value, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def rand_like(input, generator=None, dtype=None, device=None, requires_grad=False):
    return rand(input.shape, generator=generator, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def randn_like(input, generator=None, dtype=None, device=None, requires_grad=False):
    return randn(input.shape, generator=generator, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad)


def randint_like(input, low, high=None, generator=None, dtype=None, device=None):
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, generator=generator, dtype=dtype or input.dtype,
                   device=device or input.device)
