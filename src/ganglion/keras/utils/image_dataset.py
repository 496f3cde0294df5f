"""``keras.utils.image_dataset_from_directory``: a folder of class sub-folders as batches of (images, labels).

Files are found, labelled, shuffled and split exactly as Keras 3 does (``keras/src/utils/dataset_utils.py``): class
folders in sorted order (hidden ones skipped), each walked recursively with files in sorted order, a global
shuffle by ``np.random.RandomState(seed)``, and the last ``int(validation_split * n)`` files as the validation set.
Images are decoded by Pillow, converted to the ``color_mode`` and resized by ``keras.layers.Resizing`` (the
engine's ``interpolate``, as Keras' torch backend). Keras returns a ``tf.data.Dataset``; this returns a
``keras.utils.PyDataset`` of batches, which ``fit`` / ``evaluate`` / ``predict`` read and a ``for`` loop iterates.
"""

import math
import os

import numpy as np

from ...data.datasets.folder import require_pillow
from ...tensor import Tensor
from .py_dataset import PyDataset

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}
LABEL_MODES = ("int", "categorical", "binary", None)
INTERPOLATIONS = ("bilinear", "nearest", "bicubic")


def _walk(folder, follow_links):
    """Files with an allowed extension under ``folder``, recursively, folders and names in sorted order."""
    found = []
    for root, _, files in sorted(os.walk(folder, followlinks=follow_links), key=lambda entry: entry[0]):
        found += [os.path.join(root, name) for name in sorted(files) if name.lower().endswith(ALLOWLIST_FORMATS)]
    return found


def index_directory(directory, labels, class_names, shuffle, seed, follow_links):
    """(file paths, int labels or None, class names or None) in Keras' order (see the module docstring)."""
    if not os.path.isdir(directory):
        raise ValueError(f"image_dataset_from_directory: directory {directory!r} does not exist or is not a folder")
    if labels == "inferred":
        subdirs = [d for d in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
        if class_names is not None:
            if not set(class_names).issubset(subdirs):
                raise ValueError(f"The `class_names` passed did not match the names of the subdirectories of the "
                                 f"target directory. Expected: {subdirs} (or a subset of it), but received: "
                                 f"class_names={class_names}")
            subdirs = list(class_names)
        paths, label_list = [], []
        for index, name in enumerate(subdirs):
            files = _walk(os.path.join(directory, name), follow_links)
            paths += files
            label_list += [index] * len(files)
        label_array, class_names = np.array(label_list, dtype=np.int32), subdirs
    else:
        paths = _walk(directory, follow_links)
        label_array = class_names = None
        if labels is not None:
            if len(labels) != len(paths):
                raise ValueError(f"Expected the lengths of `labels` to match the number of files in the target "
                                 f"directory. len(labels) is {len(labels)} while we found {len(paths)} files in "
                                 f"directory {directory}.")
            label_array = np.asarray(labels)
            class_names = [str(label) for label in sorted(set(labels))]
    if shuffle:  # Keras shuffles paths and labels with two generators of the same seed
        np.random.RandomState(seed).shuffle(paths)
        if label_array is not None:
            np.random.RandomState(seed).shuffle(label_array)
    return paths, label_array, class_names


def split(paths, labels, validation_split, subset):
    """The ``subset`` ("training" or "validation") of ``paths``/``labels``: Keras' last ``int(split * n)``."""
    if not validation_split:
        return paths, labels
    n_val = int(validation_split * len(paths))
    part = slice(None, -n_val) if subset == "training" else slice(-n_val, None)
    return paths[part], None if labels is None else labels[part]


def load_image(path, color_mode, resize):
    """One image file as float32 (height, width, channels), values 0..255, converted to ``color_mode`` as Keras'
    loader does and resized by the ``Resizing`` layer ``resize``."""
    Image = require_pillow("image_dataset_from_directory")
    with Image.open(path) as image:
        target = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}[color_mode]
        keep = ("L", "I;16", "I") if color_mode == "grayscale" else (target,)
        array = np.asarray(image if image.mode in keep else image.convert(target), dtype=np.float32)
    if array.ndim == 2:
        array = array[:, :, None]
    return resize(Tensor._wrap(array)).numpy()


class ImageDirectoryDataset(PyDataset):
    """Batches ``(images, labels)`` (or ``images`` without labels) read from files: images float32 (batch, height,
    width, channels) (or channels first), labels int32 (batch,), float32 (batch, 1) binary or (batch, classes)
    one-hot. ``class_names`` and ``file_paths`` as in Keras; with ``shuffle`` the order changes every epoch."""

    def __init__(self, paths, labels, class_names, label_mode, batch_size, shuffle, seed, load, data_format):
        super().__init__()
        self.file_paths, self.class_names = list(paths), class_names
        self._labels, self._label_mode, self._batch_size = labels, label_mode, batch_size
        self._shuffle, self._rng, self._load, self._data_format = shuffle, np.random.default_rng(seed), load, \
            data_format
        self._order = np.arange(len(self.file_paths))

    def __len__(self):
        return math.ceil(len(self.file_paths) / self._batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"batch index {index} out of range for {len(self)} batches")
        picked = self._order[index * self._batch_size:(index + 1) * self._batch_size]
        images = np.stack([self._load(self.file_paths[i]) for i in picked])
        if self._data_format == "channels_first":
            images = np.ascontiguousarray(images.transpose(0, 3, 1, 2))
        if self._label_mode is None:
            return images
        labels = self._labels[picked]
        if self._label_mode == "binary":
            return images, labels.astype(np.float32).reshape(-1, 1)
        if self._label_mode == "categorical":
            return images, np.eye(len(self.class_names), dtype=np.float32)[labels]
        return images, labels.astype(np.int32)

    def on_epoch_end(self):
        if self._shuffle:
            self._order = self._rng.permutation(len(self.file_paths))


def image_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None, color_mode="rgb",
                                 batch_size=32, image_size=(256, 256), shuffle=True, seed=None, validation_split=None,
                                 subset=None, interpolation="bilinear", follow_links=False, crop_to_aspect_ratio=False,
                                 pad_to_aspect_ratio=False, data_format=None, verbose=True):
    """Batches of images from ``directory/<class>/...`` with labels from the class folders (Keras 3's arguments;
    see the module docstring). Returns an ``ImageDirectoryDataset``, or a (training, validation) pair with
    ``subset="both"``."""
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(f'`labels` argument should be a list/tuple of integer labels, or "inferred", or None. '
                             f"Received: labels={labels}")
        if class_names:
            raise ValueError(f'You can only pass `class_names` if `labels="inferred"`. Received: labels={labels}, '
                             f"and class_names={class_names}")
    if label_mode not in LABEL_MODES:
        raise ValueError(f"`label_mode` argument must be one of {LABEL_MODES}. Received: label_mode={label_mode}")
    if labels is None or label_mode is None:
        labels = label_mode = None
    if color_mode not in CHANNELS:
        raise ValueError(f"`color_mode` must be one of {sorted(CHANNELS)}. Received: color_mode={color_mode}")
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    if not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError(f"Invalid `image_size` value. Expected a tuple of 2 integers. Received: "
                         f"image_size={image_size}")
    if str(interpolation).lower() not in INTERPOLATIONS:
        raise ValueError(f"Argument `interpolation` should be one of {INTERPOLATIONS} (Keras' area, lanczos and "
                         f"gaussian resizing are not available). Received: interpolation={interpolation}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"image_dataset_from_directory: batch_size must be a positive int (unbatched datasets, "
                         f"batch_size=None, are not supported), got {batch_size!r}")
    if data_format not in (None, "channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got {data_format!r}")
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1, received: {validation_split}")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(f'`subset` must be either "training", "validation" or "both", received: {subset}')
    if validation_split and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must provide a `seed` argument, "
                         "to make sure that there is no overlap between the training and validation subset.")
    if seed is None:
        seed = np.random.randint(1e6)
    directory = os.fspath(directory)
    paths, label_array, class_names = index_directory(directory, labels, class_names, shuffle, seed, follow_links)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(f'When passing `label_mode="binary"`, there must be exactly 2 class_names. Received: '
                         f"class_names={class_names}")
    if verbose:
        found = f"Found {len(paths)} files" + ("" if label_array is None else f" belonging to {len(class_names)} "
                                                                             "classes")
        print(found + ".")

    from ..layers.resizing import Resizing

    # named here, so that it takes no number from the user's layers' automatic names
    resize = Resizing(int(image_size[0]), int(image_size[1]), interpolation=str(interpolation).lower(),
                      crop_to_aspect_ratio=crop_to_aspect_ratio, pad_to_aspect_ratio=pad_to_aspect_ratio,
                      name="image_dataset_from_directory_resizing")

    def load(path):
        return load_image(path, color_mode, resize)

    def make(part, shuffle_batches):
        part_paths, part_labels = split(paths, label_array, validation_split, part)
        if not part_paths:
            what = {"training": "training ", "validation": "validation "}.get(part, "")
            raise ValueError(f"No {what}images found in directory {directory}. Allowed formats: {ALLOWLIST_FORMATS}")
        if verbose and validation_split:
            print(f"Using {len(part_paths)} files for {part}.")
        return ImageDirectoryDataset(part_paths, part_labels, class_names, label_mode, batch_size, shuffle_batches,
                                     seed, load, data_format or "channels_last")

    if subset == "both":
        return make("training", shuffle), make("validation", False)
    return make(subset, shuffle)
