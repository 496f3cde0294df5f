"""GoogLeNet / Inception v1 (Szegedy et al., 2014) with torchvision's modules, names and keys.

Every convolution is a ``BasicConv2d`` (conv without bias -> BatchNorm2d(eps=1e-3) -> ReLU), as in torchvision's
batch-normalized variant. An ``Inception`` block runs four branches on the same input and concatenates them along
channels: 1x1 | 1x1 -> 3x3 | 1x1 -> "5x5" | 3x3 max pool -> 1x1. (torchvision's third branch uses a 3x3 kernel, a
known slip kept for compatibility with its weights; so does this one.) Two ``InceptionAux`` heads, after 4a and 4d,
give extra logits in training mode when ``aux_logits``.
"""

from collections import namedtuple

from ...ops import cat, flatten
from ...nn import AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Dropout, Linear, MaxPool2d, Module, Sequential, init
from ...nn import functional as F
from ._common import check_image_input, read_weights

GoogLeNetOutputs = namedtuple("GoogLeNetOutputs", ["logits", "aux_logits2", "aux_logits1"])
GoogLeNetOutputs.__doc__ = """What GoogLeNet returns in training mode with ``aux_logits``: (main, aux after 4d,
aux after 4a) logits, each (N, num_classes)."""


class BasicConv2d(Module):
    """Conv2d (no bias) -> BatchNorm2d(eps=0.001) -> ReLU: (N, in_channels, H, W) -> (N, out_channels, H', W')."""

    def __init__(self, in_channels, out_channels, **kwargs):
        super().__init__()
        self.conv = Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class Inception(Module):
    """Four parallel branches concatenated: (N, in_channels, H, W) -> (N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W)."""

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__()
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = Sequential(BasicConv2d(in_channels, ch3x3red, kernel_size=1),
                                  BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1))
        self.branch3 = Sequential(BasicConv2d(in_channels, ch5x5red, kernel_size=1),
                                  BasicConv2d(ch5x5red, ch5x5, kernel_size=3, padding=1))
        self.branch4 = Sequential(MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
                                  BasicConv2d(in_channels, pool_proj, kernel_size=1))

    def forward(self, x):
        return cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class InceptionAux(Module):
    """Auxiliary classifier: adaptive avg-pool to 4x4 -> 1x1 conv to 128 -> 2048 -> 1024 -> num_classes.
    (N, in_channels, H, W) -> (N, num_classes)."""

    def __init__(self, in_channels, num_classes, dropout=0.7):
        super().__init__()
        self.conv = BasicConv2d(in_channels, 128, kernel_size=1)
        self.fc1 = Linear(2048, 1024)
        self.fc2 = Linear(1024, num_classes)
        self.dropout = Dropout(p=dropout)

    def forward(self, x):
        x = self.conv(F.adaptive_avg_pool2d(x, (4, 4)))
        x = F.relu(self.fc1(flatten(x, 1)))
        return self.fc2(self.dropout(x))


class GoogLeNet(Module):
    """torchvision's GoogLeNet: (N, in_channels, H, W) with H, W >= 15 -> (N, num_classes) logits, or
    ``GoogLeNetOutputs(logits, aux_logits2, aux_logits1)`` in training mode when ``aux_logits``.

    ``transform_input``: map inputs normalized with ImageNet's mean and std to the (x - 0.5) / 0.5 scaling the
    original weights were trained on (3 channels only). ``init_weights``: torchvision's truncated normal (std 0.01)
    for every conv and linear weight; False keeps the layers' default initialization.
    """

    min_size = 15

    def __init__(self, num_classes=1000, aux_logits=True, transform_input=False, init_weights=True, dropout=0.2,
                 dropout_aux=0.7, in_channels=3):
        super().__init__()
        if transform_input and in_channels != 3:
            raise ValueError(f"GoogLeNet: transform_input needs in_channels=3 (ImageNet's RGB), got {in_channels}")
        self.aux_logits, self.transform_input, self.in_channels = aux_logits, transform_input, in_channels

        self.conv1 = BasicConv2d(in_channels, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, kernel_size=1)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = MaxPool2d(3, stride=2, ceil_mode=True)

        self.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = MaxPool2d(3, stride=2, ceil_mode=True)

        self.inception4a = Inception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = Inception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = Inception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = Inception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = Inception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = MaxPool2d(2, stride=2, ceil_mode=True)

        self.inception5a = Inception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = Inception(832, 384, 192, 384, 48, 128, 128)

        self.aux1 = InceptionAux(512, num_classes, dropout=dropout_aux) if aux_logits else None
        self.aux2 = InceptionAux(528, num_classes, dropout=dropout_aux) if aux_logits else None

        self.avgpool = AdaptiveAvgPool2d((1, 1))
        self.dropout = Dropout(p=dropout)
        self.fc = Linear(1024, num_classes)

        if init_weights:
            for m in self.modules():
                if isinstance(m, (Conv2d, Linear)):
                    init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)
                elif isinstance(m, BatchNorm2d):
                    init.constant_(m.weight, 1)
                    init.constant_(m.bias, 0)

    def _transform_input(self, x):
        # channel c: x * std_c / 0.5 + (mean_c - 0.5) / 0.5, ImageNet's mean and std
        channels = [x[:, c:c + 1] * (std / 0.5) + (mean - 0.5) / 0.5
                    for c, (mean, std) in enumerate(((0.485, 0.229), (0.456, 0.224), (0.406, 0.225)))]
        return cat(channels, 1)

    def forward(self, x):
        check_image_input(self, x, self.in_channels, self.min_size)
        if self.transform_input:
            x = self._transform_input(x)
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4a(x)
        with_aux = self.training and self.aux_logits and self.aux1 is not None
        aux1 = self.aux1(x) if with_aux else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if with_aux else None
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        x = self.fc(self.dropout(flatten(self.avgpool(x), 1)))
        return GoogLeNetOutputs(x, aux2, aux1) if with_aux else x


def googlenet(*, weights=None, **kwargs):
    """torchvision's GoogLeNet (keywords: num_classes, aux_logits, transform_input, init_weights, dropout,
    dropout_aux, in_channels); ``weights``: None or a path to a safetensors state_dict with torchvision's keys.

    As in torchvision, ``aux_logits=False`` with a file that holds the auxiliary heads (torchvision's ImageNet
    checkpoint does) loads them and then drops them. torchvision also turns ``transform_input`` on for its ImageNet
    weights; with a file converted from them, pass ``transform_input=True`` for the same results.
    """
    if weights is None:
        return GoogLeNet(**kwargs)
    kwargs.setdefault("init_weights", False)
    state = read_weights("GoogLeNet", weights)
    drop_aux = not kwargs.get("aux_logits", True) and any(k.startswith(("aux1.", "aux2.")) for k in state)
    if drop_aux:
        kwargs["aux_logits"] = True
    model = GoogLeNet(**kwargs)
    model.load_state_dict(state)
    if drop_aux:
        model.aux_logits, model.aux1, model.aux2 = False, None, None
    return model
