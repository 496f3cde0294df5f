"""``Resizing``: resize images to (height, width) with the engine's ``interpolate``, as Keras 3 on torch does.

    (batch, h, w, c) -> (batch, height, width, c)      (channels_last; (h, w, c) for one image)

Keras' torch backend calls ``torch.nn.functional.interpolate`` with ``align_corners=False`` for bilinear and
bicubic, ``"nearest-exact"`` for nearest, and no antialiasing unless ``antialias=True``; the engine's
``interpolate`` computes the same tables. ``crop_to_aspect_ratio`` first cuts the largest centred box of the target
aspect ratio; ``pad_to_aspect_ratio`` first pads the image to it with ``fill_value`` on both sides. Integer images
come back rounded and clipped to their own dtype, as in Keras.
"""

import numpy as np

from ... import backend
from ...nn.functional import interpolate
from ...ops.shape import pad
from ...tensor import Tensor
from ._adapters import data_format_arg, from_engine_layout, to_engine_layout
from .base import Layer

MODES = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic"}


class Resizing(Layer):
    """Resize a batch of images (or one image) to ``(height, width)``."""

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False, pad_to_aspect_ratio=False,
                 fill_mode="constant", fill_value=0.0, antialias=False, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if interpolation not in MODES:
            raise ValueError(f"Invalid value for argument `interpolation`. Expected of one {MODES}. Received: "
                             f"interpolation={interpolation}")
        if fill_mode != "constant":
            raise ValueError(f"Invalid value for argument `fill_mode`. Only `'constant'` is supported. Received: "
                             f"fill_mode={fill_mode}")
        if pad_to_aspect_ratio and crop_to_aspect_ratio:
            raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be `True`.")
        if antialias:
            raise ValueError("Resizing: antialias=True is not supported (the engine's interpolate has no "
                             "antialiasing); pass antialias=False, Keras' default")
        self.height, self.width = int(height), int(width)
        self.interpolation = interpolation
        self.crop_to_aspect_ratio, self.pad_to_aspect_ratio = bool(crop_to_aspect_ratio), bool(pad_to_aspect_ratio)
        self.fill_mode, self.fill_value, self.antialias = fill_mode, fill_value, False
        self.data_format = data_format_arg(data_format, "Resizing")

    def call(self, inputs):
        if inputs.ndim not in (3, 4):
            raise ValueError(f"Invalid images rank: expected rank 3 (single image) or rank 4 (batch of images). "
                             f"Received input with shape: images.shape={tuple(inputs.shape)}")
        out_dtype = inputs.dtype
        x = inputs if inputs.dtype == backend.get_default_dtype() else inputs.to(backend.get_default_dtype())
        single = x.ndim == 3
        if single:
            x = x.unsqueeze(0)
        x = to_engine_layout(x, self.data_format)  # (batch, channels, h, w)
        if self.crop_to_aspect_ratio:
            x = self._crop(x)
        elif self.pad_to_aspect_ratio:
            x = self._pad(x)
        align = False if self.interpolation in ("bilinear", "bicubic") else None
        y = interpolate(x, size=(self.height, self.width), mode=MODES[self.interpolation], align_corners=align)
        y = from_engine_layout(y, self.data_format)
        if single:
            y = y.squeeze(0)
        return _saturate(y, out_dtype) if out_dtype.kind in "iub" else y

    def _crop(self, x):
        """The centred box of the target aspect ratio (Keras' integer arithmetic)."""
        h, w = x.shape[-2:]
        crop_h = max(min(h, int(float(w * self.height) / self.width)), 1)
        crop_w = max(min(w, int(float(h * self.width) / self.height)), 1)
        top, left = int(float(h - crop_h) / 2), int(float(w - crop_w) / 2)
        return x[:, :, top:top + crop_h, left:left + crop_w]

    def _pad(self, x):
        """``fill_value`` on both sides up to the target aspect ratio (Keras' integer arithmetic)."""
        h, w = x.shape[-2:]
        top = int(float(max(h, int(float(w * self.height) / self.width)) - h) / 2)
        left = int(float(max(w, int(float(h * self.width) / self.height)) - w) / 2)
        return pad(x, (left, left, top, top), value=float(self.fill_value)) if top or left else x

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        first = len(shape) - 3 if self.data_format == "channels_last" else len(shape) - 2
        shape[first], shape[first + 1] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"height": self.height, "width": self.width, "interpolation": self.interpolation,
                       "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                       "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                       "fill_value": self.fill_value, "antialias": self.antialias, "data_format": self.data_format})
        return config


def _saturate(y, dtype):
    """Round and clip to an integer dtype's range, then cast (Keras' saturate cast); no gradient flows to ints."""
    xp = backend.get_array_module(y.array)
    info = np.iinfo(dtype) if dtype.kind in "iu" else None
    array = xp.round(y.array)
    if info is not None:
        array = xp.clip(array, info.min, info.max)
    return Tensor._wrap(array.astype(dtype))
