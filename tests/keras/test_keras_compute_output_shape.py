"""``layer.compute_output_shape`` on a single input shape and on a list of shapes, against Keras 3."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import pytest  # noqa: E402

from ganglion.keras import layers  # noqa: E402

CASES = [
    ("LSTM", lambda L: L.LSTM(8), (None, 20, 1)),
    ("GRU sequences", lambda L: L.GRU(4, return_sequences=True), (None, 7, 3)),
    ("Dense", lambda L: L.Dense(5), (None, 3)),
    ("Conv2D", lambda L: L.Conv2D(6, 3), (None, 10, 10, 2)),
    ("Concatenate", lambda L: L.Concatenate(), [(None, 3), (None, 4)]),
]


@pytest.mark.parametrize("name, build, shape", CASES, ids=[c[0] for c in CASES])
def test_compute_output_shape_matches_keras(name, build, shape):
    assert tuple(build(layers).compute_output_shape(shape)) == tuple(build(keras.layers).compute_output_shape(shape))
