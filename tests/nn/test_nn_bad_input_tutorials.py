"""Bad input met in the PyTorch tutorials: integer inputs to linear / softmax / cross_entropy, and max/min
reductions of tensors with a size-0 dim. Each raises (or returns) what PyTorch does."""

import numpy as np
import pytest
import torch

import ganglion
import ganglion.nn as nn
import ganglion.nn.functional as F


def _torch_error(fn):
    with pytest.raises(Exception) as info:
        fn()
    return info.type


INT = ganglion.tensor([[1, 2, 3], [4, 5, 6]])
TINT = torch.tensor([[1, 2, 3], [4, 5, 6]])


def test_linear_integer_input_raises_runtime_error_naming_dtypes():
    expected = _torch_error(lambda: torch.nn.functional.linear(TINT, torch.ones(4, 3)))
    with pytest.raises(expected, match=r"linear.*input int64, weight float32"):
        F.linear(INT, ganglion.ones(4, 3))
    with pytest.raises(_torch_error(lambda: torch.nn.Linear(3, 4)(TINT)), match="Linear"):
        nn.Linear(3, 4)(INT)
    with pytest.raises(RuntimeError, match="bias int64"):
        F.linear(ganglion.ones(2, 3), ganglion.ones(4, 3), ganglion.tensor([1, 2, 3, 4]))


def test_linear_all_integer_operands_allowed_as_torch():
    out = F.linear(INT, ganglion.tensor([[1, 0, 1]]))
    expected = torch.nn.functional.linear(TINT, torch.tensor([[1, 0, 1]]))
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_of_integers_raises_not_implemented(name):
    expected = _torch_error(lambda: getattr(torch.nn.functional, name)(TINT, 1))
    with pytest.raises(expected, match=rf"{name}.*int64"):
        getattr(F, name)(INT, 1)
    with pytest.raises(expected, match=name):
        getattr(INT, name)(1)
    with pytest.raises(expected, match="bool"):
        getattr(F, name)(INT > 2, 1)
    out = getattr(F, name)(INT, 1, dtype=ganglion.float32)  # dtype= converts first, as in PyTorch
    ref = getattr(torch.nn.functional, name)(TINT, 1, dtype=torch.float32)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6)


@pytest.mark.parametrize("target", [[0, 1], "probabilities"])
def test_cross_entropy_integer_input_raises(target):
    t, tt = (ganglion.ones(2, 3), torch.ones(2, 3)) if target == "probabilities" else (
        ganglion.tensor(target), torch.tensor(target))
    expected = _torch_error(lambda: torch.nn.functional.cross_entropy(TINT, tt))
    with pytest.raises(expected, match="cross_entropy.*int64"):
        F.cross_entropy(INT, t)
    with pytest.raises(expected, match="cross_entropy"):
        nn.CrossEntropyLoss()(INT, t)


def test_nll_loss_integer_input_raises():
    expected = _torch_error(lambda: torch.nn.functional.nll_loss(TINT, torch.tensor([0, 1])))
    with pytest.raises(expected, match="nll_loss.*int64"):
        F.nll_loss(INT, ganglion.tensor([0, 1]))


@pytest.mark.parametrize("op", ["amax", "amin"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_amax_amin_over_nonempty_dim_of_empty_tensor(op, keepdim):
    x = ganglion.zeros(0, 3, requires_grad=True)
    y = getattr(x, op)(dim=1, keepdim=keepdim)
    assert tuple(y.shape) == tuple(getattr(torch.zeros(0, 3), op)(dim=1, keepdim=keepdim).shape)
    y.sum().backward()
    assert tuple(x.grad.shape) == (0, 3)


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_along_nonempty_dim_of_empty_tensor(op):
    x = ganglion.zeros(2, 0, 3, requires_grad=True)
    values, indices = getattr(x, op)(dim=2)
    ref = getattr(torch.zeros(2, 0, 3), op)(dim=2)
    assert tuple(values.shape) == tuple(ref.values.shape) and tuple(indices.shape) == tuple(ref.indices.shape)
    assert indices.dtype == np.int64
    values.sum().backward()
    assert tuple(x.grad.shape) == (2, 0, 3)
    assert tuple(getattr(x, "arg" + op)(dim=2).shape) == (2, 0)


@pytest.mark.parametrize("call", [
    lambda m, x: m.amax(x, dim=0), lambda m, x: m.amin(x, dim=(1, 0)), lambda m, x: m.max(x, dim=0),
    lambda m, x: m.min(x, dim=-2), lambda m, x: m.argmax(x, dim=0), lambda m, x: m.argmin(x, dim=0),
    lambda m, x: m.amax(x), lambda m, x: m.max(x), lambda m, x: m.min(x), lambda m, x: m.argmax(x),
])
def test_reducing_a_size_zero_dim_raises_torch_error(call):
    expected = _torch_error(lambda: call(torch, torch.zeros(0, 3)))
    with pytest.raises(expected, match="Expected reduction dim"):
        call(ganglion, ganglion.zeros(0, 3))


def test_nonempty_reductions_unchanged():
    x = ganglion.tensor([[1.0, 5.0], [3.0, 2.0]])
    assert x.amax().item() == 5.0
    np.testing.assert_array_equal(x.max(dim=0).indices.numpy(), [1, 0])
    assert ganglion.tensor(3.0).amax().item() == 3.0
