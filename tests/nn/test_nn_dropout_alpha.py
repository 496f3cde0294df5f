"""AlphaDropout: the SELU-preserving affine map, checked by its formula on a known mask, by the exact values PyTorch
gives kept and dropped units, by mean/variance statistics against PyTorch's, and by its gradient (a m)."""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn
from ganglion.autograd import gradcheck
from ganglion.nn import functional as F
from ganglion.nn.functional.dropout import keep_mask

TF = torch.nn.functional
ALPHA_PRIME = -1.0507009873554805 * 1.6732632423543772  # -scale * alpha of SELU


def affine(p):
    a = ((1 - p) * (1 + p * ALPHA_PRIME**2)) ** -0.5
    return a, -a * ALPHA_PRIME * p


@pytest.mark.parametrize("p", [0.05, 0.2, 0.5, 0.9])
def test_formula_on_a_known_mask(p, rng):
    """y = a (m x + (1 - m) alpha') + b, with the mask the generator gives; dy/dx = a m."""
    shape = (6, 7)
    x_np = rng.standard_normal(shape)
    keep = keep_mask(shape, p, np.dtype("float64"), g.device("cpu"), g.Generator().manual_seed(11))
    a, b = affine(p)
    expected = a * (keep * x_np + (1 - keep) * ALPHA_PRIME) + b
    x = g.tensor(x_np, dtype=g.float64, requires_grad=True)
    y = F.alpha_dropout(x, p, training=True, generator=g.Generator().manual_seed(11))
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-14, atol=1e-15)
    assert 0 < keep.sum() < keep.size or p < 0.1
    upstream = rng.standard_normal(shape)
    y.backward(g.from_numpy(upstream))
    np.testing.assert_allclose(x.grad.numpy(), upstream * a * keep, rtol=1e-15)


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_kept_and_dropped_values_equal_torchs(p):
    """On a constant input there are two output values, kept and dropped: the same as PyTorch's, to float32 ulps."""
    for value in (0.0, 1.0, -0.5):
        x = np.full((500,), value, dtype=np.float32)
        ours = np.unique(F.alpha_dropout(g.tensor(x), p, training=True).numpy())
        theirs = np.unique(TF.alpha_dropout(torch.tensor(x), p, training=True).numpy())
        assert len(ours) == len(theirs) == 2
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("p", [0.1, 0.3, 0.6])
def test_keeps_zero_mean_and_unit_variance_like_torch(p):
    g.manual_seed(0)
    torch.manual_seed(0)
    x = np.random.default_rng(1).standard_normal(200_000).astype(np.float32)
    y = F.alpha_dropout(g.tensor(x), p, training=True).numpy().astype(np.float64)
    y_t = TF.alpha_dropout(torch.tensor(x), p, training=True).numpy().astype(np.float64)
    for out in (y, y_t):
        assert abs(out.mean()) < 0.015
        assert abs(out.var() - 1.0) < 0.02
    assert abs(y.mean() - y_t.mean()) < 0.02 and abs(y.var() - y_t.var()) < 0.03
    a, b = affine(p)
    dropped = np.isclose(y, a * ALPHA_PRIME + b, rtol=0, atol=1e-6) & ~np.isclose(a * x + b, a * ALPHA_PRIME + b)
    assert abs(dropped.mean() - p) < 0.01


def test_selu_network_stays_normalized_through_alpha_dropout():
    """The point of alpha dropout: SELU activations of a self-normalizing network keep mean ~0, var ~1 after it."""
    rng = np.random.default_rng(2)
    x = g.tensor(rng.standard_normal((4000, 64)).astype(np.float32))
    layer = nn.AlphaDropout(0.2)
    for _ in range(3):
        w = g.tensor((rng.standard_normal((64, 64)) / 8).astype(np.float32))  # LeCun normal: var 1 / fan_in
        z = x @ w
        x = 1.0507009873554805 * g.where(z > 0, z, 1.6732632423543772 * (z.exp() - 1))  # SELU
        x = layer(x)
    out = x.numpy()
    assert abs(out.mean()) < 0.1 and abs(out.var() - 1.0) < 0.15


def test_default_training_is_false_for_the_functional_form_like_torch():
    x = g.ones(4)
    assert F.alpha_dropout(x, 0.5) is x
    layer = nn.AlphaDropout(0.5)
    assert layer.training and not np.array_equal(layer(g.ones(100)).numpy(), np.ones(100))


def test_gradcheck_with_a_fixed_mask(rng):
    x = g.tensor(rng.standard_normal((3, 5)), dtype=g.float64, requires_grad=True)
    assert gradcheck(lambda t: F.alpha_dropout(t, 0.35, training=True, generator=g.Generator().manual_seed(4)), (x,))


def test_inplace_alpha_dropout_matches_out_of_place(rng):
    x_np = rng.standard_normal((5, 5)).astype(np.float32)
    out = F.alpha_dropout(g.tensor(x_np), 0.3, training=True, generator=g.Generator().manual_seed(9)).numpy()
    x = g.tensor(x_np)
    y = F.alpha_dropout(x, 0.3, training=True, inplace=True, generator=g.Generator().manual_seed(9))
    assert y is x
    np.testing.assert_array_equal(x.numpy(), out)
