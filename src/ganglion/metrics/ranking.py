"""roc_auc_score: the area under the ROC curve for binary scores, and one-vs-rest averages for multiclass
probabilities (scikit-learn's values)."""

import numpy as np

from ._inputs import class_labels, check_lengths, sample_weights, to_numpy
from .curves import auc, roc_curve

MULTI_CLASS = ("raise", "ovr")
AVERAGES = ("macro", "weighted", "micro", None)


def _binary_auc(positive, scores, weights, what):
    """AUC of scores against a boolean ``positive``; both classes must occur."""
    n_pos = int(positive.sum())
    if n_pos == 0 or n_pos == len(positive):
        raise ValueError(f"{what} holds a single class ({n_pos} positive of {len(positive)} samples): ROC AUC needs "
                         "both positive and negative samples")
    fpr, tpr, _ = roc_curve(positive.astype(np.int64), scores, sample_weight=weights)
    return auc(fpr, tpr)


def roc_auc_score(y_true, y_score, average="macro", sample_weight=None, multi_class="raise", labels=None):
    """Area under the ROC curve: the probability that a random positive scores above a random negative (ties count
    half).

    Binary: y_true (n,) with two classes, y_score (n,) scores of the greater class (or (n, 2) probabilities).
    Multiclass (``multi_class="ovr"``): y_score (n, C) probabilities summing to 1 per row, column c for ``labels[c]``
    (default: sorted classes of y_true); each class is scored against the rest and the AUCs averaged: "macro"
    (plain mean), "weighted" (by prevalence in y_true), "micro" (one curve over all cells) or None (per class).
    """
    if multi_class not in MULTI_CLASS:
        raise ValueError(f"multi_class must be one of {MULTI_CLASS}, got {multi_class!r}")
    if average not in AVERAGES:
        raise ValueError(f"average must be one of {AVERAGES}, got {average!r}")
    y_true = class_labels("y_true", y_true)
    y_score = to_numpy("y_score", y_score, np.float64)
    check_lengths(y_true=y_true, y_score=y_score)
    weights = None if sample_weight is None else sample_weights(sample_weight, len(y_true))
    classes = np.unique(y_true) if labels is None else to_numpy("labels", labels)
    if y_score.ndim == 2 and y_score.shape[1] == 1:
        y_score = y_score[:, 0]
    if y_score.ndim == 1 or (y_score.ndim == 2 and y_score.shape[1] == 2 and len(classes) <= 2):
        if y_score.ndim == 2:
            y_score = y_score[:, 1]
        if len(classes) != 2:
            raise ValueError(f"y_true holds a single class {classes.tolist()} in {len(y_true)} samples: ROC AUC "
                             "needs both positive and negative samples")
        return _binary_auc(y_true == classes[1], y_score, weights, "y_true")
    if y_score.ndim != 2:
        raise ValueError(f"y_score must be (n_samples,) or (n_samples, n_classes), got shape {y_score.shape}")
    if multi_class == "raise":
        raise ValueError(f"y_true has {len(classes)} classes: pass multi_class='ovr' to average one-vs-rest AUCs")
    if labels is not None and (len(np.unique(classes)) != len(classes) or np.any(np.sort(classes) != classes)):
        raise ValueError(f"labels must be unique and sorted, got {classes.tolist()}")
    if len(classes) != y_score.shape[1]:
        raise ValueError(f"y_score has {y_score.shape[1]} columns but there are {len(classes)} classes "
                         f"{classes.tolist()}; pass labels to name them")
    missing = np.setdiff1d(y_true, classes)
    if missing.size:
        raise ValueError(f"y_true holds labels {missing.tolist()} that are not in labels {classes.tolist()}")
    row_sums = y_score.sum(axis=1)
    if not np.allclose(row_sums, 1.0):
        worst = int(np.argmax(np.abs(row_sums - 1.0)))
        raise ValueError(f"y_score rows must be probabilities summing to 1 for multiclass ROC AUC; row {worst} sums "
                         f"to {row_sums[worst]:.6g}")
    onehot = y_true[:, None] == classes[None, :]
    if average == "micro":
        flat_weights = None if weights is None else np.repeat(weights, len(classes))
        return _binary_auc(onehot.ravel(), y_score.ravel(), flat_weights, "y_true (one-vs-rest, flattened)")
    per_class = np.array([_binary_auc(onehot[:, c], y_score[:, c], weights, f"y_true == {classes[c].item()!r}")
                          for c in range(len(classes))])
    if average is None:
        return per_class
    if average == "weighted":
        prevalence = onehot.sum(axis=0) if weights is None else (onehot * weights[:, None]).sum(axis=0)
        return float(np.average(per_class, weights=prevalence))
    return float(per_class.mean())
