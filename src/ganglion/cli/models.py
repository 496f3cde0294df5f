"""The networks ``ganglion train --model`` builds, each ending in a softmax so a saved model gives probabilities:

- ``mlp``: Linear -> ReLU per hidden width (``--hidden 8,6``: the notes' iris network 4-8-6-3) -> Linear -> Softmax;
- ``lenet``, ``vgg11``, ``resnet18``: ``ganglion.vision.models`` (torchvision's layouts and state_dict keys) on
  images, followed by a Softmax.

A model file describes its architecture as JSON (``ganglion.io``), which knows Sequential, Linear and the
activations. The image networks are made describable here: ``LeNet5``, ``VGG11`` and ``ResNet18`` are the vision
models with constructors of JSON arguments, registered with ``ganglion.io.register`` under the names
``ganglion.cli.LeNet5`` and so on. Importing ``ganglion.cli`` registers them, so ``ganglion.io.load_model`` reads
such a file in Python after ``import ganglion.cli``.
"""

from .. import nn
from ..io import register
from ..vision.models.lenet import LeNet
from ..vision.models.resnet import BasicBlock, ResNet
from ..vision.models.vgg import VGG, cfgs, make_layers

MODELS = ("mlp", "lenet", "vgg11", "resnet18")
IMAGE_MODELS = ("lenet", "vgg11", "resnet18")
MAX_CLASSES = 100_000  # a model file asking for more is refused before any layer is allocated


def _check_head(name, num_classes, in_channels):
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or not 2 <= num_classes <= MAX_CLASSES:
        raise ValueError(f"{name}: num_classes must be an int from 2 to {MAX_CLASSES}, got {num_classes!r}")
    if in_channels not in (1, 3):
        raise ValueError(f"{name}: in_channels must be 1 or 3, got {in_channels!r}")


class LeNet5(LeNet):
    """LeNet-5 with ReLU activations: (N, C, 28..31, 28..31) -> (N, num_classes) logits."""

    def __init__(self, num_classes, in_channels):
        _check_head("LeNet5", num_classes, in_channels)
        super().__init__(num_classes=num_classes, in_channels=in_channels, activation="relu")


class VGG11(VGG):
    """torchvision's vgg11 (configuration A): (N, C, H >= 32, W >= 32) -> (N, num_classes) logits."""

    def __init__(self, num_classes, in_channels):
        _check_head("VGG11", num_classes, in_channels)
        super().__init__(make_layers(cfgs["A"], in_channels=in_channels), num_classes=num_classes)


class ResNet18(ResNet):
    """torchvision's resnet18: (N, C, H, W) -> (N, num_classes) logits. ``cifar_stem``: a 3x3 stride-1 stem without
    max pool, for small images."""

    def __init__(self, num_classes, in_channels, cifar_stem):
        _check_head("ResNet18", num_classes, in_channels)
        super().__init__(BasicBlock, [2, 2, 2, 2], num_classes=num_classes, in_channels=in_channels,
                         cifar_stem=bool(cifar_stem))


register("ganglion.cli.LeNet5", LeNet5, lambda m: {"num_classes": m.classifier[-1].out_features,
                                                   "in_channels": m.in_channels})
register("ganglion.cli.VGG11", VGG11, lambda m: {"num_classes": m.classifier[-1].out_features,
                                                 "in_channels": m.in_channels})
register("ganglion.cli.ResNet18", ResNet18, lambda m: {"num_classes": m.fc.out_features,
                                                       "in_channels": m.in_channels, "cifar_stem": m.cifar_stem})


def image_size(model, height, width):
    """The side the images are resized to for ``model``: LeNet takes 28 to 31, VGG at least 32, ResNet any."""
    side = max(height, width)
    if model == "lenet":
        return side if 28 <= side <= 31 else 28
    if model == "vgg11":
        return max(side, 32)
    return side


def build(model, input_shape, num_classes, hidden=(8, 6)):
    """The network for samples of ``input_shape`` ((F,) or (C, H, W)): a Sequential whose last layer is a Softmax
    over ``num_classes``; ``model[:-1]`` gives the logits."""
    if model == "mlp":
        layers, width = [], input_shape[0]
        for units in hidden:
            layers += [nn.Linear(width, units), nn.ReLU()]
            width = units
        return nn.Sequential(*layers, nn.Linear(width, num_classes), nn.Softmax(dim=1))
    channels, height, _ = input_shape
    if model == "lenet":
        net = LeNet5(num_classes, channels)
    elif model == "vgg11":
        net = VGG11(num_classes, channels)
    elif model == "resnet18":
        net = ResNet18(num_classes, channels, cifar_stem=height < 64)
    else:
        raise ValueError(f"unknown model {model!r}; the models are {', '.join(MODELS)}")
    return nn.Sequential(net, nn.Softmax(dim=1))
