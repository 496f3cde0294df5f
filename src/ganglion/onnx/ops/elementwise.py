"""Element-wise ops and activations -> ONNX: arithmetic, unary math, every activation of ``nn.functional``, softmax,
and the reductions (sum, mean, max). Each mapping is ``(g, node, *args) -> output name``."""

import math

import numpy as np
from onnx import TensorProto, helper

from ...tensor import Tensor


def _dtype(*args):
    """The dtype of the first tensor among ``args`` (scalars become constants of it)."""
    for a in args:
        if isinstance(a, Tensor):
            return a.dtype
    return np.float32


def _binary(op_type):
    def mapping(g, node, a, b):
        dtype = _dtype(a, b)
        return g.add(op_type, [g.value(a, dtype), g.value(b, dtype)])

    return mapping


def _unary(op_type, **attributes):
    def mapping(g, node, x):
        return g.add(op_type, [g.value(x)], **attributes)

    return mapping


def _scalar(g, value, x):
    return g.const(np.asarray(value, dtype=x.dtype))


def expm1(g, node, x):
    return g.add("Sub", [g.add("Exp", [g.value(x)]), _scalar(g, 1.0, x)])


def log1p(g, node, x):
    return g.add("Log", [g.add("Add", [g.value(x), _scalar(g, 1.0, x)])])


def clamp(g, node, x, lo=None, hi=None):
    bounds = [None if v is None else g.value(v, x.dtype) for v in (lo, hi)]
    return g.add("Clip", [g.value(x)] + bounds)


def where(g, node, condition, a, b):
    dtype = _dtype(a, b)
    cond = g.value(condition)
    if getattr(condition, "dtype", np.dtype(bool)).kind != "b":
        cond = g.add("Cast", [cond], to=TensorProto.BOOL)
    return g.add("Where", [cond, g.value(a, dtype), g.value(b, dtype)])


def softmax(op_type):
    def mapping(g, node, x, dim):
        return g.add(op_type, [g.value(x)], axis=int(dim))

    return mapping


def leaky_relu(g, node, x, slope):
    return g.add("LeakyRelu", [g.value(x)], alpha=float(slope))


def prelu(g, node, x, w):
    slopes = g.array_of(w).astype(x.dtype)
    if slopes.size > 1:
        slopes = slopes.reshape((-1,) + (1,) * (x.ndim - 2))
    return g.add("PRelu", [g.value(x), g.const(slopes, g.name_of(w, "slopes"))])


def elu(g, node, x, alpha, scale, input_scale):
    """ELU (scale 1, input_scale 1), SELU (scale, alpha the SELU constants), CELU (input_scale 1 / alpha)."""
    if scale == 1.0 and input_scale == 1.0:
        return g.add("Elu", [g.value(x)], alpha=float(alpha))
    if input_scale == 1.0:
        return g.add("Selu", [g.value(x)], alpha=float(alpha), gamma=float(scale))
    if scale == 1.0 and math.isclose(input_scale * alpha, 1.0):
        return g.add("Celu", [g.value(x)], alpha=float(alpha))
    raise g.unsupported(f"an ELU with alpha={alpha}, scale={scale}, input_scale={input_scale}")


def hardtanh(g, node, x, lo, hi):
    return g.add("Clip", [g.value(x), _scalar(g, lo, x), _scalar(g, hi, x)])


def threshold(g, node, x, limit, value):
    above = g.add("Greater", [g.value(x), _scalar(g, limit, x)])
    return g.add("Where", [above, g.value(x), _scalar(g, value, x)])


def shrink(g, node, x, lambd, soft):
    return g.add("Shrink", [g.value(x)], lambd=float(lambd), bias=float(lambd) if soft else 0.0)


def softplus(g, node, x, beta, limit):
    """log(1 + e^{beta x}) / beta; past ``limit`` both sides equal x to float precision, so the cut-off is kept
    as a Where for exactness."""
    v = g.value(x)
    scaled = v if beta == 1.0 else g.add("Mul", [v, _scalar(g, beta, x)])
    y = g.add("Softplus", [scaled])
    if beta != 1.0:
        y = g.add("Div", [y, _scalar(g, beta, x)])
    linear = g.add("Greater", [scaled, _scalar(g, limit, x)])
    return g.add("Where", [linear, v, y])


def logsigmoid(g, node, x):
    return g.add("Neg", [g.add("Softplus", [g.add("Neg", [g.value(x)])])])


def silu(g, node, x):
    v = g.value(x)
    return g.add("Mul", [v, g.add("Sigmoid", [v])])


def mish(g, node, x):
    v = g.value(x)
    return g.add("Mul", [v, g.add("Tanh", [g.add("Softplus", [v])])])


def gelu(g, node, x, approximate):
    """x Phi(x) = x (1 + erf(x / sqrt 2)) / 2, or its tanh form (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2."""
    v = g.value(x)
    if approximate == "tanh":
        cube = g.add("Mul", [g.add("Mul", [v, v]), v])
        inner = g.add("Add", [v, g.add("Mul", [cube, _scalar(g, 0.044715, x)])])
        core = g.add("Tanh", [g.add("Mul", [inner, _scalar(g, math.sqrt(2.0 / math.pi), x)])])
    else:
        core = g.add("Erf", [g.add("Mul", [v, _scalar(g, 1.0 / math.sqrt(2.0), x)])])
    half = g.add("Mul", [v, _scalar(g, 0.5, x)])
    return g.add("Mul", [half, g.add("Add", [core, _scalar(g, 1.0, x)])])


def tanhshrink(g, node, x):
    v = g.value(x)
    return g.add("Sub", [v, g.add("Tanh", [v])])


def glu(g, node, x, dim):
    half = x.shape[dim] // 2
    a, b = g.add("Split", [g.value(x), g.ints([half, half], "split")], outputs=2, axis=int(dim))
    return g.add("Mul", [a, g.add("Sigmoid", [b])])


def _axes(axes, ndim):
    return None if axes is None else [int(a) % max(ndim, 1) for a in (axes if isinstance(axes, (tuple, list))
                                                                       else (axes,))]


def _reduction(op_type):
    def mapping(g, node, x, axes, keepdim):
        return g.reduce(op_type, g.value(x), _axes(axes, x.ndim), keepdim)

    return mapping


def extreme(g, node, x, axes, keepdim, largest):
    return g.reduce("ReduceMax" if largest else "ReduceMin", g.value(x), _axes(axes, x.ndim), keepdim)


def cast(g, node, x, dtype):
    return g.add("Cast", [g.value(x)], to=helper.np_dtype_to_tensor_dtype(np.dtype(dtype)))


def identity(g, node, x, *_):
    return g.add("Identity", [g.value(x)])


MAPPINGS = {
    "Add": _binary("Add"), "Sub": _binary("Sub"), "Mul": _binary("Mul"), "Div": _binary("Div"),
    "Pow": _binary("Pow"), "Maximum": _binary("Max"), "Minimum": _binary("Min"), "Where": where,
    "Neg": _unary("Neg"), "Exp": _unary("Exp"), "Log": _unary("Log"), "Sqrt": _unary("Sqrt"), "Abs": _unary("Abs"),
    "Sin": _unary("Sin"), "Cos": _unary("Cos"), "Sign": _unary("Sign"), "Floor": _unary("Floor"),
    "Ceil": _unary("Ceil"), "Expm1": expm1, "Log1p": log1p, "Clamp": clamp,
    "Tanh": _unary("Tanh"), "Sigmoid": _unary("Sigmoid"), "ReLU": _unary("Relu"),
    "Softmax": softmax("Softmax"), "LogSoftmax": softmax("LogSoftmax"),
    "LeakyReLU": leaky_relu, "PReLU": prelu, "ELU": elu, "Hardtanh": hardtanh,
    "Hardsigmoid": _unary("HardSigmoid", alpha=1.0 / 6.0, beta=0.5), "Hardswish": _unary("HardSwish"),
    "Threshold": threshold, "Shrink": shrink, "Softplus": softplus, "LogSigmoid": logsigmoid, "SiLU": silu,
    "Mish": mish, "GELU": gelu, "Softsign": _unary("Softsign"), "Tanhshrink": tanhshrink, "GLU": glu,
    "Sum": _reduction("ReduceSum"), "Mean": _reduction("ReduceMean"), "Extreme": extreme,
    "Cast": cast, "Clone": identity, "ToDevice": identity,
}
