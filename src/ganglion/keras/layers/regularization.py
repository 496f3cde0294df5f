"""Dropout layers over ``nn.functional.dropout`` / ``dropout1d`` / ``dropout2d``: active only in training (inside
``fit``, or when called with ``training=True``), the identity otherwise. A ``seed`` gives the layer its own random
stream (reproducible masks); without one, masks come from ``ganglion.manual_seed``'s default generator."""

import numbers

from ... import backend
from ...factories import ones
from ...nn import functional as F
from . import _adapters as A
from .base import Layer


def _rate(value, layer):
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{layer}: rate must be a number between 0 and 1 (the fraction of units to drop), "
                         f"got {value!r}")
    return float(value)


class _BaseDropout(Layer):
    supports_masking = True  # Keras: a mask passes through every dropout layer

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _rate(rate, type(self).__name__)
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise ValueError(f"{type(self).__name__}: seed must be an int or None, got {seed!r}")
        self.seed = seed
        self.__dict__["_generator"] = None if seed is None else backend.Generator().manual_seed(seed)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config


class Dropout(_BaseDropout):
    """y = x * m / (1 - rate) in training, m ~ Bernoulli(1 - rate); y = x otherwise. Any shape in, same out.

    ``noise_shape`` (e.g. (None, 1, features)) draws one mask entry per broadcast group: None entries take the
    input's size, 1 entries share a draw along that dim.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(rate, seed, **kwargs)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)

    def _mask_shape(self, shape):
        if len(self.noise_shape) != len(shape):
            raise ValueError(f"{A.who(self)}: noise_shape {self.noise_shape} must have one entry per input "
                             f"dimension; the input has shape {tuple(shape)}")
        mask = tuple(s if n is None else n for n, s in zip(self.noise_shape, shape))
        if any(m not in (1, s) for m, s in zip(mask, shape)):
            raise ValueError(f"{A.who(self)}: noise_shape {self.noise_shape} does not broadcast to the input "
                             f"shape {tuple(shape)} (each entry must be None, 1 or the input's size)")
        return mask

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        if self.noise_shape is None:
            return F.dropout(inputs, self.rate, True, generator=self._generator)
        # dropout of a ones tensor of the noise shape is the scaled mask, shared along the broadcast dims
        mask = F.dropout(ones(self._mask_shape(inputs.shape), dtype=inputs.dtype, device=inputs.device), self.rate,
                         True, generator=self._generator)
        return inputs * mask

    def get_config(self):
        config = super().get_config()
        config["noise_shape"] = None if self.noise_shape is None else list(self.noise_shape)
        return config


class SpatialDropout(_BaseDropout):
    """Dropout of whole feature maps: one draw per (sample, channel), the survivors scaled by 1 / (1 - rate)."""

    rank = 2

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed, **kwargs)
        self.data_format = A.data_format_arg(data_format, type(self).__name__)

    def call(self, inputs, training=None):
        A.check_spatial_rank(self, inputs.shape)
        if not training or self.rate == 0.0:
            return inputs
        drop = F.dropout1d if self.rank == 1 else F.dropout2d
        y = drop(A.to_engine_layout(inputs, self.data_format), self.rate, True, generator=self._generator)
        return A.from_engine_layout(y, self.data_format)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class SpatialDropout1D(SpatialDropout):
    """Channel dropout for (batch, steps, channels): each channel is dropped for all steps at once."""

    rank = 1

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, None, seed, **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["data_format"]
        return config


class SpatialDropout2D(SpatialDropout):
    """Channel dropout for (batch, h, w, channels): each feature map is dropped whole (for correlated pixels,
    where element dropout regularizes little)."""

    rank = 2
