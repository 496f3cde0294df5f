"""Normalization layers: ``BatchNormalization``, ``LayerNormalization``, ``GroupNormalization``, adapters over
``nn.BatchNorm1d`` / ``nn.LayerNorm`` / ``nn.GroupNorm`` and ``nn.functional``'s ``batch_norm``, ``layer_norm`` and
``group_norm``. Keras normalizes along ``axis`` (channels-last by default); the engine wants channels at axis 1 (or
the normalized axes last), so the input is reshaped or permuted at the door and back on the way out.

Keras names: ``gamma`` (the engine's ``weight``), ``beta`` (``bias``), ``moving_mean`` (``running_mean``) and
``moving_variance`` (``running_var``); the moving statistics are non-trainable.
"""

import numbers

from ...autograd.grad_mode import no_grad
from ...factories import zeros
from ...nn import functional as F
from ...nn.modules.normalization import BatchNorm1d, GroupNorm, LayerNorm
from .. import initializers
from ._adapters import IDENTITY, check_rank
from ._masked_moments import masked_batch_norm
from .base import Layer
from .structure import as_tensor
from .weight_options import WeightTable, keras_weight


def _axis_arg(layer, axis, allow_list):
    if isinstance(axis, (list, tuple)) and allow_list:
        if not axis or not all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axis):
            raise ValueError(f"{layer}: axis must be an int or a non-empty list of ints, got {axis!r}")
        return [int(a) for a in axis]
    if not isinstance(axis, numbers.Integral) or isinstance(axis, bool):
        kinds = "an int or a list of ints" if allow_list else "an int"
        raise ValueError(f"{layer}: axis must be {kinds}, got {axis!r}")
    return int(axis)


def _positive_axes(layer, axes, ndim):
    """Normalize (possibly negative) axes against an input of rank ``ndim``; the batch axis 0 cannot be one."""
    out = []
    for a in axes:
        if not -ndim <= a < ndim or a % ndim == 0:
            raise ValueError(f"{layer.name!r} ({type(layer).__name__}): invalid axis {a} for inputs of rank {ndim} "
                             f"(expected an axis in [1, {ndim - 1}] or [-{ndim - 1}, -1])")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{layer.name!r} ({type(layer).__name__}): duplicate axes {axes}")
    return sorted(out)


def _known(layer, input_shape, axes):
    sizes = [input_shape[a] for a in axes]
    if any(s is None for s in sizes):
        raise ValueError(f"{layer.name!r} ({type(layer).__name__}): the normalized axes {axes} of the input must have "
                         f"a known size, got input shape {tuple(input_shape)}")
    return sizes


def _check_input(layer, x):
    """Rank and the sizes of the normalized axes must match the build."""
    check_rank(layer, x.shape, layer._ndim)
    for a, size in zip(layer._axes, layer._sizes):
        if x.shape[a] != size:
            raise ValueError(f"Input 0 of layer {layer.name!r} ({type(layer).__name__}) is incompatible with the "
                             f"layer: expected axis {a} of input shape to have value {size}, got shape "
                             f"{tuple(x.shape)}")


def _move_last(x, axes):
    """Permute ``axes`` to the end (in order); returns the permuted tensor and the permutation to undo it."""
    rest = [d for d in range(x.ndim) if d not in axes]
    perm = rest + list(axes)
    if perm == list(range(x.ndim)):
        return x, None
    inverse = [perm.index(d) for d in range(x.ndim)]
    return x.permute(*perm), inverse


class _Normalization(WeightTable, Layer):
    """What the three share: gamma/beta with initializers, regularizers, constraints; their config. A mask passes
    through all three."""

    supports_masking = True

    def _init_normalization(self, axis, epsilon, center, scale, beta_initializer, gamma_initializer,
                            beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint, axis_list=False):
        """The arguments the three share: ``axis`` (a list of ints too when ``axis_list``), ``epsilon``, and
        gamma's and beta's."""
        kind = type(self).__name__
        self.axis = _axis_arg(kind, axis, allow_list=axis_list)
        if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or epsilon <= 0:
            raise ValueError(f"{kind}: epsilon must be a positive number, got {epsilon!r}")
        self.epsilon = float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self._init_weight_options(beta=(beta_initializer, beta_regularizer, beta_constraint),
                                  gamma=(gamma_initializer, gamma_regularizer, gamma_constraint))

    def _build_axes(self, input_shape, min_rank, layout=""):
        """At build: check the input's rank, resolve ``axis`` against it and remember the normalized axes and their
        sizes (later calls are checked against them); returns the sizes."""
        ndim = len(input_shape)
        if ndim < min_rank:
            raise ValueError(f"{self.name!r} ({type(self).__name__}): expected inputs of rank >= {min_rank}{layout}, "
                             f"got shape {tuple(input_shape)}")
        self._ndim = ndim
        self._axes = _positive_axes(self, self.axis if isinstance(self.axis, list) else [self.axis], ndim)
        self._sizes = _known(self, input_shape, self._axes)
        return self._sizes

    def _weight_table(self):
        """gamma is the engine module's weight, beta its bias (either may be absent), same layout."""
        return [("gamma", self._module.weight, IDENTITY), ("beta", self._module.bias, IDENTITY)]

    gamma, beta = keras_weight("gamma"), keras_weight("beta")

    def _affine_config(self):
        return {"center": self.center, "scale": self.scale, **self._weight_options_config()}

    _engine_attribute = ""  # the attribute that holds the engine module

    @property
    def _module(self):
        return getattr(self, self._engine_attribute)

    def _create_affine(self, keras_shape, use_gamma, use_beta):
        """After build made the engine module: drop the parameter Keras does not use (the engine makes weight and
        bias together; Keras can keep one without the other), then initialize gamma and beta with their options."""
        module = self._module
        if not use_gamma and module.weight is not None:
            module.weight = None
        if not use_beta and module.bias is not None:
            module.bias = None
        self._create_weights({"gamma": keras_shape, "beta": keras_shape})


class BatchNormalization(_Normalization):
    """y = gamma (x - mean) / sqrt(var + epsilon) + beta per feature along ``axis``.  Any rank in, same shape out.

    Training (``training=True`` and the layer trainable): mean and the biased variance of the batch (over every axis
    but ``axis``); then, with Keras' momentum convention,
        moving_mean = moving_mean * momentum + mean * (1 - momentum),
        moving_variance = moving_variance * momentum + var * (1 - momentum).
    Otherwise (inference, or a frozen layer, as Keras 3) the moving statistics are used. The engine's
    ``nn.BatchNorm1d`` holds the weights; ``nn.functional.batch_norm`` computes. With a mask in training, the batch
    statistics count the kept positions only (``_masked_moments``).
    """

    _engine_attribute = "bn"

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 synchronized=False, **kwargs):
        super().__init__(**kwargs)
        self._init_normalization(axis, epsilon, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                                 gamma_regularizer, beta_constraint, gamma_constraint)
        if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) or not 0.0 <= momentum <= 1.0:
            raise ValueError(f"BatchNormalization: momentum must be a number in [0, 1], got {momentum!r}")
        if synchronized:
            raise ValueError("BatchNormalization: synchronized=True needs several replicas (Keras supports it only "
                             "with the TensorFlow backend); ganglion trains on one device, use synchronized=False")
        self.momentum, self.synchronized = float(momentum), False
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)

    def build(self, input_shape):
        (channels,) = self._build_axes(input_shape, 2, " (batch, ..., features)")
        # Keras' momentum weighs the old value; the engine's weighs the new one
        self.bn = BatchNorm1d(channels, eps=self.epsilon, momentum=1.0 - self.momentum,
                              affine=self.center or self.scale, bias=self.center, dtype=self.dtype_policy)
        self._create_affine((channels,), self.scale, self.center)
        self.moving_mean_initializer.fill(self.bn.running_mean, (channels,))
        self.moving_variance_initializer.fill(self.bn.running_var, (channels,))
        self.built = True

    def _weight_table(self):
        return super()._weight_table() + [("moving_mean", self.bn.running_mean, IDENTITY),
                                          ("moving_variance", self.bn.running_var, IDENTITY)]

    moving_mean, moving_variance = keras_weight("moving_mean"), keras_weight("moving_variance")

    def _to_engine(self, x):
        """(N, C, *) for ``nn.functional.batch_norm``, and how to undo it: axis 1 is used as is, the last axis
        becomes rows (M, C), any other axis is permuted last first."""
        axis = self._axes[0]
        if axis == 1:
            return x, lambda y: y
        moved, inverse = _move_last(x, [axis])
        shape = tuple(moved.shape)
        rows = moved.reshape(-1, shape[-1])

        def back(y):
            y = y.reshape(shape)
            return y.permute(*inverse) if inverse is not None else y

        return rows, back

    def call(self, inputs, training=None, mask=None):
        _check_input(self, inputs)
        if mask is not None:
            mask = as_tensor(mask)
            if mask.ndim != inputs.ndim - 1:
                raise ValueError(f"{self.name!r} (BatchNormalization): the mask must have one dimension less than the "
                                 f"inputs, got mask shape {tuple(mask.shape)} and inputs shape {tuple(inputs.shape)}")
            if training and self.trainable:  # statistics of the kept positions only
                y, mean, var = masked_batch_norm(inputs, mask, self._axes[0], self.bn.weight, self.bn.bias,
                                                 self.epsilon)
                self._move_statistics(mean.array, var.array)
                return y
        x, back = self._to_engine(inputs)
        if training and self.trainable:
            y = self._batch_statistics(x)
        else:
            y = F.batch_norm(x, self.bn.running_mean, self.bn.running_var, self.bn.weight, self.bn.bias, False, 0.0,
                             self.epsilon)
        return back(y)

    def _batch_statistics(self, x):
        """Normalize with the batch's statistics and move the moving ones toward them (Keras' convention)."""
        bn, channels = self.bn, x.shape[1]
        count = x.numel() // channels  # values per channel
        mean = zeros(channels, dtype=x.dtype, device=x.device)
        var = zeros(channels, dtype=x.dtype, device=x.device)
        if count > 1:
            # momentum 1 makes the engine write this batch's mean and unbiased variance into (mean, var)
            y = F.batch_norm(x, mean, var, bn.weight, bn.bias, True, 1.0, self.epsilon)
            batch_var = var.array * ((count - 1) / count)  # Keras moves toward the biased variance
        else:
            # one value per channel: x - mean is 0, so y = beta, and no gradient reaches x or gamma (as Keras)
            centred = x * 0.0
            y = centred * bn.weight.reshape(1, -1, *([1] * (x.ndim - 2))) if bn.weight is not None else centred
            if bn.bias is not None:
                y = y + bn.bias.reshape(1, -1, *([1] * (x.ndim - 2)))
            mean.array[...] = x.array.reshape(channels)
            batch_var = var.array
        self._move_statistics(mean.array, batch_var)
        return y

    def _move_statistics(self, batch_mean, batch_var):
        """moving = moving * momentum + batch * (1 - momentum), for the mean and the (biased) variance."""
        m, bn = self.momentum, self.bn
        with no_grad():
            for running, batch in ((bn.running_mean.array, batch_mean), (bn.running_var.array, batch_var)):
                running *= m
                running += ((1.0 - m) * batch).astype(running.dtype, copy=False)

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon, **self._affine_config(),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
            "synchronized": self.synchronized,
        })
        return config


class LayerNormalization(_Normalization):
    """y = gamma (x - mean) / sqrt(var + epsilon) + beta, mean and biased var per sample over ``axis`` (an int or a
    list).  Any rank in, same shape out; gamma and beta have the shape of the normalized axes.

    ``rms_scaling=True`` (Keras 3): y = gamma x / sqrt(mean(x^2) + epsilon), no centring and no beta.
    """

    _engine_attribute = "layer_norm"

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self._init_normalization(axis, epsilon, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                                 gamma_regularizer, beta_constraint, gamma_constraint, axis_list=True)
        self.rms_scaling = bool(rms_scaling)

    def build(self, input_shape):
        shape = tuple(self._build_axes(input_shape, 1))
        use_gamma = self.scale or self.rms_scaling
        use_beta = self.center and not self.rms_scaling
        self.layer_norm = LayerNorm(shape, eps=self.epsilon, elementwise_affine=use_gamma or use_beta, bias=use_beta,
                                    dtype=self.dtype_policy)
        self._create_affine(shape, use_gamma, use_beta)
        self.built = True

    def call(self, inputs, training=None):  # same in training and inference
        _check_input(self, inputs)
        x, inverse = _move_last(inputs, self._axes)
        ln = self.layer_norm
        if self.rms_scaling:
            y = F.rms_norm(x, ln.normalized_shape, ln.weight, self.epsilon)
        else:
            y = F.layer_norm(x, ln.normalized_shape, ln.weight, ln.bias, self.epsilon)
        return y.permute(*inverse) if inverse is not None else y

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis, "epsilon": self.epsilon, "rms_scaling": self.rms_scaling,
                       **self._affine_config()})
        return config


class GroupNormalization(_Normalization):
    """Group normalization: the features along ``axis`` split into ``groups`` groups of consecutive features, each
    normalized per sample over its features and every other non-batch axis; then gamma, beta per feature.

    y = gamma (x - mean) / sqrt(var + epsilon) + beta.  Any rank >= 2 in, same shape out.
    """

    _engine_attribute = "group_norm"

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups <= 0:
            raise ValueError(f"GroupNormalization: groups must be a positive int, got {groups!r}")
        self.groups = int(groups)
        self._init_normalization(axis, epsilon, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                                 gamma_regularizer, beta_constraint, gamma_constraint)

    def build(self, input_shape):
        (channels,) = self._build_axes(input_shape, 2)
        if channels < self.groups:
            raise ValueError(f"{self.name!r} (GroupNormalization): number of groups ({self.groups}) cannot be more "
                             f"than the number of channels ({channels}) of input shape {tuple(input_shape)}")
        if channels % self.groups:
            raise ValueError(f"{self.name!r} (GroupNormalization): number of groups ({self.groups}) must be a "
                             f"divisor of the number of channels ({channels}) of input shape {tuple(input_shape)}")
        self.group_norm = GroupNorm(self.groups, channels, eps=self.epsilon, affine=self.center or self.scale,
                                    bias=self.center, dtype=self.dtype_policy)
        self._create_affine((channels,), self.scale, self.center)
        self.built = True

    def call(self, inputs, training=None):  # same in training and inference
        _check_input(self, inputs)
        axis = self._axes[0]
        gn = self.group_norm
        if axis == 1:
            return F.group_norm(inputs, self.groups, gn.weight, gn.bias, self.epsilon)
        perm = [0, axis] + [d for d in range(1, inputs.ndim) if d != axis]
        inverse = [perm.index(d) for d in range(inputs.ndim)]
        y = F.group_norm(inputs.permute(*perm), self.groups, gn.weight, gn.bias, self.epsilon)
        return y.permute(*inverse)

    def get_config(self):
        config = super().get_config()
        config.update({"groups": self.groups, "axis": self.axis, "epsilon": self.epsilon, **self._affine_config()})
        return config
