"""Pooling layers: MaxPool, AvgPool, AdaptiveAvgPool, AdaptiveMaxPool (1-D, 2-D, 3-D) and MaxUnpool, over
``nn.functional.pooling``. No parameters; arguments are kept as given (PyTorch's attributes and repr).

Global pooling: ``AdaptiveAvgPool2d(1)`` and ``AdaptiveMaxPool2d(1)`` ((N, C, H, W) -> (N, C, 1, 1)), computed as
one reduction over the spatial dims; follow them with ``Flatten()`` for (N, C).
"""

from ..functional import pooling as P
from ..functional import pooling_adaptive as A
from ...arguments import ntuple
from ..module import Module


class _MaxPoolNd(Module):
    _nd = 2

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode
        P.pool_args(type(self).__name__, self._nd, kernel_size, self.stride, padding, dilation)

    def forward(self, input):
        return P.max_pool(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          self.return_indices, self._nd, self)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """Max over sliding windows: (N, C, L) or (C, L) -> (N, C, L_out)."""

    _nd = 1


class MaxPool2d(_MaxPoolNd):
    """Max over sliding windows: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out), H_out =
    floor((H + 2 padding - dilation (k - 1) - 1) / stride) + 1 (ceil with ``ceil_mode``)."""

    _nd = 2


class MaxPool3d(_MaxPoolNd):
    """Max over sliding windows: (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out)."""

    _nd = 3


class _AvgPoolNd(Module):
    _nd = 2

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode, self.count_include_pad = padding, ceil_mode, count_include_pad
        self.divisor_override = divisor_override
        P.pool_args(type(self).__name__, self._nd, kernel_size, self.stride, padding)

    def forward(self, input):
        return P.avg_pool(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                          self.divisor_override, self._nd, self)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """Mean over sliding windows: (N, C, L) or (C, L) -> (N, C, L_out)."""

    _nd = 1

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)
        # PyTorch keeps these three as 1-tuples for the 1-D average pool only
        self.kernel_size, self.stride, self.padding = (
            ntuple(v, 1, name, "AvgPool1d", minimum=0) for v, name in
            ((self.kernel_size, "kernel_size"), (self.stride, "stride"), (self.padding, "padding")))


class AvgPool2d(_AvgPoolNd):
    """Mean over sliding windows: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out); the zero padding counts in
    the divisor with ``count_include_pad``; ``divisor_override`` replaces the divisor."""

    _nd = 2


class AvgPool3d(_AvgPoolNd):
    """Mean over sliding windows: (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out)."""

    _nd = 3


class _AdaptiveAvgPoolNd(Module):
    _nd = 2

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return A.adaptive_avg_pool(input, self.output_size, self._nd, self)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Mean over windows that split L into ``output_size`` parts: (N, C, L) -> (N, C, output_size)."""

    _nd = 1


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Mean over windows that split (H, W) into ``output_size`` parts: (N, C, H, W) -> (N, C, *output_size);
    window i spans [floor(i H / out), ceil((i + 1) H / out)). ``AdaptiveAvgPool2d(1)`` is global average pooling."""

    _nd = 2


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """Mean over windows that split (D, H, W) into ``output_size`` parts: (N, C, D, H, W) -> (N, C, *output_size)."""

    _nd = 3


class _AdaptiveMaxPoolNd(Module):
    _nd = 2

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input):
        return A.adaptive_max_pool(input, self.output_size, self.return_indices, self._nd, self)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max over windows that split L into ``output_size`` parts: (N, C, L) -> (N, C, output_size)."""

    _nd = 1


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max over windows that split (H, W) into ``output_size`` parts: (N, C, H, W) -> (N, C, *output_size).
    ``AdaptiveMaxPool2d(1)`` is global max pooling."""

    _nd = 2


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """Max over windows that split (D, H, W) into ``output_size`` parts: (N, C, D, H, W) -> (N, C, *output_size)."""

    _nd = 3


class _MaxUnpoolNd(Module):
    _nd = 2

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        P.pool_args(type(self).__name__, self._nd, kernel_size, self.stride, padding)

    def forward(self, input, indices, output_size=None):
        return P.max_unpool(input, indices, self.kernel_size, self.stride, self.padding, output_size, self._nd, self)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """Inverse of MaxPool1d: values and indices (N, C, L) -> (N, C, (L - 1) stride - 2 padding + kernel_size)."""

    _nd = 1


class MaxUnpool2d(_MaxUnpoolNd):
    """Inverse of MaxPool2d: values and indices (N, C, H, W) -> (N, C, H_out, W_out) with zeros where no maximum
    came from; H_out = (H - 1) stride - 2 padding + kernel_size, or ``output_size``."""

    _nd = 2


class MaxUnpool3d(_MaxUnpoolNd):
    """Inverse of MaxPool3d: values and indices (N, C, D, H, W) -> (N, C, D_out, H_out, W_out)."""

    _nd = 3
