"""Keras losses (``keras.losses``): functions ``f(y_true, y_pred)`` returning one loss per sample, and classes that
average them over the batch. The math is the engine's (``nn.functional``); this module adds Keras' argument order,
names, ``from_logits`` and ``label_smoothing``, and checks that the labels fit the loss."""

from ..nn import functional as F
from ._registry import lookup
from .layers.base import as_tensor

EPSILON = 1e-7  # Keras' backend.epsilon(): probabilities are clipped to [eps, 1 - eps] before the log


def _pair(name, y_true, y_pred):
    y_true, y_pred = as_tensor(y_true), as_tensor(y_pred)
    return y_true, y_pred


def _same_shape(name, y_true, y_pred):
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(
            f"{name}: y_true and y_pred must have the same shape, got {tuple(y_true.shape)} and {tuple(y_pred.shape)}"
        )


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """-sum(y_true log p) over ``axis``; y_true one-hot (batch, classes), y_pred probabilities or logits."""
    y_true, y_pred = _pair("categorical_crossentropy", y_true, y_pred)
    if y_true.ndim == y_pred.ndim - 1 or (y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1 != y_pred.shape[-1]):
        raise ValueError(
            f"categorical_crossentropy expects one-hot labels of shape {tuple(y_pred.shape)}, got {tuple(y_true.shape)}"
            "; for integer labels use sparse_categorical_crossentropy (or keras.utils.to_categorical)"
        )
    _same_shape("categorical_crossentropy", y_true, y_pred)
    y_true = y_true.type(y_pred.dtype)
    if label_smoothing:
        y_true = y_true * (1 - label_smoothing) + label_smoothing / y_pred.shape[axis]
    if from_logits:
        return -(y_true * F.log_softmax(y_pred, dim=axis)).sum(dim=axis)
    p = y_pred / y_pred.sum(dim=axis, keepdim=True)
    return -(y_true * p.clamp(EPSILON, 1 - EPSILON).log()).sum(dim=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """-log p[label]; y_true integer labels (batch,) or (batch, 1), y_pred probabilities or logits (batch, classes)."""
    y_true, y_pred = _pair("sparse_categorical_crossentropy", y_true, y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true.reshape(tuple(y_true.shape[:-1]))
    if y_true.ndim != y_pred.ndim - 1 or tuple(y_true.shape) != tuple(y_pred.shape[:-1]):
        raise ValueError(
            f"sparse_categorical_crossentropy expects integer labels of shape {tuple(y_pred.shape[:-1])}, got "
            f"{tuple(y_true.shape)}; for one-hot labels use categorical_crossentropy"
        )
    if y_true.dtype.kind == "f":
        if bool(((y_true.array % 1) != 0).any()):
            raise ValueError("sparse_categorical_crossentropy: labels must be whole numbers (class indices)")
        y_true = y_true.long()
    logits = y_pred if from_logits else y_pred.clamp(EPSILON, 1 - EPSILON).log()
    if axis not in (-1, y_pred.ndim - 1):
        raise ValueError(f"sparse_categorical_crossentropy: only the last axis can hold the classes, got axis={axis}")
    if logits.ndim > 2:  # (batch, ..., classes) -> (batch, classes, ...), the engine's layout
        logits = logits.permute(0, logits.ndim - 1, *range(1, logits.ndim - 1))
    ignore = -100 if ignore_class is None else ignore_class
    if from_logits:
        return F.cross_entropy(logits, y_true, reduction="none", ignore_index=ignore)
    return F.nll_loss(logits, y_true, reduction="none", ignore_index=ignore)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Mean over ``axis`` of -(y log p + (1 - y) log(1 - p)); y_pred probabilities or logits."""
    y_true, y_pred = _pair("binary_crossentropy", y_true, y_pred)
    if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
        y_true = y_true.reshape(tuple(y_true.shape) + (1,))
    _same_shape("binary_crossentropy", y_true, y_pred)
    y_true = y_true.type(y_pred.dtype)
    if label_smoothing:
        y_true = y_true * (1 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        per = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        p = y_pred.clamp(EPSILON, 1 - EPSILON)
        per = -(y_true * p.log() + (1 - y_true) * (1 - p).log())
    return per.mean(dim=axis)


def mean_squared_error(y_true, y_pred):
    y_true, y_pred = _pair("mean_squared_error", y_true, y_pred)
    y_true = _match_last_dim("mean_squared_error", y_true, y_pred)
    return F.mse_loss(y_pred, y_true.type(y_pred.dtype), reduction="none").mean(dim=-1)


def mean_absolute_error(y_true, y_pred):
    y_true, y_pred = _pair("mean_absolute_error", y_true, y_pred)
    y_true = _match_last_dim("mean_absolute_error", y_true, y_pred)
    return F.l1_loss(y_pred, y_true.type(y_pred.dtype), reduction="none").mean(dim=-1)


def _match_last_dim(name, y_true, y_pred):
    if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
        y_true = y_true.reshape(tuple(y_true.shape) + (1,))
    _same_shape(name, y_true, y_pred)
    return y_true


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error


class Loss:
    """A loss object: ``loss(y_true, y_pred, sample_weight=None)`` is the (weighted) mean of the per-sample loss."""

    fn = None

    def __init__(self, reduction="sum_over_batch_size", name=None, **options):
        if reduction not in ("sum_over_batch_size", "sum", "none", "mean"):
            raise ValueError(f"{type(self).__name__}: unknown reduction {reduction!r}; accepted: sum_over_batch_size, "
                             "sum, none, mean")
        self.reduction, self.options = reduction, options
        self.name = name or _snake(type(self).__name__)

    def __call__(self, y_true, y_pred, sample_weight=None):
        per = type(self).fn(y_true, y_pred, **self.options)
        if sample_weight is not None:
            w = as_tensor(sample_weight).type(per.dtype).reshape(tuple(per.shape[:1]) + (1,) * (per.ndim - 1))
            per = per * w
        if self.reduction == "none":
            return per
        return per.sum() if self.reduction == "sum" else per.mean()

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, **self.options}


def _snake(name):
    from .naming import to_snake_case

    return to_snake_case(name)


class CategoricalCrossentropy(Loss):
    fn = staticmethod(categorical_crossentropy)

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, **kwargs):
        super().__init__(from_logits=from_logits, label_smoothing=label_smoothing, axis=axis, **kwargs)


class SparseCategoricalCrossentropy(Loss):
    fn = staticmethod(sparse_categorical_crossentropy)

    def __init__(self, from_logits=False, ignore_class=None, **kwargs):
        super().__init__(from_logits=from_logits, ignore_class=ignore_class, **kwargs)


class BinaryCrossentropy(Loss):
    fn = staticmethod(binary_crossentropy)

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, **kwargs):
        super().__init__(from_logits=from_logits, label_smoothing=label_smoothing, axis=axis, **kwargs)


class MeanSquaredError(Loss):
    fn = staticmethod(mean_squared_error)


class MeanAbsoluteError(Loss):
    fn = staticmethod(mean_absolute_error)


_ALL = {
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "binary_crossentropy": binary_crossentropy, "mean_squared_error": mean_squared_error, "mse": mean_squared_error,
    "mean_absolute_error": mean_absolute_error, "mae": mean_absolute_error,
    "CategoricalCrossentropy": CategoricalCrossentropy, "SparseCategoricalCrossentropy": SparseCategoricalCrossentropy,
    "BinaryCrossentropy": BinaryCrossentropy, "MeanSquaredError": MeanSquaredError,
    "MeanAbsoluteError": MeanAbsoluteError,
}


def get(identifier):
    """A loss from a name ("mse", "sparse_categorical_crossentropy"), a Loss, a class or a function."""
    return lookup("loss", identifier, _ALL)


def name_of(loss):
    """The name Keras shows for a loss (used to resolve "accuracy")."""
    if isinstance(loss, Loss):
        return type(loss).fn.__name__
    return getattr(loss, "__name__", type(loss).__name__)

