"""Image augmentation layers: ``RandomFlip``, ``RandomRotation``, ``RandomZoom``, ``RandomTranslation``,
``RandomContrast``. Active only in training (``fit``, or ``training=True``); at inference they pass the images
through (cast to float). Images are (batch, height, width, channels), or one (height, width, channels) image
(``data_format="channels_first"``: channels before height). Each image gets its own random draw, from the layer's
``seed`` when given, else from ganglion's default generator (so ``ganglion.manual_seed`` reproduces a run).

Flip and contrast are engine ops (differentiable). Rotation, zoom and translation resample the pixels with the
vectorized NumPy warps of ``ganglion.data.transforms`` (bilinear or nearest, with Keras' fill modes): they are
data augmentation, so in training their input must not need a gradient.
"""

import math
import numbers

import numpy as np

from ... import backend
from ...autograd.grad_mode import is_grad_enabled
from ...data.transforms import geometry as geo
from ...data.transforms.resample import InterpolationMode
from ...factories import tensor
from ...ops import where
from ._adapters import data_format_arg
from .base import Layer

FILL_MODES = {"reflect": "symmetric", "wrap": "wrap", "nearest": "edge", "constant": None}  # Keras -> np.pad
INTERPOLATIONS = {"bilinear": InterpolationMode.BILINEAR, "nearest": InterpolationMode.NEAREST}


def _factor_range(owner, name, factor, low, high, symmetric=True):
    """Keras' factor argument: one number f (the range (-f, f), or (f, f) when not ``symmetric``) or a pair
    (lower, upper), each value within [low, high]."""
    message = (f"{owner}: {name} should be a number (or a pair of numbers) in the range [{low}, {high}], got "
               f"{factor!r}")
    if isinstance(factor, (list, tuple)):
        if len(factor) != 2 or not all(isinstance(f, numbers.Real) and not isinstance(f, bool) for f in factor):
            raise ValueError(message)
        lower, upper = sorted(float(f) for f in factor)
    elif isinstance(factor, numbers.Real) and not isinstance(factor, bool):
        if not low <= factor <= high:
            raise ValueError(message)
        f = abs(float(factor))
        lower, upper = (-f, f) if symmetric else (f, f)
    else:
        raise ValueError(message)
    if lower < low or upper > high:
        raise ValueError(message)
    return lower, upper


class _RandomImageLayer(Layer):
    """Shared: argument checks, the channels-last door, rank checks, the random stream, inference passthrough."""

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise ValueError(f"{type(self).__name__}: seed must be an int or None, got {seed!r}")
        self.seed = seed
        self.data_format = data_format_arg(data_format, type(self).__name__)
        self.__dict__["_generator"] = None if seed is None else backend.Generator().manual_seed(int(seed))

    def _rng(self):
        return backend.rng(self._generator)

    def call(self, inputs, training=None):
        x = inputs if inputs.dtype.kind == "f" else inputs.type(backend.float32)
        if x.ndim not in (3, 4):
            raise ValueError(f"{self.name!r} ({type(self).__name__}): expected images of rank 3 (height, width, "
                             f"channels) or 4 (batch, height, width, channels), got shape {tuple(x.shape)}")
        if not training:
            return x
        unbatched = x.ndim == 3
        if unbatched:
            x = x.unsqueeze(0)
        if self.data_format == "channels_first":
            x = x.permute(0, 2, 3, 1)
        y = self._augment(x)
        if self.data_format == "channels_first":
            y = y.permute(0, 3, 1, 2)
        return y.squeeze(0) if unbatched else y

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed, "data_format": self.data_format})
        return config


class RandomFlip(_RandomImageLayer):
    """Flip each image left-right and/or top-bottom with probability 1/2 each (``mode``: "horizontal",
    "vertical" or "horizontal_and_vertical")."""

    MODES = ("horizontal", "vertical", "horizontal_and_vertical")

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if mode not in self.MODES:
            raise ValueError(f"RandomFlip: unknown mode {mode!r}; accepted modes are: {', '.join(self.MODES)}")
        self.mode = mode

    def _augment(self, x):
        n = x.shape[0]
        rng = self._rng()
        for axis, used in ((2, "horizontal" in self.mode), (1, "vertical" in self.mode)):
            if not used:
                continue
            flip = rng.random(n) < 0.5
            mask = tensor(flip.reshape(n, 1, 1, 1), device=x.device)
            flipped = x[:, :, ::-1] if axis == 2 else x[:, ::-1]
            x = where(mask, flipped, x)
        return x

    def get_config(self):
        config = super().get_config()
        config["mode"] = self.mode
        return config


class RandomContrast(_RandomImageLayer):
    """Per image and channel: y = (x - mean) * factor + mean, mean over height and width, factor drawn per image
    from [1 - lower, 1 + upper] (``factor`` f gives lower = upper = f, in [0, 1]); then clipped to
    ``value_range``."""

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if isinstance(factor, (list, tuple)):
            self.factor = _factor_range("RandomContrast", "factor", factor, 0.0, 1.0)
        else:
            self.factor = _factor_range("RandomContrast", "factor", factor, 0.0, 1.0, symmetric=False)
        if (not isinstance(value_range, (list, tuple)) or len(value_range) != 2
                or not all(isinstance(v, numbers.Real) for v in value_range) or value_range[0] >= value_range[1]):
            raise ValueError(f"RandomContrast: value_range must be a pair (low, high) with low < high, got "
                             f"{value_range!r}")
        self.value_range = (float(value_range[0]), float(value_range[1]))

    def _augment(self, x):
        lower, upper = self.factor
        factor = self._rng().uniform(1.0 - lower, 1.0 + upper, size=(x.shape[0], 1, 1, 1))
        factor = tensor(factor, dtype=x.dtype, device=x.device)
        mean = x.mean(dim=(1, 2), keepdim=True)
        return ((x - mean) * factor + mean).clamp(self.value_range[0], self.value_range[1])

    def get_config(self):
        config = super().get_config()
        config.update({"factor": list(self.factor), "value_range": list(self.value_range)})
        return config


class _RandomWarp(_RandomImageLayer):
    """Shared by rotation, zoom and translation: each image resampled through its own affine map."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        owner = type(self).__name__
        if fill_mode not in FILL_MODES:
            raise ValueError(f"{owner}: unknown fill_mode {fill_mode!r}; accepted: {', '.join(FILL_MODES)}")
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"{owner}: unknown interpolation {interpolation!r}; accepted: "
                             f"{', '.join(INTERPOLATIONS)}")
        if isinstance(fill_value, bool) or not isinstance(fill_value, numbers.Real):
            raise ValueError(f"{owner}: fill_value must be a number, got {fill_value!r}")
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, float(fill_value)

    def _augment(self, x):
        if x.requires_grad and is_grad_enabled():
            raise ValueError(f"{self.name!r} ({type(self).__name__}) resamples images as data augmentation and "
                             "passes no gradient to its input; put it before the trainable layers (its input "
                             "requires grad)")
        n, h, w, _ = x.shape
        inverse = self._inverse_maps(n, h, w)  # output pixel -> input position, (n, 2, 3)
        images = backend.to_numpy(x.array)
        pad = FILL_MODES[self.fill_mode]
        if pad is not None:
            images, inverse = _extend(images, inverse, h, w, pad)
        out = geo.warp(images, inverse, h, w, INTERPOLATIONS[self.interpolation], fill=self.fill_value)
        return tensor(np.ascontiguousarray(out), dtype=x.dtype, device=x.device)

    def get_config(self):
        config = super().get_config()
        config.update({"fill_mode": self.fill_mode, "interpolation": self.interpolation,
                       "fill_value": self.fill_value})
        return config


def _extend(images, inverse, h, w, pad_mode):
    """Pad the images (reflect / wrap / edge) far enough that every position the maps read lies inside, and shift
    the maps to the padded coordinates."""
    corners = np.array([[0.5, 0.5, 1.0], [w - 0.5, 0.5, 1.0], [0.5, h - 0.5, 1.0], [w - 0.5, h - 0.5, 1.0]])
    reached = np.einsum("nij,kj->nki", inverse, corners)  # (n, 4, 2) input positions (x, y)
    mx = int(math.ceil(max(0.0, -reached[..., 0].min(), reached[..., 0].max() - w))) + 2
    my = int(math.ceil(max(0.0, -reached[..., 1].min(), reached[..., 1].max() - h))) + 2
    padded = np.pad(images, ((0, 0), (my, my), (mx, mx), (0, 0)), mode=pad_mode)
    shifted = inverse.copy()
    shifted[:, 0, 2] += mx
    shifted[:, 1, 2] += my
    return padded, shifted


class RandomRotation(_RandomWarp):
    """Rotate each image about its centre by a random angle in [lower, upper] * 360 degrees (``factor`` f:
    [-f, f]); positive angles turn counter-clockwise. Empty space is filled per ``fill_mode``."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = _factor_range("RandomRotation", "factor", factor, -1.0, 1.0)

    def _inverse_maps(self, n, h, w):
        lower, upper = self.factor
        angle = self._rng().uniform(lower * 360.0, upper * 360.0, size=n)
        zeros2 = np.zeros((n, 2))
        centre = np.broadcast_to(np.array([w / 2.0, h / 2.0]), (n, 2))
        forward = geo.affine_matrices(angle, zeros2, np.ones(n), zeros2, centre)
        return geo.invert_affine(forward)

    def get_config(self):
        config = super().get_config()
        config["factor"] = list(self.factor)
        return config


class RandomZoom(_RandomWarp):
    """Zoom each image about its centre: a factor z = 1 + u per axis, u drawn from [lower, upper] (``height_factor``
    f: [-f, f]); z > 1 zooms out, z < 1 zooms in. ``width_factor=None`` keeps the aspect ratio (one draw for both)."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = _factor_range("RandomZoom", "height_factor", height_factor, -1.0, math.inf)
        self.width_factor = None if width_factor is None else _factor_range("RandomZoom", "width_factor",
                                                                             width_factor, -1.0, math.inf)

    def _inverse_maps(self, n, h, w):
        rng = self._rng()
        zoom_y = 1.0 + rng.uniform(*self.height_factor, size=n)
        zoom_x = zoom_y if self.width_factor is None else 1.0 + rng.uniform(*self.width_factor, size=n)
        inverse = np.zeros((n, 2, 3))
        inverse[:, 0, 0], inverse[:, 1, 1] = zoom_x, zoom_y
        inverse[:, 0, 2] = (w / 2.0) * (1.0 - zoom_x)  # input = centre + zoom (output - centre)
        inverse[:, 1, 2] = (h / 2.0) * (1.0 - zoom_y)
        return inverse

    def get_config(self):
        config = super().get_config()
        config.update({"height_factor": list(self.height_factor),
                       "width_factor": None if self.width_factor is None else list(self.width_factor)})
        return config


class RandomTranslation(_RandomWarp):
    """Shift each image by (dy H, dx W) pixels, dy drawn from ``height_factor``'s range and dx from
    ``width_factor``'s (a number f: [-f, f]; fractions of the size in [-1, 1]); positive moves down / right."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = _factor_range("RandomTranslation", "height_factor", height_factor, -1.0, 1.0)
        self.width_factor = _factor_range("RandomTranslation", "width_factor", width_factor, -1.0, 1.0)

    def _inverse_maps(self, n, h, w):
        rng = self._rng()
        dy = rng.uniform(*self.height_factor, size=n) * h
        dx = rng.uniform(*self.width_factor, size=n) * w
        inverse = np.zeros((n, 2, 3))
        inverse[:, 0, 0] = inverse[:, 1, 1] = 1.0
        inverse[:, 0, 2], inverse[:, 1, 2] = -dx, -dy  # input = output - shift
        return inverse

    def get_config(self):
        config = super().get_config()
        config.update({"height_factor": list(self.height_factor), "width_factor": list(self.width_factor)})
        return config
