"""``keras.random``: random tensors drawn from ganglion's generators, with Keras 3's seed rules.

``seed`` is an int (the same values at every call), a ``SeedGenerator`` (a reproducible stream: each draw advances
it) or None (ganglion's default stream, which ``keras.utils.set_random_seed`` and ``ganglion.manual_seed`` seed).
Shapes and dtypes are Keras': floats default to float32, ``randint`` and ``categorical`` to int32.
"""

import numbers

import numpy as np

from .. import backend, factories
from ..nn import functional as F
from ..nn import init as nn_init
from ..tensor import Tensor
from .layers.structure import as_tensor
from ._registry import FromConfig
from .naming import unique_name

__all__ = ["SeedGenerator", "normal", "uniform", "truncated_normal", "randint", "dropout", "shuffle", "categorical"]


class SeedGenerator(FromConfig):
    """A reproducible stream of seeds: state (seed, counter); ``next()`` returns the state and advances the counter.
    ``seed=None`` picks one at random."""

    def __init__(self, seed=None, name=None, **kwargs):
        kwargs.pop("backend", None)
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
        self.name = name or unique_name("seed_generator")
        self._initial_seed = seed
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**31))
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ValueError(f"Argument `seed` must be an integer. Received: seed={seed}")
        self._seed, self._counter = int(seed), 0

    @property
    def state(self):
        return np.array([self._seed, self._counter], dtype=np.uint32 if self._seed >= 0 else np.int64)

    def next(self, ordered=True):
        """The current (seed, counter) state; the stream then moves on (``ordered=False`` scrambles the counter)."""
        state = self.state
        self._counter = self._counter + 1 if ordered else (self._counter + 1) * 5387 % 933199
        return state

    def get_config(self):
        return {"seed": self._initial_seed, "name": self.name}



def _generator(seed):
    """The ganglion Generator a draw with ``seed`` uses (None: the default stream)."""
    if seed is None:
        return None
    if isinstance(seed, SeedGenerator):
        seed_value, counter = (int(v) for v in seed.next())
    elif isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        seed_value, counter = int(seed), 0
    else:
        raise ValueError("Argument `seed` must be either an integer or an instance of `SeedGenerator`. "
                         f"Received: seed={seed} (of type {type(seed)})")
    return backend.Generator().manual_seed((seed_value % 2**32) * 2**32 + counter)


def _shape(fn, shape):
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in shape):
        raise ValueError(f"keras.random.{fn}: shape must hold non-negative ints, got {shape}")
    return shape


def _float_dtype(fn, dtype):
    resolved = backend.resolve_dtype(dtype) if dtype is not None else backend.float32
    if resolved.kind != "f":
        raise ValueError(f"`keras.random.{fn}` requires a floating point `dtype`. Received: dtype={dtype} ")
    return resolved


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of N(mean, stddev^2) of ``shape``."""
    dtype = _float_dtype("normal", dtype)
    return factories.randn(_shape("normal", shape), generator=_generator(seed), dtype=dtype) * stddev + mean


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples of U[minval, maxval) of ``shape``."""
    dtype = _float_dtype("uniform", dtype)
    return factories.rand(_shape("uniform", shape), generator=_generator(seed), dtype=dtype) * (maxval - minval) \
        + minval


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of N(mean, stddev^2) of ``shape`` with values beyond two standard deviations redrawn."""
    out = factories.empty(_shape("truncated_normal", shape), dtype=_float_dtype("truncated_normal", dtype))
    return nn_init.trunc_normal_(out, mean, stddev, mean - 2 * stddev, mean + 2 * stddev, generator=_generator(seed))


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers drawn uniformly from [minval, maxval), of ``shape``."""
    resolved = backend.resolve_dtype(dtype)
    if resolved.kind not in "iu":
        raise ValueError(f"`keras.random.randint` requires an integer `dtype`. Received: dtype={dtype} ")
    if not minval < maxval:
        raise ValueError(f"keras.random.randint: expected minval < maxval, got minval={minval}, maxval={maxval}")
    return factories.randint(minval, maxval, _shape("randint", shape), generator=_generator(seed), dtype=resolved)


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zero each entry with probability ``rate`` and scale the rest by 1 / (1 - rate) (one draw per entry of
    ``noise_shape``, shared along its size-1 dims)."""
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate < 1:
        raise ValueError(f"keras.random.dropout: rate must be a number in [0, 1), got {rate!r}")
    inputs = as_tensor(inputs)
    generator = _generator(seed)
    if noise_shape is None:
        return F.dropout(inputs, rate, True, generator=generator)
    mask_shape = tuple(s if n is None else n for n, s in zip(noise_shape, inputs.shape))
    if len(noise_shape) != inputs.ndim or any(m not in (1, s) for m, s in zip(mask_shape, inputs.shape)):
        raise ValueError(f"keras.random.dropout: noise_shape {tuple(noise_shape)} does not broadcast to the input "
                         f"shape {tuple(inputs.shape)}")
    mask = F.dropout(factories.ones(mask_shape, dtype=inputs.dtype), rate, True, generator=generator)
    return inputs * mask


def shuffle(x, axis=0, seed=None):
    """``x`` with its slices along ``axis`` in a random order."""
    x = as_tensor(x)
    if not -x.ndim <= axis < max(x.ndim, 1):
        raise ValueError(f"keras.random.shuffle: axis {axis} is out of range for shape {tuple(x.shape)}")
    order = factories.randperm(x.shape[axis], generator=_generator(seed))
    return x.index_select(axis, order)


def categorical(logits, num_samples, dtype="int32", seed=None):
    """(batch, num_samples) class indices, row b drawn from softmax(logits[b]); logits: (batch, num_classes)."""
    logits = logits if isinstance(logits, Tensor) else as_tensor(np.asarray(logits, dtype=np.float32))
    if logits.ndim != 2:
        raise ValueError(f"`logits` should be a 2-D tensor with shape [batch_size, num_classes]. Received: "
                         f"logits={logits}")
    probabilities = backend.to_numpy(F.softmax(logits.detach().float(), dim=-1).array).astype(np.float64)
    cumulative = np.cumsum(probabilities, axis=-1)
    u = backend.rng(_generator(seed)).random((logits.shape[0], int(num_samples))) * cumulative[:, -1:]
    # inverse CDF: the first class whose cumulative probability exceeds u
    samples = np.stack([np.searchsorted(row, draws, side="right") for row, draws in zip(cumulative, u)])
    samples = np.minimum(samples, logits.shape[1] - 1)
    return factories.tensor(samples.reshape(logits.shape[0], int(num_samples)).astype(backend.resolve_dtype(dtype)))
