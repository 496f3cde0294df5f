"""``keras.applications.vgg16``: ``VGG16`` and its ``preprocess_input`` ("caffe" mode). ``decode_predictions`` is
not provided: it needs ImageNet's class index file, which Keras downloads."""

from .imagenet_utils import preprocess_caffe as preprocess_input
from .vgg import VGG16

__all__ = ["VGG16", "preprocess_input"]
