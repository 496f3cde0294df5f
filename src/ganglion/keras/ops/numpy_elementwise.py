"""Element-wise ``keras.ops``: arithmetic, unary math, comparisons, logic, ``where`` and ``clip``, each a call of the
engine op on inputs converted and promoted by Keras' dtype rules."""

import numpy as np

from ... import ops as E
from ._convert import float_dtype, named, result_dtype, tensor_of, tensors_of


# How an op's tensor inputs are converted (each takes the op's name, then the inputs; returns the tensors), and the
# docstring its ops get.
def _promoted(name, x1, x2):
    return tensors_of(name, x1, x2, dtype=result_dtype(x1, x2, op=name))


def _promoted_float(name, x1, x2):
    dtype = result_dtype(x1, x2, op=name)
    return tensors_of(name, x1, x2, dtype=dtype if dtype.kind == "f" else np.dtype("float32"))


def _truth_values(name, *xs):
    return [tensor_of(x, name, np.dtype(bool)) for x in xs]


def _as_float(name, x):
    x = tensor_of(x, name)
    return [tensor_of(x, name, float_dtype(x))]


def _kept(name, x):
    return [tensor_of(x, name)]


RULES = {
    "promote": (_promoted, 2, "Element-wise ``{name}(x1, x2)`` with broadcasting (Keras' dtype promotion)."),
    "promote_float": (_promoted_float, 2, "Element-wise ``{name}(x1, x2)`` with broadcasting (ints give float32)."),
    "compare": (tensors_of, 2, "Element-wise ``{name}(x1, x2)`` as a bool tensor."),
    "logical": (_truth_values, 2, "Element-wise ``{name}`` of the truth values of ``x1`` and ``x2``."),
    "float": (_as_float, 1, "Element-wise ``{name}(x)`` (ints become float32)."),
    "kept": (_kept, 1, "Element-wise ``{name}(x)`` (dtype kept)."),
}


def elementwise(name, engine_op, rule, doc=None):
    """keras.ops' ``name``: ``engine_op`` on its leading tensor inputs converted by ``RULES[rule]``; any further
    arguments go to ``engine_op`` as they are."""
    convert, count, rule_doc = RULES[rule]

    def op(*args, **kwargs):
        return engine_op(*convert(name, *args[:count]), *args[count:], **kwargs)

    return named(op, name, doc or rule_doc.format(name=name))


add = elementwise("add", E.add, "promote")
subtract = elementwise("subtract", E.sub, "promote")
multiply = elementwise("multiply", E.mul, "promote")
divide = elementwise("divide", E.div, "promote_float")
true_divide = divide
power = elementwise("power", E.pow, "promote")
maximum = elementwise("maximum", E.maximum, "promote")
minimum = elementwise("minimum", E.minimum, "promote")

equal = elementwise("equal", E.eq, "compare")
not_equal = elementwise("not_equal", E.ne, "compare")
greater = elementwise("greater", E.gt, "compare")
greater_equal = elementwise("greater_equal", E.ge, "compare")
less = elementwise("less", E.lt, "compare")
less_equal = elementwise("less_equal", E.le, "compare")

logical_and = elementwise("logical_and", E.logical_and, "logical")
logical_or = elementwise("logical_or", E.logical_or, "logical")
logical_xor = elementwise("logical_xor", E.logical_xor, "logical")


def logical_not(x):
    """Element-wise ``not x`` as a bool tensor."""
    return E.logical_not(tensor_of(x, "logical_not", np.dtype(bool)))


sqrt = elementwise("sqrt", E.sqrt, "float")
exp = elementwise("exp", E.exp, "float")
log = elementwise("log", E.log, "float")
log1p = elementwise("log1p", E.log1p, "float")
tanh = elementwise("tanh", E.tanh, "float")
sin = elementwise("sin", E.sin, "float")
cos = elementwise("cos", E.cos, "float")
abs = elementwise("abs", E.abs, "kept")
absolute = abs
negative = elementwise("negative", E.neg, "kept")
sign = elementwise("sign", E.sign, "kept")


def square(x):
    """Element-wise ``x * x`` (bool becomes int32)."""
    x = tensor_of(x, "square")
    if x.dtype == bool:
        x = tensor_of(x, "square", np.dtype("int32"))
    return E.mul(x, x)


expm1 = elementwise("expm1", E.expm1, "float")


_PIECEWISE_CONSTANT = "Element-wise ``{}(x)`` (ints become float32; gradient zero: it is piecewise constant)."
floor = elementwise("floor", E.floor, "float", _PIECEWISE_CONSTANT.format("floor"))
ceil = elementwise("ceil", E.ceil, "float", _PIECEWISE_CONSTANT.format("ceil"))


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
