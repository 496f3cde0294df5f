"""Element-wise ``keras.ops``: arithmetic, unary math, comparisons, logic, ``where`` and ``clip``, each a call of the
engine op on inputs converted and promoted by Keras' dtype rules."""

import numpy as np

from ... import ops as E
from ._convert import float_dtype, result_dtype, tensor_of, tensors_of


def _binary(name, engine_op, float_result=False):
    def op(x1, x2):
        dtype = result_dtype(x1, x2, op=name)
        if float_result and dtype.kind != "f":
            dtype = np.dtype("float32")
        return engine_op(*tensors_of(name, x1, x2, dtype=dtype))

    op.__name__ = name
    op.__doc__ = f"Element-wise ``{name}(x1, x2)`` with broadcasting (Keras' dtype promotion)."
    return op


add = _binary("add", E.add)
subtract = _binary("subtract", E.sub)
multiply = _binary("multiply", E.mul)
divide = _binary("divide", E.div, float_result=True)
true_divide = divide
power = _binary("power", E.pow)
maximum = _binary("maximum", E.maximum)
minimum = _binary("minimum", E.minimum)


def _compare(name, engine_op):
    def op(x1, x2):
        return engine_op(*tensors_of(name, x1, x2))

    op.__name__ = name
    op.__doc__ = f"Element-wise ``{name}(x1, x2)`` as a bool tensor."
    return op


equal = _compare("equal", E.eq)
not_equal = _compare("not_equal", E.ne)
greater = _compare("greater", E.gt)
greater_equal = _compare("greater_equal", E.ge)
less = _compare("less", E.lt)
less_equal = _compare("less_equal", E.le)


def _logical(name, engine_op):
    def op(x1, x2):
        return engine_op(tensor_of(x1, name, np.dtype(bool)), tensor_of(x2, name, np.dtype(bool)))

    op.__name__ = name
    op.__doc__ = f"Element-wise ``{name}`` of the truth values of ``x1`` and ``x2``."
    return op


logical_and = _logical("logical_and", E.logical_and)
logical_or = _logical("logical_or", E.logical_or)
logical_xor = _logical("logical_xor", E.logical_xor)


def logical_not(x):
    """Element-wise ``not x`` as a bool tensor."""
    return E.logical_not(tensor_of(x, "logical_not", np.dtype(bool)))


def _unary(name, engine_op, float_result=True):
    def op(x):
        x = tensor_of(x, name)
        return engine_op(tensor_of(x, name, float_dtype(x)) if float_result else x)

    op.__name__ = name
    op.__doc__ = f"Element-wise ``{name}(x)``" + (" (ints become float32)." if float_result else " (dtype kept).")
    return op


sqrt = _unary("sqrt", E.sqrt)
exp = _unary("exp", E.exp)
log = _unary("log", E.log)
log1p = _unary("log1p", E.log1p)
tanh = _unary("tanh", E.tanh)
sin = _unary("sin", E.sin)
cos = _unary("cos", E.cos)
abs = _unary("abs", E.abs, float_result=False)
absolute = abs
negative = _unary("negative", E.neg, float_result=False)
sign = _unary("sign", E.sign, float_result=False)


def square(x):
    """Element-wise ``x * x`` (bool becomes int32)."""
    x = tensor_of(x, "square")
    if x.dtype == bool:
        x = tensor_of(x, "square", np.dtype("int32"))
    return E.mul(x, x)


expm1 = _unary("expm1", E.expm1)


def _rounding(name, engine_op):
    def op(x):
        x = tensor_of(x, name)
        return engine_op(tensor_of(x, name, float_dtype(x)))

    op.__name__ = name
    op.__doc__ = f"Element-wise ``{name}(x)`` (ints become float32; gradient zero: it is piecewise constant)."
    return op


floor = _rounding("floor", E.floor)
ceil = _rounding("ceil", E.ceil)


def round(x, decimals=0):
    """Round half to even to ``decimals`` places (gradient zero: piecewise constant). Integers keep their dtype, as
    in Keras, and are rounded in float32 (``round(1234, -2) == 1200``)."""
    x = tensor_of(x, "round")
    if x.dtype.kind == "f":
        return E.round(x, decimals=int(decimals))
    return tensor_of(E.round(tensor_of(x, "round", np.dtype("float32")), decimals=int(decimals)), "round", x.dtype)


def isnan(x):
    """Element-wise "is NaN" as a bool tensor."""
    return E.isnan(tensor_of(x, "isnan"))


def isfinite(x):
    """Element-wise "is finite" as a bool tensor."""
    return E.isfinite(tensor_of(x, "isfinite"))


def isinf(x):
    """Element-wise "is infinite" as a bool tensor."""
    return E.isinf(tensor_of(x, "isinf"))


def where(condition, x1=None, x2=None):
    """``x1`` where ``condition`` is true, else ``x2`` (broadcast together; gradients flow to both)."""
    if x1 is None or x2 is None:
        raise ValueError("where: x1 and x2 must both be given (the one-argument form is not supported)")
    condition = tensor_of(condition, "where", np.dtype(bool))
    x1, x2 = tensors_of("where", x1, x2)
    return E.where(condition, x1, x2)


def clip(x, x_min, x_max):
    """``x`` limited to [x_min, x_max] (bool becomes int32)."""
    x = tensor_of(x, "clip")
    if x.dtype == bool:
        x = tensor_of(x, "clip", np.dtype("int32"))
    return E.clamp(x, tensor_of(x_min, "clip", x.dtype), tensor_of(x_max, "clip", x.dtype))
