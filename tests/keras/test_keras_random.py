"""``keras.random``: seed rules (an int repeats, a SeedGenerator streams, None follows set_random_seed), each
distribution checked statistically, Keras' dtypes, and bad arguments."""

import numpy as np
import pytest

from ganglion import keras as gk

R = gk.random


def test_int_seed_repeats_and_seed_generator_streams_reproducibly():
    np.testing.assert_array_equal(R.normal((5,), seed=4).numpy(), R.normal((5,), seed=4).numpy())
    assert not np.array_equal(R.normal((5,), seed=4).numpy(), R.normal((5,), seed=5).numpy())
    a, b = R.SeedGenerator(7), R.SeedGenerator(7)
    first, second = R.uniform((5,), seed=a).numpy(), R.uniform((5,), seed=a).numpy()
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, R.uniform((5,), seed=b).numpy())
    assert a.state.tolist() == [7, 2] and a.next().tolist() == [7, 2] and a.state.tolist() == [7, 3]
    assert R.SeedGenerator.from_config(a.get_config()).state.tolist() == [7, 0]
    gk.utils.set_random_seed(11)
    unseeded = R.normal((5,)).numpy()
    gk.utils.set_random_seed(11)
    np.testing.assert_array_equal(unseeded, R.normal((5,)).numpy())


def test_distributions_have_the_asked_moments_and_ranges():
    x = R.normal((20000,), mean=2.0, stddev=3.0, seed=1).numpy()
    assert x.dtype == np.float32 and abs(x.mean() - 2.0) < 0.1 and abs(x.std() - 3.0) < 0.1
    u = R.uniform((20000,), minval=-1.0, maxval=3.0, dtype="float64", seed=1).numpy()
    assert u.dtype == np.float64 and u.min() >= -1.0 and u.max() < 3.0 and abs(u.mean() - 1.0) < 0.05
    t = R.truncated_normal((20000,), mean=1.0, stddev=2.0, seed=1).numpy()
    assert t.min() >= -3.0 and t.max() <= 5.0 and abs(t.std() - 2.0 * 0.8796) < 0.05  # std of N(0,1) cut at 2
    i = R.randint((20000,), 3, 7, seed=1).numpy()
    assert i.dtype == np.int32 and set(np.unique(i)) == {3, 4, 5, 6}


def test_dropout_shuffle_and_categorical():
    x = np.ones((200, 50), np.float32)
    y = R.dropout(x, 0.25, seed=2).numpy()
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.75)} and abs((y == 0).mean() - 0.25) < 0.02
    shared = R.dropout(x, 0.5, noise_shape=(None, 1), seed=2).numpy()
    assert (shared == shared[:, :1]).all()
    s = R.shuffle(np.arange(12).reshape(6, 2), seed=3).numpy()
    assert sorted(s[:, 0].tolist()) == [0, 2, 4, 6, 8, 10] and (s[:, 1] == s[:, 0] + 1).all()
    cols = R.shuffle(np.arange(12).reshape(2, 6), axis=1, seed=3).numpy()
    assert sorted(cols[0].tolist()) == list(range(6))
    logits = np.log([[0.7, 0.2, 0.1], [0.0, 0.0, 1.0]])
    c = R.categorical(logits, 20000, seed=4).numpy()
    assert c.shape == (2, 20000) and c.dtype == np.int32 and (c[1] == 2).all()
    np.testing.assert_allclose(np.bincount(c[0], minlength=3) / 20000, [0.7, 0.2, 0.1], atol=0.015)


@pytest.mark.parametrize("call, match", [
    (lambda: R.normal((2,), seed="x"), "must be either an integer or an instance of `SeedGenerator`"),
    (lambda: R.uniform((2,), dtype="int32"), "floating point"),
    (lambda: R.randint((2,), 0, 5, dtype="float32"), "integer"),
    (lambda: R.randint((2,), 5, 5), "minval < maxval"),
    (lambda: R.normal((2, -1)), "non-negative"),
    (lambda: R.dropout(np.ones(3), 1.0), "rate"),
    (lambda: R.dropout(np.ones((2, 3)), 0.5, noise_shape=(2, 2)), "noise_shape"),
    (lambda: R.shuffle(np.ones(3), axis=1), "out of range"),
    (lambda: R.categorical(np.ones(3), 2), "2-D"),
    (lambda: R.SeedGenerator(1.5), "must be an integer"),
    (lambda: R.SeedGenerator(1, colour="red"), "Unrecognized keyword"),
])
def test_bad_arguments_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()
