"""Curves of a binary classifier's scores and the area under them: roc_curve and auc, and segment_areas, the one
area rule that both ``auc`` and the Keras face's bucketed ``keras.metrics.AUC`` use."""

import warnings

import numpy as np

from ._inputs import as_1d, check_lengths, sample_weights, unique_labels

RULES = ("trapezoid", "lower", "upper")


def segment_areas(x, y, rule="trapezoid"):
    """The signed area of each segment of the curve (x[i], y[i]) along axis 0: (x[i+1] - x[i]) * height, where
    height is the mean of y[i] and y[i+1] ("trapezoid"), their minimum ("lower") or maximum ("upper").
    x, y: (T, ...) -> (T - 1, ...); the sum is the area, negative when x decreases."""
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if rule == "trapezoid":
        heights = (y[:-1] + y[1:]) / 2.0
    elif rule == "lower":
        heights = np.minimum(y[:-1], y[1:])
    else:
        heights = np.maximum(y[:-1], y[1:])
    return (x[1:] - x[:-1]) * heights


def auc(x, y):
    """Area under the curve through the points (x[i], y[i]) by the trapezoidal rule; x must be monotonic
    (increasing or decreasing), as the fpr of ``roc_curve`` is. x, y: (n,) with n >= 2 -> float."""
    x, y = as_1d("x", x, np.float64), as_1d("y", y, np.float64)
    check_lengths(x=x, y=y)
    if len(x) < 2:
        raise ValueError(f"auc needs at least 2 points, got {len(x)}")
    steps = np.diff(x)
    if np.all(steps >= 0):
        direction = 1.0
    elif np.all(steps <= 0):
        direction = -1.0
    else:
        raise ValueError(f"x must be monotonic increasing or decreasing, got steps of both signs: {x[:6].tolist()}...")
    return float(direction * segment_areas(x, y).sum())


def positive_mask(y_true, pos_label):
    """y_true == pos_label; with pos_label None, labels must be {0, 1} or {-1, 1} (subsets too) and 1 is positive."""
    classes = unique_labels(y_true)
    if pos_label is None:
        if classes.dtype.kind in "USO" or not set(classes.tolist()) <= {0, 1} and not set(classes.tolist()) <= {-1, 1}:
            raise ValueError(f"y_true holds labels {classes.tolist()}; pass pos_label (the positive class) unless "
                             "they are {0, 1} or {-1, 1}")
        pos_label = 1
    return y_true == pos_label


def binary_clf_curve(y_true, y_score, pos_label=None, sample_weight=None):
    """(fps, tps, thresholds): for each distinct score t, in decreasing order, the weighted numbers of negatives and
    positives with score >= t. y_true, y_score: (n,) -> three arrays of shape (distinct scores,)."""
    y_true, y_score = as_1d("y_true", y_true), as_1d("y_score", y_score, np.float64)
    check_lengths(y_true=y_true, y_score=y_score)
    if not np.all(np.isfinite(y_score)):
        raise ValueError(f"y_score holds {int((~np.isfinite(y_score)).sum())} non-finite values")
    weights = sample_weights(sample_weight, len(y_true))
    positive = positive_mask(y_true, pos_label).astype(np.float64)
    order = np.argsort(y_score, kind="mergesort")[::-1]
    y_score, positive, weights = y_score[order], positive[order], weights[order]
    last_of_each_score = np.r_[np.where(np.diff(y_score))[0], len(y_score) - 1]
    tps = np.cumsum(positive * weights)[last_of_each_score]
    fps = np.cumsum((1.0 - positive) * weights)[last_of_each_score]
    return fps, tps, y_score[last_of_each_score]


def roc_curve(y_true, y_score, pos_label=None, sample_weight=None, drop_intermediate=True):
    """(fpr, tpr, thresholds) of a binary classifier: at threshold t, tpr = positives with score >= t / positives and
    fpr = negatives with score >= t / negatives. Thresholds decrease from +inf (nothing predicted positive).
    drop_intermediate: leave out the points that lie on a straight horizontal or vertical stretch between their
    neighbours (the area is unchanged)."""
    fps, tps, thresholds = binary_clf_curve(y_true, y_score, pos_label, sample_weight)
    if drop_intermediate and len(fps) > 2:
        corners = np.where(np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True])[0]
        fps, tps, thresholds = fps[corners], tps[corners], thresholds[corners]
    fps, tps, thresholds = np.r_[0.0, fps], np.r_[0.0, tps], np.r_[np.inf, thresholds]
    rates = []
    for counts, kind in ((fps, "negative"), (tps, "positive")):
        if counts[-1] <= 0:
            warnings.warn(f"no {kind} samples in y_true: the {'fpr' if kind == 'negative' else 'tpr'} is undefined "
                          "(nan)", UserWarning, stacklevel=2)
            rates.append(np.full(counts.shape, np.nan))
        else:
            rates.append(counts / counts[-1])
    return rates[0], rates[1], thresholds
