"""``keras.utils``: ``to_categorical``, ``pad_sequences``, ``set_random_seed``, ``plot_model``, ``PyDataset`` (alias
``Sequence``) and ``image_dataset_from_directory``."""

import numpy as np

from .image_dataset import image_dataset_from_directory  # noqa: F401
from .plot import plot_model  # noqa: F401
from .py_dataset import PyDataset, Sequence  # noqa: F401
from .sequence_utils import pad_sequences  # noqa: F401


def to_categorical(x, num_classes=None):
    """Integer class labels (any shape) to one-hot float32 rows: (n,) -> (n, num_classes)."""
    x = np.asarray(x.numpy() if hasattr(x, "numpy") else x)
    if x.size and (x.dtype.kind == "f" and not np.all(np.mod(x, 1) == 0)):
        raise ValueError("to_categorical: labels must be whole numbers")
    labels = x.astype(np.int64)
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"to_categorical: labels must be in [0, {num_classes}), got {labels.min()}..{labels.max()}")
    return np.eye(num_classes, dtype=np.float32)[labels]


def set_random_seed(seed):
    """Seed ganglion's generator (and NumPy's and Python's, as Keras does)."""
    import random

    from ...backend import manual_seed

    random.seed(seed)
    np.random.seed(seed)
    manual_seed(seed)
