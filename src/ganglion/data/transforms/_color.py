"""Colour kernels on (N, H, W, C) arrays with one factor per image: grey conversion, brightness, contrast,
saturation and hue. uint8 images follow Pillow's integer arithmetic (``convert("L")`` and ``ImageEnhance``);
floating images (values in [0, 1]) use the same formulas in floating point."""

import numpy as np

from ._image import to_dtype

_GREY_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R 601-2 luma, as Pillow's convert("L")


def grayscale(x):
    """Luma L = 0.299 R + 0.587 G + 0.114 B of RGB images: (N, H, W, 3) -> (N, H, W, 1); single-channel images pass
    through. uint8 uses Pillow's fixed point: (19595 R + 38470 G + 7471 B + 2^15) >> 16."""
    if x.shape[3] == 1:
        return x
    if x.shape[3] != 3:
        raise ValueError(f"Grayscale: expected 1 or 3 channels, got {x.shape[3]}")
    if x.dtype == np.uint8:
        r, g, b = (x[..., i].astype(np.uint32) for i in range(3))
        return ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16).astype(np.uint8)[..., None]
    w = np.asarray(_GREY_WEIGHTS, dtype=x.dtype)
    return (x @ w)[..., None].astype(x.dtype, copy=False)


def blend(base, image, factor):
    """base + factor (image - base), per image (factor: (N,)), clipped to the valid range. uint8 is computed in
    float32 and truncated, as Pillow's ``Image.blend``."""
    f = np.asarray(factor).reshape(-1, 1, 1, 1)
    if image.dtype == np.uint8:
        base32, image32 = base.astype(np.float32), image.astype(np.float32)
        return to_dtype(base32 + f.astype(np.float32) * (image32 - base32), np.uint8, rounding="truncate")
    return to_dtype(base + f.astype(image.dtype) * (image - base), image.dtype)


def adjust_brightness(x, factor):
    """factor * x: 0 gives black, 1 the image."""
    return blend(np.zeros_like(x), x, factor)


def adjust_contrast(x, factor):
    """Blend with the image's mean grey level: 0 gives flat grey, 1 the image. (uint8: the mean rounded to an
    integer, as Pillow's ``ImageEnhance.Contrast``.)"""
    grey = grayscale(x)
    mean = grey.reshape(grey.shape[0], -1).astype(np.float64).mean(axis=1)
    if x.dtype == np.uint8:
        mean = np.floor(mean + 0.5)
    return blend(np.broadcast_to(mean.reshape(-1, 1, 1, 1), x.shape), x, factor)


def adjust_saturation(x, factor):
    """Blend with the grey version: 0 gives grey, 1 the image (single-channel images are returned unchanged)."""
    if x.shape[3] == 1:
        return x
    return blend(np.broadcast_to(grayscale(x), x.shape), x, factor)


def rgb_to_hsv(rgb):
    """RGB in [0, 1] -> HSV in [0, 1] (hue as a fraction of a turn); arrays (..., 3)."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    maxc, minc = rgb.max(axis=-1), rgb.min(axis=-1)
    delta = maxc - minc
    safe_delta = np.where(delta > 0, delta, 1)
    s = np.where(maxc > 0, delta / np.where(maxc > 0, maxc, 1), 0)
    rc, gc, bc = (maxc - r) / safe_delta, (maxc - g) / safe_delta, (maxc - b) / safe_delta
    h = np.where(r == maxc, bc - gc, np.where(g == maxc, 2.0 + rc - bc, 4.0 + gc - rc))
    h = np.where(delta > 0, (h / 6.0) % 1.0, 0.0)
    return np.stack([h, s, maxc], axis=-1)


def hsv_to_rgb(hsv):
    """HSV in [0, 1] -> RGB in [0, 1]; arrays (..., 3)."""
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    sector = np.floor(h * 6.0)
    f = h * 6.0 - sector
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    sector = sector.astype(np.int64) % 6
    r = np.choose(sector, [v, q, p, p, t, v])
    g = np.choose(sector, [t, v, v, q, p, p])
    b = np.choose(sector, [p, p, t, v, v, q])
    return np.stack([r, g, b], axis=-1)


def adjust_hue(x, shift):
    """Rotate the hue by ``shift`` turns (per image, in [-0.5, 0.5]); saturation and value are kept."""
    if x.shape[3] == 1:
        return x
    scale = 255.0 if x.dtype == np.uint8 else 1.0
    hsv = rgb_to_hsv(x.astype(np.float64) / scale)
    hsv[..., 0] = (hsv[..., 0] + np.asarray(shift, dtype=np.float64).reshape(-1, 1, 1)) % 1.0
    return to_dtype(hsv_to_rgb(hsv) * scale, x.dtype)
