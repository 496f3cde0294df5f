"""``keras.applications``: Keras 3's image models with its function names, signatures and layer names, built from
ganglion's Keras layers over the engine's ``nn`` modules (the modules ``ganglion.vision.models`` is made of).
Channels-last inputs (N, H, W, C), as Keras.

- ``VGG16``, ``VGG19``, ``ResNet50``: as ``keras.applications``; ``model.set_weights(keras_model.get_weights())``
  copies a Keras 3 model's weights and the outputs agree.
- ``ResNet18``, ``ResNet34``: ganglion extras (Keras has no such functions): torchvision's ResNet-18/34 with Keras'
  signature and naming; torchvision state_dicts load into them.
- ``vgg16``/``vgg19``/``resnet50``/``resnet``: the modules with ``preprocess_input`` ("caffe" mode);
  ``imagenet_utils.preprocess_input`` takes mode "caffe", "tf" or "torch".

Differences from Keras: ``weights`` defaults to None, and is None or the path of a safetensors file (from
``model.save_weights``, or a torchvision state_dict converted with ``ganglion convert``); "imagenet" is refused,
because ganglion downloads nothing. ``decode_predictions`` is not provided (it needs ImageNet's class index file,
a download). AlexNet and GoogLeNet are in ``ganglion.vision.models`` only (channels-first, PyTorch face).
"""

from . import imagenet_utils, resnet, resnet50, vgg16, vgg19
from .resnet import ResNet18, ResNet34, ResNet50
from .vgg import VGG16, VGG19

__all__ = ["VGG16", "VGG19", "ResNet50", "ResNet18", "ResNet34", "imagenet_utils", "resnet", "resnet50", "vgg16",
           "vgg19"]
