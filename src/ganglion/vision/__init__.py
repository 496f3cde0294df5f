"""``ganglion.vision``: computer-vision models with torchvision's names, module structure and ``state_dict`` keys.

``ganglion.vision.models`` holds the classic CNN zoo (LeNet, AlexNet, VGG, GoogLeNet, ResNet) built from
``ganglion.nn`` layers, so a ``state_dict`` converted from torchvision loads key for key.
"""

from . import models

__all__ = ["models"]
