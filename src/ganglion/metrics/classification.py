"""Scores of predicted class labels: confusion_matrix, accuracy_score, misclassification_rate,
precision_recall_fscore_support and top_k_accuracy_score. Same arguments and values as scikit-learn's.

Everything set-wise is read off one weighted count matrix, ``counts[i, j]`` = weight of the samples whose true label
is ``labels[i]`` and predicted label ``labels[j]``: true positives are its diagonal, predicted totals its column sums,
supports its row sums.
"""

import warnings

import numpy as np

from ._inputs import (check_lengths, class_labels, sample_weights, to_numpy, unique_labels,
                      zero_division_value)

AVERAGES = (None, "binary", "micro", "macro", "weighted")
NORMALIZE = (None, "true", "pred", "all")


class UndefinedMetricWarning(UserWarning):
    """A ratio was 0/0 (no predicted or no true samples of a class) and was set to ``zero_division``."""


def _labels_and_weights(y_true, y_pred, sample_weight):
    y_true, y_pred = class_labels("y_true", y_true), class_labels("y_pred", y_pred)
    check_lengths(y_true=y_true, y_pred=y_pred)
    return y_true, y_pred, sample_weights(sample_weight, len(y_true))


def label_counts(y_true, y_pred, labels, weights):
    """counts[i, j]: total weight of samples with true label labels[i] and predicted label labels[j]; samples whose
    true or predicted label is not in ``labels`` are left out. (L,) labels -> (L, L) float64."""
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    n = len(labels)

    def position(y):  # index into ``labels`` and whether y is one of them
        at = np.clip(np.searchsorted(sorted_labels, y), 0, n - 1)
        return order[at], sorted_labels[at] == y

    true_at, true_found = position(y_true)
    pred_at, pred_found = position(y_pred)
    kept = true_found & pred_found
    flat = np.bincount(true_at[kept] * n + pred_at[kept], weights=weights[kept], minlength=n * n)
    return flat.reshape(n, n)


def _given_labels(labels, y_true, y_pred):
    """The caller's labels (checked), or the sorted labels present in y_true and y_pred."""
    if labels is None:
        return unique_labels(y_true, y_pred)
    labels = to_numpy("labels", labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D list, got shape {labels.shape}")
    return labels


def confusion_matrix(y_true, y_pred, labels=None, sample_weight=None, normalize=None):
    """C[i, j] = number (or weight) of samples of true class labels[i] predicted as labels[j].

    y_true, y_pred: (n,) class labels. labels: the classes and their order (default: sorted labels present in
    either). normalize: None (counts), "true" (rows sum to 1), "pred" (columns sum to 1) or "all". -> (L, L), int64
    counts without weights, float64 otherwise.
    """
    if normalize not in NORMALIZE:
        raise ValueError(f"normalize must be one of {NORMALIZE}, got {normalize!r}")
    y_true, y_pred, weights = _labels_and_weights(y_true, y_pred, sample_weight)
    labels = _given_labels(labels, y_true, y_pred)
    if not np.isin(y_true, labels).any():
        raise ValueError(f"none of labels {labels.tolist()} occurs in y_true (classes present: "
                         f"{np.unique(y_true).tolist()})")
    cm = label_counts(y_true, y_pred, labels, weights)
    if sample_weight is None and normalize is None:
        return cm.astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        if normalize == "true":
            cm = cm / cm.sum(axis=1, keepdims=True)
        elif normalize == "pred":
            cm = cm / cm.sum(axis=0, keepdims=True)
        elif normalize == "all":
            cm = cm / cm.sum()
    return np.nan_to_num(cm)


def accuracy_score(y_true, y_pred, normalize=True, sample_weight=None):
    """Fraction (``normalize=True``) or weighted count of samples with y_pred == y_true."""
    y_true, y_pred, weights = _labels_and_weights(y_true, y_pred, sample_weight)
    unique_labels(y_true, y_pred)  # rejects strings compared with numbers
    correct = weights[y_true == y_pred].sum()
    return float(correct / weights.sum() if normalize else correct)


def misclassification_rate(y_true, y_pred, sample_weight=None):
    """1 - accuracy: the fraction of misclassified samples (scikit-learn's ``zero_one_loss``)."""
    return 1.0 - accuracy_score(y_true, y_pred, sample_weight=sample_weight)


def _divide(numerator, denominator, zero_division, what):
    """numerator / denominator, with ``zero_division`` where the denominator is 0 (and a warning for "warn")."""
    zero = denominator == 0
    result = numerator / np.where(zero, 1.0, denominator)
    if zero.any():
        result[zero] = zero_division_value(zero_division)
        if isinstance(zero_division, str):
            warnings.warn(f"{what} is ill-defined for {int(zero.sum())} label(s) and set to 0.0; pass "
                          "zero_division to choose the value", UndefinedMetricWarning, stacklevel=3)
    return result


def _nan_average(values, weights=None):
    """The (weighted) mean ignoring nan entries (nan only if all are); all-zero weights count as equal weights."""
    kept = ~np.isnan(values)
    if not kept.any():
        return float("nan")
    if weights is None or weights[kept].sum() == 0:
        return float(values[kept].mean())
    return float(np.average(values[kept], weights=weights[kept]))


def precision_recall_fscore_support(y_true, y_pred, beta=1.0, labels=None, pos_label=1, average=None,
                                    sample_weight=None, zero_division="warn"):
    """Per class: precision = tp / (tp + fp), recall = tp / (tp + fn),
    F_beta = (1 + b^2) tp / ((1 + b^2) tp + b^2 fn + fp), support = number of true samples.

    average: None (arrays of shape (L,), plus supports), "binary" (the ``pos_label`` class of a binary problem),
    "micro" (from the summed counts), "macro" (unweighted mean over labels) or "weighted" (mean weighted by support);
    averaged results are floats and the support is None. zero_division: the value of a 0/0 ratio ("warn" = 0 with a
    warning, 0, 1 or nan).
    """
    if average not in AVERAGES:
        raise ValueError(f"average must be one of {AVERAGES}, got {average!r}")
    if isinstance(beta, bool) or not isinstance(beta, (int, float)) or beta < 0:
        raise ValueError(f"beta must be a number >= 0, got {beta!r}")
    zero_division_value(zero_division)
    y_true, y_pred, weights = _labels_and_weights(y_true, y_pred, sample_weight)
    present = unique_labels(y_true, y_pred)
    if average == "binary":
        if len(present) > 2:
            raise ValueError(f"average='binary' needs at most 2 classes, y_true and y_pred hold {len(present)}: "
                             f"{present.tolist()}; choose average from {AVERAGES[2:]}")
        if pos_label not in present.tolist() and len(present) == 2:
            raise ValueError(f"pos_label={pos_label!r} is not one of the labels {present.tolist()}")
        labels = [pos_label]
    chosen = present if labels is None else _given_labels(labels, y_true, y_pred)
    everything = np.concatenate([chosen, np.setdiff1d(present, chosen)])
    counts, n = label_counts(y_true, y_pred, everything, weights), len(chosen)
    tp, pred_sum, true_sum = np.diag(counts)[:n].copy(), counts[:, :n].sum(axis=0), counts[:n].sum(axis=1)
    if average == "micro":
        tp, pred_sum, true_sum = tp.sum(keepdims=True), pred_sum.sum(keepdims=True), true_sum.sum(keepdims=True)
    precision = _divide(tp, pred_sum, zero_division, "precision")
    recall = _divide(tp, true_sum, zero_division, "recall")
    if np.isinf(beta):
        f_score = recall
    elif beta == 0:
        f_score = precision
    else:
        b2 = beta ** 2
        f_score = _divide((1 + b2) * tp, b2 * true_sum + pred_sum, zero_division, "F-score")
    if average is None:
        return precision, recall, f_score, (true_sum.astype(np.int64) if sample_weight is None else true_sum)
    averaging_weights = true_sum if average == "weighted" else None
    return (_nan_average(precision, averaging_weights), _nan_average(recall, averaging_weights),
            _nan_average(f_score, averaging_weights), None)


def top_k_accuracy_score(y_true, y_score, k=2, normalize=True, sample_weight=None, labels=None):
    """Fraction of samples whose true class is among the k highest scores of its row.

    y_true: (n,) labels. y_score: (n, C) scores, column c for ``labels[c]`` (default: sorted labels of y_true), or
    (n,) scores of the greater class for a binary problem. Among equal scores the later column ranks first, as in
    scikit-learn.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an int >= 1, got {k!r}")
    y_true = class_labels("y_true", y_true)
    y_score = to_numpy("y_score", y_score, np.float64)
    if y_score.ndim == 2 and y_score.shape[1] == 1:  # one column: the greater class's score
        y_score = y_score[:, 0]
    if y_score.ndim not in (1, 2) or y_score.shape[0] == 0:
        raise ValueError(f"y_score must be (n_samples,) or (n_samples, n_classes) and non-empty, got {y_score.shape}")
    check_lengths(y_true=y_true, y_score=y_score)
    weights = sample_weights(sample_weight, len(y_true))
    classes = np.unique(y_true) if labels is None else np.asarray(to_numpy("labels", labels))
    if labels is not None:
        if len(np.unique(classes)) != len(classes) or np.any(np.sort(classes) != classes):
            raise ValueError(f"labels must be unique and sorted, got {classes.tolist()}")
        missing = np.setdiff1d(y_true, classes)
        if missing.size:
            raise ValueError(f"y_true holds labels {missing.tolist()} that are not in labels {classes.tolist()}")
    n_classes = y_score.shape[1] if y_score.ndim == 2 else 2
    if y_score.ndim == 2 and len(classes) != n_classes:
        raise ValueError(f"y_score has {n_classes} columns but there are {len(classes)} classes "
                         f"{classes.tolist()}; pass labels to name them")
    if y_score.ndim == 1 and len(classes) > 2:
        raise ValueError(f"y_score of shape {y_score.shape} needs a binary y_true, got classes {classes.tolist()}")
    if k >= n_classes:
        warnings.warn(f"k={k} >= n_classes={n_classes}: every sample is counted as correct", UserWarning,
                      stacklevel=2)
    true_index = np.searchsorted(classes, y_true)
    if y_score.ndim == 1:
        if k == 1:
            threshold = 0.5 if y_score.min() >= 0 and y_score.max() <= 1 else 0.0
            hits = (y_score > threshold).astype(np.int64) == true_index
        else:
            hits = np.ones(len(y_true), dtype=bool)
    else:
        ranked = np.argsort(y_score, axis=1, kind="mergesort")[:, ::-1][:, :k]
        hits = (ranked == true_index[:, None]).any(axis=1)
    correct = weights[hits].sum()
    return float(correct / weights.sum() if normalize else correct)
