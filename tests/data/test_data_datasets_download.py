"""MNIST-family and CIFAR datasets against files built in the test: IDX/CIFAR parsing, downloads through file://
mirrors with checksums, the cache folder, and the errors for corrupt, truncated, mismatched or missing files."""

import gzip
import os
import urllib.request

import numpy as np
import pytest
from data_fixtures import cifar_records, idx_bytes, make_tar, md5

import ganglion
from ganglion.data import DataLoader, datasets, transforms
from ganglion.data.datasets import ChecksumError, DownloadError, read_cifar_records, read_idx, write_idx


def _leftovers(folder):
    """Temporary files (of a download or an extraction) left anywhere under ``folder``."""
    return [os.path.join(d, f) for d, _, files in os.walk(folder) for f in files if f.endswith(".part")]


# ------------------------------------------------------------------------------------------------------ IDX format
@pytest.mark.parametrize("code,dtype", [(0x08, np.uint8), (0x09, np.int8), (0x0B, np.int16), (0x0C, np.int32),
                                        (0x0D, np.float32), (0x0E, np.float64)])
@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_every_type_raw_and_gzip(tmp_path, rng, code, dtype, compress):
    array = (rng.standard_normal((3, 4, 2)) * 50).astype(dtype)
    data = idx_bytes(array, code)
    path = tmp_path / "x.idx"
    path.write_bytes(gzip.compress(data) if compress else data)
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype).newbyteorder("=") and out.shape == (3, 4, 2)
    np.testing.assert_array_equal(out, array)


def test_write_idx_round_trip(tmp_path, rng):
    array = rng.integers(-1000, 1000, (5, 6)).astype(np.int32)
    write_idx(tmp_path / "a.idx", array)
    assert (tmp_path / "a.idx").read_bytes() == idx_bytes(array, 0x0C)
    with pytest.raises(TypeError, match="cannot store dtype"):
        write_idx(tmp_path / "b.idx", np.zeros(3, np.complex64))


@pytest.mark.parametrize("damage,match", [
    (lambda b: b[:-7], "truncated or corrupt IDX file"),
    (lambda b: b + b"\x00", "truncated or corrupt IDX file"),
    (lambda b: b[:6], "truncated IDX file"),
    (lambda b: b"\x01\x02" + b[2:], "not an IDX file"),
    (lambda b: b[:2] + b"\x42" + b[3:], "not an IDX file"),
    (lambda b: b"", "not an IDX file"),
    (lambda b: gzip.compress(b)[:-12], "corrupt or truncated gzip"),
])
def test_read_idx_rejects_damaged_files_naming_them(tmp_path, damage, match):
    path = tmp_path / "damaged-images.idx"
    path.write_bytes(damage(idx_bytes(np.zeros((2, 3, 3), np.uint8))))
    with pytest.raises(ValueError, match=match) as info:
        read_idx(path)
    assert "damaged-images.idx" in str(info.value)


# -------------------------------------------------------------------------------------------------- MNIST family
@pytest.mark.parametrize("cls", [datasets.MNIST, datasets.FashionMNIST, datasets.KMNIST])
def test_mnist_family_downloads_verifies_and_parses(tmp_path, mnist_mirror, cls):
    _, arrays = mnist_mirror
    train = cls(root=tmp_path / "data", train=True, download=True)
    raw = tmp_path / "data" / cls.__name__ / "raw"
    assert sorted(os.listdir(raw)) == sorted(arrays)
    assert len(train) == 12 and len(cls(root=tmp_path / "data", train=False)) == 5
    image, label = train[3]
    assert isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.shape == (28, 28)
    np.testing.assert_array_equal(image, arrays["train-images-idx3-ubyte.gz"][3])
    assert label == int(arrays["train-labels-idx1-ubyte.gz"][3]) and isinstance(label, int)
    assert isinstance(train.data, ganglion.Tensor) and train.data.shape == (12, 28, 28)
    assert train.targets.dtype == ganglion.int64 and len(train.classes) == 10
    assert train.class_to_idx[train.classes[4]] == 4
    assert cls.__name__ in repr(train) and "Number of datapoints: 12" in repr(train)


def test_notes_pipeline_runs_with_only_the_import_prefix_changed(tmp_path, mnist_mirror, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # the notes' PyTorch code, torchvision/torch.utils.data replaced by ganglion.data
    transform = transforms.Compose([transforms.Resize((28, 28)), transforms.ToTensor(),
                                    transforms.Normalize((0.5,), (0.5,))])
    train_dataset = datasets.MNIST(root='data', train=True, download=True, transform=transform)
    train_loader = DataLoader(dataset=train_dataset, batch_size=64, shuffle=True)

    batches = list(train_loader)
    assert len(batches) == len(train_loader) == 1
    images, labels = batches[0]
    assert images.shape == (12, 1, 28, 28) and images.dtype == ganglion.float32
    assert labels.shape == (12,) and labels.dtype == ganglion.int64
    expected = mnist_mirror[1]["train-images-idx3-ubyte.gz"].astype(np.float32) / 255 * 2 - 1
    # the same images (in shuffled order): compare the sorted sets of rows
    np.testing.assert_allclose(np.unique(images.numpy().reshape(12, -1), axis=0),
                               np.unique(expected.reshape(12, -1), axis=0), atol=1e-6)
    assert (tmp_path / "data" / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").is_file()


def test_default_root_is_the_cache_folder(mnist_mirror, isolated_cache):
    dataset = datasets.MNIST(download=True)
    assert dataset.root == str(isolated_cache / "datasets")
    assert (isolated_cache / "datasets" / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz").is_file()
    assert datasets.cache_dir() == isolated_cache


def test_cache_folder_defaults_to_home(monkeypatch, tmp_path):
    monkeypatch.delenv("GANGLION_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert datasets.cache_dir() == tmp_path / ".cache" / "ganglion"


def test_existing_verified_files_are_not_downloaded_again(tmp_path, mnist_mirror, monkeypatch):
    datasets.MNIST(root=tmp_path, download=True)
    calls = []
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: calls.append(a) or 1 / 0)
    datasets.MNIST(root=tmp_path, download=True)
    assert calls == []


def test_damaged_cached_file_is_downloaded_again(tmp_path, mnist_mirror):
    datasets.MNIST(root=tmp_path, download=True)
    path = tmp_path / "MNIST" / "raw" / "train-labels-idx1-ubyte.gz"
    path.write_bytes(b"garbage")
    dataset = datasets.MNIST(root=tmp_path, download=True)
    assert len(dataset) == 12 and path.read_bytes() == (mnist_mirror[0] / path.name).read_bytes()


def test_checksum_mismatch_names_the_file_and_leaves_nothing(tmp_path, mnist_mirror, monkeypatch):
    resources = list(datasets.MNIST.resources)
    resources[1] = (resources[1][0], "0" * 32)
    monkeypatch.setattr(datasets.MNIST, "resources", resources)
    with pytest.raises(ChecksumError, match="train-labels-idx1-ubyte.gz") as info:
        datasets.MNIST(root=tmp_path, download=True)
    assert "0" * 32 in str(info.value) and isinstance(info.value, ValueError)
    raw = tmp_path / "MNIST" / "raw"
    assert not (raw / "train-labels-idx1-ubyte.gz").exists() and _leftovers(tmp_path) == []


def test_offline_error_names_the_url_and_the_cache_path(tmp_path, monkeypatch):
    def offline(request, timeout=None):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(DownloadError) as info:
        datasets.MNIST(root=tmp_path, download=True)
    message = str(info.value)
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz" in message
    assert "http://yann.lecun.com/exdb/mnist/train-images-idx3-ubyte.gz" in message
    assert str(tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte.gz") in message
    assert "name resolution" in message and _leftovers(tmp_path) == []


def test_interrupted_download_leaves_no_partial_file(tmp_path, mnist_mirror, monkeypatch):
    real = urllib.request.urlopen

    class Interrupted:
        def __init__(self, response):
            self.response, self.reads = response, 0

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.response.close()

        def read(self, n):
            self.reads += 1
            if self.reads == 2:
                raise KeyboardInterrupt
            return self.response.read(16)

    monkeypatch.setattr(urllib.request, "urlopen", lambda req, timeout=None: Interrupted(real(req, timeout=timeout)))
    with pytest.raises(KeyboardInterrupt):
        datasets.MNIST(root=tmp_path, download=True)
    assert os.listdir(tmp_path / "MNIST" / "raw") == []


def test_stale_part_file_of_a_killed_download_is_cleaned(tmp_path, mnist_mirror):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / ".train-images-idx3-ubyte.gz.abc123.part").write_bytes(b"half a file")
    datasets.MNIST(root=tmp_path, download=True)
    assert _leftovers(tmp_path) == []


def test_missing_files_without_download_say_so(tmp_path):
    with pytest.raises(RuntimeError, match="download=True") as info:
        datasets.FashionMNIST(root=tmp_path)
    assert str(tmp_path / "FashionMNIST" / "raw") in str(info.value)


def test_label_count_mismatch_names_both_files(tmp_path, rng):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros((4, 28, 28), np.uint8))))
    (raw / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(3, np.uint8))))
    with pytest.raises(ValueError, match="holds 4 images but .* holds 3 labels") as info:
        datasets.MNIST(root=tmp_path, train=False)
    assert "t10k-images-idx3-ubyte.gz" in str(info.value) and "t10k-labels-idx1-ubyte.gz" in str(info.value)


def test_truncated_cached_file_is_reported_with_its_path(tmp_path, mnist_mirror):
    datasets.MNIST(root=tmp_path, download=True)
    path = tmp_path / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((5, 28, 28), np.uint8))[:-100]))
    with pytest.raises(ValueError, match="truncated or corrupt IDX file") as info:
        datasets.MNIST(root=tmp_path, train=False)
    assert str(path) in str(info.value)


def test_decompressed_idx_files_are_read_too(tmp_path, rng):
    raw = tmp_path / "KMNIST" / "raw"
    raw.mkdir(parents=True)
    images = rng.integers(0, 256, (3, 28, 28), dtype=np.uint8)
    (raw / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(images))
    (raw / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.array([1, 2, 3], np.uint8)))
    dataset = datasets.KMNIST(root=tmp_path, train=False)
    np.testing.assert_array_equal(dataset[2][0], images[2])
    assert [dataset[i][1] for i in range(3)] == [1, 2, 3]


# ---------------------------------------------------------------------------------------------------------- CIFAR
def _cifar10_archive(tmp_path, rng, n_per_batch=3, corrupt=None):
    members, truth = {}, {}
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        images = rng.integers(0, 256, (n_per_batch, 32, 32, 3), dtype=np.uint8)
        labels = rng.integers(0, 10, n_per_batch)
        members[f"cifar-10-batches-bin/{name}"] = cifar_records(images, labels)
        truth[name] = (images, labels)
    members["cifar-10-batches-bin/batches.meta.txt"] = "\n".join(datasets.CIFAR10.default_classes).encode() + b"\n\n"
    if corrupt:
        members = corrupt(members)
    data = make_tar(tmp_path / "cifar-10-binary.tar.gz", members)
    return tmp_path / "cifar-10-binary.tar.gz", md5(data), truth


def test_cifar10_downloads_extracts_and_parses_binary_records(tmp_path, rng, monkeypatch):
    archive, digest, truth = _cifar10_archive(tmp_path, rng)
    monkeypatch.setattr(datasets.CIFAR10, "url", archive.as_uri())
    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", digest)
    root = tmp_path / "root"
    train = datasets.CIFAR10(root, train=True, download=True)
    test = datasets.CIFAR10(root, train=False)
    assert len(train) == 15 and len(test) == 3 and train.data.shape == (15, 32, 32, 3)
    image, label = train[4]  # second image of data_batch_2
    np.testing.assert_array_equal(image, truth["data_batch_2.bin"][0][1])
    assert label == truth["data_batch_2.bin"][1][1] and isinstance(train.targets, list)
    np.testing.assert_array_equal(test.data, truth["test_batch.bin"][0])
    assert train.classes[0] == "airplane" and train.class_to_idx["truck"] == 9
    assert (root / "cifar-10-binary.tar.gz").is_file() and _leftovers(root) == []
    assert sorted(os.listdir(root / "cifar-10-batches-bin"))[0] == "batches.meta.txt"


def test_cifar100_fine_and_coarse_labels(tmp_path, rng, monkeypatch):
    images = rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    coarse, fine = np.array([0, 19, 5, 7]), np.array([99, 0, 42, 13])
    members = {"cifar-100-binary/train.bin": cifar_records(images, np.stack([coarse, fine], 1)),
               "cifar-100-binary/test.bin": cifar_records(images[:1], np.array([[1, 2]])),
               "cifar-100-binary/fine_label_names.txt": "\n".join(f"f{i}" for i in range(100)).encode(),
               "cifar-100-binary/coarse_label_names.txt": "\n".join(f"c{i}" for i in range(20)).encode()}
    data = make_tar(tmp_path / "c100.tar.gz", members)
    monkeypatch.setattr(datasets.CIFAR100, "url", (tmp_path / "c100.tar.gz").as_uri())
    monkeypatch.setattr(datasets.CIFAR100, "tgz_md5", md5(data))
    dataset = datasets.CIFAR100(tmp_path / "root", download=True)
    assert dataset.targets == fine.tolist() and dataset.coarse_targets == coarse.tolist()
    assert dataset.classes[42] == "f42" and dataset.coarse_classes[19] == "c19"
    np.testing.assert_array_equal(dataset[2][0], images[2])


def test_cifar_default_class_names_have_the_right_counts():
    assert len(datasets.CIFAR100.default_classes) == 100 and len(set(datasets.CIFAR100.default_classes)) == 100
    assert len(datasets.CIFAR100.default_coarse_classes) == 20 and len(datasets.CIFAR10.default_classes) == 10


@pytest.mark.parametrize("cut,match", [(-5, "not a whole number of 3073-byte records"),
                                       (None, "label byte 0 holds 12")])
def test_cifar_corrupt_record_files_are_named(tmp_path, cut, match):
    records = cifar_records(np.zeros((2, 32, 32, 3), np.uint8), np.array([3, 12 if cut is None else 4]))
    path = tmp_path / "data_batch_1.bin"
    path.write_bytes(records[:cut] if cut else records)
    with pytest.raises(ValueError, match=match) as info:
        read_cifar_records(path, 1, (10,))
    assert str(path) in str(info.value)


def test_cifar_checksum_mismatch_leaves_no_archive(tmp_path, rng, monkeypatch):
    archive, _, _ = _cifar10_archive(tmp_path, rng)
    monkeypatch.setattr(datasets.CIFAR10, "url", archive.as_uri())
    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", "f" * 32)
    with pytest.raises(ChecksumError, match="cifar-10-binary.tar.gz"):
        datasets.CIFAR10(tmp_path / "root", download=True)
    assert not (tmp_path / "root" / "cifar-10-binary.tar.gz").exists() and _leftovers(tmp_path / "root") == []


def test_cifar_archive_missing_a_member_is_named_and_nothing_half_written(tmp_path, rng, monkeypatch):
    archive, digest, _ = _cifar10_archive(
        tmp_path, rng, corrupt=lambda m: {k: v for k, v in m.items() if "test_batch" not in k})
    monkeypatch.setattr(datasets.CIFAR10, "url", archive.as_uri())
    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", digest)
    with pytest.raises(ValueError, match="test_batch.bin") as info:
        datasets.CIFAR10(tmp_path / "root", download=True)
    assert "cifar-10-binary.tar.gz" in str(info.value) and _leftovers(tmp_path / "root") == []


def test_cifar_truncated_archive_is_a_clear_error(tmp_path, rng):
    archive, _, _ = _cifar10_archive(tmp_path, rng)
    root = tmp_path / "root"
    root.mkdir()
    (root / "cifar-10-binary.tar.gz").write_bytes(archive.read_bytes()[:300])
    with pytest.raises(ValueError, match="corrupt or truncated archive"):
        datasets._download.extract_members(root / "cifar-10-binary.tar.gz",
                                           {"cifar-10-batches-bin/test_batch.bin": str(root / "x.bin")})
    assert _leftovers(root) == []


def test_cifar_missing_without_download(tmp_path):
    with pytest.raises(RuntimeError, match="download=True"):
        datasets.CIFAR100(tmp_path)
