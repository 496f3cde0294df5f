"""``DepthwiseConv2D`` and ``SeparableConv2D`` (and their 1-D forms): grouped convolutions of the engine.

A depthwise convolution is the engine's ``nn.Conv2d(C, C * depth_multiplier, k, groups=C)``: output channel
c * depth_multiplier + m filters input channel c alone, as in Keras. Keras' depthwise kernel (kh, kw, C,
depth_multiplier) is that weight (C * depth_multiplier, 1, kh, kw) regrouped. A separable convolution is the
depthwise step followed by a 1x1 ``nn.Conv2d`` (Keras' pointwise kernel (1, 1, C * depth_multiplier, filters)).
"""

from ...nn.modules.conv import Conv1d, Conv2d
from .. import initializers
from . import _adapters as A
from .convolutional import BaseConv

_ENGINE_MODULE = {1: Conv1d, 2: Conv2d}


class DepthwiseConv(BaseConv):
    """y = activation(depthwise_conv(x, kernel) + bias): (batch, *spatial, C) -> (batch, *spatial_out,
    C * depth_multiplier). kernel: (*kernel_size, C, depth_multiplier); bias: (C * depth_multiplier,)."""

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, data_format=None, dilation_rate=1,
                 activation=None, use_bias=True, depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.depth_multiplier = A.positive_int(depth_multiplier, "depth_multiplier", type(self).__name__)
        self._init_conv(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                        activity_regularizer)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = A.regularizer_or_none(depthwise_regularizer)
        self.bias_regularizer = A.regularizer_or_none(bias_regularizer)
        self.depthwise_constraint = A.constraint_or_none(depthwise_constraint)
        self.bias_constraint = A.constraint_or_none(bias_constraint)
        self._add_regularizers([("kernel", self.depthwise_regularizer), ("bias", self.bias_regularizer)])

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.__dict__["_built_channels"] = channels
        out = channels * self.depth_multiplier
        self.conv = _ENGINE_MODULE[self.rank](channels, out, self.kernel_size, stride=self.strides,
                                              dilation=self.dilation_rate, groups=channels, bias=self.use_bias,
                                              dtype=self.dtype_policy)
        A.fill(self.conv.weight, self.depthwise_initializer, self.kernel_size + (channels, self.depth_multiplier),
               self._kernel_layout())
        if self.use_bias:
            A.fill(self.conv.bias, self.bias_initializer, (out,))
        self.built = True
        self._add_constraints([("kernel", self.depthwise_constraint), ("bias", self.bias_constraint)])

    def _kernel_layout(self):
        return A.depthwise_kernel_layout(self.kernel_size, self._built_channels, self.depth_multiplier)

    def _weight_table(self):
        table = [("kernel", self.conv.weight, self._kernel_layout())]
        if self.use_bias:
            table.append(("bias", self.conv.bias, A.IDENTITY))
        return table

    def _forward(self, x):
        return self._convolve(x, self.conv.weight, self.conv.bias, self._built_channels)

    def _output_channels(self, input_shape):
        return self._input_channels(input_shape) * self.depth_multiplier

    def get_config(self):
        config = super().get_config()
        config.update({
            "depth_multiplier": self.depth_multiplier,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "depthwise_regularizer": A.serialize_regularizer(self.depthwise_regularizer),
            "bias_regularizer": A.serialize_regularizer(self.bias_regularizer),
            "depthwise_constraint": A.serialize_constraint(self.depthwise_constraint),
            "bias_constraint": A.serialize_constraint(self.bias_constraint),
        })
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
        super().__init__(**kwargs)
        name = type(self).__name__
        self.filters = A.positive_int(filters, "filters", name)
        self.depth_multiplier = A.positive_int(depth_multiplier, "depth_multiplier", name)
        self._init_conv(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                        activity_regularizer)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = A.regularizer_or_none(depthwise_regularizer)
        self.pointwise_regularizer = A.regularizer_or_none(pointwise_regularizer)
        self.bias_regularizer = A.regularizer_or_none(bias_regularizer)
        self.depthwise_constraint = A.constraint_or_none(depthwise_constraint)
        self.pointwise_constraint = A.constraint_or_none(pointwise_constraint)
        self.bias_constraint = A.constraint_or_none(bias_constraint)
        self._add_regularizers([("depthwise_kernel", self.depthwise_regularizer),
                                ("pointwise_kernel", self.pointwise_regularizer), ("bias", self.bias_regularizer)])

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.__dict__["_built_channels"] = channels
        middle = channels * self.depth_multiplier
        module = _ENGINE_MODULE[self.rank]
        self.depthwise = module(channels, middle, self.kernel_size, stride=self.strides, dilation=self.dilation_rate,
                                groups=channels, bias=False, dtype=self.dtype_policy)
        self.pointwise = module(middle, self.filters, 1, bias=self.use_bias, dtype=self.dtype_policy)
        table = {name: layout for name, _, layout in self._weight_table()}
        A.fill(self.depthwise.weight, self.depthwise_initializer,
               self.kernel_size + (channels, self.depth_multiplier), table["depthwise_kernel"])
        A.fill(self.pointwise.weight, self.pointwise_initializer, (1,) * self.rank + (middle, self.filters),
               table["pointwise_kernel"])
        if self.use_bias:
            A.fill(self.pointwise.bias, self.bias_initializer, (self.filters,))
        self.built = True
        self._add_constraints([("depthwise_kernel", self.depthwise_constraint),
                               ("pointwise_kernel", self.pointwise_constraint), ("bias", self.bias_constraint)])

    def _weight_table(self):
        table = [
            ("depthwise_kernel", self.depthwise.weight,
             A.depthwise_kernel_layout(self.kernel_size, self._built_channels, self.depth_multiplier)),
            ("pointwise_kernel", self.pointwise.weight, A.conv_kernel_layout(self.rank)),
        ]
        if self.use_bias:
            table.append(("bias", self.pointwise.bias, A.IDENTITY))
        return table

    @property
    def depthwise_kernel(self):
        return self._keras_weight("depthwise_kernel")

    @property
    def pointwise_kernel(self):
        return self._keras_weight("pointwise_kernel")

    def _forward(self, x):
        return self.pointwise(self._convolve(x, self.depthwise.weight, None, self._built_channels))

    def _output_channels(self, input_shape):
        return self.filters

    def get_config(self):
        config = super().get_config()
        config.update({
            "filters": self.filters, "depth_multiplier": self.depth_multiplier,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "depthwise_regularizer": A.serialize_regularizer(self.depthwise_regularizer),
            "pointwise_regularizer": A.serialize_regularizer(self.pointwise_regularizer),
            "bias_regularizer": A.serialize_regularizer(self.bias_regularizer),
            "depthwise_constraint": A.serialize_constraint(self.depthwise_constraint),
            "pointwise_constraint": A.serialize_constraint(self.pointwise_constraint),
            "bias_constraint": A.serialize_constraint(self.bias_constraint),
        })
        return config


class SeparableConv1D(SeparableConv):
    """Separable 1-D convolution: (batch, steps, C) -> (batch, new_steps, filters)."""

    rank = 1


class SeparableConv2D(SeparableConv):
    """Separable 2-D convolution: (batch, h, w, C) -> (batch, h', w', filters); depthwise_kernel (kh, kw, C,
    depth_multiplier), pointwise_kernel (1, 1, C * depth_multiplier, filters)."""

    rank = 2


SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
