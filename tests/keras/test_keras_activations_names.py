"""Every Keras 3 activation name resolves through ``activations.get``; the ones added beyond the basics are checked
against PyTorch or a NumPy transcription of Keras' formula, with float64 gradcheck; sparsemax against its
definition (a projection onto the simplex)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ganglion as g
from ganglion.autograd import gradcheck
from ganglion.keras import activations as A

KERAS_3_NAMES = ["relu", "leaky_relu", "relu6", "softmax", "celu", "elu", "selu", "softplus", "softsign",
                 "squareplus", "soft_shrink", "sparse_plus", "silu", "swish", "gelu", "glu", "tanh", "tanh_shrink",
                 "threshold", "sigmoid", "sparse_sigmoid", "exponential", "hard_sigmoid", "hard_silu", "hard_swish",
                 "hard_tanh", "hard_shrink", "linear", "mish", "log_softmax", "log_sigmoid", "sparsemax"]

# (id, function, kwargs, reference on a float64 array: torch functional or NumPy)
ROWS = [
    ("celu", A.celu, {"alpha": 0.7}, lambda x: TF.celu(torch.tensor(x), alpha=0.7).numpy()),
    ("glu", A.glu, {"axis": -1}, lambda x: TF.glu(torch.tensor(x), dim=-1).numpy()),
    ("hard_tanh", A.hard_tanh, {}, lambda x: TF.hardtanh(torch.tensor(x)).numpy()),
    ("hard_shrink", A.hard_shrink, {"threshold": 0.3}, lambda x: TF.hardshrink(torch.tensor(x), 0.3).numpy()),
    ("soft_shrink", A.soft_shrink, {}, lambda x: TF.softshrink(torch.tensor(x), 0.5).numpy()),
    ("tanh_shrink", A.tanh_shrink, {}, lambda x: TF.tanhshrink(torch.tensor(x)).numpy()),
    ("threshold", A.threshold, {"threshold": 0.2, "default_value": -3.0},
     lambda x: TF.threshold(torch.tensor(x), 0.2, -3.0).numpy()),
    ("log_sigmoid", A.log_sigmoid, {}, lambda x: TF.logsigmoid(torch.tensor(x)).numpy()),
    ("squareplus", A.squareplus, {"b": 2.0}, lambda x: (x + np.sqrt(x * x + 2.0)) / 2),
    ("sparse_plus", A.sparse_plus, {}, lambda x: np.where(x <= -1, 0.0, np.where(x >= 1, x, (x + 1) ** 2 / 4))),
    ("sparse_sigmoid", A.sparse_sigmoid, {}, lambda x: np.clip((x + 1) / 2, 0, 1)),
    ("relu-threshold", A.relu, {"threshold": 0.5, "negative_slope": 0.1, "max_value": 1.5},
     lambda x: np.minimum(np.where(x > 0.5, x, 0.1 * (x - 0.5)), 1.5)),
]


def _input(rng):
    x = rng.uniform(-2.5, 2.5, (4, 6))
    return x[np.abs(np.abs(x) - 1.0) > 0.05].reshape(-1)[:12].reshape(2, 6)  # away from the kinks at +-1


@pytest.mark.parametrize("name", KERAS_3_NAMES)
def test_every_keras_3_name_resolves(name):
    fn = A.get(name)
    assert callable(fn)
    x = g.tensor(np.linspace(-2, 2, 12).reshape(2, 6))
    kwargs = {"threshold": 0.0, "default_value": 0.0} if name == "threshold" else {}
    assert tuple(fn(x, **kwargs).shape) == ((2, 3) if name == "glu" else (2, 6))


@pytest.mark.parametrize("name,fn,kwargs,ref", ROWS, ids=[r[0] for r in ROWS])
def test_values_and_gradcheck(name, fn, kwargs, ref):
    x = _input(np.random.default_rng(0))
    out = fn(g.tensor(x, dtype=g.float64), **kwargs)
    np.testing.assert_allclose(out.numpy(), ref(x), rtol=1e-12, atol=1e-14)
    assert gradcheck(lambda t: fn(t, **kwargs), (g.tensor(x, dtype=g.float64, requires_grad=True),))


def _sparsemax_reference(z):
    """Sort, find the support size k, tau = (sum of the top k - 1) / k, max(z - tau, 0)."""
    out = np.empty_like(z)
    for i, row in enumerate(z):
        s = np.sort(row)[::-1]
        k = max(j for j in range(1, len(s) + 1) if 1 + j * s[j - 1] > s[:j].sum())
        out[i] = np.maximum(row - (s[:k].sum() - 1) / k, 0)
    return out


def test_sparsemax_is_the_projection_onto_the_simplex():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(5, 7)) * 2
    out = A.sparsemax(g.tensor(z, dtype=g.float64)).numpy()
    np.testing.assert_allclose(out, _sparsemax_reference(z), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-12)
    assert (out == 0).any()  # sparse, unlike softmax
    along_0 = A.sparsemax(g.tensor(z.T, dtype=g.float64), axis=0).numpy()
    np.testing.assert_allclose(along_0, out.T, rtol=1e-12, atol=1e-14)
    assert gradcheck(lambda t: A.sparsemax(t), (g.tensor(z, dtype=g.float64, requires_grad=True),))


def test_unknown_activation_lists_the_names():
    with pytest.raises(ValueError, match="unknown activation 'relu7'; accepted names are: .*sparsemax"):
        A.get("relu7")
