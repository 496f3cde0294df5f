"""Keras metrics (``keras.metrics``): stateful objects (``update_state``, ``result``, ``reset_state``) accumulated
over an epoch, and per-sample metric functions. Computed on NumPy arrays outside the graph."""

import numpy as np

from .. import backend
from ._registry import lookup


def _np(x):
    if hasattr(x, "array"):
        return backend.to_numpy(x.array)
    return np.asarray(x)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    y_true, y_pred = _np(y_true), _np(y_pred)
    if y_true.ndim == y_pred.ndim - 1:
        y_true = y_true[..., None]
    return ((y_pred > threshold) == (y_true > 0.5)).astype(np.float64).mean(axis=-1)


def categorical_accuracy(y_true, y_pred):
    y_true, y_pred = _np(y_true), _np(y_pred)
    return (y_true.argmax(axis=-1) == y_pred.argmax(axis=-1)).astype(np.float64)


def sparse_categorical_accuracy(y_true, y_pred):
    y_true, y_pred = _np(y_true), _np(y_pred)
    if y_true.ndim == y_pred.ndim:
        y_true = y_true[..., 0]
    return (y_true.astype(np.int64) == y_pred.argmax(axis=-1)).astype(np.float64)


def mean_squared_error(y_true, y_pred):
    y_true, y_pred = _np(y_true), _np(y_pred)
    return ((y_true.reshape(y_pred.shape) - y_pred) ** 2).mean(axis=-1)


def mean_absolute_error(y_true, y_pred):
    y_true, y_pred = _np(y_true), _np(y_pred)
    return np.abs(y_true.reshape(y_pred.shape) - y_pred).mean(axis=-1)


class Metric:
    """Base class: accumulate with ``update_state``, read with ``result``, start over with ``reset_state``."""

    def __init__(self, name=None, dtype=None):
        from .naming import to_snake_case

        self.name = name or to_snake_case(type(self).__name__)
        self.reset_state()

    def reset_state(self):
        raise NotImplementedError

    def update_state(self, y_true, y_pred, sample_weight=None):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None):
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def get_config(self):
        return {"name": self.name}


class Mean(Metric):
    """The (weighted) mean of the values given to ``update_state(values)``; tracks the loss during fit."""

    def reset_state(self):
        self.total, self.count = 0.0, 0.0

    def update_state(self, values, sample_weight=None):
        values = _np(values).astype(np.float64).reshape(-1)
        w = np.ones_like(values) if sample_weight is None else np.broadcast_to(_np(sample_weight).reshape(-1),
                                                                               values.shape)
        self.total += float((values * w).sum())
        self.count += float(w.sum())

    def result(self):
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """Averages a per-sample metric function over everything seen since the last reset."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        self._fn, self._kwargs = fn, kwargs
        super().__init__(name=name or fn.__name__, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self._fn(y_true, y_pred, **self._kwargs), sample_weight)


class Accuracy(MeanMetricWrapper):
    """Exact equality of y_true and y_pred."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(lambda t, p: (_np(t).reshape(_np(p).shape) == _np(p)).astype(np.float64), name=name)


class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name=name, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name)


class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name)


class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name)


_ALL = {
    "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy, "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError, "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "Accuracy": Accuracy, "BinaryAccuracy": BinaryAccuracy, "CategoricalAccuracy": CategoricalAccuracy,
    "SparseCategoricalAccuracy": SparseCategoricalAccuracy, "MeanSquaredError": MeanSquaredError,
    "MeanAbsoluteError": MeanAbsoluteError, "Mean": Mean,
}


def resolve_accuracy(loss_name, y_true_shape, y_pred_shape):
    """Keras' rule for the string "accuracy": pick the accuracy that fits the loss and the label shapes."""
    if "binary" in loss_name or (len(y_pred_shape) >= 2 and y_pred_shape[-1] == 1):
        return BinaryAccuracy(name="accuracy")
    if "sparse" in loss_name or len(y_true_shape) < len(y_pred_shape) or (
        len(y_true_shape) == len(y_pred_shape) and y_true_shape[-1] == 1
    ):
        return SparseCategoricalAccuracy(name="accuracy")
    return CategoricalAccuracy(name="accuracy")


def get(identifier):
    """A metric from a name, an instance, a class or a per-sample function (wrapped to average it)."""
    if isinstance(identifier, Metric):
        return identifier
    found = lookup("metric", identifier, _ALL)
    return found if isinstance(found, Metric) else MeanMetricWrapper(found)
