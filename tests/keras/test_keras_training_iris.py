"""Acceptance: the Keras issue's iris example runs as written (only the import prefix changed) and reaches >= 0.9 test
accuracy; so do a functional version (one output, and two inputs / two outputs with Concatenate and Add, a loss dict
and loss_weights) and a subclassed version."""

import numpy as np
import pytest

import ganglion
from ganglion.data.datasets import load_iris
from ganglion.keras import activations, callbacks, initializers, losses, optimizers, regularizers, utils
from ganglion.keras.layers import Add, Concatenate, Dense, Input
from ganglion.keras.models import Model, Sequential, load_model


@pytest.fixture
def iris():
    x, y = load_iris(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    ganglion.manual_seed(0)
    return x[:120], y[:120], x[120:], y[120:]


def test_the_issue_example_as_written(iris, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    x_train, labels_train, x_test, labels_test = iris
    y_train, y_test = utils.to_categorical(labels_train), utils.to_categorical(labels_test)
    x = x_test

    model = Sequential([
        Dense(units=8, activation=activations.relu, input_shape=(4,), kernel_initializer=initializers.HeNormal()),
        Dense(units=6, activation="relu", kernel_regularizer=regularizers.L2(0.01)),
        Dense(units=3, activation=activations.softmax),
    ])
    model.summary()
    model.compile(optimizer=optimizers.Adam(), loss=losses.categorical_crossentropy, metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=50, batch_size=2, verbose=1, validation_split=0.2,
                        callbacks=[callbacks.EarlyStopping(monitor="val_loss", patience=5)])
    loss, accuracy = model.evaluate(x_test, y_test)
    probabilities = model.predict(x)
    model.save("models/iris.keras"); model = load_model("models/iris.keras")  # noqa: E702

    out = capsys.readouterr().out
    assert "Total params: 115 (460.00 B)" in out and "Epoch 1/50" in out
    assert accuracy >= 0.9 and loss < 0.6
    assert set(history.history) == {"accuracy", "loss", "val_accuracy", "val_loss"}
    assert len(history.history["loss"]) == len(history.epoch) <= 50
    assert probabilities.shape == (30, 3) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(model.predict(x, verbose=0), probabilities, rtol=1e-6, atol=1e-7)
    assert model.evaluate(x_test, y_test, verbose=0)[1] == accuracy


def test_functional_version(iris):
    x_train, labels_train, x_test, labels_test = iris
    inputs = Input(shape=(4,))
    hidden = Dense(8, activation="relu", kernel_initializer="he_normal")(inputs)
    hidden = Dense(6, activation="relu")(hidden)
    outputs = Dense(3, activation="softmax")(hidden)
    model = Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer=optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, labels_train, epochs=30, batch_size=8, verbose=0)
    assert model.evaluate(x_test, labels_test, verbose=0)[1] >= 0.9


def test_functional_two_inputs_two_outputs(iris):
    """Sepal and petal measurements enter separately; one head classifies, the other regresses petal width."""
    x_train, labels_train, x_test, labels_test = iris
    sepal, petal = Input(shape=(2,), name="sepal"), Input(shape=(2,), name="petal")
    a = Dense(8, activation="relu")(sepal)
    b = Dense(8, activation="relu")(petal)
    merged = Concatenate()([a, b])
    summed = Add()([a, b])
    species = Dense(3, activation="softmax", name="species")(merged)
    width = Dense(1, name="width")(summed)
    model = Model(inputs=[sepal, petal], outputs=[species, width])
    model.compile(optimizer=optimizers.Adam(0.01),
                  loss={"species": "sparse_categorical_crossentropy", "width": "mse"},
                  loss_weights={"species": 1.0, "width": 0.5}, metrics={"species": ["accuracy"]})
    history = model.fit({"sepal": x_train[:, :2], "petal": x_train[:, 2:]},
                        {"species": labels_train, "width": x_train[:, 3:]}, epochs=40, batch_size=8, verbose=0)
    assert set(history.history) == {"loss", "species_loss", "width_loss", "species_accuracy"}
    h = history.history
    np.testing.assert_allclose(h["loss"][-1], h["species_loss"][-1] + 0.5 * h["width_loss"][-1], rtol=1e-5)
    logs = model.evaluate([x_test[:, :2], x_test[:, 2:]], [labels_test, x_test[:, 3:]], verbose=0,
                          return_dict=True)
    assert logs["species_accuracy"] >= 0.9 and logs["width_loss"] < 0.1


def test_multi_output_with_two_dense_heads_and_loss_list(iris):
    x_train, labels_train, x_test, labels_test = iris
    inputs = Input(shape=(4,))
    trunk = Dense(8, activation="relu")(inputs)
    head_a = Dense(3, activation="softmax")(trunk)
    head_b = Dense(3, activation="softmax")(trunk)
    model = Model(inputs, [head_a, head_b])
    model.compile(optimizer=optimizers.Adam(0.02), loss=["sparse_categorical_crossentropy"] * 2,
                  loss_weights=[1.0, 0.25], metrics=[["accuracy"], ["accuracy"]])
    model.fit(x_train, [labels_train, labels_train], epochs=40, batch_size=8, verbose=0)
    values = model.evaluate(x_test, [labels_test, labels_test], verbose=0)
    names = model.metrics_names
    assert names[0] == "loss" and len(values) == len(names) == 5
    accuracies = [v for n, v in zip(names, values) if n.endswith("accuracy")]
    assert min(accuracies) >= 0.9
    first, second = model.predict(x_test, verbose=0)
    assert first.shape == second.shape == (30, 3)


class IrisNet(Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = Dense(8, activation="relu")
        self.hidden2 = Dense(6, activation="relu")
        self.out = Dense(3, activation="softmax")

    def call(self, inputs, training=None):
        return self.out(self.hidden2(self.hidden(inputs)))


def test_subclassed_version(iris):
    x_train, labels_train, x_test, labels_test = iris
    model = IrisNet()
    model.compile(optimizer=optimizers.Adam(learning_rate=0.01), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, utils.to_categorical(labels_train), epochs=40, batch_size=8, verbose=0)
    loss, accuracy = model.evaluate(x_test, utils.to_categorical(labels_test), verbose=0)
    assert accuracy >= 0.9
    assert [layer.name for layer in model.layers] == [model.hidden.name, model.hidden2.name, model.out.name]
    assert model.count_params() == 4 * 8 + 8 + 8 * 6 + 6 + 6 * 3 + 3
