"""Neural-network ``keras.ops``: activations, ``one_hot``, cross-entropies on tensors (no reduction), ``moments``
and ``normalize``. Each calls ``nn.functional`` or the Keras loss functions; none adds math of its own."""

import numpy as np

from ... import ops as E
from ...nn import functional as F
from .. import activations
from ..losses import functions as losses
from ._convert import float_dtype, standardize_dtype, tensor_of
from .numpy_elementwise import elementwise

_F32 = np.dtype("float32")


def _float(x, name):
    x = tensor_of(x, name)
    return tensor_of(x, name, float_dtype(x))


def relu(x):
    """max(x, 0) (integer inputs keep their dtype)."""
    return E.relu(tensor_of(x, "relu"))


def _on_float(name, activation):
    """keras.ops' ``name``: the ``keras.activations`` function on ``x`` as a float tensor (ints become float32)."""
    return elementwise(name, activation, "float", activation.__doc__)


relu6 = _on_float("relu6", activations.relu6)
sigmoid = _on_float("sigmoid", activations.sigmoid)
softmax = _on_float("softmax", activations.softmax)
log_softmax = _on_float("log_softmax", activations.log_softmax)
silu = _on_float("silu", activations.silu)
swish = silu
leaky_relu = _on_float("leaky_relu", activations.leaky_relu)
elu = _on_float("elu", activations.elu)
selu = _on_float("selu", activations.selu)
softplus = _on_float("softplus", activations.softplus)
softsign = _on_float("softsign", activations.softsign)
log_sigmoid = _on_float("log_sigmoid", activations.log_sigmoid)


def gelu(x, approximate=True):
    """x Phi(x); Keras' ``ops.gelu`` defaults to the tanh approximation (``activations.gelu`` does not)."""
    return activations.gelu(_float(x, "gelu"), approximate)


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """Integer labels (shape S) as one-hot vectors along a new ``axis`` (float32 unless ``dtype``); labels outside
    [0, num_classes) give all-zero vectors."""
    if sparse:
        raise ValueError("one_hot: sparse=True is not supported (ganglion has no sparse tensors)")
    x = tensor_of(x, "one_hot")
    if x.dtype.kind not in "iu":
        raise TypeError(f"one_hot: x must hold integer labels, got dtype {x.dtype}")
    classes = tensor_of(np.arange(int(num_classes)), "one_hot").to(device=x.device)
    hot = E.eq(x.reshape(tuple(x.shape) + (1,)), classes)
    if axis not in (-1, x.ndim):
        hot = E.permute(hot, *_moved_last(x.ndim + 1, axis))
    return tensor_of(hot, "one_hot", standardize_dtype(dtype, "one_hot") or _F32)


def _moved_last(ndim, axis):
    """The permutation that moves the last dimension to ``axis``."""
    axis %= ndim
    order = list(range(ndim - 1))
    order.insert(axis, ndim - 1)
    return order


def binary_crossentropy(target, output, from_logits=False):
    """Element-wise -(t log p + (1 - t) log(1 - p)); ``output`` probabilities (clipped to [1e-7, 1 - 1e-7]) or
    logits. Same shapes, no reduction."""
    target, output = tensor_of(target, "binary_crossentropy"), _float(output, "binary_crossentropy")
    if tuple(target.shape) != tuple(output.shape):
        raise ValueError(f"binary_crossentropy: target and output must have the same shape, got {tuple(target.shape)}"
                         f" and {tuple(output.shape)}")
    target = tensor_of(target, "binary_crossentropy", output.dtype)
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")
    return F.binary_cross_entropy(losses._clip(output), target, reduction="none")


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """-sum(target log p) along ``axis`` (one value per sample); ``output`` probabilities or logits."""
    target, output = tensor_of(target, "categorical_crossentropy"), _float(output, "categorical_crossentropy")
    return losses.categorical_crossentropy(target, output, from_logits=from_logits, axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """-log p[target] with integer ``target`` (one value per sample); ``output`` probabilities or logits."""
    target = tensor_of(target, "sparse_categorical_crossentropy")
    output = _float(output, "sparse_categorical_crossentropy")
    return losses.sparse_categorical_crossentropy(target, output, from_logits=from_logits, axis=axis)


def moments(x, axes, keepdims=False, synchronized=False):
    """(mean, variance) of ``x`` over ``axes``, the variance divided by n; float16 is computed in float32."""
    x = _float(x, "moments")
    dtype = x.dtype
    x = tensor_of(x, "moments", _F32) if dtype == np.dtype("float16") else x
    axes = tuple(axes) if isinstance(axes, (list, tuple)) else axes
    mean = E.mean(x, axis=axes, keepdims=keepdims)
    variance = E.var(x, axis=axes, keepdims=keepdims, ddof=0)
    return tensor_of(mean, "moments", dtype), tensor_of(variance, "moments", dtype)


def normalize(x, axis=-1, order=2, epsilon=None):
    """x / max(||x||_order, epsilon) along ``axis`` (epsilon: Keras' 1e-7 unless given)."""
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise ValueError(f"normalize: order must be an int >= 1, got {order!r}")
    x = _float(x, "normalize")
    return F.normalize(x.reshape(1) if x.ndim == 0 else x, order, axis, losses.EPSILON if epsilon is None else epsilon)
