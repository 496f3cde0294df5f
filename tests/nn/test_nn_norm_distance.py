"""rms_norm, normalize and cosine_similarity (and nn.RMSNorm): parity with torch.nn.functional forward and backward,
float64 gradcheck and gradgradcheck (they are composed of ops, so every derivative exists), and clear errors.

One table: (id, call with the framework's functional module, input shapes). Adding a case is adding a row.
"""

import numpy as np
import pytest
import torch

import ganglion as G
from ganglion import nn
from ganglion.nn import functional as F

TF = torch.nn.functional

ROWS = [
    ("rms_norm", lambda f, x, w: f.rms_norm(x, (3,), w), ((4, 3), (3,))),
    ("rms_norm_eps", lambda f, x, w: f.rms_norm(x, (3,), w, eps=1e-2), ((4, 3), (3,))),
    ("rms_norm_2d_no_weight", lambda f, x: f.rms_norm(x, (2, 3)), ((2, 2, 3),)),
    ("normalize", lambda f, x: f.normalize(x), ((3, 4),)),
    ("normalize_last_dim_p1", lambda f, x: f.normalize(x, p=1.0, dim=-1), ((2, 3, 4),)),
    ("normalize_p3", lambda f, x: f.normalize(x, p=3, dim=0), ((3, 2),)),
    ("cosine_similarity", lambda f, a, b: f.cosine_similarity(a, b), ((3, 4), (3, 4))),
    ("cosine_similarity_dim_broadcast", lambda f, a, b: f.cosine_similarity(a, b, dim=-1), ((2, 3, 4), (3, 4))),
]
IDS = [r[0] for r in ROWS]


def _arrays(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) + 0.5 for s in shapes]


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_forward_and_backward_match_torch(row):
    _, call, shapes = row
    arrays = _arrays(shapes)
    ours = [G.tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a.astype(np.float32), requires_grad=True) for a in arrays]
    y, y_t = call(F, *ours), call(TF, *theirs)
    np.testing.assert_allclose(y.detach().numpy(), y_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    upstream = np.random.default_rng(1).standard_normal(tuple(y.shape)).astype(np.float32)
    y.backward(G.tensor(upstream))
    y_t.backward(torch.tensor(upstream))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_gradcheck_and_gradgradcheck_float64(row):
    _, call, shapes = row
    inputs = [G.tensor(a, dtype=G.float64, requires_grad=True) for a in _arrays(shapes, seed=2)]
    fn = lambda *xs: call(F, *xs)  # noqa: E731
    assert G.autograd.gradcheck(fn, inputs)
    assert G.autograd.gradgradcheck(fn, inputs)


def test_rms_norm_default_eps_is_the_dtype_epsilon():
    x = np.array([[1e-5, -2e-5, 3e-5]], dtype=np.float32)
    ours = F.rms_norm(G.tensor(x), (3,))
    theirs = TF.rms_norm(torch.tensor(x), (3,))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5)


def test_normalize_and_cosine_keep_zero_vectors_finite():
    x = G.tensor(np.zeros((2, 3)), dtype=G.float64, requires_grad=True)
    y = F.normalize(x)
    assert np.array_equal(y.detach().numpy(), np.zeros((2, 3)))
    y.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    c = F.cosine_similarity(G.tensor(np.zeros((2, 3))), G.tensor(np.ones((2, 3))))
    assert np.array_equal(c.numpy(), np.zeros(2))


def test_rmsnorm_module_matches_torch():
    ours, theirs = nn.RMSNorm((4,), eps=1e-3), torch.nn.RMSNorm((4,), eps=1e-3)
    assert tuple(ours.weight.shape) == (4,) and np.array_equal(ours.weight.detach().numpy(), np.ones(4))
    x = _arrays([(2, 3, 4)])[0].astype(np.float32)
    np.testing.assert_allclose(ours(G.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5)
    assert nn.RMSNorm(4, elementwise_affine=False).weight is None
    assert "RMSNorm((4,), eps=0.001" in repr(ours)


@pytest.mark.parametrize("call,match", [
    (lambda: F.rms_norm(G.randn(2, 3), (4,)), r"rms_norm: normalized_shape=\(4,\) expects input of shape"),
    (lambda: F.rms_norm(G.randn(2, 3), (3,), G.ones(2)), "rms_norm: weight must have shape"),
    (lambda: F.normalize(G.randn(2, 3), dim=2), "normalize: dim must be an int"),
    (lambda: F.normalize(G.randn(2, 3), p=0), "normalize: p must be a positive number"),
    (lambda: F.cosine_similarity(G.randn(2, 3), G.randn(4, 3)), "do not broadcast"),
    (lambda: nn.RMSNorm(3)(G.randn(2, 4)), r"expected input of shape \(\*, 3\)"),
])
def test_bad_arguments_raise_a_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
