"""AlexNet (Krizhevsky, Sutskever and Hinton, 2012): torchvision's ``alexnet`` and the paper's original layout.

``AlexNet`` is torchvision's variant (64-192-384-256-256 channels, no response normalization, adaptive average pool
to 6x6, so any input of at least 63x63 works). ``AlexNetLRN`` is the paper's single-tower layout as the lecture
notes draw it: 96-256-384-384-256 channels, local response normalization (size 5, alpha 1e-4, beta 0.75, k 2)
after the first two ReLUs, overlapping 3x3 stride-2 max pooling, and a 227x227 input giving a 6x6x256 feature map.
"""

from ...ops import flatten
from ...nn import AdaptiveAvgPool2d, Conv2d, Dropout, Linear, LocalResponseNorm, MaxPool2d, Module, ReLU, Sequential
from ._common import check_image_input, load_weights


def _classifier(num_classes, dropout):
    return Sequential(
        Dropout(p=dropout), Linear(256 * 6 * 6, 4096), ReLU(inplace=True),
        Dropout(p=dropout), Linear(4096, 4096), ReLU(inplace=True),
        Linear(4096, num_classes),
    )


class AlexNet(Module):
    """torchvision's AlexNet: (N, in_channels, H, W) with H, W >= 63 -> (N, num_classes) logits."""

    min_size = 63

    def __init__(self, num_classes=1000, dropout=0.5, in_channels=3):
        super().__init__()
        self.in_channels = in_channels
        self.features = Sequential(
            Conv2d(in_channels, 64, kernel_size=11, stride=4, padding=2), ReLU(inplace=True),
            MaxPool2d(kernel_size=3, stride=2),
            Conv2d(64, 192, kernel_size=5, padding=2), ReLU(inplace=True),
            MaxPool2d(kernel_size=3, stride=2),
            Conv2d(192, 384, kernel_size=3, padding=1), ReLU(inplace=True),
            Conv2d(384, 256, kernel_size=3, padding=1), ReLU(inplace=True),
            Conv2d(256, 256, kernel_size=3, padding=1), ReLU(inplace=True),
            MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = AdaptiveAvgPool2d((6, 6))
        self.classifier = _classifier(num_classes, dropout)

    def forward(self, x):
        check_image_input(self, x, self.in_channels, self.min_size)
        x = self.avgpool(self.features(x))
        return self.classifier(flatten(x, 1))


class AlexNetLRN(Module):
    """The original AlexNet with local response normalization: (N, in_channels, 227, 227) -> (N, num_classes).

    Inputs of 227 to 258 pixels a side all give the 6x6 feature map the classifier expects.
    """

    min_size, max_size = 227, 258

    def __init__(self, num_classes=1000, dropout=0.5, in_channels=3):
        super().__init__()
        self.in_channels = in_channels
        self.features = Sequential(
            Conv2d(in_channels, 96, kernel_size=11, stride=4), ReLU(inplace=True),
            LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0), MaxPool2d(kernel_size=3, stride=2),
            Conv2d(96, 256, kernel_size=5, padding=2), ReLU(inplace=True),
            LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0), MaxPool2d(kernel_size=3, stride=2),
            Conv2d(256, 384, kernel_size=3, padding=1), ReLU(inplace=True),
            Conv2d(384, 384, kernel_size=3, padding=1), ReLU(inplace=True),
            Conv2d(384, 256, kernel_size=3, padding=1), ReLU(inplace=True),
            MaxPool2d(kernel_size=3, stride=2),
        )
        self.classifier = _classifier(num_classes, dropout)

    def forward(self, x):
        check_image_input(self, x, self.in_channels, self.min_size, self.max_size,
                          hint=" (the classifier expects a 6x6 feature map, which 227x227 to 258x258 inputs give)")
        return self.classifier(flatten(self.features(x), 1))


def alexnet(*, weights=None, **kwargs):
    """torchvision's AlexNet (keywords: num_classes, dropout, in_channels); ``weights``: None or a path to a
    safetensors state_dict with torchvision's keys."""
    return load_weights(AlexNet(**kwargs), weights)


def alexnet_lrn(*, weights=None, **kwargs):
    """The original 227x227 AlexNet with local response normalization (keywords as ``alexnet``)."""
    return load_weights(AlexNetLRN(**kwargs), weights)
