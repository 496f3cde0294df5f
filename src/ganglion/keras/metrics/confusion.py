"""Metrics from confusion counts at one or more thresholds: TruePositives, FalsePositives, TrueNegatives,
FalseNegatives, Precision, Recall and AUC (ROC or PR, Riemann sums over ``num_thresholds`` buckets, as Keras).

A prediction p counts as positive at threshold t when p > t; labels are read as booleans (nonzero = positive).
Counts are weighted by ``sample_weight`` and accumulated over ``update_state`` calls until ``reset_state``.
"""

import numpy as np

from ...metrics.curves import segment_areas
from .base import Metric, divide_no_nan, same_rank, scalar_or_array, to_numpy

NEG_INF = -1e10  # the threshold used with top_k: every kept prediction is "positive"
EPSILON = 1e-7


def parse_thresholds(owner, thresholds, default):
    if thresholds is None:
        return [default]
    values = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) else [thresholds]
    bad = [t for t in values if t is None or not 0 <= t <= 1]
    if bad:
        raise ValueError(f"{owner}: thresholds must be in [0, 1], got {bad}")
    return [float(t) for t in values]


def evenly_spaced(thresholds):
    """Keras' test for thresholds 0, 1/(n-1), ..., 1 (n >= 3): predictions are then clipped to [0, 1]."""
    n = len(thresholds)
    return n >= 3 and np.allclose(thresholds, np.arange(n, dtype=np.float32) / (n - 1), atol=EPSILON)


def _filter_top_k(y_pred, k):
    """Keep the k largest scores on the last axis (the first ones among ties); set the others to NEG_INF."""
    order = np.argsort(-y_pred, axis=-1, kind="stable")[..., :k]
    kept = np.zeros(y_pred.shape, dtype=bool)
    np.put_along_axis(kept, order, True, axis=-1)
    return np.where(kept, y_pred, NEG_INF)


def confusion_counts(y_true, y_pred, thresholds, sample_weight=None, top_k=None, class_id=None, multi_label=False,
                     label_weights=None, clip=False):
    """Weighted (tp, fp, tn, fn), each of shape (T,) — or (T, labels) with ``multi_label`` — for the thresholds."""
    y_true, y_pred = to_numpy(y_true), to_numpy(y_pred).astype(np.float32)
    y_pred, y_true = same_rank(y_pred, y_true)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"confusion metrics: y_true and y_pred must have the same shape, got {y_true.shape} and "
                         f"{y_pred.shape}")
    weights = None
    if sample_weight is not None:
        weights = to_numpy(sample_weight, np.float64)[..., None]
        _, weights = same_rank(y_true, weights, expand_rank_1=False)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(f"class_id needs y_pred of shape (samples, classes), got {y_pred.shape}")
        y_true, y_pred = y_true[..., class_id, None], y_pred[..., class_id, None]
    if clip:
        y_pred = np.clip(y_pred, 0.0, 1.0)
    weights = np.ones(y_pred.shape) if weights is None else np.broadcast_to(weights, y_pred.shape).astype(np.float64)
    if label_weights is not None and not multi_label:
        weights = weights * np.broadcast_to(np.asarray(label_weights, np.float64), y_pred.shape)
    positive = y_true.astype(bool)
    if multi_label:
        preds, pos, w = y_pred.reshape(-1, y_pred.shape[-1]), positive.reshape(-1, y_pred.shape[-1]), \
            weights.reshape(-1, y_pred.shape[-1])
    else:
        preds, pos, w = y_pred.reshape(-1, 1), positive.reshape(-1, 1), weights.reshape(-1, 1)
    thresholds = np.asarray(thresholds, dtype=np.float32)
    order = np.argsort(thresholds, kind="stable")
    sorted_t = thresholds[order]
    n_t, n_labels = len(sorted_t), preds.shape[1]
    above = np.searchsorted(sorted_t, preds, side="left")  # thresholds strictly below each prediction
    slots = (above + np.arange(n_labels) * (n_t + 1)).ravel()

    def count_above(mask):  # for each threshold j: total weight of masked predictions > sorted_t[j]
        hist = np.bincount(slots, weights=(w * mask).ravel(), minlength=n_labels * (n_t + 1))
        hist = hist.reshape(n_labels, n_t + 1).T
        return hist[::-1].cumsum(axis=0)[::-1][1:]

    tp, fp = count_above(pos), count_above(~pos)
    fn = (w * pos).sum(axis=0) - tp
    tn = (w * ~pos).sum(axis=0) - fp
    unsort = np.empty_like(order)
    unsort[order] = np.arange(n_t)
    counts = [c[unsort] for c in (tp, fp, tn, fn)]
    return tuple(c if multi_label else c[:, 0] for c in counts)


class _ConfusionCount(Metric):
    """The weighted count of one confusion cell at each threshold (default 0.5)."""

    _state_in_reset = True

    _cell = 0

    def __init__(self, thresholds=None, name=None, dtype=None):
        self.init_thresholds = thresholds
        self.thresholds = parse_thresholds(type(self).__name__, thresholds, 0.5)
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.accumulator = np.zeros(len(self.thresholds))

    def update_state(self, y_true, y_pred, sample_weight=None):
        counts = confusion_counts(y_true, y_pred, self.thresholds, sample_weight,
                                  clip=evenly_spaced(self.thresholds))
        self.accumulator += counts[self._cell]

    def result(self):
        return scalar_or_array(self.accumulator[0] if len(self.thresholds) == 1 else self.accumulator)

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionCount):
    """Weighted count of positives predicted positive (p > threshold)."""

    _cell = 0


class FalsePositives(_ConfusionCount):
    """Weighted count of negatives predicted positive."""

    _cell = 1


class TrueNegatives(_ConfusionCount):
    """Weighted count of negatives predicted negative."""

    _cell = 2


class FalseNegatives(_ConfusionCount):
    """Weighted count of positives predicted negative."""

    _cell = 3


class _PrecisionRecall(Metric):
    _direction = "up"
    _state_in_reset = True

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        default = 0.5 if top_k is None else NEG_INF
        self.thresholds = parse_thresholds(type(self).__name__, thresholds, default)
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.true_positives = np.zeros(len(self.thresholds))
        self.false_positives = np.zeros(len(self.thresholds))
        self.false_negatives = np.zeros(len(self.thresholds))

    def update_state(self, y_true, y_pred, sample_weight=None):
        tp, fp, _, fn = confusion_counts(y_true, y_pred, self.thresholds, sample_weight, self.top_k, self.class_id,
                                         clip=evenly_spaced(self.thresholds))
        self.true_positives += tp
        self.false_positives += fp
        self.false_negatives += fn

    def result(self):
        value = self._value()
        return scalar_or_array(value[0] if len(self.thresholds) == 1 else value)

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_PrecisionRecall):
    """tp / (tp + fp) at each threshold (0.5 by default); with ``top_k`` only the k highest scores of a sample count
    as predicted positive; with ``class_id`` only that class is scored."""

    def _value(self):
        return divide_no_nan(self.true_positives, self.true_positives + self.false_positives)


class Recall(_PrecisionRecall):
    """tp / (tp + fn) at each threshold (0.5 by default), with the same ``top_k`` and ``class_id`` options as
    Precision."""

    def _value(self):
        return divide_no_nan(self.true_positives, self.true_positives + self.false_negatives)


class AUC(Metric):
    """Area under the ROC curve (``curve="ROC"``: recall against false positive rate) or the precision-recall curve
    (``"PR"``), from confusion counts at ``num_thresholds`` evenly spaced thresholds (-eps, 1/(n-1), ..., 1 + eps) or
    the given ``thresholds``. ``summation_method``: "interpolation" (trapezoids for ROC; Davis & Goadrich's
    interpolation of tp and fp for PR), "minoring" or "majoring" (lower / upper Riemann sums)."""

    _state_in_reset = True

    _direction = "up"

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None, dtype=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        curve_key = str(curve).upper()
        if curve_key not in ("ROC", "PR"):
            raise ValueError(f"AUC: unknown curve {curve!r}; accepted: 'ROC', 'PR'")
        method = str(summation_method).lower()
        if method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f"AUC: unknown summation_method {summation_method!r}; accepted: 'interpolation', "
                             "'minoring', 'majoring'")
        if num_labels and not multi_label:
            raise ValueError("AUC: num_labels is only used with multi_label=True")
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(parse_thresholds("AUC", thresholds, 0.5))
            self.num_thresholds = len(inner) + 2
            self._evenly = evenly_spaced([0.0] + inner + [1.0])
        else:
            if not isinstance(num_thresholds, int) or num_thresholds <= 1:
                raise ValueError(f"AUC: num_thresholds must be an int > 1, got {num_thresholds!r}")
            self.num_thresholds = num_thresholds
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._evenly = True
        self._thresholds = np.array([0.0 - EPSILON] + inner + [1.0 + EPSILON])
        self.curve, self.summation_method = curve_key, method
        self.multi_label, self.num_labels, self._from_logits = multi_label, num_labels, from_logits
        self.label_weights = None if label_weights is None else np.asarray(label_weights, dtype=np.float64)
        super().__init__(name=name, dtype=dtype)

    @property
    def thresholds(self):
        return list(self._thresholds)

    def reset_state(self):
        shape = (self.num_thresholds,) if not self.multi_label else (self.num_thresholds, self.num_labels or 0)
        self.true_positives, self.false_positives = np.zeros(shape), np.zeros(shape)
        self.true_negatives, self.false_negatives = np.zeros(shape), np.zeros(shape)
        self._started = False

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = to_numpy(y_pred, np.float64)
        if self._from_logits:
            y_pred = np.exp(-np.logaddexp(0.0, -y_pred))
        if self.multi_label and y_pred.ndim != 2:
            raise ValueError(f"AUC(multi_label=True) needs y_pred of rank 2 (samples, labels), got {y_pred.shape}")
        counts = confusion_counts(y_true, y_pred, self._thresholds, sample_weight, multi_label=self.multi_label,
                                  label_weights=None if self.multi_label else self.label_weights, clip=self._evenly)
        if not self._started and self.multi_label and self.true_positives.shape != counts[0].shape:
            self.true_positives, self.false_positives, self.true_negatives, self.false_negatives = (
                np.zeros(counts[0].shape) for _ in range(4))
        self._started = True
        self.true_positives += counts[0]
        self.false_positives += counts[1]
        self.true_negatives += counts[2]
        self.false_negatives += counts[3]

    def _average(self, by_label):
        if not self.multi_label:
            return float(by_label.sum())
        per_label = by_label.sum(axis=0)
        if self.label_weights is None:
            return float(per_label.mean()) if per_label.size else 0.0
        return float(divide_no_nan((per_label * self.label_weights).sum(), self.label_weights.sum()))

    def _interpolate_pr(self):
        """Precision interpolated between thresholds with tp and p = tp + fp linear in each bucket:
        area = slope * (dtp + intercept * log(p_A / p_B)) / (tp + fn)."""
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both, divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        increments = divide_no_nan(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0))
        return self._average(increments)

    def result(self):
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr()
        tp, fp, tn, fn = self.true_positives, self.false_positives, self.true_negatives, self.false_negatives
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, divide_no_nan(tp, tp + fp)
        rule = {"interpolation": "trapezoid", "minoring": "lower", "majoring": "upper"}[self.summation_method]
        return self._average(-segment_areas(x, y, rule))  # thresholds increase, so x runs from 1 down to 0

    def get_config(self):
        config = {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                  "summation_method": self.summation_method, "multi_label": self.multi_label,
                  "num_labels": self.num_labels, "from_logits": self._from_logits,
                  "label_weights": None if self.label_weights is None else self.label_weights.tolist()}
        if self._init_from_thresholds:
            config["thresholds"] = [float(t) for t in self._thresholds[1:-1]]
        return config
