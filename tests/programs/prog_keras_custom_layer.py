"""A Keras layer of our own and a loss function of our own.

``ScaledDense`` subclasses ``keras.layers.Layer``: ``build(input_shape)`` creates its kernel, bias and a per-unit
scale with ``add_weight``; ``call`` computes ``scale * (x @ kernel + bias)`` with ``keras.ops``; ``get_config``
returns its arguments. The loss is a plain function ``(y_true, y_pred) -> per-sample loss`` (a Huber-like loss
written with ``keras.ops``), given to ``compile`` by the function itself. Trained with ``fit`` on two rings, judged
with ``evaluate``.
"""

import numpy as np
import keras
from keras import layers, ops


class ScaledDense(layers.Layer):
    def __init__(self, units, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform",
                                      trainable=True, name="kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True, name="bias")
        self.scale = self.add_weight(shape=(self.units,), initializer="ones", trainable=True, name="scale")

    def call(self, inputs):
        return self.activation(self.scale * (ops.matmul(inputs, self.kernel) + self.bias))

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units, "activation": keras.activations.serialize(self.activation)})
        return config


def smooth_hinge(y_true, y_pred):
    """Labels in {0, 1}, a score per sample: a hinge whose corner is rounded into a parabola of width 1."""
    sign = 2.0 * ops.cast(y_true, "float32") - 1.0
    margin = 1.0 - sign * y_pred
    quadratic = 0.5 * ops.square(ops.clip(margin, 0.0, 1.0))
    linear = ops.maximum(margin - 1.0, 0.0)
    return ops.mean(quadratic + linear, axis=-1)


def rings(n, rng):
    """Points on two noisy concentric rings (radius 0.5: label 0, radius 1: label 1)."""
    label = rng.integers(0, 2, size=n)
    angle = rng.uniform(0, 2 * np.pi, size=n)
    radius = 0.5 + 0.5 * label + 0.1 * rng.normal(size=n)
    points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return points.astype("float32"), label.astype("float32")[:, None]


def main():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x_train, y_train = rings(600, rng)
    x_test, y_test = rings(200, rng)

    hidden = ScaledDense(32, activation="tanh", name="scaled_1")
    model = keras.Sequential([
        keras.Input(shape=(2,)),
        hidden,
        ScaledDense(32, activation="tanh"),
        ScaledDense(1),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.02), loss=smooth_hinge)
    untrained_loss = model.evaluate(x_test, y_test, verbose=0)
    history = model.fit(x_train, y_train, batch_size=32, epochs=10, verbose=0)
    test_loss = model.evaluate(x_test, y_test, verbose=0)
    scores = model.predict(x_test, verbose=0)
    by_hand = float(np.mean(ops.convert_to_numpy(smooth_hinge(y_test, scores))))

    return {
        "untrained_loss": float(untrained_loss),
        "first_epoch_loss": float(history.history["loss"][0]),
        "last_epoch_loss": float(history.history["loss"][-1]),
        "test_loss": float(test_loss),
        "loss_by_hand": by_hand,
        "test_accuracy": float(np.mean((scores > 0) == (y_test > 0.5))),
        "weight_names": [w.name for w in hidden.weights],
        "weight_shapes": [list(w.shape) for w in hidden.weights],
        "trainable_weight_count": len(model.trainable_weights),
        "config_units": hidden.get_config()["units"],
        "scale_moved": float(np.max(np.abs(ops.convert_to_numpy(hidden.scale) - 1.0))),
    }


if __name__ == "__main__":
    print(main())
