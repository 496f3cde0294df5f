"""Batch normalization in training with a mask: the batch statistics count only the kept positions (Keras 3).

With k = the mask broadcast over the features (1 kept, 0 masked) and n = sum k over every axis but the feature axis,
    mean = sum k x / (n + 1e-7),    var = sum k (x - mean)^2 / (n + 1e-7)      (1e-7: Keras' backend epsilon)
    y = (x - mean) / sqrt(var + epsilon) gamma + beta                          (every position, masked ones too)
Built from tensor ops, so autograd differentiates through the statistics as the fused op does.
"""

from ...ops import where

KERAS_EPSILON = 1e-7


def masked_batch_norm(x, mask, axis, gamma, beta, epsilon):
    """x (Keras layout), mask of x's shape without the last axis, axis: the feature axis (non-negative), gamma and
    beta (features,) or None -> (y like x, mean (features,), biased var (features,))."""
    keep = (mask != 0).unsqueeze(-1).expand(*x.shape)
    axes = tuple(d for d in range(x.ndim) if d != axis)
    count = keep.to(x.dtype).sum(axes, keepdim=True) + KERAS_EPSILON
    mean = where(keep, x, 0.0).sum(axes, keepdim=True) / count
    centred = x - mean
    var = (where(keep, centred, 0.0) ** 2).sum(axes, keepdim=True) / count
    y = centred / (var + epsilon).sqrt()
    shape = [1] * x.ndim
    shape[axis] = -1
    if gamma is not None:
        y = y * gamma.reshape(*shape)
    if beta is not None:
        y = y + beta.reshape(*shape)
    return y, mean.reshape(-1), var.reshape(-1)
