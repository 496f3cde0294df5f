"""What an image is to a transform, and the one internal layout the kernels work on.

Accepted inputs (the layout follows the type, as PIL images and tensors do in torchvision):

- NumPy arrays are channels-last, as images are stored on disk: (H, W) grey, (H, W, C), or a batch (N, H, W, C);
- ganglion Tensors are channels-first, as ``ToTensor`` makes them: (H, W), (C, H, W) or (..., C, H, W);
- Pillow images (converted to arrays; the result is turned back into a Pillow image when it is 8-bit).

uint8 images hold values in [0, 255], floating images in [0, 1]. Kernels see every input as one array of shape
(N, H, W, C), and ``ImageBatch.wrap`` returns their result in the form the input came in.
"""

import numpy as np

from ... import backend
from ...tensor import Tensor

# A larger last axis on an array is taken for a layout mistake ((N, H, W) or (C, H, W)) rather than for channels
_MAX_ARRAY_CHANNELS = 4


def _pil_module():
    try:
        from PIL import Image
    except ImportError:
        return None
    return Image


def is_pil_image(x):
    """True for a Pillow image (without importing Pillow when it was never loaded: then x cannot be one)."""
    import sys

    Image = sys.modules.get("PIL.Image")
    return Image is not None and isinstance(x, Image.Image)


class ImageBatch:
    """``array``: the input as (N, H, W, C); ``wrap(result)`` gives a result back in the input's type and layout."""

    def __init__(self, image, owner):
        self.owner, self._array = owner, None
        if isinstance(image, Tensor):
            array = image.array
            self.kind, self.device = "tensor", backend.device_of(array)
            array = backend.to_numpy(array)
            if array.ndim < 2:
                raise ValueError(f"{owner}: expected a tensor of shape (C, H, W) or (..., C, H, W), got {image.shape}")
            if array.ndim == 2:
                self.lead, self.gray2d = (), True
                self.array = array[None, :, :, None]
            else:
                self.lead, self.gray2d = array.shape[:-3], False
                self.array = array.reshape((-1,) + array.shape[-3:]).transpose(0, 2, 3, 1)
        elif is_pil_image(image):  # its array is made only when a kernel asks (Pillow may do the work itself)
            self.kind, self.lead, self._pil = "pil", (), image
            self.gray2d = len(image.getbands()) == 1
            if image.width == 0 or image.height == 0:
                raise ValueError(f"{owner}: the image is empty (height or width 0)")
            return
        elif isinstance(image, np.ndarray):
            self.kind, array = "array", image
            if array.ndim == 2:
                self.lead, self.gray2d, self.array = (), True, array[None, :, :, None]
            elif array.ndim == 3:
                self.lead, self.gray2d, self.array = (), False, array[None]
            elif array.ndim == 4:
                self.lead, self.gray2d, self.array = (array.shape[0],), False, array
            else:
                raise ValueError(
                    f"{owner}: expected an array of shape (H, W), (H, W, C) or (N, H, W, C), got {array.shape}"
                )
            if array.ndim >= 3 and array.shape[-1] > _MAX_ARRAY_CHANNELS:
                raise ValueError(
                    f"{owner}: NumPy images are channels-last, (H, W, C) or (N, H, W, C), with at most "
                    f"{_MAX_ARRAY_CHANNELS} channels; got shape {array.shape}. For a batch of grey images (N, H, W) "
                    "add the channel axis (x[..., None]); for channels-first data use a Tensor"
                )
        else:
            raise TypeError(
                f"{owner}: expected an image as a NumPy array (H, W[, C]), a ganglion Tensor ([..., C,] H, W) or a "
                f"Pillow image, got {type(image).__name__}"
            )
        if self.array.shape[1] == 0 or self.array.shape[2] == 0:
            raise ValueError(f"{owner}: the image is empty (height or width 0)")
        if self.array.dtype.kind not in "biuf":
            raise TypeError(f"{owner}: image arrays must be numeric, got dtype {self.array.dtype}")

    @property
    def array(self):
        """The images as (N, H, W, C) (a Pillow image's pixels are read on first use)."""
        if self._array is None:
            image = self._pil
            pixels = np.asarray(image.convert("L") if image.mode == "1" else image)
            self._array = pixels[None, :, :, None] if pixels.ndim == 2 else pixels[None]
        return self._array

    @array.setter
    def array(self, value):
        self._array = value

    @property
    def n(self):
        return 1 if self.kind == "pil" else self.array.shape[0]

    @property
    def size(self):
        """(H, W)."""
        return (self._pil.height, self._pil.width) if self.kind == "pil" else self.array.shape[1:3]

    @property
    def channels(self):
        return len(self._pil.getbands()) if self.kind == "pil" else self.array.shape[3]

    def require_uint8_or_float(self):
        if self.kind == "pil" and self._pil.mode in ("L", "RGB", "RGBA", "LA", "P", "1", "F", "CMYK", "YCbCr"):
            return  # 8-bit or float pixels (P is resized as Pillow does, NEAREST): no need to read them
        if self.array.dtype != np.uint8 and self.array.dtype.kind != "f":
            raise TypeError(f"{self.owner}: expected a uint8 or floating image, got dtype {self.array.dtype}")

    def wrap(self, result):
        """``result`` (N, H', W', C') back in the input's form (a single image stays single)."""
        n, h, w, c = result.shape
        keep_2d = self.gray2d and c == 1
        if self.kind == "tensor":
            if keep_2d:
                out = result[0, :, :, 0]
            else:
                out = result.transpose(0, 3, 1, 2).reshape(self.lead + (c, h, w))
            out = np.ascontiguousarray(out)
            if self.device.type != "cpu":
                out = backend.to_device(out, self.device)
            return Tensor._wrap(out)
        if self.lead:
            out = result
        else:
            out = result[0, :, :, 0] if keep_2d else result[0]
        out = np.ascontiguousarray(out)
        if self.kind == "pil" and out.dtype == np.uint8 and out.ndim in (2, 3):
            Image = _pil_module()
            if out.ndim == 3 and out.shape[2] == 1:
                out = out[:, :, 0]
            return Image.fromarray(out)
        return out


def dtype_max(dtype):
    """The value of a full-intensity pixel: 255 for uint8, 1 for floating images."""
    return 255.0 if dtype == np.uint8 else 1.0


def to_dtype(values, dtype, rounding="round"):
    """Float ``values`` back to the image dtype: uint8 is clipped to [0, 255] and rounded (or truncated, as Pillow's
    blends do); floating images are clipped to [0, 1]."""
    if dtype == np.uint8:
        values = np.clip(values, 0, 255)
        values = np.floor(values + 0.5) if rounding == "round" else np.floor(values)
        return values.astype(np.uint8)
    return np.clip(values, 0, 1).astype(dtype, copy=False)


def per_image(value, n, name):
    """``value`` (a number or a sequence of one per image) as a float64 array of shape (n,)."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(f"{name}: expected one value or {n} (one per image), got shape {arr.shape}")
    return arr
