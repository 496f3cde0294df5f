"""Normalization layers as functions: ``batch_norm``, ``instance_norm``, ``layer_norm``, ``rms_norm``, ``group_norm``
and ``local_response_norm`` (PyTorch's names and arguments). ``rms_norm`` (no statistics to centre on) is composed
of ops.

Batch, instance, layer and group norm differ only in which elements share a mean and a variance, so one fused op,
``Normalize``, does all four: forward in a few array passes (mean, then the variance of the centred values),
backward in closed form. Each function below only
says which axes the statistics are taken over and how the scale and shift broadcast.

Batch norm on NumPy float32/float64 arrays runs compiled kernels instead (``kernels.normalization``: two passes per
channel each way, on every thread) wherever ``kernels.usable`` says so; the array code here stays the reference.
"""

from ... import backend, kernels
from ...autograd.function import Function
from ...ops import pad
from ...tensor import Tensor


class Normalize(Function):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, with the biased mean and var taken over groups of x.

    x: any shape. The statistics are taken over ``axes`` of x viewed as ``stats_view`` (a reshape of x; x's own shape
    except for group norm), or are given as ``stats=(mean, var)`` (eval-mode batch norm). weight and bias (or None)
    broadcast against x once reshaped to ``affine_shape``. ``running=(running_mean, running_var, momentum)`` updates
    those arrays in place: r <- (1 - momentum) r + momentum s, with the unbiased variance s = var M / (M - 1) for M
    elements per statistic (averaged over the batch when there is one statistic per sample, as instance norm does).

    Backward, with xhat the normalized x, dxhat = dy * weight and means over the M elements of each statistic:
        batch statistics:  dx = invstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat))
        given statistics:  dx = invstd dxhat
        dweight = sum(dy xhat),  dbias = sum(dy)  over every axis that weight is broadcast along.
    Double backward differentiates ``forward_graph``, the same normalization written with mean/var ops.

    Per-channel statistics (batch norm) on NumPy arrays run the compiled kernels (``_compiled_channels`` says
    where): they save x, the mean and invstd instead of xhat, and recompute xhat where it is needed.
    """

    def forward(self, x, weight, bias, stats_view, axes, affine_shape, eps, stats=None, running=None):
        xp = self.xp
        eps = float(eps)  # a Python float keeps float32 data float32 (a NumPy float64 scalar would promote it)
        if _compiled_channels(x, weight, bias, stats_view, axes, affine_shape, stats):
            return self._forward_compiled(x, weight, bias, axes, affine_shape, eps, stats, running)
        if stats is None:
            xv = x.reshape(stats_view)
            mean = xv.mean(axis=axes, keepdims=True)
            xhat = xv - mean
            var = xp.square(xhat).mean(axis=axes, keepdims=True)  # two passes: no E[x^2] - E[x]^2 cancellation
            invstd = 1.0 / xp.sqrt(var + eps)
            xhat *= invstd
            xhat = xhat.reshape(x.shape)
            if running is not None:
                self._update_running(mean, var, xv.size // mean.size, *running)
        else:
            mean, var = (s.reshape(affine_shape).astype(x.dtype, copy=False) for s in stats)
            given_mean = mean
            invstd = 1.0 / xp.sqrt(var + eps)
            xhat = x - mean
            xhat *= invstd
        # y never shares memory with the saved xhat, so changing y in place cannot corrupt the backward
        y = xhat * weight.reshape(affine_shape) if weight is not None else xhat.copy()
        if bias is not None:
            y += bias.reshape(affine_shape)
        self.save(xhat, invstd, weight, stats_view, axes, affine_shape, stats is None, eps,
                  None if stats is None else given_mean, None, None)
        return y

    def _forward_compiled(self, x, weight, bias, axes, affine_shape, eps, stats, running):
        """The compiled batch norm forward: y, and the running statistics updated as the array path does. Saves x
        itself (its version is checked by backward) and the per-channel mean in place of xhat."""
        from ...kernels.normalization import batch_norm_forward, update_running  # imports numba: kernels usable

        y, mean, var, invstd = batch_norm_forward(x, weight, bias, eps, *(stats or ()))
        if stats is None and running is not None:
            running_mean, running_var, momentum = running
            count = x.size // mean.size
            if kernels.usable(running_mean, running_var):
                update_running(mean, var, count / (count - 1), running_mean, running_var, momentum)
            else:
                self._update_running(mean, var, count, *running)
        self.save(None, invstd.reshape(affine_shape), weight, x.shape, axes, affine_shape, stats is None, eps,
                  None if stats is None else mean.reshape(affine_shape), x, mean)
        return y

    @staticmethod
    def _update_running(mean, var, count, running_mean, running_var, momentum):
        channels = running_mean.size
        batch_mean = mean.reshape(-1, channels).mean(axis=0)
        batch_var = var.reshape(-1, channels).mean(axis=0) * (count / (count - 1))
        running_mean *= 1 - momentum
        running_mean += (momentum * batch_mean).astype(running_mean.dtype, copy=False)
        running_var *= 1 - momentum
        running_var += (momentum * batch_var).astype(running_var.dtype, copy=False)

    def backward(self, dy):
        xhat, invstd, weight, stats_view, axes, affine_shape, batch_stats = self.saved[:7]
        x, mean = self.saved[9:]  # where the compiled kernels ran forward; else None, None
        needs = self.needs_input_grad
        if x is not None:
            if batch_stats:
                return self._backward_compiled(dy, x, mean, invstd, weight, needs)
            xhat = (x - mean.reshape(affine_shape)) * invstd
        broadcast_axes = tuple(i for i, n in enumerate(affine_shape) if n == 1)
        if batch_stats and axes == broadcast_axes and tuple(stats_view) == dy.shape:
            return self._backward_per_channel(dy, xhat, invstd, weight, axes, affine_shape, needs)
        dx = dweight = dbias = None
        if needs[0]:
            dxhat = dy if weight is None else dy * weight.reshape(affine_shape)
            if batch_stats:
                dxhat = dxhat.reshape(stats_view)
                xhat_v = xhat.reshape(stats_view)
                mean_dxhat = dxhat.mean(axis=axes, keepdims=True)
                mean_dxhat_xhat = (dxhat * xhat_v).mean(axis=axes, keepdims=True)
                dx = xhat_v * -mean_dxhat_xhat
                dx += dxhat
                dx -= mean_dxhat
                dx *= invstd
                dx = dx.reshape(dy.shape)
            else:
                dx = dxhat * invstd
        if needs[1]:
            dweight = (dy * xhat).sum(axis=broadcast_axes).reshape(weight.shape)
        if needs[2]:
            dbias = dy.sum(axis=broadcast_axes).reshape(self.inputs[2].shape)
        return dx, dweight, dbias

    def forward_graph(self, x, weight, bias, **_):  # the keyword arguments were saved in forward
        """y again from differentiable ops on the Tensors (no running-statistics update): what double backward
        differentiates, the batch statistics included."""
        _, invstd, _, stats_view, axes, affine_shape, batch_stats, eps, given_mean = self.saved[:9]
        if batch_stats:
            xv = x.reshape(stats_view)
            centered = xv - xv.mean(axis=axes, keepdims=True)
            var = (centered * centered).mean(axis=axes, keepdims=True)
            xhat = (centered / (var + eps).sqrt()).reshape(x.shape)
        else:
            xhat = (x - given_mean) * invstd
        y = xhat * weight.reshape(affine_shape) if weight is not None else xhat
        return y + bias.reshape(affine_shape) if bias is not None else y

    @staticmethod
    def _backward_per_channel(dy, xhat, invstd, weight, axes, affine_shape, needs):
        """Batch norm's case, where the statistics and the scale share their axes: sum(dy) and sum(dy xhat) serve
        both the parameter gradients and dx = weight invstd (dy - sum(dy)/M - xhat sum(dy xhat)/M), so the backward
        is a few passes over the data."""
        sum_dy = dy.sum(axis=axes, keepdims=True)
        sum_dy_xhat = (dy * xhat).sum(axis=axes, keepdims=True)
        dx = None
        if needs[0]:
            m = dy.size // sum_dy.size
            scale = invstd if weight is None else invstd * weight.reshape(affine_shape)
            dx = dy * scale
            dx -= xhat * (scale * sum_dy_xhat / m)
            dx -= scale * sum_dy / m
        dweight = sum_dy_xhat.reshape(weight.shape) if needs[1] else None
        dbias = sum_dy.reshape(-1) if needs[2] else None
        return dx, dweight, dbias

    @staticmethod
    def _backward_compiled(dy, x, mean, invstd, weight, needs):
        """``_backward_per_channel`` by the compiled kernels (xhat recomputed from the saved x, mean and invstd)."""
        from ...kernels.normalization import batch_norm_backward

        dx, sum_dy, sum_dy_xhat = batch_norm_backward(dy, x, mean, invstd.reshape(-1), weight, needs[0])
        return dx, sum_dy_xhat if needs[1] else None, sum_dy if needs[2] else None


def _compiled_channels(x, weight, bias, stats_view, axes, affine_shape, stats):
    """True where ``Normalize`` runs the compiled batch norm kernels: a non-empty float32/float64 NumPy x (N, C, *)
    normalized per channel (over N and the spatial axes, or with given per-channel statistics), weight and bias
    (if any) of x's dtype, and ``kernels.usable`` (numba present, not switched off)."""
    if x.ndim < 2 or x.size == 0 or x.dtype not in _COMPILED_DTYPES or tuple(stats_view) != x.shape:
        return False
    if tuple(affine_shape) != _channel_affine_shape(x):
        return False
    if stats is None and axes != (0,) + tuple(range(2, x.ndim)):
        return False
    if any(a is not None and a.dtype != x.dtype for a in (weight, bias)):
        return False
    return kernels.usable(x, *(a for a in (weight, bias) if a is not None), *(stats or ()))


_COMPILED_DTYPES = (backend.np.dtype("float32"), backend.np.dtype("float64"))


class LocalResponseNorm(Function):
    """b_c = a_c / (k + alpha/n * sum_{c'} a_{c'}^2)^beta, the sum over the n channels c' from c - n//2 to c + (n-1)//2
    (zero beyond the edges). x: (N, C, *) -> same shape.

    With d_c the denominator's base: da_j = dy_j d_j^-beta - (2 alpha beta / n) a_j sum_{c: j in window(c)} dy_c a_c
    d_c^(-beta-1).
    """

    def forward(self, x, size, alpha, beta, k):
        before, after = size // 2, (size - 1) // 2
        d = self._window_sum(x * x, size, before, after) * (alpha / size) + k
        scale = d ** (-beta)
        self.save(x, d, scale, size, alpha, beta)
        return x * scale

    def _window_sum(self, a, size, before, after):
        """s_c = sum of a over channels c - before .. c + after, zero-padded (a loop over the few offsets is exact,
        unlike a difference of cumulative sums)."""
        c = a.shape[1]
        padded = self.xp.zeros((a.shape[0], c + size - 1) + a.shape[2:], dtype=a.dtype)
        padded[:, before:before + c] = a
        s = padded[:, 0:c].copy()
        for offset in range(1, size):
            s += padded[:, offset:offset + c]
        return s

    def backward(self, dy):
        x, d, scale, size, alpha, beta = self.saved
        t = dy * x * scale / d
        # the transpose of the window: input j feeds outputs j - after .. j + before
        back = self._window_sum(t, size, (size - 1) // 2, size // 2)
        return dy * scale - (2 * alpha * beta / size) * x * back

    def forward_graph(self, x, size, alpha, beta, k):
        """b again from differentiable ops on the Tensor x (double backward): the window sum as shifted slices of
        the channel-padded squares."""
        c = x.shape[1]
        padded = pad(x * x, (0, 0) * (x.ndim - 2) + (size // 2, (size - 1) // 2))
        s = padded.narrow(1, 0, c)
        for offset in range(1, size):
            s = s + padded.narrow(1, offset, c)
        return x * (s * (alpha / size) + k) ** (-beta)


# ------------------------------------------------------------------------------------------------------ checks
def _shape(t):
    return tuple(t.shape)


def _check_tensor(name, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: input must be a ganglion Tensor, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: input must be a floating point tensor, got {x.dtype}")


def _check_per_channel(name, channels, input, **tensors):
    for arg, t in tensors.items():
        if t is not None and _shape(t) != (channels,):
            raise ValueError(
                f"{name}: {arg} must have shape ({channels},), one value per channel of the input of shape "
                f"{_shape(input)}, got {_shape(t)}"
            )


def _channel_affine_shape(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _trailing_norm_input(name, input, normalized_shape):
    """The door of the norms over trailing axes (layer, RMS): a float Tensor ending in ``normalized_shape``.
    Returns (normalized_shape as a tuple, its length)."""
    _check_tensor(name, input)
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(normalized_shape)
    if k == 0 or input.ndim < k or _shape(input)[input.ndim - k:] != normalized_shape:
        raise ValueError(
            f"{name}: normalized_shape={normalized_shape} expects input of shape (*, "
            f"{', '.join(map(str, normalized_shape))}), got {_shape(input)}"
        )
    return normalized_shape, k


def _running(name, running_mean, running_var, momentum):
    if running_mean is None:
        return None
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float)):
        raise TypeError(f"{name}: momentum must be a number, got {momentum!r}")
    return running_mean.array, running_var.array, float(momentum)


def _check_channel_norm(name, input, min_ndim, shape_text, running_mean, running_var, weight, bias):
    """The door of the per-channel norms (batch, instance): a float Tensor of at least ``min_ndim`` dims, running
    statistics given together, every per-channel argument of shape (C,)."""
    _check_tensor(name, input)
    if input.ndim < min_ndim:
        raise ValueError(f"{name}: expected input of shape {shape_text}, got {_shape(input)}")
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{name}: running_mean and running_var must be given together (or both be None)")
    _check_per_channel(name, input.shape[1], input, running_mean=running_mean, running_var=running_var,
                       weight=weight, bias=bias)


def _normalize_with_running_stats(name, when, input, running_mean, running_var, weight, bias, eps):
    """y from the running statistics (eval-mode batch norm, instance norm without input statistics)."""
    if running_mean is None:
        raise ValueError(f"{name}: running_mean and running_var are required when {when}")
    return Normalize.apply(input, weight, bias, stats_view=input.shape, axes=None,
                           affine_shape=_channel_affine_shape(input), eps=eps,
                           stats=(running_mean.array, running_var.array))


# --------------------------------------------------------------------------------------------------- functions
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalization over every axis but the channels: (N, C, *) -> (N, C, *).

    y = (x - mean) / sqrt(var + eps) * weight + bias, per channel. Training: mean and the biased var of the batch,
    and running_mean / running_var (if given) are updated in place with ``momentum``, the variance unbiased.
    Otherwise the running statistics are used.
    """
    _check_channel_norm("batch_norm", input, 2, "(N, C, *)", running_mean, running_var, weight, bias)
    if not training:
        return _normalize_with_running_stats("batch_norm", "training=False", input, running_mean, running_var,
                                             weight, bias, eps)
    if input.numel() // max(input.shape[1], 1) <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {_shape(input)}")
    axes = (0,) + tuple(range(2, input.ndim))
    return Normalize.apply(input, weight, bias, stats_view=input.shape, axes=axes,
                           affine_shape=_channel_affine_shape(input), eps=eps,
                           running=_running("batch_norm", running_mean, running_var, momentum))


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Instance normalization: each sample's channel normalized over its own spatial axes. (N, C, *) -> (N, C, *).

    y = (x - mean) / sqrt(var + eps) * weight + bias with mean and the biased var of x[n, c]. running_mean /
    running_var (if given) follow the batch average of those statistics; ``use_input_stats=False`` uses them instead.
    """
    _check_channel_norm("instance_norm", input, 3, "(N, C, *) with spatial axes", running_mean, running_var,
                        weight, bias)
    if not use_input_stats:
        return _normalize_with_running_stats("instance_norm", "use_input_stats=False", input, running_mean,
                                             running_var, weight, bias, eps)
    if input.numel() // max(input.shape[0] * input.shape[1], 1) <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {_shape(input)}")
    return Normalize.apply(input, weight, bias, stats_view=input.shape, axes=tuple(range(2, input.ndim)),
                           affine_shape=_channel_affine_shape(input), eps=eps,
                           running=_running("instance_norm", running_mean, running_var, momentum))


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalization over the trailing ``normalized_shape`` axes: (*, *normalized_shape) -> same shape.

    y = (x - mean) / sqrt(var + eps) * weight + bias, mean and biased var over the normalized axes of each sample;
    weight and bias have shape ``normalized_shape``.
    """
    normalized_shape, k = _trailing_norm_input("layer_norm", input, normalized_shape)
    for arg, t in (("weight", weight), ("bias", bias)):
        if t is not None and _shape(t) != normalized_shape:
            raise ValueError(f"layer_norm: {arg} must have shape {normalized_shape}, got {_shape(t)}")
    axes = tuple(range(input.ndim - k, input.ndim))
    affine_shape = (1,) * (input.ndim - k) + normalized_shape
    return Normalize.apply(input, weight, bias, stats_view=input.shape, axes=axes, affine_shape=affine_shape, eps=eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """RMS normalization over the trailing ``normalized_shape`` axes: (*, *normalized_shape) -> same shape.

    y = x / sqrt(mean(x^2) + eps) * weight, the mean per sample over the normalized axes; no centring, no bias;
    eps defaults to the machine epsilon of x's dtype (PyTorch's). Composed of ops, so it has every derivative.
    """
    normalized_shape, k = _trailing_norm_input("rms_norm", input, normalized_shape)
    if weight is not None and _shape(weight) != normalized_shape:
        raise ValueError(f"rms_norm: weight must have shape {normalized_shape}, got {_shape(weight)}")
    if eps is None:
        eps = float(backend.np.finfo(input.dtype).eps)
    dims = tuple(range(input.ndim - k, input.ndim))
    y = input / ((input * input).mean(dim=dims, keepdim=True) + eps).sqrt()
    return y if weight is None else y * weight


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalization: the C channels split into ``num_groups`` groups, each normalized per sample over its
    channels and spatial axes. (N, C, *) -> (N, C, *); weight and bias: (C,).
    """
    _check_tensor("group_norm", input)
    if input.ndim < 2:
        raise ValueError(f"group_norm: expected input of shape (N, C, *), got {_shape(input)}")
    channels = input.shape[1]
    if isinstance(num_groups, bool) or not isinstance(num_groups, int) or num_groups <= 0:
        raise ValueError(f"group_norm: num_groups must be a positive int, got {num_groups!r}")
    if channels % num_groups:
        raise ValueError(
            f"group_norm: the {channels} channels of input {_shape(input)} cannot be split into {num_groups} groups "
            f"(num_channels must be divisible by num_groups)"
        )
    _check_per_channel("group_norm", channels, input, weight=weight, bias=bias)
    stats_view = (input.shape[0], num_groups, -1)
    return Normalize.apply(input, weight, bias, stats_view=stats_view, axes=(2,),
                           affine_shape=_channel_affine_shape(input), eps=eps)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Local response normalization across channels (AlexNet): (N, C, *) -> (N, C, *).

    b_c = a_c / (k + alpha/size * sum_{c'=c-size//2}^{c+(size-1)//2} a_{c'}^2)^beta, channels beyond the edges
    counting as zero (PyTorch's convention: alpha is divided by size).
    """
    _check_tensor("local_response_norm", input)
    if input.ndim < 3:
        raise ValueError(f"local_response_norm: expected input of shape (N, C, *) with 3 or more dimensions, got "
                         f"{_shape(input)}")
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise ValueError(f"local_response_norm: size must be a positive int, got {size!r}")
    return LocalResponseNorm.apply(input, size, float(alpha), float(beta), float(k))
