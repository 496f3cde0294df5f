"""Finding a dataset's files in the cache, fetching them when absent, and saying what to do when that fails."""

import os

import numpy as np

from ...data.datasets import DownloadError, default_root


def _present(path):
    """The file, or (for a ``.gz`` the MNIST loaders also accept uncompressed) the file without ``.gz``."""
    return os.path.isfile(path) or (path.endswith(".gz") and os.path.isfile(path[:-3]))


def load_splits(dataset_class, root, folder, files, sources):
    """(train, test) datasets of ``dataset_class`` under ``root`` (default: the cache), downloading only when one of
    ``files`` (names in ``<root>/<folder>``) is missing. ``sources``: where the files come from, for the error."""
    root = os.fspath(default_root() if root is None else os.path.expanduser(os.fspath(root)))
    where = os.path.join(root, folder)
    missing = [name for name in files if not _present(os.path.join(where, name))]
    try:
        train = dataset_class(root, train=True, download=bool(missing))
    except DownloadError as error:
        raise DownloadError(
            f"{dataset_class.__name__}: the dataset is not in the cache and could not be downloaded. Expected in "
            f"{where}: {', '.join(files)} (missing {', '.join(missing)}). Download them from {sources} on a machine "
            f"with a network and copy them there, or set $GANGLION_HOME to a folder whose datasets/{folder} holds "
            "them (or pass root=)"
        ) from error
    return train, dataset_class(root, train=False)


def as_uint8(values, what):
    """``values`` as a uint8 array, refusing (rather than wrapping) anything outside 0..255."""
    array = np.asarray(values)
    if array.size and (array.min() < 0 or array.max() > 255):
        raise ValueError(f"{what}: values must be in 0..255 to be stored as uint8, got {array.min()}..{array.max()}")
    return array.astype(np.uint8)
