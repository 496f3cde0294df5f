"""What every ``keras.applications`` constructor shares: Keras 3's argument checks (``weights``, ``classes``,
``pooling``, ``input_shape`` with its minimum size), the image input, the head, and ``preprocess_input``.

Input shapes are channels-last, as Keras: (height, width, channels) without the batch axis. ganglion downloads
nothing, so ``weights`` is None (the default here; Keras' default "imagenet" would download) or the path of a
safetensors file: weights saved by ``model.save_weights`` or a torchvision state_dict converted with
``ganglion convert`` (see ``_torchvision.py``). ``decode_predictions`` is not provided: it needs ImageNet's class
index file, which Keras downloads.
"""

import os

import numpy as np

from ...tensor import Tensor
from .. import activations
from ..layers import Dense, GlobalAveragePooling2D, GlobalMaxPooling2D, Input
from ..layers.input_layer import InputLayer, KerasTensor

POOLINGS = (None, "avg", "max")
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
TORCH_MEAN, TORCH_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


# ------------------------------------------------------------------------------------------------- arguments
def check_weights_arg(model, weights):
    """None, or the path of an existing file; "imagenet" is refused with the way to get a file (no downloads)."""
    if weights is None:
        return
    if isinstance(weights, str) and weights == "imagenet":
        raise ValueError(
            f"{model}: weights='imagenet' would need a download, and ganglion downloads nothing. Convert "
            f"torchvision's ImageNet checkpoint once with `ganglion convert IN.pth OUT.safetensors` and pass "
            f"weights='OUT.safetensors' (or pass a file written by model.save_weights), or weights=None for a "
            f"random initialization")
    if not isinstance(weights, (str, os.PathLike)):
        raise ValueError(f"{model}: the `weights` argument should be None or the path to a safetensors weights "
                         f"file; received weights={weights!r} ({type(weights).__name__})")
    if not os.path.isfile(weights):
        raise ValueError(f"{model}: the `weights` argument should be None or the path to a safetensors weights "
                         f"file; received weights={os.fspath(weights)!r}, which is not a file")


def check_head_args(model, include_top, pooling, classes, classifier_activation):
    """``pooling`` one of None/"avg"/"max"; ``classes`` a positive int; the activation a known one."""
    if pooling not in POOLINGS:
        raise ValueError(f"{model}: pooling must be one of None, 'avg', 'max'; received pooling={pooling!r}")
    if include_top and (isinstance(classes, bool) or not isinstance(classes, (int, np.integer)) or classes < 1):
        raise ValueError(f"{model}: classes must be a positive int with include_top=True; received "
                         f"classes={classes!r}")
    activations.get_optional(classifier_activation)  # unknown names raise, listing the accepted ones


def obtain_input_shape(model, input_shape, default_size, min_size, require_flatten):
    """Keras' input-shape rules, channels-last: None -> (default, default, 3) with the top, (None, None, 3)
    without; otherwise three entries, height and width (when known) at least ``min_size``; a model with the top
    (Flatten or Dense on the features) needs a static shape."""
    if input_shape is None:
        shape = (default_size, default_size, 3) if require_flatten else (None, None, 3)
    else:
        shape = tuple(input_shape)
        if len(shape) != 3 or not all(d is None or (isinstance(d, (int, np.integer)) and d > 0) for d in shape):
            raise ValueError(f"{model}: `input_shape` must be a tuple of three positive integers (height, width, "
                             f"channels); received input_shape={input_shape!r}")
        if shape[2] is None:
            raise ValueError(f"{model}: the channels of `input_shape` must be known; received "
                             f"input_shape={input_shape!r}")
        if any(d is not None and d < min_size for d in shape[:2]):
            raise ValueError(f"{model}: input size must be at least {min_size}x{min_size}; received "
                             f"input_shape={tuple(input_shape)}")
    if require_flatten and None in shape:
        raise ValueError(f"{model}: with include_top=True, `input_shape` must be static (no None); received "
                         f"input_shape={shape}")
    return tuple(None if d is None else int(d) for d in shape)


def image_input(model, input_tensor, input_shape):
    """(the tensor the layers start from, the model's inputs): ``Input(shape=input_shape)``, or ``input_tensor``
    (a ``keras.Input`` or a layer output on one) with the model's inputs found behind it."""
    if input_tensor is None:
        x = Input(shape=input_shape)
        return x, x
    if not isinstance(input_tensor, KerasTensor):
        raise ValueError(f"{model}: input_tensor must be a symbolic tensor from keras.Input (or a layer called on "
                         f"one), got {type(input_tensor).__name__}; pass input_shape=... for data")
    shape = tuple(input_tensor.shape)
    if len(shape) != 4:
        raise ValueError(f"{model}: input_tensor must have shape (batch, height, width, channels), got {shape}")
    return input_tensor, source_inputs(input_tensor)


def source_inputs(tensor):
    """The ``Input`` tensors a symbolic tensor was computed from (Keras' ``get_source_inputs``)."""
    found, stack, seen = [], [tensor], set()
    while stack:
        t = stack.pop()
        layer, node_index, _ = t._keras_history
        if isinstance(layer, InputLayer):
            if all(s is not t for s in found):
                found.append(t)
            continue
        node = layer._inbound_nodes[node_index]
        if id(node) not in seen:
            seen.add(id(node))
            stack.extend(reversed(node.input_tensors))
    return found[0] if len(found) == 1 else found


def pooled(x, pooling, avg_name=None, max_name=None):
    """The feature extractor's output (include_top=False): as is, or global average/max pooled to (N, C)."""
    if pooling == "avg":
        return GlobalAveragePooling2D(name=avg_name)(x)
    if pooling == "max":
        return GlobalMaxPooling2D(name=max_name)(x)
    return x


def predictions(x, classes, classifier_activation):
    """The classifier: Dense(classes) named "predictions"; ``classifier_activation=None`` leaves logits."""
    return Dense(int(classes), activation=classifier_activation, name="predictions")(x)


# -------------------------------------------------------------------------------------------- preprocessing
def preprocess_input(x, data_format=None, mode="caffe"):
    """Keras' ImageNet preprocessing of images with values in [0, 255]; (..., H, W, 3) or, channels_first,
    (N, 3, H, W) / (3, H, W) -> the same shape, float.

    mode "caffe": RGB -> BGR, then minus the BGR mean (103.939, 116.779, 123.68), no scaling (VGG, ResNet50);
    "tf": x / 127.5 - 1; "torch": (x / 255 - mean) / std with ImageNet's RGB mean and std. A NumPy array comes
    back as a NumPy array (float arrays are modified in place, as Keras does); a Tensor as a new Tensor.
    """
    if mode not in ("caffe", "tf", "torch"):
        raise ValueError(f"preprocess_input: mode must be one of 'caffe', 'tf', 'torch'; received mode={mode!r}")
    if data_format is None:
        data_format = "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"preprocess_input: data_format must be 'channels_last' or 'channels_first'; received "
                         f"data_format={data_format!r}")
    is_tensor = isinstance(x, Tensor)
    if not is_tensor:
        x = np.asarray(x)
        if not np.issubdtype(x.dtype, np.floating):
            x = x.astype(np.float32)
    axis = -1 if data_format == "channels_last" else (0 if x.ndim == 3 else 1)
    if x.shape[axis] != 3:
        raise ValueError(f"preprocess_input: expected 3 color channels on axis {axis} ({data_format}), got shape "
                         f"{tuple(x.shape)}")
    if mode == "tf":
        return x / 127.5 - 1.0 if is_tensor else _inplace(x, scale=1 / 127.5, shift=-1.0)
    stat_shape = [1] * x.ndim
    stat_shape[axis] = 3
    if mode == "torch":
        mean, std = np.array(TORCH_MEAN).reshape(stat_shape), np.array(TORCH_STD).reshape(stat_shape)
        if is_tensor:
            return (x / 255.0 - Tensor(mean.astype(np.float32)).to(x.dtype)) / Tensor(std.astype(np.float32)).to(
                x.dtype)
        x /= 255.0
        x -= mean.astype(x.dtype)
        x /= std.astype(x.dtype)
        return x
    mean = np.array(CAFFE_MEAN_BGR).reshape(stat_shape)
    if is_tensor:
        bgr = x.flip(axis % x.ndim)
        return bgr - Tensor(mean.astype(np.float32)).to(bgr.dtype)
    x = np.flip(x, axis)
    x -= mean.astype(x.dtype)
    return x


def preprocess_caffe(x, data_format=None):
    """``preprocess_input`` in "caffe" mode, what Keras' VGG16, VGG19 and ResNet50 expect: RGB -> BGR, then minus
    the ImageNet BGR mean (103.939, 116.779, 123.68), no scaling. (..., H, W, 3) -> the same shape."""
    return preprocess_input(x, data_format=data_format, mode="caffe")


def _inplace(x, scale, shift):
    x *= scale
    x += shift
    return x
