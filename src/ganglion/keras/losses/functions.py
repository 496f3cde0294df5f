"""The Keras loss functions: ``f(y_true, y_pred)`` returns one loss per sample (the last axis reduced, shape
(N, ...)). The math is the engine's (``nn.functional`` and Tensor ops, so gradients flow); this adds Keras' argument
order, names, defaults, ``from_logits``/``label_smoothing``, and checks that the labels fit the loss. Probabilities
are clipped to [eps, 1 - eps] (eps = 1e-7, Keras' ``backend.epsilon()``) before a log."""

import math

from ... import backend
from ...nn import functional as F
from ..layers.structure import as_tensor

EPSILON = 1e-7


# ---------------------------------------------------------------------------------------------------- helpers
def _pair(y_true, y_pred):
    return as_tensor(y_true), as_tensor(y_pred)


def _same_rank(name, y_true, y_pred):
    """Keras' squeeze-or-expand: (N,) against (N, 1) becomes (N, 1) against (N, 1), a trailing 1 is dropped when the
    ranks differ by one; after that the shapes must match."""
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1) if y_pred.ndim != 1 else y_true
        y_pred = y_pred.unsqueeze(-1) if y_pred.ndim == 1 else y_pred
    elif y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        if y_true.ndim == 1:
            y_true = y_true.unsqueeze(-1)
        else:
            y_pred = y_pred.squeeze(-1)
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(
            f"{name}: y_true and y_pred must have the same shape, got y_true {tuple(y_true.shape)} and y_pred "
            f"{tuple(y_pred.shape)}"
        )
    return y_true.type(y_pred.dtype), y_pred


def _clip(p):
    return p.clamp(EPSILON, 1 - EPSILON)


def _hinge_labels(y_true):
    """0/1 labels become -1/1 (labels that are already -1/1, or anything else, are left alone)."""
    values = y_true.array
    xp = backend.get_array_module(values)
    if bool(xp.all((values == 0) | (values == 1))):
        return 2.0 * y_true - 1.0
    return y_true


# ----------------------------------------------------------------------------------------------- regression
def mean_squared_error(y_true, y_pred):
    """mean((y_true - y_pred)^2) over the last axis.  (N, ..., d) -> (N, ...)."""
    y_true, y_pred = _same_rank("mean_squared_error", *_pair(y_true, y_pred))
    return F.mse_loss(y_pred, y_true, reduction="none").mean(dim=-1)


def mean_absolute_error(y_true, y_pred):
    """mean(|y_true - y_pred|) over the last axis.  (N, ..., d) -> (N, ...)."""
    y_true, y_pred = _same_rank("mean_absolute_error", *_pair(y_true, y_pred))
    return F.l1_loss(y_pred, y_true, reduction="none").mean(dim=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """100 * mean(|y_true - y_pred| / max(|y_true|, eps)) over the last axis."""
    y_true, y_pred = _same_rank("mean_absolute_percentage_error", *_pair(y_true, y_pred))
    return 100.0 * ((y_true - y_pred).abs() / y_true.abs().clamp(min=EPSILON)).mean(dim=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))^2) over the last axis."""
    y_true, y_pred = _same_rank("mean_squared_logarithmic_error", *_pair(y_true, y_pred))
    first, second = (y_pred.clamp(min=EPSILON) + 1).log(), (y_true.clamp(min=EPSILON) + 1).log()
    return F.mse_loss(first, second, reduction="none").mean(dim=-1)


def huber(y_true, y_pred, delta=1.0):
    """mean over the last axis of 0.5 e^2 where |e| <= delta, else delta |e| - 0.5 delta^2 (e = y_pred - y_true)."""
    y_true, y_pred = _same_rank("huber", *_pair(y_true, y_pred))
    return F.huber_loss(y_pred, y_true, reduction="none", delta=float(delta)).mean(dim=-1)


def log_cosh(y_true, y_pred):
    """mean(log(cosh(e))) over the last axis, computed stably as e + softplus(-2 e) - log 2 (e = y_pred - y_true)."""
    y_true, y_pred = _same_rank("log_cosh", *_pair(y_true, y_pred))
    e = y_pred - y_true
    return (e + F.softplus(-2.0 * e) - math.log(2.0)).mean(dim=-1)


def cosine_similarity(y_true, y_pred, axis=-1):
    """-sum(l2_normalize(y_true) * l2_normalize(y_pred)) along ``axis``: -1 for parallel vectors, 0 if either is 0.
    Each is normalized before they broadcast (Keras'), so this is ``F.normalize`` rather than ``F.cosine_similarity``,
    which broadcasts first (PyTorch's)."""
    y_true, y_pred = _same_rank("cosine_similarity", *_pair(y_true, y_pred))
    return -(F.normalize(y_true, 2, axis, EPSILON) * F.normalize(y_pred, 2, axis, EPSILON)).sum(dim=axis)


# ---------------------------------------------------------------------------------------------- probabilistic
def _binary_targets(name, y_true, y_pred, label_smoothing):
    """(y_true, y_pred) of a binary loss: labels (batch,) against predictions (batch, 1) gain the trailing axis;
    ``label_smoothing`` s moves labels toward 0.5: y (1 - s) + s / 2."""
    y_true, y_pred = _pair(y_true, y_pred)
    if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
        y_true = y_true.reshape(tuple(y_true.shape) + (1,))
    y_true, y_pred = _same_rank(name, y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1 - label_smoothing) + 0.5 * label_smoothing
    return y_true, y_pred


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """mean over ``axis`` of -(y log p + (1 - y) log(1 - p)); y_pred probabilities (clipped to [eps, 1 - eps]) or
    logits. ``label_smoothing`` s moves labels toward 0.5: y (1 - s) + s / 2."""
    y_true, y_pred = _binary_targets("binary_crossentropy", y_true, y_pred, label_smoothing)
    if from_logits:
        per = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        per = F.binary_cross_entropy(_clip(y_pred), y_true, reduction="none")
    return per.mean(dim=axis)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                              label_smoothing=0.0, axis=-1):
    """mean over ``axis`` of (1 - p_t)^gamma * bce, p_t = y p + (1 - y)(1 - p); with class balancing each term is
    also weighted alpha (y = 1) or 1 - alpha (y = 0)."""
    y_true, y_pred = _binary_targets("binary_focal_crossentropy", y_true, y_pred, label_smoothing)
    p = F.sigmoid(y_pred) if from_logits else y_pred
    bce = F.binary_cross_entropy(_clip(p), y_true, reduction="none")
    p_t = y_true * p + (1 - y_true) * (1 - p)
    focal = (1.0 - p_t) ** gamma * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1 - y_true) * (1 - alpha)) * focal
    return focal.mean(dim=axis)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """-sum(y_true log p) over ``axis``: y_true one-hot (or probabilities), y_pred probabilities (renormalized and
    clipped) or logits (log_softmax). ``label_smoothing`` s mixes in the uniform distribution: y (1 - s) + s / C."""
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ValueError(f"categorical_crossentropy: axis must be an int, got {axis!r}")
    y_true, y_pred = _pair(y_true, y_pred)
    if y_true.ndim == y_pred.ndim - 1 or (y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1 != y_pred.shape[-1]):
        raise ValueError(
            f"categorical_crossentropy expects one-hot labels of shape {tuple(y_pred.shape)}, got {tuple(y_true.shape)}"
            "; for integer labels use sparse_categorical_crossentropy (or keras.utils.to_categorical)"
        )
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(f"categorical_crossentropy: y_true and y_pred must have the same shape, got y_true "
                         f"{tuple(y_true.shape)} and y_pred {tuple(y_pred.shape)}")
    y_true = y_true.type(y_pred.dtype)
    if from_logits and y_pred.ndim == 2 and axis in (-1, 1):  # one fused op: softmax - target in the backward
        return F.cross_entropy(y_pred, y_true, reduction="none", label_smoothing=float(label_smoothing))
    if label_smoothing:
        y_true = y_true * (1 - label_smoothing) + label_smoothing / y_pred.shape[axis]
    if from_logits:
        return -(y_true * F.log_softmax(y_pred, dim=axis)).sum(dim=axis)
    p = y_pred / y_pred.sum(dim=axis, keepdim=True)
    return -(y_true * _clip(p).log()).sum(dim=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """-log p[label]: y_true integer labels (N, ...) or (N, ..., 1), y_pred probabilities or logits (N, ..., C).
    Entries whose label is ``ignore_class`` get loss 0 (the ``Loss`` class also leaves them out of the mean)."""
    y_true, y_pred = _pair(y_true, y_pred)
    if axis not in (-1, y_pred.ndim - 1):
        raise ValueError(f"sparse_categorical_crossentropy: only the last axis can hold the classes, got axis={axis}")
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true.reshape(tuple(y_true.shape[:-1]))
    if y_true.ndim != y_pred.ndim - 1 or tuple(y_true.shape) != tuple(y_pred.shape[:-1]):
        raise ValueError(
            f"sparse_categorical_crossentropy expects integer labels of shape {tuple(y_pred.shape[:-1])}, got "
            f"{tuple(y_true.shape)}; for one-hot labels use categorical_crossentropy"
        )
    labels = y_true.array
    xp = backend.get_array_module(labels)
    if labels.dtype.kind == "f":
        if bool(xp.any(labels % 1 != 0)):
            raise ValueError("sparse_categorical_crossentropy: labels must be whole numbers (class indices), got "
                             "fractions; for probability targets use categorical_crossentropy")
        y_true = y_true.long()
        labels = y_true.array
    classes = y_pred.shape[-1]
    valid = labels if ignore_class is None else labels[labels != ignore_class]
    if valid.size and (int(valid.min()) < 0 or int(valid.max()) >= classes):
        raise ValueError(f"sparse_categorical_crossentropy: labels must be in [0, {classes}) for y_pred with {classes} "
                         f"classes, got labels from {int(valid.min())} to {int(valid.max())}")
    if from_logits:
        logits = y_pred
    else:
        logits = _clip(y_pred / y_pred.sum(dim=-1, keepdim=True)).log()
    if logits.ndim > 2:  # (batch, ..., classes) -> (batch, classes, ...), the engine's layout
        logits = logits.permute(0, logits.ndim - 1, *range(1, logits.ndim - 1))
    ignore = -100 if ignore_class is None else int(ignore_class)
    if from_logits:
        return F.cross_entropy(logits, y_true, reduction="none", ignore_index=ignore)
    return F.nll_loss(logits, y_true, reduction="none", ignore_index=ignore)


def kl_divergence(y_true, y_pred):
    """sum(y_true log(y_true / y_pred)) over the last axis, both clipped to [eps, 1]."""
    y_true, y_pred = _same_rank("kl_divergence", *_pair(y_true, y_pred))
    return F.kl_div(y_pred.clamp(EPSILON, 1).log(), y_true.clamp(EPSILON, 1), reduction="none").sum(dim=-1)


def poisson(y_true, y_pred):
    """mean(y_pred - y_true log(y_pred + eps)) over the last axis."""
    y_true, y_pred = _same_rank("poisson", *_pair(y_true, y_pred))
    return (y_pred - y_true * (y_pred + EPSILON).log()).mean(dim=-1)


# ---------------------------------------------------------------------------------------------------- hinge
def hinge(y_true, y_pred):
    """mean(max(1 - y_true y_pred, 0)) over the last axis; 0/1 labels are read as -1/1."""
    y_true, y_pred = _same_rank("hinge", *_pair(y_true, y_pred))
    return F.relu(1.0 - _hinge_labels(y_true) * y_pred).mean(dim=-1)


def squared_hinge(y_true, y_pred):
    """mean(max(1 - y_true y_pred, 0)^2) over the last axis; 0/1 labels are read as -1/1."""
    y_true, y_pred = _same_rank("squared_hinge", *_pair(y_true, y_pred))
    margin = F.relu(1.0 - _hinge_labels(y_true) * y_pred)
    return (margin * margin).mean(dim=-1)


def categorical_hinge(y_true, y_pred):
    """max(neg - pos + 1, 0) with pos = sum(y_true y_pred), neg = max((1 - y_true) y_pred) over the last axis."""
    y_true, y_pred = _same_rank("categorical_hinge", *_pair(y_true, y_pred))
    pos = (y_true * y_pred).sum(dim=-1)
    neg = ((1.0 - y_true) * y_pred).amax(dim=-1)
    return F.relu(neg - pos + 1.0)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
