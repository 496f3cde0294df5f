"""Plots of evaluation results (matplotlib, the optional ``viz`` extra): a confusion matrix as a heat map, a
learning curve, and a training history. Each draws on ``ax`` (a new figure's axes when None) and returns the axes."""

import numpy as np

from ._inputs import to_numpy
from ..utils.pyplot import axes, pyplot


def _pyplot():
    return pyplot("ganglion.metrics.plots")


def _axes(ax):
    return axes(ax, "ganglion.metrics.plots")


def plot_confusion_matrix(cm, class_names=None, normalize=False, ax=None):
    """A heat map of ``cm`` (L, L) (rows: true class, columns: predicted), each cell labelled with its count, or
    with its share of the row when ``normalize`` is True."""
    cm = to_numpy("cm", cm, np.float64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] == 0:
        raise ValueError(f"cm must be a square (classes, classes) matrix, got shape {cm.shape}")
    n = cm.shape[0]
    names = [str(i) for i in range(n)] if class_names is None else [str(name) for name in class_names]
    if len(names) != n:
        raise ValueError(f"class_names has {len(names)} names for a {n}x{n} confusion matrix")
    if normalize:
        totals = cm.sum(axis=1, keepdims=True)
        cm = np.divide(cm, totals, out=np.zeros_like(cm), where=totals != 0)
    ax = _axes(ax)
    image = ax.imshow(cm, cmap="Blues", vmin=0.0)
    ax.figure.colorbar(image, ax=ax)
    ax.set(xticks=np.arange(n), yticks=np.arange(n), xticklabels=names, yticklabels=names,
           xlabel="Predicted label", ylabel="True label", title="Confusion matrix")
    middle = cm.max() / 2.0
    for i in range(n):
        for j in range(n):
            text = f"{cm[i, j]:.2f}" if normalize else f"{cm[i, j]:g}"
            ax.text(j, i, text, ha="center", va="center", color="white" if cm[i, j] > middle else "black")
    return ax


def plot_learning_curve(result, ax=None):
    """Mean training and validation error against the training size of a ``selection.LearningCurve``, with a band
    of one standard deviation over the folds."""
    ax = _axes(ax)
    for errors, label in ((result.train_errors, "training error"), (result.val_errors, "validation error")):
        mean, std = errors.mean(axis=1), errors.std(axis=1)
        ax.plot(result.train_sizes, mean, marker="o", label=label)
        ax.fill_between(result.train_sizes, mean - std, mean + std, alpha=0.2)
    ax.set(xlabel="Training samples", ylabel="Error", title="Learning curve")
    ax.legend()
    return ax


def plot_history(history, metrics=None, ax=None):
    """Per-epoch curves of a Keras-face ``History`` (its ``.history``) or a dict of lists: ``metrics`` names the
    curves (default: every key without a "val_" prefix); a "val_<name>" curve is drawn next to its "<name>"."""
    values = getattr(history, "history", history)
    if not isinstance(values, dict) or not values:
        raise ValueError(f"history must be a History or a non-empty dict of per-epoch lists, got {type(history)}")
    names = [key for key in values if not key.startswith("val_")] if metrics is None else list(metrics)
    unknown = [name for name in names if name not in values]
    if unknown:
        raise ValueError(f"metrics {unknown} are not in the history; recorded: {sorted(values)}")
    ax = _axes(ax)
    for name in names:
        for key in (name, f"val_{name}"):
            if key in values:
                ax.plot(np.arange(1, len(values[key]) + 1), values[key], label=key)
    ax.set(xlabel="Epoch", ylabel=names[0] if len(names) == 1 else "value", title="Training history")
    ax.legend()
    return ax
