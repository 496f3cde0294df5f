"""Normalization layers: BatchNorm1d/2d/3d, InstanceNorm1d/2d/3d, LayerNorm, RMSNorm, GroupNorm, LocalResponseNorm.

Parameters (``weight``, ``bias``) and buffers (``running_mean``, ``running_var``, ``num_batches_tracked``) have
PyTorch's names, shapes and dtypes, so state_dicts convert array for array.
"""

import numbers

from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from ... import backend
from ...factories import empty, ones, tensor, zeros
from ...tensor import Tensor


def _positive_int(owner, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    return int(value)


def _add_affine(module, shape, affine, bias, dtype, device):
    """Register ``module.weight`` and ``module.bias`` of ``shape`` (filled by ``_reset_affine``), or None: both when
    not ``affine``, the bias when not ``bias``."""
    for name, wanted in (("weight", affine), ("bias", affine and bias)):
        module.register_parameter(name, Parameter(empty(*shape, dtype=dtype, device=device)) if wanted else None)


def _reset_affine(module):
    """weight <- 1, bias <- 0 (where present)."""
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


def _normalized_shape(owner, normalized_shape):
    """``normalized_shape`` (an int or a non-empty sequence of positive ints) as a tuple of ints."""
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    if not normalized_shape:
        raise ValueError(f"{owner}: normalized_shape must name at least one dimension, got ()")
    return tuple(_positive_int(owner, "normalized_shape", n) for n in normalized_shape)


def _check_trailing_shape(module, x):
    """x must be a Tensor ending in ``module.normalized_shape``: (*, *normalized_shape)."""
    _check_input(module, x)
    k = len(module.normalized_shape)
    if x.ndim < k or tuple(x.shape[x.ndim - k:]) != module.normalized_shape:
        dims = ", ".join(map(str, module.normalized_shape))
        raise ValueError(f"{module!r}: expected input of shape (*, {dims}), got {tuple(x.shape)}")


def _check_input(module, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{module!r}: expected a ganglion Tensor, got {type(x).__name__}")


class _NormBase(Module):
    """What batch and instance norm share: per-channel affine parameters and running statistics.

    weight (C,) = 1, bias (C,) = 0 when ``affine``; running_mean (C,) = 0, running_var (C,) = 1 and the int64
    counter num_batches_tracked when ``track_running_stats``. ``momentum=None`` makes the running statistics a
    cumulative average (momentum 1 / num_batches_tracked).
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        name = type(self).__name__
        self.num_features = _positive_int(name, "num_features", num_features)
        if momentum is not None and not isinstance(momentum, numbers.Real):
            raise ValueError(f"{name}: momentum must be a number or None, got {momentum!r}")
        self.eps, self.momentum = float(eps), momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        c = self.num_features
        _add_affine(self, (c,), self.affine, bias, dtype, device)
        if self.track_running_stats:
            self.register_buffer("running_mean", zeros(c, dtype=dtype, device=device))
            self.register_buffer("running_var", ones(c, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=backend.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        """running_mean <- 0, running_var <- 1, num_batches_tracked <- 0."""
        if self.track_running_stats:
            self.running_mean.array.fill(0)
            self.running_var.array.fill(1)
            self.num_batches_tracked.array.fill(0)

    def reset_parameters(self):
        self.reset_running_stats()
        _reset_affine(self)


    def _check_shape(self, x, layouts):
        """ValueError naming the layer unless x has one of the allowed ranks and num_features channels."""
        _check_input(self, x)
        layout = {len(layout): layout for layout in layouts}.get(x.ndim)
        if layout is None or x.shape[layout.index("C")] != self.num_features:
            expected = " or ".join(
                "(" + ", ".join(str(self.num_features) if d == "C" else d for d in layout) + ")" for layout in layouts
            )
            raise ValueError(f"{self!r}: expected input of shape {expected}, got {tuple(x.shape)}")

    def extra_repr(self):
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class _BatchNorm(_NormBase):
    _layouts = ()

    def forward(self, x):
        """y = (x - mean) / sqrt(var + eps) * weight + bias per channel; batch statistics in training (or without
        running statistics), running statistics in eval mode."""
        self._check_shape(x, self._layouts)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.array += 1
            if self.momentum is None:  # a cumulative average: batch k weighs 1/k
                momentum = 1.0 / float(self.num_batches_tracked.array)
        use_batch_stats = self.training or self.running_mean is None
        # in training without tracking there is nothing to update; in eval the running stats are read, not written
        track = not self.training or self.track_running_stats
        return F.batch_norm(
            x, self.running_mean if track else None, self.running_var if track else None, self.weight, self.bias,
            use_batch_stats, momentum, self.eps,
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) inputs, per channel C = num_features. Output: same shape.

    y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias; training updates running_mean / running_var with
    r <- (1 - momentum) r + momentum s (s using the unbiased batch variance); eval mode normalizes with them.
    """

    _layouts = (("N", "C"), ("N", "C", "L"))


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) inputs per channel (see BatchNorm1d). Output: same shape."""

    _layouts = (("N", "C", "H", "W"),)


class BatchNorm3d(_BatchNorm):
    """Batch normalization of (N, C, D, H, W) inputs per channel (see BatchNorm1d). Output: same shape."""

    _layouts = (("N", "C", "D", "H", "W"),)


class _InstanceNorm(_NormBase):
    _layouts = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, device=None,
                 dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, x):
        """Each sample's channels normalized over their own spatial axes; unbatched (C, *) inputs accepted."""
        self._check_shape(x, self._layouts)
        unbatched = x.ndim == len(self._layouts[0])
        if unbatched:
            x = x.unsqueeze(0)
        # as PyTorch, instance norm neither counts batches nor supports a cumulative average (momentum=None -> 0)
        momentum = 0.0 if self.momentum is None else self.momentum
        use_input_stats = self.training or not self.track_running_stats
        y = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias, use_input_stats,
                            momentum, self.eps)
        return y.squeeze(0) if unbatched else y


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization of (N, C, L) or unbatched (C, L) inputs: each (sample, channel) row normalized over L.

    y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias, statistics per sample and channel. No affine parameters
    and no running statistics by default (as PyTorch).
    """

    _layouts = (("C", "L"), ("N", "C", "L"))


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization of (N, C, H, W) or (C, H, W) inputs over H and W (see InstanceNorm1d)."""

    _layouts = (("C", "H", "W"), ("N", "C", "H", "W"))


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization of (N, C, D, H, W) or (C, D, H, W) inputs over D, H and W (see InstanceNorm1d)."""

    _layouts = (("C", "D", "H", "W"), ("N", "C", "D", "H", "W"))


class LayerNorm(Module):
    """Layer normalization over the trailing ``normalized_shape`` axes. x: (*, *normalized_shape) -> same shape.

    y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias, the statistics per sample over the normalized axes;
    weight (= 1) and bias (= 0) have shape ``normalized_shape`` when ``elementwise_affine``.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _normalized_shape("LayerNorm", normalized_shape)
        self.eps, self.elementwise_affine = float(eps), bool(elementwise_affine)
        _add_affine(self, self.normalized_shape, self.elementwise_affine, bias, dtype, device)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, x):
        _check_trailing_shape(self, x)
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(Module):
    """RMS normalization over the trailing ``normalized_shape`` axes. x: (*, *normalized_shape) -> same shape.

    y = x / sqrt(mean(x^2) + eps) * weight, the mean per sample over the normalized axes; weight (= 1) has shape
    ``normalized_shape`` when ``elementwise_affine``; eps=None is the machine epsilon of x's dtype.
    """

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _normalized_shape("RMSNorm", normalized_shape)
        self.eps, self.elementwise_affine = None if eps is None else float(eps), bool(elementwise_affine)
        if self.elementwise_affine:
            self.weight = Parameter(empty(*self.normalized_shape, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, x):
        _check_trailing_shape(self, x)
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    """Group normalization: the channels split into ``num_groups`` groups, each normalized per sample over its
    channels and all spatial axes. x: (N, C, *) -> same shape, C = num_channels.

    y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias; weight (= 1) and bias (= 0) are per channel, shape (C,).
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_groups = _positive_int("GroupNorm", "num_groups", num_groups)
        self.num_channels = _positive_int("GroupNorm", "num_channels", num_channels)
        if self.num_channels % self.num_groups:
            raise ValueError(
                f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups ({num_groups})"
            )
        self.eps, self.affine = float(eps), bool(affine)
        _add_affine(self, (self.num_channels,), self.affine, bias, dtype, device)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, x):
        _check_input(self, x)
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"{self!r}: expected input of shape (N, {self.num_channels}, *), got {tuple(x.shape)}")
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, bias={self.bias is not None}"


class LocalResponseNorm(Module):
    """Local response normalization across channels (AlexNet). x: (N, C, *) -> same shape.

    b_c = a_c / (k + alpha/size * sum of a_{c'}^2 over the ``size`` channels around c)^beta.
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size = _positive_int("LocalResponseNorm", "size", size)
        self.alpha, self.beta, self.k = alpha, beta, k

    def forward(self, x):
        _check_input(self, x)
        if x.ndim < 3:
            raise ValueError(f"{self!r}: expected input of shape (N, C, *) with 3 or more dimensions, got "
                             f"{tuple(x.shape)}")
        return F.local_response_norm(x, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
