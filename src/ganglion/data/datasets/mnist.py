"""MNIST, Fashion-MNIST and Kuzushiji-MNIST: 28 x 28 grey images in 10 classes, 60,000 for training and 10,000
for testing, stored as IDX files (read directly from the downloaded .gz files).

Files live in ``<root>/<ClassName>/raw/``. Each sample is ``(image, label)``: the image a uint8 array (28, 28)
(as a Pillow image would be, so ``ToTensor`` gives (1, 28, 28)), the label an int.
"""

import os

import numpy as np

from ...tensor import Tensor
from ._download import check_integrity, download_url
from ._formats import read_idx
from ._vision import VisionDataset


class MNIST(VisionDataset):
    """The MNIST handwritten digits. ``MNIST(root, train=True, transform=None, target_transform=None,
    download=False)``; ``data`` is a uint8 Tensor (N, 28, 28), ``targets`` an int64 Tensor (N,)."""

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]

    def __init__(self, root=None, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform, target_transform)
        self.train = bool(train)
        if download:
            self.download()
        if not self._check_exists():
            missing = [f for f in self._split_files() if not os.path.isfile(os.path.join(self.raw_folder, f))]
            raise RuntimeError(f"{type(self).__name__}: dataset not found in {self.raw_folder} (missing "
                               f"{', '.join(missing)}); pass download=True to download it")
        self._images, self._labels = self._load()

    @property
    def raw_folder(self):
        return os.path.join(self.root, type(self).__name__, "raw")

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}

    def _split_files(self):
        prefix = "train" if self.train else "t10k"
        return [f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"]

    def _path(self, name):
        """The file as downloaded (.gz) or, if only that exists, already decompressed."""
        path = os.path.join(self.raw_folder, name)
        return path if os.path.isfile(path) or not os.path.isfile(path[:-3]) else path[:-3]

    def _check_exists(self):
        return all(os.path.isfile(self._path(f)) for f in self._split_files())

    def _load(self):
        image_file, label_file = (self._path(f) for f in self._split_files())
        images, labels = read_idx(image_file), read_idx(label_file)
        if images.ndim != 3:
            raise ValueError(f"{image_file}: expected images of shape (N, H, W), the file holds shape {images.shape}")
        if labels.ndim != 1:
            raise ValueError(f"{label_file}: expected labels of shape (N,), the file holds shape {labels.shape}")
        if len(images) != len(labels):
            raise ValueError(f"{type(self).__name__}: {image_file} holds {len(images)} images but {label_file} holds "
                             f"{len(labels)} labels")
        return images.astype(np.uint8, copy=False), labels.astype(np.int64)

    def download(self):
        """Fetch the missing (or damaged) raw files of both splits, verified against their MD5 checksums."""
        for name, md5 in self.resources:
            path = os.path.join(self.raw_folder, name)
            if check_integrity(path, md5):
                continue
            download_url([mirror + name for mirror in self.mirrors], path, md5)

    @property
    def data(self):
        return Tensor._wrap(self._images)

    @data.setter
    def data(self, value):
        self._images = np.asarray(value.array if isinstance(value, Tensor) else value)

    @property
    def targets(self):
        return Tensor._wrap(self._labels)

    @targets.setter
    def targets(self, value):
        self._labels = np.asarray(value.array if isinstance(value, Tensor) else value, dtype=np.int64)

    def __len__(self):
        return len(self._images)

    def __getitem__(self, index):
        return self._apply(self._images[index], int(self._labels[index]))

    def extra_repr(self):
        return f"Split: {'Train' if self.train else 'Test'}"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 28 x 28 grey images of 10 kinds of clothing, in MNIST's format."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]


class KMNIST(MNIST):
    """Kuzushiji-MNIST: 28 x 28 grey images of 10 cursive Japanese characters, in MNIST's format."""

    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
