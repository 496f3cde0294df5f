"""nn.Linear and F.linear: layout, default init, parity with PyTorch forward and backward, gradcheck, shape errors."""

import math

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn
from ganglion.autograd import gradcheck
from ganglion.nn import functional as F


def test_weight_layout_is_out_by_in():
    lin = nn.Linear(5, 3)
    assert tuple(lin.weight.shape) == (3, 5) and tuple(lin.bias.shape) == (3,)
    assert lin.in_features == 5 and lin.out_features == 3
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]
    assert lin.weight.dtype == g.float32


def test_bias_false():
    lin = nn.Linear(5, 3, bias=False)
    assert lin.bias is None
    assert [n for n, _ in lin.named_parameters()] == ["weight"]
    assert list(lin.state_dict()) == list(torch.nn.Linear(5, 3, bias=False).state_dict())


def test_dtype_argument():
    lin = nn.Linear(2, 3, dtype=g.float64)
    assert lin.weight.dtype == g.float64 and lin.bias.dtype == g.float64


def test_default_init_is_uniform_within_one_over_sqrt_fan_in():
    g.manual_seed(0)
    fan_in = 400
    lin = nn.Linear(fan_in, 500)
    bound = 1 / math.sqrt(fan_in)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.99 * bound  # the whole interval is used, not a narrower one
    assert abs(w.mean()) < 0.01 * bound
    np.testing.assert_allclose(w.std(), bound / math.sqrt(3), rtol=0.01)  # the std of U(-a, a) is a / sqrt(3)
    # a uniform, not a bell: each tenth of the interval holds about a tenth of the values
    hist, _ = np.histogram(w, bins=10, range=(-bound, bound))
    np.testing.assert_allclose(hist / w.size, 0.1, atol=0.005)


def test_default_init_differs_between_layers_and_follows_the_seed():
    g.manual_seed(1)
    a = nn.Linear(4, 4).weight.detach().numpy().copy()
    b = nn.Linear(4, 4).weight.detach().numpy().copy()
    g.manual_seed(1)
    c = nn.Linear(4, 4).weight.detach().numpy().copy()
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def _pair(in_f, out_f, bias, dtype):
    ours = nn.Linear(in_f, out_f, bias=bias, dtype=dtype)
    theirs = torch.nn.Linear(in_f, out_f, bias=bias, dtype=getattr(torch, np.dtype(dtype).name))
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize("dtype,tol", [(np.float32, 1e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(6,), (4, 6), (2, 3, 6)], ids=["1d", "2d", "3d"])
def test_forward_backward_parity_with_torch(shape, bias, dtype, tol, rng):
    ours, theirs = _pair(6, 5, bias, dtype)
    x_np = rng.standard_normal(shape).astype(dtype)
    x = g.tensor(x_np, dtype=dtype, requires_grad=True)
    xt = torch.from_numpy(x_np.copy()).requires_grad_(True)
    y, yt = ours(x), theirs(xt)
    assert tuple(y.shape) == tuple(yt.shape) == shape[:-1] + (5,)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=tol, atol=tol)
    dy = rng.standard_normal(y.shape).astype(dtype)
    y.backward(g.tensor(dy, dtype=dtype))
    yt.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=tol, atol=tol)
    if bias:
        np.testing.assert_allclose(ours.bias.grad.numpy(), theirs.bias.grad.numpy(), rtol=tol, atol=tol)
    assert ours.weight.grad.dtype == np.dtype(dtype)


def test_functional_linear_matches_module_and_torch(rng):
    x = rng.standard_normal((3, 4))
    w = rng.standard_normal((2, 4))
    b = rng.standard_normal(2)
    ours = F.linear(g.from_numpy(x), g.from_numpy(w), g.from_numpy(b)).numpy()
    theirs = torch.nn.functional.linear(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    np.testing.assert_allclose(F.linear(g.from_numpy(x), g.from_numpy(w)).numpy(), x @ w.T, rtol=1e-12)


@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 2, 4)], ids=["1d", "2d", "3d"])
@pytest.mark.parametrize("bias", [True, False])
def test_gradcheck_linear(shape, bias, rng):
    x = g.tensor(rng.standard_normal(shape), dtype=g.float64, requires_grad=True)
    w = g.tensor(rng.standard_normal((3, 4)), dtype=g.float64, requires_grad=True)
    b = g.tensor(rng.standard_normal(3), dtype=g.float64, requires_grad=True) if bias else None
    assert gradcheck(lambda x, w, b: F.linear(x, w, b), (x, w, b))


def test_gradcheck_detects_a_wrong_gradient():
    """The gradcheck used above can fail: a deliberately wrong backward is caught."""
    from ganglion.autograd.function import Function

    class WrongSquare(Function):
        def forward(self, x):
            self.save(x)
            return x * x

        def backward(self, dy):
            (x,) = self.saved
            return dy * x  # should be 2 x dy

    x = g.tensor([0.5, -1.5], dtype=g.float64, requires_grad=True)
    assert not gradcheck(lambda x: WrongSquare.apply(x), (x,), raise_exception=False)


@pytest.mark.parametrize("shape", [(2, 5), (5,), (3, 2, 3)])
def test_wrong_number_of_features_names_the_layer_and_both_shapes(shape):
    lin = nn.Linear(4, 3)
    with pytest.raises(ValueError) as info:
        lin(g.zeros(*shape))
    message = str(info.value)
    assert "Linear(in_features=4, out_features=3" in message
    assert "(*, 4)" in message and str(tuple(shape)) in message


def test_scalar_input_raises_value_error():
    with pytest.raises(ValueError, match="Linear"):
        nn.Linear(4, 3)(g.tensor(1.0))


def test_functional_linear_shape_error_names_both_shapes():
    with pytest.raises(ValueError) as info:
        F.linear(g.zeros(2, 5), g.zeros(3, 4))
    assert "(2, 5)" in str(info.value) and "(3, 4)" in str(info.value)


@pytest.mark.parametrize("bad", [-1, 2.5, "4", True])
def test_invalid_feature_counts_raise(bad):
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(bad, 3)
