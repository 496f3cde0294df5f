"""``DepthwiseConv2D`` and ``SeparableConv2D`` (and their 1-D forms): grouped convolutions of the engine.

A depthwise convolution is the engine's ``nn.Conv2d(C, C * depth_multiplier, k, groups=C)``: output channel
c * depth_multiplier + m filters input channel c alone, as in Keras. Keras' depthwise kernel (kh, kw, C,
depth_multiplier) is that weight (C * depth_multiplier, 1, kh, kw) regrouped. A separable convolution is the
depthwise step followed by a 1x1 ``nn.Conv2d`` (Keras' pointwise kernel (1, 1, C * depth_multiplier, filters)).
"""

from ...nn.modules.conv import Conv1d, Conv2d
from . import _adapters as A
from .convolutional import BaseConv
from .weight_options import keras_weight

_ENGINE_MODULE = {1: Conv1d, 2: Conv2d}


class DepthwiseConv(BaseConv):
    """y = activation(depthwise_conv(x, kernel) + bias): (batch, *spatial, C) -> (batch, *spatial_out,
    C * depth_multiplier). kernel: (*kernel_size, C, depth_multiplier); bias: (C * depth_multiplier,)."""

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, data_format=None, dilation_rate=1,
                 activation=None, use_bias=True, depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         activity_regularizer,
                         {"depthwise": (depthwise_initializer, depthwise_regularizer, depthwise_constraint),
                          "bias": (bias_initializer, bias_regularizer, bias_constraint)}, **kwargs)
        self.depth_multiplier = A.positive_int(depth_multiplier, "depth_multiplier", type(self).__name__)

    def build(self, input_shape):
        channels = self._build_channels(input_shape)
        out = channels * self.depth_multiplier
        self.conv = _ENGINE_MODULE[self.rank](channels, out, self.kernel_size, stride=self.strides,
                                              dilation=self.dilation_rate, groups=channels, bias=self.use_bias,
                                              dtype=self.dtype_policy)
        self._create_weights({"kernel": self.kernel_size + (channels, self.depth_multiplier), "bias": (out,)},
                             prefixes={"kernel": "depthwise"})
        self.built = True

    def _weight_table(self):
        layout = A.depthwise_kernel_layout(self.kernel_size, self._built_channels, self.depth_multiplier)
        return [("kernel", self.conv.weight, layout), ("bias", self.conv.bias, A.IDENTITY)]

    def _forward(self, x):
        return self._convolve(x, self.conv.weight, self.conv.bias, self._built_channels)

    def _output_channels(self, input_shape):
        return self._input_channels(input_shape) * self.depth_multiplier

    def get_config(self):
        config = super().get_config()
        config["depth_multiplier"] = self.depth_multiplier
        return config


class DepthwiseConv1D(DepthwiseConv):
    """Depthwise 1-D convolution: (batch, steps, C) -> (batch, new_steps, C * depth_multiplier)."""

    rank = 1


class DepthwiseConv2D(DepthwiseConv):
    """Depthwise 2-D convolution: (batch, h, w, C) -> (batch, h', w', C * depth_multiplier); kernel (kh, kw, C,
    depth_multiplier)."""

    rank = 2


class SeparableConv(BaseConv):
    """y = activation(pointwise(depthwise(x)) + bias): (batch, *spatial, C) -> (batch, *spatial_out, filters).

    depthwise_kernel: (*kernel_size, C, depth_multiplier); pointwise_kernel: (1, ..., C * depth_multiplier,
    filters); bias: (filters,). Strides, padding and dilation apply to the depthwise step.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 depth_multiplier=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         activity_regularizer,
                         {"depthwise": (depthwise_initializer, depthwise_regularizer, depthwise_constraint),
                          "pointwise": (pointwise_initializer, pointwise_regularizer, pointwise_constraint),
                          "bias": (bias_initializer, bias_regularizer, bias_constraint)}, **kwargs)
        name = type(self).__name__
        self.filters = A.positive_int(filters, "filters", name)
        self.depth_multiplier = A.positive_int(depth_multiplier, "depth_multiplier", name)

    def build(self, input_shape):
        channels = self._build_channels(input_shape)
        middle = channels * self.depth_multiplier
        module = _ENGINE_MODULE[self.rank]
        self.depthwise = module(channels, middle, self.kernel_size, stride=self.strides, dilation=self.dilation_rate,
                                groups=channels, bias=False, dtype=self.dtype_policy)
        self.pointwise = module(middle, self.filters, 1, bias=self.use_bias, dtype=self.dtype_policy)
        self._create_weights({"depthwise_kernel": self.kernel_size + (channels, self.depth_multiplier),
                              "pointwise_kernel": (1,) * self.rank + (middle, self.filters), "bias": (self.filters,)},
                             prefixes={"depthwise_kernel": "depthwise", "pointwise_kernel": "pointwise"})
        self.built = True

    def _weight_table(self):
        return [("depthwise_kernel", self.depthwise.weight,
                 A.depthwise_kernel_layout(self.kernel_size, self._built_channels, self.depth_multiplier)),
                ("pointwise_kernel", self.pointwise.weight, A.conv_kernel_layout(self.rank)),
                ("bias", self.pointwise.bias, A.IDENTITY)]

    depthwise_kernel, pointwise_kernel = keras_weight("depthwise_kernel"), keras_weight("pointwise_kernel")

    def _forward(self, x):
        return self.pointwise(self._convolve(x, self.depthwise.weight, None, self._built_channels))

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters, "depth_multiplier": self.depth_multiplier})
        return config


class SeparableConv1D(SeparableConv):
    """Separable 1-D convolution: (batch, steps, C) -> (batch, new_steps, filters)."""

    rank = 1


class SeparableConv2D(SeparableConv):
    """Separable 2-D convolution: (batch, h, w, C) -> (batch, h', w', filters); depthwise_kernel (kh, kw, C,
    depth_multiplier), pointwise_kernel (1, 1, C * depth_multiplier, filters)."""

    rank = 2


SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
