"""Comparisons and logical operators: they return bool tensors and carry no gradient."""

from .. import backend
from ..arguments import normalize_dims
from ..tensor import Tensor
from .util import as_operand


def _compare(name, ufunc):
    def compare(input, other):
        other = as_operand(other, input)
        b = other.array if isinstance(other, Tensor) else other
        backend.check_same_device(name, [input.array, b])
        try:
            return Tensor._wrap(getattr(backend.get_array_module(input.array), ufunc)(input.array, b))
        except ValueError:
            raise ValueError(
                f"{name}: shapes {tuple(input.shape)} and {tuple(getattr(b, 'shape', ()))} cannot be broadcast together"
            ) from None

    compare.__name__ = name
    compare.__doc__ = f"Element-wise {ufunc} as a bool tensor (no gradient)."
    return compare


# PyTorch's short names for NumPy's comparisons
eq, ne, lt, le, gt, ge = (_compare(name, ufunc) for name, ufunc in (
    ("eq", "equal"), ("ne", "not_equal"), ("lt", "less"), ("le", "less_equal"), ("gt", "greater"),
    ("ge", "greater_equal")))
# the logical and bitwise operators have the same names in both libraries
logical_and, logical_or, logical_xor, bitwise_and, bitwise_or, bitwise_xor = (_compare(name, name) for name in (
    "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor"))


def logical_not(input):
    return Tensor._wrap(backend.get_array_module(input.array).logical_not(input.array))


def bitwise_not(input):
    xp = backend.get_array_module(input.array)
    return Tensor._wrap(xp.logical_not(input.array) if input.dtype.kind == "b" else xp.invert(input.array))


def equal(input, other):
    """True when both tensors have the same shape and values."""
    return input.shape == other.shape and bool((input.array == other.array).all())


def allclose(input, other, rtol=1e-5, atol=1e-8, equal_nan=False):
    return bool(backend.get_array_module(input.array).allclose(input.array, other.array, rtol, atol, equal_nan))


def isnan(input):
    return Tensor._wrap(backend.get_array_module(input.array).isnan(input.array))


def isfinite(input):
    return Tensor._wrap(backend.get_array_module(input.array).isfinite(input.array))


def isinf(input):
    return Tensor._wrap(backend.get_array_module(input.array).isinf(input.array))


def _truth_reduction(op, input, dim, keepdim):
    """all/any over ``dim`` (None: every element; an int or a tuple of ints). Bool results; uint8 stays uint8, as
    PyTorch keeps it."""
    a = input.array
    xp = backend.get_array_module(a)
    axes = normalize_dims(dim, a.ndim, op)
    result = getattr(xp, op)(a, axis=axes, keepdims=bool(keepdim))
    return Tensor._wrap(xp.asarray(result, dtype="uint8" if a.dtype == "uint8" else bool))


def all(input, dim=None, keepdim=False):
    """True where every element over ``dim`` is nonzero (all elements when ``dim`` is None)."""
    return _truth_reduction("all", input, dim, keepdim)


def any(input, dim=None, keepdim=False):
    """True where some element over ``dim`` is nonzero (all elements when ``dim`` is None)."""
    return _truth_reduction("any", input, dim, keepdim)
