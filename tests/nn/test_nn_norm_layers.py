"""Normalization layers against PyTorch: several training steps then eval, comparing outputs, input and parameter
gradients and the whole state_dict (running statistics, num_batches_tracked) after every step, on the CPU and the GPU
(the ``device`` fixture).

One table: (id, ganglion module factory, PyTorch module factory, input shape). Adding a layer is adding a row.
"""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn

LAYERS = [
    ("bn1d_NC", lambda: nn.BatchNorm1d(4), lambda: torch.nn.BatchNorm1d(4), (6, 4)),
    ("bn1d_NCL", lambda: nn.BatchNorm1d(4), lambda: torch.nn.BatchNorm1d(4), (3, 4, 5)),
    ("bn1d_cumulative", lambda: nn.BatchNorm1d(4, momentum=None), lambda: torch.nn.BatchNorm1d(4, momentum=None),
     (5, 4)),
    ("bn1d_momentum_0.3_eps", lambda: nn.BatchNorm1d(3, eps=1e-3, momentum=0.3),
     lambda: torch.nn.BatchNorm1d(3, eps=1e-3, momentum=0.3), (4, 3, 2)),
    ("bn1d_no_affine", lambda: nn.BatchNorm1d(4, affine=False), lambda: torch.nn.BatchNorm1d(4, affine=False), (5, 4)),
    ("bn1d_no_bias", lambda: nn.BatchNorm1d(4, bias=False), lambda: torch.nn.BatchNorm1d(4, bias=False), (5, 4)),
    ("bn1d_untracked", lambda: nn.BatchNorm1d(4, track_running_stats=False),
     lambda: torch.nn.BatchNorm1d(4, track_running_stats=False), (5, 4)),
    ("bn2d", lambda: nn.BatchNorm2d(3), lambda: torch.nn.BatchNorm2d(3), (2, 3, 4, 4)),
    ("bn2d_untracked_no_affine", lambda: nn.BatchNorm2d(3, affine=False, track_running_stats=False),
     lambda: torch.nn.BatchNorm2d(3, affine=False, track_running_stats=False), (2, 3, 3, 2)),
    ("bn3d", lambda: nn.BatchNorm3d(2), lambda: torch.nn.BatchNorm3d(2), (2, 2, 2, 3, 2)),
    ("in1d", lambda: nn.InstanceNorm1d(4), lambda: torch.nn.InstanceNorm1d(4), (3, 4, 5)),
    ("in1d_unbatched", lambda: nn.InstanceNorm1d(4), lambda: torch.nn.InstanceNorm1d(4), (4, 5)),
    ("in1d_affine_tracked", lambda: nn.InstanceNorm1d(4, affine=True, track_running_stats=True),
     lambda: torch.nn.InstanceNorm1d(4, affine=True, track_running_stats=True), (3, 4, 5)),
    ("in2d", lambda: nn.InstanceNorm2d(3), lambda: torch.nn.InstanceNorm2d(3), (2, 3, 4, 4)),
    ("in2d_affine_tracked_momentum", lambda: nn.InstanceNorm2d(3, momentum=0.5, affine=True, track_running_stats=True),
     lambda: torch.nn.InstanceNorm2d(3, momentum=0.5, affine=True, track_running_stats=True), (2, 3, 3, 3)),
    ("in2d_unbatched", lambda: nn.InstanceNorm2d(3, affine=True), lambda: torch.nn.InstanceNorm2d(3, affine=True),
     (3, 4, 2)),
    ("in3d", lambda: nn.InstanceNorm3d(2, affine=True), lambda: torch.nn.InstanceNorm3d(2, affine=True),
     (2, 2, 2, 3, 2)),
    ("ln_last", lambda: nn.LayerNorm(5), lambda: torch.nn.LayerNorm(5), (3, 5)),
    ("ln_last_two", lambda: nn.LayerNorm((3, 4)), lambda: torch.nn.LayerNorm((3, 4)), (2, 3, 4)),
    ("ln_no_affine", lambda: nn.LayerNorm(4, elementwise_affine=False),
     lambda: torch.nn.LayerNorm(4, elementwise_affine=False), (2, 3, 4)),
    ("ln_no_bias_eps", lambda: nn.LayerNorm([2, 3], eps=1e-2, bias=False),
     lambda: torch.nn.LayerNorm([2, 3], eps=1e-2, bias=False), (4, 2, 3)),
    ("gn", lambda: nn.GroupNorm(2, 6), lambda: torch.nn.GroupNorm(2, 6), (3, 6, 4)),
    ("gn_2d", lambda: nn.GroupNorm(3, 6), lambda: torch.nn.GroupNorm(3, 6), (2, 6, 2, 3)),
    ("gn_one_group", lambda: nn.GroupNorm(1, 4), lambda: torch.nn.GroupNorm(1, 4), (2, 4, 3)),
    ("gn_group_per_channel_no_affine", lambda: nn.GroupNorm(4, 4, affine=False),
     lambda: torch.nn.GroupNorm(4, 4, affine=False), (2, 4, 3)),
    ("gn_NC", lambda: nn.GroupNorm(2, 6, bias=False), lambda: torch.nn.GroupNorm(2, 6, bias=False), (3, 6)),
    ("lrn", lambda: nn.LocalResponseNorm(3), lambda: torch.nn.LocalResponseNorm(3), (2, 6, 4)),
    ("lrn_even_size_4d", lambda: nn.LocalResponseNorm(4, alpha=0.5, beta=0.75, k=2.0),
     lambda: torch.nn.LocalResponseNorm(4, alpha=0.5, beta=0.75, k=2.0), (2, 6, 3, 2)),
    ("lrn_alexnet", lambda: nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0),
     lambda: torch.nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0), (2, 7, 2, 2)),
    ("lrn_window_wider_than_channels", lambda: nn.LocalResponseNorm(7, alpha=0.3, beta=1.5),
     lambda: torch.nn.LocalResponseNorm(7, alpha=0.3, beta=1.5), (2, 3, 4)),
    ("lrn_size_1_5d", lambda: nn.LocalResponseNorm(1, alpha=0.2), lambda: torch.nn.LocalResponseNorm(1, alpha=0.2),
     (1, 3, 2, 2, 2)),
]
IDS = [row[0] for row in LAYERS]
TOL = {np.float32: 2e-5, np.float64: 1e-11}


def _to_torch(a):
    return torch.from_numpy(np.array(a, copy=True))


def _make_pair(make_ours, make_theirs, dtype, rng):
    """The two modules with the same (random, not the trivial 1/0) parameters, in ``dtype``."""
    ours, theirs = make_ours(), make_theirs()
    if dtype == np.float64:
        ours.double(), theirs.double()
    for p in ours.parameters():
        p.array[...] = rng.uniform(0.5, 1.5, p.shape)
    theirs.load_state_dict({k: _to_torch(v.numpy()) for k, v in ours.state_dict().items()})
    return ours, theirs


def _assert_close(a, b, tol, what):
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=what)


def _step(ours, theirs, shape, dtype, rng, tol, label, device):
    # offset and scale so the statistics are far from the initial running ones (0 mean, unit variance)
    x = (2.0 * rng.standard_normal(shape) + 0.7).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    xg = g.tensor(x, dtype=dtype, device=device, requires_grad=True)
    xt = _to_torch(x).requires_grad_(True)
    y, yt = ours(xg), theirs(xt)
    assert tuple(y.shape) == tuple(yt.shape) and y.dtype == dtype and y.device.type == device
    y.backward(g.tensor(dy, dtype=dtype, device=device))
    yt.backward(_to_torch(dy))
    _assert_close(y.detach().cpu().numpy(), yt.detach().numpy(), tol, f"{label}: output")
    _assert_close(xg.grad.cpu().numpy(), xt.grad.numpy(), tol, f"{label}: input gradient")
    their_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        _assert_close(p.grad.cpu().numpy(), their_params[name].grad.numpy(), tol, f"{label}: gradient of {name}")
    ours.zero_grad(), theirs.zero_grad()
    theirs_sd = theirs.state_dict()
    for key, value in ours.state_dict().items():
        assert value.dtype.name == str(theirs_sd[key].dtype).replace("torch.", ""), key
        assert value.device.type == device, f"{label}: state_dict[{key!r}] left the device"
        _assert_close(value.cpu().numpy(), theirs_sd[key].numpy(), tol, f"{label}: state_dict[{key!r}]")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("row", LAYERS, ids=IDS)
def test_train_then_eval_parity_with_torch(row, dtype, rng, device):
    _, make_ours, make_theirs, shape = row
    ours, theirs = _make_pair(make_ours, make_theirs, dtype, rng)
    ours.to(device)
    tol = TOL[dtype]
    for step in range(3):
        _step(ours, theirs, shape, dtype, rng, tol, f"train step {step}", device)
    ours.eval(), theirs.eval()
    for step in range(2):
        _step(ours, theirs, shape, dtype, rng, tol, f"eval step {step}", device)
    ours.train(), theirs.train()
    _step(ours, theirs, shape, dtype, rng, tol, "back in training", device)
    assert all(b.device.type == "cpu" for b in ours.cpu().buffers())  # the buffers come back with the module


@pytest.mark.parametrize("row", LAYERS, ids=IDS)
def test_state_dict_keys_shapes_dtypes_and_repr_match_torch(row):
    _, make_ours, make_theirs, _ = row
    ours, theirs = make_ours(), make_theirs()
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    for key, value in ours_sd.items():
        assert tuple(value.shape) == tuple(theirs_sd[key].shape), key
        assert value.dtype.name == str(theirs_sd[key].dtype).replace("torch.", ""), key
        np.testing.assert_array_equal(value.numpy(), theirs_sd[key].numpy())  # the initial values too
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert repr(ours) == repr(theirs)


def test_running_stats_use_the_unbiased_variance_and_momentum(rng):
    bn = nn.BatchNorm1d(2, momentum=0.25)
    x = rng.standard_normal((5, 2))
    bn(g.tensor(x, dtype=g.float32))
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.25 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.75 + 0.25 * x.var(0, ddof=1), rtol=1e-5)
    assert bn.num_batches_tracked.item() == 1 and bn.num_batches_tracked.dtype == g.int64


def test_cumulative_average_when_momentum_is_none(rng):
    bn = nn.BatchNorm1d(3, momentum=None)
    batches = [rng.standard_normal((4, 3)) for _ in range(4)]
    for b in batches:
        bn(g.tensor(b, dtype=g.float64).float())
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([b.mean(0) for b in batches], axis=0), rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(), np.mean([b.var(0, ddof=1) for b in batches], axis=0),
                               rtol=1e-5)
    assert bn.num_batches_tracked.item() == 4


def test_eval_mode_normalizes_with_the_running_statistics_and_leaves_them(rng):
    bn = nn.BatchNorm2d(2)
    bn.running_mean.array[...] = [1.0, -2.0]
    bn.running_var.array[...] = [4.0, 0.25]
    bn.eval()
    x = rng.standard_normal((3, 2, 2, 2)).astype(np.float32)
    y = bn(g.tensor(x)).detach().numpy()
    expected = (x - np.array([1.0, -2.0]).reshape(1, 2, 1, 1)) / np.sqrt(np.array([4.0, 0.25]) + 1e-5).reshape(1, 2, 1, 1)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    assert bn.running_mean.tolist() == [1.0, -2.0] and bn.num_batches_tracked.item() == 0


def test_a_batch_of_one_in_training_raises_like_torch_and_is_fine_in_eval():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, got input size \(1, 3\)"):
        bn(g.ones(1, 3))
    assert bn.eval()(g.ones(1, 3)).shape == (1, 3)
    with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
        nn.InstanceNorm1d(3)(g.ones(2, 3, 1))


def test_buffers_follow_to_and_keep_their_integer_counter():
    bn = nn.BatchNorm1d(3)
    bn(g.randn(4, 3))
    bn.to(g.float64)
    assert bn.running_mean.dtype == bn.running_var.dtype == bn.weight.dtype == g.float64
    assert bn.num_batches_tracked.dtype == g.int64
    y = bn(g.randn(4, 3, dtype=g.float64))
    assert y.dtype == g.float64 and bn.num_batches_tracked.item() == 2
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]


def test_untracked_batch_norm_has_no_buffers_and_uses_batch_statistics_in_eval(rng):
    bn = nn.BatchNorm1d(2, affine=False, track_running_stats=False).eval()
    assert bn.running_mean is None and list(bn.state_dict()) == []
    x = rng.standard_normal((6, 2)).astype(np.float32)
    y = bn(g.tensor(x)).detach().numpy()
    np.testing.assert_allclose(y, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5), rtol=1e-5, atol=1e-6)


def test_loading_torch_running_statistics_changes_the_eval_output(rng):
    theirs = torch.nn.BatchNorm1d(3)
    theirs.train()
    for _ in range(3):
        theirs(torch.randn(8, 3) * 3 + 1)
    ours = nn.BatchNorm1d(3)
    ours.load_state_dict(theirs.state_dict())
    assert ours.num_batches_tracked.item() == 3
    x = rng.standard_normal((4, 3)).astype(np.float32)
    ours.eval(), theirs.eval()
    np.testing.assert_allclose(ours(g.tensor(x)).detach().numpy(), theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)


def test_reset_running_stats():
    bn = nn.BatchNorm1d(2)
    bn(g.randn(5, 2) * 4 + 3)
    bn.reset_running_stats()
    assert bn.running_mean.tolist() == [0.0, 0.0] and bn.running_var.tolist() == [1.0, 1.0]
    assert bn.num_batches_tracked.item() == 0


def test_extreme_inputs_stay_finite():
    x = g.tensor([[1e4, -1e4], [1e4 + 1, -1e4 - 2], [1e4 + 2, -1e4 + 3]], requires_grad=True)
    for layer in (nn.BatchNorm1d(2), nn.LayerNorm(2), nn.GroupNorm(1, 2), nn.LocalResponseNorm(2, alpha=1.0)):
        y = layer(x if not isinstance(layer, nn.LocalResponseNorm) else x.unsqueeze(-1))
        y.sum().backward()
        assert np.isfinite(y.detach().numpy()).all() and np.isfinite(x.grad.numpy()).all(), repr(layer)
        x.grad = None
    # a constant channel: zero variance gives zeros (eps keeps it finite), as PyTorch
    y = nn.BatchNorm1d(1)(g.full((4, 1), 3.0))
    assert y.tolist() == [[0.0]] * 4
