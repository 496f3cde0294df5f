"""Pipeline pieces and the array-to-tensor step: Compose, Lambda, RandomApply, ToTensor, Normalize."""

import numpy as np

from ... import backend
from ...tensor import Tensor
from ._base import Transform, check_probability
from ._image import ImageBatch

# dtypes a Tensor cannot hold, and what ToTensor widens them to
_WIDER = {np.dtype(np.uint16): np.int32, np.dtype(np.uint32): np.int64, np.dtype(np.uint64): np.int64}


class Compose(Transform):
    """Apply ``transforms`` one after another: ``Compose([t1, t2])(x) = t2(t1(x))``."""

    def __init__(self, transforms):
        transforms = list(transforms)
        for i, t in enumerate(transforms):
            if not callable(t):
                raise TypeError(f"Compose: transform {i} is not callable (got {type(t).__name__})")
        self.transforms = transforms

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


class Lambda(Transform):
    """Apply a user function: ``Lambda(fn)(x) = fn(x)``."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Lambda: expected a callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)


class RandomApply(Transform):
    """Apply the list of ``transforms`` (in order) with probability ``p``, else return the input unchanged.
    The draw is made once per call, so a batch is transformed as a whole or not at all."""

    def __init__(self, transforms, p=0.5, *, generator=None):
        self.transforms, self.p, self.generator = Compose(transforms), check_probability("RandomApply", p), generator

    def __call__(self, img):
        if self._rng().random() >= self.p:
            return img
        return self.transforms(img)


class ToTensor(Transform):
    """An image array (H, W, C) or Pillow image -> a Tensor (C, H, W); a batch (N, H, W, C) -> (N, C, H, W).
    uint8 values are scaled to float32 in [0, 1] (x / 255); other dtypes keep their values."""

    def __call__(self, pic):
        if isinstance(pic, Tensor):
            raise TypeError("ToTensor: expected a NumPy array (H, W[, C]) or a Pillow image, got a Tensor")
        batch = ImageBatch(pic, "ToTensor")
        x = batch.array.transpose(0, 3, 1, 2)
        if x.dtype == np.uint8:  # one pass: read channels-last, write channels-first float32
            scaled = np.empty(x.shape, dtype=np.float32)
            np.divide(x, np.float32(255), out=scaled)
            x = scaled
        elif x.dtype == np.bool_:
            x = x.astype(np.float32)
        elif x.dtype in _WIDER:
            x = x.astype(_WIDER[x.dtype])
        return Tensor._wrap(np.ascontiguousarray(x if batch.lead else x[0]))


class Normalize(Transform):
    """(x - mean[c]) / std[c] per channel c. Tensors are channels-first (..., C, H, W); NumPy arrays channels-last
    (..., H, W, C). ``mean`` and ``std`` hold one value, or one per channel."""

    def __init__(self, mean, std, inplace=False):
        self.mean = tuple(float(m) for m in np.atleast_1d(np.asarray(mean, dtype=np.float64)))
        self.std = tuple(float(s) for s in np.atleast_1d(np.asarray(std, dtype=np.float64)))
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std must not contain zeros (it divides), got {self.std}")
        self.inplace = bool(inplace)
        self._cache = {}

    def _constants(self, xp, dtype, axis):
        """mean and std as arrays shaped to broadcast over the channel axis (made once per dtype and layout)."""
        key = (xp.__name__, dtype, axis)
        if key not in self._cache:
            shape = (-1, 1, 1) if axis == -3 else (-1,)
            self._cache[key] = (xp.asarray(self.mean, dtype=dtype).reshape(shape),
                                xp.asarray(self.std, dtype=dtype).reshape(shape))
        return self._cache[key]

    def __call__(self, tensor):
        if isinstance(tensor, Tensor):
            array, axis = tensor.array, -3
            if array.ndim < 3:
                raise ValueError(f"Normalize: expected a tensor of shape (..., C, H, W), got {tuple(array.shape)}")
        elif isinstance(tensor, np.ndarray):
            array, axis = tensor, -1
            if array.ndim < 3:
                raise ValueError(f"Normalize: expected an array of shape (..., H, W, C), got {array.shape}")
        else:
            raise TypeError(
                f"Normalize: expected a Tensor (from ToTensor) or a NumPy array, got {type(tensor).__name__}")
        if array.dtype.kind != "f":
            raise TypeError(f"Normalize: expected a floating image (apply ToTensor first), got dtype {array.dtype}")
        channels = array.shape[axis]
        for name, values in (("mean", self.mean), ("std", self.std)):
            if len(values) not in (1, channels):
                raise ValueError(
                    f"Normalize: {name} has {len(values)} values but the image has {channels} channels"
                )
        mean, std = self._constants(backend.get_array_module(array), array.dtype, axis)
        if self.inplace:
            array -= mean
            array /= std
            return tensor
        out = array - mean
        out /= std
        return Tensor._wrap(out) if isinstance(tensor, Tensor) else out
