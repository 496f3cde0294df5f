"""``Conv2DTranspose`` (and ``Conv1DTranspose``): Keras' transposed convolution over the engine's
``nn.ConvTranspose1d/2d``.

Keras (as TensorFlow) defines it as the gradient of a convolution with the same padding name, and fixes the output
length per spatial dim (k' = dilation (k - 1) + 1):

- ``"valid"``: (in - 1) stride + k' + output_padding, output_padding defaulting to max(stride - k', 0);
- ``"same"``: in * stride, or (in - 1) stride + (k' mod 2) + output_padding when output_padding is given.

The engine computes the full transposed convolution, length F = (in - 1) stride + k' (extended at the end when
Keras asks for more), and the layer keeps L values starting at floor(max(F - L, 0) / 2) for "same" (the forward
convolution's left padding), at 0 for "valid". Kernel: Keras (*kernel, filters, in) <-> engine (in, filters, *k).
"""

from ...nn.functional.conv import conv_transpose1d, conv_transpose2d
from ...nn.modules.conv import ConvTranspose1d, ConvTranspose2d
from . import _adapters as A
from .convolutional import BaseConv

_ENGINE = {1: (ConvTranspose1d, conv_transpose1d), 2: (ConvTranspose2d, conv_transpose2d)}


def transpose_output_length(size, k, padding, output_padding, stride, dilation):
    """Keras' output length of a transposed convolution along one dim (None stays None)."""
    if size is None:
        return None
    k_eff = A.effective_kernel(k, dilation)
    if padding == "valid":
        extra = max(stride - k_eff, 0) if output_padding is None else output_padding
        return (size - 1) * stride + k_eff + extra
    if output_padding is None:
        return size * stride
    return (size - 1) * stride + k_eff % 2 + output_padding


class ConvTranspose(BaseConv):
    """y = activation(conv_transpose(x, kernel) + bias): (batch, *spatial, in) -> (batch, *spatial_out, filters).

    kernel: (*kernel_size, filters, in); bias: (filters,). Output lengths: see the module docstring.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         activity_regularizer, {"kernel": (kernel_initializer, kernel_regularizer, kernel_constraint),
                                                "bias": (bias_initializer, bias_regularizer, bias_constraint)},
                         **kwargs)
        name = type(self).__name__
        self.filters = A.positive_int(filters, "filters", name)
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = A.tuple_arg(output_padding, self.rank, "output_padding", name, minimum=0)
            if any(p >= s for p, s in zip(self.output_padding, self.strides)):
                raise ValueError(f"{name}: output_padding {self.output_padding} must be smaller than strides "
                                 f"{self.strides} in every dimension")

    def build(self, input_shape):
        channels = self._build_channels(input_shape)
        module = _ENGINE[self.rank][0]
        self.conv = module(channels, self.filters, self.kernel_size, stride=self.strides, dilation=self.dilation_rate,
                           bias=self.use_bias, dtype=self.dtype_policy)
        self._create_weights({"kernel": self.kernel_size + (self.filters, channels), "bias": (self.filters,)})
        self.built = True

    def _output_lengths(self, sizes):
        output_paddings = self.output_padding or (None,) * self.rank
        return tuple(transpose_output_length(n, k, self.padding, p, s, d) for n, k, p, s, d in
                     zip(sizes, self.kernel_size, output_paddings, self.strides, self.dilation_rate))

    def _forward(self, x):
        sizes = tuple(x.shape[2:])
        wanted = self._output_lengths(sizes)
        full = tuple((n - 1) * s + A.effective_kernel(k, d)
                     for n, k, s, d in zip(sizes, self.kernel_size, self.strides, self.dilation_rate))
        starts = tuple(max(f - w, 0) // 2 if self.padding == "same" else 0 for f, w in zip(full, wanted))
        extend = tuple(max(lo + w - f, 0) for lo, w, f in zip(starts, wanted, full))
        y = _ENGINE[self.rank][1](x, self.conv.weight, self.conv.bias, self.strides, 0, extend, 1,
                                  self.dilation_rate)
        if all(lo == 0 for lo in starts) and all(f + e == w for f, e, w in zip(full, extend, wanted)):
            return y
        return y[(slice(None), slice(None)) + tuple(slice(lo, lo + w) for lo, w in zip(starts, wanted))]

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters,
                       "output_padding": None if self.output_padding is None else list(self.output_padding)})
        return config


class Conv1DTranspose(ConvTranspose):
    """1-D transposed convolution: (batch, steps, in) -> (batch, new_steps, filters); kernel (k, filters, in)."""

    rank = 1


class Conv2DTranspose(ConvTranspose):
    """2-D transposed convolution (upsampling by ``strides``): (batch, h, w, in) -> (batch, h', w', filters), h' =
    h * stride with "same"; kernel (kh, kw, filters, in)."""

    rank = 2


Convolution1DTranspose, Convolution2DTranspose = Conv1DTranspose, Conv2DTranspose
