"""Resizing as two separable passes, out = K_rows @ image @ K_cols^T, width first; each pass is a few vectorized
gather-multiply-adds, one per filter tap (K is banded, so the zeros are never touched).

Row ``o`` of a resampling matrix K (out_size x in_size) holds the filter weights of output pixel ``o``: centred on
``c = start + (o + 0.5) * scale`` (``scale = length / out_size``), the filter stretched by ``max(scale, 1)`` when
shrinking (antialiasing), restricted to the crop box ``[start, start + length)`` and normalised to sum to 1. This is
the convolution resampling Pillow uses; for uint8 images the weights are rounded to 22-bit fixed point and each pass
is rounded back to uint8, as Pillow does, so results agree with Pillow's ``Image.resize`` pixel for pixel.
Crops of different images in a batch simply give different taps.
"""

import enum

import numpy as np

_PRECISION_BITS = 22  # Pillow's fixed-point weight precision for 8-bit images


class InterpolationMode(enum.Enum):
    """How a resize or warp reads between pixels."""

    NEAREST = "nearest"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"


def interpolation_mode(value, owner, accepted=tuple(InterpolationMode)):
    """``value`` (an InterpolationMode or its name) as an InterpolationMode, checked against ``accepted``."""
    given = value
    if isinstance(value, str):
        try:
            value = InterpolationMode(value.lower())
        except ValueError:
            pass
    if value not in accepted:
        names = ", ".join(m.value for m in accepted)
        raise ValueError(f"{owner}: unsupported interpolation {given!r}; accepted: {names}")
    return value


def _triangle(x):
    return np.maximum(0.0, 1.0 - np.abs(x))


def _cubic(x, a=-0.5):  # Keys' cubic convolution kernel with a = -0.5, as Pillow's BICUBIC
    x = np.abs(x)
    near = ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    far = (((x - 5.0) * x + 8.0) * x - 4.0) * a
    return np.where(x < 1.0, near, np.where(x < 2.0, far, 0.0))


_FILTERS = {InterpolationMode.BILINEAR: (_triangle, 1.0), InterpolationMode.BICUBIC: (_cubic, 2.0)}


def weights(out_size, start, length, mode, antialias=True):
    """The filter taps of each output pixel for crop boxes ``[start, start + length)`` (arrays of N ints) of one
    axis: ``first`` (N, out_size), the input index of the first tap, and ``taps`` (N, out_size, K), weights summing
    to 1 (zero past a pixel's support). Row ``o`` of the dense matrix K holds ``taps[o]`` from column ``first[o]``."""
    start = np.asarray(start, dtype=np.float64).reshape(-1, 1)
    length = np.asarray(length, dtype=np.float64).reshape(-1, 1)
    fn, support = _FILTERS[mode]
    scale = length / out_size
    stretch = np.maximum(scale, 1.0) if antialias else np.ones_like(scale)
    support = support * stretch
    centre = (np.arange(out_size, dtype=np.float64) + 0.5) * scale  # relative to the box, (N, out)
    lo = np.clip(np.trunc(centre - support + 0.5), 0, length)
    hi = np.clip(np.trunc(centre + support + 0.5), 0, length)
    pos = lo[..., None] + np.arange(max(int((hi - lo).max()), 1))  # (N, out, K), relative to the box
    k = np.where(pos < hi[..., None], fn((pos - centre[..., None] + 0.5) / stretch[..., None]), 0.0)
    total = k.sum(axis=2, keepdims=True)
    taps = np.divide(k, total, out=np.zeros_like(k), where=total != 0)
    return (lo + start).astype(np.int64), taps


def _fixed_point(k):
    scaled = k * (1 << _PRECISION_BITS)
    return np.trunc(np.where(k < 0, scaled - 0.5, scaled + 0.5))


def _pass(x, first, taps, axis, integer):
    """Resample ``x`` (N, H, W, C) along ``axis`` (1: rows, 2: columns): output pixel o is the sum over taps j of
    taps[o, j] * x[first[o] + j] (``first`` and ``taps`` per image, or one set for all)."""
    size = x.shape[axis]
    shared = first.shape[0] == 1
    batch = None if shared else np.arange(x.shape[0])[:, None]
    out = 0.0
    for j in range(taps.shape[2]):
        index = np.minimum(first + j, size - 1)  # taps past the edge have weight 0
        w = taps[:, :, j]
        if axis == 1:
            gathered = x[:, index[0]] if shared else x[batch, index]          # (N, Ho, W, C)
            out = out + gathered * w[:, :, None, None]
        else:
            gathered = x[:, :, index[0]] if shared else x[batch, :, index]    # (N, H, Wo, C) or (N, Wo, H, C)
            out = out + gathered * (w[:, None, :, None] if shared else w[:, :, None, None])
    if axis == 2 and not shared:
        out = out.transpose(0, 2, 1, 3)
    if integer:
        out = np.clip(np.floor((out + (1 << (_PRECISION_BITS - 1))) / (1 << _PRECISION_BITS)), 0, 255)
    return out


def _nearest_index(length, out_size):
    """floor((o + 0.5) * length / out_size) for each output pixel o, the positions summed step by step in float64
    as Pillow does (so ties at exact pixel edges fall the same way): an (N, out_size) int array."""
    step = length[:, None] / out_size
    steps = np.repeat(step, out_size, axis=1)
    steps[:, 0] *= 0.5
    return np.minimum(np.cumsum(steps, axis=1).astype(np.int64), length[:, None] - 1)


def resize_boxes(x, out_h, out_w, boxes, mode, antialias=True):
    """Resize the crop ``boxes`` (top, left, height, width; arrays of N ints) of ``x`` (N, H, W, C) to
    (N, out_h, out_w, C). ``mode``: NEAREST, BILINEAR or BICUBIC."""
    top, left, height, width = (np.broadcast_to(np.asarray(b, dtype=np.int64), (x.shape[0],)) for b in boxes)
    n, h, w, c = x.shape
    if mode is InterpolationMode.NEAREST:  # the pixel under each output pixel's centre
        rows = top[:, None] + _nearest_index(height, out_h)
        cols = left[:, None] + _nearest_index(width, out_w)
        return x[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
    same = lambda a: bool(np.all(a == a[0]))  # noqa: E731
    integer = x.dtype == np.uint8
    work = x.astype(np.float64 if integer else (x.dtype if x.dtype.kind == "f" else np.float32), copy=False)
    for axis, start, length, size, out_size in ((2, left, width, w, out_w), (1, top, height, h, out_h)):
        if same(start) and same(length) and start[0] == 0 and length[0] == size == out_size:
            continue  # this axis is unchanged (Pillow skips the pass too)
        if same(start) and same(length):
            start, length = start[:1], length[:1]
        first, taps = weights(out_size, start, length, mode, antialias)
        taps = _fixed_point(taps) if integer else taps.astype(work.dtype)
        work = _pass(work, first, taps, axis, integer)
    return work.astype(x.dtype) if integer else work.astype(x.dtype if x.dtype.kind == "f" else work.dtype)
