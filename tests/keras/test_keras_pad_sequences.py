"""``keras.utils.pad_sequences`` (and ``keras.preprocessing.sequence.pad_sequences``) against Keras 3: every padding
and truncating side, maxlen, value, dtype, sequences of vectors and empty ones, and Keras' errors."""

import os

import numpy as np
import pytest

from ganglion import keras as gk

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402 - a test dependency: after KERAS_BACKEND is set

RAGGED = [[1], [2, 3], [4, 5, 6], [], [7, 8, 9, 10]]


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize("maxlen", [None, 2, 3, 6])
def test_pad_sequences_matches_keras(padding, truncating, maxlen):
    kwargs = dict(maxlen=maxlen, padding=padding, truncating=truncating)
    ours = gk.utils.pad_sequences(RAGGED, **kwargs)
    theirs = keras.utils.pad_sequences(RAGGED, **kwargs)
    assert ours.dtype == theirs.dtype == np.int32
    np.testing.assert_array_equal(ours, theirs)


def test_value_dtype_and_vector_steps_match_keras():
    for kwargs in [dict(value=-1), dict(dtype="float32", value=0.5), dict(dtype="int64")]:
        ours, theirs = gk.utils.pad_sequences(RAGGED, **kwargs), keras.utils.pad_sequences(RAGGED, **kwargs)
        assert ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)
    vectors = [np.ones((2, 3)), np.arange(9.0).reshape(3, 3), np.zeros((0, 3))]
    ours = gk.utils.pad_sequences(vectors, maxlen=2, dtype="float32", padding="post")
    assert ours.shape == (3, 2, 3)
    np.testing.assert_array_equal(ours, keras.utils.pad_sequences(vectors, maxlen=2, dtype="float32",
                                                                  padding="post"))
    words = gk.utils.pad_sequences([["a"], ["b", "c"]], dtype=object, value="<pad>")
    assert words.tolist() == [["<pad>", "a"], ["b", "c"]]


def test_preprocessing_sequence_path_is_the_same_function():
    from ganglion.keras.preprocessing.sequence import pad_sequences

    assert pad_sequences is gk.utils.pad_sequences
    np.testing.assert_array_equal(pad_sequences([[1, 2], [3]]), [[1, 2], [0, 3]])


@pytest.mark.parametrize("args, kwargs, match", [
    ((5,), {}, "must be iterable"),
    (([[1], 2],), {}, "non-iterable"),
    (([[1]],), dict(padding="middle"), "Padding type"),
    (([[1]],), dict(truncating="both"), "Truncating type"),
    (([[1]],), dict(value="x"), "dtype=object"),
    (([[[1, 2]], [[1, 2, 3]]],), {}, "Shape of sample"),
    (([[1]],), dict(maxlen=-1), "maxlen"),
    (([],), {}, "empty"),
])
def test_bad_inputs_raise_value_errors(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        gk.utils.pad_sequences(*args, **kwargs)
