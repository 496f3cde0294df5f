"""Keras initializers (Keras' fan rules on Keras-layout shapes, distributions, seeds, names) and regularizers (the
penalty formulas, names, configs)."""

import math

import numpy as np
import pytest

import ganglion
from ganglion.keras import initializers, regularizers
from ganglion.keras.layers import Dense

# (initializer, shape, expected std or None, expected bound or None)
TABLE = [
    (initializers.RandomNormal(), (200, 300), 0.05, None),
    (initializers.RandomNormal(mean=1.0, stddev=0.2), (200, 300), 0.2, None),
    (initializers.RandomUniform(), (200, 300), 0.05 / math.sqrt(3), 0.05),
    (initializers.TruncatedNormal(stddev=0.1), (200, 300), 0.1 * 0.8796, 0.2),
    (initializers.GlorotUniform(), (200, 300), math.sqrt(2 / 500), math.sqrt(6 / 500)),
    (initializers.GlorotNormal(), (200, 300), math.sqrt(2 / 500), 2 * math.sqrt(2 / 500) / 0.8796),
    (initializers.HeNormal(), (200, 300), math.sqrt(2 / 200), 2 * math.sqrt(2 / 200) / 0.8796),
    (initializers.HeUniform(), (200, 300), math.sqrt(2 / 200), math.sqrt(6 / 200)),
    (initializers.LecunNormal(), (200, 300), math.sqrt(1 / 200), 2 * math.sqrt(1 / 200) / 0.8796),
    (initializers.LecunUniform(), (200, 300), math.sqrt(1 / 200), math.sqrt(3 / 200)),
    # a conv kernel (kh, kw, in, out): fan_in = 3 * 3 * 16, fan_out = 3 * 3 * 32
    (initializers.HeNormal(), (3, 3, 16, 32), math.sqrt(2 / 144), 2 * math.sqrt(2 / 144) / 0.8796),
    (initializers.GlorotUniform(), (3, 3, 16, 32), math.sqrt(2 / 432), math.sqrt(6 / 432)),
    (initializers.VarianceScaling(2.0, "fan_out", "untruncated_normal"), (100, 400), math.sqrt(2 / 400), None),
]


@pytest.mark.parametrize("init, shape, std, bound", TABLE, ids=lambda v: type(v).__name__ if hasattr(v, "sample")
                         else None)
def test_distribution_follows_keras_fans(init, shape, std, bound):
    ganglion.manual_seed(0)
    values = init(shape, dtype="float64").numpy()
    assert values.shape == shape and values.dtype == np.float64
    mean = init.mean if hasattr(init, "mean") else 0.0
    np.testing.assert_allclose(values.std(), std, rtol=0.05)
    assert abs(values.mean() - mean) < 4 * std / math.sqrt(values.size) + 1e-9
    if bound is not None:
        assert np.abs(values - mean).max() <= bound * (1 + 1e-6)
        assert np.abs(values - mean).max() > 0.9 * bound


def test_constant_zeros_ones_identity_orthogonal():
    assert np.all(initializers.Zeros()((2, 3)).numpy() == 0)
    assert np.all(initializers.Ones()((2, 3)).numpy() == 1)
    assert np.all(initializers.Constant(0.5)((4,)).numpy() == 0.5)
    np.testing.assert_array_equal(initializers.Identity(gain=2.0)((3, 4)).numpy(), 2 * np.eye(3, 4))
    for shape in [(6, 4), (4, 6), (3, 3, 2, 5)]:
        q = initializers.Orthogonal(gain=1.5)(shape, dtype="float64").numpy().reshape(-1, shape[-1])
        small = min(q.shape)
        gram = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
        np.testing.assert_allclose(gram, 1.5 ** 2 * np.eye(small), atol=1e-10)
    with pytest.raises(ValueError, match="Identity initializer: needs a 2-D shape"):
        initializers.Identity()((2, 2, 2))


def test_seeds_and_the_global_generator():
    a = initializers.HeNormal(seed=7)((5, 5)).numpy()
    np.testing.assert_array_equal(a, initializers.HeNormal(seed=7)((5, 5)).numpy())
    assert not np.array_equal(a, initializers.HeNormal(seed=8)((5, 5)).numpy())
    ganglion.manual_seed(3)
    b = initializers.GlorotUniform()((5, 5)).numpy()
    ganglion.manual_seed(3)
    np.testing.assert_array_equal(b, initializers.GlorotUniform()((5, 5)).numpy())


def test_dense_kernel_uses_keras_layout_and_fans():
    layer = Dense(300, kernel_initializer="glorot_uniform", bias_initializer=initializers.Constant(0.25))
    layer(np.zeros((1, 100), dtype=np.float32))
    kernel, bias = layer.get_weights()
    assert kernel.shape == (100, 300) and layer.linear.weight.shape == (300, 100)
    assert np.abs(kernel).max() <= math.sqrt(6 / 400) and np.abs(kernel).max() > 0.9 * math.sqrt(6 / 400)
    assert np.all(bias == 0.25)


@pytest.mark.parametrize("name, cls", [("he_normal", initializers.HeNormal), ("HeNormal", initializers.HeNormal),
                                       ("glorot_uniform", initializers.GlorotUniform), ("zeros", initializers.Zeros),
                                       ("orthogonal", initializers.Orthogonal)])
def test_names_configs_and_round_trip(name, cls):
    init = initializers.get(name)
    assert type(init) is cls
    again = initializers.get(initializers.serialize(init))
    assert type(again) is cls and again.get_config() == init.get_config()


def test_unknown_initializer_lists_the_accepted_names():
    with pytest.raises(ValueError, match=r"unknown initializer 'he_norm'; accepted names are: .*he_normal"):
        initializers.get("he_norm")
    with pytest.raises(ValueError, match=r"unknown initializer 'nope'.*glorot_uniform"):
        Dense(3, kernel_initializer="nope")


def test_function_initializer():
    init = initializers.get(lambda shape, dtype=None: np.full(shape, 3.0))
    assert np.all(init((2, 2)).numpy() == 3.0)


@pytest.mark.parametrize("reg, formula", [
    (regularizers.L1(0.1), lambda w: 0.1 * np.abs(w).sum()),
    (regularizers.L2(0.01), lambda w: 0.01 * (w ** 2).sum()),
    (regularizers.L1L2(l1=0.2, l2=0.3), lambda w: 0.2 * np.abs(w).sum() + 0.3 * (w ** 2).sum()),
    (regularizers.get("l2"), lambda w: 0.01 * (w ** 2).sum()),
    (regularizers.l1_l2(), lambda w: 0.01 * np.abs(w).sum() + 0.01 * (w ** 2).sum()),
])
def test_regularizer_penalties(reg, formula):
    w = np.random.default_rng(0).standard_normal((4, 3))
    value = reg(ganglion.tensor(w, dtype="float64"))
    np.testing.assert_allclose(value.item(), formula(w), rtol=1e-12)
    again = regularizers.get(regularizers.serialize(reg))
    assert type(again) is type(reg) and again.get_config() == reg.get_config()


def test_regularizer_errors():
    with pytest.raises(ValueError, match="accepted names are: .*l1_l2"):
        regularizers.get("l3")
    with pytest.raises(ValueError, match="non-negative"):
        regularizers.L2(-1.0)
