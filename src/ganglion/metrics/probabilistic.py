"""log_loss: the cross-entropy of predicted class probabilities, scikit-learn's value and checks."""

import warnings

import numpy as np

from ._inputs import check_lengths, class_labels, sample_weights, to_numpy


def log_loss(y_true, y_proba, normalize=True, sample_weight=None, labels=None):
    """-mean_i log p_i[y_i] (the sum with ``normalize=False``), probabilities clipped to [eps, 1 - eps].

    y_true: (n,) labels. y_proba: (n, C) probabilities, column c for ``labels[c]`` (default: sorted classes of
    y_true), or (n,) probabilities of the greater class of a binary problem. Values outside [0, 1] are an error;
    rows not summing to 1 give a warning and are used as they are (as scikit-learn does).
    """
    y_true = class_labels("y_true", y_true)
    y_proba = to_numpy("y_proba", y_proba)
    # float32 probabilities (a Tensor's default) are judged and clipped at float32's precision, as scikit-learn does
    eps = np.finfo(y_proba.dtype if y_proba.dtype.kind == "f" else np.float64).eps
    y_proba = y_proba.astype(np.float64)
    if y_proba.ndim not in (1, 2) or y_proba.shape[0] == 0:
        raise ValueError(f"y_proba must be (n_samples,) or (n_samples, n_classes) and non-empty, got {y_proba.shape}")
    check_lengths(y_true=y_true, y_proba=y_proba)
    weights = sample_weights(sample_weight, len(y_true))
    if y_proba.max() > 1 or y_proba.min() < 0:
        raise ValueError(f"y_proba must hold probabilities in [0, 1], got values from {y_proba.min():.6g} to "
                         f"{y_proba.max():.6g}")
    classes = np.unique(y_true) if labels is None else np.unique(to_numpy("labels", labels))
    missing = np.setdiff1d(y_true, classes)
    if missing.size:
        raise ValueError(f"y_true holds labels {missing.tolist()} that are not in labels {classes.tolist()}")
    if len(classes) == 1:
        raise ValueError(f"y_true holds a single class {classes.tolist()}; pass labels with every class so the "
                         "columns of y_proba can be matched")
    if y_proba.ndim == 1:
        y_proba = y_proba[:, None]
    if y_proba.shape[1] == 1:
        y_proba = np.concatenate([1 - y_proba, y_proba], axis=1)
    if y_proba.shape[1] != len(classes):
        raise ValueError(f"y_proba has {y_proba.shape[1]} columns but there are {len(classes)} classes "
                         f"{classes.tolist()}; pass labels to name them")
    row_sums = y_proba.sum(axis=1)
    if not np.all(np.isclose(row_sums, 1.0, rtol=np.sqrt(eps), atol=0.0)):
        worst = int(np.argmax(np.abs(row_sums - 1.0)))
        warnings.warn(f"y_proba rows should sum to 1; row {worst} sums to {row_sums[worst]:.6g}. Pass probabilities "
                      "(apply softmax to logits)", UserWarning, stacklevel=2)
    y_proba = np.clip(y_proba, eps, 1 - eps)
    true_column = np.searchsorted(classes, y_true)
    losses = -np.log(y_proba[np.arange(len(y_true)), true_column])
    total = float((losses * weights).sum())
    return total / float(weights.sum()) if normalize else total
