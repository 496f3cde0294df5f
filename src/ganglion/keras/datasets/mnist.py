"""``keras.datasets.mnist.load_data()``: the MNIST digits, 60,000 training and 10,000 test images of 28 x 28."""

import os

from ...data.datasets import MNIST
from ._cache import as_uint8, load_splits


def load_idx_family(dataset_class, root):
    """((x_train, y_train), (x_test, y_test)) of an MNIST-format dataset: x uint8 (n, 28, 28), y uint8 (n,)."""
    files = [name for name, _ in dataset_class.resources]
    splits = load_splits(dataset_class, root, os.path.join(dataset_class.__name__, "raw"), files,
                         " or ".join(dataset_class.mirrors))
    return tuple((as_uint8(ds.data.numpy(), f"{dataset_class.__name__} images"),
                  as_uint8(ds.targets.numpy(), f"{dataset_class.__name__} labels")) for ds in splits)


def load_data(root=None):
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (n, 28, 28) with values 0..255 and uint8 labels (n,)
    in 0..9. ``root``: the datasets folder (default ``$GANGLION_HOME/datasets`` or ``~/.cache/ganglion/datasets``);
    the files are ``<root>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz``, downloaded when absent."""
    return load_idx_family(MNIST, root)
