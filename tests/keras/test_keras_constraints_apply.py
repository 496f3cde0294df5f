"""Weight constraints: each against a NumPy transcription of Keras' formula (axis as an int or a list), and on a
Dense layer during fit, where axis 0 of Keras' kernel (in, units) is axis 1 of the engine's weight (units, in)."""

import numpy as np
import pytest

import ganglion as g
import ganglion.keras as keras
from ganglion.keras import constraints

EPS = 1e-7


def _norms(w, axis):
    return np.sqrt((w * w).sum(axis=tuple(np.atleast_1d(axis)), keepdims=True))


# (id, constraint, NumPy reference)
ROWS = [
    ("max_norm", constraints.MaxNorm(1.5), lambda w: w * np.clip(_norms(w, 0), 0, 1.5) / (EPS + _norms(w, 0))),
    ("max_norm-axis1", constraints.MaxNorm(0.5, axis=1),
     lambda w: w * np.clip(_norms(w, 1), 0, 0.5) / (EPS + _norms(w, 1))),
    ("non_neg", constraints.NonNeg(), lambda w: np.maximum(w, 0)),
    ("unit_norm", constraints.UnitNorm(), lambda w: w / (EPS + _norms(w, 0))),
    ("unit_norm-conv-axes", constraints.UnitNorm(axis=[0, 1, 2]), lambda w: w / (EPS + _norms(w, (0, 1, 2)))),
    ("min_max_norm", constraints.MinMaxNorm(0.8, 1.2, rate=0.5),
     lambda w: w * (0.5 * np.clip(_norms(w, 0), 0.8, 1.2) + 0.5 * _norms(w, 0)) / (EPS + _norms(w, 0))),
]


@pytest.mark.parametrize("name,constraint,ref", ROWS, ids=[r[0] for r in ROWS])
def test_constraint_matches_the_keras_formula(name, constraint, ref):
    rng = np.random.default_rng(0)
    w = rng.normal(size=(3, 3, 2, 4)) if "conv" in name else rng.normal(size=(5, 4))
    out = constraint(g.tensor(w, dtype=g.float64))
    np.testing.assert_allclose(out.numpy(), ref(w), rtol=1e-12, atol=1e-15)
    revived = constraints.get({"class_name": type(constraint).__name__, "config": constraint.get_config()})
    np.testing.assert_allclose(revived(g.tensor(w, dtype=g.float64)).numpy(), out.numpy(), rtol=1e-15)


def test_get_by_name():
    assert isinstance(constraints.get("max_norm"), constraints.MaxNorm)
    assert isinstance(constraints.get("NonNeg"), constraints.NonNeg)
    assert constraints.get(None) is None
    with pytest.raises(ValueError, match="unknown constraint 'positive'; accepted names are"):
        constraints.get("positive")


def test_constraints_hold_after_every_fit_step_and_survive_get_config():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(32, 5)).astype(np.float32) * 3, rng.normal(size=(32, 4)).astype(np.float32) * 5
    model = keras.Sequential([keras.layers.Dense(4, input_shape=(5,), kernel_constraint=constraints.MaxNorm(0.3),
                                                 bias_constraint=constraints.NonNeg())])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5), loss="mse")
    norms = []
    check = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: norms.append(np.linalg.norm(model.get_weights()[0], axis=0)))
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[check])
    kernel, bias = model.get_weights()
    assert len(norms) == 8 and max(n.max() for n in norms) <= 0.3 + 1e-6
    assert np.linalg.norm(kernel, axis=0).max() == pytest.approx(0.3, rel=1e-4)  # the large targets push to the bound
    assert bias.min() >= 0.0
    np.testing.assert_array_equal(model.layers[0].linear.weight.detach().numpy(), kernel.T)
    config = model.layers[0].get_config()
    rebuilt = keras.layers.Dense.from_config(config)
    assert isinstance(rebuilt.kernel_constraint, constraints.MaxNorm) and rebuilt.kernel_constraint.max_value == 0.3
