"""Keras initializers (``keras.initializers``): each draws an array of a Keras-layout shape, with Keras' fan rules
(kernel (in, out): fan_in = in; conv kernel (kh, kw, in, out): fan_in = kh kw in), and can fill an engine parameter
whose layout differs (``fill``). Values are drawn in the weight's own dtype (no float64 scratch copy of a float32
kernel); ``sample`` without a dtype draws in the default float dtype (float32 unless changed)."""

import math

import numpy as np

from .. import backend
from ..factories import empty
from ..nn import init as nn_init
from ._registry import FromConfig, lookup, serialize


def compute_fans(shape):
    """Keras' (fan_in, fan_out) for a weight of Keras ``shape``."""
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


def _dtype(dtype):
    """The NumPy dtype to draw in: ``dtype`` resolved, or the default float dtype when None."""
    return backend.get_default_dtype() if dtype is None else backend.resolve_dtype(dtype)


class Initializer(FromConfig):
    """Base class: ``init(shape, dtype)`` returns a new Tensor; ``fill(param, keras_shape, ...)`` writes one."""

    def sample(self, shape, generator=None, dtype=None):
        """Draw a NumPy array of ``shape`` in ``dtype`` (the default float dtype when None)."""
        raise NotImplementedError(f"{type(self).__name__} must define sample(self, shape, generator=None, dtype=None)")

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype or backend.float32)
        t = empty(tuple(shape), dtype=dtype)
        t.array[...] = backend.to_device(self.sample(tuple(shape), dtype=dtype), t.device)
        return t

    def fill(self, param, keras_shape=None, transpose=False, layout=None):
        """Initialize engine parameter ``param`` from a draw of Keras ``keras_shape`` (so fans follow Keras' rules),
        transposed if asked, or mapped to the engine's layout by ``layout.from_keras``."""
        shape = tuple(param.shape) if keras_shape is None else tuple(keras_shape)
        values = self.sample(shape, dtype=param.dtype)
        if transpose:
            values = values.T
        if layout is not None:
            values = layout.from_keras(values)
        param.array[...] = backend.to_device(values.reshape(param.shape).astype(param.dtype, copy=False), param.device)

    def get_config(self):
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}



class Zeros(Initializer):
    """All zeros (Keras' default bias initializer)."""

    def sample(self, shape, generator=None, dtype=None):
        return np.zeros(shape, dtype=_dtype(dtype))


class Ones(Initializer):
    """All ones."""

    def sample(self, shape, generator=None, dtype=None):
        return np.ones(shape, dtype=_dtype(dtype))


class Constant(Initializer):
    """Every element equal to ``value``."""

    def __init__(self, value=0.0):
        self.value = value

    def sample(self, shape, generator=None, dtype=None):
        return np.full(shape, self.value, dtype=_dtype(dtype))


def _draw(shape, fill, dtype):
    """Run an ``nn.init`` function on a new CPU tensor of ``shape`` and ``dtype`` and return its values."""
    t = empty(tuple(shape), dtype=_dtype(dtype))
    fill(t)
    return backend.to_numpy(t.array)


class RandomNormal(Initializer):
    """N(mean, stddev^2); Keras' default stddev is 0.05."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def sample(self, shape, generator=None, dtype=None):
        return _draw(shape, lambda t: nn_init.normal_(t, self.mean, self.stddev, generator=_gen(self.seed)), dtype)


class RandomUniform(Initializer):
    """U(minval, maxval); Keras' default range is [-0.05, 0.05]."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def sample(self, shape, generator=None, dtype=None):
        return _draw(shape, lambda t: nn_init.uniform_(t, self.minval, self.maxval, generator=_gen(self.seed)),
                     dtype)


class TruncatedNormal(Initializer):
    """N(mean, stddev^2) cut at two standard deviations (values redrawn), as Keras."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def sample(self, shape, generator=None, dtype=None):
        lo, hi = self.mean - 2 * self.stddev, self.mean + 2 * self.stddev
        return _draw(shape, lambda t: nn_init.trunc_normal_(t, self.mean, self.stddev, lo, hi,
                                                            generator=_gen(self.seed)), dtype)


class VarianceScaling(Initializer):
    """Scale / fan variance: normal (truncated or not) or uniform, with fan = fan_in, fan_out or their average."""

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if scale <= 0:
            raise ValueError(f"VarianceScaling: scale must be positive, got {scale}")
        if mode not in self._MODES:
            raise ValueError(f"VarianceScaling: unknown mode {mode!r}; accepted: {', '.join(self._MODES)}")
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(
                f"VarianceScaling: unknown distribution {distribution!r}; accepted: {', '.join(self._DISTRIBUTIONS)}"
            )
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def sample(self, shape, generator=None, dtype=None):
        fan_in, fan_out = compute_fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, fan)
        gen = _gen(self.seed)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return _draw(shape, lambda t: nn_init.uniform_(t, -limit, limit, generator=gen), dtype)
        if self.distribution == "truncated_normal":
            std = math.sqrt(variance) / 0.87962566103423978  # the std of N(0, 1) cut at +-2
            return _draw(shape, lambda t: nn_init.trunc_normal_(t, 0.0, std, -2 * std, 2 * std, generator=gen),
                         dtype)
        return _draw(shape, lambda t: nn_init.normal_(t, 0.0, math.sqrt(variance), generator=gen), dtype)


class _VarianceScalingPreset(VarianceScaling):
    """A named ``VarianceScaling``: the class fixes ``preset`` = (scale, mode, distribution); only the seed is an
    argument (and the config)."""

    preset = None

    def __init__(self, seed=None):
        super().__init__(*self.preset, seed)

    def get_config(self):
        return {"seed": self.seed}


class GlorotUniform(_VarianceScalingPreset):
    """U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)) (Xavier uniform; Keras' default kernel init)."""

    preset = (1.0, "fan_avg", "uniform")


class GlorotNormal(_VarianceScalingPreset):
    """Truncated normal with std = sqrt(2 / (fan_in + fan_out))."""

    preset = (1.0, "fan_avg", "truncated_normal")


class HeNormal(_VarianceScalingPreset):
    """Truncated normal with std = sqrt(2 / fan_in) (for ReLU layers)."""

    preset = (2.0, "fan_in", "truncated_normal")


class HeUniform(_VarianceScalingPreset):
    """U(-limit, limit), limit = sqrt(6 / fan_in)."""

    preset = (2.0, "fan_in", "uniform")


class LecunNormal(_VarianceScalingPreset):
    """Truncated normal with std = sqrt(1 / fan_in) (for SELU layers)."""

    preset = (1.0, "fan_in", "truncated_normal")


class LecunUniform(_VarianceScalingPreset):
    """U(-limit, limit), limit = sqrt(3 / fan_in)."""

    preset = (1.0, "fan_in", "uniform")


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times ``gain``, over the last dimension vs the rest (as Keras)."""

    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, seed

    def sample(self, shape, generator=None, dtype=None):
        if len(shape) < 2:
            raise ValueError(f"Orthogonal: needs a shape of at least 2 dimensions, got {shape}")
        rows = int(np.prod(shape[:-1]))
        flat = _draw((shape[-1], rows), lambda t: nn_init.orthogonal_(t, self.gain, generator=_gen(self.seed)),
                     dtype)
        return flat.T.reshape(shape)


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only)."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def sample(self, shape, generator=None, dtype=None):
        if len(shape) != 2:
            raise ValueError(f"Identity initializer: needs a 2-D shape, got {shape}")
        values = np.eye(*shape, dtype=_dtype(dtype))
        values *= self.gain
        return values


def _gen(seed):
    """A private generator for a seeded initializer; the default stream (``manual_seed``) otherwise."""
    return None if seed is None else backend.Generator().manual_seed(seed)


_ALL = {
    "uniform": RandomUniform, "normal": RandomNormal, "zero": Zeros, "one": Ones,  # Keras 3's short names
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
    "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal, "he_normal": HeNormal, "he_uniform": HeUniform,
    "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform, "orthogonal": Orthogonal, "identity": Identity,
    "Zeros": Zeros, "Ones": Ones, "Constant": Constant, "RandomNormal": RandomNormal, "RandomUniform": RandomUniform,
    "TruncatedNormal": TruncatedNormal, "VarianceScaling": VarianceScaling, "GlorotUniform": GlorotUniform,
    "GlorotNormal": GlorotNormal, "HeNormal": HeNormal, "HeUniform": HeUniform, "LecunNormal": LecunNormal,
    "LecunUniform": LecunUniform, "Orthogonal": Orthogonal, "Identity": Identity,
}


class _FunctionInitializer(Initializer):
    """Wraps a plain function ``f(shape, dtype=None)`` given where an initializer is expected."""

    def __init__(self, fn):
        self.fn = fn

    def sample(self, shape, generator=None, dtype=None):
        value = self.fn(shape)
        return np.asarray(value.numpy() if hasattr(value, "numpy") else value, dtype=_dtype(dtype))


def get(identifier):
    """An Initializer from a name ("he_normal", "HeNormal"), an instance, a class or a function."""
    if isinstance(identifier, Initializer):
        return identifier
    found = lookup("initializer", identifier, _ALL)
    return found if isinstance(found, Initializer) else _FunctionInitializer(found)

