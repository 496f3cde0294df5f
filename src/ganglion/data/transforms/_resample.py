"""Resizing as two matrix products: out = K_rows @ image @ K_cols^T, one pass per axis, width first.

Row ``o`` of a resampling matrix K (out_size x in_size) holds the filter weights of output pixel ``o``: centred on
``c = start + (o + 0.5) * scale`` (``scale = length / out_size``), the filter stretched by ``max(scale, 1)`` when
shrinking (antialiasing), restricted to the crop box ``[start, start + length)`` and normalised to sum to 1. This is
the convolution resampling Pillow uses; for uint8 images the weights are rounded to 22-bit fixed point and each pass
is rounded back to uint8, as Pillow does, so results agree with Pillow's ``Image.resize`` pixel for pixel.
Crops of different images in a batch simply give different matrices (one batched matrix product).
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
    if isinstance(value, str):
        try:
            value = InterpolationMode(value.lower())
        except ValueError:
            value = None
    if value not in accepted:
        names = ", ".join(m.value for m in accepted)
        raise ValueError(f"{owner}: unsupported interpolation {value!r}; accepted: {names}")
    return value


def _triangle(x):
    return np.maximum(0.0, 1.0 - np.abs(x))


def _cubic(x, a=-0.5):  # Keys' cubic convolution kernel with a = -0.5, as Pillow's BICUBIC
    x = np.abs(x)
    near = ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    far = (((x - 5.0) * x + 8.0) * x - 4.0) * a
    return np.where(x < 1.0, near, np.where(x < 2.0, far, 0.0))


_FILTERS = {InterpolationMode.BILINEAR: (_triangle, 1.0), InterpolationMode.BICUBIC: (_cubic, 2.0)}


def weights(in_size, out_size, start, length, mode, antialias=True):
    """Resampling matrices of shape (N, out_size, in_size) for crop boxes ``[start, start + length)`` (arrays of N
    integers) of an axis of ``in_size`` pixels."""
    start = np.asarray(start, dtype=np.float64).reshape(-1, 1, 1)
    length = np.asarray(length, dtype=np.float64).reshape(-1, 1, 1)
    fn, support = _FILTERS[mode]
    scale = length / out_size
    stretch = np.maximum(scale, 1.0) if antialias else np.ones_like(scale)
    support = support * stretch
    centre = (np.arange(out_size, dtype=np.float64).reshape(1, -1, 1) + 0.5) * scale  # relative to the box
    lo = np.clip(np.trunc(centre - support + 0.5), 0, length)
    hi = np.clip(np.trunc(centre + support + 0.5), 0, length)
    pos = np.arange(in_size, dtype=np.float64).reshape(1, 1, -1) - start  # input pixel index relative to the box
    k = fn((pos - centre + 0.5) / stretch)
    k = np.where((pos >= lo) & (pos < hi), k, 0.0)
    total = k.sum(axis=2, keepdims=True)
    return np.divide(k, total, out=np.zeros_like(k), where=total != 0)


def _fixed_point(k):
    scaled = k * (1 << _PRECISION_BITS)
    return np.trunc(np.where(k < 0, scaled - 0.5, scaled + 0.5))


def _pass(x, k, axis, integer):
    """Resample ``x`` (N, H, W, C) along ``axis`` (1: rows, 2: columns) with matrices ``k`` (N or 1, out, in)."""
    if axis == 2:
        moved = x.transpose(0, 1, 3, 2)                      # (N, H, C, W)
        out = moved @ k.transpose(0, 2, 1)[:, None]         # (N, H, C, Wo)
        out = out.transpose(0, 1, 3, 2)
    else:
        n, h, w, c = x.shape
        out = (k @ x.reshape(n, h, w * c)).reshape(n, k.shape[1], w, c)
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
    if not (same(left) and same(width) and left[0] == 0 and width[0] == w == out_w):
        kw = weights(w, out_w, left if not same(left) else left[:1], width if not same(width) else width[:1], mode,
                     antialias)
        kw = _fixed_point(kw) if integer else kw.astype(work.dtype)
        work = _pass(work, kw, 2, integer)
    if not (same(top) and same(height) and top[0] == 0 and height[0] == h == out_h):
        kh = weights(h, out_h, top if not same(top) else top[:1], height if not same(height) else height[:1], mode,
                     antialias)
        kh = _fixed_point(kh) if integer else kh.astype(work.dtype)
        work = _pass(work, kh, 1, integer)
    return work.astype(x.dtype) if integer else work.astype(x.dtype if x.dtype.kind == "f" else work.dtype)
