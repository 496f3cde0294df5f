"""Differentiable operations on Tensors, grouped by kind. ``bind_tensor_methods`` attaches them to ``Tensor``."""

from ..autograd.function import Function
from . import arithmetic, comparison, graph_math, indexing, linalg, rearrange, reduction, scan, shape, sorting, unary
from .arithmetic import add, div, maximum, minimum, mul, neg, pow, sub, where
from .comparison import (
    all, allclose, any, eq, equal, ge, gt, isfinite, isinf, isnan, le, logical_and, logical_not, logical_or, logical_xor, lt, ne,
)
from .einsum import einsum
from .indexing import gather, getitem, index_select, masked_fill, scatter_add
from .linalg import bmm, dot, matmul, mm, norm
from .rearrange import flip, narrow, repeat_interleave, roll, t, tril, triu
from .scan import cumprod, cumsum
from .sorting import argsort, sort, topk, unique
from .reduction import (
    amax, amin, argmax, argmin, log_softmax, logsumexp, max, mean, min, prod, softmax, std, sum, var,
)
from .shape import (
    broadcast_to, cat, chunk, clone, concat, concatenate, expand, flatten, pad, permute, repeat, reshape, split,
    squeeze, stack, swapaxes, tile, transpose, unsqueeze, view,
)
from .unary import (
    abs, ceil, clamp, clip, cos, exp, expm1, fix, floor, frac, log, log1p, relu, relu_, round, sigmoid, sign, sin, sqrt,
    tanh, trunc,
)


Function.graph_xp = graph_math  # what a ``backward_composes`` op's backward calls under create_graph=True


def bind_tensor_methods(Tensor):
    """Give ``Tensor`` its operators and methods; each is the same function as the module-level op."""
    A, C = arithmetic, comparison
    methods = {
        "__add__": add, "__radd__": A.radd, "__sub__": sub, "__rsub__": A.rsub, "__mul__": mul, "__rmul__": A.rmul,
        "__truediv__": div, "__rtruediv__": A.rdiv, "__pow__": pow, "__rpow__": A.rpow, "__neg__": neg,
        "__matmul__": matmul, "__rmatmul__": linalg.rmatmul, "__getitem__": getitem,
        "__eq__": eq, "__ne__": ne, "__lt__": lt, "__le__": le, "__gt__": gt, "__ge__": ge,
        "__and__": C.bitwise_and, "__or__": C.bitwise_or, "__xor__": C.bitwise_xor, "__invert__": C.bitwise_not,
        "__abs__": abs,
        "add": add, "sub": sub, "mul": mul, "div": div, "pow": pow, "neg": neg, "maximum": maximum,
        "minimum": minimum, "matmul": matmul, "mm": mm, "bmm": bmm, "dot": dot,
        "exp": exp, "log": log, "log1p": log1p, "sqrt": sqrt, "abs": abs, "sin": sin, "cos": cos, "tanh": tanh,
        "sigmoid": sigmoid, "sign": sign, "clamp": clamp, "clip": clip, "expm1": expm1, "floor": floor, "ceil": ceil,
        "round": round, "trunc": trunc, "fix": fix, "frac": frac,
        "sum": sum, "mean": mean, "max": max, "min": min, "amax": amax, "amin": amin, "var": var, "std": std,
        "prod": prod, "logsumexp": logsumexp, "argmax": argmax, "argmin": argmin,
        "reshape": reshape, "view": view, "flatten": flatten, "squeeze": squeeze, "unsqueeze": unsqueeze,
        "transpose": transpose, "swapaxes": swapaxes, "permute": permute, "expand": expand,
        "broadcast_to": broadcast_to, "expand_as": shape.expand_as, "repeat": repeat, "tile": tile,
        "split": split, "chunk": chunk, "clone": clone,
        "gather": gather, "scatter_add": scatter_add, "index_select": index_select,
        "eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge, "equal": equal, "allclose": allclose,
        "isnan": isnan, "isfinite": isfinite, "isinf": isinf, "logical_not": logical_not,
        "logical_and": logical_and, "logical_or": logical_or,
        "all": all, "any": any, "masked_fill": masked_fill, "masked_fill_": indexing.masked_fill_, "norm": norm,
        "narrow": narrow, "t": t, "flip": rearrange.flip_method, "roll": roll, "tril": tril, "triu": triu,
        "repeat_interleave": repeat_interleave, "cumsum": cumsum, "cumprod": cumprod,
        "sort": sort, "argsort": argsort, "topk": topk, "unique": unique,
        "_cast": shape.cast, "_to_device": shape.to_device,  # what Tensor.type() and Tensor.to() run
    }
    for name, fn in methods.items():
        setattr(Tensor, name, fn)
    Tensor.view_as = lambda self, other: reshape(self, other.shape)
    Tensor.reshape_as = Tensor.view_as
    Tensor.relu = relu
    Tensor.relu_ = relu_
    Tensor._recorded_in_place = {"__iadd__": arithmetic.Add, "__isub__": arithmetic.Sub}
    Tensor.softmax = softmax
    Tensor.log_softmax = log_softmax
