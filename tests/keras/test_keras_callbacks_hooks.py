"""LearningRateScheduler (the rate each epoch's steps use), TerminateOnNaN, LambdaCallback, and how the callback
list calls hooks (order, logs dict, Keras' older on_batch_* names)."""

import math

import numpy as np
import pytest

import ganglion.keras as keras
from ganglion.keras import callbacks, layers, optimizers


def linear_model(lr=0.1, optimizer=None):
    model = keras.Sequential([layers.Dense(1, input_shape=(1,), use_bias=False, kernel_initializer="zeros")])
    model.compile(optimizer=optimizer or optimizers.SGD(learning_rate=lr), loss="mse")
    return model


def test_scheduler_sets_the_rate_each_epoch_uses():
    # one batch per epoch of mse on x = 1, y = 1 from w: the SGD step is w += lr * 2 (1 - w)
    model = linear_model()
    schedule = callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 if epoch == 0 else lr * 0.5)
    history = model.fit(np.ones((1, 1)), np.ones((1, 1)), epochs=3, verbose=0, callbacks=[schedule])
    w = 0.0
    for lr in (0.1, 0.05, 0.025):
        w += lr * 2 * (1 - w)
    assert model.get_weights()[0][0, 0] == pytest.approx(w, rel=1e-6)
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.025])


def test_scheduler_accepts_the_one_argument_form_and_checks_the_result(capsys):
    model = linear_model()
    schedule = callbacks.LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1), verbose=1)
    model.fit(np.ones((2, 1)), np.ones((2, 1)), epochs=2, verbose=0, callbacks=[schedule])
    assert model.optimizer.learning_rate == pytest.approx(0.02)
    assert "Epoch 2: LearningRateScheduler setting learning rate to 0.02." in capsys.readouterr().out
    with pytest.raises(ValueError, match="must return a finite float, got 'fast'"):
        model.fit(np.ones((2, 1)), np.ones((2, 1)), epochs=1, verbose=0,
                  callbacks=[callbacks.LearningRateScheduler(lambda epoch, lr: "fast")])


def test_learning_rate_callbacks_refuse_an_optimizer_with_a_schedule():
    model = linear_model(optimizer=optimizers.SGD(optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)))
    with pytest.raises(TypeError, match="learning rate is a schedule"):
        model.fit(np.ones((2, 1)), np.ones((2, 1)), epochs=1, verbose=0,
                  callbacks=[callbacks.LearningRateScheduler(lambda epoch, lr: lr)])


def test_terminate_on_nan_stops_at_the_first_bad_batch(capsys):
    model = linear_model()
    x = np.ones((6, 1), np.float32)
    y = np.array([[1.0], [1.0], [np.nan], [1.0], [1.0], [1.0]], np.float32)
    history = model.fit(x, y, epochs=3, batch_size=2, shuffle=False, verbose=0,
                        callbacks=[callbacks.TerminateOnNaN()])
    assert len(history.history["loss"]) == 1 and math.isnan(history.history["loss"][0])
    assert "Batch 1: Invalid loss, terminating training" in capsys.readouterr().out


def test_lambda_callback_calls_each_function_with_keras_arguments():
    calls = []
    cb = callbacks.LambdaCallback(
        on_train_begin=lambda logs: calls.append(("train_begin", dict(logs))),
        on_epoch_begin=lambda epoch, logs: calls.append(("epoch_begin", epoch)),
        on_epoch_end=lambda epoch, logs: calls.append(("epoch_end", epoch, sorted(logs))),
        on_batch_end=lambda batch, logs: calls.append(("batch_end", batch, "loss" in logs)),
        on_train_end=lambda logs: calls.append(("train_end", sorted(logs))),
    )
    model = linear_model()
    model.fit(np.ones((4, 1)), np.ones((4, 1)), epochs=2, batch_size=2, verbose=0, callbacks=[cb])
    assert calls == [("train_begin", {}), ("epoch_begin", 0), ("batch_end", 0, True), ("batch_end", 1, True),
                     ("epoch_end", 0, ["loss"]), ("epoch_begin", 1), ("batch_end", 0, True), ("batch_end", 1, True),
                     ("epoch_end", 1, ["loss"]), ("train_end", ["loss"])]
    with pytest.raises(TypeError, match="unknown hook"):
        callbacks.LambdaCallback(on_epoch_middle=print)
    with pytest.raises(TypeError, match="on_epoch_end must be a function"):
        callbacks.LambdaCallback(on_epoch_end=3)


def test_older_on_batch_end_name_is_called_during_fit():
    class Counter(callbacks.Callback):
        batches = 0

        def on_batch_end(self, batch, logs=None):
            self.batches += 1

    counter = Counter()
    linear_model().fit(np.ones((6, 1)), np.ones((6, 1)), epochs=2, batch_size=2, verbose=0, callbacks=[counter])
    assert counter.batches == 6


def test_callback_list_orders_history_and_progress_last_and_shares_logs():
    order = []

    class Named(callbacks.Callback):
        def __init__(self, name):
            super().__init__()
            self.name = name

        def on_epoch_end(self, epoch, logs=None):
            order.append(self.name)
            logs[self.name] = epoch

    history = callbacks.History()
    bar = callbacks.ProgbarLogger()
    bar.on_epoch_end = lambda epoch, logs=None: order.append("progbar")
    cbs = callbacks.CallbackList([history, Named("a"), bar, Named("b")], model=None, params={})
    cbs.on_epoch_end(0, {"loss": 1.0})
    assert order == ["a", "b", "progbar"]
    assert history.history == {"loss": [1.0], "a": [0], "b": [0]}
    cbs.on_train_begin()  # no logs given: every callback still gets a dict
    with pytest.raises(TypeError, match="must be keras.callbacks.Callback instances"):
        callbacks.CallbackList([object()], None, {})


def test_fit_validation_fires_the_test_hooks_like_keras():
    """Keras 3's fit validates through evaluate: on_test_begin, on_test_batch_*, on_test_end run each epoch."""
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    import ganglion.keras as gk

    def record(lib):
        seen = []

        class Recorder(lib.callbacks.Callback):
            def on_test_begin(self, logs=None):
                seen.append("test_begin")

            def on_test_batch_end(self, batch, logs=None):
                seen.append(f"test_batch_{batch}")

            def on_test_end(self, logs=None):
                seen.append("test_end:" + ",".join(sorted(logs)))

            def on_epoch_end(self, epoch, logs=None):
                seen.append(f"epoch_{epoch}")

        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(1)])
        model.compile(loss="mse", optimizer="sgd")
        x = np.ones((8, 3), "float32")
        model.fit(x, np.zeros((8, 1), "float32"), validation_data=(x[:4], np.zeros((4, 1), "float32")),
                  batch_size=2, epochs=2, verbose=0, callbacks=[Recorder()])
        return seen

    assert record(gk) == record(keras)
