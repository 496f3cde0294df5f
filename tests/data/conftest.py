"""Fixtures for the data tests: tiny IDX files served by a local 'mirror' (a folder behind file:// URLs), so
downloads run the real code without touching the network."""

import gzip

import numpy as np
import pytest
from data_fixtures import idx_bytes, md5


@pytest.fixture
def mnist_mirror(tmp_path, rng, monkeypatch):
    """A file:// mirror with the four MNIST files (gzip IDX; 12 training and 5 test images of 28 x 28), and
    MNIST/FashionMNIST/KMNIST pointed at it. Returns (mirror folder, {name: array})."""
    from ganglion.data import datasets

    mirror = tmp_path / "mirror"
    mirror.mkdir()
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, 12).astype(np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, 5).astype(np.uint8),
    }
    resources = []
    for name, array in arrays.items():
        data = gzip.compress(idx_bytes(array))
        (mirror / name).write_bytes(data)
        resources.append((name, md5(data)))
    for cls in (datasets.MNIST, datasets.FashionMNIST, datasets.KMNIST):
        monkeypatch.setattr(cls, "mirrors", [mirror.as_uri() + "/"])
        monkeypatch.setattr(cls, "resources", resources)
    return mirror, arrays


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    """Every test gets its own cache folder, so nothing is written to (or read from) the user's."""
    monkeypatch.setenv("GANGLION_HOME", str(tmp_path / "ganglion-home"))
    return tmp_path / "ganglion-home"
