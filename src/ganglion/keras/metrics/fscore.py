"""F-scores: FBetaScore and F1Score for multi-class and multi-label outputs of shape (samples, classes)."""

import numpy as np

from .base import Metric, scalar_or_array, to_numpy

EPSILON = 1e-7
AVERAGES = (None, "micro", "macro", "weighted")


class FBetaScore(Metric):
    """(1 + b^2) precision recall / (b^2 precision + recall), per class (``average=None``), from the summed counts
    (``"micro"``), averaged over classes (``"macro"``) or weighted by each class's support (``"weighted"``).
    Predictions are ``y_pred > threshold``, or the argmax of each row when ``threshold`` is None."""

    _state_in_reset = True

    _direction = "up"

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        owner = type(self).__name__
        if average not in AVERAGES:
            raise ValueError(f"{owner}: unknown average {average!r}; accepted: None, 'micro', 'macro', 'weighted'")
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or beta <= 0:
            raise ValueError(f"{owner}: beta must be a number > 0, got {beta!r}")
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))
                                      or not 0 < threshold <= 1):
            raise ValueError(f"{owner}: threshold must be None or a number in (0, 1], got {threshold!r}")
        self.average, self.beta, self.threshold = average, float(beta), threshold
        self._axis = None if average == "micro" else 0
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.true_positives = self.false_positives = self.false_negatives = self.intermediate_weights = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = to_numpy(y_true, np.float64), to_numpy(y_pred, np.float64)
        if y_true.ndim != 2 or y_pred.ndim != 2:
            raise ValueError(f"{type(self).__name__} expects 2D inputs of shape (batch_size, output_dim), got "
                             f"y_true {y_true.shape} and y_pred {y_pred.shape}")
        if self.threshold is None:  # the row's maximum is the prediction; an all-zero row predicts nothing
            predicted = (y_pred >= y_pred.max(axis=-1, keepdims=True)) & (np.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.astype(np.float64)
        weights = None if sample_weight is None else to_numpy(sample_weight, np.float64).reshape(-1, 1)

        def weighted_sum(values):
            return (values if weights is None else values * weights).sum(axis=self._axis)

        sums = [weighted_sum(predicted * y_true), weighted_sum(predicted * (1 - y_true)),
                weighted_sum((1 - predicted) * y_true), weighted_sum(y_true)]
        if self.true_positives is None:
            self.true_positives, self.false_positives, self.false_negatives, self.intermediate_weights = sums
        else:
            self.true_positives = self.true_positives + sums[0]
            self.false_positives = self.false_positives + sums[1]
            self.false_negatives = self.false_negatives + sums[2]
            self.intermediate_weights = self.intermediate_weights + sums[3]

    def result(self):
        if self.true_positives is None:
            return 0.0
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        precision = tp / (tp + fp + EPSILON)
        recall = tp / (tp + fn + EPSILON)
        b2 = self.beta ** 2
        score = (1 + b2) * precision * recall / (b2 * precision + recall + EPSILON)
        if self.average == "weighted":
            weights = self.intermediate_weights / (np.sum(self.intermediate_weights) + EPSILON)
            score = np.sum(score * weights)
        elif self.average is not None:
            score = np.mean(score)
        return scalar_or_array(score)

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """2 precision recall / (precision + recall) (FBetaScore with beta = 1)."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
