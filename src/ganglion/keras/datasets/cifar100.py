"""``keras.datasets.cifar100.load_data(label_mode="fine")``: CIFAR-100, 100 fine classes in 20 coarse ones."""

from ...data.datasets import CIFAR100
from .cifar10 import load_cifar

LABEL_MODES = {"fine": lambda ds: ds.targets, "coarse": lambda ds: ds.coarse_targets}


def load_data(label_mode="fine", root=None):
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (n, 32, 32, 3) and uint8 labels (n, 1): the fine
    class (0..99) with ``label_mode="fine"``, the coarse superclass (0..19) with ``"coarse"``. The files are
    ``<root>/cifar-100-binary/{train,test}.bin`` (see ``cifar10.load_data``)."""
    if label_mode not in LABEL_MODES:
        raise ValueError(f'`label_mode` must be one of `"fine"`, `"coarse"`. Received: label_mode={label_mode!r}.')
    return load_cifar(CIFAR100, root, LABEL_MODES[label_mode])
