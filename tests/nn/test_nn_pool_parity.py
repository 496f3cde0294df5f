"""Pooling layers against PyTorch: forward values, returned indices and input gradients, for a table of
configurations (kernel, stride, padding, dilation, ceil_mode, count_include_pad, divisor_override, adaptive output
sizes that do and do not divide the input), on the CPU and the GPU (the ``device`` fixture); then float64
``gradcheck`` of each functional, ties and NaN.

A row: (id, layer factory taking the module namespace, input shape). The same factory builds both layers.
"""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn
from ganglion.autograd import gradcheck
from ganglion.nn import functional as F


def row(id, make, shape):
    return pytest.param(make, shape, id=id)


POOL_ROWS = [
    row("max2", lambda m: m.MaxPool2d(2), (2, 3, 8, 8)),
    row("max2_odd_input", lambda m: m.MaxPool2d(2), (2, 3, 7, 9)),
    row("max3_stride2_pad1", lambda m: m.MaxPool2d(3, 2, 1), (2, 3, 7, 9)),
    row("max3_stride2_pad1_ceil", lambda m: m.MaxPool2d(3, 2, 1, ceil_mode=True), (2, 3, 7, 9)),
    row("max2_ceil_indices", lambda m: m.MaxPool2d(2, ceil_mode=True, return_indices=True), (2, 2, 5, 7)),
    row("max3_stride1_dil2_pad1", lambda m: m.MaxPool2d(3, 1, 1, dilation=2, return_indices=True), (2, 2, 8, 7)),
    row("max_rect_tuple_args", lambda m: m.MaxPool2d((2, 3), (1, 2), (1, 1), return_indices=True), (2, 2, 6, 7)),
    row("max5_stride3_ceil_dil", lambda m: m.MaxPool2d(5, 3, 2, dilation=(1, 2), ceil_mode=True), (1, 2, 11, 13)),
    row("max_unbatched", lambda m: m.MaxPool2d(2, return_indices=True), (3, 6, 4)),
    row("max1d", lambda m: m.MaxPool1d(3, 2, 1, return_indices=True), (2, 3, 10)),
    row("max1d_ceil_dil", lambda m: m.MaxPool1d(4, 3, 2, dilation=2, ceil_mode=True), (2, 3, 12)),
    row("max3d", lambda m: m.MaxPool3d(2, (1, 2, 2), 1, return_indices=True), (1, 2, 4, 5, 6)),
    row("avg2", lambda m: m.AvgPool2d(2), (2, 3, 8, 8)),
    row("avg3_stride2_pad1", lambda m: m.AvgPool2d(3, 2, 1), (2, 3, 7, 9)),
    row("avg3_pad1_exclude_pad", lambda m: m.AvgPool2d(3, 2, 1, count_include_pad=False), (2, 3, 7, 9)),
    row("avg3_pad1_ceil", lambda m: m.AvgPool2d(3, 2, 1, ceil_mode=True), (2, 3, 8, 8)),
    row("avg3_pad1_ceil_exclude", lambda m: m.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
        (2, 3, 8, 8)),
    row("avg2_ceil_tiled_tail", lambda m: m.AvgPool2d(2, ceil_mode=True), (2, 2, 5, 7)),
    row("avg_divisor_override", lambda m: m.AvgPool2d(3, 1, 1, divisor_override=5), (2, 2, 5, 6)),
    row("avg_rect", lambda m: m.AvgPool2d((2, 4), (2, 3), (1, 2)), (2, 2, 7, 9)),
    row("avg1d", lambda m: m.AvgPool1d(4, 3, 2, ceil_mode=True, count_include_pad=False), (2, 3, 10)),
    row("avg3d", lambda m: m.AvgPool3d(3, 2, 1, divisor_override=7), (1, 2, 5, 6, 5)),
    row("adaptive_avg_uneven", lambda m: m.AdaptiveAvgPool2d((3, 4)), (2, 3, 7, 9)),
    row("adaptive_avg_divides", lambda m: m.AdaptiveAvgPool2d((4, 3)), (2, 3, 8, 9)),
    row("adaptive_avg_global", lambda m: m.AdaptiveAvgPool2d(1), (2, 3, 5, 6)),
    row("adaptive_avg_none_keeps", lambda m: m.AdaptiveAvgPool2d((None, 5)), (2, 3, 4, 7)),
    row("adaptive_avg_upsizes", lambda m: m.AdaptiveAvgPool2d((6, 9)), (1, 2, 4, 5)),
    row("adaptive_avg1d", lambda m: m.AdaptiveAvgPool1d(4), (2, 3, 10)),
    row("adaptive_avg3d", lambda m: m.AdaptiveAvgPool3d((2, 3, 2)), (1, 2, 5, 4, 3)),
    row("adaptive_max_uneven", lambda m: m.AdaptiveMaxPool2d((3, 4), return_indices=True), (2, 3, 7, 9)),
    row("adaptive_max_global", lambda m: m.AdaptiveMaxPool2d(1, return_indices=True), (2, 3, 5, 6)),
    row("adaptive_max_upsizes", lambda m: m.AdaptiveMaxPool2d((5, 8), return_indices=True), (1, 2, 3, 5)),
    row("adaptive_max1d", lambda m: m.AdaptiveMaxPool1d(4, return_indices=True), (2, 3, 10)),
    row("adaptive_max3d", lambda m: m.AdaptiveMaxPool3d((2, 2, 3), return_indices=True), (1, 2, 3, 5, 4)),
    row("adaptive_max_unbatched", lambda m: m.AdaptiveMaxPool2d((2, 3)), (3, 5, 7)),
]


def _distinct(rng, shape):
    """Values without ties, so every max has one winner (ties get their own test)."""
    n = int(np.prod(shape))
    return ((rng.permutation(n) - n / 2) * 0.1).reshape(shape).astype(np.float32)


@pytest.mark.parametrize("make, shape", POOL_ROWS)
def test_pooling_layers_match_torch(make, shape, device):
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(0)
    x = _distinct(rng, shape)
    gx, tx = g.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = ours(gx), theirs(tx)
    if isinstance(ty, tuple):
        y, indices = y
        ty, t_indices = ty
        assert indices.dtype == g.int64 and not indices.requires_grad
        np.testing.assert_array_equal(indices.cpu().numpy(), t_indices.numpy())
    assert tuple(y.shape) == tuple(ty.shape) and y.device.type == device
    np.testing.assert_allclose(y.detach().cpu().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    dy = rng.standard_normal(tuple(y.shape)).astype(np.float32)
    y.backward(g.tensor(dy, device=device))
    ty.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(gx.grad.cpu().numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("pool, unpool, shape", [
    (lambda m: m.MaxPool2d(2, return_indices=True), lambda m: m.MaxUnpool2d(2), (2, 3, 8, 8)),
    (lambda m: m.MaxPool2d(3, 2, 1, return_indices=True), lambda m: m.MaxUnpool2d(3, 2, 1), (2, 2, 7, 9)),
    (lambda m: m.MaxPool1d(2, return_indices=True), lambda m: m.MaxUnpool1d(2), (2, 3, 9)),
    (lambda m: m.MaxPool3d(2, return_indices=True), lambda m: m.MaxUnpool3d(2), (1, 2, 4, 4, 6)),
], ids=["2d", "2d_pad", "1d_odd", "3d"])
def test_max_unpool_inverts_max_pool_like_torch(pool, unpool, shape, device):
    x = _distinct(np.random.default_rng(1), shape)
    y, idx = pool(nn)(g.tensor(x, device=device))
    ty, t_idx = pool(torch.nn)(torch.tensor(x))
    yv = g.tensor(y.cpu().numpy(), device=device, requires_grad=True)
    tyv = ty.clone().requires_grad_(True)
    for size in (None, shape[2:]):
        u, tu = unpool(nn)(yv, idx, output_size=size), unpool(torch.nn)(tyv, t_idx, output_size=size)
        np.testing.assert_array_equal(u.detach().cpu().numpy(), tu.detach().numpy())
    dy = np.random.default_rng(2).standard_normal(tuple(u.shape)).astype(np.float32)
    u.backward(g.tensor(dy, device=device))
    tu.backward(torch.from_numpy(dy))
    np.testing.assert_array_equal(yv.grad.cpu().numpy(), tyv.grad.numpy())


def test_ties_go_to_the_first_maximum_like_torch():
    x = np.array([[[[1, 1, 2, 2], [1, 1, 2, 2], [0, 3, 3, 0], [3, 3, 0, 0]]]], dtype=np.float32)
    for kwargs in (dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)):
        gx, tx = g.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        (y, i), (ty, ti) = F.max_pool2d(gx, return_indices=True, **kwargs), torch.nn.functional.max_pool2d(
            tx, return_indices=True, **kwargs)
        np.testing.assert_array_equal(i.numpy(), ti.numpy())
        y.sum().backward()
        ty.sum().backward()
        np.testing.assert_array_equal(gx.grad.numpy(), tx.grad.numpy())
    y, i = F.adaptive_max_pool2d(g.tensor(x), (3, 2), return_indices=True)
    np.testing.assert_array_equal(i.numpy(), torch.nn.functional.adaptive_max_pool2d(
        torch.tensor(x), (3, 2), return_indices=True)[1].numpy())


@pytest.mark.parametrize("fn", [
    lambda f, x: f.max_pool2d(x, 2, return_indices=True),
    lambda f, x: f.max_pool2d(x, 3, 1, 1, return_indices=True),
    lambda f, x: f.adaptive_max_pool2d(x, 1, return_indices=True),
    lambda f, x: f.adaptive_max_pool2d(x, (2, 3), return_indices=True),
], ids=["max2", "max3_pad", "global", "adaptive"])
def test_nan_and_infinity_propagate_and_index_like_torch(fn):
    x = np.zeros((1, 2, 4, 4), dtype=np.float32)
    x[0, 0, 0, 1] = x[0, 0, 0, 3] = x[0, 0, 3, 3] = np.nan
    x[0, 1] = -np.inf
    x[0, 1, 2, 2] = 5.0
    (y, i), (ty, ti) = fn(F, g.tensor(x)), fn(torch.nn.functional, torch.tensor(x))
    np.testing.assert_array_equal(y.numpy(), ty.numpy())  # NaN == NaN here
    np.testing.assert_array_equal(i.numpy(), ti.numpy())


@pytest.mark.parametrize("fn", [
    lambda f, x: f.adaptive_avg_pool2d(x, (3, 2)), lambda f, x: f.adaptive_avg_pool2d(x, 1),
    lambda f, x: f.avg_pool2d(x, 3, 2, 1, ceil_mode=True), lambda f, x: f.interpolate(x, size=(2, 3), mode="area"),
], ids=["adaptive_uneven", "global", "avg_ceil", "area"])
def test_infinite_inputs_average_like_torch(fn):
    """A window holding inf averages to inf (not NaN): windows shorter than the widest skip their missing taps."""
    x = np.ones((1, 2, 5, 4), dtype=np.float32)
    x[0, 0, 4, 3] = np.inf
    x[0, 1, 0, 0] = -np.inf
    np.testing.assert_array_equal(fn(F, g.tensor(x)).numpy(), fn(torch.nn.functional, torch.tensor(x)).numpy())


# ------------------------------------------------------------------------------------------- float64 gradcheck
GRADCHECK = [
    ("max_pool1d", lambda x: F.max_pool1d(x, 3, 2, 1, ceil_mode=True), (1, 2, 7)),
    ("max_pool2d", lambda x: F.max_pool2d(x, 2), (1, 2, 4, 4)),
    ("max_pool2d_overlap_dil", lambda x: F.max_pool2d(x, 2, 1, 1, dilation=2), (1, 1, 4, 5)),
    ("max_pool3d", lambda x: F.max_pool3d(x, 2, 1), (1, 1, 3, 3, 3)),
    ("avg_pool1d", lambda x: F.avg_pool1d(x, 3, 2, 1, count_include_pad=False), (1, 2, 7)),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True), (1, 2, 5, 5)),
    ("avg_pool2d_tiled", lambda x: F.avg_pool2d(x, 2), (1, 2, 4, 5)),
    ("avg_pool3d", lambda x: F.avg_pool3d(x, 2, 1, 1, divisor_override=3), (1, 1, 2, 3, 3)),
    ("adaptive_avg_pool1d", lambda x: F.adaptive_avg_pool1d(x, 3), (1, 2, 7)),
    ("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (2, 3)), (1, 2, 5, 4)),
    ("adaptive_avg_pool2d_global", lambda x: F.adaptive_avg_pool2d(x, 1), (1, 2, 3, 4)),
    ("adaptive_avg_pool3d", lambda x: F.adaptive_avg_pool3d(x, (2, 1, 2)), (1, 1, 3, 3, 3)),
    ("adaptive_max_pool1d", lambda x: F.adaptive_max_pool1d(x, 3), (1, 2, 7)),
    ("adaptive_max_pool2d", lambda x: F.adaptive_max_pool2d(x, (3, 2)), (1, 2, 5, 4)),
    ("adaptive_max_pool2d_global", lambda x: F.adaptive_max_pool2d(x, 1), (1, 2, 3, 4)),
    ("adaptive_max_pool3d", lambda x: F.adaptive_max_pool3d(x, 2), (1, 1, 3, 3, 3)),
    ("max_unpool2d", lambda x: F.max_unpool2d(x, g.tensor([[[[0, 3], [9, 14]]]]), 2), (1, 1, 2, 2)),
]


@pytest.mark.parametrize("fn, shape", [pytest.param(r[1], r[2], id=r[0]) for r in GRADCHECK])
def test_gradcheck_float64(fn, shape):
    x = g.tensor(_distinct(np.random.default_rng(3), shape).astype(np.float64), dtype=g.float64, requires_grad=True)
    assert gradcheck(fn, (x,))
