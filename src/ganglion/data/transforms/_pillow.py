"""Pillow as the kernel for 8-bit images, where it is faster than NumPy (Pillow is optional: the ``images`` extra).

- A Pillow image is resized, cropped and flipped by Pillow itself (``Image.resize`` with the filter torchvision
  passes, ``Image.crop``, ``Image.transpose``), as torchvision does, so results equal torchvision's for every mode
  (RGBA is resized premultiplied, palette images with NEAREST, as Pillow decides).
- A uint8 array of 1 or 3 channels is resized image by image through a Pillow image wrapping it: Pillow's C loops
  with its fixed-point weights are the same convolution as ``resample.resize_boxes``' NumPy passes; Pillow rounds
  between its two passes in an order of its own choosing, so a pixel may differ from the NumPy reference by 1 (a few
  levels with BICUBIC, whose overshoot is also clipped between the passes).

Pillow always antialiases when shrinking: a resize with ``antialias=False`` that shrinks stays on NumPy.
"""

import sys

import numpy as np

from .resample import InterpolationMode

_CHANNELS = {1: "L", 3: "RGB"}  # array channels -> the Pillow mode that holds them without conversion


def _image_module():
    """PIL.Image, or None when Pillow is not installed."""
    if "PIL.Image" in sys.modules:
        return sys.modules["PIL.Image"]
    try:
        from PIL import Image
    except ImportError:
        return None
    return Image


def pil_filter(mode):
    """The Pillow resampling filter of an InterpolationMode (Pillow names them alike: NEAREST, BILINEAR, BICUBIC)."""
    return getattr(_image_module().Resampling, mode.name)


def shrinks(out_h, out_w, height, width):
    """True when either axis gets smaller (where antialiasing matters)."""
    return bool(np.any(out_h < np.asarray(height)) or np.any(out_w < np.asarray(width)))


def resize_image(img, out_h, out_w, mode, box=None):
    """Pillow image ``img`` resized to (out_h, out_w), reading the crop ``box`` (top, left, height, width) or all.
    The crop is cut first and then resized, as torchvision's resized_crop does (Pillow's own ``box`` argument can
    round the border pixels differently)."""
    if box is not None and tuple(box) != (0, 0, img.height, img.width):
        img = crop_image(img, *box)
    return img.resize((out_w, out_h), pil_filter(mode))


def crop_image(img, top, left, height, width):
    """The (height, width) window of Pillow image ``img`` at (top, left); parts outside the image are 0, as
    ``geometry.crop`` fills them."""
    return img.crop((left, top, left + width, top + height))


def flip_image(img, axis):
    """Pillow image ``img`` mirrored: ``axis`` 2 left-right, 1 top-bottom (the array axes of ``geometry.flip``)."""
    transpose = _image_module().Transpose
    return img.transpose(transpose.FLIP_LEFT_RIGHT if axis == 2 else transpose.FLIP_TOP_BOTTOM)


def can_resize_array(x, mode, antialias, out_h, out_w, height, width):
    """Whether ``resize_array`` serves ``x`` (N, H, W, C): uint8 with 1 or 3 channels, Pillow installed, and
    antialiasing wanted or not needed (no shrinking)."""
    return (x.dtype == np.uint8 and x.shape[3] in _CHANNELS and (antialias or not shrinks(out_h, out_w, height, width))
            and _image_module() is not None)


def resize_array(x, out_h, out_w, boxes, mode):
    """Resize the crop ``boxes`` (top, left, height, width; arrays of N ints) of uint8 ``x`` (N, H, W, C) to
    (N, out_h, out_w, C), one Pillow resize per image."""
    Image = _image_module()
    c = x.shape[3]
    resized = []
    for i, (top, left, height, width) in enumerate(zip(*(np.asarray(b).tolist() for b in boxes))):
        plane = np.ascontiguousarray(x[i, top:top + height, left:left + width, 0 if c == 1 else slice(None)])
        img = Image.frombuffer(_CHANNELS[c], (width, height), plane, "raw", _CHANNELS[c], 0, 1)
        resized.append(np.asarray(resize_image(img, out_h, out_w, mode)).reshape(out_h, out_w, c))
    return resized[0][None] if len(resized) == 1 else np.stack(resized)
