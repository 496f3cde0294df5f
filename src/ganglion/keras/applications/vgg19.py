"""``keras.applications.vgg19``: ``VGG19`` and its ``preprocess_input`` ("caffe" mode). ``decode_predictions`` is
not provided: it needs ImageNet's class index file, which Keras downloads."""

from .imagenet_utils import preprocess_caffe as preprocess_input
from .vgg import VGG19

__all__ = ["VGG19", "preprocess_input"]
