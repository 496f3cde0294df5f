"""What ``fit``, ``evaluate`` and ``predict`` accept and return: NumPy arrays, ganglion Tensors, a Dataset, a
DataLoader and a generator give the same training; validation_split/validation_data, sample_weight, initial_epoch,
steps_per_epoch, the History keys, evaluate as a list or a dict, batched graph-free predict, and the *_on_batch
methods."""

import warnings

import numpy as np
import pytest

import ganglion
from ganglion.data import DataLoader, TensorDataset
from ganglion.keras import Sequential, callbacks, optimizers
from ganglion.keras.layers import Dense


def _data(n=16, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4))
    labels = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1)
    return x, labels


def _model(seed=0):
    ganglion.manual_seed(seed)
    model = Sequential([Dense(6, activation="relu", input_shape=(4,)), Dense(3, activation="softmax")])
    model.compile(optimizer=optimizers.SGD(0.1), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _fit_weights(x, y=None, **kwargs):
    model = _model()
    model.fit(x, y, epochs=2, verbose=0, shuffle=False, **kwargs)
    return model.get_weights()


def _generator(x, y, batch_size):
    while True:
        for start in range(0, len(x), batch_size):
            yield x[start:start + batch_size], y[start:start + batch_size]


def test_every_kind_of_data_trains_the_same():
    x, y = _data()
    expected = _fit_weights(x, y, batch_size=4)
    tensors = TensorDataset(ganglion.tensor(x), ganglion.tensor(y))
    for got in (_fit_weights(ganglion.tensor(x), ganglion.tensor(y), batch_size=4),
                _fit_weights(x.tolist(), y.tolist(), batch_size=4),
                _fit_weights(DataLoader(tensors, batch_size=4, shuffle=False)),
                _fit_weights(tensors, batch_size=4),
                _fit_weights(_generator(x, y, 4), steps_per_epoch=4)):
        for a, b in zip(expected, got):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_history_validation_split_and_validation_data():
    x, y = _data(20)
    model = _model()
    history = model.fit(x, y, batch_size=4, epochs=3, verbose=0, validation_split=0.25)
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert history.epoch == [0, 1, 2] and all(len(v) == 3 for v in history.history.values())
    assert model.optimizer.iterations == 3 * 4  # 15 training samples in batches of 4
    # the validation samples are the last quarter, before shuffling
    np.testing.assert_allclose(history.history["val_loss"][-1],
                               model.evaluate(x[15:], y[15:], verbose=0)[0], rtol=1e-6)
    history = model.fit(x, y, batch_size=4, epochs=4, verbose=0, validation_data=(x[:5], y[:5]),
                        validation_freq=2)
    assert len(history.history["val_loss"]) == 2 and len(history.history["loss"]) == 4


def test_initial_epoch_and_steps_per_epoch():
    x, y = _data(20)
    model = _model()
    history = model.fit(x, y, batch_size=4, epochs=5, initial_epoch=2, verbose=0)
    assert history.epoch == [2, 3, 4] and model.optimizer.iterations == 3 * 5
    model = _model()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = model.fit(x, y, batch_size=4, epochs=3, steps_per_epoch=2, verbose=0, shuffle=False)
    assert model.optimizer.iterations == 5  # 2 + 2, then the pass over 5 batches ends after 1: Keras' rule
    assert history.epoch == [0, 1, 2]


def test_sample_weight_weighs_the_loss():
    x, y = _data(8)
    model = _model()
    w = np.array([0, 1, 2, 0, 1, 2, 0, 1], dtype=np.float32)
    per_sample = -np.log(model.predict(x, verbose=0)[np.arange(8), y])
    weighted = model.evaluate(x, y, sample_weight=w, batch_size=8, verbose=0)[0]
    np.testing.assert_allclose(weighted, (w * per_sample).sum() / 8, rtol=1e-5)  # Keras: sum(w l) / batch size
    before = model.get_weights()
    model.fit(x, y, sample_weight=np.zeros(8), batch_size=4, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)  # zero weights: zero gradients


def test_evaluate_returns_a_list_or_a_dict():
    x, y = _data()
    model = _model()
    values = model.evaluate(x, y, verbose=0)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert model.metrics_names == ["loss", "accuracy"]
    assert values == [logs["loss"], logs["accuracy"]]
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert isinstance(model.evaluate(x, y, verbose=0), float)


def test_predict_is_batched_and_keeps_no_graph():
    x, _ = _data(10)
    model = _model()
    seen = []

    class Spy(callbacks.Callback):
        def on_predict_batch_end(self, batch, logs=None):
            seen.append(logs["outputs"])

    out = model.predict(x, batch_size=3, verbose=0, callbacks=[Spy()])
    assert isinstance(out, np.ndarray) and out.shape == (10, 3) and out.dtype == np.float32
    assert len(seen) == 4 and all(not t.requires_grad and t.grad_fn is None for t in seen)
    np.testing.assert_allclose(out, model.predict(x, batch_size=10, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(x), out, rtol=1e-6)
    assert not model.training


def test_on_batch_methods():
    x, y = _data(8)
    model = _model()
    loss_before, _ = model.test_on_batch(x, y)
    model.reset_metrics()
    first = model.train_on_batch(x, y, return_dict=True)
    assert set(first) == {"loss", "accuracy"} and model.optimizer.iterations == 1
    np.testing.assert_allclose(first["loss"], loss_before, rtol=1e-6)  # the loss of the weights before the update
    model.reset_metrics()
    loss_after, _ = model.test_on_batch(x, y)
    assert loss_after < loss_before


def test_fit_verbose_modes_print_keras_progress(capsys):
    x, y = _data(8)
    model = _model()
    model.fit(x, y, batch_size=4, epochs=2, verbose=2)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "accuracy:" in out and "loss:" in out
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""


def test_fit_data_errors():
    x, y = _data(10)
    model = _model()
    with pytest.raises(ValueError, match=r"Data cardinality is ambiguous.*x sizes: 10.*y sizes: 9"):
        model.fit(x, y[:9], verbose=0)
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        model.fit(x, y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="validation_split must be in"):
        model.fit(x, y, validation_split=1.5, verbose=0)
    with pytest.raises(ValueError, match=r"expected shape \(None, 4\), got \(10, 5\)"):
        model.fit(np.zeros((10, 5)), y, verbose=0)
    with pytest.raises(ValueError, match=r"expected shape \(None, 4\), got \(2, 3\)"):
        model.predict(np.zeros((2, 3)), verbose=0)
    with pytest.raises(ValueError, match="y and sample_weight must not be given"):
        model.fit(TensorDataset(ganglion.tensor(x), ganglion.tensor(y)), y, verbose=0)
    with pytest.raises(ValueError, match="You must call compile"):
        Sequential([Dense(2, input_shape=(4,))]).fit(x, y, verbose=0)


def test_labels_that_do_not_fit_the_loss():
    x, y = _data(8)
    model = _model()  # sparse categorical cross-entropy
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy.*for one-hot labels use categorical"):
        model.fit(x, np.eye(3)[y], verbose=0)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    with pytest.raises(ValueError, match="categorical_crossentropy expects one-hot labels"):
        model.fit(x, y, verbose=0)


class CustomStep(Sequential):
    """Keras' pattern for custom training logic: override train_step, use compute_loss and the optimizer."""

    def train_step(self, data):
        x, y = data
        loss = self.compute_loss(y=y, y_pred=self(x, training=True))
        weights = self.trainable_weights
        for w in weights:
            w.parameter.grad = None
        loss.backward()
        self.optimizer.apply([w.grad for w in weights], weights)
        return {"custom_loss": loss.item()}


def test_custom_train_step_is_used_and_matches_the_built_in_one():
    x, y = _data(12)
    builtin = _model()
    builtin.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    ganglion.manual_seed(0)
    custom = CustomStep([Dense(6, activation="relu", input_shape=(4,)), Dense(3, activation="softmax")])
    custom.compile(optimizer=optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    history = custom.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert list(history.history) == ["custom_loss"] and custom.optimizer.iterations == 6
    for a, b in zip(builtin.get_weights(), custom.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
