"""The optical-recognition handwritten digits (UCI ML repository; E. Alpaydin and C. Kaynak, 1998): 1797 images of
8 x 8 pixels with values 0..16, 10 classes. The same table scikit-learn ships, stored as ``files/digits.csv``."""

from dataclasses import dataclass, field
from importlib import resources

import numpy as np


@dataclass
class DigitsData:
    """``data`` (n, 64) float64, ``images`` (n, 8, 8) float64, ``target`` (n,) int64 in 0..9."""

    data: np.ndarray
    target: np.ndarray
    images: np.ndarray
    feature_names: list = field(default_factory=list)
    target_names: np.ndarray = field(default_factory=lambda: np.arange(10))

    def __iter__(self):  # allows ``X, y = load_digits()``-style unpacking of the pair too
        return iter((self.data, self.target))


def load_digits(n_class=10, return_X_y=False):
    """Load the digits: a ``DigitsData`` or ``(X, y)`` with ``return_X_y``; ``n_class`` keeps classes 0..n_class-1."""
    if not isinstance(n_class, (int, np.integer)) or not 1 <= n_class <= 10:
        raise ValueError(f"load_digits: n_class must be an int between 1 and 10, got {n_class!r}")
    text = resources.files("ganglion.data.datasets").joinpath("files/digits.csv").read_text()
    lines = text.strip().splitlines()
    n_rows, n_features = (int(v) for v in lines[0].split(",")[:2])
    table = np.array([[int(v) for v in line.split(",")] for line in lines[1:]], dtype=np.int64)
    if table.shape != (n_rows, n_features + 1):
        raise ValueError(f"digits.csv is damaged: expected {n_rows} rows of {n_features + 1} values, got {table.shape}")
    keep = table[:, -1] < n_class
    X, y = table[keep, :-1].astype(np.float64), table[keep, -1]
    if return_X_y:
        return X, y
    names = [f"pixel_{r}_{c}" for r in range(8) for c in range(8)]
    return DigitsData(X, y, X.reshape(-1, 8, 8), names, np.arange(n_class))
