"""One loss path: ``fit`` / ``evaluate`` / ``train_on_batch`` get their loss from ``compute_loss`` and their logs from
``compute_metrics``, as in Keras 3. Each model below is written once and built on both ``keras`` (torch backend) and
``ganglion.keras`` with the same weights; the loss histories and evaluate results must agree."""

import os

import numpy as np
import pytest

import ganglion
from ganglion import keras as gk

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402 - a test dependency: after KERAS_BACKEND is set
if keras.backend.backend() != "torch":
    pytest.skip("the Keras oracle runs on its torch backend", allow_module_level=True)

FRAMEWORKS = {"keras": keras, "ganglion": gk}


def _data(n=12, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = rng.normal(size=(n, 2)).astype(np.float32)
    sw = rng.uniform(0.2, 2.0, size=n).astype(np.float32)
    return x, y, sw


# ------------------------------------------------------------------------------------- models, written once
def _square_mean(t):
    """mean(t ** 2) on a torch tensor or a ganglion Tensor (both have ``**`` and ``.mean()``)."""
    return (t ** 2).mean()


def _abs_mean(t):
    return t.abs().mean()


def _model_classes(K):
    """The subclasses under test, for the Keras module ``K`` (keras or ganglion.keras)."""

    class AuxLoss(K.Model):
        """The compiled loss plus 0.5 * mean(y_pred^2)."""

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            loss = super().compute_loss(x, y, y_pred, sample_weight, training=training)
            return loss + 0.5 * _square_mean(y_pred)

    class OtherLoss(K.Model):
        """Trains on mean |y_pred - y| whatever loss was compiled (and on nothing else)."""

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            return _abs_mean(y_pred - y)

    class OldSignature(K.Model):
        """A compute_loss written before Keras 3.3 added ``training``: still called, without it."""

        def compute_loss(self, x, y, y_pred, sample_weight):
            loss = super().compute_loss(x, y, y_pred, sample_weight)
            return loss + 0.25 * _square_mean(y_pred)

    class Penalized(K.layers.Layer):
        """Identity that adds 0.01 * sum(x^2) with add_loss."""

        def call(self, inputs):
            self.add_loss(0.01 * (inputs ** 2).sum())
            return inputs

    return {"AuxLoss": AuxLoss, "OtherLoss": OtherLoss, "OldSignature": OldSignature, "Model": K.Model,
            "Penalized": Penalized}


def _build(K, cls_name, weights=None, add_loss=True, regularize=True):
    """Input(4) -> Dense(5, relu, L2 kernel) -> [add_loss layer] -> Dense(2), as a ``cls_name`` model."""
    classes = _model_classes(K)
    inputs = K.Input(shape=(4,))
    hidden = K.layers.Dense(5, activation="relu", name="hidden",
                            kernel_regularizer=K.regularizers.L2(0.02) if regularize else None)(inputs)
    if add_loss:
        hidden = classes["Penalized"](name="penalized")(hidden)
    outputs = K.layers.Dense(2, name="out")(hidden)
    model = classes[cls_name](inputs, outputs)
    if weights is not None:
        model.set_weights(weights)
    return model


def _pair(cls_name, **kwargs):
    """The same model on ganglion.keras and keras, with ganglion's initial weights copied to keras."""
    ganglion.manual_seed(0)
    ours = _build(gk, cls_name, **kwargs)
    theirs = _build(keras, cls_name, weights=ours.get_weights(), **kwargs)
    return ours, theirs


def _compile(model, K, loss="mse", **kwargs):
    model.compile(optimizer=K.optimizers.SGD(learning_rate=0.05), loss=loss, **kwargs)


# ----------------------------------------------------------------------------------------------- parity
@pytest.mark.parametrize("cls_name", ["AuxLoss", "OtherLoss", "OldSignature", "Model"])
@pytest.mark.parametrize("weighted", [False, True])
def test_fit_and_evaluate_train_on_the_overridden_compute_loss(cls_name, weighted):
    x, y, sw = _data()
    sw = sw if weighted else None
    models = _pair(cls_name)
    results = {}
    for (name, K), model in zip(FRAMEWORKS.items(), models[::-1]):
        _compile(model, K)
        history = model.fit(x, y, sample_weight=sw, batch_size=4, epochs=3, shuffle=False, verbose=0)
        results[name] = (history.history["loss"], model.evaluate(x, y, sample_weight=sw, batch_size=5, verbose=0),
                         model.get_weights())
    ours, theirs = results["ganglion"], results["keras"]
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-5, atol=1e-6)
    for a, b in zip(ours[2], theirs[2]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert ours[0][-1] < ours[0][0]  # it trained


def test_the_override_changes_what_fit_trains_on():
    """The same data and weights, default compute_loss vs the 'mean |error|' override: different weights after fit,
    and the override's history is its own loss."""
    x, y, _ = _data()
    ganglion.manual_seed(0)
    plain = _build(gk, "Model", add_loss=False, regularize=False)
    other = _build(gk, "OtherLoss", weights=plain.get_weights(), add_loss=False, regularize=False)
    for model in (plain, other):
        _compile(model, gk)
    other_start = np.mean(np.abs(other.predict(x, verbose=0) - y))
    plain.fit(x, y, batch_size=12, epochs=1, shuffle=False, verbose=0)
    history = other.fit(x, y, batch_size=12, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"][0], other_start, rtol=1e-5)
    assert not np.allclose(plain.get_weights()[0], other.get_weights()[0])


def test_train_and_test_on_batch_use_compute_loss():
    x, y, sw = _data(6)
    values = {}
    for (name, K), model in zip(FRAMEWORKS.items(), _pair("AuxLoss")[::-1]):
        _compile(model, K)
        train = model.train_on_batch(x, y, sample_weight=sw)
        test = model.test_on_batch(x, y, sample_weight=sw)
        values[name] = (float(np.asarray(train)), float(np.asarray(test)))
    np.testing.assert_allclose(values["ganglion"], values["keras"], rtol=1e-5)


# ---------------------------------------------------------------------------------------- custom train_step
class CustomStep(_model_classes(gk)["AuxLoss"]):
    """A custom train_step that gets its loss from compute_loss (here AuxLoss's override)."""

    def train_step(self, data):
        x, y, sample_weight = data
        y_pred = self(x, training=True)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
        weights = self.trainable_weights
        for w in weights:
            w.parameter.grad = None
        loss.backward()
        self.optimizer.apply([w.grad for w in weights], weights)
        self.step_losses.append(loss.item())
        return {"step_loss": loss.item()}


def test_a_custom_train_step_calling_compute_loss_trains_like_the_default_one():
    x, y, sw = _data()
    ganglion.manual_seed(0)
    reference = _build(gk, "Model")
    inputs = gk.Input(shape=(4,))
    hidden = gk.layers.Dense(5, activation="relu", kernel_regularizer=gk.regularizers.L2(0.02))(inputs)
    outputs = gk.layers.Dense(2)(_model_classes(gk)["Penalized"]()(hidden))
    custom = CustomStep(inputs, outputs)
    custom.set_weights(reference.get_weights())
    custom.step_losses = []
    theirs = _build(keras, "AuxLoss", weights=reference.get_weights())
    _compile(custom, gk)
    _compile(theirs, keras)
    history = custom.fit(x, y, sample_weight=sw, batch_size=4, epochs=2, shuffle=False, verbose=0)
    keras_history = theirs.fit(x, y, sample_weight=sw, batch_size=4, epochs=2, shuffle=False, verbose=0)
    per_epoch = np.asarray(custom.step_losses).reshape(2, 3).mean(axis=1)  # equal batches: the epoch mean
    np.testing.assert_allclose(per_epoch, keras_history.history["loss"], rtol=1e-5)
    assert list(history.history) == ["step_loss"]  # a custom step's own logs, as Keras reports them
    np.testing.assert_allclose(history.history["step_loss"][-1], custom.step_losses[-1])
    for a, b in zip(custom.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------- add_loss and regularizers, once
def test_add_loss_and_the_kernel_regularizer_are_counted_once():
    """compute_loss = mse + 0.02 * sum(W_hidden^2) + 0.01 * sum(hidden^2), checked by hand, for evaluate, the
    direct call and an override that calls super."""
    x, y, _ = _data(6)
    for cls_name in ("Model", "AuxLoss"):
        ganglion.manual_seed(0)
        model = _build(gk, cls_name)
        _compile(model, gk)
        w1, b1, w2, b2 = model.get_weights()
        hidden = np.maximum(x @ w1 + b1, 0)
        pred = hidden @ w2 + b2
        expected = np.mean((pred - y) ** 2) + 0.02 * np.sum(w1 ** 2) + 0.01 * np.sum(hidden ** 2)
        if cls_name == "AuxLoss":
            expected += 0.5 * np.mean(pred ** 2)
        np.testing.assert_allclose(model.evaluate(x, y, batch_size=6, verbose=0), expected, rtol=1e-5)
        xt, yt = ganglion.tensor(x), ganglion.tensor(y)
        direct = model.compute_loss(x=xt, y=yt, y_pred=model(xt), training=False)
        np.testing.assert_allclose(direct.item(), expected, rtol=1e-5)


def test_add_loss_alone_trains_without_a_compiled_loss():
    """compile(loss=None): the model trains on its add_loss and regularization losses, as in Keras."""
    x, y, _ = _data()
    histories = {}
    for (name, K), model in zip(FRAMEWORKS.items(), _pair("Model")[::-1]):
        model.compile(optimizer=K.optimizers.SGD(learning_rate=0.05), loss=None)
        histories[name] = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(histories["ganglion"], histories["keras"], rtol=1e-5)
    ganglion.manual_seed(0)
    bare = _build(gk, "Model", add_loss=False, regularize=False)
    bare.compile(optimizer="sgd", loss=None)
    with pytest.raises(ValueError, match="No loss to compute. Provide a `loss` argument in `compile"):
        bare.fit(x, y, verbose=0)


# ----------------------------------------------------------------------------------------------- metrics
def _metric_classes(K):
    class TrackedLoss(K.Model):
        """Keras' compute_loss docstring example: its own loss tracker, reported through ``metrics``."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = K.metrics.Mean(name="loss")

        def compute_loss(self, x, y, y_pred, sample_weight, training=True):
            loss = ((y_pred - y) ** 2).mean()
            self.loss_tracker.update_state(loss)
            return loss

        def reset_metrics(self):
            self.loss_tracker.reset_state()

        @property
        def metrics(self):
            return [self.loss_tracker]

    class PredictionMean(K.Model):
        """Keras' compute_metrics docstring example: a metric of its own, updated in compute_metrics."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.pred_mean = K.metrics.Mean(name="pred_mean")

        def compute_metrics(self, x, y, y_pred, sample_weight=None):
            results = super().compute_metrics(x, y, y_pred, sample_weight)
            self.pred_mean.update_state(y_pred)
            results["pred_mean"] = self.pred_mean.result()
            return results

    return {"TrackedLoss": TrackedLoss, "PredictionMean": PredictionMean}


@pytest.mark.parametrize("cls_name", ["TrackedLoss", "PredictionMean"])
def test_metrics_of_a_compute_loss_or_compute_metrics_override(cls_name):
    x, y, _ = _data()
    ganglion.manual_seed(0)
    start = None
    results = {}
    for name, K in FRAMEWORKS.items():
        inputs = K.Input(shape=(4,))
        outputs = K.layers.Dense(2)(K.layers.Dense(5, activation="relu")(inputs))
        model = _metric_classes(K)[cls_name](inputs, outputs)
        if start is None:
            start = model.get_weights()
        model.set_weights(start)
        _compile(model, K, metrics=["mae"])
        history = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history
        evaluated = model.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)
        results[name] = (history, evaluated)
    ours, theirs = results["ganglion"], results["keras"]
    assert sorted(ours[0]) == sorted(theirs[0]) and sorted(ours[1]) == sorted(theirs[1])
    for key in theirs[0]:
        np.testing.assert_allclose(ours[0][key], theirs[0][key], rtol=1e-5, err_msg=key)
    for key in theirs[1]:
        np.testing.assert_allclose(ours[1][key], theirs[1][key], rtol=1e-5, err_msg=key)


def test_get_metrics_result_and_the_order_of_evaluate():
    x, y, sw = _data()
    ganglion.manual_seed(0)
    model = _build(gk, "Model", add_loss=False, regularize=False)
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"], weighted_metrics=["mse"])
    loss, mae, weighted_mse = model.evaluate(x, y, sample_weight=sw, batch_size=12, verbose=0)
    pred = model.predict(x, verbose=0)
    np.testing.assert_allclose(mae, np.mean(np.abs(pred - y)), rtol=1e-5)
    np.testing.assert_allclose(weighted_mse, np.sum(sw * np.mean((pred - y) ** 2, axis=1)) / np.sum(sw), rtol=1e-5)
    np.testing.assert_allclose(loss, np.sum(sw * np.mean((pred - y) ** 2, axis=1)) / len(x), rtol=1e-5)
    assert model.get_metrics_result() == {"loss": loss, "mae": mae, "mse": weighted_mse}
    model.reset_metrics()
    assert model.get_metrics_result() == {"loss": 0.0, "mae": 0.0, "mse": 0.0}


def test_two_outputs_report_each_unweighted_loss_as_keras_does():
    """compute_loss weighs the outputs' losses; the per-output trackers (updated inside the compiled loss) hold
    them unweighted. evaluate's list is loss, per-output losses, then the metrics."""
    x, y, sw = _data()
    targets = [y, y[:, :1] * 2]
    ganglion.manual_seed(0)
    start, results = None, {}
    for name, K in FRAMEWORKS.items():
        inputs = K.Input(shape=(4,))
        hidden = K.layers.Dense(5, activation="relu", name="hidden")(inputs)
        model = K.Model(inputs, [K.layers.Dense(2, name="a")(hidden), K.layers.Dense(1, name="b")(hidden)])
        if start is None:
            start = model.get_weights()
        model.set_weights(start)
        _compile(model, K, loss={"a": "mse", "b": "mae"}, loss_weights={"a": 1.0, "b": 0.3},
                 metrics={"a": ["mae"], "b": ["mse"]})
        history = model.fit(x, targets, sample_weight=sw, batch_size=6, epochs=2, shuffle=False, verbose=0).history
        results[name] = history, model.evaluate(x, targets, batch_size=4, verbose=0)
    (ours, our_eval), (theirs, their_eval) = results["ganglion"], results["keras"]
    assert sorted(ours) == sorted(theirs) == ["a_loss", "a_mae", "b_loss", "b_mse", "loss"]
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, err_msg=key)
    np.testing.assert_allclose(our_eval, their_eval, rtol=1e-5)



def test_a_frozen_layers_weight_regularizer_is_not_counted():
    """Keras 3 regularizes trainable weights only: freezing a layer drops its penalty from the loss."""
    import ganglion.keras as gk

    x = np.ones((4, 3), dtype="float32")
    y = np.zeros((4, 2), dtype="float32")
    layer = gk.layers.Dense(2, kernel_regularizer=gk.regularizers.L2(1.0), kernel_initializer="ones")
    model = gk.Sequential([gk.Input((3,)), layer])
    model.compile(loss="mse", optimizer="sgd")
    with_penalty = model.evaluate(x, y, verbose=0)
    layer.trainable = False
    model.compile(loss="mse", optimizer="sgd")
    without = model.evaluate(x, y, verbose=0)
    assert without == pytest.approx(9.0)  # (1+1+1)^2 per output: the MSE alone
    assert with_penalty == pytest.approx(9.0 + 6.0)  # + 1.0 * sum(kernel^2) = 6
