"""Keras 3 variables, ``add_weight`` and custom ``Metric`` subclasses: the same code runs in Keras (torch backend) and
in ganglion.keras, and the results agree."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from ganglion import keras as gk  # noqa: E402


def _source(k):
    """The tutorial-style code, written once against a Keras module ``k`` (real Keras or ganglion.keras)."""

    class ScaledDense(k.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform",
                                     regularizer=k.regularizers.L2(0.01), constraint=k.constraints.MaxNorm(1.0),
                                     name="w")
            self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="b")

        def call(self, inputs):
            return inputs @ self.w + self.b

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    class TruePositiveF1(k.metrics.Metric):
        def __init__(self, name="tp_f1", **kwargs):
            super().__init__(name=name, **kwargs)
            self.tp = self.add_variable(shape=(), initializer="zeros", name="tp")
            self.predicted = self.add_variable(shape=(), initializer="zeros", name="predicted")
            self.actual = self.add_weight(shape=(), initializer="zeros", name="actual")

        def update_state(self, y_true, y_pred, sample_weight=None):
            hit = (y_pred > 0.5) * 1.0
            self.tp.assign_add((hit * y_true).sum())
            self.predicted.assign_add(hit.sum())
            self.actual.assign_add(y_true.sum())

        def result(self):
            return 2.0 * self.tp.value / (self.predicted.value + self.actual.value + 1e-7)

    return ScaledDense, TruePositiveF1


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5)).astype("float32")
    y = (x[:, :1] + 0.5 * x[:, 1:2] > 0).astype("float32")
    return x, y


def _model(k):
    dense_cls, metric_cls = _source(k)
    model = k.Sequential([k.Input((5,)), dense_cls(1, name="scaled"), k.layers.Activation("sigmoid")])
    model.compile(optimizer=k.optimizers.SGD(0.5), loss="binary_crossentropy", metrics=[metric_cls()])
    return model


def test_custom_layer_and_metric_history_match_keras():
    x, y = _data()
    theirs, ours = _model(keras), _model(gk)
    ours.set_weights(theirs.get_weights())
    h_theirs = theirs.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0).history
    h_ours = ours.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0).history
    assert set(h_ours) == set(h_theirs) == {"loss", "tp_f1"}
    for key in h_theirs:
        np.testing.assert_allclose(h_ours[key], h_theirs[key], rtol=1e-5, atol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert np.linalg.norm(ours.get_weights()[0], axis=0).max() <= 1.0 + 1e-6  # MaxNorm held
    e_theirs = theirs.evaluate(x, y, verbose=0, return_dict=True)
    e_ours = ours.evaluate(x, y, verbose=0, return_dict=True)
    for key in e_theirs:
        np.testing.assert_allclose(e_ours[key], e_theirs[key], rtol=1e-5, atol=1e-5)


def test_add_weight_variables_are_tracked_penalized_and_saved(tmp_path):
    x, y = _data()
    model = _model(gk)
    model(x[:2])
    layer = model.get_layer("scaled")
    assert [w.path for w in layer.weights] == ["scaled/w", "scaled/b"]
    assert layer.weights[0] is layer.w and isinstance(layer.w, gk.Variable)
    assert [w.name for w in model.trainable_weights] == ["w", "b"] and len(model.losses) == 1
    np.testing.assert_allclose(model.losses[0].item(), 0.01 * np.sum(layer.w.numpy() ** 2), rtol=1e-6)
    model.fit(x, y, epochs=1, verbose=0)
    path = str(tmp_path / "m.keras")
    model.save(path)
    dense_cls, metric_cls = _source(gk)
    loaded = gk.models.load_model(path, custom_objects={"ScaledDense": dense_cls, "TruePositiveF1": metric_cls},
                                  compile=False)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    frozen = gk.layers.Layer(name="frozen")
    counter = frozen.add_weight(shape=(), initializer="zeros", dtype="int32", trainable=False, name="count")
    assert counter.dtype == "int32" and not counter.trainable and frozen.non_trainable_weights[0] is counter
    assert frozen.add_variable((2,), "ones").shape == (2,)


def test_metric_state_reset_config_and_call():
    _, metric_cls = _source(gk)
    _, keras_cls = _source(keras)
    ours, theirs = metric_cls(), keras_cls()
    y_true = np.array([[1.0], [0.0], [1.0], [1.0]], "float32")
    y_pred = np.array([[0.9], [0.8], [0.2], [0.7]], "float32")
    import torch

    for m, conv in ((ours, gk.layers.base.as_tensor), (theirs, torch.tensor)):
        value = m(conv(y_true), conv(y_pred))
        np.testing.assert_allclose(float(value), 2 * 2 / (3 + 3 + 1e-7), rtol=1e-6)
    assert [v.name for v in ours.variables] == [v.name for v in theirs.variables] == ["tp", "predicted", "actual"]
    assert ours.get_config() == theirs.get_config() == {"name": "tp_f1", "dtype": "float32"}
    ours.reset_state()
    assert [float(v.numpy()) for v in ours.variables] == [0.0, 0.0, 0.0]
    with pytest.raises(NotImplementedError):
        gk.metrics.Metric().update_state(y_true, y_pred)


@pytest.mark.parametrize("make", [lambda k: k.Variable(np.array([1.0, 2.0], "float32"), name="v"),
                                  lambda k: k.Variable("ones", shape=(2,), name="v")])
def test_variable_methods_match_keras(make):
    ours, theirs = make(gk), make(keras)
    for step in (lambda v: v.assign([3.0, 4.0]), lambda v: v.assign_add([1.0, 1.0]), lambda v: v.assign_sub(0.5)):
        assert step(ours) is ours  # Keras returns the new value; the variable is that value here
        np.testing.assert_array_equal(np.asarray(step(theirs).detach()), theirs.numpy())
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert ours.dtype == theirs.dtype == "float32" and isinstance(ours.dtype, str)
    assert (ours.shape, ours.name, ours.path, ours.trainable) == (tuple(theirs.shape), theirs.name, theirs.path, True)
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    np.testing.assert_array_equal((ours * 2 + 1).detach().numpy(), np.asarray((theirs * 2 + 1).detach()))
    ours.trainable = False
    assert not ours.trainable and not ours.requires_grad
    with pytest.raises(ValueError, match="expected a value of shape"):
        ours.assign(np.zeros(3))


def test_variable_value_carries_gradients_and_keeps_dtypes():
    v = gk.Variable(np.array([1.0, -2.0], "float32"))
    loss = (v.value * v.value).sum()
    loss.backward()
    np.testing.assert_allclose(v.grad.numpy(), [2.0, -4.0])
    assert gk.Variable(np.zeros(2)).dtype == keras.Variable(np.zeros(2)).dtype == "float64"
    assert gk.variables.Variable(3).dtype == "int32"
    with pytest.raises(ValueError, match="needs a shape"):
        gk.Variable("zeros")


def test_built_in_layer_weights_are_keras_variables():
    dense = gk.layers.Dense(3, name="d")
    dense(np.zeros((1, 4), "float32"))
    kernel = dense.weights[0]
    assert kernel.path == "d/kernel" and kernel.shape == (4, 3) and kernel.dtype == "float32"
    assert kernel.assign(np.ones((4, 3))) is kernel
    kernel.assign_add(np.ones((4, 3)))
    np.testing.assert_array_equal(dense.get_weights()[0], np.full((4, 3), 2.0))
    np.testing.assert_array_equal((np.ones((1, 4), "float32") @ kernel).numpy(), np.full((1, 3), 8.0))
    kernel.trainable = False
    assert [w.name for w in dense.trainable_weights] == ["bias"]


def test_einsum_takes_a_keras_variable_like_any_tensor():
    import ganglion
    import ganglion.keras as gk

    v = gk.Variable(np.ones((3, 2), "float32"))
    out = ganglion.einsum("ij,jk->ik", ganglion.ones(4, 3), v)
    np.testing.assert_array_equal(out.detach().numpy(), np.full((4, 2), 3.0, "float32"))
