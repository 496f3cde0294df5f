"""Datasets from a folder tree with one sub-folder per class (``root/cat/1.png``, ``root/dog/7.png``):
``DatasetFolder`` for any file type with a loader, ``ImageFolder`` for images decoded by Pillow (an optional
dependency: ``pip install 'ganglion[images]'``). Classes are the sub-folder names in sorted order."""

import os

import numpy as np

from ._vision import VisionDataset

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def require_pillow(owner):
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(
            f"{owner} decodes images with Pillow, which is not installed: pip install 'ganglion[images]' "
            "(or pip install Pillow), or pass a loader of your own"
        ) from None
    return Image


def pil_loader(path):
    """Decode an image file with Pillow into an RGB uint8 array (H, W, 3)."""
    Image = require_pillow("pil_loader")
    with open(path, "rb") as f:
        image = Image.open(f)
        return np.asarray(image.convert("RGB"))


default_loader = pil_loader


def has_file_allowed_extension(filename, extensions):
    return filename.lower().endswith(tuple(e.lower() for e in extensions))


def find_classes(directory):
    """(sorted class names, {name: index}) from the sub-folders of ``directory``."""
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"no such folder: {directory}")
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"found no class folder in {directory} (expected one sub-folder per class)")
    return classes, {name: i for i, name in enumerate(classes)}


def make_dataset(directory, class_to_idx, extensions=None, is_valid_file=None, allow_empty=False):
    """[(path, class index)] for every valid file under each class folder, in sorted order."""
    if (extensions is None) == (is_valid_file is None):
        raise ValueError("make_dataset: give exactly one of extensions and is_valid_file")
    if is_valid_file is None:
        def is_valid_file(path):
            return has_file_allowed_extension(path, extensions)
    samples, empty = [], []
    for name in sorted(class_to_idx):
        folder = os.path.join(directory, name)
        found = 0
        for current, _, files in sorted(os.walk(folder, followlinks=True)):
            for file in sorted(files):
                path = os.path.join(current, file)
                if is_valid_file(path):
                    samples.append((path, class_to_idx[name]))
                    found += 1
        if not found:
            empty.append(name)
    if empty and not allow_empty:
        accepted = f" Accepted extensions: {', '.join(extensions)}." if extensions is not None else ""
        raise FileNotFoundError(f"found no valid file in the class folder(s) {', '.join(empty)} of {directory}."
                                f"{accepted} Pass allow_empty=True to allow empty classes.")
    return samples


class DatasetFolder(VisionDataset):
    """Samples ``(loader(path), class index)`` from ``root/<class>/**/<file>``; ``classes``, ``class_to_idx``,
    ``samples`` and ``targets`` describe them."""

    def __init__(self, root, loader, extensions=None, transform=None, target_transform=None, is_valid_file=None,
                 allow_empty=False):
        super().__init__(root, transform, target_transform)
        if not callable(loader):
            raise TypeError(f"{type(self).__name__}: loader must be callable, got {type(loader).__name__}")
        self.classes, self.class_to_idx = find_classes(self.root)
        self.samples = make_dataset(self.root, self.class_to_idx, extensions, is_valid_file, allow_empty)
        self.loader, self.extensions = loader, extensions
        self.targets = [target for _, target in self.samples]

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        path, target = self.samples[index]
        return self._apply(self.loader(path), target)


class ImageFolder(DatasetFolder):
    """Images in ``root/<class>/`` (jpg, png, bmp, ppm, pgm, tif, webp), decoded by Pillow into RGB uint8 arrays
    (H, W, 3); ``imgs`` is ``samples``."""

    def __init__(self, root, transform=None, target_transform=None, loader=default_loader, is_valid_file=None,
                 allow_empty=False):
        if loader is default_loader:
            require_pillow("ImageFolder")
        super().__init__(root, loader, IMG_EXTENSIONS if is_valid_file is None else None, transform,
                         target_transform, is_valid_file, allow_empty)
        self.imgs = self.samples
