"""Core behaviours found by the layer work: unknown dims stay unknown, ``training=`` reaches only calls that take
it, and Keras 3's short initializer names resolve."""

import numpy as np
import pytest

from ganglion import keras
from ganglion.keras import layers


def test_training_argument_is_dropped_for_layers_whose_call_does_not_take_it():
    out = layers.Dense(2)(np.ones((1, 3), np.float32), training=True)
    assert tuple(out.shape) == (1, 2)


@pytest.mark.parametrize("make,shape,expected", [
    (lambda: layers.Conv1D(4, 3, padding="same"), (None, 3), (None, None, 4)),
    (lambda: layers.Conv2D(4, 3), (None, None, 3), (None, None, None, 4)),
    (lambda: layers.Dense(5), (None, 7), (None, None, 5)),
])
def test_unknown_dimensions_stay_unknown_in_symbolic_shapes(make, shape, expected):
    x = keras.Input(shape=shape)
    assert make()(x).shape == expected


def test_known_dimensions_are_exact():
    x = keras.Input(shape=(10, 3))
    assert layers.Conv1D(4, 3)(x).shape == (None, 8, 4)


@pytest.mark.parametrize("name,cls", [("uniform", "RandomUniform"), ("normal", "RandomNormal"), ("one", "Ones"),
                                      ("zero", "Zeros")])
def test_short_initializer_names(name, cls):
    assert type(keras.initializers.get(name)).__name__ == cls
