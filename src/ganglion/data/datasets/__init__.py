"""Datasets: ``load_iris`` and ``load_digits`` read tables shipped inside the package (no download); ``MNIST``,
``FashionMNIST``, ``KMNIST``, ``CIFAR10`` and ``CIFAR100`` download (checksummed, into ``$GANGLION_HOME`` or
``~/.cache/ganglion``) and parse the original files; ``ImageFolder``/``DatasetFolder`` read a folder per class;
``CSVDataset``/``load_csv`` read tables."""

from .iris import load_iris
from ._download import ChecksumError, DownloadError, cache_dir, check_integrity, default_root, download_url
from ._formats import read_cifar_records, read_idx, write_idx
from ._vision import VisionDataset
from .cifar import CIFAR10, CIFAR100
from .digits import load_digits
from .folder import IMG_EXTENSIONS, DatasetFolder, ImageFolder, default_loader, find_classes, pil_loader
from .mnist import KMNIST, MNIST, FashionMNIST
from .tabular import CSVDataset, load_csv
