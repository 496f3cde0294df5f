"""Convolution, pooling and resizing on 'cuda' (CuPy) give what they give on the CPU, forward and backward.
Skipped cleanly without CuPy or a GPU."""

import numpy as np
import pytest

import ganglion as g
from ganglion import nn
from ganglion.nn import functional as F

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not g.cuda.is_available(), reason="needs CuPy and a visible GPU"),
]

LAYERS = [
    ("conv2d_flat_layout", lambda: nn.Conv2d(3, 4, 3, padding=1), (2, 3, 8, 8)),
    ("conv2d_strided_groups", lambda: nn.Conv2d(4, 6, 3, stride=2, groups=2, dilation=2), (2, 4, 9, 9)),
    ("conv2d_reflect_same", lambda: nn.Conv2d(2, 3, 5, padding="same", padding_mode="reflect"), (2, 2, 6, 7)),
    ("conv1d", lambda: nn.Conv1d(2, 3, 3, stride=2), (2, 2, 9)),
    ("conv3d", lambda: nn.Conv3d(2, 2, 2, padding=1), (1, 2, 3, 4, 3)),
    ("conv_transpose2d", lambda: nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1), (2, 3, 4, 5)),
    ("max_pool2d", lambda: nn.MaxPool2d(3, 2, 1, ceil_mode=True), (2, 3, 7, 8)),
    ("avg_pool2d", lambda: nn.AvgPool2d(3, 2, 1, count_include_pad=False), (2, 3, 7, 8)),
    ("adaptive_avg", lambda: nn.AdaptiveAvgPool2d((3, 4)), (2, 3, 7, 9)),
    ("adaptive_max", lambda: nn.AdaptiveMaxPool2d((3, 4)), (2, 3, 7, 9)),
    ("upsample_bilinear", lambda: nn.Upsample(scale_factor=1.5, mode="bilinear"), (2, 3, 4, 5)),
    ("upsample_nearest", lambda: nn.Upsample(size=(7, 3)), (2, 3, 4, 5)),
    ("pixel_shuffle", lambda: nn.PixelShuffle(2), (2, 8, 3, 3)),
]


@pytest.mark.parametrize("row", LAYERS, ids=[r[0] for r in LAYERS])
def test_same_results_on_the_gpu(row, rng):
    _, make, shape = row
    g.manual_seed(0)
    cpu = make()
    g.manual_seed(0)
    gpu = make().cuda()
    x = rng.standard_normal(shape).astype(np.float32)
    results = []
    for module, device in ((cpu, "cpu"), (gpu, "cuda")):
        xt = g.tensor(x, device=device, requires_grad=True)
        y = module(xt)
        dy = np.random.default_rng(1).standard_normal(tuple(y.shape)).astype(np.float32)
        y.backward(g.tensor(dy, device=device))
        grads = [p.grad.cpu().numpy() for p in module.parameters()]
        results.append([y.detach().cpu().numpy(), xt.grad.cpu().numpy()] + grads)
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-4)


def test_max_pool_indices_and_unpool_on_the_gpu(rng):
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    y, idx = F.max_pool2d(g.tensor(x, device="cuda"), 2, return_indices=True)
    y_cpu, idx_cpu = F.max_pool2d(g.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(idx.cpu().numpy(), idx_cpu.numpy())
    np.testing.assert_array_equal(F.max_unpool2d(y, idx, 2).cpu().numpy(), F.max_unpool2d(y_cpu, idx_cpu, 2).numpy())
