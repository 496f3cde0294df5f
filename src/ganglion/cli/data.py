"""The data ``ganglion train`` and ``ganglion evaluate`` read: the bundled tables (iris, digits), the image datasets'
files (MNIST, Fashion-MNIST, CIFAR-10, read offline from the datasets folder, see docs/datasets.md), or a CSV table.

Every source becomes ``Examples``: raw rows ``x`` (n, F) as the source holds them (table features, or an image's
pixels flattened in height, width, channel order), class indices ``y`` and the class names. Preprocessing
(``preprocess.py``) starts from these raw rows, so ``ganglion predict`` can start from a CSV of the same rows.
"""

import os
from dataclasses import dataclass

import numpy as np

from .errors import CommandError, UsageError

TABLES = ("iris",)
IMAGES = ("digits", "mnist", "fashion_mnist", "cifar10")
BUILTIN = TABLES + IMAGES


@dataclass
class Examples:
    """Raw rows and labels. ``x`` (n, F) float64; ``y`` (n,) int64 indices into ``classes``; ``features``: the F
    column names; ``image``: {"height", "width", "channels", "max_value"} for image data, None for tables;
    ``source``: how to find the data again ({"data": "iris"} or {"data": "csv", "path": ..., "target": ...})."""

    x: np.ndarray
    y: np.ndarray
    classes: list
    features: list
    image: dict
    source: dict
    description: str


def is_csv(data):
    return data not in BUILTIN and (data.lower().endswith(".csv") or os.path.isfile(data))


def check_data_argument(data, target):
    """UsageError for a --data that is neither a known dataset nor a CSV file, or a CSV without --target."""
    if is_csv(data):
        if not os.path.isfile(data):
            raise CommandError(f"--data {data}: no such file")
        if target is None:
            raise UsageError(f"--data {data} is a CSV table: --target COLUMN is required (the column holding the "
                             "class of each row)")
        return
    if data not in BUILTIN:
        raise UsageError(f"unknown --data {data!r}: choose one of {', '.join(BUILTIN)}, or give the path of a .csv "
                         "file (with --target COLUMN)")
    if target is not None:
        raise UsageError(f"--target is for CSV tables; --data {data} has its own labels")


def pixel_names(height, width, channels):
    if channels == 1:
        return [f"pixel_{r}_{c}" for r in range(height) for c in range(width)]
    return [f"pixel_{r}_{c}_{k}" for r in range(height) for c in range(width) for k in range(channels)]


def load(data, split="train", target=None, root=None, download=False):
    """The ``Examples`` of ``data`` (a name of ``BUILTIN`` or a CSV path). ``split``: "train" or "test" for the
    image datasets that have both; the tables have one set of rows."""
    check_data_argument(data, target)
    if is_csv(data):
        return _load_csv(data, target)
    if data == "iris":
        from ..data.datasets import load_iris

        table = load_iris()
        return Examples(table.data.astype(np.float64), table.target.astype(np.int64), list(table.target_names),
                        list(table.feature_names), None, {"data": "iris"}, f"iris ({len(table.data)} rows)")
    if data == "digits":
        from ..data.datasets import load_digits

        table = load_digits()
        image = {"height": 8, "width": 8, "channels": 1, "max_value": 16}
        return Examples(table.data.astype(np.float64), table.target.astype(np.int64),
                        [str(c) for c in table.target_names], pixel_names(8, 8, 1), image, {"data": "digits"},
                        f"digits ({len(table.data)} images of 8x8)")
    return _load_image_files(data, split, root, download)


def _dataset_class(data):
    from ..data import datasets

    return {"mnist": datasets.MNIST, "fashion_mnist": datasets.FashionMNIST, "cifar10": datasets.CIFAR10}[data]


def _missing_files(data, cls, root, split):
    """(folder, [files of the split missing there]) for an image dataset under ``root``."""
    if data == "cifar10":
        folder = os.path.join(root, cls.base_folder)
        names = cls.train_list if split == "train" else cls.test_list
        return folder, [n for n in names if not os.path.isfile(os.path.join(folder, n))]
    folder = os.path.join(root, cls.__name__, "raw")
    prefix = "train" if split == "train" else "t10k"
    names = [f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"]
    # the loaders read the .gz as distributed or the file already decompressed
    return folder, [n for n in names if not any(os.path.isfile(os.path.join(folder, f)) for f in (n, n[:-3]))]


def _load_image_files(data, split, root, download):
    from ..data.datasets import DownloadError, default_root

    cls = _dataset_class(data)
    root = os.fspath(default_root() if root is None else os.path.expanduser(root))
    folder, missing = _missing_files(data, cls, root, split)
    if missing and not download:
        raise CommandError(
            f"{data}: the dataset files are not in {folder} (missing {', '.join(missing)}). ganglion reads them "
            "offline: copy them there (docs/datasets.md lists them), point --data-root or $GANGLION_HOME at a folder "
            "that holds them, or pass --download to fetch them")
    try:
        dataset = cls(root, train=split == "train", download=download)
    except (DownloadError, RuntimeError) as error:
        raise CommandError(f"{data}: {error}") from None
    if data == "cifar10":
        images, labels, classes = np.asarray(dataset.data), np.asarray(dataset.targets), list(dataset.classes)
    else:
        images, labels, classes = dataset.data.numpy(), dataset.targets.numpy(), list(dataset.classes)
    if images.ndim == 3:
        images = images[..., None]  # (n, H, W) grey -> (n, H, W, 1)
    n, height, width, channels = images.shape
    image = {"height": height, "width": width, "channels": channels, "max_value": 255}
    return Examples(images.reshape(n, -1).astype(np.float64), labels.astype(np.int64), classes,
                    pixel_names(height, width, channels), image, {"data": data},
                    f"{data} {split} split ({n} images of {height}x{width})")


def _load_csv(path, target):
    from ..data.datasets import load_csv

    try:
        table = load_csv(path, target_column=target, return_X_y=False, dtype=np.float64)
    except ValueError as error:
        if f"unknown target_column {target!r}" in str(error):
            columns = str(error).rpartition("the columns are ")[2]
            raise UsageError(f"--target {target!r} is not a column of {path}; the columns are {columns}") from None
        raise CommandError(str(error)) from None
    x, y = table["data"], table["target"]
    if np.isnan(x).any():
        row, column = np.argwhere(np.isnan(x))[0]
        raise CommandError(f"{path}: row {row + 1} of the data has an empty cell in column "
                           f"{table['feature_names'][column]!r}; fill or drop such rows first")
    if table["classes"] is not None:
        classes = list(table["classes"])
    else:
        if y.dtype.kind == "f":
            raise CommandError(f"{path}: column {target!r} holds fractional numbers; ganglion train classifies, so "
                               "the target must hold class names or whole numbers")
        values = np.unique(y)
        classes = [str(v) for v in values.tolist()]
        y = np.searchsorted(values, y)
    if len(classes) < 2:
        raise CommandError(f"{path}: column {target!r} holds a single class ({classes[0]!r}); a classifier needs two "
                           "or more")
    return Examples(x, y.astype(np.int64), classes, list(table["feature_names"]), None,
                    {"data": "csv", "path": os.path.abspath(path), "target": target},
                    f"{os.path.basename(path)} ({len(x)} rows, target {target!r})")
