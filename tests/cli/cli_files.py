"""Data files the command-line tests write: an iris CSV with shuffled columns, tiny MNIST IDX files."""

import gzip
import os

import numpy as np

from ganglion.data.datasets import load_iris, write_idx

FLOWER_COLUMNS = ["petal_w", "sepal_l", "species", "sepal_w", "petal_l"]  # iris's columns, reordered and renamed
IRIS_ORDER = [3, 0, None, 1, 2]  # FLOWER_COLUMNS[i] holds iris column IRIS_ORDER[i] (None: the species)


def write_flowers(path, rows=None):
    """Iris as a CSV whose target ``species`` holds names and sits among the features; returns (X, names)."""
    data = load_iris()
    rows = range(len(data.data)) if rows is None else rows
    names = [data.target_names[data.target[i]] for i in rows]
    with open(path, "w") as f:
        f.write(",".join(FLOWER_COLUMNS) + "\n")
        for i, name in zip(rows, names):
            cells = [name if c is None else repr(float(data.data[i, c])) for c in IRIS_ORDER]
            f.write(",".join(cells) + "\n")
    return data.data[list(rows)], names


def write_tiny_mnist(root, n_train=40, n_test=20, seed=0):
    """MNIST-format gzipped IDX files under ``root``/MNIST/raw whose label is readable from the image: class k
    lights up row 2k + 4 of the picture."""
    raw = os.path.join(root, "MNIST", "raw")
    os.makedirs(raw, exist_ok=True)
    rng = np.random.default_rng(seed)
    for split, n in (("train", n_train), ("t10k", n_test)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = rng.integers(0, 30, (n, 28, 28), dtype=np.uint8)
        images[np.arange(n), 2 * labels + 4, :] = 255
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            plain = os.path.join(raw, f"{split}-{kind}-ubyte")
            write_idx(plain, array)
            with open(plain, "rb") as f, gzip.open(plain + ".gz", "wb") as out:
                out.write(f.read())
            os.remove(plain)
