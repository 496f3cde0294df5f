"""Resizing: ``interpolate`` (nearest, nearest-exact, linear/bilinear/trilinear, bicubic, area) and pixel shuffles.

Every mode is separable: the output is resampled along one spatial axis at a time, each output position being a
weighted sum of a few input positions (``_taps``). Source positions follow PyTorch, in its precision:

- nearest:        src = min(floor(dst * scale), in - 1)
- nearest-exact:  src = min(floor((dst + 0.5) * scale), in - 1)
- linear:         src = scale * dst (align_corners) or max(scale (dst + 0.5) - 0.5, 0); the two neighbours of src
                  weighted by 1 - frac and frac
- bicubic:        the four neighbours floor(src) - 1 .. floor(src) + 2 (clamped to the input) with Keys' cubic
                  convolution weights, A = -0.75; src as for linear but not clamped at 0
- area:           adaptive average pooling to the output size

with scale = 1 / scale_factor when a scale factor is given (and not recomputed), in / out otherwise, and
(in - 1) / (out - 1) for align_corners.
"""

import math

from ... import backend
from ...arguments import positive_int
from ...tensor import Tensor
from ._taps import apply_taps
from .pooling_adaptive import adaptive_avg_pool

_MODES = {"nearest": None, "nearest-exact": None, "area": None, "linear": 3, "bilinear": 4, "bicubic": 4,
          "trilinear": 5}
_CUBIC_A = -0.75


def _scale(in_size, out_size, scale_factor, align_corners, dtype):
    """PyTorch's source-per-destination step, computed in ``dtype`` as PyTorch does (float32 for nearest)."""
    t = dtype.type
    if align_corners:
        return t(in_size - 1) / t(out_size - 1) if out_size > 1 else t(0)
    if scale_factor is not None and scale_factor > 0:
        return t(1.0 / scale_factor)
    return t(in_size) / t(out_size)


def _nearest_table(in_size, out_size, scale_factor, exact):
    np = backend.np
    dst = np.arange(out_size)
    if not exact:
        if out_size == in_size:
            return dst[:, None]
        if out_size == 2 * in_size:
            return (dst >> 1)[:, None]
    scale = _scale(in_size, out_size, scale_factor, False, np.dtype(np.float32))
    pos = dst.astype(np.float32)
    if exact:
        pos = pos + np.float32(0.5)
    return np.minimum(np.floor(pos * scale).astype(np.int64), in_size - 1)[:, None]


def _source(in_size, out_size, scale_factor, align_corners, dtype, cubic):
    np = backend.np
    scale = _scale(in_size, out_size, scale_factor, align_corners, dtype)
    dst = np.arange(out_size).astype(dtype)
    if align_corners:
        return scale * dst
    src = scale * (dst + dtype.type(0.5)) - dtype.type(0.5)
    return src if cubic else np.maximum(src, dtype.type(0))


def _linear_table(in_size, out_size, scale_factor, align_corners, dtype):
    np = backend.np
    if out_size == in_size:
        return np.arange(out_size)[:, None], None
    src = _source(in_size, out_size, scale_factor, align_corners, dtype, cubic=False)
    i0 = src.astype(np.int64)
    i1 = i0 + (i0 < in_size - 1)
    frac = np.clip(src - i0, 0, 1)
    return np.stack([i0, i1], axis=1), np.stack([1 - frac, frac], axis=1)


def _cubic_table(in_size, out_size, scale_factor, align_corners, dtype):
    np = backend.np
    src = _source(in_size, out_size, scale_factor, align_corners, dtype, cubic=True)
    i0 = np.floor(src).astype(np.int64)
    t = src - i0
    a = _CUBIC_A

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    weight = np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], axis=1)
    index = np.clip(i0[:, None] + np.arange(-1, 3)[None, :], 0, in_size - 1)
    return index, weight


def _output_size(input, size, scale_factor, nd):
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: exactly one of size or scale_factor must be given, got "
                         f"size={size!r} and scale_factor={scale_factor!r}")
    if size is not None:
        sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * nd
        if len(sizes) != nd or any(not isinstance(s, int) or isinstance(s, bool) or s < 1 for s in sizes):
            raise ValueError(f"interpolate: size must be a positive int or a tuple of {nd} of them for a "
                             f"{nd + 2}-D input, got {size!r}")
        return sizes, (None,) * nd
    scales = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * nd
    if len(scales) != nd or any(not isinstance(s, (int, float)) or isinstance(s, bool) or s <= 0 for s in scales):
        raise ValueError(f"interpolate: scale_factor must be a positive number or a tuple of {nd} of them for a "
                         f"{nd + 2}-D input, got {scale_factor!r}")
    sizes = tuple(math.floor(float(n) * float(s)) for n, s in zip(input.shape[2:], scales))
    if any(s < 1 for s in sizes):
        raise ValueError(f"interpolate: scale_factor {scale_factor} turns the spatial size {tuple(input.shape[2:])} "
                         f"into {sizes}; every output size must be >= 1")
    return sizes, tuple(float(s) for s in scales)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of (N, C, *spatial) (1 to 3 spatial dims) to ``size`` or by ``scale_factor``.

    (N, C, *in) -> (N, C, *out) with out = size or floor(in * scale_factor). ``mode`` is one of nearest,
    nearest-exact, linear (3-D input), bilinear and bicubic (4-D), trilinear (5-D) and area.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate: input must be a Tensor, got {type(input).__name__}")
    if mode not in _MODES:
        raise ValueError(f"interpolate: unknown mode {mode!r}; accepted modes are {', '.join(_MODES)}")
    if input.ndim not in (3, 4, 5):
        raise ValueError(f"interpolate: expected a 3-D, 4-D or 5-D input (N, C, *spatial), got shape "
                         f"{tuple(input.shape)}")
    if _MODES[mode] is not None and input.ndim != _MODES[mode]:
        raise ValueError(f"interpolate: mode {mode!r} needs a {_MODES[mode]}-D input, got shape {tuple(input.shape)}")
    interpolating = mode in ("linear", "bilinear", "bicubic", "trilinear")
    if align_corners is not None and not interpolating:
        raise ValueError(f"interpolate: align_corners can only be set with the interpolating modes linear, bilinear, "
                         f"bicubic and trilinear, not {mode!r}")
    if antialias:
        raise ValueError("interpolate: antialias=True is not supported; resize without it, or blur first "
                         "(avg_pool2d) before downsampling")
    if input.dtype.kind != "f":
        raise TypeError(f"interpolate: expected a floating-point input, got {input.dtype}")
    nd = input.ndim - 2
    sizes, scales = _output_size(input, size, scale_factor, nd)
    if recompute_scale_factor:
        scales = (None,) * nd
    if mode == "area":
        return adaptive_avg_pool(input, sizes, nd, "interpolate")
    y = input
    for dim, (n_in, n_out, scale) in enumerate(zip(input.shape[2:], sizes, scales)):
        if mode in ("nearest", "nearest-exact"):
            index, weight = _nearest_table(n_in, n_out, scale, exact=mode == "nearest-exact"), None
        elif mode == "bicubic":
            index, weight = _cubic_table(n_in, n_out, scale, bool(align_corners), input.dtype)
        else:
            index, weight = _linear_table(n_in, n_out, scale, bool(align_corners), input.dtype)
        if weight is None and n_in == n_out and (index[:, 0] == backend.np.arange(n_in)).all():
            continue
        y = apply_taps(y, 2 + dim, index, weight)
    return y if y is not input else input.clone()


def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r): y[c, h r + i, w r + j] = x[c r^2 + i r + j, h, w]."""
    positive_int("pixel_shuffle", "upscale_factor", upscale_factor)
    r = upscale_factor
    if input.ndim < 3 or input.shape[-3] % (r * r):
        raise ValueError(f"pixel_shuffle: expected input of shape (*, C*{r * r}, H, W) (channels divisible by "
                         f"upscale_factor^2 = {r * r}), got {tuple(input.shape)}")
    *lead, c, h, w = input.shape
    k = len(lead)
    x = input.reshape(tuple(lead) + (c // (r * r), r, r, h, w))
    x = x.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return x.reshape(tuple(lead) + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W): the inverse of ``pixel_shuffle``."""
    positive_int("pixel_unshuffle", "downscale_factor", downscale_factor)
    r = downscale_factor
    if input.ndim < 3 or input.shape[-2] % r or input.shape[-1] % r:
        raise ValueError(f"pixel_unshuffle: expected input of shape (*, C, H*{r}, W*{r}) (height and width divisible "
                         f"by downscale_factor {r}), got {tuple(input.shape)}")
    *lead, c, h, w = input.shape
    k = len(lead)
    x = input.reshape(tuple(lead) + (c, h // r, r, w // r, r))
    x = x.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return x.reshape(tuple(lead) + (c * r * r, h // r, w // r))
