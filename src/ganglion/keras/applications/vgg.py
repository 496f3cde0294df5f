"""VGG16 and VGG19 (Simonyan and Zisserman, 2014) as Keras 3 builds them, layer for layer and name for name:
blocks of 3x3 "same" ReLU convolutions (``block{b}_conv{i}``) each closed by a 2x2 max pool (``block{b}_pool``),
then, with the top, ``flatten`` -> ``fc1`` (4096, ReLU) -> ``fc2`` (4096, ReLU) -> ``predictions``.

The layers are ganglion's Keras layers, which hold the engine's ``nn.Conv2d`` / ``nn.Linear`` (the modules
``ganglion.vision.models.vgg16`` is made of), so ``model.set_weights(keras_model.get_weights())`` copies a Keras 3
VGG, and a torchvision VGG state_dict (``ganglion convert``) loads too. Unlike torchvision, Keras' VGG has no
dropout and no adaptive 7x7 pool: ``fc1`` sees (H/32) (W/32) 512 features, flattened height, width, channels.
"""

from ..layers import Conv2D, Dense, Flatten, MaxPooling2D
from ..models import Model
from . import imagenet_utils
from ._torchvision import load_weights

# (convolutions per block, filters): Keras' and torchvision's configurations "D" and "E"
BLOCKS = {
    "vgg16": ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512)),
    "vgg19": ((2, 64), (2, 128), (4, 256), (4, 512), (4, 512)),
}
MIN_SIZE = 32  # five 2x2 pools


def build_vgg(depth_name, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
              name):
    """The Keras functional VGG: (N, H, W, 3) -> (N, classes) with the top; (N, H/32, W/32, 512) without, or
    (N, 512) with ``pooling`` "avg"/"max". See ``VGG16`` for the arguments."""
    label = depth_name.upper()
    imagenet_utils.check_weights_arg(label, weights)
    imagenet_utils.check_head_args(label, include_top, pooling, classes, classifier_activation)
    input_shape = imagenet_utils.obtain_input_shape(label, input_shape, 224, MIN_SIZE, require_flatten=include_top)
    x, inputs = imagenet_utils.image_input(label, input_tensor, input_shape)
    for block, (convs, filters) in enumerate(BLOCKS[depth_name], start=1):
        for i in range(1, convs + 1):
            x = Conv2D(filters, (3, 3), activation="relu", padding="same", name=f"block{block}_conv{i}")(x)
        x = MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    if include_top:
        x = Flatten(name="flatten")(x)
        x = Dense(4096, activation="relu", name="fc1")(x)
        x = Dense(4096, activation="relu", name="fc2")(x)
        x = imagenet_utils.predictions(x, classes, classifier_activation)
    else:
        x = imagenet_utils.pooled(x, pooling)
    model = Model(inputs, x, name=name)
    return load_weights(model, weights, label, _torchvision_prefixes)


def _torchvision_prefixes(model, state):
    """torchvision's VGG keys: the k-th convolution is ``features.{i}`` with i the k-th conv index in the file,
    fc1/fc2/predictions are ``classifier.0/3/6``. torchvision flattens its 7x7 pooled features channels first,
    Keras height, width, channels first: fc1's kernel rows are permuted to match (224x224 inputs only, where
    torchvision's adaptive pool keeps the 7x7 map as it is)."""
    indices = sorted({int(k.split(".")[1]) for k in state if k.startswith("features.") and k.endswith(".weight")})
    convs = [layer.name for layer in model.layers if type(layer).__name__ == "Conv2D"]
    prefixes = {name: f"features.{i}" for name, i in zip(convs, indices)}
    if len(indices) != len(convs):
        raise ValueError(f"{model.name}: the torchvision state_dict has {len(indices)} convolutions, the model "
                         f"{len(convs)} (is it a VGG of another depth, or with batch norm?)")
    names = {layer.name for layer in model.layers}
    if "fc1" not in names:
        return prefixes, {}, ("classifier.",)
    features = model.get_layer("fc1").get_weights()[0].shape[0]
    if features != 512 * 7 * 7:
        raise ValueError(f"{model.name}: torchvision's classifier needs 7x7x512 features (a 224x224 input), the "
                         f"model's fc1 sees {features}; use input_shape=(224, 224, 3) or include_top=False")
    prefixes.update({"fc1": "classifier.0", "fc2": "classifier.3", "predictions": "classifier.6"})

    def channels_last_rows(kernel):  # rows c*49 + h*7 + w (torchvision) -> h*7*512 + w*512 + c (Keras)
        units = kernel.shape[1]
        return kernel.reshape(512, 7, 7, units).transpose(1, 2, 0, 3).reshape(-1, units)

    return prefixes, {"fc1": channels_last_rows}, ()


def VGG16(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
          classifier_activation="softmax", name="vgg16"):
    """Keras 3's ``keras.applications.VGG16`` (13 convolutions, 3 dense layers; 138,357,544 weights at 224x224
    with the top).  Input (N, H, W, 3) with H, W >= 32 -> (N, classes) probabilities (logits with
    ``classifier_activation=None``).

    include_top: the flatten + fc1 + fc2 + predictions head (then ``input_shape`` must be static; default
    (224, 224, 3)). weights: None (default; Keras' "imagenet" would download) or the path of a safetensors file
    from ``model.save_weights`` or a torchvision ``vgg16`` state_dict converted with ``ganglion convert``.
    input_tensor: a ``keras.Input`` (or a layer output) to build on. input_shape: (H, W, C). pooling (without the
    top): None -> (N, H/32, W/32, 512), "avg"/"max" -> (N, 512). classes, classifier_activation: the
    ``predictions`` layer. name: the model's name.
    """
    return build_vgg("vgg16", include_top, weights, input_tensor, input_shape, pooling, classes,
                     classifier_activation, name)


def VGG19(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
          classifier_activation="softmax", name="vgg19"):
    """Keras 3's ``keras.applications.VGG19`` (16 convolutions, 3 dense layers); arguments and shapes as
    ``VGG16``; a torchvision ``vgg19`` state_dict loads as well."""
    return build_vgg("vgg19", include_top, weights, input_tensor, input_shape, pooling, classes,
                     classifier_activation, name)
