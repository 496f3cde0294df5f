"""Activation modules and their functional forms: forward and backward parity with PyTorch, float64 gradcheck.

One table: (name, ganglion module, PyTorch module, ganglion functional, PyTorch functional). Adding an activation is
adding a row.
"""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn
from ganglion.autograd import gradcheck
from ganglion.nn import functional as F

TF = torch.nn.functional

ACTIVATIONS = [
    ("relu", lambda: nn.ReLU(), lambda: torch.nn.ReLU(), F.relu, TF.relu),
    ("sigmoid", lambda: nn.Sigmoid(), lambda: torch.nn.Sigmoid(), F.sigmoid, torch.sigmoid),
    ("tanh", lambda: nn.Tanh(), lambda: torch.nn.Tanh(), F.tanh, torch.tanh),
    ("softmax_dim0", lambda: nn.Softmax(dim=0), lambda: torch.nn.Softmax(dim=0),
     lambda x: F.softmax(x, dim=0), lambda x: TF.softmax(x, dim=0)),
    ("softmax_dim1", lambda: nn.Softmax(dim=1), lambda: torch.nn.Softmax(dim=1),
     lambda x: F.softmax(x, dim=1), lambda x: TF.softmax(x, dim=1)),
    ("softmax_dim-1", lambda: nn.Softmax(dim=-1), lambda: torch.nn.Softmax(dim=-1),
     lambda x: F.softmax(x, -1), lambda x: TF.softmax(x, -1)),
    ("log_softmax_dim1", lambda: nn.LogSoftmax(dim=1), lambda: torch.nn.LogSoftmax(dim=1),
     lambda x: F.log_softmax(x, dim=1), lambda x: TF.log_softmax(x, dim=1)),
    ("log_softmax_dim-1", lambda: nn.LogSoftmax(dim=-1), lambda: torch.nn.LogSoftmax(dim=-1),
     lambda x: F.log_softmax(x, -1), lambda x: TF.log_softmax(x, -1)),
]
IDS = [row[0] for row in ACTIVATIONS]
TOL = {np.float32: 1e-6, np.float64: 1e-12}


def _run(fn, x_np, dy_np, framework):
    if framework == "ganglion":
        x = g.tensor(x_np, dtype=x_np.dtype, requires_grad=True)
        y = fn(x)
        y.backward(g.tensor(dy_np, dtype=dy_np.dtype))
        return y.detach().numpy(), x.grad.numpy()
    x = torch.from_numpy(x_np.copy()).requires_grad_(True)
    y = fn(x)
    y.backward(torch.from_numpy(dy_np.copy()))
    return y.detach().numpy(), x.grad.numpy()


def _check_parity(ours_fn, theirs_fn, shape, dtype, rng, scale=3.0):
    x = (scale * rng.standard_normal(shape)).astype(dtype)
    x[..., 0] = 0.25  # away from ReLU's kink, but fixed values in every row
    dy = rng.standard_normal(shape).astype(dtype)
    y, dx = _run(ours_fn, x, dy, "ganglion")
    yt, dxt = _run(theirs_fn, x, dy, "torch")
    assert y.dtype == yt.dtype == dtype
    tol = TOL[dtype]
    np.testing.assert_allclose(y, yt, rtol=tol, atol=tol)
    np.testing.assert_allclose(dx, dxt, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4)], ids=["2d", "3d"])
@pytest.mark.parametrize("name,make,make_torch,f,f_torch", ACTIVATIONS, ids=IDS)
def test_module_parity(name, make, make_torch, f, f_torch, shape, dtype, rng):
    _check_parity(make(), make_torch(), shape, dtype, rng)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,make,make_torch,f,f_torch", ACTIVATIONS, ids=IDS)
def test_functional_parity(name, make, make_torch, f, f_torch, dtype, rng):
    _check_parity(f, f_torch, (3, 4, 2), dtype, rng)


@pytest.mark.parametrize("name,make,make_torch,f,f_torch", ACTIVATIONS, ids=IDS)
def test_large_inputs_stay_finite_and_match_torch(name, make, make_torch, f, f_torch, rng):
    x = np.array([[-1e4, 0.0, 1e4, 50.0], [800.0, -800.0, 3.0, 1e4]], dtype=np.float32)
    y = f(g.from_numpy(x)).numpy()
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y, f_torch(torch.from_numpy(x)).numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name,make,make_torch,f,f_torch", ACTIVATIONS, ids=IDS)
def test_gradcheck(name, make, make_torch, f, f_torch, rng):
    x = g.tensor(rng.standard_normal((3, 4)) + 0.1, dtype=g.float64, requires_grad=True)
    assert gradcheck(f, (x,))


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_softmax_slices_sum_to_one_along_dim(dim, rng):
    x = g.from_numpy(rng.standard_normal((2, 3, 4)))
    s = nn.Softmax(dim=dim)(x).numpy()
    np.testing.assert_allclose(s.sum(axis=dim), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.exp(nn.LogSoftmax(dim=dim)(x).numpy()), s, rtol=1e-12)


def test_activation_modules_have_no_parameters():
    for _, make, *_ in ACTIVATIONS:
        m = make()
        assert list(m.parameters()) == [] and list(m.state_dict()) == []
