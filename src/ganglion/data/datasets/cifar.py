"""CIFAR-10 and CIFAR-100: 32 x 32 colour images, 50,000 for training and 10,000 for testing, read from the
binary version of the data (fixed-length records; the pickled version is never used).

The archive is kept in ``root``; the record files are extracted to ``<root>/cifar-10-batches-bin`` (or
``cifar-100-binary``). Each sample is ``(image, label)``: the image a uint8 array (32, 32, 3), the label an int.
"""

import os

import numpy as np

from ._download import check_integrity, download_url, extract_members
from ._formats import read_cifar_records
from ._vision import VisionDataset


class CIFAR10(VisionDataset):
    """CIFAR-10: 10 classes. ``CIFAR10(root, train=True, transform=None, target_transform=None, download=False)``;
    ``data`` is a uint8 array (N, 32, 32, 3), ``targets`` a list of ints."""

    url = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    filename = "cifar-10-binary.tar.gz"
    tgz_md5 = "c32a1d4ab5d03f1284b67883e8d87530"
    base_folder = "cifar-10-batches-bin"
    train_list = [f"data_batch_{i}.bin" for i in range(1, 6)]
    test_list = ["test_batch.bin"]
    meta_files = ["batches.meta.txt"]
    label_limits = (10,)   # classes per label byte
    fine_label = 0         # which label byte is the target
    default_classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    def __init__(self, root=None, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform, target_transform)
        self.train = bool(train)
        if download:
            self.download()
        files = self.train_list if self.train else self.test_list
        missing = [f for f in files if not os.path.isfile(os.path.join(self.folder, f))]
        if missing:
            raise RuntimeError(f"{type(self).__name__}: dataset not found in {self.folder} (missing "
                               f"{', '.join(missing)}); pass download=True to download it")
        images, labels = [], []
        for f in files:
            x, y = read_cifar_records(os.path.join(self.folder, f), len(self.label_limits), self.label_limits)
            images.append(x)
            labels.append(y)
        self.data = np.concatenate(images)
        all_labels = np.concatenate(labels)
        self.targets = all_labels[:, self.fine_label].tolist()
        self._extra_labels(all_labels)
        self.classes = self._read_names(self.meta_files[0], self.label_limits[self.fine_label]) or list(
            self.default_classes)

    def _extra_labels(self, labels):
        pass  # CIFAR-10 has one label per image

    @property
    def folder(self):
        return os.path.join(self.root, self.base_folder)

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}

    def _read_names(self, name, count):
        """The class names listed in a meta file, one per line (None when it is missing or does not list
        ``count`` names)."""
        path = os.path.join(self.folder, name)
        if not os.path.isfile(path):
            return None
        with open(path, encoding="utf-8") as f:
            names = [line.strip() for line in f if line.strip()]
        return names if len(names) == count else None

    def download(self):
        """Fetch and verify the archive (unless its record files are already extracted), then extract them."""
        wanted = self.train_list + self.test_list + self.meta_files
        if all(os.path.isfile(os.path.join(self.folder, f)) for f in wanted):
            return
        archive = os.path.join(self.root, self.filename)
        if not check_integrity(archive, self.tgz_md5):
            download_url(self.url, archive, self.tgz_md5)
        extract_members(archive, {f"{self.base_folder}/{f}": os.path.join(self.folder, f) for f in wanted})

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        return self._apply(self.data[index], self.targets[index])

    def extra_repr(self):
        return f"Split: {'Train' if self.train else 'Test'}"


class CIFAR100(CIFAR10):
    """CIFAR-100: 100 fine classes (the targets) grouped in 20 coarse ones (``coarse_targets``)."""

    url = "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz"
    filename = "cifar-100-binary.tar.gz"
    tgz_md5 = "03b5dce01913d631647c71ecec9e9cb8"
    base_folder = "cifar-100-binary"
    train_list = ["train.bin"]
    test_list = ["test.bin"]
    meta_files = ["fine_label_names.txt", "coarse_label_names.txt"]
    label_limits = (20, 100)  # each record: the coarse label byte, then the fine one
    fine_label = 1
    default_classes = (
        "apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly camel can "
        "castle caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup dinosaur dolphin "
        "elephant flatfish forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion lizard lobster "
        "man maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree pear pickup_truck "
        "pine_tree plain plate poppy porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk "
        "skyscraper snail snake spider squirrel streetcar sunflower sweet_pepper table tank telephone television "
        "tiger tractor train trout tulip turtle wardrobe whale willow_tree wolf woman worm"
    ).split()
    default_coarse_classes = (
        "aquatic_mammals fish flowers food_containers fruit_and_vegetables household_electrical_devices "
        "household_furniture insects large_carnivores large_man-made_outdoor_things large_natural_outdoor_scenes "
        "large_omnivores_and_herbivores medium_mammals non-insect_invertebrates people reptiles small_mammals trees "
        "vehicles_1 vehicles_2"
    ).split()

    def _extra_labels(self, labels):
        self.coarse_targets = labels[:, 0].tolist()
        names = self._read_names("coarse_label_names.txt", 20)
        self.coarse_classes = names or list(self.default_coarse_classes)
