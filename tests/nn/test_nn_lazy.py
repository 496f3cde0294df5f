"""Lazy modules against PyTorch: placeholders before the first call, the ordinary class after it, the same outputs
once the weights are copied, the same state_dict keys and reprs, and training with an optimizer built before or
after the first call."""

import numpy as np
import pytest
import torch

import ganglion
import ganglion.nn as nn

# (ganglion factory, torch factory, input shape): each builds the lazy layer with the same arguments
CASES = [
    ("LazyLinear", (5,), {}, (4, 3)),
    ("LazyLinear", (2,), {"bias": False}, (2, 3, 6)),
    ("LazyConv1d", (4, 3), {"padding": 1}, (2, 3, 7)),
    ("LazyConv2d", (6, 5), {"padding": 2}, (1, 2, 8, 8)),
    ("LazyConv2d", (4, 3), {"groups": 2, "stride": 2}, (3, 4, 7, 7)),
    ("LazyConv3d", (2, 2), {}, (1, 3, 4, 4, 4)),
    ("LazyConvTranspose1d", (3, 3), {"stride": 2}, (2, 2, 5)),
    ("LazyConvTranspose2d", (6, 3), {"output_padding": 1, "stride": 2}, (1, 2, 4, 4)),
    ("LazyConvTranspose3d", (2, 2), {}, (1, 3, 3, 3, 3)),
    ("LazyBatchNorm1d", (), {}, (5, 3)),
    ("LazyBatchNorm2d", (), {"affine": False}, (4, 3, 2, 2)),
    ("LazyBatchNorm3d", (), {"momentum": None}, (2, 3, 2, 2, 2)),
]
IDS = [f"{name}-{i}" for i, (name, *_) in enumerate(CASES)]


def build(case):
    name, args, kwargs, _ = case
    return getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_before_first_call_matches_torch(case):
    ours, theirs = build(case)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [repr(v) for v in ours.state_dict().values()] == [repr(v) for v in theirs.state_dict().values()]
    assert [repr(p) for p in ours.parameters()] == [repr(p) for p in theirs.parameters()]
    assert ours.has_uninitialized_params()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_first_call_becomes_the_ordinary_module_and_matches_torch(case, rng):
    ours, theirs = build(case)
    x = rng.standard_normal(case[3]).astype(np.float32)
    ours(ganglion.tensor(x))
    theirs(torch.tensor(x))
    assert type(ours).__name__ == type(theirs).__name__ and type(ours) is getattr(nn, type(theirs).__name__)
    assert repr(ours) == repr(theirs)
    assert not hasattr(ours, "_initialize_hook") and not ours._has_hooks  # back on the fast path
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(theirs_state)
    for key in theirs_state:
        assert type(ours_state[key]) is ganglion.Tensor
        assert tuple(ours_state[key].shape) == tuple(theirs_state[key].shape), key
    ours.load_state_dict(theirs.state_dict())
    np.testing.assert_allclose(ours(ganglion.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)
    for p in ours.parameters():
        assert type(p) is nn.Parameter and p.requires_grad


def test_initialization_is_the_ordinary_layers():
    ganglion.manual_seed(0)
    lazy = nn.LazyLinear(50)
    lazy(ganglion.zeros(1, 400))
    bound = 1 / np.sqrt(400)
    w = lazy.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound and w.std() > 0.5 * bound / np.sqrt(3)
    bn = nn.LazyBatchNorm2d()
    bn(ganglion.ones(2, 3, 2, 2))
    np.testing.assert_array_equal(bn.weight.detach().numpy(), np.ones(3))
    np.testing.assert_array_equal(bn.bias.detach().numpy(), np.zeros(3))
    np.testing.assert_allclose(bn.running_var.numpy(), np.full(3, 0.9), rtol=1e-6)  # ones input: batch var 0


def test_d2l_lenet_shapes():
    net = nn.Sequential(
        nn.LazyConv2d(6, kernel_size=5, padding=2), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.LazyConv2d(16, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
        nn.LazyLinear(120), nn.Sigmoid(), nn.LazyLinear(84), nn.Sigmoid(), nn.LazyLinear(10),
    )
    x = ganglion.rand(1, 1, 28, 28)
    shapes = []
    for layer in net:
        x = layer(x)
        shapes.append(tuple(x.shape))
    assert shapes[-1] == (1, 10) and shapes[6] == (1, 400)
    assert type(net[0]) is nn.Conv2d and net[3].in_channels == 6 and net[7].in_features == 400
    assert [tuple(p.shape) for p in net.parameters()] == [
        (6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,), (120, 400), (120,), (84, 120), (84,), (10, 84), (10,)]


@pytest.mark.parametrize("before", [True, False], ids=["optimizer-before-call", "optimizer-after-call"])
def test_trains_like_torch(before, rng):
    x = rng.standard_normal((8, 3)).astype(np.float32)
    y = rng.standard_normal((8, 2)).astype(np.float32)
    ours, theirs = nn.LazyLinear(2), torch.nn.LazyLinear(2)
    opt_ours = ganglion.optim.SGD(ours.parameters(), lr=0.1) if before else None
    opt_theirs = torch.optim.SGD(theirs.parameters(), lr=0.1) if before else None
    ours(ganglion.tensor(x)), theirs(torch.tensor(x))
    ours.load_state_dict(theirs.state_dict())
    if not before:
        opt_ours = ganglion.optim.SGD(ours.parameters(), lr=0.1)
        opt_theirs = torch.optim.SGD(theirs.parameters(), lr=0.1)
    for _ in range(5):
        for model, opt, t in ((ours, opt_ours, ganglion.tensor), (theirs, opt_theirs, torch.tensor)):
            opt.zero_grad()
            loss = ((model(t(x)) - t(y)) ** 2).mean()
            loss.backward()
            opt.step()
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.bias.detach().numpy(), theirs.bias.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_load_state_dict_before_first_call_materializes():
    weights = torch.nn.Linear(5, 3).state_dict()
    m = nn.LazyLinear(3)
    m.load_state_dict(weights)
    assert not m.has_uninitialized_params() and tuple(m.weight.shape) == (3, 5)
    out = m(ganglion.ones(2, 5))
    assert type(m) is nn.Linear
    np.testing.assert_allclose(out.detach().numpy(), torch.nn.functional.linear(torch.ones(2, 5), **weights).numpy(),
                               rtol=1e-6, atol=1e-6)  # a sum of 6 random float32 terms: rounding, summed in any order


def test_to_dtype_before_first_call_decides_the_dtype():
    m = nn.LazyLinear(2).double()
    assert m(ganglion.ones(1, 3, dtype=ganglion.float64)).dtype == ganglion.float64
    assert nn.LazyConv2d(2, 3, dtype=ganglion.float64).weight.dtype == np.float64


def test_uninitialized_parameter_has_no_shape():
    p = nn.UninitializedParameter()
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
        p.shape
    p.materialize((2, 3))
    assert type(p) is nn.Parameter and tuple(p.shape) == (2, 3) and p.requires_grad


@pytest.mark.parametrize("name, shape", [("LazyConv2d", (2, 3, 4, 4, 4)), ("LazyConv1d", (3,))])
def test_conv_wrong_rank_raises_runtime_error_like_torch(name, shape):
    with pytest.raises(RuntimeError, match=r"Expected \dD \(unbatched\) or \dD \(batched\) input"):
        getattr(torch.nn, name)(2, 3)(torch.zeros(shape))
    with pytest.raises(RuntimeError, match=r"Expected \dD \(unbatched\) or \dD \(batched\) input"):
        getattr(nn, name)(2, 3)(ganglion.zeros(*shape))


def test_conv_groups_must_divide_inferred_channels():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        torch.nn.LazyConv2d(4, 3, groups=2)(torch.zeros(1, 3, 5, 5))
    m = nn.LazyConv2d(4, 3, groups=2)
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        m(ganglion.zeros(1, 3, 5, 5))
