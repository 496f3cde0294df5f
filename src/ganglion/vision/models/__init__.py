"""``ganglion.vision.models``: LeNet, AlexNet, VGG, GoogLeNet and ResNet with torchvision's constructors, module
structure and ``state_dict`` keys, so weights converted from torchvision load key for key.

Every constructor takes ``num_classes``, ``in_channels`` (3; LeNet 1) and ``weights`` (None, or a path to a
safetensors file holding a state_dict). A too-small input raises a ValueError naming the model and the minimum
size before any layer runs.
"""

from .alexnet import AlexNet, AlexNetLRN, alexnet, alexnet_lrn
from .googlenet import BasicConv2d, GoogLeNet, GoogLeNetOutputs, Inception, InceptionAux, googlenet
from .lenet import LeNet, lenet
from .resnet import BasicBlock, Bottleneck, ResNet, resnet18, resnet34, resnet50
from .vgg import (VGG, make_layers, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn,
                  vgg_block, vgg_net)

__all__ = [
    "LeNet", "lenet",
    "AlexNet", "AlexNetLRN", "alexnet", "alexnet_lrn",
    "VGG", "make_layers", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
    "vgg_block", "vgg_net",
    "BasicConv2d", "Inception", "InceptionAux", "GoogLeNet", "GoogLeNetOutputs", "googlenet",
    "BasicBlock", "Bottleneck", "ResNet", "resnet18", "resnet34", "resnet50",
]
