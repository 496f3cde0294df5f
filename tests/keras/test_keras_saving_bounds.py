""".keras loading is bounded: zip bombs and lying zip headers are refused with a ValueError naming the file and the
member, reading no more than a small bound; a small config describing huge layers beside a small weights file is
refused, naming the layer, the shapes and the file, before the layer allocates anything."""

import json
import os
import tracemalloc
import zipfile

import numpy as np
import pytest

import ganglion
from ganglion.keras import Input, Model, Sequential, layers, optimizers, saving
from ganglion.keras.layers import Dense
from ganglion.keras.models import load_model

MiB = 2**20


def _members(path):
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def _rezip(path, members, big=None):
    """Write ``members`` ({name: bytes}) to ``path``; ``big`` = (name, size): that member is ``size`` zero bytes,
    streamed in (a zip bomb of any size costs the test little memory)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            if big is None or name != big[0]:
                z.writestr(name, data)
        if big is not None:
            with z.open(big[0], "w", force_zip64=True) as f:
                chunk = b"\x00" * MiB
                for _ in range(big[1] // MiB):
                    f.write(chunk)
    return path


def _lie_about_size(path, member, size):
    """Patch the central directory so that ``member`` declares ``size`` uncompressed bytes."""
    raw = bytearray(path.read_bytes())
    at = raw.find(b"PK\x01\x02")
    while at != -1:
        name_length = int.from_bytes(raw[at + 28:at + 30], "little")
        if raw[at + 46:at + 46 + name_length].decode() == member:
            raw[at + 24:at + 28] = size.to_bytes(4, "little")
        at = raw.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(raw))


def _peak_of(fn):
    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def _refused(path, pattern):
    """Load ``path``, expecting a ValueError matching ``pattern``; returns the peak traced memory of the attempt."""
    def attempt():
        with pytest.raises(ValueError, match=pattern):
            load_model(path)
    return _peak_of(attempt)


@pytest.fixture
def saved(tmp_path):
    ganglion.manual_seed(0)
    model = Sequential([Input(shape=(4,)), Dense(3, activation="relu"), Dense(2)])
    model.compile(optimizer=optimizers.Adam(0.01), loss="mse")
    model.fit(np.ones((4, 4), np.float32), np.ones((4, 2), np.float32), verbose=0)
    path = tmp_path / "good.keras"
    model.save(path)
    return path


# ------------------------------------------------------------------------------------------------ zip bombs
@pytest.mark.parametrize("member, size, pattern", [
    ("config.json", 48 * MiB, r"member 'config\.json' of '.*bomb\.keras' declares 50331648 bytes, more than the "
                              r"33554432"),
    ("metadata.json", 4 * MiB, r"member 'metadata\.json' of '.*bomb\.keras' declares 4194304 bytes, more than"),
    ("model.weights.safetensors", 24 * MiB, r"member 'model\.weights\.safetensors' of '.*bomb\.keras' declares "
                                            r"25165824 bytes from \d+ compressed \(ratio \d+:1\).*zip bomb"),
])
def test_zip_bombs_are_refused_before_they_are_inflated(saved, tmp_path, member, size, pattern):
    bomb = _rezip(tmp_path / "bomb.keras", _members(saved), big=(member, size))
    assert bomb.stat().st_size < 200_000
    assert _refused(bomb, pattern) < 2 * MiB


def test_a_member_lying_about_its_size_is_read_no_further_than_declared(saved, tmp_path):
    bomb = _rezip(tmp_path / "liar.keras", _members(saved), big=("config.json", 48 * MiB))
    _lie_about_size(bomb, "config.json", 1000)
    assert _refused(bomb, r"liar\.keras.*member 'config\.json' is truncated or corrupt") < 2 * MiB


def test_optimizer_state_out_of_proportion_to_the_weights_is_refused(saved, tmp_path):
    members = _members(saved)
    members["optimizer.safetensors"] = np.random.default_rng(0).bytes(2 * MiB)  # incompressible
    path = _rezip(tmp_path / "fat.keras", members)
    _refused(path, r"member 'optimizer\.safetensors' of '.*fat\.keras' declares 2097152 bytes, more than the")
    assert load_model(path, compile=False).layers[0].units == 3  # the optimizer's state is not read then


# ------------------------------------------------------------------------------------ huge layers, tiny files
def _edit_config(path, out, edit):
    members = _members(path)
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    return _rezip(out, members)


def _sequential_layers(config):
    return config["model"]["config"]["layers"]


def _widen_first_dense(keep_build_config):
    def edit(config):
        config["model"]["config"]["input_shape"] = [20000]
        first = _sequential_layers(config)[0]
        first["config"]["units"] = 20000
        if keep_build_config:
            first["build_config"]["input_shape"] = [None, 20000]
        else:
            del first["build_config"]
    return edit


@pytest.mark.parametrize("keep_build_config", [True, False])
def test_a_huge_dense_beside_tiny_weights_is_refused_before_it_is_built(saved, tmp_path, keep_build_config):
    path = _edit_config(saved, tmp_path / "huge.keras", _widen_first_dense(keep_build_config))
    assert os.path.getsize(path) < 4000
    peak = _refused(path, r"huge\.keras.*layer 'dense\w*' \(Dense\) would create kernel \(20000, 20000\), bias "
                          r"\(20000,\) \(400020000 values\) for input shape \(\w+, 20000\), but the weights file "
                          r"'.*huge\.keras/model\.weights\.safetensors' holds dense\.linear\.weight \(3, 4\), "
                          r"dense\.linear\.bias \(3,\) under 'dense' \(15 values\)")
    assert peak < 5 * MiB  # the layer it describes would take 1.6 GB


def _functional_model():
    inputs = Input(shape=(6, 6, 2), name="image")
    x = layers.Conv2D(3, 3, name="conv")(inputs)
    x = layers.Flatten()(x)
    outputs = Dense(2, name="out")(x)
    return Model(inputs, outputs)


def _find(config, name):
    return next(e for e in config["model"]["config"]["layers"] if e["name"] == name)


def _subclassed_hidden(config):
    config["model"]["config"]["hidden"] = 50000
    config["model"]["build_config"]["input_shape"] = [None, 50000]


@saving.register_keras_serializable(package="BoundsTests")
class Tower(Model):
    def __init__(self, hidden=3, **kwargs):
        super().__init__(**kwargs)
        self.hidden = hidden
        self.body = Dense(hidden, activation="relu")
        self.head = Dense(2)

    def call(self, inputs, training=None):
        return self.head(self.body(inputs))

    def get_config(self):
        return {**super().get_config(), "hidden": self.hidden}


def _models():
    def sequential(*stack):
        return lambda: Sequential([Input(shape=(5, 4)), *stack])

    def tower():
        model = Tower()
        model(np.zeros((1, 4), np.float32))
        return model

    return [
        ("functional conv", _functional_model,
         lambda c: _find(c, "conv")["config"].update(filters=30000),
         r"layer 'conv' \(Conv2D\) would create kernel \(3, 3, 2, 30000\), bias \(30000,\)"),
        ("functional dense", _functional_model,
         lambda c: _find(c, "out")["config"].update(units=10**7),
         r"layer 'out' \(Dense\) would create kernel \(48, 10000000\)"),
        ("embedding", lambda: Sequential([Input(shape=(3,)), layers.Embedding(10, 4)]),
         lambda c: _sequential_layers(c)[0]["config"].update(input_dim=10**8),
         r"layer '\w+' \(Embedding\) would create embeddings \(100000000, 4\)"),
        ("lstm", sequential(layers.LSTM(3)),
         lambda c: _sequential_layers(c)[0]["config"].update(units=20000),
         r"\(LSTM\) would create kernel \(4, 80000\), recurrent_kernel \(20000, 80000\), bias \(80000,\)"),
        ("bidirectional gru", sequential(layers.Bidirectional(layers.GRU(3))),
         lambda c: _sequential_layers(c)[0]["config"]["layer"]["config"].update(units=20000),
         r"layer 'forward_\w+' \(GRU\) would create .*recurrent_kernel \(20000, 60000\), bias \(2, 60000\)"),
        ("subclassed", tower, _subclassed_hidden,
         r"layer '\w+' \(Dense\) would create kernel \(50000, 50000\).* under 'body'"),
    ]


@pytest.mark.parametrize("make, edit, pattern", [m[1:] for m in _models()], ids=[m[0] for m in _models()])
def test_every_kind_of_model_is_checked_layer_by_layer(tmp_path, make, edit, pattern):
    ganglion.manual_seed(0)
    make().save(tmp_path / "small.keras")
    assert load_model(tmp_path / "small.keras") is not None
    path = _edit_config(tmp_path / "small.keras", tmp_path / "huge.keras", edit)
    assert _refused(path, r"huge\.keras.*" + pattern) < 8 * MiB


def test_load_weights_compares_the_header_before_reading_tensors(saved, tmp_path):
    wider = Sequential([Input(shape=(4,)), Dense(9), Dense(2)])
    with pytest.raises(ValueError, match=r"good\.keras.*dense\.linear\.weight: shape \(3, 4\) in the file, \(9, 4\)"):
        wider.load_weights(saved)


RULE_CASES = [
    (lambda: Dense(3, use_bias=False), (None, 5)),
    (lambda: layers.Embedding(7, 3), (None, 4)),
    (lambda: layers.Conv1D(4, 3, groups=2), (None, 9, 6)),
    (lambda: layers.Conv2D(4, (3, 2), data_format="channels_first"), (None, 2, 6, 6)),
    (lambda: layers.Conv3D(2, 2), (None, 4, 4, 4, 3)),
    (lambda: layers.Conv2DTranspose(5, 3), (None, 6, 6, 2)),
    (lambda: layers.DepthwiseConv2D(3, depth_multiplier=2), (None, 6, 6, 3)),
    (lambda: layers.SeparableConv2D(4, 3, depth_multiplier=2), (None, 6, 6, 3)),
    (lambda: layers.SimpleRNN(3), (None, 5, 2)),
    (lambda: layers.LSTM(3, use_bias=False), (None, 5, 2)),
    (lambda: layers.GRU(3), (None, 5, 2)),
    (lambda: layers.GRU(3, reset_after=False), (None, 5, 2)),
]


@pytest.mark.parametrize("make, input_shape", RULE_CASES, ids=lambda v: "" if isinstance(v, tuple) else None)
def test_the_weight_rules_agree_with_what_layers_build(make, input_shape):
    from ganglion.keras.saving.weight_check import keras_weight_shapes

    layer = make()
    predicted = keras_weight_shapes(layer, input_shape)
    layer._maybe_build(input_shape)
    assert predicted == {w.name: w.shape for w in layer.keras_weights()}
