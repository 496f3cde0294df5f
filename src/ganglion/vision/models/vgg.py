"""VGG (Simonyan and Zisserman, 2014): torchvision's ``vgg11`` ... ``vgg19_bn`` and the lecture notes' builders.

A VGG network is blocks of 3x3 convolutions (padding 1, so the size is kept) each closed by a 2x2 max pool that
halves it, then three fully connected layers. torchvision writes the blocks as one flat ``features`` Sequential from
a config list (``cfgs``: a number is a conv with that many channels, "M" a max pool); the notes write
``vgg_block(num_convs, in_channels, out_channels)`` and ``vgg_net(conv_arch)`` (the notes' ``vgg``) with
conv_arch = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512)). Both are here, each with its own keys.
"""

from ...ops import flatten
from ...nn import (AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, Module, ReLU,
                   Sequential, init)
from ._common import check_image_input, load_weights

# torchvision's configurations: A = VGG-11, B = VGG-13, D = VGG-16, E = VGG-19
cfgs = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def _first(value):
    """A pooling argument as one number: an int, or the first entry of a (height, width) pair."""
    return value if isinstance(value, int) else value[0]


def _smallest_input(features):
    """The smallest H (= W) that leaves every max pool in ``features`` a non-empty output: 32 for torchvision's
    configurations (five 2x2 stride-2 pools). Worked backwards from a 1x1 result: a pool with kernel k, stride s and
    padding p needs (out - 1) s + k - 2p inputs for ``out`` outputs."""
    needed = 1
    for module in reversed(list(features.modules())):
        if isinstance(module, MaxPool2d):
            stride, kernel, padding = _first(module.stride), _first(module.kernel_size), _first(module.padding)
            needed = max((needed - 1) * stride + kernel - 2 * padding, 1)
    return needed


class VGG(Module):
    """torchvision's VGG around a ``features`` Sequential: (N, C, H, W) -> (N, num_classes) logits.

    After ``features`` (512 channels), an adaptive average pool to 7x7 and the classifier 25088 -> 4096 -> 4096 ->
    num_classes with ReLU and dropout. With torchvision's configurations H and W must be at least 32.
    """

    def __init__(self, features, num_classes=1000, init_weights=True, dropout=0.5):
        super().__init__()
        convs = [m for m in features.modules() if isinstance(m, Conv2d)]
        if not convs:
            raise ValueError("VGG: features must contain at least one Conv2d")
        self.in_channels = convs[0].in_channels
        self.min_size = _smallest_input(features)
        self.features = features
        self.avgpool = AdaptiveAvgPool2d((7, 7))
        self.classifier = Sequential(
            Linear(512 * 7 * 7, 4096), ReLU(True), Dropout(p=dropout),
            Linear(4096, 4096), ReLU(True), Dropout(p=dropout),
            Linear(4096, num_classes),
        )
        if init_weights:
            for m in self.modules():
                if isinstance(m, Conv2d):
                    init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        init.constant_(m.bias, 0)
                elif isinstance(m, BatchNorm2d):
                    init.constant_(m.weight, 1)
                    init.constant_(m.bias, 0)
                elif isinstance(m, Linear):
                    init.normal_(m.weight, 0, 0.01)
                    init.constant_(m.bias, 0)

    def forward(self, x):
        check_image_input(self, x, self.in_channels, self.min_size)
        x = self.avgpool(self.features(x))
        return self.classifier(flatten(x, 1))


def make_layers(cfg, batch_norm=False, in_channels=3):
    """torchvision's ``features``: for each entry of ``cfg``, "M" -> MaxPool2d(2, 2), v -> Conv2d(c, v, 3,
    padding=1) [+ BatchNorm2d(v)] + ReLU."""
    layers = []
    for v in cfg:
        if v == "M":
            layers.append(MaxPool2d(kernel_size=2, stride=2))
            continue
        conv = Conv2d(in_channels, v, kernel_size=3, padding=1)
        layers += [conv, BatchNorm2d(v), ReLU(inplace=True)] if batch_norm else [conv, ReLU(inplace=True)]
        in_channels = v
    return Sequential(*layers)


def _vgg(cfg, batch_norm, weights, in_channels=3, **kwargs):
    if weights is not None:
        kwargs["init_weights"] = False  # the file overwrites every value
    model = VGG(make_layers(cfgs[cfg], batch_norm=batch_norm, in_channels=in_channels), **kwargs)
    return load_weights(model, weights)


def vgg11(*, weights=None, **kwargs):
    """VGG-11 (config A). Keywords: num_classes, in_channels, init_weights, dropout; ``weights``: None or a path."""
    return _vgg("A", False, weights, **kwargs)


def vgg11_bn(*, weights=None, **kwargs):
    """VGG-11 with batch normalization after every convolution."""
    return _vgg("A", True, weights, **kwargs)


def vgg13(*, weights=None, **kwargs):
    """VGG-13 (config B)."""
    return _vgg("B", False, weights, **kwargs)


def vgg13_bn(*, weights=None, **kwargs):
    """VGG-13 with batch normalization."""
    return _vgg("B", True, weights, **kwargs)


def vgg16(*, weights=None, **kwargs):
    """VGG-16 (config D)."""
    return _vgg("D", False, weights, **kwargs)


def vgg16_bn(*, weights=None, **kwargs):
    """VGG-16 with batch normalization."""
    return _vgg("D", True, weights, **kwargs)


def vgg19(*, weights=None, **kwargs):
    """VGG-19 (config E)."""
    return _vgg("E", False, weights, **kwargs)


def vgg19_bn(*, weights=None, **kwargs):
    """VGG-19 with batch normalization."""
    return _vgg("E", True, weights, **kwargs)


# ------------------------------------------------------------------------------------- the lecture notes' builders
def vgg_block(num_convs, in_channels, out_channels):
    """``num_convs`` x (Conv2d(3x3, padding 1) + ReLU) then MaxPool2d(2, 2): (N, in, H, W) -> (N, out, H/2, W/2)."""
    layers = []
    for _ in range(num_convs):
        layers += [Conv2d(in_channels, out_channels, kernel_size=3, padding=1), ReLU()]
        in_channels = out_channels
    layers.append(MaxPool2d(kernel_size=2, stride=2))
    return Sequential(*layers)


def vgg_net(conv_arch, num_classes=10, in_channels=1, image_size=224, hidden_features=4096, dropout=0.5):
    """The notes' VGG as one Sequential: a ``vgg_block`` per (num_convs, out_channels) of ``conv_arch``, Flatten,
    then Linear(c * s * s, hidden) -> ReLU -> Dropout -> Linear(hidden, hidden) -> ReLU -> Dropout ->
    Linear(hidden, num_classes), where c is the last block's channels and s = image_size / 2^len(conv_arch).

    (N, in_channels, image_size, image_size) -> (N, num_classes). The notes' network is
    ``vgg_net(((1, 64), (1, 128), (2, 256), (2, 512), (2, 512)))`` on 224x224 Fashion-MNIST images (VGG-11); it is
    the notes' ``vgg(conv_arch)``, named so that it does not hide the ``vgg`` module (torchvision's layout).
    """
    if not conv_arch:
        raise ValueError("vgg: conv_arch must list at least one (num_convs, out_channels) block, got an empty one")
    side = image_size // 2 ** len(conv_arch)
    if side < 1:
        raise ValueError(f"vgg: image_size {image_size} is too small for {len(conv_arch)} blocks (each halves it); "
                         f"the minimum is {2 ** len(conv_arch)}")
    blocks = []
    for num_convs, out_channels in conv_arch:
        blocks.append(vgg_block(num_convs, in_channels, out_channels))
        in_channels = out_channels
    return Sequential(
        *blocks, Flatten(),
        Linear(in_channels * side * side, hidden_features), ReLU(), Dropout(dropout),
        Linear(hidden_features, hidden_features), ReLU(), Dropout(dropout),
        Linear(hidden_features, num_classes),
    )
