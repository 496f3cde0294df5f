"""model.save / load_model (one atomic .keras zip; architecture, weights, compile settings and optimizer state, so
training resumes exactly), save_weights / load_weights, custom layers through registration or custom_objects, and
clear errors for truncated, corrupt and foreign files."""

import os
import zipfile

import numpy as np
import pytest

import ganglion
from ganglion.keras import Input, Model, Sequential, layers, optimizers, saving
from ganglion.keras.layers import Dense
from ganglion.keras.models import load_model


def _data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    return x, (x[:, 0] - x[:, 1] > 0).astype(np.int64)


def _model(optimizer=None):
    ganglion.manual_seed(0)
    model = Sequential([Dense(8, activation="relu", input_shape=(4,)), Dense(2, activation="softmax")])
    model.compile(optimizer=optimizer or optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


@pytest.mark.parametrize("make_optimizer", [
    lambda: optimizers.Adam(0.01), lambda: optimizers.SGD(0.05, momentum=0.9), lambda: optimizers.RMSprop(0.01),
    lambda: optimizers.Nadam(0.01),
    lambda: optimizers.Adam(optimizers.schedules.ExponentialDecay(0.05, decay_steps=3, decay_rate=0.5)),
])
def test_fit_resumes_exactly_after_save_and_load(tmp_path, make_optimizer):
    x, y = _data()
    straight = _model(make_optimizer())
    straight_history = straight.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0)
    first = _model(make_optimizer())
    first.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    path = tmp_path / "model.keras"
    first.save(path)
    resumed = load_model(path)
    assert type(resumed.optimizer) is type(first.optimizer) and resumed.optimizer.iterations == 12
    history = resumed.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(history.history["loss"][0], straight_history.history["loss"][-1], rtol=1e-6)
    assert resumed.metrics_names == ["loss", "accuracy"]


def test_loaded_model_predicts_the_same_and_keeps_its_config(tmp_path):
    a = Input(shape=(4,), name="features")
    h = Dense(5, activation="tanh", kernel_regularizer="l2", name="hidden")(a)
    model = Model(a, [Dense(2, activation="softmax", name="probs")(h), layers.Concatenate()([h, a])])
    model.compile(optimizer="sgd", loss=["sparse_categorical_crossentropy", None], loss_weights=[0.5, 1.0])
    path = tmp_path / "functional.keras"
    model.save(path)
    loaded = load_model(path)
    x = _data()[0]
    for p, q in zip(model.predict(x, verbose=0), loaded.predict(x, verbose=0)):
        np.testing.assert_allclose(p, q, rtol=1e-6)
    assert [la.name for la in loaded.layers] == [la.name for la in model.layers]
    assert len(loaded.losses) == 1 and loaded.compiled and not loaded.optimizer.built
    uncompiled = load_model(path, compile=False)
    assert not uncompiled.compiled


def test_save_is_atomic_and_checks_its_arguments(tmp_path):
    model = _model()
    path = tmp_path / "m.keras"
    model.save(path)
    assert sorted(os.listdir(tmp_path)) == ["m.keras"]  # no temporary file left behind
    with zipfile.ZipFile(path) as z:
        assert {"metadata.json", "config.json", "model.weights.safetensors"} <= set(z.namelist())
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=False"):
        model.save(path, overwrite=False)
    assert path.read_bytes() == before
    with pytest.raises(ValueError, match=r"must end in \.keras"):
        model.save(tmp_path / "m.h5")


def test_save_weights_load_weights_across_instances(tmp_path):
    x, y = _data()
    trained = _model()
    trained.fit(x, y, epochs=1, verbose=0)
    trained.save_weights(tmp_path / "w.safetensors")
    fresh = _model()  # new instance: its layers have other automatic names
    assert fresh.layers[0].name != trained.layers[0].name
    fresh.load_weights(tmp_path / "w.safetensors")
    np.testing.assert_allclose(fresh.predict(x, verbose=0), trained.predict(x, verbose=0), rtol=1e-6)
    trained.save(tmp_path / "full.keras")
    other = _model()
    other.load_weights(tmp_path / "full.keras")
    np.testing.assert_allclose(other.predict(x, verbose=0), trained.predict(x, verbose=0), rtol=1e-6)
    wider = Sequential([Dense(9, input_shape=(4,)), Dense(2)])
    with pytest.raises(ValueError, match=r"does not match the model .*shape \(8, 4\) in the file, \(9, 4\)"):
        wider.load_weights(tmp_path / "w.safetensors")


@saving.register_keras_serializable(package="Tests")
class Scale(layers.Layer):
    """y = factor * x * w, with one trainable weight per feature."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight(name="w", shape=(input_shape[-1],), initializer="ones")

    def call(self, inputs):
        return inputs * self.w * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class Unregistered(Scale):
    pass


@saving.register_keras_serializable(package="Tests")
def doubled_relu(x):
    return ganglion.nn.functional.relu(x) * 2


def test_custom_layers_through_registration_and_custom_objects(tmp_path):
    x, y = _data()
    model = Sequential([Input(shape=(4,)), Scale(3.0), Dense(2, activation=doubled_relu)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, np.eye(2, dtype=np.float32)[y], epochs=1, verbose=0)
    model.save(tmp_path / "custom.keras")
    loaded = load_model(tmp_path / "custom.keras")
    assert isinstance(loaded.layers[0], Scale) and loaded.layers[0].factor == 3.0
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)

    other = Sequential([Input(shape=(4,)), Unregistered(0.5), Dense(2)])
    other.save(tmp_path / "other.keras")
    with pytest.raises(ValueError, match=r"unknown layer class 'Unregistered'.*custom_objects"):
        load_model(tmp_path / "other.keras")
    loaded = load_model(tmp_path / "other.keras", custom_objects={"Unregistered": Unregistered})
    np.testing.assert_allclose(loaded.predict(x, verbose=0), other.predict(x, verbose=0), rtol=1e-6)


@saving.register_keras_serializable(package="Tests")
class TwoLayerNet(Model):
    def __init__(self, hidden=6, **kwargs):
        super().__init__(**kwargs)
        self.hidden = hidden
        self.first = Dense(hidden, activation="relu")
        self.second = Dense(2, activation="softmax")

    def call(self, inputs, training=None):
        return self.second(self.first(inputs))

    def get_config(self):
        return {**super().get_config(), "hidden": self.hidden}


def test_subclassed_model_round_trip(tmp_path):
    x, y = _data()
    model = TwoLayerNet(hidden=5)
    model.compile(optimizer=optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=6, verbose=0)
    model.save(tmp_path / "sub.keras")
    loaded = load_model(tmp_path / "sub.keras")
    assert isinstance(loaded, TwoLayerNet) and loaded.hidden == 5
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert loaded.optimizer.iterations == model.optimizer.iterations == 8


def _corrupt(data):
    data = bytearray(data)
    start = len(data) // 3
    for i in range(start, start + 64):
        data[i] ^= 0xFF
    return bytes(data)


@pytest.mark.parametrize("damage, pattern", [
    (lambda data: data[: len(data) // 2], "truncated, corrupt or not a zip"),
    (_corrupt, "not a valid .keras file|corrupt|not a valid safetensors"),
    (lambda data: b"just some text, not a model", "truncated, corrupt or not a zip"),
])
def test_truncated_or_corrupt_files_raise_value_error(tmp_path, damage, pattern):
    path = tmp_path / "m.keras"
    _model().save(path)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ValueError, match=pattern):
        load_model(path)


def test_foreign_files(tmp_path):
    foreign = tmp_path / "foreign.keras"
    with zipfile.ZipFile(foreign, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match="not a ganglion .keras model"):
        load_model(foreign)
    keras_like = tmp_path / "keras3.keras"
    with zipfile.ZipFile(keras_like, "w") as z:
        z.writestr("config.json", "{}")
        z.writestr("model.weights.safetensors", b"")
    with pytest.raises(ValueError, match="was not written by ganglion"):
        load_model(keras_like)
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.keras")
    (tmp_path / "w.bin").write_bytes(b"\x00" * 40)
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        _model().load_weights(tmp_path / "w.bin")
