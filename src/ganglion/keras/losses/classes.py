"""The Keras loss classes: each wraps one loss function with its options, Keras' default name and the reduction
(``loss = Huber(delta=2.0); loss(y_true, y_pred, sample_weight=w)``)."""

from ...autograd.grad_mode import no_grad
from . import functions as fn
from .loss import LossFunctionWrapper

_DEFAULT = "sum_over_batch_size"


class _BuiltinLoss(LossFunctionWrapper):
    """A Keras loss class: the class's function ``fn`` with the options its constructor takes. The name defaults to
    the function's (Keras' name for the loss)."""

    fn = None

    def __init__(self, reduction=_DEFAULT, name=None, dtype=None, **options):
        super().__init__(type(self).fn, reduction=reduction, name=name, dtype=dtype, **options)


class MeanSquaredError(_BuiltinLoss):
    """mean((y_true - y_pred)^2) per sample, reduced over the batch."""

    fn = staticmethod(fn.mean_squared_error)


class MeanAbsoluteError(_BuiltinLoss):
    """mean(|y_true - y_pred|) per sample, reduced over the batch."""

    fn = staticmethod(fn.mean_absolute_error)


class MeanAbsolutePercentageError(_BuiltinLoss):
    """100 * mean(|y_true - y_pred| / max(|y_true|, eps)) per sample."""

    fn = staticmethod(fn.mean_absolute_percentage_error)


class MeanSquaredLogarithmicError(_BuiltinLoss):
    """mean((log(y_pred + 1) - log(y_true + 1))^2) per sample (inputs floored at eps)."""

    fn = staticmethod(fn.mean_squared_logarithmic_error)


class CosineSimilarity(_BuiltinLoss):
    """-cos(y_true, y_pred) along ``axis``."""

    fn = staticmethod(fn.cosine_similarity)

    def __init__(self, axis=-1, reduction=_DEFAULT, name="cosine_similarity", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype, axis=axis)


class Huber(_BuiltinLoss):
    """Quadratic for |error| <= delta, linear beyond."""

    fn = staticmethod(fn.huber)

    def __init__(self, delta=1.0, reduction=_DEFAULT, name="huber_loss", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype, delta=delta)


class LogCosh(_BuiltinLoss):
    """mean(log(cosh(y_pred - y_true))) per sample."""

    fn = staticmethod(fn.log_cosh)


class Hinge(_BuiltinLoss):
    """mean(max(1 - y_true y_pred, 0)); labels -1/1 (0/1 are converted)."""

    fn = staticmethod(fn.hinge)


class SquaredHinge(_BuiltinLoss):
    """mean(max(1 - y_true y_pred, 0)^2); labels -1/1 (0/1 are converted)."""

    fn = staticmethod(fn.squared_hinge)


class CategoricalHinge(_BuiltinLoss):
    """max(max_{wrong} y_pred - y_pred[true] + 1, 0) for one-hot y_true."""

    fn = staticmethod(fn.categorical_hinge)


class KLDivergence(_BuiltinLoss):
    """sum(y_true log(y_true / y_pred)) per sample."""

    fn = staticmethod(fn.kl_divergence)


class Poisson(_BuiltinLoss):
    """mean(y_pred - y_true log(y_pred + eps)) per sample."""

    fn = staticmethod(fn.poisson)


class _CrossEntropy(_BuiltinLoss):
    """BinaryCrossentropy's and CategoricalCrossentropy's options, in Keras' order."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction=_DEFAULT, name=None, dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class BinaryCrossentropy(_CrossEntropy):
    """Binary cross-entropy of probabilities (or logits with ``from_logits=True``), averaged over the last axis."""

    fn = staticmethod(fn.binary_crossentropy)


class BinaryFocalCrossentropy(_BuiltinLoss):
    """Binary cross-entropy scaled by (1 - p_t)^gamma (and alpha / 1 - alpha with class balancing)."""

    fn = staticmethod(fn.binary_focal_crossentropy)

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0,
                 axis=-1, reduction=_DEFAULT, name="binary_focal_crossentropy", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalCrossentropy(_CrossEntropy):
    """Cross-entropy of one-hot labels and class probabilities (or logits with ``from_logits=True``)."""

    fn = staticmethod(fn.categorical_crossentropy)


class SparseCategoricalCrossentropy(_BuiltinLoss):
    """Cross-entropy of integer labels and class probabilities (or logits); labels equal to ``ignore_class`` are
    left out of the loss and of the mean."""

    fn = staticmethod(fn.sparse_categorical_crossentropy)

    def __init__(self, from_logits=False, ignore_class=None, reduction=_DEFAULT,
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, ignore_class=ignore_class)
        self.ignore_class = ignore_class

    def mask(self, y_true, y_pred):
        if self.ignore_class is None:
            return None
        labels = y_true
        if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
            labels = labels.reshape(tuple(labels.shape[:-1]))
        with no_grad():
            return labels != self.ignore_class


CLASSES = (MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
           CosineSimilarity, Huber, LogCosh, Hinge, SquaredHinge, CategoricalHinge, KLDivergence, Poisson,
           BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy)
