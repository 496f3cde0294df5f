"""Keras activation layers (ReLU, LeakyReLU, PReLU, ELU, Softmax) against Keras 3: outputs for every argument,
PReLU's weight (shape, initializer, gradient) with the weights copied across, Softmax's mask, configs, save/load
through ``.keras`` files and Keras' errors."""

import os

import numpy as np
import pytest

import ganglion as g
from ganglion import keras as gk
from ganglion.keras import layers as L

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402 - a test dependency: after KERAS_BACKEND is set

X = np.random.default_rng(0).uniform(-4, 8, (3, 4, 5)).astype(np.float32)


def _np(y):
    return y.detach().cpu().numpy() if hasattr(y, "detach") else np.asarray(y)


@pytest.mark.parametrize("name, kwargs", [
    ("ReLU", {}), ("ReLU", dict(max_value=6.0)), ("ReLU", dict(max_value=2.5, negative_slope=0.1)),
    ("ReLU", dict(threshold=1.5)), ("ReLU", dict(negative_slope=0.2, threshold=1.0, max_value=5.0)),
    ("ReLU", dict(negative_slope=0.3)), ("LeakyReLU", {}), ("LeakyReLU", dict(negative_slope=0.05)),
    ("ELU", {}), ("ELU", dict(alpha=0.5)), ("Softmax", {}), ("Softmax", dict(axis=1)),
    ("Softmax", dict(axis=[1, 2])), ("Softmax", dict(axis=[0])),
])
def test_outputs_match_keras(name, kwargs):
    ours = getattr(L, name)(**kwargs)
    theirs = getattr(keras.layers, name)(**kwargs)
    np.testing.assert_allclose(ours(X).numpy(), _np(theirs(X)), rtol=1e-5, atol=1e-6)
    assert ours.compute_output_shape((None, 4, 5)) == (None, 4, 5)
    assert ours.supports_masking and ours.built


def test_leaky_relu_default_slope_is_keras_3s_and_alpha_is_deprecated():
    assert L.LeakyReLU().negative_slope == 0.3
    with pytest.warns(UserWarning, match="deprecated"):
        assert L.LeakyReLU(alpha=0.1).negative_slope == 0.1


@pytest.mark.parametrize("shared_axes", [None, 1, [1, 2], (2,)])
def test_prelu_weight_shape_and_outputs_and_gradient_match_keras(shared_axes):
    alpha = keras.initializers.RandomUniform(0.0, 0.5, seed=3)
    theirs = keras.layers.PReLU(alpha_initializer=alpha, shared_axes=shared_axes)
    theirs_y = theirs(X)
    ours = L.PReLU(shared_axes=shared_axes)
    ours.build((None, 4, 5))
    assert [w.name for w in ours.weights] == ["alpha"] and ours.weights[0].shape == tuple(theirs.alpha.shape)
    ours.set_weights(theirs.get_weights())
    x = g.tensor(X, requires_grad=True)
    y = ours(x)
    np.testing.assert_allclose(y.detach().numpy(), _np(theirs_y), rtol=1e-6)
    (y * y).sum().backward()
    theirs_y.pow(2).sum().backward()
    np.testing.assert_allclose(ours.alpha.grad.numpy(), _np(theirs.alpha.value.grad), rtol=1e-4)
    assert ours.count_params() == theirs.count_params()


def test_prelu_defaults_regularizer_and_constraint():
    layer = L.PReLU(alpha_regularizer=gk.regularizers.L2(0.5), alpha_constraint="non_neg")
    y = layer(X)
    np.testing.assert_array_equal(y.detach().numpy(), np.maximum(X, 0))  # alpha starts at zeros, as Keras
    layer.alpha.array[...] = 2.0
    np.testing.assert_allclose(layer.losses[0].item(), 0.5 * 4.0 * 20, rtol=1e-6)
    assert layer.__dict__["_constraints"][0][0] == "alpha"
    config = layer.get_config()
    assert config["alpha_initializer"]["class_name"] == "Zeros" and config["shared_axes"] is None
    clone = L.PReLU.from_config(config)
    assert clone.get_config() == config


def test_softmax_mask_matches_keras():
    mask = np.random.default_rng(1).uniform(size=(3, 1, 5)) > 0.3
    for m in (mask, mask.astype(np.float32)):
        np.testing.assert_allclose(L.Softmax()(X, mask=m).numpy(), _np(keras.layers.Softmax()(X, mask=m)),
                                   rtol=1e-5, atol=1e-7)
    out = L.Softmax()(X, mask=mask).numpy()
    assert (out[np.broadcast_to(~mask, X.shape)] == 0).all()


@pytest.mark.parametrize("layer", [L.ReLU(max_value=3.0, negative_slope=0.1, threshold=0.5), L.LeakyReLU(0.2),
                                   L.ELU(alpha=0.7), L.Softmax(axis=[1, 2]), L.PReLU(shared_axes=[1])])
def test_config_round_trips_and_model_saves_and_loads(layer, tmp_path):
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config
    model = gk.Sequential([gk.Input((4, 5)), layer])
    if isinstance(layer, L.PReLU):
        layer.set_weights([np.random.default_rng(2).uniform(size=(1, 5)).astype(np.float32)])
    model.save(tmp_path / "m.keras")
    loaded = gk.models.load_model(tmp_path / "m.keras")
    assert type(loaded.layers[-1]) is type(layer)
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)


@pytest.mark.parametrize("make, match", [
    (lambda: L.ReLU(max_value=-1.0), "max_value"), (lambda: L.ReLU(negative_slope=-0.1), "negative_slope"),
    (lambda: L.ReLU(negative_slope=None), "negative_slope"), (lambda: L.ReLU(threshold=-1), "threshold"),
    (lambda: L.LeakyReLU(negative_slope=-1), "negative_slope"), (lambda: L.LeakyReLU(None), "negative_slope"),
    (lambda: L.ELU(alpha="big"), "alpha"), (lambda: L.Softmax(axis="last"), "axis"),
    (lambda: L.PReLU(shared_axes=[0]), "shared_axes"),
])
def test_bad_arguments_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_inputs_raise():
    layer = L.PReLU()
    layer(X)
    with pytest.raises(ValueError, match="incompatible"):
        layer(X[:, :, :3])
    with pytest.raises(ValueError, match="out of range"):
        L.PReLU(shared_axes=[3])(X)
    with pytest.raises(ValueError, match="broadcastable"):
        L.Softmax()(X, mask=np.ones((3, 4, 2), bool))
    with pytest.raises(TypeError, match="unexpected keyword"):
        L.ReLU(max_val=1.0)
