"""``keras.datasets.cifar10.load_data()``: CIFAR-10, 50,000 training and 10,000 test colour images of 32 x 32."""

import os

import numpy as np

from ...data.datasets import CIFAR10, default_root
from ._cache import as_uint8, load_splits


def load_cifar(dataset_class, root, label_of):
    """((x_train, y_train), (x_test, y_test)) of a CIFAR dataset: x uint8 (n, 32, 32, 3) channels-last, y uint8
    (n, 1) from ``label_of(dataset)``."""
    files = dataset_class.train_list + dataset_class.test_list
    archive = os.path.join(os.fspath(default_root() if root is None else root), dataset_class.filename)
    splits = load_splits(dataset_class, root, dataset_class.base_folder, files,
                         f"{dataset_class.url} (either extract them, or leave the archive at {archive}: it is "
                         "checked and extracted on the next call)")
    name = dataset_class.__name__
    return tuple((np.ascontiguousarray(as_uint8(ds.data, f"{name} images")),
                  as_uint8(label_of(ds), f"{name} labels").reshape(-1, 1)) for ds in splits)


def load_data(root=None):
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (n, 32, 32, 3), channels last, and uint8 labels
    (n, 1) in 0..9. ``root``: the datasets folder (default ``$GANGLION_HOME/datasets``); the files are
    ``<root>/cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin``, from the binary archive, downloaded when
    absent."""
    return load_cifar(CIFAR10, root, lambda ds: ds.targets)
