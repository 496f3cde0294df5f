"""``keras.ops``: the numeric functions Keras 3 code calls, over ganglion's engine. Every function accepts Tensors,
Keras variables, NumPy arrays and Python numbers, follows Keras' argument names and result dtypes, and returns a
ganglion Tensor (differentiable wherever the engine op is).

Split as Keras splits them: NumPy-style (``numpy_*``), ``nn``, ``core`` and ``math``; everything is also here at the
top level, as in ``keras.ops``."""

from . import core, math, nn
from .core import (
    cast, cond, convert_to_numpy, convert_to_tensor, dtype, fori_loop, is_tensor, scatter, shape, slice,
    stop_gradient, unstack, while_loop,
)
from .math import logsumexp, rsqrt, top_k
from .nn import (
    binary_crossentropy, categorical_crossentropy, elu, gelu, leaky_relu, log_sigmoid, log_softmax, moments,
    normalize, one_hot, relu, relu6, selu, sigmoid, silu, softmax, softplus, softsign, sparse_categorical_crossentropy,
    swish,
)
from .numpy_create import arange, eye, full, full_like, identity, linspace, ones, ones_like, zeros, zeros_like
from .numpy_elementwise import (
    abs, absolute, add, ceil, clip, cos, divide, equal, exp, expm1, floor, greater, greater_equal, isfinite, isinf,
    isnan, less, less_equal, log, log1p, logical_and, logical_not, logical_or, logical_xor, maximum, minimum,
    multiply, negative, not_equal, power, round, sign, sin, sqrt, square, subtract, tanh, true_divide, where,
)
from .numpy_reduction import (
    all, amax, amin, any, argmax, argmin, argsort, cumprod, cumsum, max, mean, min, prod, sort, std, sum, var,
)
from .numpy_shape import (
    concatenate, dot, einsum, expand_dims, matmul, repeat, reshape, squeeze, stack, take, take_along_axis, tile,
    transpose, tril, triu,
)
