"""LeNet-5 (LeCun et al., 1998) in the layout of Dive into Deep Learning, chapter 7.6.

    conv 5x5, 6 channels (padding 2) -> act -> avg-pool 2 -> conv 5x5, 16 channels -> act -> avg-pool 2
    -> flatten (16 * 5 * 5 = 400) -> linear 120 -> act -> linear 84 -> act -> linear num_classes

The activation is the original sigmoid by default; ``activation="relu"`` trains faster. Pooling is average pooling
(the original's subsampling layers). torchvision has no LeNet; the keys are ``features.*`` and ``classifier.*``
as in its other models.
"""

from ...ops import flatten
from ...nn import AvgPool2d, Conv2d, Linear, Module, ReLU, Sequential, Sigmoid
from ._common import check_image_input, load_weights

_ACTIVATIONS = {"sigmoid": Sigmoid, "relu": ReLU}


class LeNet(Module):
    """LeNet-5: (N, in_channels, 28, 28) -> (N, num_classes) logits.

    Inputs of 28 to 31 pixels a side all give the 5x5 feature map the classifier expects (28 is MNIST's size).
    ``activation``: "sigmoid" (the original) or "relu".
    """

    min_size, max_size = 28, 31

    def __init__(self, num_classes=10, in_channels=1, activation="sigmoid"):
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(f"LeNet: activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
        act = _ACTIVATIONS[activation]
        self.in_channels, self.activation = in_channels, activation
        self.features = Sequential(
            Conv2d(in_channels, 6, kernel_size=5, padding=2), act(), AvgPool2d(kernel_size=2, stride=2),
            Conv2d(6, 16, kernel_size=5), act(), AvgPool2d(kernel_size=2, stride=2),
        )
        self.classifier = Sequential(Linear(16 * 5 * 5, 120), act(), Linear(120, 84), act(), Linear(84, num_classes))

    def forward(self, x):
        check_image_input(self, x, self.in_channels, self.min_size, self.max_size,
                          hint=" (the classifier expects a 5x5 feature map, which 28x28 to 31x31 inputs give)")
        return self.classifier(flatten(self.features(x), 1))


def lenet(*, weights=None, **kwargs):
    """LeNet-5 (see ``LeNet`` for the keyword arguments); ``weights``: None or a path to a safetensors state_dict."""
    return load_weights(LeNet(**kwargs), weights)
