"""Dropout: in training, zero each unit (or each whole channel) with probability p and scale the survivors so the
expected activation is unchanged; in evaluation, the identity.

Masks are drawn from ``backend.rng(generator)`` (the default generator unless one is given), so
``ganglion.manual_seed`` makes them reproducible; they are drawn on the CPU and moved to the input's device, so a
seed gives the same mask everywhere. ``inplace=True`` overwrites the input when no graph is being recorded for it;
while one is (the input requires grad), the result is a new tensor, because ganglion has no version counters to
tell whether another node saved the input's values.
"""

import numbers
import warnings

from ... import backend
from ...autograd.function import Function
from ...autograd.grad_mode import is_grad_enabled
from ...tensor import Tensor

# SELU's fixed point: the value a dropped unit takes in alpha dropout is -scale * alpha of SELU
SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805
ALPHA_PRIME = -SELU_SCALE * SELU_ALPHA  # -1.7580993408473766


class MaskedAffine(Function):
    """y = x * scale + shift, with a fixed (random) scale and shift that broadcast to x;  dy/dx = scale."""

    def forward(self, x, scale, shift):
        self.save(scale)
        y = x * scale
        return y if shift is None else y + shift

    def backward(self, dy):
        (scale,) = self.saved
        return dy * scale, None, None

    def backward_graph(self, dy):
        (scale,) = self.saved  # the mask is a constant: dy's is the only dependence
        return dy * scale, None, None


def check_p(op, p):
    """p as a float, after checking it is a probability (ValueError naming ``op`` and the value otherwise)."""
    if not isinstance(p, numbers.Real) or isinstance(p, bool):
        raise TypeError(f"{op}: p must be a real number, got {type(p).__name__}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def _check(op, input, p):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: input must be a floating-point tensor, got {input.dtype}")
    return check_p(op, p)


def keep_mask(shape, p, dtype, device, generator=None):
    """A 0/1 array of ``shape``: each entry is 1 with probability 1 - p, drawn from ``backend.rng(generator)``."""
    u = backend.rng(generator).random(shape, dtype=backend.float32)
    return backend.to_device((u >= p).astype(dtype), device)


def _apply(op, input, scale, shift, inplace):
    """input * scale + shift, in place when asked and no graph is being recorded through ``input``."""
    recording = is_grad_enabled() and input.requires_grad
    if inplace and recording and input.is_leaf:
        raise RuntimeError(f"{op}: a leaf tensor that requires grad cannot be modified in place; use inplace=False")
    if inplace and not recording:
        input.array *= scale
        if shift is not None:
            input.array += shift
        input._bump_version()
        return input
    return MaskedAffine.apply(input, scale, shift)


def _channel_mask_shape(shape, channel_dims):
    """(N, C, 1, ...): one draw per channel; the dims after ``channel_dims`` share it."""
    return tuple(shape[:channel_dims]) + (1,) * (len(shape) - channel_dims)


def _dropout(op, input, p, training, inplace, mask_shape, generator):
    p = _check(op, input, p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return _apply(op, input, input.array.dtype.type(0), None, inplace)
    keep = keep_mask(mask_shape, p, input.dtype, input.device, generator)
    keep *= 1.0 / (1.0 - p)
    return _apply(op, input, keep, None, inplace)


def dropout(input, p=0.5, training=True, inplace=False, *, generator=None):
    """Inverted dropout: y = x * m / (1 - p) with m ~ Bernoulli(1 - p) per element, in training; y = x otherwise.

    Any shape in, same shape out. p = 1 gives zeros. d y / d x = m / (1 - p), the mask used in the forward pass.
    """
    _check("dropout", input, p)
    return _dropout("dropout", input, p, training, inplace, tuple(input.shape), generator)


def dropout1d(input, p=0.5, training=True, inplace=False, *, generator=None):
    """Channel-wise dropout for (N, C, L) or unbatched (C, L) input: each channel is kept whole (scaled by
    1 / (1 - p)) or zeroed whole, with one draw per (sample, channel)."""
    _check("dropout1d", input, p)
    if input.ndim not in (2, 3):
        raise ValueError(f"dropout1d: expected input of shape (N, C, L) or (C, L), got {tuple(input.shape)}")
    channel_dims = input.ndim - 1
    return _dropout("dropout1d", input, p, training, inplace, _channel_mask_shape(input.shape, channel_dims),
                    generator)


def dropout2d(input, p=0.5, training=True, inplace=False, *, generator=None):
    """Channel-wise dropout for (N, C, H, W) input: each feature map is kept whole (scaled by 1 / (1 - p)) or zeroed.

    A 3-d input is read as PyTorch reads it today: as (N, C, L), one draw per (sample, channel), with a warning
    (dropout1d is the direct way to ask for that).
    """
    _check("dropout2d", input, p)
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected input of shape (N, C, H, W) (or (N, C, L)), got {tuple(input.shape)}")
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: a 3-d input is taken as (N, C, L), with one mask entry per (sample, channel), as PyTorch "
            "does; use dropout1d to say so, or add a batch dimension to an unbatched (C, H, W) input",
            UserWarning,
            stacklevel=2,
        )
    return _dropout("dropout2d", input, p, training, inplace, _channel_mask_shape(input.shape, 2), generator)


def alpha_dropout(input, p=0.5, training=False, inplace=False, *, generator=None):
    """Dropout that keeps SELU's self-normalization: dropped units are set to alpha' = -scale * alpha (SELU's
    negative saturation), then y = a x' + b restores zero mean and unit variance for zero-mean, unit-variance x:

        x' = m x + (1 - m) alpha',  a = ((1 - p)(1 + p alpha'^2))^(-1/2),  b = -a alpha' p,  m ~ Bernoulli(1 - p).

    So y = x * (a m) + a alpha' (1 - m - p) and d y / d x = a m. Any shape in, same shape out; p = 1 gives zeros.
    Note the default ``training=False``, as in PyTorch's functional form.
    """
    op = "alpha_dropout"
    p = _check(op, input, p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return _apply(op, input, input.array.dtype.type(0), None, inplace)
    keep = keep_mask(tuple(input.shape), p, input.dtype, input.device, generator)
    a = ((1.0 - p) * (1.0 + p * ALPHA_PRIME**2)) ** -0.5
    shift = (a * ALPHA_PRIME) * (1.0 - p - keep)
    keep *= a
    return _apply(op, input, keep, shift, inplace)
