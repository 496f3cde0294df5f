"""Pooling layers over the engine's ``nn.MaxPool1d/2d``, ``nn.AvgPool1d/2d`` and ``nn.AdaptiveAvgPool/MaxPool``.

Keras' arguments: ``pool_size``, ``strides`` (default: pool_size), ``padding`` "valid" or "same", ``data_format``.
"same" is TensorFlow's: out = ceil(in / strides), the padding split with the odd element at the end. Max pooling
pads with -inf (padding never wins); average pooling averages only the inputs inside each window (TensorFlow
excludes the padding), computed as avg_pool(zero-padded x) / avg_pool(zero-padded ones).
"""

from ... import ops
from ...autograd.grad_mode import no_grad
from ...factories import ones
from ...nn.modules.pooling import (
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AvgPool1d, AvgPool2d, MaxPool1d,
    MaxPool2d,
)
from . import _adapters as A
from .base import Layer
from .structure import as_tensor


class Pooling(Layer):
    """Shared by MaxPooling and AveragePooling: checks, the door (layout, TF padding), output shape, config."""

    rank = 2
    _engine = {}
    _pad_value = 0.0

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        name, n = type(self).__name__, self.rank
        self.pool_size = A.tuple_arg(pool_size, n, "pool_size", name)
        self.strides = self.pool_size if strides is None else A.tuple_arg(strides, n, "strides", name)
        self.padding = A.padding_arg(padding, ("valid", "same"), name)
        self.data_format = A.data_format_arg(data_format, name)
        self.pool = self._engine[n](self.pool_size, self.strides)

    def _check(self, shape):
        A.check_spatial_rank(self, shape)
        for n, k in zip(A.spatial_dims(shape, self.data_format), self.pool_size):
            if self.padding == "valid" and n is not None and n < k:
                raise ValueError(f"{A.who(self)}: the input {tuple(shape)} is smaller than "
                                 f"pool_size {self.pool_size} with padding='valid'")

    def build(self, input_shape):
        self._check(input_shape)
        self.built = True

    def call(self, inputs):
        self._check(inputs.shape)
        x = A.to_engine_layout(inputs, self.data_format)
        pads = A.window_pads(self.padding, tuple(x.shape[2:]), self.pool_size, self.strides, (1,) * self.rank)
        y = self._pool(x, [v for lo_hi in reversed(pads) for v in lo_hi]) if any(map(any, pads)) else self.pool(x)
        return A.from_engine_layout(y, self.data_format)

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        spatial = tuple(A.output_length(n, k, self.padding, s) for n, k, s in
                        zip(A.spatial_dims(input_shape, self.data_format), self.pool_size, self.strides))
        shape = tuple(input_shape)
        channels = shape[A.channel_axis(self.data_format, len(shape))]
        return A.with_channels(shape[0], spatial, channels, self.data_format)

    def get_config(self):
        config = super().get_config()
        config.update({"pool_size": list(self.pool_size), "strides": list(self.strides), "padding": self.padding,
                       "data_format": self.data_format})
        return config


class MaxPooling(Pooling):
    """y = max over each pool_size window (stride ``strides``): (batch, *spatial, C) -> (batch, *spatial_out, C)."""

    _engine = {1: MaxPool1d, 2: MaxPool2d}

    def _pool(self, x, pad):
        return self.pool(ops.pad(x, pad, value=float("-inf")))


class AveragePooling(Pooling):
    """y = mean over each pool_size window (stride ``strides``), padding excluded: (batch, *spatial, C) ->
    (batch, *spatial_out, C)."""

    _engine = {1: AvgPool1d, 2: AvgPool2d}

    def _pool(self, x, pad):
        with no_grad():  # the share of each window inside the input: a constant
            inside = self.pool(ops.pad(ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype, device=x.device), pad))
        return self.pool(ops.pad(x, pad)) / inside


class MaxPooling1D(MaxPooling):
    """Max pooling over (batch, steps, features) -> (batch, new_steps, features); pool_size defaults to 2."""

    rank = 1


class MaxPooling2D(MaxPooling):
    """Max pooling over (batch, h, w, C) -> (batch, h', w', C); pool_size defaults to (2, 2)."""

    rank = 2


class AveragePooling1D(AveragePooling):
    """Average pooling over (batch, steps, features) -> (batch, new_steps, features)."""

    rank = 1


class AveragePooling2D(AveragePooling):
    """Average pooling over (batch, h, w, C) -> (batch, h', w', C); pool_size defaults to (2, 2)."""

    rank = 2


class GlobalPooling(Layer):
    """Reduce every spatial dim: (batch, *spatial, C) -> (batch, C), or (batch, 1, ..., 1, C) with keepdims."""

    rank = 2
    _engine = {}

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = A.data_format_arg(data_format, type(self).__name__)
        self.keepdims = bool(keepdims)
        self.pool = self._engine[self.rank](1)

    def build(self, input_shape):
        A.check_spatial_rank(self, input_shape)
        self.built = True

    def call(self, inputs):
        A.check_spatial_rank(self, inputs.shape)
        y = self.pool(A.to_engine_layout(inputs, self.data_format))  # (N, C, 1, ...)
        if self.keepdims:
            return A.from_engine_layout(y, self.data_format)
        return y.reshape(tuple(y.shape[:2]))

    def compute_output_shape(self, input_shape):
        A.check_spatial_rank(self, input_shape)
        shape = tuple(input_shape)
        channels = shape[A.channel_axis(self.data_format, len(shape))]
        if not self.keepdims:
            return (shape[0], channels)
        return A.with_channels(shape[0], (1,) * self.rank, channels, self.data_format)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


class GlobalAveragePooling1D(GlobalPooling):
    """Mean over the steps: (batch, steps, features) -> (batch, features). With a mask (batch, steps), the mean of
    the kept steps only: sum_t m_t x_t / sum_t m_t (Keras; a row with no kept step gives 0 / 0). The output has no
    mask."""

    rank = 1
    _engine = {1: AdaptiveAvgPool1d}
    supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        A.check_rank(self, inputs.shape, 3, A.spatial_text(1, self.data_format))
        mask = as_tensor(mask)
        steps_axis = 1 if self.data_format == "channels_last" else 2
        expected = (inputs.shape[0], inputs.shape[steps_axis])
        if tuple(mask.shape) != expected:
            raise ValueError(f"{A.who(self)}: mask must have shape (batch, steps) = {expected}, got "
                             f"{tuple(mask.shape)}")
        keep = (mask != 0).unsqueeze(2 if steps_axis == 1 else 1)
        kept = ops.where(keep, inputs, 0.0).sum(steps_axis, keepdim=self.keepdims)
        return kept / keep.to(inputs.dtype).sum(steps_axis, keepdim=self.keepdims)

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalAveragePooling2D(GlobalPooling):
    """Mean over height and width: (batch, h, w, C) -> (batch, C)."""

    rank = 2
    _engine = {2: AdaptiveAvgPool2d}


class GlobalMaxPooling1D(GlobalPooling):
    """Max over the steps: (batch, steps, features) -> (batch, features)."""

    rank = 1
    _engine = {1: AdaptiveMaxPool1d}


class GlobalMaxPooling2D(GlobalPooling):
    """Max over height and width: (batch, h, w, C) -> (batch, C)."""

    rank = 2
    _engine = {2: AdaptiveMaxPool2d}


MaxPool1D, MaxPool2D = MaxPooling1D, MaxPooling2D
AvgPool1D, AvgPool2D = AveragePooling1D, AveragePooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
