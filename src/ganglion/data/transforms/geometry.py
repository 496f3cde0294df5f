"""Geometric kernels on (N, H, W, C) arrays with per-image parameters: crop, pad, flip and affine warps.

Coordinates are Pillow's: pixel (row i, column j) covers [j, j+1) x [i, i+1), so its centre is (j + 0.5, i + 0.5),
and the centre of an H x W image is (W / 2, H / 2).
"""

import math

import numpy as np

from .resample import InterpolationMode

PADDING_MODES = {"constant": "constant", "edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}


def fill_values(fill, channels, dtype, owner):
    """``fill`` (a number or one value per channel) as an array of shape (C,) in the image dtype."""
    values = np.asarray(0 if fill is None else fill, dtype=np.float64).reshape(-1)
    if values.size == 1:
        values = np.repeat(values, channels)
    if values.size != channels:
        raise ValueError(f"{owner}: fill has {values.size} values but the image has {channels} channels")
    return values.astype(dtype)


def crop(x, top, left, height, width, fill=None):
    """Windows of ``height`` x ``width`` at (``top``, ``left``) (ints or arrays of N ints) from ``x`` (N, H, W, C);
    parts outside the image are ``fill`` (zeros by default)."""
    n, h, w, c = x.shape
    top, left = np.asarray(top, dtype=np.int64).reshape(-1), np.asarray(left, dtype=np.int64).reshape(-1)
    if top.size == 1 and left.size == 1:  # one window for all images: a slice when it lies inside
        t, l = int(top[0]), int(left[0])
        if t >= 0 and l >= 0 and t + height <= h and l + width <= w:
            return x[:, t:t + height, l:l + width]
    top, left = np.broadcast_to(top, (n,)), np.broadcast_to(left, (n,))
    if top.min() >= 0 and left.min() >= 0 and top.max() + height <= h and left.max() + width <= w:
        windows = np.lib.stride_tricks.sliding_window_view(x, (height, width), axis=(1, 2))  # a view, no copy
        return windows[np.arange(n), top, left].transpose(0, 2, 3, 1)  # (N, C, h, w) -> (N, h, w, C)
    rows = top[:, None] + np.arange(height)
    cols = left[:, None] + np.arange(width)
    out = x[np.arange(n)[:, None, None], np.clip(rows, 0, h - 1)[:, :, None], np.clip(cols, 0, w - 1)[:, None, :]]
    inside = ((rows >= 0) & (rows < h))[:, :, None] & ((cols >= 0) & (cols < w))[:, None, :]
    if not inside.all():
        out = np.where(inside[..., None], out, fill_values(fill, c, x.dtype, "crop"))
    return out


def pad(x, left, top, right, bottom, fill=0, mode="constant"):
    """Pad the borders of ``x`` (N, H, W, C): ``constant`` (``fill``), ``edge``, ``reflect`` or ``symmetric``."""
    widths = ((0, 0), (top, bottom), (left, right), (0, 0))
    if mode != "constant":
        return np.pad(x, widths, mode=PADDING_MODES[mode])
    values = fill_values(fill, x.shape[3], x.dtype, "pad")
    out = np.empty((x.shape[0], x.shape[1] + top + bottom, x.shape[2] + left + right, x.shape[3]), dtype=x.dtype)
    out[...] = values
    out[:, top:top + x.shape[1], left:left + x.shape[2]] = x
    return out


def flip(x, mask, axis):
    """Reverse ``axis`` (1: vertical flip, 2: horizontal flip) of the images where ``mask`` (N bools) is set."""
    if mask.all():
        return np.flip(x, axis=axis)
    if not mask.any():
        return x
    return np.where(mask[:, None, None, None], np.flip(x, axis=axis), x)


def affine_matrices(angle, translate, scale, shear, center):
    """Forward maps (N, 2, 3) in pixel coordinates: p' = T C R S Sh_y Sh_x C^-1 p, i.e. about ``center`` (N, 2):
    shear x by ``shear[:, 0]`` degrees (x' = x - tan(sx) y) and y by ``shear[:, 1]`` (y' = y - tan(sy) x), scale by
    ``scale`` (N,), rotate by ``angle`` (N,) degrees counter-clockwise as seen on the screen (y points down), then
    translate by ``translate`` (N, 2) pixels. (torchvision's affine convention, its angle sign flipped.)"""
    a = np.radians(angle)
    cos, sin = np.cos(a), np.sin(a)
    rotation = np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], -2)
    tx, ty = np.tan(np.radians(shear[:, 0])), np.tan(np.radians(shear[:, 1]))
    one, zero = np.ones_like(tx), np.zeros_like(tx)
    shear_x = np.stack([np.stack([one, -tx], -1), np.stack([zero, one], -1)], -2)
    shear_y = np.stack([np.stack([one, zero], -1), np.stack([-ty, one], -1)], -2)
    linear = np.round(scale[:, None, None] * rotation @ shear_y @ shear_x, 15)  # as Pillow: cos(90 deg) is 0
    offset = center + translate - np.einsum("nij,nj->ni", linear, center)
    return np.concatenate([linear, offset[:, :, None]], axis=2)


def invert_affine(m):
    """Inverse maps (N, 2, 3) of forward maps (N, 2, 3)."""
    linear_inv = np.linalg.inv(m[:, :, :2])
    return np.concatenate([linear_inv, -np.einsum("nij,nj->ni", linear_inv, m[:, :, 2])[:, :, None]], axis=2)


def expand(inverse, h, w):
    """Grow the output so the whole warped image fits (``expand=True``), as Pillow does: the size is the bounding
    box of the image's corners mapped through ``inverse`` (N, 2, 3), and the map is shifted to keep the centre.
    Returns (new inverse, new H, new W), the size taken from the first image."""
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
    mapped = corners @ inverse[0, :, :2].T + inverse[0, :, 2]
    new_w = int(math.ceil(mapped[:, 0].max()) - math.floor(mapped[:, 0].min()))
    new_h = int(math.ceil(mapped[:, 1].max()) - math.floor(mapped[:, 1].min()))
    shift = np.array([-(new_w - w) / 2.0, -(new_h - h) / 2.0])
    out = inverse.copy()
    out[:, :, 2] = np.einsum("nij,j->ni", inverse[:, :, :2], shift) + inverse[:, :, 2]
    return out, new_h, new_w


def warp(x, inverse, out_h, out_w, mode, fill=None):
    """Sample ``x`` (N, H, W, C) through ``inverse`` maps (N, 2, 3) (output pixel -> input position) into
    (N, out_h, out_w, C). NEAREST takes the pixel containing the position; BILINEAR weights the four around it,
    counting pixels outside the image as ``fill``."""
    n, h, w, c = x.shape
    fill_v = fill_values(fill, c, np.float64, "warp")
    xs = np.arange(out_w, dtype=np.float64) + 0.5
    ys = np.arange(out_h, dtype=np.float64) + 0.5
    px = inverse[:, 0, 0, None, None] * xs + inverse[:, 0, 1, None, None] * ys[:, None] + inverse[:, 0, 2, None, None]
    py = inverse[:, 1, 0, None, None] * xs + inverse[:, 1, 1, None, None] * ys[:, None] + inverse[:, 1, 2, None, None]
    batch = np.arange(n)[:, None, None]
    if mode is InterpolationMode.NEAREST:
        col, row = np.floor(px).astype(np.int64), np.floor(py).astype(np.int64)
        inside = (col >= 0) & (col < w) & (row >= 0) & (row < h)
        out = x[batch, np.clip(row, 0, h - 1), np.clip(col, 0, w - 1)]
        return np.where(inside[..., None], out, fill_v.astype(x.dtype))
    px, py = px - 0.5, py - 0.5  # to pixel-centre coordinates
    x0, y0 = np.floor(px), np.floor(py)
    fx, fy = (px - x0)[..., None], (py - y0)[..., None]
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    work = x.astype(np.float64 if x.dtype == np.uint8 else x.dtype, copy=False)
    out = 0.0
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            r, cc = y0 + dy, x0 + dx
            inside = ((r >= 0) & (r < h) & (cc >= 0) & (cc < w))[..., None]
            values = np.where(inside, work[batch, np.clip(r, 0, h - 1), np.clip(cc, 0, w - 1)], fill_v)
            out = out + wx * wy * values
    if x.dtype == np.uint8:
        return np.clip(np.floor(out + 0.5), 0, 255).astype(np.uint8)
    return out.astype(x.dtype, copy=False)
