"""The Keras face: ``model.export(path, format="onnx")`` on small Sequential and functional models, run in
onnxruntime on another batch size and compared with the Keras model's own predictions."""

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import ganglion.keras as keras  # noqa: E402
from onnx_helpers import onnx_outputs  # noqa: E402

RNG = np.random.default_rng(2)
layers = keras.layers


def dense_net():
    return keras.Sequential([keras.Input(shape=(6,)), layers.Dense(8, activation="relu"), layers.Dropout(0.5),
                             layers.Dense(3, activation="softmax")])


def conv_net():
    return keras.Sequential([
        keras.Input(shape=(10, 10, 3)), layers.Conv2D(4, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2), layers.Conv2D(6, 3, strides=2, activation="tanh"), layers.AveragePooling2D(2),
        layers.Flatten(), layers.Dense(5),
    ])


def conv_net_global_pool_batch_norm():
    return keras.Sequential([
        keras.Input(shape=(8, 8, 2)), layers.Conv2D(4, 3), layers.BatchNormalization(), layers.Activation("gelu"),
        layers.GlobalAveragePooling2D(), layers.Dense(2, activation="sigmoid"),
    ])


def functional_concat():
    x = keras.Input(shape=(5,))
    a = layers.Dense(4, activation="elu")(x)
    b = layers.Dense(4)(x)
    merged = layers.Concatenate()([a, layers.Add()([a, b])])
    return keras.Model(x, layers.Dense(2)(merged))


def lstm_net():
    return keras.Sequential([keras.Input(shape=(7, 3)), layers.LSTM(5, return_sequences=True), layers.GRU(4),
                             layers.Dense(2)])


# (id, model factory, input shape without the batch, tolerance)
MODELS = [
    ("dense", dense_net, (6,), 1e-5),
    ("conv_pool", conv_net, (10, 10, 3), 1e-5),
    ("conv_batch_norm_global_pool", conv_net_global_pool_batch_norm, (8, 8, 2), 1e-5),
    ("functional_concat_add", functional_concat, (5,), 1e-5),
    ("lstm_gru", lstm_net, (7, 3), 1e-5),
]


@pytest.mark.parametrize("name, factory, shape, tol", MODELS, ids=[m[0] for m in MODELS])
def test_keras_export_round_trip(name, factory, shape, tol, tmp_path):
    model = factory()
    path = tmp_path / f"{name}.onnx"
    model.export(str(path), format="onnx")
    x = RNG.standard_normal((5,) + shape).astype(np.float32)
    expected = np.asarray(model.predict(x, verbose=0))
    (got,) = onnx_outputs(path, [x])
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=tol, rtol=tol)


def test_keras_export_refuses_an_unknown_format(tmp_path):
    with pytest.raises(ValueError, match=r"unknown format 'tf_saved_model'.*'onnx'"):
        dense_net().export(str(tmp_path / "m"), format="tf_saved_model")


def test_keras_export_of_an_unbuilt_model_asks_for_an_example(tmp_path):
    model = keras.Sequential([layers.Dense(3)])
    with pytest.raises(ValueError, match="input shape is not known.*example_input"):
        model.export(str(tmp_path / "m.onnx"))
    model.export(str(tmp_path / "m.onnx"), example_input=np.ones((2, 4), np.float32))
    assert (tmp_path / "m.onnx").exists()
