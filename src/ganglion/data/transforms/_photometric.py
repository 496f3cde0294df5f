"""Colour and occlusion transforms: ColorJitter, Grayscale, RandomGrayscale, RandomErasing."""


import numpy as np

from ...tensor import Tensor
from . import _color
from ._base import (
    Transform, box_draws, check_probability, first_fit, is_number, min_max, random_ints, symmetric_range,
)
from ._image import ImageBatch


class ColorJitter(Transform):
    """Random brightness, contrast and saturation factors (a number v means [max(0, 1 - v), 1 + v]) and a hue shift
    (h means [-h, h] turns, h <= 0.5), applied in a random order; every image of a batch draws its own factors and
    order."""

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0, *, generator=None):
        self.brightness = self._factor("brightness", brightness)
        self.contrast = self._factor("contrast", contrast)
        self.saturation = self._factor("saturation", saturation)
        self.hue = symmetric_range("ColorJitter", "hue", hue, 0.0, -0.5, 0.5)
        if self.hue == (0.0, 0.0):
            self.hue = None
        self.generator = generator

    @staticmethod
    def _factor(name, value):
        low, high = symmetric_range("ColorJitter", name, value, 1.0, 0.0)
        return None if (low, high) == (1.0, 1.0) else (low, high)

    def __call__(self, img):
        batch = ImageBatch(img, "ColorJitter")
        batch.require_uint8_or_float()
        rng, n = self._rng(), batch.n
        ops = []
        for name, fn in (("brightness", _color.adjust_brightness), ("contrast", _color.adjust_contrast),
                         ("saturation", _color.adjust_saturation), ("hue", _color.adjust_hue)):
            bounds = getattr(self, name)
            ops.append(None if bounds is None else (fn, rng.uniform(bounds[0], bounds[1], n)))
        orders = np.argsort(rng.random((n, 4)), axis=1)  # a random permutation of the four per image
        x = batch.array
        out = np.empty_like(x) if n > 1 else None
        for order in np.unique(orders, axis=0):  # images sharing an order are processed together
            rows = np.flatnonzero((orders == order).all(axis=1))
            y = x[rows]
            for k in order:
                if ops[k] is not None:
                    fn, factors = ops[k]
                    y = fn(y, factors[rows])
            if out is None:
                out = y
            else:
                out[rows] = y
        return batch.wrap(out)


class Grayscale(Transform):
    """RGB -> grey (L = 0.299 R + 0.587 G + 0.114 B), with 1 or 3 (equal) output channels."""

    def __init__(self, num_output_channels=1):
        if num_output_channels not in (1, 3):
            raise ValueError(f"Grayscale: num_output_channels must be 1 or 3, got {num_output_channels!r}")
        self.num_output_channels = num_output_channels

    def __call__(self, img):
        batch = ImageBatch(img, type(self).__name__)
        grey = _color.grayscale(batch.array)
        if self.num_output_channels == 3:
            grey = np.repeat(grey, 3, axis=3)
        return batch.wrap(grey)


class RandomGrayscale(Transform):
    """Turn each image grey with probability ``p``, keeping its number of channels."""

    def __init__(self, p=0.1, *, generator=None):
        self.p, self.generator = check_probability("RandomGrayscale", p), generator

    def __call__(self, img):
        batch = ImageBatch(img, "RandomGrayscale")
        x = batch.array
        mask = self._rng().random(batch.n) < self.p
        if x.shape[3] == 1 or not mask.any():
            return batch.wrap(x)
        grey = np.repeat(_color.grayscale(x), x.shape[3], axis=3)
        return batch.wrap(np.where(mask[:, None, None, None], grey, x))


class RandomErasing(Transform):
    """With probability ``p``, overwrite a random rectangle covering a ``scale`` fraction of the area with aspect
    ratio from ``ratio`` (log-uniform) by ``value``: a number, one per channel, or ``"random"`` (standard normal
    noise). Works on Tensors (C, H, W) as in torchvision, and on arrays (H, W, C); ``inplace`` writes into them."""

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False, *, generator=None):
        self.p = check_probability("RandomErasing", p)
        self.scale = min_max("RandomErasing", "scale", scale)
        if not 0 <= self.scale[0] <= self.scale[1] <= 1:
            raise ValueError(f"RandomErasing: scale must lie in [0, 1], got {scale!r}")
        self.ratio = min_max("RandomErasing", "ratio", ratio, positive=True)
        if not (is_number(value) or value == "random"
                or (isinstance(value, (tuple, list)) and all(is_number(v) for v in value))):
            raise ValueError(f"RandomErasing: value must be a number, a sequence of numbers or 'random', got {value!r}")
        self.value, self.inplace, self.generator = value, bool(inplace), generator

    def get_params(self, rng, n, height, width, attempts=10):
        """Boxes (top, left, h, w) and whether each image is erased at all, arrays of ``n``."""
        h, w = box_draws(rng, n, height * width, self.scale, self.ratio, attempts)
        found, h, w = first_fit((h < height) & (w < width), h, w)
        top = random_ints(rng, np.maximum(height - h + 1, 1), n)
        left = random_ints(rng, np.maximum(width - w + 1, 1), n)
        return top, left, h, w, found

    def __call__(self, img):
        batch = ImageBatch(img, "RandomErasing")
        x = batch.array
        rng, n, (height, width), c = self._rng(), batch.n, batch.size, batch.channels
        apply = rng.random(n) < self.p
        top, left, h, w, found = self.get_params(rng, n, height, width)
        apply &= found
        if not apply.any():
            return img
        rows, cols = np.arange(height), np.arange(width)
        in_rows = (rows >= top[:, None]) & (rows < (top + h)[:, None])
        in_cols = (cols >= left[:, None]) & (cols < (left + w)[:, None])
        mask = (in_rows[:, :, None] & in_cols[:, None, :] & apply[:, None, None])[..., None]
        if self.value == "random":
            values = (rng.integers(0, 256, x.shape) if x.dtype == np.uint8 else rng.standard_normal(x.shape))
            values = values.astype(x.dtype)
        else:
            values = np.asarray(self.value, dtype=np.float64).reshape(-1)
            if values.size not in (1, c):
                raise ValueError(f"RandomErasing: value has {values.size} entries but the image has {c} channels")
            values = values.astype(x.dtype)
        if self.inplace and isinstance(img, (Tensor, np.ndarray)) and np.shares_memory(x, _raw(img)):
            np.copyto(x, np.broadcast_to(values, x.shape), where=mask)
            return img
        return batch.wrap(np.where(mask, values, x))


def _raw(img):
    return img.array if isinstance(img, Tensor) else img
