"""The iris flowers data set (Fisher, 1936; UCI Machine Learning Repository): 150 rows, 4 measurements in cm,
3 species, 50 each. The same 150 rows scikit-learn ships, stored as ``files/iris.csv`` in this package."""

from dataclasses import dataclass, field
from importlib import resources

import numpy as np

FEATURE_NAMES = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]


@dataclass
class IrisData:
    """The table as arrays: ``data`` (150, 4) float64, ``target`` (150,) int64 in {0, 1, 2}."""

    data: np.ndarray
    target: np.ndarray
    feature_names: list = field(default_factory=lambda: list(FEATURE_NAMES))
    target_names: list = field(default_factory=list)

    def __iter__(self):  # allows ``X, y = load_iris(return_X_y=True)``-style unpacking of the pair too
        return iter((self.data, self.target))


def load_iris(return_X_y=False):
    """Load iris: an ``IrisData`` (data, target, feature_names, target_names), or ``(X, y)`` with ``return_X_y``."""
    text = resources.files("ganglion.data.datasets").joinpath("files/iris.csv").read_text()
    lines = text.strip().splitlines()
    header = lines[0].split(",")
    n_rows, n_features = int(header[0]), int(header[1])
    target_names = header[2:]
    table = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    if table.shape != (n_rows, n_features + 1):
        raise ValueError(f"iris.csv is damaged: expected {n_rows} rows of {n_features + 1} values, got {table.shape}")
    X, y = table[:, :n_features], table[:, n_features].astype(np.int64)
    if return_X_y:
        return X, y
    return IrisData(X, y, list(FEATURE_NAMES), target_names)
