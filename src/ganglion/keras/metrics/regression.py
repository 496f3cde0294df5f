"""Metrics that average a loss-like value per sample: the regression errors (MSE, MAE, MAPE, MSLE, RMSE, cosine
similarity, log-cosh, R^2) and the probabilistic and hinge losses as metrics. Each value comes from the same
function in ``keras.losses`` (run without a graph), so a metric and its loss always agree."""

import numpy as np

from .. import losses
from .base import FunctionMean, Mean, MeanMetricWrapper, Metric, same_rank, to_numpy


def cosine_similarity(y_true, y_pred, axis=-1):
    """sum(l2_normalize(y_true) * l2_normalize(y_pred)) along ``axis`` (the loss with the opposite sign)."""
    return -losses.cosine_similarity(y_true, y_pred, axis=axis)


class _LossMean(FunctionMean):
    """The running mean of the class's ``keras.losses`` function ``fn``; smaller is better."""

    _direction = "down"


class MeanSquaredError(_LossMean):
    """mean((y_true - y_pred)^2)."""

    fn = staticmethod(losses.mean_squared_error)


class MeanAbsoluteError(_LossMean):
    """mean(|y_true - y_pred|)."""

    fn = staticmethod(losses.mean_absolute_error)


class MeanAbsolutePercentageError(_LossMean):
    """100 mean(|y_true - y_pred| / |y_true|)."""

    fn = staticmethod(losses.mean_absolute_percentage_error)


class MeanSquaredLogarithmicError(_LossMean):
    """mean((log(y_pred + 1) - log(y_true + 1))^2)."""

    fn = staticmethod(losses.mean_squared_logarithmic_error)


class LogCoshError(_LossMean):
    """mean(log(cosh(y_pred - y_true)))."""

    fn = staticmethod(losses.log_cosh)

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(name=name, dtype=dtype)


class CosineSimilarity(MeanMetricWrapper):
    """The mean cosine similarity of y_true and y_pred along ``axis``; larger is better."""

    _direction = "up"

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)


class RootMeanSquaredError(Mean):
    """sqrt(mean((y_pred - y_true)^2)) over everything seen (the root of the running mean, not a mean of roots)."""

    _direction = "down"

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = same_rank(to_numpy(y_true, np.float64), to_numpy(y_pred, np.float64))
        super().update_state((y_pred - y_true) ** 2, sample_weight)

    def result(self):
        return float(np.sqrt(super().result()))


class R2Score(Metric):
    """Coefficient of determination 1 - sum((y - y_pred)^2) / sum((y - mean y)^2) per output column, then
    ``class_aggregation`` ("uniform_average", "variance_weighted_average" or None); ``num_regressors`` p > 0 gives
    the adjusted score 1 - (1 - R^2)(n - 1) / (n - p - 1)."""

    _state_in_reset = True

    _direction = "up"

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None):
        if class_aggregation not in (None, "uniform_average", "variance_weighted_average"):
            raise ValueError(f"R2Score: unknown class_aggregation {class_aggregation!r}; accepted: None, "
                             "'uniform_average', 'variance_weighted_average'")
        if num_regressors < 0:
            raise ValueError(f"R2Score: num_regressors must be >= 0, got {num_regressors}")
        self.class_aggregation, self.num_regressors = class_aggregation, num_regressors
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.num_samples = 0.0
        self._sums = None  # (sum w y, sum w y^2, sum w (y - y_pred)^2, sum w) per column

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = same_rank(to_numpy(y_true, np.float64), to_numpy(y_pred, np.float64))
        if y_true.ndim != 2 or y_pred.ndim != 2:
            raise ValueError(f"R2Score expects 2D inputs of shape (batch_size, output_dim), got y_true "
                             f"{y_true.shape} and y_pred {y_pred.shape}")
        w = np.ones(()) if sample_weight is None else to_numpy(sample_weight, np.float64)
        w = np.broadcast_to(w[:, None] if w.ndim == 1 else w, y_true.shape)
        sums = [(w * y_true).sum(0), (w * y_true * y_true).sum(0), (w * (y_true - y_pred) ** 2).sum(0), w.sum(0)]
        self._sums = sums if self._sums is None else [a + b for a, b in zip(self._sums, sums)]
        self.num_samples += y_true.size

    def result(self):
        if self._sums is None:
            return 0.0
        total_y, total_y2, residual, count = self._sums
        with np.errstate(divide="ignore", invalid="ignore"):
            total = total_y2 - total_y * (total_y / count)
            raw = 1 - residual / total
        raw = np.where(np.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = np.mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            score = np.sum(total * raw) / np.sum(total)
        else:
            score = raw
        n, p = self.num_samples, self.num_regressors
        if p and n - p - 1 > 0:
            score = 1 - (1 - score) * (n - 1) / (n - p - 1)
        return float(score) if np.ndim(score) == 0 else np.asarray(score)

    def get_config(self):
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}


class Hinge(_LossMean):
    """mean(max(1 - y_true y_pred, 0))."""

    fn = staticmethod(losses.hinge)


class SquaredHinge(_LossMean):
    """mean(max(1 - y_true y_pred, 0)^2)."""

    fn = staticmethod(losses.squared_hinge)


class CategoricalHinge(_LossMean):
    """max(max_wrong y_pred - y_pred[true] + 1, 0)."""

    fn = staticmethod(losses.categorical_hinge)


class KLDivergence(_LossMean):
    """sum(y_true log(y_true / y_pred))."""

    fn = staticmethod(losses.kl_divergence)


class Poisson(_LossMean):
    """mean(y_pred - y_true log(y_pred + eps))."""

    fn = staticmethod(losses.poisson)


class BinaryCrossentropy(_LossMean):
    """Binary cross-entropy of probabilities (or logits)."""

    fn = staticmethod(losses.binary_crossentropy)

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False, label_smoothing=0):
        super().__init__(name=name, dtype=dtype, from_logits=from_logits, label_smoothing=label_smoothing)


class CategoricalCrossentropy(_LossMean):
    """Cross-entropy of one-hot labels and probabilities (or logits)."""

    fn = staticmethod(losses.categorical_crossentropy)

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False, label_smoothing=0, axis=-1):
        super().__init__(name=name, dtype=dtype, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(_LossMean):
    """Cross-entropy of integer labels and probabilities (or logits)."""

    fn = staticmethod(losses.sparse_categorical_crossentropy)

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False, axis=-1):
        super().__init__(name=name, dtype=dtype, from_logits=from_logits, axis=axis)
