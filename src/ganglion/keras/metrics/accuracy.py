"""Accuracy metrics: per-sample functions (1.0 for a hit, 0.0 for a miss) and the classes that average them."""

import numpy as np

from .base import FunctionMean, same_rank, to_numpy


def accuracy(y_true, y_pred):
    """1 where y_true == y_pred exactly.  Shapes (N, ...) -> (N, ...)."""
    y_true, y_pred = same_rank(to_numpy(y_true), to_numpy(y_pred))
    return (y_true == y_pred).astype(np.float64)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1 where (y_pred > threshold) equals y_true (labels 0/1)."""
    y_true, y_pred = same_rank(to_numpy(y_true), to_numpy(y_pred))
    return (y_true == (y_pred > threshold).astype(y_true.dtype)).astype(np.float64)


def categorical_accuracy(y_true, y_pred):
    """1 where argmax(y_pred) equals argmax(y_true) (one-hot labels).  (N, C) -> (N,)."""
    y_true, y_pred = to_numpy(y_true), to_numpy(y_pred)
    if y_true.ndim == y_pred.ndim - 1:  # integer labels given anyway: compare them directly
        return (y_true.astype(np.int64) == y_pred.argmax(axis=-1)).astype(np.float64)
    return (y_true.argmax(axis=-1) == y_pred.argmax(axis=-1)).astype(np.float64)


def sparse_categorical_accuracy(y_true, y_pred):
    """1 where argmax(y_pred) equals the integer label.  y_true (N,) or (N, 1), y_pred (N, C) -> (N,)."""
    y_true, y_pred = to_numpy(y_true), to_numpy(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return (y_true.astype(np.int64) == y_pred.argmax(axis=-1)).astype(np.float64)


def _in_top_k(labels, y_pred, k):
    """1 where the score of ``labels`` is at least the k-th largest score (ties at the boundary count as in)."""
    classes = y_pred.shape[-1]
    if k >= classes:
        return np.ones(labels.shape, dtype=np.float64)
    kth = np.partition(y_pred, classes - k, axis=-1)[..., classes - k]
    target = np.take_along_axis(y_pred, labels[..., None].astype(np.int64), axis=-1)[..., 0]
    return (target >= kth).astype(np.float64)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1 where the true class (argmax of one-hot y_true) is among the k highest scores.  (N, C) -> (N,)."""
    y_true, y_pred = to_numpy(y_true), to_numpy(y_pred)
    return _in_top_k(y_true.argmax(axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1 where the integer label is among the k highest scores; with ``from_sorted_ids`` y_pred already holds class
    ids sorted by score and the label must be among its first k."""
    y_true, y_pred = to_numpy(y_true), to_numpy(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    labels = y_true.astype(np.int64)
    if from_sorted_ids:
        return (y_pred[..., :k] == labels[..., None]).any(axis=-1).astype(np.float64)
    return _in_top_k(labels, y_pred, k)


class _AccuracyMean(FunctionMean):
    """The running mean of the class's hit-or-miss function ``fn``; larger is better."""

    _direction = "up"


class Accuracy(_AccuracyMean):
    """How often y_pred equals y_true exactly."""

    fn = staticmethod(accuracy)


class BinaryAccuracy(_AccuracyMean):
    """How often (y_pred > threshold) matches the 0/1 labels."""

    fn = staticmethod(binary_accuracy)

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(name=name, dtype=dtype, threshold=threshold)


class CategoricalAccuracy(_AccuracyMean):
    """How often argmax(y_pred) matches argmax of the one-hot labels."""

    fn = staticmethod(categorical_accuracy)


class SparseCategoricalAccuracy(_AccuracyMean):
    """How often argmax(y_pred) matches the integer labels."""

    fn = staticmethod(sparse_categorical_accuracy)


class TopKCategoricalAccuracy(_AccuracyMean):
    """How often the one-hot label's class is among the ``k`` highest scores."""

    fn = staticmethod(top_k_categorical_accuracy)

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype, k=k)


class SparseTopKCategoricalAccuracy(_AccuracyMean):
    """How often the integer label is among the ``k`` highest scores."""

    fn = staticmethod(sparse_top_k_categorical_accuracy)

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None, from_sorted_ids=False):
        super().__init__(name=name, dtype=dtype, k=k, from_sorted_ids=from_sorted_ids)
