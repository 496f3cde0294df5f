"""What the Keras layer adapters share: argument normalization with Keras' names, TensorFlow's 'same' padding
arithmetic, channels-last <-> channels-first at the door, weight layouts (Keras <-> engine) for initializers,
``keras_weights`` and constraints, and the input checks whose errors name the layer. The per-weight arguments
(initializers, regularizers, constraints) live in ``weight_options.py``.

TensorFlow's 'same' padding (what Keras means by it, for any stride): out = ceil(in / stride), and the
total padding max((out - 1) stride + dilation (k - 1) + 1 - in, 0) is split with the odd element at the end.
"""

import math

import numpy as np

from ...nn.functional.window import ntuple
from ...tensor import Tensor

DATA_FORMATS = ("channels_last", "channels_first")


# ------------------------------------------------------------------------------------------------ arguments
def data_format_arg(value, layer):
    """Keras' ``data_format``: None means channels_last (Keras' default image layout)."""
    if value is None:
        return "channels_last"
    if not isinstance(value, str) or value.lower() not in DATA_FORMATS:
        raise ValueError(f"{layer}: data_format must be one of {', '.join(DATA_FORMATS)} (or None), got {value!r}")
    return value.lower()


def tuple_arg(value, n, arg, layer, minimum=1):
    """An int or a sequence of ``n`` ints (lists from a saved config too) as a tuple of ``n`` ints."""
    if isinstance(value, list):
        value = tuple(value)
    return ntuple(value, n, arg, layer, minimum=minimum)


def padding_arg(value, accepted, layer):
    if not isinstance(value, str) or value.lower() not in accepted:
        raise ValueError(f"{layer}: padding must be one of {', '.join(map(repr, accepted))}, got {value!r}")
    return value.lower()


def positive_int(value, arg, layer):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{layer}: {arg} must be a positive int, got {value!r}")
    return int(value)


# ------------------------------------------------------------------------------------------ window arithmetic
def effective_kernel(k, d):
    return d * (k - 1) + 1


def same_pads(size, k, s, d=1):
    """TensorFlow's 'same' padding of one spatial dim: (lo, hi), the odd element at the end."""
    out = -(-size // s)
    total = max((out - 1) * s + effective_kernel(k, d) - size, 0)
    return total // 2, total - total // 2


def window_pads(padding, sizes, kernel, strides, dilation):
    """(lo, hi) per spatial dim for Keras' padding names: valid, same (TensorFlow's), causal (all on the left)."""
    if padding == "valid":
        return tuple((0, 0) for _ in sizes)
    if padding == "causal":
        return tuple((effective_kernel(k, d) - 1, 0) for k, d in zip(kernel, dilation))
    return tuple(same_pads(n, k, s, d) for n, k, s, d in zip(sizes, kernel, strides, dilation))


def output_length(size, k, padding, s, d=1):
    """Keras' output length of a convolution or pooling window along one dim (None stays None)."""
    if size is None:
        return None
    if padding == "same":
        return -(-size // s)
    if padding == "causal":
        return (size - 1) // s + 1
    return (size - effective_kernel(k, d)) // s + 1


# ---------------------------------------------------------------------------------------------- layouts
def _transpose(a, axes):
    return a.permute(*axes) if isinstance(a, Tensor) else np.transpose(a, axes)


def _inverse(axes):
    return tuple(int(i) for i in np.argsort(axes))


class WeightLayout:
    """engine <-> Keras for one weight: optional reshape of the engine array, then a transpose (and back).

    ``to_keras(a)``/``from_keras(a)`` take NumPy arrays or Tensors (constraints see Tensors).
    """

    def __init__(self, axes, engine_shape=None, grouped_shape=None):
        self.axes = tuple(axes)
        self.engine_shape, self.grouped_shape = engine_shape, grouped_shape

    def to_keras(self, a):
        if not self.axes:
            return a
        if self.grouped_shape is not None:
            a = a.reshape(self.grouped_shape)
        return _transpose(a, self.axes)

    def from_keras(self, a):
        if not self.axes:
            return a
        a = _transpose(a, _inverse(self.axes))
        return a.reshape(self.engine_shape) if self.engine_shape is not None else a


def conv_kernel_layout(nd):
    """Engine (out, in / groups, *k) <-> Keras (*k, in / groups, out); transposed convolutions map their engine
    (in, out / groups, *k) to Keras (*k, out, in) with the same axes."""
    return WeightLayout(tuple(range(2, 2 + nd)) + (1, 0))


def depthwise_kernel_layout(kernel, channels, multiplier):
    """Engine grouped convolution weight (channels * multiplier, 1, kh, kw) <-> Keras (kh, kw, channels,
    multiplier); output channel c * multiplier + m comes from input channel c in both."""
    nd = len(kernel)
    return WeightLayout(tuple(range(2, 2 + nd)) + (0, 1), engine_shape=(channels * multiplier, 1) + tuple(kernel),
                        grouped_shape=(channels, multiplier) + tuple(kernel))


IDENTITY = WeightLayout(())


# ----------------------------------------------------------------------------------------------- doors
def who(layer):
    """How errors name a layer: its name and class, e.g. "layer 'conv2d_1' (Conv2D)"."""
    return f"layer {layer.name!r} ({type(layer).__name__})"


def to_engine_layout(x, data_format):
    """Data in ``data_format`` to the engine's layout: (N, *spatial, C) -> (N, C, *spatial) for channels_last."""
    if data_format == "channels_first":
        return x
    nd = x.ndim - 2
    return x.permute(0, nd + 1, *range(1, nd + 1))


def from_engine_layout(y, data_format):
    """Engine output back to ``data_format``: (N, C, *spatial) -> (N, *spatial, C) for channels_last."""
    if data_format == "channels_first":
        return y
    nd = y.ndim - 2
    return y.permute(0, *range(2, nd + 2), 1)


def spatial_text(nd, data_format):
    names = {1: ("steps",), 2: ("height", "width"), 3: ("depth", "height", "width")}[nd]
    parts = ("batch",) + (names + ("channels",) if data_format == "channels_last" else ("channels",) + names)
    return "(" + ", ".join(parts) + ")"


def check_rank(layer, shape, ndim, layout_text=None):
    """ValueError naming the layer, the expected rank (and layout) and the shape received."""
    shape = tuple(shape)
    if len(shape) != ndim:
        layout = f" {layout_text}" if layout_text else ""
        raise ValueError(f"Input 0 of {who(layer)} is incompatible with the layer: expected ndim={ndim}{layout}, "
                         f"found ndim={len(shape)} (shape {shape})")


def check_spatial_rank(layer, shape):
    """``check_rank`` for a layer over ``layer.rank`` spatial dims in ``layer.data_format``."""
    check_rank(layer, shape, layer.rank + 2, spatial_text(layer.rank, layer.data_format))


def spatial_dims(shape, data_format):
    """The spatial dims of ``shape`` (batch first, channels last or second)."""
    shape = tuple(shape)
    return shape[1:-1] if data_format == "channels_last" else shape[2:]


def with_channels(batch, spatial, channels, data_format):
    """The shape (batch, *spatial, channels), or (batch, channels, *spatial) for channels_first."""
    if data_format == "channels_last":
        return (batch,) + tuple(spatial) + (channels,)
    return (batch, channels) + tuple(spatial)


def check_axis(layer, shape, axis, expected, what="channels"):
    shape = tuple(shape)
    got = shape[axis]
    if got is not None and expected is not None and got != expected:
        raise ValueError(f"Input 0 of {who(layer)} is incompatible with the layer: expected axis {axis} of input "
                         f"shape ({what}) to have value {expected}, got shape {shape}")


def channel_axis(data_format, ndim):
    return ndim - 1 if data_format == "channels_last" else 1


def known_product(dims):
    """The product of ``dims``, or None if one is unknown."""
    return None if any(d is None for d in dims) else int(math.prod(dims))
