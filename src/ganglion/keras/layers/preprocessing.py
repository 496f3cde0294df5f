"""Preprocessing layers that are part of the model: ``Rescaling`` (y = x scale + offset) and ``Normalization``
(feature-wise standardization with statistics given or learned by ``adapt``). Both are plain engine arithmetic,
differentiable in their input, and do the same thing in training and inference."""

import numbers

import numpy as np

from ... import backend
from ...autograd.grad_mode import no_grad
from ...factories import ones, tensor, zeros
from ...tensor import Tensor
from .base import Layer
from .keras_weight import KerasWeight

EPSILON = 1e-7  # Keras' backend.epsilon(): the smallest standard deviation Normalization divides by


def _float(x):
    """Keras' preprocessing layers compute in float32: integer images (uint8) are cast first."""
    return x if x.dtype.kind == "f" else x.type(backend.float32)


def _number_or_array(owner, name, value):
    if isinstance(value, bool):
        raise ValueError(f"{owner}: {name} must be a number or an array of numbers, got {value!r}")
    if isinstance(value, numbers.Real):
        return float(value)
    try:
        array = np.asarray(value.numpy() if hasattr(value, "numpy") else value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{owner}: {name} must be a number or an array of numbers, got {value!r}") from None
    return array


class Rescaling(Layer):
    """y = x * scale + offset (e.g. ``Rescaling(1. / 255)`` maps [0, 255] images to [0, 1]; ``scale`` and
    ``offset`` may be arrays broadcasting against the input, e.g. one value per channel).  Any shape in, same out;
    a mask passes through."""

    supports_masking = True

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = _number_or_array("Rescaling", "scale", scale)
        self.offset = _number_or_array("Rescaling", "offset", offset)

    def _constant(self, value, x):
        if isinstance(value, float):
            return value
        return tensor(value, dtype=x.dtype, device=x.device)

    def call(self, inputs, training=None):  # same in training and inference
        x = _float(inputs)
        for name, value in (("scale", self.scale), ("offset", self.offset)):
            if isinstance(value, np.ndarray):
                try:
                    np.broadcast_shapes(value.shape, tuple(x.shape))
                except ValueError:
                    raise ValueError(f"{self.name!r} (Rescaling): {name} of shape {value.shape} does not broadcast "
                                     f"against the input of shape {tuple(x.shape)}") from None
        y = x * self._constant(self.scale, x)
        return y + self._constant(self.offset, x) if not (isinstance(self.offset, float) and self.offset == 0.0) else y

    def get_config(self):
        config = super().get_config()
        as_config = lambda v: v if isinstance(v, float) else v.tolist()  # noqa: E731
        config.update({"scale": as_config(self.scale), "offset": as_config(self.offset)})
        return config


def _first(batch):
    """(x, y[, w]) batches from a dataset: adapt looks at x."""
    return batch[0] if isinstance(batch, (tuple, list)) else batch


def _as_array(x):
    if isinstance(x, Tensor):
        return backend.to_numpy(x.detach().array)
    return np.asarray(x)


class Normalization(Layer):
    """y = (x - mean) / max(sqrt(variance), 1e-7), one mean and variance per index of the kept ``axis`` (an int, a
    tuple of ints, or None for a single scalar pair); ``invert=True`` gives y = mean + x max(sqrt(variance), 1e-7).
    Any shape in (with the kept axes' sizes fixed at build), same shape out.

    The statistics are either given (``mean``, ``variance``, broadcast to the kept axes) or computed by
    ``adapt(data)``: the mean and biased variance of the data over every other axis. Adapted statistics are the
    layer's non-trainable weights ``mean``, ``variance`` and ``count`` (kept at 0, as Keras 3 keeps it). A mask
    passes through.
    """

    supports_masking = True

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
            axis = (int(axis),)
        elif isinstance(axis, (list, tuple)) and all(isinstance(a, numbers.Integral) and not isinstance(a, bool)
                                                      for a in axis):
            axis = tuple(int(a) for a in axis)
        else:
            raise ValueError(f"Normalization: axis must be an int, a tuple of ints or None, got {axis!r}")
        self.axis = axis
        if (mean is None) != (variance is None):
            raise ValueError(f"Normalization: when setting values directly, both `mean` and `variance` must be set. "
                             f"Received: mean={mean} and variance={variance}")
        if mean is not None:
            mean, variance = _as_array(mean).astype(np.float64), _as_array(variance).astype(np.float64)
            if mean.shape != variance.shape:
                raise ValueError(f"Normalization: `mean` and `variance` must have the same shape, got {mean.shape} "
                                 f"and {variance.shape}")
            if mean.ndim > len(self.axis):
                raise ValueError(f"Normalization: the rank of `mean` ({mean.ndim}) must be at most the number of "
                                 f"kept axes ({len(self.axis)}, axis={self.axis})")
            if np.any(variance < 0):
                raise ValueError(f"Normalization: `variance` must be non-negative, got {variance}")
        self.input_mean, self.input_variance = mean, variance
        self.invert = bool(invert)

    # ------------------------------------------------------------------------------------------------ build
    def build(self, input_shape):
        ndim = len(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(f"{self.name!r} (Normalization): all axis values must be in the range [-ndim, ndim); "
                             f"got inputs with ndim={ndim} (shape {tuple(input_shape)}) and axis={self.axis}")
        keep = tuple(sorted({a % ndim for a in self.axis}))
        for d in keep:
            if input_shape[d] is None:
                raise ValueError(f"{self.name!r} (Normalization): all axes to be kept must have a known size; axis "
                                 f"{d} of input shape {tuple(input_shape)} is unknown")
        d = self.__dict__
        d["_ndim"], d["_keep"] = ndim, keep
        d["_reduce"] = tuple(a for a in range(ndim) if a not in keep)
        d["_keep_shape"] = tuple(int(input_shape[a]) for a in keep)
        d["_broadcast_shape"] = tuple(int(input_shape[a]) if a in keep else 1 for a in range(ndim))
        dtype = self.dtype_policy or backend.float32
        if self.input_mean is None:
            self.register_buffer("adapt_mean", zeros(*self._keep_shape, dtype=dtype))
            self.register_buffer("adapt_variance", ones(*self._keep_shape, dtype=dtype))
            self.register_buffer("count", zeros((), dtype=backend.int32))
        else:
            try:
                mean = np.broadcast_to(self.input_mean, self._keep_shape)
                variance = np.broadcast_to(self.input_variance, self._keep_shape)
            except ValueError:
                raise ValueError(f"{self.name!r} (Normalization): mean of shape {self.input_mean.shape} does not "
                                 f"broadcast to the kept axes {keep} of sizes {self._keep_shape}") from None
            self.register_buffer("fixed_mean", tensor(np.ascontiguousarray(mean), dtype=dtype), persistent=False)
            self.register_buffer("fixed_variance", tensor(np.ascontiguousarray(variance), dtype=dtype),
                                 persistent=False)
        self.built = True

    def keras_weights(self):
        if not self.built or self.input_mean is not None:
            return []
        return [KerasWeight("mean", self.adapt_mean), KerasWeight("variance", self.adapt_variance),
                KerasWeight("count", self.count)]

    @property
    def mean(self):
        """The mean in the broadcast shape (1 on reduced axes), or None before build."""
        if not self.built:
            return None
        return (self.adapt_mean if self.input_mean is None else self.fixed_mean).reshape(self._broadcast_shape)

    @property
    def variance(self):
        if not self.built:
            return None
        return (self.adapt_variance if self.input_mean is None else self.fixed_variance).reshape(
            self._broadcast_shape)

    # ------------------------------------------------------------------------------------------------ adapt
    def adapt(self, data, batch_size=None, steps=None):
        """Learn the mean and variance of ``data``: an array (NumPy, pandas, a Tensor), or batches from a
        DataLoader / iterable ((x, y) batches use x); a ``Dataset`` is read in batches of ``batch_size`` (32).
        ``steps`` limits the number of batches read."""
        if self.input_mean is not None:
            raise ValueError(f"{self.name!r} (Normalization): mean and variance were given at construction; adapt "
                             "is only for a layer created without them")
        from ...data.dataloader import DataLoader
        from ...data.dataset import Dataset

        if isinstance(data, Tensor) or hasattr(data, "__array__"):
            arrays = iter([_as_array(data)])
        elif isinstance(data, Dataset):
            arrays = (_as_array(_first(b)) for b in DataLoader(data, batch_size=batch_size or 32))
        elif hasattr(data, "__iter__") and not isinstance(data, (str, bytes, dict)):
            arrays = (_as_array(_first(b)) for b in data)
        else:
            raise TypeError(f"{self.name!r} (Normalization): adapt expects an array, a Tensor, a Dataset, a "
                            f"DataLoader or an iterable of batches, got {type(data).__name__}")
        total_mean = total_var = None
        total_count = 0
        for i, batch in enumerate(arrays):
            if steps is not None and i >= steps:
                break
            batch = np.asarray(batch, dtype=np.float64)
            self._check_adapt_batch(batch)
            count = int(np.prod([batch.shape[a] for a in self._reduce])) if self._reduce else 1
            if count == 0:
                continue
            mean = batch.mean(axis=self._reduce)
            var = batch.var(axis=self._reduce)
            if total_mean is None:
                total_mean, total_var, total_count = mean, var, count
                continue
            # merge two (mean, biased variance, count) summaries exactly
            new_count = total_count + count
            w_new = count / new_count
            merged = total_mean * (1 - w_new) + mean * w_new
            total_var = ((total_var + (total_mean - merged) ** 2) * (1 - w_new)
                         + (var + (mean - merged) ** 2) * w_new)
            total_mean, total_count = merged, new_count
        if total_mean is None:
            raise ValueError(f"{self.name!r} (Normalization): adapt received no data")
        with no_grad():
            self.adapt_mean.array[...] = backend.to_device(
                np.asarray(total_mean).astype(self.adapt_mean.dtype), self.adapt_mean.device)
            self.adapt_variance.array[...] = backend.to_device(
                np.asarray(total_var).astype(self.adapt_variance.dtype), self.adapt_variance.device)

    def _check_adapt_batch(self, batch):
        if not self.built:
            if batch.ndim == 0:
                raise ValueError(f"{self.name!r} (Normalization): adapt needs array data, got a scalar")
            self._maybe_build(batch.shape)
        if batch.ndim != self._ndim or any(batch.shape[a] != n for a, n in zip(self._keep, self._keep_shape)):
            raise ValueError(f"{self.name!r} (Normalization): the layer was built for inputs of rank {self._ndim} with "
                             f"sizes {self._keep_shape} on axes {self._keep}, but adapt() got data of shape "
                             f"{batch.shape}")

    # ------------------------------------------------------------------------------------------------- call
    def call(self, inputs, training=None):  # same in training and inference
        x = _float(inputs)
        if x.ndim != self._ndim or any(x.shape[a] != n for a, n in zip(self._keep, self._keep_shape)):
            raise ValueError(f"Input 0 of layer {self.name!r} (Normalization) is incompatible with the layer: "
                             f"expected rank {self._ndim} with sizes {self._keep_shape} on axes {self._keep}, got "
                             f"shape {tuple(x.shape)}")
        mean = self.mean.detach().type(x.dtype)
        std = self.variance.detach().type(x.dtype).clamp(min=0).sqrt().clamp(min=EPSILON)
        if self.invert:
            return mean + x * std
        return (x - mean) / std

    def get_config(self):
        config = super().get_config()
        as_list = lambda v: None if v is None else v.tolist()  # noqa: E731
        config.update({"axis": list(self.axis) if len(self.axis) != 1 else self.axis[0], "invert": self.invert,
                       "mean": as_list(self.input_mean), "variance": as_list(self.input_variance)})
        return config
