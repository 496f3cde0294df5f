"""keras.datasets.{mnist, fashion_mnist, cifar10, cifar100}.load_data on tiny files in the real formats, made here
byte by byte in a temporary cache: Keras' shapes and dtypes, the values written, cifar100's label modes,
$GANGLION_HOME, and the error offline when the files are absent. Fashion-MNIST is also read by Keras 3's own
``load_data`` from the same .gz files (Keras' MNIST and CIFAR loaders read other formats: an npz and pickles)."""

import gzip
import os
import struct
import urllib.error
import urllib.request

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from ganglion.data.datasets import DownloadError  # noqa: E402
from ganglion.keras.datasets import cifar10, cifar100, fashion_mnist, mnist  # noqa: E402


def _idx_gz(path, array):
    array = np.asarray(array, dtype=np.uint8)
    path.write_bytes(gzip.compress(bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
                                   + array.tobytes()))


def make_idx_family(folder, rng, n_train=5, n_test=3):
    """The four MNIST-format files in ``folder``; returns the arrays written."""
    folder.mkdir(parents=True, exist_ok=True)
    data = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, n, dtype=np.uint8)
        _idx_gz(folder / f"{prefix}-images-idx3-ubyte.gz", x)
        _idx_gz(folder / f"{prefix}-labels-idx1-ubyte.gz", y)
        data[prefix] = (x, y)
    return data["train"], data["t10k"]


def _records(images, labels):
    """CIFAR binary records: the label bytes, then the red, green and blue planes."""
    return b"".join(bytes(label.tolist()) + image.transpose(2, 0, 1).tobytes() for image, label in zip(images, labels))


def make_cifar(folder, files, rng, label_limits, per_file=2):
    """CIFAR binary files; returns ((x_train, labels_train), (x_test, labels_test)), labels (n, len(limits))."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name in files:
        x = rng.integers(0, 256, (per_file, 32, 32, 3), dtype=np.uint8)
        labels = np.stack([rng.integers(0, limit, per_file, dtype=np.uint8) for limit in label_limits], axis=1)
        (folder / name).write_bytes(_records(x, labels))
        written[name] = (x, labels)
    test = [written.pop(name) for name in list(written) if "test" in name]
    train = list(written.values())
    return ((np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train])), test[0])


def _check(result, expected, image_shape, label_shape):
    (x_train, y_train), (x_test, y_test) = result
    for got_x, got_y, (want_x, want_y) in ((x_train, y_train, expected[0]), (x_test, y_test, expected[1])):
        assert got_x.dtype == np.uint8 and got_y.dtype == np.uint8
        assert got_x.shape == (len(want_x),) + image_shape and got_y.shape == (len(want_y),) + label_shape
        np.testing.assert_array_equal(got_x, want_x)
        np.testing.assert_array_equal(got_y.reshape(len(want_y)), want_y)


@pytest.mark.parametrize("module, folder", [(mnist, "MNIST"), (fashion_mnist, "FashionMNIST")])
def test_idx_datasets_shapes_dtypes_values(tmp_path, module, folder):
    expected = make_idx_family(tmp_path / folder / "raw", np.random.default_rng(0))
    _check(module.load_data(root=tmp_path), expected, (28, 28), ())


def test_cifar10_binary_records(tmp_path):
    files = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    (x_tr, l_tr), (x_te, l_te) = make_cifar(tmp_path / "cifar-10-batches-bin", files, np.random.default_rng(1), (10,))
    _check(cifar10.load_data(root=tmp_path), ((x_tr, l_tr[:, 0]), (x_te, l_te[:, 0])), (32, 32, 3), (1,))


@pytest.mark.parametrize("label_mode, column", [("fine", 1), ("coarse", 0)])
def test_cifar100_label_modes(tmp_path, label_mode, column):
    (x_tr, l_tr), (x_te, l_te) = make_cifar(tmp_path / "cifar-100-binary", ["train.bin", "test.bin"],
                                            np.random.default_rng(2), (20, 100), per_file=4)
    result = cifar100.load_data(label_mode=label_mode, root=tmp_path)
    _check(result, ((x_tr, l_tr[:, column]), (x_te, l_te[:, column])), (32, 32, 3), (1,))


def test_cifar100_unknown_label_mode():
    with pytest.raises(ValueError, match="label_mode.*fine.*coarse.*'middle'"):
        cifar100.load_data(label_mode="middle")


def test_ganglion_home_is_the_default_cache(tmp_path, monkeypatch):
    expected = make_idx_family(tmp_path / "datasets" / "MNIST" / "raw", np.random.default_rng(3))
    monkeypatch.setenv("GANGLION_HOME", str(tmp_path))
    _check(mnist.load_data(), expected, (28, 28), ())


def _offline(request, timeout=None):
    raise urllib.error.URLError("network is unreachable (simulated)")


@pytest.mark.parametrize("load, folder, files", [
    (mnist.load_data, "MNIST/raw", ["train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]),
    (cifar10.load_data, "cifar-10-batches-bin", ["data_batch_1.bin", "test_batch.bin"]),
    (lambda root: cifar100.load_data("coarse", root=root), "cifar-100-binary", ["train.bin", "test.bin"]),
])
def test_offline_and_absent_names_folder_and_files(tmp_path, monkeypatch, load, folder, files):
    monkeypatch.setattr(urllib.request, "urlopen", _offline)
    with pytest.raises(DownloadError) as info:
        load(root=tmp_path)
    message = str(info.value)
    assert str(tmp_path / folder) in message and "GANGLION_HOME" in message
    for name in files:
        assert name in message
    assert not any(p.name.endswith(".part") for p in tmp_path.rglob("*"))  # nothing half-written left behind


def test_fashion_mnist_matches_keras_on_the_same_files(tmp_path, monkeypatch):
    keras = pytest.importorskip("keras")
    from keras.src.backend import config

    make_idx_family(tmp_path / "keras" / "datasets" / "fashion-mnist", np.random.default_rng(4))
    monkeypatch.setattr(config, "_KERAS_DIR", str(tmp_path / "keras"))
    monkeypatch.setattr(urllib.request, "urlopen", _offline)  # Keras must read the files there, not download
    (kx_tr, ky_tr), (kx_te, ky_te) = keras.datasets.fashion_mnist.load_data()
    os.makedirs(tmp_path / "g" / "FashionMNIST")
    os.symlink(tmp_path / "keras" / "datasets" / "fashion-mnist", tmp_path / "g" / "FashionMNIST" / "raw")
    (gx_tr, gy_tr), (gx_te, gy_te) = fashion_mnist.load_data(root=tmp_path / "g")
    for got, want in ((gx_tr, kx_tr), (gy_tr, ky_tr), (gx_te, kx_te), (gy_te, ky_te)):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
