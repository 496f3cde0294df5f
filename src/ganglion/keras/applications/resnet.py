"""ResNet50 as Keras 3 builds it (``keras.applications.ResNet50``), and ResNet18/ResNet34 as ganglion extras with
torchvision's architecture (Keras has no ResNet18 or ResNet34 function).

Keras' ResNet50 is the original ("v1") bottleneck network: every convolution has a bias, batch norms use
epsilon 1.001e-5, and a stage's stride sits on the block's first 1x1 convolution. torchvision's ``resnet50`` (v1.5)
puts the stride on the 3x3 convolution and has no conv biases, so the two hold different weights: a Keras 3
ResNet50 copies in with ``set_weights(keras_model.get_weights())``, a torchvision resnet50 does not fit (use
``ganglion.vision.models.resnet50`` for those). Names, Keras': ``conv1_pad``, ``conv1_conv``, ``conv1_bn``,
``conv1_relu``, ``pool1_pad``, ``pool1_pool``, then ``conv{stage}_block{b}_{0|1|2|3}_{conv|bn}``,
``..._{1|2}_relu``, ``..._add``, ``..._out``; ``avg_pool`` and ``predictions`` on top.

ResNet18/34 are torchvision's basic-block networks written with the same Keras layers and the same naming
scheme (bias-free convolutions, epsilon 1e-5, Keras momentum 0.9 = torchvision's 0.1, stride on the first 3x3
convolution, padded symmetrically as torchvision does), so a torchvision ``resnet18``/``resnet34`` state_dict
converted with ``ganglion convert`` loads by name, and their outputs equal ``ganglion.vision.models.resnet18``'s.
"""

from ..layers import Activation, Add, BatchNormalization, Conv2D, MaxPooling2D, ZeroPadding2D
from ..layers import GlobalAveragePooling2D
from ..models import Model
from . import imagenet_utils
from ._torchvision import load_weights

MIN_SIZE = 32
KERAS_EPSILON = 1.001e-5  # Keras' ResNet batch norms
TORCH_EPSILON, TORCH_MOMENTUM = 1e-5, 0.9  # torchvision's eps and momentum 0.1, in Keras' convention


# ------------------------------------------------------------------------------------------ Keras' ResNet50
def bottleneck_block(x, filters, stride=1, conv_shortcut=True, name=None):
    """Keras' ``residual_block_v1``: 1x1 (stride) -> 3x3 -> 1x1 (4 filters), plus the shortcut (a 1x1 conv + BN
    with ``conv_shortcut``, else the identity), then ReLU. (N, H, W, C) -> (N, H/stride, W/stride, 4 filters)."""
    if conv_shortcut:
        shortcut = Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = BatchNormalization(axis=3, epsilon=KERAS_EPSILON, name=f"{name}_0_bn")(shortcut)
    else:
        shortcut = x
    x = Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = BatchNormalization(axis=3, epsilon=KERAS_EPSILON, name=f"{name}_1_bn")(x)
    x = Activation("relu", name=f"{name}_1_relu")(x)
    x = Conv2D(filters, 3, padding="same", name=f"{name}_2_conv")(x)
    x = BatchNormalization(axis=3, epsilon=KERAS_EPSILON, name=f"{name}_2_bn")(x)
    x = Activation("relu", name=f"{name}_2_relu")(x)
    x = Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    x = BatchNormalization(axis=3, epsilon=KERAS_EPSILON, name=f"{name}_3_bn")(x)
    x = Add(name=f"{name}_add")([shortcut, x])
    return Activation("relu", name=f"{name}_out")(x)


def bottleneck_stack(x, filters, blocks, stride1=2, name=None):
    """Keras' ``stack_residual_blocks_v1``: a projection block carrying ``stride1``, then identity blocks."""
    x = bottleneck_block(x, filters, stride=stride1, name=f"{name}_block1")
    for i in range(2, blocks + 1):
        x = bottleneck_block(x, filters, conv_shortcut=False, name=f"{name}_block{i}")
    return x


# ----------------------------------------------------------------------------- torchvision's basic-block ResNets
def _torch_bn(x, name):
    return BatchNormalization(axis=3, epsilon=TORCH_EPSILON, momentum=TORCH_MOMENTUM, name=name)(x)


def _torch_conv3x3(x, filters, stride, name):
    """torchvision's conv3x3 (padding 1 on every side): "same" at stride 1; explicit padding + "valid" at stride
    2, where TensorFlow's "same" would pad only the bottom and right."""
    if stride == 1:
        return Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = ZeroPadding2D(1, name=f"{name}_pad")(x)
    return Conv2D(filters, 3, strides=stride, use_bias=False, name=f"{name}_conv")(x)


def basic_block(x, filters, stride=1, conv_shortcut=False, name=None):
    """torchvision's ``BasicBlock``: relu(bn(conv3x3(relu(bn(conv3x3(x, stride))))) + shortcut(x)), the
    shortcut a strided 1x1 conv + BN where the size or width changes. (N, H, W, C) -> (N, H/stride, W/stride,
    filters)."""
    if conv_shortcut:
        shortcut = Conv2D(filters, 1, strides=stride, use_bias=False, name=f"{name}_0_conv")(x)
        shortcut = _torch_bn(shortcut, f"{name}_0_bn")
    else:
        shortcut = x
    x = _torch_conv3x3(x, filters, stride, f"{name}_1")
    x = Activation("relu", name=f"{name}_1_relu")(_torch_bn(x, f"{name}_1_bn"))
    x = _torch_bn(_torch_conv3x3(x, filters, 1, f"{name}_2"), f"{name}_2_bn")
    x = Add(name=f"{name}_add")([shortcut, x])
    return Activation("relu", name=f"{name}_out")(x)


def basic_stack(x, filters, blocks, stride1, name):
    x = basic_block(x, filters, stride=stride1, conv_shortcut=stride1 != 1 or x.shape[-1] != filters,
                    name=f"{name}_block1")
    for i in range(2, blocks + 1):
        x = basic_block(x, filters, name=f"{name}_block{i}")
    return x


def _torchvision_prefixes(model, state):
    """torchvision's keys for the basic-block extras: conv1/bn1, layer{s}.{b}.conv1/bn1/conv2/bn2/downsample.0/1,
    fc; the Keras name ``conv{s+1}_block{b+1}_...`` follows Keras' scheme."""
    prefixes = {"conv1_conv": "conv1", "conv1_bn": "bn1"}
    for layer in model.layers:
        parts = layer.name.split("_")
        if len(parts) != 4 or not parts[1].startswith("block") or parts[3] not in ("conv", "bn"):
            continue
        stage, block = int(parts[0][4:]) - 1, int(parts[1][5:]) - 1
        which = {("0", "conv"): "downsample.0", ("0", "bn"): "downsample.1"}.get(
            (parts[2], parts[3]), f"{parts[3]}{parts[2]}")
        prefixes[layer.name] = f"layer{stage}.{block}.{which}"
    if any(layer.name == "predictions" for layer in model.layers):
        prefixes["predictions"] = "fc"
        return prefixes, {}, ()
    return prefixes, {}, ("fc.",)


# ------------------------------------------------------------------------------------------------ the network
def build_resnet(label, stack_fn, use_bias, torch_layout, include_top, weights, input_tensor, input_shape, pooling,
                 classes, classifier_activation, name):
    """Stem (7x7/2 conv, BN, ReLU, 3x3/2 max pool) -> ``stack_fn`` -> global average pool + ``predictions`` (with
    the top) or ``pooling``. (N, H, W, 3) -> (N, classes); without the top (N, H/32, W/32, C) or (N, C)."""
    imagenet_utils.check_weights_arg(label, weights)
    imagenet_utils.check_head_args(label, include_top, pooling, classes, classifier_activation)
    input_shape = imagenet_utils.obtain_input_shape(label, input_shape, 224, MIN_SIZE, require_flatten=include_top)
    x, inputs = imagenet_utils.image_input(label, input_tensor, input_shape)
    x = ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(x)
    x = Conv2D(64, 7, strides=2, use_bias=use_bias, name="conv1_conv")(x)
    if torch_layout:
        x = _torch_bn(x, "conv1_bn")
    else:
        x = BatchNormalization(axis=3, epsilon=KERAS_EPSILON, name="conv1_bn")(x)
    x = Activation("relu", name="conv1_relu")(x)
    # zero padding equals torchvision's -inf padding here: the inputs are ReLU outputs, >= 0
    x = ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    x = stack_fn(x)
    if include_top:
        x = GlobalAveragePooling2D(name="avg_pool")(x)
        x = imagenet_utils.predictions(x, classes, classifier_activation)
    else:
        x = imagenet_utils.pooled(x, pooling, avg_name="avg_pool", max_name="max_pool")
    model = Model(inputs, x, name=name)
    return load_weights(model, weights, label, _torchvision_prefixes if torch_layout else None)


def ResNet50(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
             classifier_activation="softmax", name="resnet50"):
    """Keras 3's ``keras.applications.ResNet50`` (25,636,712 weights with the top, 1000 classes).
    Input (N, H, W, 3), H, W >= 32 -> (N, classes) probabilities (logits with ``classifier_activation=None``);
    without the top (N, ceil(H/32), ceil(W/32), 2048), or (N, 2048) with ``pooling`` "avg"/"max".

    Arguments as ``keras.applications.ResNet50``, except that ``weights`` defaults to None and is None or the path
    of a file from ``model.save_weights`` (torchvision's resnet50 is a different network; see the module
    docstring).
    """
    def stack_fn(x):
        x = bottleneck_stack(x, 64, 3, stride1=1, name="conv2")
        x = bottleneck_stack(x, 128, 4, name="conv3")
        x = bottleneck_stack(x, 256, 6, name="conv4")
        return bottleneck_stack(x, 512, 3, name="conv5")

    return build_resnet("ResNet50", stack_fn, True, False, include_top, weights, input_tensor, input_shape,
                        pooling, classes, classifier_activation, name)


def _basic_resnet(label, blocks, include_top, weights, input_tensor, input_shape, pooling, classes,
                  classifier_activation, name):
    def stack_fn(x):
        for stage, (filters, count) in enumerate(zip((64, 128, 256, 512), blocks), start=2):
            x = basic_stack(x, filters, count, stride1=1 if stage == 2 else 2, name=f"conv{stage}")
        return x

    return build_resnet(label, stack_fn, False, True, include_top, weights, input_tensor, input_shape, pooling,
                        classes, classifier_activation, name)


def ResNet18(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
             classifier_activation="softmax", name="resnet18"):
    """ganglion extra (Keras has no ResNet18): torchvision's ResNet-18 (basic blocks (2, 2, 2, 2), 11,689,512
    weights with the top) with Keras' signature and naming. (N, H, W, 3) -> (N, classes); without the top
    (N, H/32, W/32, 512) or (N, 512). ``weights``: None, a ``save_weights`` file, or a torchvision ``resnet18``
    state_dict converted with ``ganglion convert``."""
    return _basic_resnet("ResNet18", (2, 2, 2, 2), include_top, weights, input_tensor, input_shape, pooling, classes,
                         classifier_activation, name)


def ResNet34(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
             classifier_activation="softmax", name="resnet34"):
    """ganglion extra (Keras has no ResNet34): torchvision's ResNet-34 (basic blocks (3, 4, 6, 3)); as
    ``ResNet18`` otherwise."""
    return _basic_resnet("ResNet34", (3, 4, 6, 3), include_top, weights, input_tensor, input_shape, pooling, classes,
                         classifier_activation, name)


# Keras' ``resnet.preprocess_input`` / ``resnet50.preprocess_input``: "caffe" mode. torchvision's weights (the
# ResNet18/34 extras) expect ``imagenet_utils.preprocess_input(x, mode="torch")`` instead.
preprocess_input = imagenet_utils.preprocess_caffe
