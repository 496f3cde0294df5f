"""``keras.preprocessing``: the legacy module paths ``keras.preprocessing.sequence.pad_sequences`` and
``keras.preprocessing.image_dataset_from_directory`` (the same function as ``keras.utils``')."""

from . import sequence  # noqa: F401
from ..utils.image_dataset import image_dataset_from_directory  # noqa: F401
