"""EarlyStopping and ReduceLROnPlateau: driven epoch by epoch with scripted metric values (the stopping epoch and
learning rates worked out by hand from Keras' rules), then inside real ``fit`` runs."""

import numpy as np
import pytest

import ganglion.keras as keras
from ganglion.keras import callbacks, metrics


class StubOptimizer:
    def __init__(self, lr):
        self._learning_rate = lr

    @property
    def learning_rate(self):
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self._learning_rate = value


class StubModel:
    """Just what the callbacks touch: weights (the epoch they were "trained" to), stop_training, an optimizer."""

    def __init__(self, metric_list=(), lr=0.1):
        self.metrics, self.stop_training, self.version = list(metric_list), False, -1
        self.optimizer = StubOptimizer(lr)

    def get_weights(self):
        return [np.array(self.version)]

    def set_weights(self, weights):
        self.version = int(weights[0])


def run(callback, values, monitor="val_loss", model=None):
    """Feed ``values`` of ``monitor`` epoch by epoch; returns (epochs run, model)."""
    model = model or StubModel()
    callback.set_model(model)
    callback.on_train_begin({})
    epochs = 0
    for epoch, value in enumerate(values):
        model.version = epoch
        logs = {monitor: value, "loss": 1.0}
        callback.on_epoch_end(epoch, logs)
        epochs += 1
        if model.stop_training:
            break
    callback.on_train_end({})
    return epochs, model


# (id, EarlyStopping kwargs, monitored values, epochs run, weights left (the epoch restored, or the last one))
EARLY = [
    ("patience-0", {}, [1.0, 0.9, 0.95, 0.5], 3, 2),
    ("patience-2", {"patience": 2}, [1.0, 0.9, 0.95, 0.93, 0.5], 4, 3),
    ("recovers-in-time", {"patience": 2}, [1.0, 0.9, 0.95, 0.8, 0.85, 0.84, 0.1], 6, 5),
    ("min-delta", {"patience": 1, "min_delta": 0.1}, [1.0, 0.95, 0.91, 0.5], 2, 1),
    ("restore-best", {"patience": 2, "restore_best_weights": True}, [1.0, 0.7, 0.8, 0.9, 0.1], 4, 1),
    ("max-mode", {"patience": 1, "mode": "max"}, [0.5, 0.6, 0.55, 0.9], 3, 2),
    ("baseline", {"patience": 2, "baseline": 0.5}, [1.0, 1.1, 1.2, 1.3], 2, 1),  # without it: 3 epochs
    ("baseline-never-beaten-but-improving", {"patience": 1, "baseline": 0.5}, [1.0, 0.9, 0.8, 0.7], 4, 3),
    ("baseline-met", {"patience": 2, "baseline": 0.5}, [0.4, 0.3, 0.2, 0.25, 0.26], 5, 4),
    ("baseline-restore", {"patience": 2, "baseline": 0.5, "restore_best_weights": True}, [1.0, 0.9, 0.95], 3, 1),
    ("start-from-epoch", {"patience": 0, "start_from_epoch": 2}, [1.0, 2.0, 3.0, 4.0, 0.1], 4, 3),
    ("never-stops-at-epoch-0", {"patience": 0, "mode": "max"}, [0.5], 1, 0),
]


@pytest.mark.parametrize("name,kwargs,values,epochs,weights", EARLY, ids=[e[0] for e in EARLY])
def test_early_stopping_follows_keras_rules(name, kwargs, values, epochs, weights):
    run_epochs, model = run(callbacks.EarlyStopping(**kwargs), values)
    assert run_epochs == epochs
    assert model.version == weights


def test_early_stopping_auto_mode_reads_the_metric_direction():
    accuracy = metrics.SparseCategoricalAccuracy(name="accuracy")
    stop = callbacks.EarlyStopping(monitor="val_accuracy", patience=1)
    run_epochs, _ = run(stop, [0.5, 0.6, 0.4, 0.3], monitor="val_accuracy", model=StubModel([accuracy]))
    assert run_epochs == 3  # higher is better: 0.4 then 0.3 are the two epochs without improvement
    error = metrics.MeanAbsoluteError()
    stop = callbacks.EarlyStopping(monitor="mean_absolute_error", patience=1)
    run_epochs, _ = run(stop, [0.5, 0.4, 0.6, 0.7], monitor="mean_absolute_error", model=StubModel([error]))
    assert run_epochs == 3
    with pytest.raises(ValueError, match="cannot tell whether it should be maximized or minimized"):
        run(callbacks.EarlyStopping(monitor="mystery"), [1.0], monitor="mystery")


def test_early_stopping_warns_when_the_metric_is_missing():
    stop = callbacks.EarlyStopping(monitor="val_loss")
    stop.set_model(StubModel())
    stop.on_train_begin({})
    with pytest.warns(UserWarning, match="'val_loss', which is not available"):
        stop.on_epoch_end(0, {"loss": 1.0})


def test_early_stopping_in_fit_matches_keras_documented_example():
    # Keras: a constant loss with patience=3 runs 4 epochs
    model = keras.Sequential([keras.layers.Dense(10, input_shape=(20,))])
    model.compile(keras.optimizers.SGD(learning_rate=0.0), loss="mse")
    history = model.fit(np.arange(100).reshape(5, 20).astype(np.float32), np.zeros((5, 10)), epochs=10,
                        batch_size=1, callbacks=[callbacks.EarlyStopping(monitor="loss", patience=3)], verbose=0)
    assert len(history.history["loss"]) == 4


def test_early_stopping_restores_the_best_weights_in_fit():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 3)).astype(np.float32), rng.integers(0, 2, 32)
    model = keras.Sequential([keras.layers.Dense(2, activation="softmax", input_shape=(3,))])
    model.compile(keras.optimizers.SGD(learning_rate=0.5), loss="sparse_categorical_crossentropy")
    seen = []
    record = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append((logs["val_loss"],
                                                                                   model.get_weights())))
    stop = callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    model.fit(x, y, epochs=8, batch_size=32, validation_split=0.25, callbacks=[record, stop], verbose=0)
    best = min(range(len(seen)), key=lambda i: seen[i][0])
    for restored, kept in zip(model.get_weights(), seen[best][1]):
        np.testing.assert_array_equal(restored, kept)


# ReduceLROnPlateau: (id, kwargs, monitored values, learning rate after each epoch), starting from lr 1.0
PLATEAU = [
    ("patience-1", {"patience": 1, "factor": 0.5}, [1.0, 1.0, 1.0, 0.5, 0.5], [1.0, 0.5, 0.25, 0.25, 0.125]),
    ("patience-2", {"patience": 2, "factor": 0.1}, [1.0, 0.9, 0.9, 0.9, 0.8], [1.0, 1.0, 1.0, 0.1, 0.1]),
    ("min-delta", {"patience": 1, "factor": 0.5, "min_delta": 0.2}, [1.0, 0.85, 0.5], [1.0, 0.5, 0.5]),
    ("cooldown", {"patience": 1, "factor": 0.5, "cooldown": 2}, [1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
     [1.0, 0.5, 0.5, 0.25, 0.25, 0.125]),
    ("min-lr", {"patience": 1, "factor": 0.1, "min_lr": 0.05}, [1.0, 1.0, 1.0, 1.0], [1.0, 0.1, 0.05, 0.05]),
    ("accuracy-auto-max", {"patience": 1, "factor": 0.5, "monitor": "val_acc"}, [0.5, 0.6, 0.6, 0.7],
     [1.0, 1.0, 0.5, 0.5]),
]


@pytest.mark.parametrize("name,kwargs,values,lrs", PLATEAU, ids=[p[0] for p in PLATEAU])
def test_reduce_lr_on_plateau_follows_keras_rules(name, kwargs, values, lrs):
    monitor = kwargs.get("monitor", "val_loss")
    callback = callbacks.ReduceLROnPlateau(**kwargs)
    model = StubModel(lr=1.0)
    callback.set_model(model)
    callback.on_train_begin({})
    seen = []
    for epoch, value in enumerate(values):
        logs = {monitor: value}
        callback.on_epoch_end(epoch, logs)
        assert logs["learning_rate"] == pytest.approx(seen[-1] if seen else 1.0)
        seen.append(model.optimizer.learning_rate)
    np.testing.assert_allclose(seen, lrs)


def test_reduce_lr_on_plateau_changes_the_optimizer_used_by_fit():
    x, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)
    model = keras.Sequential([keras.layers.Dense(1, input_shape=(2,), kernel_initializer="zeros")])
    model.compile(keras.optimizers.SGD(learning_rate=0.0), loss="mse")  # a constant loss: no improvement
    reduce = callbacks.ReduceLROnPlateau(monitor="loss", patience=1, factor=0.5, min_lr=0.0)
    model.optimizer.learning_rate = 0.0
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[reduce])
    assert history.history["learning_rate"] == [0.0, 0.0, 0.0]
    model.compile(keras.optimizers.SGD(learning_rate=0.4), loss="mse")
    history = model.fit(x, np.zeros((4, 1)), epochs=3, verbose=0, callbacks=[reduce])
    assert history.history["learning_rate"] == pytest.approx([0.4, 0.4, 0.2])  # logged before the epoch's cut
    assert model.optimizer.learning_rate == pytest.approx(0.1)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="factor >= 1.0"):
        callbacks.ReduceLROnPlateau(factor=2.0)
    with pytest.raises(ValueError, match="patience and start_from_epoch must be >= 0"):
        callbacks.EarlyStopping(patience=-1)
    with pytest.warns(UserWarning, match="mode 'lowest' is unknown"):
        callbacks.EarlyStopping(mode="lowest")
