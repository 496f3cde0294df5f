"""Convolution layers: Conv1d/2d/3d and ConvTranspose1d/2d/3d, with PyTorch's arguments, weight layouts and init.

Weights: (out_channels, in_channels / groups, *kernel_size) for a convolution, (in_channels, out_channels / groups,
*kernel_size) for a transposed one; both drawn from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = weight.shape[1]
x prod(kernel_size) (PyTorch's kaiming_uniform_ with a = sqrt(5)), and the bias from the same interval.
"""

import math

from ...factories import empty
from ...ops import pad
from .. import init
from ..functional import conv as C
from ...arguments import ntuple
from ..functional.window import check_rank
from ..module import Module
from ..parameter import Parameter

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """Shared construction of the convolution layers (``_nd`` spatial dims, ``_transposed`` or not)."""

    _nd = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                 output_padding, device, dtype):
        super().__init__()
        name, nd = type(self).__name__, self._nd
        for arg, value in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            if not isinstance(value, int) or isinstance(value, bool) or value < (1 if arg == "groups" else 0):
                raise ValueError(f"{name}: {arg} must be a {'positive' if arg == 'groups' else 'non-negative'} int, "
                                 f"got {value!r}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {', '.join(map(repr, PADDING_MODES))}, got "
                             f"{padding_mode!r}")
        self.kernel_size = ntuple(kernel_size, nd, "kernel_size", name)
        self.stride = ntuple(stride, nd, "stride", name)
        self.dilation = ntuple(dilation, nd, "dilation", name)
        if isinstance(padding, str):
            C.conv_padding(padding, self.kernel_size, self.stride, self.dilation, name)  # validates the name
            self.padding = padding
        else:
            self.padding = ntuple(padding, nd, "padding", name, minimum=0)
        self.output_padding = ntuple(output_padding, nd, "output_padding", name, minimum=0)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.transposed, self.padding_mode = self._transposed, padding_mode
        if self._transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(empty(*shape, dtype=dtype, device=device))
        self.bias = Parameter(empty(out_channels, dtype=dtype, device=device)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            init.standard_uniform_(self.bias, init.calculate_fan_in_and_fan_out(self.weight)[0])

    def extra_repr(self):
        nd = self._nd
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * nd:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * nd:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * nd:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class _Conv(_ConvNd):
    """y = W * x + b (cross-correlation). (N, C_in, *in) or (C_in, *in) -> (N, C_out, *out), out =
    floor((in + 2 padding - dilation (kernel - 1) - 1) / stride) + 1 (padding 'same' keeps in, 'valid' is 0)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, 0, device, dtype)

    def forward(self, input):
        nd = self._nd
        if self.padding_mode == "zeros":
            return C.convolution(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups,
                                 nd, self)
        check_rank(self, input, nd)
        C.check_input(self, input, self.weight, self.bias, nd, self.groups, transposed=False)
        pads = C.conv_padding(self.padding, self.kernel_size, self.stride, self.dilation, self)
        padded = pad(input, [v for lo_hi in reversed(pads) for v in lo_hi], mode=self.padding_mode)
        return C.convolution(padded, self.weight, self.bias, self.stride, 0, self.dilation, self.groups, nd, self)


class Conv1d(_Conv):
    """1-D convolution: (N, C_in, L) or (C_in, L) -> (N, C_out, L_out). Weight (C_out, C_in / groups, k)."""

    _nd = 1


class Conv2d(_Conv):
    """2-D convolution: (N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H_out, W_out). Weight (C_out, C_in / groups,
    kH, kW); H_out = floor((H + 2 padding - dilation (kH - 1) - 1) / stride) + 1."""

    _nd = 2


class Conv3d(_Conv):
    """3-D convolution: (N, C_in, D, H, W) or (C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out)."""

    _nd = 3


class _ConvTranspose(_ConvNd):
    """The adjoint of a convolution: (N, C_in, *in) -> (N, C_out, *out), out = (in - 1) stride - 2 padding +
    dilation (kernel - 1) + output_padding + 1. ``forward(input, output_size)`` picks output_padding for a size."""

    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f'{name}: only "zeros" padding mode is supported, got {padding_mode!r}')
        if isinstance(padding, str):
            raise ValueError(f"{name}: padding must be an int or a tuple of ints, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding, device, dtype)
        for op, s, d in zip(self.output_padding, self.stride, self.dilation):
            if op >= max(s, d):
                raise ValueError(f"{name}: output_padding {self.output_padding} must be smaller than either stride "
                                 f"{self.stride} or dilation {self.dilation}")

    def forward(self, input, output_size=None):
        output_padding = self.output_padding
        if output_size is not None:
            check_rank(self, input, self._nd)
            output_padding = C.transposed_output_padding(self, tuple(input.shape[-self._nd:]), output_size,
                                                         self.stride, self.padding, self.kernel_size, self.dilation)
        return C.transposed_convolution(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                                        self.groups, self.dilation, self._nd, self)


class ConvTranspose1d(_ConvTranspose):
    """1-D transposed convolution: (N, C_in, L) -> (N, C_out, L_out). Weight (C_in, C_out / groups, k)."""

    _nd = 1


class ConvTranspose2d(_ConvTranspose):
    """2-D transposed convolution: (N, C_in, H, W) -> (N, C_out, H_out, W_out). Weight (C_in, C_out / groups, kH, kW);
    H_out = (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1."""

    _nd = 2


class ConvTranspose3d(_ConvTranspose):
    """3-D transposed convolution: (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out)."""

    _nd = 3
