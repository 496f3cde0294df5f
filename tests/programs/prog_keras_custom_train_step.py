"""Overriding ``train_step`` in a subclassed ``keras.Model``, as Keras 3's guide for the torch backend does.

``fit`` keeps its loop, callbacks and history; the step is ours: clear the gradients (``self.zero_grad()``), forward
with ``training=True``, ``self.compute_loss``, ``loss.backward()``, read each trainable variable's gradient
(``v.value.grad``) and hand them to ``self.optimizer.apply`` under ``torch.no_grad()``. The first model updates its
metrics by walking ``self.metrics`` by hand; the second returns ``self.compute_metrics(...)`` and also overrides
``test_step`` for ``evaluate``. The task is a noisy linear-plus-tanh regression on generated data.
"""

import numpy as np
import keras
import torch
from keras import layers


class WalkMetricsModel(keras.Model):
    """The guide's first version: the loss tracker gets the loss, every other metric gets (y, y_pred)."""

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        trainable_weights = [v for v in self.trainable_weights]
        gradients = [v.value.grad for v in trainable_weights]
        with torch.no_grad():
            self.optimizer.apply(gradients, trainable_weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


class ComputeMetricsModel(keras.Model):
    """The shorter version: compute_loss, then compute_metrics updates the compiled metrics and returns the logs of
    every metric in ``self.metrics``, including the model's own loss tracker (a Metric held as an attribute)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.batch_loss = keras.metrics.Mean(name="batch_loss")
        self.steps_seen = 0

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred)
        loss.backward()
        trainable_weights = self.trainable_weights[:]
        gradients = [v.value.grad for v in trainable_weights]
        with torch.no_grad():
            self.optimizer.apply(gradients, trainable_weights)
        self.batch_loss.update_state(loss)
        self.steps_seen += 1
        return self.compute_metrics(x, y, y_pred, sample_weight=None)

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        self.batch_loss.update_state(self.compute_loss(x=x, y=y, y_pred=y_pred, training=False))
        return self.compute_metrics(x, y, y_pred, sample_weight=None)


def build(model_class):
    inputs = keras.Input(shape=(4,))
    hidden = layers.Dense(16, activation="tanh")(inputs)
    outputs = layers.Dense(1)(hidden)
    return model_class(inputs, outputs)


def main():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(320, 4)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 0.0]) + np.tanh(x[:, 3]) + 0.05 * rng.normal(size=320))
    y = y.astype("float32")[:, None]
    x_train, y_train, x_test, y_test = x[:256], y[:256], x[256:], y[256:]

    walking = build(WalkMetricsModel)
    walking.compile(optimizer=keras.optimizers.Adam(learning_rate=0.02), loss="mse", metrics=["mae"])
    walking_history = walking.fit(x_train, y_train, batch_size=32, epochs=8, verbose=0)
    walking_test = walking.evaluate(x_test, y_test, verbose=0, return_dict=True)

    computing = build(ComputeMetricsModel)
    computing.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9), loss="mse",
                      metrics=[keras.metrics.MeanAbsoluteError(name="mae")])
    computing_history = computing.fit(x_train, y_train, batch_size=32, epochs=8, verbose=0)
    computing_test = computing.evaluate(x_test, y_test, verbose=0, return_dict=True)
    predicted = computing.predict(x_test, verbose=0)

    return {
        "walking_first_loss": float(walking_history.history["loss"][0]),
        "walking_last_loss": float(walking_history.history["loss"][-1]),
        "walking_last_mae": float(walking_history.history["mae"][-1]),
        "walking_test_loss": float(walking_test["loss"]),
        "computing_first_loss": float(computing_history.history["batch_loss"][0]),
        "computing_last_loss": float(computing_history.history["batch_loss"][-1]),
        "computing_test_loss": float(computing_test["batch_loss"]),
        "computing_test_mae": float(computing_test["mae"]),
        "predicted_mae": float(np.mean(np.abs(predicted - y_test))),
        "steps_seen": computing.steps_seen,
        "history_keys": sorted(computing_history.history),
    }


if __name__ == "__main__":
    print(main())
