"""Keras Dropout, SpatialDropout1D/2D, Embedding and Lambda: behaviour in and out of training, masks and their
gradients, parity of Embedding with PyTorch, Keras' shapes and parameter counts, configs, saving rules, errors."""

import json

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion.keras import layers as L
from ganglion.keras.saving import register_keras_serializable


# ------------------------------------------------------------------------------------------------ dropout
def test_dropout_is_identity_outside_training_and_inverted_dropout_inside():
    x_np = np.random.default_rng(0).uniform(1.0, 2.0, (64, 50)).astype(np.float32)
    layer = L.Dropout(0.3)
    assert layer(x_np) is not None and np.array_equal(layer(x_np).numpy(), x_np)
    x = g.tensor(x_np, requires_grad=True)
    y = layer(x, training=True)
    kept = y.detach().numpy() != 0
    assert 0.6 < kept.mean() < 0.8
    np.testing.assert_allclose(y.detach().numpy()[kept], x_np[kept] / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.7, rtol=1e-6)


def test_dropout_seed_gives_reproducible_masks_and_noise_shape_shares_them():
    x = np.ones((4, 5, 6), np.float32)
    a = L.Dropout(0.5, seed=7)(x, training=True).numpy()
    b = L.Dropout(0.5, seed=7)(x, training=True).numpy()
    np.testing.assert_array_equal(a, b)
    shared = L.Dropout(0.5, noise_shape=(None, 1, 6), seed=1)(x, training=True).numpy()
    assert (shared == shared[:, :1, :]).all()  # one draw per (sample, feature), shared over axis 1
    assert set(np.unique(shared)) <= {0.0, 2.0}
    with pytest.raises(ValueError, match="noise_shape"):
        L.Dropout(0.5, noise_shape=(None, 2, 6))(x, training=True)


@pytest.mark.parametrize("make, shape, channel_axes", [
    (lambda: L.SpatialDropout2D(0.5, seed=3), (3, 4, 5, 8), (0, 3)),
    (lambda: L.SpatialDropout2D(0.5, data_format="channels_first", seed=3), (3, 8, 4, 5), (0, 1)),
    (lambda: L.SpatialDropout1D(0.5, seed=3), (3, 6, 8), (0, 2)),
])
def test_spatial_dropout_drops_whole_feature_maps(make, shape, channel_axes):
    layer = make()
    x = np.ones(shape, np.float32)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    y = layer(x, training=True).numpy()
    other = tuple(a for a in range(len(shape)) if a not in channel_axes)
    per_map = y.max(axis=other)
    assert (y.min(axis=other) == per_map).all()  # each (sample, channel) map is all 0 or all 2
    assert set(np.unique(per_map)) == {0.0, 2.0}
    with pytest.raises(ValueError, match="expected ndim"):
        layer(np.ones(shape[:-1], np.float32), training=True)


def test_dropout_in_a_model_follows_fit_and_predict():
    model = g.keras.Sequential([L.Input(shape=(10,)), L.Dropout(0.999)])
    x = np.ones((3, 10), np.float32)
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    assert (model(x, training=True).numpy() == 0).mean() > 0.9


@pytest.mark.parametrize("rate", [-0.1, 1.5, "0.5"])
def test_dropout_rejects_bad_rate(rate):
    with pytest.raises(ValueError, match="rate"):
        L.Dropout(rate)


# ---------------------------------------------------------------------------------------------- embedding
def test_embedding_matches_torch_forward_and_gradient():
    layer = L.Embedding(10, 4)
    idx = np.array([[1, 2, 2], [9, 0, 1]])
    y = layer(idx)
    (table,) = layer.get_weights()
    assert table.shape == (10, 4) and np.abs(table).max() <= 0.05  # Keras' default: uniform(-0.05, 0.05)
    weight = torch.tensor(table, requires_grad=True)
    y_t = torch.nn.functional.embedding(torch.tensor(idx), weight)
    np.testing.assert_allclose(y.detach().numpy(), y_t.detach().numpy())
    r = np.random.default_rng(0).standard_normal(y_t.shape).astype(np.float32)
    (y * g.tensor(r)).sum().backward()
    (y_t * torch.tensor(r)).sum().backward()
    np.testing.assert_allclose(layer.weights[0].parameter.grad.numpy(), weight.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(layer(idx.astype(np.float32)).detach().numpy(), y.detach().numpy())  # floats cast


def test_embedding_shapes_params_config_and_mask():
    layer = L.Embedding(1000, 64, mask_zero=True, embeddings_initializer="he_normal", name="emb")
    model = g.keras.Sequential([L.Input(shape=(10,), dtype="int32"), layer])
    assert model.output_shape == (None, 10, 64) and layer.count_params() == 64000
    assert layer.compute_output_shape((None, 10)) == (None, 10, 64)
    assert layer.embeddings.shape == (1000, 64)
    np.testing.assert_array_equal(layer.compute_mask(g.tensor(np.array([[0, 3]]))).numpy(), [[False, True]])
    config = json.loads(json.dumps(layer.get_config()))
    clone = L.Embedding.from_config(config)
    assert clone.get_config() == config and clone.mask_zero
    preset = L.Embedding(3, 2, weights=[np.arange(6, dtype=np.float32).reshape(3, 2)])
    np.testing.assert_array_equal(preset(np.array([2])).detach().numpy(), [[4.0, 5.0]])


def test_embedding_regularizer_and_bad_indices():
    layer = L.Embedding(5, 2, embeddings_regularizer=g.keras.regularizers.L2(0.5), name="words")
    layer(np.array([0]))
    np.testing.assert_allclose(float(layer.losses[0].item()), 0.5 * (layer.get_weights()[0] ** 2).sum(), rtol=1e-5)
    for bad in (5, -1):
        with pytest.raises(ValueError, match=rf"'words'.*index {bad}.*input_dim=5"):
            layer(np.array([[0, bad]]))
    with pytest.raises(ValueError, match="input_dim"):
        L.Embedding(0, 3)


def test_embedding_trains_in_a_model():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 6, (64, 3))
    y = (x[:, 0] >= 3).astype(np.int64)
    g.manual_seed(0)
    model = g.keras.Sequential([L.Input(shape=(3,), dtype="int64"), L.Embedding(6, 4), L.Flatten(),
                                L.Dense(2, activation="softmax")])
    model.compile(optimizer=g.keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] >= 0.95


# ------------------------------------------------------------------------------------------------- lambda
def test_lambda_runs_functions_with_arguments_and_gradients():
    layer = L.Lambda(lambda t, power: t ** power, arguments={"power": 3})
    x = g.tensor(np.array([[1.0, -2.0]], np.float32), requires_grad=True)
    y = layer(x)
    np.testing.assert_allclose(y.detach().numpy(), [[1.0, -8.0]])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[3.0, 12.0]])
    inputs = L.Input(shape=(4,))
    outputs = L.Lambda(lambda t: t[:, :2] * 2)(inputs)
    assert outputs.shape == (None, 2)
    assert L.Lambda(lambda t: t, output_shape=(7,)).compute_output_shape((None, 7)) == (None, 7)


def test_lambda_with_an_unregistered_function_cannot_be_saved(tmp_path):
    model = g.keras.Sequential([L.Input(shape=(2,)), L.Lambda(lambda t: t * 2, name="double")])
    with pytest.raises(ValueError, match=r"'double'.*cannot be saved safely.*register_keras_serializable"):
        model.save(tmp_path / "lambda.keras")
    assert not (tmp_path / "lambda.keras").exists()


@register_keras_serializable(package="tests")
def plus_one(t):
    return t + 1


def test_lambda_with_a_registered_or_activation_function_saves_and_loads(tmp_path):
    model = g.keras.Sequential([L.Input(shape=(2,)), L.Lambda(plus_one), L.Lambda(g.keras.activations.relu),
                                L.Dense(1)])
    x = np.array([[-3.0, 1.0]], np.float32)
    path = tmp_path / "lambda.keras"
    model.save(path)
    loaded = g.keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    config = model.layers[0].get_config()
    assert config["function"] == {"registered_name": "tests>plus_one"}
    missing = dict(config, function={"registered_name": "tests>nowhere"})
    with pytest.raises(ValueError, match="custom_objects"):
        L.Lambda.from_config(missing)
    assert L.Lambda.from_config(missing, custom_objects={"nowhere": plus_one}).function is plus_one


def test_lambda_rejects_non_callables():
    with pytest.raises(ValueError, match="callable"):
        L.Lambda(3)
