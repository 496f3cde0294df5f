"""ResNet (He et al., 2015) with torchvision's modules, names and keys: ``BasicBlock`` (two 3x3 convs, ResNet-18/34)
and ``Bottleneck`` (1x1 -> 3x3 -> 1x1 with 4x expansion, ResNet-50 and deeper).

A residual block computes relu(F(x) + shortcut(x)); the shortcut is the identity, or a strided 1x1 conv + batch norm
(``downsample``) where the block changes the size or the channel count.

Two additions to torchvision's signature, both off by default so the default models match torchvision key for key
and shape for shape: ``widths`` (the channels of the stem and of the four stages, torchvision's (64, 128, 256, 512))
makes small networks for fast experiments, and ``cifar_stem=True`` replaces the 7x7 stride-2 stem conv and its max
pool with one 3x3 stride-1 conv (the usual layout for 32x32 CIFAR images; ``maxpool`` becomes an Identity, so the
keys stay the same).
"""

from ...ops import flatten
from ...nn import AdaptiveAvgPool2d, BatchNorm2d, Conv2d, GroupNorm, Identity, Linear, MaxPool2d, Module, ReLU
from ...nn import Sequential, init
from ._common import check_image_input, load_weights


def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1):
    """3x3 convolution with padding ``dilation`` (keeps the size at stride 1), no bias."""
    return Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation, groups=groups, bias=False,
                  dilation=dilation)


def conv1x1(in_planes, out_planes, stride=1):
    """1x1 convolution, no bias."""
    return Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(Module):
    """relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)): (N, inplanes, H, W) -> (N, planes, H/stride, W/stride)."""

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1,
                 norm_layer=None):
        super().__init__()
        norm_layer = BatchNorm2d if norm_layer is None else norm_layer
        if groups != 1 or base_width != 64:
            raise ValueError(f"BasicBlock only supports groups=1 and base_width=64, got groups={groups}, "
                             f"base_width={base_width}")
        if dilation > 1:
            raise ValueError(f"BasicBlock only supports dilation=1, got {dilation} (use Bottleneck for dilation)")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(Module):
    """1x1 reduce -> 3x3 (carries the stride) -> 1x1 expand, plus the shortcut:
    (N, inplanes, H, W) -> (N, planes * 4, H/stride, W/stride). Inner width = planes * base_width / 64 * groups."""

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1,
                 norm_layer=None):
        super().__init__()
        norm_layer = BatchNorm2d if norm_layer is None else norm_layer
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(Module):
    """torchvision's ResNet: stem -> layer1..layer4 (``layers[i]`` blocks each, stride 2 from layer2 on) -> global
    average pool -> fc. (N, in_channels, H, W) -> (N, num_classes) logits; any H, W >= 1.

    ``widths``: channels of layer1..layer4 (the stem has widths[0]); ``cifar_stem``: 3x3 stride-1 stem, no max pool.
    ``zero_init_residual``: start each block's last BN scale at 0, so every block starts as the identity.
    """

    min_size = 1

    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False, groups=1, width_per_group=64,
                 replace_stride_with_dilation=None, norm_layer=None, in_channels=3, widths=(64, 128, 256, 512),
                 cifar_stem=False):
        super().__init__()
        if len(layers) != 4 or len(widths) != 4:
            raise ValueError(f"ResNet: layers and widths need 4 entries each (one per stage), got layers={layers}, "
                             f"widths={widths}")
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError("ResNet: replace_stride_with_dilation should be None or a 3-element tuple, got "
                             f"{replace_stride_with_dilation}")
        self._norm_layer = BatchNorm2d if norm_layer is None else norm_layer
        self.in_channels, self.cifar_stem = in_channels, cifar_stem
        self.inplanes, self.dilation = widths[0], 1
        self.groups, self.base_width = groups, width_per_group
        if cifar_stem:
            self.conv1 = Conv2d(in_channels, self.inplanes, kernel_size=3, stride=1, padding=1, bias=False)
        else:
            self.conv1 = Conv2d(in_channels, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = self._norm_layer(self.inplanes)
        self.relu = ReLU(inplace=True)
        self.maxpool = Identity() if cifar_stem else MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, widths[0], layers[0])
        self.layer2 = self._make_layer(block, widths[1], layers[1], stride=2, dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, widths[2], layers[2], stride=2, dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, widths[3], layers[3], stride=2, dilate=replace_stride_with_dilation[2])
        self.avgpool = AdaptiveAvgPool2d((1, 1))
        self.fc = Linear(widths[3] * block.expansion, num_classes)

        for m in self.modules():
            if isinstance(m, Conv2d):
                init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (BatchNorm2d, GroupNorm)):
                init.constant_(m.weight, 1)
                init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck) and m.bn3.weight is not None:
                    init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        """One stage: ``blocks`` blocks of ``planes`` channels (x expansion), the first carrying the stride."""
        norm_layer = self._norm_layer
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                    norm_layer(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width, previous_dilation,
                        norm_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups, base_width=self.base_width,
                                dilation=self.dilation, norm_layer=norm_layer))
        return Sequential(*layers)

    def forward(self, x):
        check_image_input(self, x, self.in_channels, self.min_size)
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(flatten(self.avgpool(x), 1))


def _resnet(block, layers, weights, **kwargs):
    return load_weights(ResNet(block, layers, **kwargs), weights)


def resnet18(*, weights=None, **kwargs):
    """ResNet-18: BasicBlock, (2, 2, 2, 2). Keywords as ``ResNet`` (num_classes, in_channels, widths, cifar_stem,
    zero_init_residual, ...); ``weights``: None or a path to a safetensors state_dict with torchvision's keys."""
    return _resnet(BasicBlock, [2, 2, 2, 2], weights, **kwargs)


def resnet34(*, weights=None, **kwargs):
    """ResNet-34: BasicBlock, (3, 4, 6, 3)."""
    return _resnet(BasicBlock, [3, 4, 6, 3], weights, **kwargs)


def resnet50(*, weights=None, **kwargs):
    """ResNet-50: Bottleneck, (3, 4, 6, 3)."""
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, **kwargs)
