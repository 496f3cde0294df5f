"""``keras.applications.resnet50``: ``ResNet50`` and its ``preprocess_input`` ("caffe" mode).
``decode_predictions`` is not provided: it needs ImageNet's class index file, which Keras downloads."""

from .resnet import ResNet50, preprocess_input

__all__ = ["ResNet50", "preprocess_input"]
