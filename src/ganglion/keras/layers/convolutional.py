"""Convolution layers ``Conv1D``, ``Conv2D``, ``Conv3D``: Keras' arguments over the engine's ``nn.Conv1d/2d/3d``.

The engine module holds the parameters (PyTorch layout (filters, in / groups, *kernel)); Keras sees ``kernel`` as
(*kernel, in / groups, filters) and ``bias`` as (filters,). Channels-last inputs are permuted to the engine's
(N, C, *spatial) at the door and back after. ``padding="same"`` is TensorFlow's (out = ceil(in / stride) for any
stride, the odd padding element at the end); ``"causal"`` (Conv1D) pads dilation (k - 1) on the left only.
"""

from ... import ops
from ...nn.functional.conv import conv1d, conv2d, conv3d
from ...nn.modules.conv import Conv1d, Conv2d, Conv3d
from .. import activations as keras_activations
from .. import regularizers
from . import _adapters as A
from .base import Layer
from .weight_options import WeightTable, keras_weight

_ENGINE_CONV = {1: conv1d, 2: conv2d, 3: conv3d}
_ENGINE_MODULE = {1: Conv1d, 2: Conv2d, 3: Conv3d}


class BaseConv(WeightTable, Layer):
    """Shared by the convolution adapters: argument checks, the door (layout, padding), output shapes, config."""

    rank = 2
    paddings = ("valid", "same")

    def __init__(self, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                 activity_regularizer, weight_options, **kwargs):
        """The arguments every convolution takes; ``weight_options``: prefix -> (initializer, regularizer,
        constraint), as ``_init_weight_options`` takes them."""
        super().__init__(**kwargs)
        name, n = type(self).__name__, self.rank
        self.kernel_size = A.tuple_arg(kernel_size, n, "kernel_size", name)
        self.strides = A.tuple_arg(strides, n, "strides", name)
        self.dilation_rate = A.tuple_arg(dilation_rate, n, "dilation_rate", name)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{name}: strides > 1 is not supported together with dilation_rate > 1, got "
                             f"strides={self.strides} and dilation_rate={self.dilation_rate}")
        self.padding = A.padding_arg(padding, self.paddings, name)
        self.data_format = A.data_format_arg(data_format, name)
        self.activation = keras_activations.get_optional(activation)
        self.use_bias = bool(use_bias)
        self._init_activity(activity_regularizer)
        self._init_weight_options(**weight_options)

    # ------------------------------------------------------------------------------------------------ door
    def _input_channels(self, input_shape):
        """Check the rank (and, once built, the channels) of ``input_shape``; return its channel count."""
        A.check_spatial_rank(self, input_shape)
        axis = A.channel_axis(self.data_format, self.rank + 2)
        if self.built:
            A.check_axis(self, input_shape, axis, self._built_channels)
        channels = tuple(input_shape)[axis]
        if channels is None:
            raise ValueError(f"{A.who(self)}: the channel dimension of the input must be known, got shape "
                             f"{tuple(input_shape)}")
        return channels

    def _weight_table(self):
        """Keras' kernel (*kernel_size, in / groups, filters) over the engine module ``conv``'s weight; the bias."""
        return [("kernel", self.conv.weight, A.conv_kernel_layout(self.rank)), ("bias", self.conv.bias, A.IDENTITY)]

    def _build_channels(self, input_shape):
        """At build: the input's channel count (checked), remembered for the checks of later calls."""
        channels = self._input_channels(input_shape)
        self.__dict__["_built_channels"] = channels
        return channels

    def _convolve(self, x, weight, bias, groups, strides=None, dilation=None):
        """Engine convolution of channels-first ``x`` with Keras' padding (explicit when it is asymmetric)."""
        strides = self.strides if strides is None else strides
        dilation = self.dilation_rate if dilation is None else dilation
        kernel = tuple(weight.shape[2:])
        pads = A.window_pads(self.padding, tuple(x.shape[2:]), kernel, strides, dilation)
        conv = _ENGINE_CONV[self.rank]
        if all(lo == hi for lo, hi in pads):
            return conv(x, weight, bias, strides, tuple(lo for lo, _ in pads), dilation, groups)
        x = ops.pad(x, [v for lo_hi in reversed(pads) for v in lo_hi])
        return conv(x, weight, bias, strides, 0, dilation, groups)

    def call(self, inputs):
        self._input_channels(inputs.shape)
        y = self._forward(A.to_engine_layout(inputs, self.data_format))
        y = A.from_engine_layout(y, self.data_format)
        if self.activation is not None:
            y = self.activation(y)
        return self._record_activity(y)

    def _output_lengths(self, sizes):
        """The output's spatial lengths for input lengths ``sizes`` (None stays None)."""
        return tuple(A.output_length(n, k, self.padding, s, d) for n, k, s, d in
                     zip(sizes, self.kernel_size, self.strides, self.dilation_rate))

    def _output_channels(self, input_shape):
        return self.filters

    def compute_output_shape(self, input_shape):
        self._input_channels(input_shape)
        spatial = self._output_lengths(A.spatial_dims(input_shape, self.data_format))
        return A.with_channels(tuple(input_shape)[0], spatial, self._output_channels(input_shape), self.data_format)

    # ------------------------------------------------------------------------------------------ properties
    kernel, bias = keras_weight("kernel"), keras_weight("bias")

    def get_config(self):
        config = super().get_config()
        config.update({
            "kernel_size": list(self.kernel_size), "strides": list(self.strides), "padding": self.padding,
            "data_format": self.data_format, "dilation_rate": list(self.dilation_rate),
            "activation": keras_activations.serialize(self.activation), "use_bias": self.use_bias,
            **self._weight_options_config(),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
        })
        return config


class Conv(BaseConv):
    """y = activation(conv(x, kernel) + bias): (batch, *spatial, in) -> (batch, *spatial_out, filters), with
    spatial_out = ceil(in / strides) for "same", floor((in - dilation (k - 1) - 1) / strides) + 1 for "valid".

    kernel: (*kernel_size, in / groups, filters); bias: (filters,).
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1, groups=1,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         activity_regularizer, {"kernel": (kernel_initializer, kernel_regularizer, kernel_constraint),
                                                "bias": (bias_initializer, bias_regularizer, bias_constraint)},
                         **kwargs)
        name = type(self).__name__
        self.filters = A.positive_int(filters, "filters", name)
        self.groups = A.positive_int(groups, "groups", name)
        if self.filters % self.groups:
            raise ValueError(f"{name}: filters ({self.filters}) must be divisible by groups ({self.groups})")

    def build(self, input_shape):
        channels = self._build_channels(input_shape)
        if channels % self.groups:
            raise ValueError(f"{A.who(self)}: the input's channels ({channels}) must be divisible by groups "
                             f"({self.groups}); input shape {tuple(input_shape)}")
        self.conv = _ENGINE_MODULE[self.rank](channels, self.filters, self.kernel_size, stride=self.strides,
                                              dilation=self.dilation_rate, groups=self.groups, bias=self.use_bias,
                                              dtype=self.dtype_policy)
        self._create_weights({"kernel": self.kernel_size + (channels // self.groups, self.filters),
                              "bias": (self.filters,)})
        self.built = True

    def _forward(self, x):
        return self._convolve(x, self.conv.weight, self.conv.bias, self.groups)

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters, "groups": self.groups})
        return config


class Conv1D(Conv):
    """1-D convolution over (batch, steps, channels) -> (batch, new_steps, filters); kernel (k, in / groups,
    filters). ``padding="causal"`` pads dilation (k - 1) zeros on the left, so output t sees inputs <= t only."""

    rank = 1
    paddings = ("valid", "same", "causal")


class Conv2D(Conv):
    """2-D convolution over (batch, height, width, channels) -> (batch, new_height, new_width, filters); kernel
    (kh, kw, in / groups, filters)."""

    rank = 2


class Conv3D(Conv):
    """3-D convolution over (batch, depth, height, width, channels) -> (batch, d', h', w', filters); kernel
    (kd, kh, kw, in / groups, filters)."""

    rank = 3


Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
