"""classification_report: precision, recall, F1 and support per class, then the accuracy (or micro average), macro
and weighted averages, in scikit-learn's text layout or as its nested dict."""

import warnings

import numpy as np

from .classification import _labels_and_weights, precision_recall_fscore_support
from ._inputs import to_numpy, unique_labels

HEADERS = ("precision", "recall", "f1-score", "support")


def classification_report(y_true, y_pred, labels=None, target_names=None, sample_weight=None, digits=2,
                          output_dict=False, zero_division="warn"):
    """A table of per-class precision, recall, F1 and support, and their averages.

    labels: the classes reported and their order (default: sorted labels present in y_true or y_pred).
    target_names: display names, one per label. digits: decimals in the text. output_dict: return
    ``{name: {"precision", "recall", "f1-score", "support"}, "accuracy": float, "macro avg": {...},
    "weighted avg": {...}}`` instead of text. The "accuracy" line becomes "micro avg" when ``labels`` leaves out a
    class present in the data.

    >>> print(classification_report([0, 1, 1], [0, 1, 0]))  # doctest: +NORMALIZE_WHITESPACE
                  precision    recall  f1-score   support
    <BLANKLINE>
               0       0.50      1.00      0.67         1
               1       1.00      0.50      0.67         2
    <BLANKLINE>
        accuracy                           0.67         3
       macro avg       0.75      0.75      0.67         3
    weighted avg       0.83      0.67      0.67         3
    <BLANKLINE>
    """
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 0:
        raise ValueError(f"digits must be an int >= 0, got {digits!r}")
    y_true_arr, y_pred_arr, _ = _labels_and_weights(y_true, y_pred, sample_weight)
    present = unique_labels(y_true_arr, y_pred_arr)
    labels_given = labels is not None
    labels = present if labels is None else to_numpy("labels", labels)
    micro_is_accuracy = not labels_given or set(labels.tolist()) >= set(present.tolist())
    if target_names is not None and len(target_names) != len(labels):
        if not labels_given:
            raise ValueError(f"target_names has {len(target_names)} names but there are {len(labels)} classes "
                             f"{labels.tolist()}; pass labels to choose them")
        warnings.warn(f"labels has {len(labels)} entries but target_names has {len(target_names)}", UserWarning,
                      stacklevel=2)
    names = [str(name) for name in (target_names if target_names is not None else labels.tolist())]
    per_class = precision_recall_fscore_support(y_true_arr, y_pred_arr, labels=labels, average=None,
                                                sample_weight=sample_weight, zero_division=zero_division)
    support_total = np.sum(per_class[3])
    averages = {}
    for average in ("micro", "macro", "weighted"):
        heading = "accuracy" if average == "micro" and micro_is_accuracy else f"{average} avg"
        p, r, f, _ = precision_recall_fscore_support(y_true_arr, y_pred_arr, labels=labels, average=average,
                                                     sample_weight=sample_weight, zero_division=zero_division)
        averages[heading] = (p, r, f, support_total)
    rows = list(zip(names, *per_class))
    if output_dict:
        report = {name: dict(zip(HEADERS, map(float, values))) for name, *values in rows}
        for heading, values in averages.items():
            report[heading] = float(values[0]) if heading == "accuracy" else dict(zip(HEADERS, map(float, values)))
        return report
    width = max(max(len(name) for name in names), len("weighted avg"), digits)
    text = ("{:>{width}s} " + " {:>9}" * 4).format("", *HEADERS, width=width) + "\n\n"
    row = "{:>{width}s} " + " {:>9.{digits}f}" * 3 + " {:>9}\n"
    for name, *values in rows:
        text += row.format(name, *values, width=width, digits=digits)
    text += "\n"
    for heading, values in averages.items():
        if heading == "accuracy":
            text += ("{:>{width}s} " + " {:>9.{digits}}" * 2 + " {:>9.{digits}f} {:>9}\n").format(
                heading, "", "", values[2], values[3], width=width, digits=digits)
        else:
            text += row.format(heading, *values, width=width, digits=digits)
    return text
