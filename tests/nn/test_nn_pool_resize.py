"""Resizing against PyTorch: ``interpolate`` in every mode (sizes and scale factors that up- and downsample, with and
without align_corners and recompute_scale_factor), Upsample and its fixed-mode forms, PixelShuffle/PixelUnshuffle,
on the CPU and the GPU (the ``device`` fixture); float64 gradcheck; bad arguments."""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn
from ganglion.autograd import gradcheck
from ganglion.nn import functional as F

TF = torch.nn.functional

# (mode, input shape, keyword sets); every mode meets up- and downsampling and a non-integer factor
CASES = [
    ("nearest", (2, 3, 5, 7), [dict(size=(8, 3)), dict(scale_factor=2), dict(scale_factor=1.7),
                               dict(scale_factor=0.6, recompute_scale_factor=True), dict(size=(5, 14))]),
    ("nearest", (2, 3, 6), [dict(size=13), dict(scale_factor=0.5)]),
    ("nearest", (1, 2, 3, 4, 5), [dict(scale_factor=(2, 1.5, 0.8))]),
    ("nearest-exact", (2, 3, 5, 7), [dict(size=(8, 3)), dict(scale_factor=1.7), dict(scale_factor=(0.5, 3))]),
    ("bilinear", (2, 3, 5, 7), [dict(size=(8, 3)), dict(size=(8, 3), align_corners=True), dict(scale_factor=2),
                                dict(scale_factor=2.3, align_corners=True), dict(scale_factor=0.7),
                                dict(scale_factor=0.7, recompute_scale_factor=True), dict(size=(1, 1)),
                                dict(size=(1, 9), align_corners=True), dict(size=(5, 7))]),
    ("linear", (2, 3, 6), [dict(size=11), dict(size=4, align_corners=True), dict(scale_factor=1.5)]),
    ("trilinear", (1, 2, 3, 4, 5), [dict(size=(5, 3, 7)), dict(scale_factor=2, align_corners=True)]),
    ("bicubic", (2, 2, 5, 6), [dict(size=(9, 4)), dict(size=(9, 4), align_corners=True), dict(scale_factor=1.6),
                               dict(size=(5, 6))]),
    ("area", (2, 3, 7, 9), [dict(size=(3, 4)), dict(scale_factor=0.5), dict(size=(7, 3))]),
    ("area", (2, 3, 8), [dict(size=3)]),
]
PARAMS = [pytest.param(mode, shape, kw, id=f"{mode}-{'x'.join(map(str, shape))}-{i}")
          for mode, shape, kws in CASES for i, kw in enumerate(kws)]


@pytest.mark.parametrize("mode, shape, kwargs", PARAMS)
def test_interpolate_matches_torch(mode, shape, kwargs, device):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    gx, tx = g.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = F.interpolate(gx, mode=mode, **kwargs), TF.interpolate(tx, mode=mode, **kwargs)
    assert tuple(y.shape) == tuple(ty.shape) and y.device.type == device
    np.testing.assert_allclose(y.detach().cpu().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    dy = rng.standard_normal(tuple(y.shape)).astype(np.float32)
    y.backward(g.tensor(dy, device=device))
    ty.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(gx.grad.cpu().numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_nearest_source_index_uses_float32_like_torch():
    """Sizes where floor(dst * in / out) differs between float32 (PyTorch), float64 and exact arithmetic."""
    for n_in, n_out in [(14, 46), (18, 66), (21, 69), (26, 44), (30, 58)]:
        x = np.arange(n_in, dtype=np.float32).reshape(1, 1, n_in)
        ours = F.interpolate(g.tensor(x), size=n_out).numpy()
        np.testing.assert_array_equal(ours, TF.interpolate(torch.tensor(x), size=n_out).numpy())


@pytest.mark.parametrize("make", [
    lambda m: m.Upsample(scale_factor=2), lambda m: m.Upsample(size=(3, 5), mode="bilinear"),
    lambda m: m.Upsample(scale_factor=1.5, mode="bicubic", align_corners=True),
    lambda m: m.UpsamplingNearest2d(scale_factor=3), lambda m: m.UpsamplingBilinear2d(size=(7, 4)),
], ids=["nearest", "bilinear", "bicubic", "nearest2d", "bilinear2d"])
def test_upsample_modules_match_torch(make, device):
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 5)).astype(np.float32)
    np.testing.assert_allclose(ours(g.tensor(x, device=device)).cpu().numpy(), theirs(torch.tensor(x)).numpy(),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape, r", [((2, 8, 3, 4), 2), ((12, 2, 3), 2), ((2, 2, 9, 2, 2), 3), ((1, 3, 2, 2), 1)])
def test_pixel_shuffle_and_unshuffle_match_torch_and_invert(shape, r, device):
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    gx, tx = g.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = nn.PixelShuffle(r)(gx), torch.nn.PixelShuffle(r)(tx)
    np.testing.assert_array_equal(y.detach().cpu().numpy(), ty.detach().numpy())
    back = nn.PixelUnshuffle(r)(y)
    np.testing.assert_array_equal(back.detach().cpu().numpy(), x)
    np.testing.assert_array_equal(back.detach().cpu().numpy(), torch.nn.PixelUnshuffle(r)(ty).detach().numpy())
    dy = np.random.default_rng(3).standard_normal(tuple(y.shape)).astype(np.float32)
    y.backward(g.tensor(dy, device=device))
    ty.backward(torch.from_numpy(dy))
    np.testing.assert_array_equal(gx.grad.cpu().numpy(), tx.grad.numpy())


GRADCHECK = [
    ("nearest", lambda x: F.interpolate(x, scale_factor=1.7), (1, 1, 3, 4)),
    ("nearest_down", lambda x: F.interpolate(x, size=(2, 3), mode="nearest-exact"), (1, 1, 5, 4)),
    ("bilinear", lambda x: F.interpolate(x, size=(4, 5), mode="bilinear"), (1, 2, 3, 3)),
    ("bilinear_corners", lambda x: F.interpolate(x, size=(2, 5), mode="bilinear", align_corners=True), (1, 1, 4, 3)),
    ("linear", lambda x: F.interpolate(x, size=7, mode="linear"), (1, 2, 4)),
    ("bicubic", lambda x: F.interpolate(x, size=(5, 3), mode="bicubic"), (1, 1, 3, 4)),
    ("trilinear", lambda x: F.interpolate(x, scale_factor=1.5, mode="trilinear"), (1, 1, 2, 2, 3)),
    ("area", lambda x: F.interpolate(x, size=(2, 3), mode="area"), (1, 1, 5, 4)),
    ("pixel_shuffle", lambda x: F.pixel_shuffle(x, 2), (1, 4, 2, 3)),
    ("pixel_unshuffle", lambda x: F.pixel_unshuffle(x, 2), (1, 1, 4, 2)),
]


@pytest.mark.parametrize("fn, shape", [pytest.param(r[1], r[2], id=r[0]) for r in GRADCHECK])
def test_gradcheck_float64(fn, shape):
    x = g.tensor(np.random.default_rng(4).standard_normal(shape), dtype=g.float64, requires_grad=True)
    assert gradcheck(fn, (x,))


@pytest.mark.parametrize("call, error, pattern", [
    (lambda x: F.interpolate(x), ValueError, "exactly one of size or scale_factor"),
    (lambda x: F.interpolate(x, size=3, scale_factor=2), ValueError, "exactly one of size or scale_factor"),
    (lambda x: F.interpolate(x, size=3, mode="cubic"), ValueError, "accepted modes are nearest, nearest-exact"),
    (lambda x: F.interpolate(x, size=3, mode="linear"), ValueError, "'linear' needs a 3-D input"),
    (lambda x: F.interpolate(x, size=3, align_corners=True), ValueError, "align_corners can only be set"),
    (lambda x: F.interpolate(x, size=(3, 4, 5)), ValueError, "tuple of 2"),
    (lambda x: F.interpolate(x, scale_factor=0.1), ValueError, "must be >= 1"),
    (lambda x: F.interpolate(x, size=3, mode="bilinear", antialias=True), ValueError, "antialias"),
    (lambda x: F.interpolate(x[0, 0], size=3), ValueError, "3-D, 4-D or 5-D"),
    (lambda x: F.pixel_shuffle(x, 2), ValueError, r"\(\*, C\*4, H, W\)"),
    (lambda x: F.pixel_unshuffle(x, 2), ValueError, "divisible by downscale_factor 2"),
    (lambda x: nn.PixelShuffle(0), ValueError, "upscale_factor must be a positive int"),
    (lambda x: nn.Upsample(), ValueError, "exactly one of size or scale_factor"),
])
def test_bad_arguments(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call(g.zeros(1, 3, 5, 5))
