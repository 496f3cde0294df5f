"""``keras.utils.plot_model`` as text: layers in order with their shapes and activations, merges naming their
inputs, the LR layout, and the .txt file written beside the requested image name."""

import warnings

import pytest

import ganglion.keras as keras
from ganglion.keras import layers


def test_sequential_drawing_lists_layers_shapes_and_activations(tmp_path):
    model = keras.Sequential([layers.Dense(8, activation="relu", input_shape=(4,), name="hidden"),
                              layers.Dense(3, activation="softmax", name="probs")])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        text = keras.utils.plot_model(model, to_file=str(tmp_path / "model.png"), show_shapes=True,
                                      show_layer_activations=True, show_trainable=True)
    assert "writing" in str(caught[0].message)
    lines = text.splitlines()
    order = [i for i, line in enumerate(lines) if "(InputLayer)" in line or "hidden (Dense)" in line
             or "probs (Dense)" in line]
    assert len(order) == 3 and order == sorted(order)
    assert "input: (None, 4)  output: (None, 8)" in text and "input: (None, 8)  output: (None, 3)" in text
    assert "activation: relu" in text and "activation: softmax" in text and "trainable: yes" in text
    assert text.count("▼") == 2
    assert (tmp_path / "model.txt").read_text(encoding="utf-8") == text + "\n"


def test_functional_merge_names_its_inputs_and_lr_layout():
    a, b = keras.Input(shape=(3,), name="a"), keras.Input(shape=(2,), name="b")
    ha = layers.Dense(4, name="da")(a)
    hb = layers.Dense(4, name="db")(b)
    out = layers.Dense(1, name="head")(keras.layers.Concatenate(name="join")([ha, hb]))
    model = keras.Model([a, b], out)
    text = keras.utils.plot_model(model, to_file=None, show_shapes=True)
    assert "from: da, db" in text and "input: [(None, 4), (None, 4)]  output: (None, 8)" in text
    wide = keras.utils.plot_model(model, to_file=None, rankdir="LR", show_layer_names=False)
    assert len(wide.splitlines()) < len(text.splitlines()) and "──▶" in wide and "(Dense)" not in wide
    with pytest.raises(ValueError, match="rankdir must be 'TB' or 'LR'"):
        keras.utils.plot_model(model, to_file=None, rankdir="BT")


def test_subclassed_model_lists_its_layers():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.first = layers.Dense(4)
            self.second = layers.Dense(2)

        def call(self, inputs, training=None):
            return self.second(self.first(inputs))

    text = keras.utils.plot_model(Net(), to_file=None, show_shapes=True)
    assert text.index("(Dense)") < text.rindex("(Dense)") and "shapes: unknown (subclassed model)" in text
