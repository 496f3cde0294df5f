"""Geometric transforms: Resize, CenterCrop, Pad, RandomCrop, RandomResizedCrop, flips, RandomRotation and
RandomAffine. Each accepts one image or a batch (see ``_image``); random ones draw parameters per image."""

import numbers

import numpy as np

from . import _pillow
from . import geometry as geo
from ._base import (
    Transform, box_draws, check_probability, first_fit, is_number, min_max, random_ints, size_pair, symmetric_range,
)
from ._image import ImageBatch, is_pil_image
from .resample import InterpolationMode, interpolation_mode, resize_boxes

_WARP_MODES = (InterpolationMode.NEAREST, InterpolationMode.BILINEAR)


def resized_size(h, w, size, max_size=None):
    """Output (H, W) of ``Resize(size)``: a pair as given; an int sets the shorter edge, keeping the aspect ratio
    (the longer edge capped at ``max_size``)."""
    if isinstance(size, (tuple, list)) and len(size) == 2:
        return int(size[0]), int(size[1])
    target = size if is_number(size) else size[0]
    short, long = (h, w) if h <= w else (w, h)
    new_short, new_long = target, int(target * long / short)
    if max_size is not None and new_long > max_size:
        new_short, new_long = int(max_size * new_short / new_long), max_size
    return (new_short, new_long) if h <= w else (new_long, new_short)


def _check_resize_size(owner, size, max_size):
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        size = [size]
    if not isinstance(size, (tuple, list)) or len(size) not in (1, 2) or not all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0 for s in size):
        raise ValueError(f"{owner}: size must be a positive int or a (height, width) pair, got {size!r}")
    if max_size is not None:
        if len(size) != 1:
            raise ValueError(f"{owner}: max_size is only allowed with an int size (shorter edge), got size={size!r}")
        if not isinstance(max_size, numbers.Integral) or max_size <= size[0]:
            raise ValueError(f"{owner}: max_size must be an int larger than size, got max_size={max_size!r}")
    return size[0] if len(size) == 1 else tuple(size)


def _resize(img, batch, out_h, out_w, boxes, mode, antialias):
    """The crop ``boxes`` (top, left, height, width: ints, or arrays of one per image) of ``img`` resized to
    (out_h, out_w), by Pillow where it serves (``_pillow``: Pillow images, uint8 arrays of 1 or 3 channels), else by
    the NumPy passes of ``resample.resize_boxes``."""
    if mode is not InterpolationMode.NEAREST:
        batch.require_uint8_or_float()
    if is_pil_image(img):
        box = tuple(int(b if np.ndim(b) == 0 else b[0]) for b in boxes)
        if antialias or not _pillow.shrinks(out_h, out_w, box[2], box[3]):
            return _pillow.resize_image(img, out_h, out_w, mode, box)
    top, left, height, width = (np.broadcast_to(np.asarray(b, dtype=np.int64), (batch.n,)) for b in boxes)
    x = batch.array
    if _pillow.can_resize_array(x, mode, antialias, out_h, out_w, height, width):
        return batch.wrap(_pillow.resize_array(x, out_h, out_w, (top, left, height, width), mode))
    return batch.wrap(resize_boxes(x, out_h, out_w, (top, left, height, width), mode, antialias))


class Resize(Transform):
    """Resize to ``size``: (h, w), or an int for the shorter edge (aspect kept, longer edge at most ``max_size``).
    Bilinear/bicubic with antialiasing when shrinking (as Pillow), or nearest. Pillow images and uint8 arrays of 1
    or 3 channels are resized by Pillow (see ``_pillow``), others by NumPy."""

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
        self.size = _check_resize_size("Resize", size, max_size)
        self.interpolation = interpolation_mode(interpolation, "Resize")
        self.max_size, self.antialias = max_size, bool(antialias)

    def __call__(self, img):
        batch = ImageBatch(img, "Resize")
        h, w = batch.size
        out_h, out_w = resized_size(h, w, self.size, self.max_size)
        if (out_h, out_w) == (h, w):
            return img
        return _resize(img, batch, out_h, out_w, (0, 0, h, w), self.interpolation, self.antialias)


class CenterCrop(Transform):
    """The central (h, w) window; an image smaller than that is padded with zeros first."""

    def __init__(self, size):
        self.size = size_pair("CenterCrop", size)

    def __call__(self, img):
        batch = ImageBatch(img, "CenterCrop")
        (h, w), (ch, cw) = batch.size, self.size
        top = -((ch - h) // 2) if ch > h else int(round((h - ch) / 2.0))
        left = -((cw - w) // 2) if cw > w else int(round((w - cw) / 2.0))
        if is_pil_image(img):
            return _pillow.crop_image(img, top, left, ch, cw)
        return batch.wrap(geo.crop(batch.array, top, left, ch, cw))


def _padding(owner, padding):
    """(left, top, right, bottom) from an int, (left/right, top/bottom) or (left, top, right, bottom)."""
    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        padding = (padding,) * 4
    elif isinstance(padding, (tuple, list)) and len(padding) == 2:
        padding = (padding[0], padding[1], padding[0], padding[1])
    if not (isinstance(padding, (tuple, list)) and len(padding) == 4
            and all(isinstance(p, numbers.Integral) and not isinstance(p, bool) and p >= 0 for p in padding)):
        raise ValueError(
            f"{owner}: padding must be a non-negative int or a sequence of 2 or 4 of them, got {padding!r}")
    return tuple(int(p) for p in padding)


def _padding_mode(owner, mode):
    if mode not in geo.PADDING_MODES:
        raise ValueError(f"{owner}: unknown padding_mode {mode!r}; accepted: {', '.join(geo.PADDING_MODES)}")
    return mode


class Pad(Transform):
    """Pad the borders: ``padding`` as in torchvision; ``padding_mode`` constant (``fill``), edge, reflect or
    symmetric."""

    def __init__(self, padding, fill=0, padding_mode="constant"):
        self.padding, self.fill = _padding("Pad", padding), fill
        self.padding_mode = _padding_mode("Pad", padding_mode)

    def __call__(self, img):
        batch = ImageBatch(img, "Pad")
        return batch.wrap(geo.pad(batch.array, *self.padding, fill=self.fill, mode=self.padding_mode))


class RandomCrop(Transform):
    """A random (h, w) window, after optional ``padding`` (and ``pad_if_needed`` to reach the crop size)."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant", *, generator=None):
        self.size = size_pair("RandomCrop", size)
        self.padding = None if padding is None else _padding("RandomCrop", padding)
        self.pad_if_needed, self.fill = bool(pad_if_needed), fill
        self.padding_mode, self.generator = _padding_mode("RandomCrop", padding_mode), generator

    def __call__(self, img):
        batch = ImageBatch(img, "RandomCrop")
        x = batch.array
        if self.padding is not None:
            x = geo.pad(x, *self.padding, fill=self.fill, mode=self.padding_mode)
        (ch, cw), h, w = self.size, x.shape[1], x.shape[2]
        if self.pad_if_needed and (h < ch or w < cw):
            dw, dh = max(cw - w, 0), max(ch - h, 0)
            x = geo.pad(x, dw, dh, dw, dh, fill=self.fill, mode=self.padding_mode)
            h, w = x.shape[1], x.shape[2]
        if h < ch or w < cw:
            raise ValueError(f"RandomCrop: crop size {(ch, cw)} is larger than the (padded) image size {(h, w)}")
        corner = random_ints(self._rng(), (h - ch + 1, w - cw + 1), (batch.n, 2))
        if is_pil_image(img) and x is batch.array:  # not padded: Pillow crops its own image
            return _pillow.crop_image(img, int(corner[0, 0]), int(corner[0, 1]), ch, cw)
        return batch.wrap(geo.crop(x, corner[:, 0], corner[:, 1], ch, cw))


class RandomResizedCrop(Transform):
    """A random crop covering a ``scale`` fraction of the area with aspect ratio in ``ratio`` (log-uniform),
    resized to ``size``; after 10 failed draws, the largest central crop within ``ratio``."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation=InterpolationMode.BILINEAR, antialias=True, *, generator=None):
        self.size = size_pair("RandomResizedCrop", size)
        self.scale = min_max("RandomResizedCrop", "scale", scale, positive=True)
        self.ratio = min_max("RandomResizedCrop", "ratio", ratio, positive=True)
        self.interpolation = interpolation_mode(interpolation, "RandomResizedCrop")
        self.antialias, self.generator = bool(antialias), generator

    def get_params(self, rng, n, height, width, attempts=10):
        """Crop boxes (top, left, h, w), arrays of ``n`` ints."""
        w, h = box_draws(rng, n, height * width, self.scale, self.ratio, attempts)
        found, h, w = first_fit((w > 0) & (w <= width) & (h > 0) & (h <= height), h, w)
        # fallback: a central crop, as large as the ratio range allows
        in_ratio = width / height
        if in_ratio < self.ratio[0]:
            fw, fh = width, int(round(width / self.ratio[0]))
        elif in_ratio > self.ratio[1]:
            fh, fw = height, int(round(height * self.ratio[1]))
        else:
            fh, fw = height, width
        h, w = np.where(found, h, fh), np.where(found, w, fw)
        top = np.where(found, random_ints(rng, height - h + 1, n), (height - fh) // 2)
        left = np.where(found, random_ints(rng, width - w + 1, n), (width - fw) // 2)
        return top, left, h, w

    def __call__(self, img):
        batch = ImageBatch(img, "RandomResizedCrop")
        boxes = self.get_params(self._rng(), batch.n, *batch.size)
        return _resize(img, batch, *self.size, boxes, self.interpolation, self.antialias)


class RandomHorizontalFlip(Transform):
    """Mirror left-right with probability ``p`` (per image)."""

    _axis = 2

    def __init__(self, p=0.5, *, generator=None):
        self.p, self.generator = check_probability(type(self).__name__, p), generator

    def __call__(self, img):
        batch = ImageBatch(img, type(self).__name__)
        mask = self._rng().random(batch.n) < self.p
        if is_pil_image(img):
            return _pillow.flip_image(img, self._axis) if mask[0] else img
        return batch.wrap(geo.flip(batch.array, mask, self._axis))


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror top-bottom with probability ``p`` (per image)."""

    _axis = 1


def _warp(batch, forward, interpolation, expand, fill):
    """Apply forward maps (N, 2, 3) to a batch, growing the canvas when ``expand`` (to the largest one needed)."""
    if interpolation is not InterpolationMode.NEAREST:
        batch.require_uint8_or_float()
    inverse = geo.invert_affine(forward)
    h, w = batch.size
    out_h, out_w = h, w
    if expand:
        sizes = [geo.expand(inverse[i:i + 1], h, w)[1:] for i in range(batch.n)]
        out_h, out_w = max(s[0] for s in sizes), max(s[1] for s in sizes)
        shift = np.array([-(out_w - w) / 2.0, -(out_h - h) / 2.0])
        inverse = inverse.copy()
        inverse[:, :, 2] += np.einsum("nij,j->ni", inverse[:, :, :2], shift)
    return batch.wrap(geo.warp(batch.array, inverse, out_h, out_w, interpolation, fill))


def _center(batch, center):
    h, w = batch.size
    c = (w / 2.0, h / 2.0) if center is None else tuple(float(v) for v in center)
    return np.broadcast_to(np.asarray(c), (batch.n, 2))


class RandomRotation(Transform):
    """Rotate counter-clockwise by an angle drawn uniformly from ``degrees`` (d means (-d, d)) about ``center``
    (x, y) in pixels (default: the image centre); ``expand`` grows the canvas to hold the whole result."""

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=0, *,
                 generator=None):
        self.degrees = symmetric_range("RandomRotation", "degrees", degrees)
        self.interpolation = interpolation_mode(interpolation, "RandomRotation", _WARP_MODES)
        if center is not None and not (isinstance(center, (tuple, list)) and len(center) == 2):
            raise ValueError(f"RandomRotation: center must be an (x, y) pair, got {center!r}")
        self.expand, self.center, self.fill, self.generator = bool(expand), center, fill, generator

    def __call__(self, img):
        batch = ImageBatch(img, "RandomRotation")
        angle = self._rng().uniform(self.degrees[0], self.degrees[1], batch.n)
        n = batch.n
        center = _center(batch, self.center)
        forward = geo.affine_matrices(angle, np.zeros((n, 2)), np.ones(n), np.zeros((n, 2)), center)
        return _warp(batch, forward, self.interpolation, self.expand, self.fill)


class RandomAffine(Transform):
    """Rotate by an angle from ``degrees`` (clockwise, as torchvision's affine), shift by up to ``translate`` =
    (fx, fy) of the width and height (whole pixels), scale by a factor from ``scale`` and shear by angles from
    ``shear`` (x: a number s means (-s, s), or (min, max); y as well with 4 values), all about the centre."""

    def __init__(self, degrees, translate=None, scale=None, shear=None, interpolation=InterpolationMode.NEAREST,
                 fill=0, center=None, *, generator=None):
        self.degrees = symmetric_range("RandomAffine", "degrees", degrees)
        if translate is not None and not (isinstance(translate, (tuple, list)) and len(translate) == 2
                                          and all(is_number(t) and 0 <= t <= 1 for t in translate)):
            raise ValueError(
                f"RandomAffine: translate must be an (fx, fy) pair of fractions in [0, 1], got {translate!r}")
        self.translate = translate
        self.scale = None if scale is None else min_max("RandomAffine", "scale", scale, positive=True)
        self.shear = None if shear is None else self._shear(shear)
        self.interpolation = interpolation_mode(interpolation, "RandomAffine", _WARP_MODES)
        if center is not None and not (isinstance(center, (tuple, list)) and len(center) == 2):
            raise ValueError(f"RandomAffine: center must be an (x, y) pair, got {center!r}")
        self.fill, self.center, self.generator = fill, center, generator

    @staticmethod
    def _shear(shear):
        if is_number(shear) or (isinstance(shear, (tuple, list)) and len(shear) == 2):
            return symmetric_range("RandomAffine", "shear", shear) + (0.0, 0.0)
        if isinstance(shear, (tuple, list)) and len(shear) == 4 and all(is_number(s) for s in shear):
            return (symmetric_range("RandomAffine", "shear", tuple(shear[:2]))
                    + symmetric_range("RandomAffine", "shear", tuple(shear[2:])))
        raise ValueError(f"RandomAffine: shear must be a number or a sequence of 2 or 4 numbers, got {shear!r}")

    def __call__(self, img):
        batch = ImageBatch(img, "RandomAffine")
        rng, n, (h, w) = self._rng(), batch.n, batch.size
        angle = rng.uniform(self.degrees[0], self.degrees[1], n)
        translate = np.zeros((n, 2))
        if self.translate is not None:
            max_dx, max_dy = self.translate[0] * w, self.translate[1] * h
            translate = np.rint(np.stack([rng.uniform(-max_dx, max_dx, n), rng.uniform(-max_dy, max_dy, n)], 1))
        scale = rng.uniform(self.scale[0], self.scale[1], n) if self.scale is not None else np.ones(n)
        shear = np.zeros((n, 2))
        if self.shear is not None:
            shear[:, 0] = rng.uniform(self.shear[0], self.shear[1], n)
            if self.shear[2:] != (0.0, 0.0):
                shear[:, 1] = rng.uniform(self.shear[2], self.shear[3], n)
        forward = geo.affine_matrices(-angle, translate, scale, shear, _center(batch, self.center))
        return _warp(batch, forward, self.interpolation, False, self.fill)
