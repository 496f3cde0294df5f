"""Normalization -> ONNX. The engine's one ``Normalize`` op serves batch, instance, layer and group norm; which it
was follows from its arguments:

- given statistics (batch norm in eval mode, per channel): BatchNormalization with the running mean and variance;
- batch statistics over the trailing axes (layer norm): LayerNormalization;
- any other grouping (group norm, instance norm): the formula itself, y = (x - mean) / sqrt(var + eps) w + b, with
  ReduceMean over the grouped view of x.
"""

import numpy as np

from ...tensor import Tensor


def _affine(g, arg, affine_shape, dtype, fill, suffix):
    """Scale or shift ``arg`` (a parameter, or None: ``fill``) as a constant of ``affine_shape``."""
    values = np.full(affine_shape, fill, dtype=dtype) if arg is None else g.array_of(arg).reshape(affine_shape)
    return g.const(values.astype(dtype), g.name_of(arg, suffix) if arg is not None else f"norm_{suffix}")


def _per_channel(affine_shape, ndim):
    return ndim >= 2 and len(affine_shape) == ndim and all(n == 1 for i, n in enumerate(affine_shape) if i != 1)


def normalize(g, node, x, weight, bias, eps, stats_view, axes, affine_shape, running=None, stats=None):
    """Arguments as ``Normalize.apply`` records them (keyword arguments sorted by name after the positional ones)."""
    if running is not None:
        raise g.unsupported("a normalization that updates running statistics (a layer in training mode)")
    eps, channels = float(eps), affine_shape[1] if len(affine_shape) > 1 else None
    if stats is not None:
        if not _per_channel(affine_shape, x.ndim):
            raise g.unsupported(f"given statistics with scale shape {tuple(affine_shape)}")
        mean, var = (g.value(s) for s in stats)
        scale = g.value(weight) if weight is not None else g.const(np.ones(channels, x.dtype), "norm_scale")
        shift = g.value(bias) if bias is not None else g.const(np.zeros(channels, x.dtype), "norm_bias")
        return g.add("BatchNormalization", [g.value(x), scale, shift, mean, var], epsilon=eps)
    ndim = x.ndim
    trailing = tuple(range(ndim - len(axes), ndim)) if axes else ()
    if tuple(stats_view) == tuple(x.shape) and tuple(axes) == trailing and all(
            n == 1 for n in affine_shape[:trailing[0]]):
        norm_shape = tuple(x.shape[trailing[0]:])
        inputs = [g.value(x), _weight_of(g, weight, norm_shape, x.dtype, 1.0, "scale")]
        if bias is not None:
            inputs.append(_weight_of(g, bias, norm_shape, x.dtype, 0.0, "bias"))
        return g.add("LayerNormalization", inputs, axis=trailing[0], epsilon=eps)
    return _formula(g, x, weight, bias, eps, stats_view, axes, affine_shape)


def _weight_of(g, arg, shape, dtype, fill, suffix):
    if arg is not None and tuple(arg.shape) == shape and isinstance(arg, Tensor):
        return g.value(arg)
    return _affine(g, arg, shape, dtype, fill, suffix)


def _formula(g, x, weight, bias, eps, stats_view, axes, affine_shape):
    """Group and instance norm: x viewed as ``stats_view`` (its dynamic dims copied with 0), statistics over
    ``axes``."""
    dynamic = g.shape(x)
    view = [0 if i < x.ndim and dynamic[i] is None and n == x.shape[i] else n for i, n in enumerate(stats_view)]
    v = g.value(x)
    grouped = g.add("Reshape", [v, g.ints(view, "stats_view")])
    centered = g.add("Sub", [grouped, g.reduce("ReduceMean", grouped, list(axes))])
    var = g.reduce("ReduceMean", g.add("Mul", [centered, centered]), list(axes))
    std = g.add("Sqrt", [g.add("Add", [var, g.const(np.asarray(eps, dtype=x.dtype), "eps")])])
    y = g.add("Reshape", [g.add("Div", [centered, std]), g.add("Shape", [v])])
    if weight is not None:
        y = g.add("Mul", [y, _affine(g, weight, affine_shape, x.dtype, 1.0, "scale")])
    if bias is not None:
        y = g.add("Add", [y, _affine(g, bias, affine_shape, x.dtype, 0.0, "bias")])
    return y


def local_response_norm(g, node, x, size, alpha, beta, k):
    return g.add("LRN", [g.value(x)], size=int(size), alpha=float(alpha), beta=float(beta), bias=float(k))


MAPPINGS = {"Normalize": normalize, "LocalResponseNorm": local_response_norm}
