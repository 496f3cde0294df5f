"""Reshaping layers: ``Flatten``, ``Reshape``, ``Permute``, ``RepeatVector``, ``ZeroPadding1D/2D`` and
``UpSampling1D/2D``, over the engine's shape ops, ``pad`` and ``nn.Upsample``. The batch dimension is never
touched; shapes and ``dims`` are given without it, as in Keras."""

import math

from ... import ops
from ...nn.modules.sampling import Upsample
from . import _adapters as A
from .base import Layer


def _rest(shape):
    """The product of the non-batch dims of ``shape`` (None if one is unknown)."""
    return A.known_product(tuple(shape)[1:])


class Flatten(Layer):
    """(batch, d1, d2, ...) -> (batch, d1 * d2 * ...). With data_format="channels_first" the input is first put in
    channels-last order, so the flattened order (and the Dense weights after it) match a channels-last model."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = A.data_format_arg(data_format, "Flatten")

    def call(self, inputs):
        if inputs.ndim < 1:
            raise ValueError(f"{A.who(self)}: expected an input with a batch dimension, got a scalar")
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = inputs.permute(0, *range(2, inputs.ndim), 1)
        return inputs.reshape(inputs.shape[0], -1)

    def compute_output_shape(self, input_shape):
        return (tuple(input_shape)[0], _rest(input_shape))

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Reshape(Layer):
    """(batch, *in) -> (batch, *target_shape); one entry of target_shape may be -1 (inferred from the size)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        target = tuple(target_shape) if isinstance(target_shape, (tuple, list)) else (target_shape,)
        if any(not isinstance(t, int) or isinstance(t, bool) or (t < 1 and t != -1) for t in target) or \
                target.count(-1) > 1:
            raise ValueError(f"Reshape: target_shape must be positive ints with at most one -1, got {target_shape!r}")
        self.target_shape = target

    def _resolve(self, input_shape):
        size = _rest(input_shape)
        known = math.prod(t for t in self.target_shape if t != -1)
        if size is None:
            return tuple(None if t == -1 else t for t in self.target_shape)
        if (-1 in self.target_shape and size % known) or (-1 not in self.target_shape and size != known):
            raise ValueError(f"{A.who(self)}: cannot reshape an input of shape {tuple(input_shape)} "
                             f"({size} values per sample) to target_shape {self.target_shape}")
        return tuple(size // known if t == -1 else t for t in self.target_shape)

    def build(self, input_shape):
        self._resolve(input_shape)
        self.built = True

    def call(self, inputs):
        return inputs.reshape((inputs.shape[0],) + self._resolve(inputs.shape))

    def compute_output_shape(self, input_shape):
        return (tuple(input_shape)[0],) + self._resolve(input_shape)

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = list(self.target_shape)
        return config


class Permute(Layer):
    """Reorder the non-batch dims: ``dims`` is a permutation of 1..n (1 is the first dim after the batch), e.g.
    Permute((2, 1)) turns (batch, steps, features) into (batch, features, steps)."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        dims = tuple(dims)
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(f"Permute: dims must be a permutation of 1..{len(dims)} (1-based, the batch dim "
                             f"excluded), got {dims}")
        self.dims = dims

    def _check(self, shape):
        A.check_rank(self, shape, len(self.dims) + 1, f"(batch + {len(self.dims)} dims, from dims={self.dims})")

    def build(self, input_shape):
        self._check(input_shape)
        self.built = True

    def call(self, inputs):
        self._check(inputs.shape)
        return inputs.permute(0, *self.dims)

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        shape = tuple(input_shape)
        return (shape[0],) + tuple(shape[d] for d in self.dims)

    def get_config(self):
        config = super().get_config()
        config["dims"] = list(self.dims)
        return config


class RepeatVector(Layer):
    """(batch, features) -> (batch, n, features): the input vector repeated n times."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = A.positive_int(n, "n", "RepeatVector")

    def build(self, input_shape):
        A.check_rank(self, input_shape, 2, "(batch, features)")
        self.built = True

    def call(self, inputs):
        A.check_rank(self, inputs.shape, 2, "(batch, features)")
        return inputs.unsqueeze(1).repeat(1, self.n, 1)

    def compute_output_shape(self, input_shape):
        A.check_rank(self, input_shape, 2, "(batch, features)")
        return (tuple(input_shape)[0], self.n, tuple(input_shape)[1])

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config


def _pairs(padding, rank, layer):
    """Keras' padding forms: int (all sides), (a, b) per dim (symmetric), or ((lo, hi), (lo, hi))."""
    if isinstance(padding, int) and not isinstance(padding, bool):
        padding = (padding,) * rank
    padding = tuple(padding)
    if rank == 1 and len(padding) == 2 and all(isinstance(p, int) for p in padding):
        padding = (padding,)
    if len(padding) != rank:
        raise ValueError(f"{layer}: padding must be an int, a tuple of {rank} ints or a tuple of {rank} (lo, hi) "
                         f"pairs, got {padding!r}")
    pairs = tuple((p, p) if isinstance(p, int) else tuple(p) for p in padding)
    if any(len(p) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in p)
           for p in pairs):
        raise ValueError(f"{layer}: padding amounts must be non-negative ints, got {padding!r}")
    return pairs


class ZeroPadding(Layer):
    """Add rows/columns of zeros around the spatial dims: (batch, *spatial, C) -> (batch, *padded, C)."""

    rank = 2

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _pairs(padding, self.rank, type(self).__name__)
        self.data_format = A.data_format_arg(data_format, type(self).__name__)

    def call(self, inputs):
        A.check_spatial_rank(self, inputs.shape)
        widths = [v for lo_hi in reversed(self.padding) for v in lo_hi]
        if self.data_format == "channels_last":
            widths = [0, 0] + widths
        return ops.pad(inputs, widths)

    def compute_output_shape(self, input_shape):
        A.check_spatial_rank(self, input_shape)
        shape = list(input_shape)
        first = 1 if self.data_format == "channels_last" else 2
        for i, (lo, hi) in enumerate(self.padding):
            shape[first + i] = None if shape[first + i] is None else shape[first + i] + lo + hi
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"padding": [list(p) for p in self.padding], "data_format": self.data_format})
        return config


class ZeroPadding1D(ZeroPadding):
    """(batch, steps, C) -> (batch, lo + steps + hi, C); padding: int or (lo, hi)."""

    rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding2D(ZeroPadding):
    """(batch, h, w, C) -> (batch, top + h + bottom, left + w + right, C); padding: int, (h, w) or
    ((top, bottom), (left, right))."""

    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class UpSampling(Layer):
    """Repeat (nearest) or interpolate (bilinear, half-pixel centers as Keras) each spatial dim ``size`` times."""

    rank = 2
    INTERPOLATIONS = ("nearest", "bilinear")

    def __init__(self, size=2, data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.size = A.tuple_arg(size, self.rank, "size", name)
        self.data_format = A.data_format_arg(data_format, name)
        accepted = self.INTERPOLATIONS if self.rank == 2 else ("nearest",)
        if interpolation not in accepted:
            raise ValueError(f"{name}: unknown interpolation {interpolation!r}; accepted: {', '.join(accepted)}")
        self.interpolation = interpolation
        self.upsample = Upsample(scale_factor=tuple(float(s) for s in self.size), mode=interpolation)

    def call(self, inputs):
        A.check_spatial_rank(self, inputs.shape)
        y = self.upsample(A.to_engine_layout(inputs, self.data_format))
        return A.from_engine_layout(y, self.data_format)

    def compute_output_shape(self, input_shape):
        A.check_spatial_rank(self, input_shape)
        shape = list(input_shape)
        first = 1 if self.data_format == "channels_last" else 2
        for i, s in enumerate(self.size):
            shape[first + i] = None if shape[first + i] is None else shape[first + i] * s
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"size": list(self.size), "data_format": self.data_format, "interpolation": self.interpolation})
        return config


class UpSampling1D(UpSampling):
    """(batch, steps, C) -> (batch, steps * size, C), each step repeated ``size`` times."""

    rank = 1

    def __init__(self, size=2, **kwargs):
        super().__init__(size, None, "nearest", **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["data_format"], config["interpolation"]
        return config


class UpSampling2D(UpSampling):
    """(batch, h, w, C) -> (batch, h * size[0], w * size[1], C); interpolation "nearest" or "bilinear"."""

    rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(size, data_format, interpolation, **kwargs)
