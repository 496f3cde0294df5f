"""The transforms as plain functions with explicit parameters (torchvision's ``transforms.functional``), for the
same image forms: arrays (H, W[, C]) / (N, H, W, C), Tensors ([..., C,] H, W) and Pillow images. Parameters apply
to every image of a batch alike."""

import numpy as np

from . import _color
from . import geometry as geo
from ._core import Normalize, ToTensor
from ._geometric import _check_resize_size, _padding, _padding_mode, _warp, resized_size
from ._image import ImageBatch
from .resample import InterpolationMode, interpolation_mode, resize_boxes


def to_tensor(pic):
    """(H, W, C) array or Pillow image -> Tensor (C, H, W); uint8 scaled to [0, 1]."""
    return ToTensor()(pic)


def normalize(tensor, mean, std, inplace=False):
    """(x - mean[c]) / std[c] per channel."""
    return Normalize(mean, std, inplace)(tensor)


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize to (h, w), or make the shorter edge ``size``."""
    size = _check_resize_size("resize", size, max_size)
    mode = interpolation_mode(interpolation, "resize")
    batch = ImageBatch(img, "resize")
    h, w = batch.size
    out_h, out_w = resized_size(h, w, size, max_size)
    if mode is not InterpolationMode.NEAREST:
        batch.require_uint8_or_float()
    return batch.wrap(resize_boxes(batch.array, out_h, out_w, (0, 0, h, w), mode, antialias))


def crop(img, top, left, height, width):
    """The (height, width) window at (top, left); outside the image is zero."""
    batch = ImageBatch(img, "crop")
    return batch.wrap(geo.crop(batch.array, top, left, height, width))


def center_crop(img, output_size):
    """The central window of ``output_size`` (padded with zeros when larger than the image)."""
    from ._geometric import CenterCrop

    return CenterCrop(output_size)(img)


def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    """Crop (top, left, height, width), then resize to ``size`` (h, w)."""
    mode = interpolation_mode(interpolation, "resized_crop")
    batch = ImageBatch(img, "resized_crop")
    if top < 0 or left < 0 or top + height > batch.size[0] or left + width > batch.size[1]:
        raise ValueError(f"resized_crop: box {(top, left, height, width)} is outside the image {batch.size}")
    out_h, out_w = (size, size) if np.isscalar(size) else size
    return batch.wrap(resize_boxes(batch.array, out_h, out_w, (top, left, height, width), mode, antialias))


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pad the borders (int, (left/right, top/bottom) or (left, top, right, bottom))."""
    batch = ImageBatch(img, "pad")
    return batch.wrap(geo.pad(batch.array, *_padding("pad", padding), fill=fill,
                              mode=_padding_mode("pad", padding_mode)))


def hflip(img):
    """Mirror left-right."""
    batch = ImageBatch(img, "hflip")
    return batch.wrap(np.flip(batch.array, axis=2))


def vflip(img):
    """Mirror top-bottom."""
    batch = ImageBatch(img, "vflip")
    return batch.wrap(np.flip(batch.array, axis=1))


def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=0):
    """Rotate counter-clockwise by ``angle`` degrees about ``center`` (x, y) (default: the image centre)."""
    mode = interpolation_mode(interpolation, "rotate", (InterpolationMode.NEAREST, InterpolationMode.BILINEAR))
    batch = ImageBatch(img, "rotate")
    h, w = batch.size
    n = batch.n
    c = np.broadcast_to(np.asarray((w / 2.0, h / 2.0) if center is None else center, dtype=np.float64), (n, 2))
    forward = geo.affine_matrices(np.full(n, float(angle)), np.zeros((n, 2)), np.ones(n), np.zeros((n, 2)), c)
    return _warp(batch, forward, mode, expand, fill)


def affine(img, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST, fill=0, center=None):
    """Rotate by ``angle`` degrees clockwise (torchvision's affine convention), scale, shear by ``shear`` degrees
    (a number: x only, or (x, y)) about the centre, then translate by ``translate`` (dx, dy) pixels."""
    mode = interpolation_mode(interpolation, "affine", (InterpolationMode.NEAREST, InterpolationMode.BILINEAR))
    batch = ImageBatch(img, "affine")
    h, w = batch.size
    n = batch.n
    shear = (float(shear), 0.0) if np.isscalar(shear) else tuple(float(s) for s in shear)
    if len(translate) != 2 or len(shear) != 2:
        raise ValueError(f"affine: translate and shear must be pairs, got {translate!r} and {shear!r}")
    c = np.broadcast_to(np.asarray((w / 2.0, h / 2.0) if center is None else center, dtype=np.float64), (n, 2))
    forward = geo.affine_matrices(np.full(n, -float(angle)), np.tile(np.asarray(translate, float), (n, 1)),
                                  np.full(n, float(scale)), np.tile(np.asarray(shear), (n, 1)), c)
    return _warp(batch, forward, mode, False, fill)


def _color_op(name, fn, img, factor):
    batch = ImageBatch(img, name)
    batch.require_uint8_or_float()
    return batch.wrap(fn(batch.array, np.full(batch.n, float(factor))))


def adjust_brightness(img, brightness_factor):
    """factor * img (0: black, 1: unchanged)."""
    if brightness_factor < 0:
        raise ValueError(f"adjust_brightness: brightness_factor must be non-negative, got {brightness_factor}")
    return _color_op("adjust_brightness", _color.adjust_brightness, img, brightness_factor)


def adjust_contrast(img, contrast_factor):
    """Blend with the mean grey level (0: flat grey, 1: unchanged)."""
    if contrast_factor < 0:
        raise ValueError(f"adjust_contrast: contrast_factor must be non-negative, got {contrast_factor}")
    return _color_op("adjust_contrast", _color.adjust_contrast, img, contrast_factor)


def adjust_saturation(img, saturation_factor):
    """Blend with the grey image (0: grey, 1: unchanged)."""
    if saturation_factor < 0:
        raise ValueError(f"adjust_saturation: saturation_factor must be non-negative, got {saturation_factor}")
    return _color_op("adjust_saturation", _color.adjust_saturation, img, saturation_factor)


def adjust_hue(img, hue_factor):
    """Rotate the hue by ``hue_factor`` turns, in [-0.5, 0.5]."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"adjust_hue: hue_factor must lie in [-0.5, 0.5], got {hue_factor}")
    return _color_op("adjust_hue", _color.adjust_hue, img, hue_factor)


def rgb_to_grayscale(img, num_output_channels=1):
    """L = 0.299 R + 0.587 G + 0.114 B, with 1 or 3 output channels."""
    from ._photometric import Grayscale

    return Grayscale(num_output_channels)(img)


def erase(img, i, j, h, w, v, inplace=False):
    """Set the (h, w) rectangle at row ``i``, column ``j`` to ``v`` (a number or one value per channel)."""
    batch = ImageBatch(img, "erase")
    x = batch.array if inplace else batch.array.copy()
    x[:, i:i + h, j:j + w] = np.asarray(v, dtype=np.float64).reshape(-1).astype(x.dtype)
    return img if inplace else batch.wrap(x)
