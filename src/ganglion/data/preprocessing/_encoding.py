"""Label encodings: ``LabelEncoder`` (scikit-learn), ``one_hot`` (PyTorch's) and ``to_categorical`` (Keras')."""

import numpy as np

from ...tensor import Tensor
from ._scalers import NotFittedError


def _labels_1d(owner, y):
    y = np.asarray(y.array if isinstance(y, Tensor) else y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{owner}: y must be a 1-d array of labels, got shape {y.shape}")
    return y


class LabelEncoder:
    """Labels -> integers 0..n_classes-1 in sorted order of the labels: ``classes_`` holds the sorted labels."""

    def fit(self, y):
        y = _labels_1d("LabelEncoder", y)
        try:
            self.classes_ = np.unique(y)
        except TypeError:
            raise TypeError("LabelEncoder: labels must be all numbers or all strings (they are sorted)") from None
        return self

    def fit_transform(self, y):
        return self.fit(y).transform(y)

    def _check_fitted(self):
        if not hasattr(self, "classes_"):
            raise NotFittedError("This LabelEncoder instance is not fitted yet; call fit(y) first")

    def transform(self, y):
        """Labels -> their positions in ``classes_`` (an int64 array)."""
        self._check_fitted()
        y = _labels_1d("LabelEncoder", y)
        if y.size == 0:
            return np.zeros(0, dtype=np.int64)
        unseen = np.setdiff1d(y, self.classes_)
        if unseen.size:
            raise ValueError(f"LabelEncoder: y contains previously unseen labels: {unseen.tolist()}")
        return np.searchsorted(self.classes_, y).astype(np.int64)

    def inverse_transform(self, y):
        """Integer codes -> the original labels."""
        self._check_fitted()
        y = _labels_1d("LabelEncoder", y)
        if y.size == 0:
            return self.classes_[:0]
        bad = np.setdiff1d(y, np.arange(len(self.classes_)))
        if bad.size:
            raise ValueError(f"LabelEncoder: y contains previously unseen labels: {bad.tolist()} (valid codes are "
                             f"0..{len(self.classes_) - 1})")
        return self.classes_[y.astype(np.int64)]


def _integer_labels(owner, labels):
    array = np.asarray(labels.array if isinstance(labels, Tensor) else labels)
    if array.dtype.kind == "f" and array.size and np.all(np.mod(array, 1) == 0):
        array = array.astype(np.int64)
    if array.dtype.kind not in "iub" and array.size:
        raise TypeError(f"{owner}: labels must be integers, got dtype {array.dtype}")
    array = array.astype(np.int64)
    if array.size and array.min() < 0:
        raise ValueError(f"{owner}: labels must be non-negative, got {int(array.min())}")
    return array


def _num_classes(owner, labels, num_classes):
    if num_classes is None or num_classes == -1:
        if labels.size == 0:
            raise ValueError(f"{owner}: cannot infer the number of classes from no labels; pass num_classes")
        return int(labels.max()) + 1
    if not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"{owner}: num_classes must be a positive int, got {num_classes!r}")
    if labels.size and labels.max() >= num_classes:
        raise ValueError(f"{owner}: label {int(labels.max())} is out of range for num_classes={num_classes}")
    return int(num_classes)


def one_hot(labels, num_classes=-1):
    """Integer labels of shape (*) -> int64 one-hot of shape (*, num_classes) (``num_classes=-1``: max + 1).
    A Tensor in gives a Tensor out, as ``torch.nn.functional.one_hot``."""
    y = _integer_labels("one_hot", labels)
    k = _num_classes("one_hot", y, num_classes)
    out = (y[..., None] == np.arange(k)).astype(np.int64)
    return Tensor._wrap(out) if isinstance(labels, Tensor) else out


def to_categorical(y, num_classes=None, dtype="float32"):
    """Integer labels (shape (*) or (*, 1)) -> a one-hot matrix of shape (*, num_classes) (Keras'
    ``to_categorical``; ``num_classes=None``: max + 1)."""
    labels = _integer_labels("to_categorical", y)
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    labels = labels.reshape(shape)
    k = _num_classes("to_categorical", labels, num_classes)
    out = (labels[..., None] == np.arange(k)).astype(dtype)
    return Tensor._wrap(out) if isinstance(y, Tensor) else out
