"""``ganglion.keras.applications`` against Keras 3 (torch backend) as the oracle.

PARITY: each row builds Keras' model (``keras.applications.X(weights=None, ...)``) and ours with the same arguments
at a small input: the layers (class and name, in order), the weight shapes in order and the parameter count must be
equal; Keras' weights, BN statistics randomized, are copied in with ``set_weights(get_weights())`` and the
inference outputs must agree to 1e-4. Then the argument errors, ``preprocess_input`` against Keras', loading
``weights=PATH`` (a ``save_weights`` file, a torchvision state_dict for the ResNet18 extra and VGG16's convolutions),
``summary``'s totals, and fine-tuning a head on a frozen VGG16.
"""

import os
import re

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import ganglion  # noqa: E402
import ganglion.keras as gk  # noqa: E402
from ganglion.io.weights import save as save_safetensors  # noqa: E402
from ganglion.keras import applications as A  # noqa: E402
from ganglion.vision import models as M  # noqa: E402

SMALL = (32, 32, 3)


def _numpy(x):
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def _randomize(model, rng):
    """Keras' weights with non-trivial batch norms: small moving variances (so a wrong epsilon shows: 1e-3 instead
    of 1.001e-5 moves the outputs by percents), gamma scaled by their root (so the depth does not blow up), random
    means, betas and biases; kernels keep Keras' initialization."""
    for layer in model.layers:
        weights = layer.get_weights()
        if type(layer).__name__ == "BatchNormalization":
            n = weights[0].shape[0]
            var = rng.uniform(0.005, 0.05, n)
            gamma, beta, mean = np.sqrt(var) * rng.uniform(0.5, 1.5, n), rng.normal(0, 0.1, n), rng.normal(0, 0.1, n)
            layer.set_weights([a.astype("float32") for a in (gamma, beta, mean, var)])
        elif len(weights) == 2:
            layer.set_weights([weights[0], rng.normal(0, 0.1, weights[1].shape).astype("float32")])
    return model.get_weights()


# (id, function name, keyword arguments at a small input); forward parity for every row
PARITY = [
    ("vgg16_top_softmax", "VGG16", dict(input_shape=SMALL, classes=10)),
    ("vgg19_notop_max", "VGG19", dict(include_top=False, input_shape=SMALL, pooling="max")),
    ("resnet50_top_logits", "ResNet50", dict(input_shape=(33, 35, 3), classes=7, classifier_activation=None)),
]
# structure only (the layers' weights and the pooling heads' shapes; no forward): cheaper rows
STRUCTURE = [
    ("vgg16_notop", "VGG16", dict(include_top=False, input_shape=(48, 40, 3))),
    ("vgg16_notop_avg", "VGG16", dict(include_top=False, input_shape=SMALL, pooling="avg")),
    ("resnet50_notop_max", "ResNet50", dict(include_top=False, input_shape=(40, 36, 3), pooling="max")),
]


def _layers(model):
    """(class, name) per layer after the input; pooling layers Keras names by a counter compare by class only."""
    return [(type(la).__name__, la.name if not la.name.startswith("global_") else "")
            for la in model.layers[1:]]


def _summary_totals(model):
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    return [int(re.search(rf"{kind} params: ([\d,]+)", text).group(1).replace(",", ""))
            for kind in ("Total", "Trainable", "Non-trainable")]


def _same_structure(ours, theirs):
    """Layers, weight shapes in order, output shape, parameter counts (``count_params`` and ``summary``)."""
    assert ours.name == theirs.name
    assert _layers(ours) == _layers(theirs)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.weights]
    assert tuple(ours.output_shape) == tuple(theirs.output_shape)
    trainable = sum(int(np.prod(w.shape)) for w in theirs.trainable_weights)
    assert _summary_totals(ours) == [theirs.count_params(), trainable, theirs.count_params() - trainable]
    assert ours.count_params() == theirs.count_params()


@pytest.mark.parametrize("row", STRUCTURE, ids=[r[0] for r in STRUCTURE])
def test_structure_matches_keras(row):
    _, fn, kwargs = row
    _same_structure(getattr(A, fn)(**kwargs), getattr(keras.applications, fn)(weights=None, **kwargs))


@pytest.mark.parametrize("row", PARITY, ids=[r[0] for r in PARITY])
def test_outputs_match_keras_on_keras_weights(row):
    _, fn, kwargs = row
    theirs = getattr(keras.applications, fn)(weights=None, **kwargs)
    ours = getattr(A, fn)(**kwargs)
    _same_structure(ours, theirs)
    ours.set_weights(_randomize(theirs, np.random.default_rng(0)))
    if kwargs.get("include_top", True):
        activation = ours.get_layer("predictions").get_config()["activation"]
        assert activation == theirs.get_layer("predictions").get_config()["activation"]
    height, width = kwargs["input_shape"][:2]
    x = np.random.default_rng(1).uniform(0, 255, (2, height, width, 3)).astype("float32")
    x = keras.applications.imagenet_utils.preprocess_input(x, mode="caffe") / 50.0
    expected = _numpy(theirs(x, training=False))
    got = _numpy(ours.predict(x, verbose=0))
    assert got.shape == expected.shape
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(got / scale, expected / scale, rtol=1e-4, atol=1e-4)


def test_resnet50_parameter_count_with_the_top_at_keras_default_shape():
    """Keras' documented total at 224x224 with the top, 25,636,712; the top adds 2048 x 1000 + 1000."""
    without = A.ResNet50(include_top=False, input_shape=SMALL).count_params()
    assert without == 23_587_712 and without + 2048 * 1000 + 1000 == 25_636_712


# ------------------------------------------------------------------------------------------- argument errors
ERRORS = [
    ("too_small", "VGG16", dict(include_top=False, input_shape=(31, 64, 3)), r"at least 32x32.*input_shape"),
    ("too_small_resnet", "ResNet50", dict(input_shape=(28, 28, 3)), r"at least 32x32.*input_shape=\(28, 28, 3\)"),
    ("rank", "ResNet50", dict(input_shape=(32, 32)), r"`input_shape` must be a tuple of three"),
    ("top_needs_static", "VGG16", dict(input_shape=(None, None, 3)), r"include_top=True.*static"),
    ("imagenet", "VGG16", dict(weights="imagenet"), r"ganglion downloads nothing.*ganglion convert"),
    ("imagenet_resnet", "ResNet50", dict(weights="imagenet"), r"ganglion convert IN.pth OUT.safetensors"),
    ("not_a_file", "ResNet18", dict(weights="no/such/file.safetensors"), r"weights=.*no/such/file.*not a file"),
    ("weights_type", "VGG19", dict(weights=3), r"`weights` argument.*weights=3"),
    ("pooling", "VGG16", dict(include_top=False, pooling="sum"), r"pooling must be one of.*pooling='sum'"),
    ("classes", "ResNet50", dict(classes=0), r"classes must be a positive int.*classes=0"),
    ("activation", "VGG16", dict(classifier_activation="nope"), r"nope"),
    ("input_tensor", "ResNet34", dict(input_tensor=np.zeros((1, 32, 32, 3))), r"input_tensor.*keras.Input"),
]


@pytest.mark.parametrize("row", ERRORS, ids=[r[0] for r in ERRORS])
def test_argument_errors(row):
    _, fn, kwargs, message = row
    with pytest.raises(ValueError, match=message):
        getattr(A, fn)(**kwargs)


def test_default_input_shapes_are_keras():
    """input_shape=None: (224, 224, 3) with the top, (None, None, 3) without (any size >= 32), as Keras decides."""
    keras_rule = keras.src.applications.imagenet_utils.obtain_input_shape
    for top in (True, False):
        expected = keras_rule(None, default_size=224, min_size=32, data_format="channels_last", require_flatten=top)
        assert A.imagenet_utils.obtain_input_shape("VGG16", None, 224, 32, require_flatten=top) == tuple(expected)


def test_keras_refuses_the_same_input_shapes():
    """The oracle for the size rule: Keras refuses 31 and accepts 32."""
    with pytest.raises(ValueError, match="at least 32x32"):
        keras.applications.VGG16(weights=None, include_top=False, input_shape=(31, 64, 3))
    assert A.VGG16(include_top=False, input_shape=(32, 32, 3)).output_shape == (None, 1, 1, 512)


def test_input_tensor_builds_on_a_keras_input():
    inputs = gk.Input(shape=(64, 64, 3))
    x = gk.layers.Rescaling(1 / 255.0)(inputs)
    model = A.ResNet18(include_top=False, input_tensor=x, pooling="avg")
    assert model.inputs[0] is inputs
    out = model.predict(np.ones((1, 64, 64, 3), "float32"), verbose=0)
    assert out.shape == (1, 512)


# ---------------------------------------------------------------------------------------------- preprocessing
PREPROCESS = [
    ("vgg16", A.vgg16.preprocess_input, keras.applications.vgg16.preprocess_input, {}),
    ("vgg19", A.vgg19.preprocess_input, keras.applications.vgg19.preprocess_input, {}),
    ("resnet50", A.resnet50.preprocess_input, keras.applications.resnet50.preprocess_input, {}),
    ("resnet", A.resnet.preprocess_input, keras.applications.resnet.preprocess_input, {}),
    ("channels_first", A.vgg16.preprocess_input, keras.applications.vgg16.preprocess_input,
     dict(data_format="channels_first")),
    ("tf", A.imagenet_utils.preprocess_input, keras.applications.imagenet_utils.preprocess_input, dict(mode="tf")),
    ("torch", A.imagenet_utils.preprocess_input, keras.applications.imagenet_utils.preprocess_input,
     dict(mode="torch")),
]


@pytest.mark.parametrize("row", PREPROCESS, ids=[r[0] for r in PREPROCESS])
def test_preprocess_input_matches_keras(row):
    _, ours, theirs, kwargs = row
    shape = (2, 3, 5, 4) if kwargs.get("data_format") == "channels_first" else (2, 5, 4, 3)
    x = np.random.default_rng(2).uniform(0, 255, shape).astype("float32")
    expected = _numpy(theirs(x.copy(), **kwargs))
    np.testing.assert_allclose(ours(x.copy(), **kwargs), expected, rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(ours(ganglion.tensor(x), **kwargs).numpy(), expected, rtol=1e-6, atol=1e-4)
    uint8 = x.astype("uint8")  # integer images become float, as Keras does
    np.testing.assert_allclose(ours(uint8, **kwargs), _numpy(theirs(uint8, **kwargs)), rtol=1e-6, atol=1e-4)


def test_preprocess_input_errors():
    with pytest.raises(ValueError, match="mode must be one of.*mode='bgr'"):
        A.imagenet_utils.preprocess_input(np.zeros((1, 2, 2, 3)), mode="bgr")
    with pytest.raises(ValueError, match="3 color channels.*channels_last"):
        A.vgg16.preprocess_input(np.zeros((1, 2, 2, 4)))


# ------------------------------------------------------------------------------------------ weights=PATH files
def test_weights_from_save_weights_file(tmp_path):
    kwargs = dict(include_top=False, input_shape=SMALL, pooling="avg")
    source = A.ResNet18(**kwargs)
    path = tmp_path / "resnet18.safetensors"
    source.save_weights(path)
    loaded = A.ResNet18(weights=str(path), **kwargs)
    for a, b in zip(source.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def _random_bn_statistics(module, rng):
    for name, buffer in module.named_buffers():
        if name.endswith("running_mean"):
            buffer.array[...] = rng.normal(0, 0.2, buffer.shape)
        elif name.endswith("running_var"):
            buffer.array[...] = rng.uniform(0.5, 1.5, buffer.shape)


def test_resnet18_extra_loads_torchvision_state_dict_and_matches_vision_model(tmp_path):
    """The extra is the zoo's ResNet-18: a state_dict with torchvision's keys (what ``ganglion convert`` writes)
    loads by name and the logits equal ``ganglion.vision.models.resnet18``'s on the same NHWC/NCHW images."""
    reference = M.resnet18(num_classes=10)
    _random_bn_statistics(reference, np.random.default_rng(3))
    path = tmp_path / "resnet18.safetensors"
    save_safetensors(reference.state_dict(), path)
    ours = A.ResNet18(weights=path, input_shape=(40, 40, 3), classes=10, classifier_activation=None)
    x = np.random.default_rng(4).normal(size=(2, 40, 40, 3)).astype("float32")
    reference.eval()
    with ganglion.no_grad():
        expected = reference(ganglion.tensor(x.transpose(0, 3, 1, 2).copy())).numpy()
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-4)


def test_vgg16_convolutions_load_from_torchvision_keys(tmp_path):
    features = M.vgg.make_layers(M.vgg.cfgs["D"])
    state = {f"features.{k}": v for k, v in features.state_dict().items()}
    state["classifier.6.bias"] = ganglion.zeros(10)  # the classifier is skipped without the top
    path = tmp_path / "vgg16.safetensors"
    save_safetensors(state, path)
    ours = A.VGG16(include_top=False, weights=path, input_shape=SMALL)
    x = np.random.default_rng(5).normal(size=(1, 32, 32, 3)).astype("float32")
    with ganglion.no_grad():
        expected = features(ganglion.tensor(x.transpose(0, 3, 1, 2).copy())).numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-4)


def test_torchvision_state_dict_mismatch_and_resnet50_refusal(tmp_path):
    path = tmp_path / "resnet18.safetensors"
    save_safetensors(M.resnet18(num_classes=10).state_dict(), path)
    with pytest.raises(ValueError, match=r"ResNet34: the torchvision state_dict.*missing \['layer1.2"):
        A.ResNet34(weights=path, include_top=False, input_shape=SMALL)
    with pytest.raises(ValueError, match="ResNet50.*no torchvision counterpart"):
        A.ResNet50(weights=path, include_top=False, input_shape=SMALL)


# -------------------------------------------------------------------------------------------------- fine-tune
def test_frozen_base_fine_tuning_changes_only_the_head():
    base = A.VGG16(include_top=False, input_shape=SMALL)
    base.trainable = False
    model = gk.Sequential([base, gk.layers.GlobalAveragePooling2D(), gk.layers.Dense(2)])
    model.compile(optimizer=gk.optimizers.SGD(0.05),
                  loss=gk.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(6)
    x = rng.uniform(0, 1, (8, 32, 32, 3)).astype("float32")
    y = (x[:, :, :, 0].mean(axis=(1, 2)) > 0.5).astype("int64")
    before_base = [w.copy() for w in base.get_weights()]
    before_head = [w.copy() for w in model.layers[-1].get_weights()]
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert len(base.trainable_weights) == 0 and len(model.trainable_weights) == 2
    for a, b in zip(before_base, base.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert all(np.abs(a - b).max() > 0 for a, b in zip(before_head, model.layers[-1].get_weights()))
    assert history.history["loss"][-1] < history.history["loss"][0]
