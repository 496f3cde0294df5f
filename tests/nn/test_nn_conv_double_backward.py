"""Double backward of convolutions (``create_graph=True``): float64 ``gradgradcheck`` over the calling forms, and
a Hessian-vector product against PyTorch. Conv and ConvTranspose differentiate a recomputation built from ops
(``nn/functional/conv_graph.py``), so these rows also check that it equals the fast forward."""

import numpy as np
import pytest
import torch

import ganglion as G
import ganglion.nn.functional as F

# (name, nd, in_channels, out_channels, size, options)
CONVS = [
    ("conv1d_stride_dilation", 1, 2, 3, 7, dict(stride=2, padding=1, dilation=2)),
    ("conv2d_plain", 2, 2, 3, 5, dict()),
    ("conv2d_padding_groups", 2, 4, 4, 5, dict(stride=2, padding=1, groups=2)),
    ("conv2d_same", 2, 2, 2, 4, dict(padding="same")),
    ("conv3d", 3, 1, 2, 4, dict(padding=1)),
]
TRANSPOSED = [
    ("conv_transpose1d_stride_output_padding", 1, 2, 3, 3, dict(stride=2, output_padding=1)),
    ("conv_transpose2d_padding_dilation", 2, 2, 2, 3, dict(padding=1, dilation=2)),
    ("conv_transpose2d_groups", 2, 4, 2, 3, dict(stride=2, groups=2)),
]


def _inputs(nd, c_in, c_out, size, options, transposed):
    rng = np.random.default_rng(nd * 100 + c_in * 10 + c_out)
    groups = options.get("groups", 1)
    x = rng.standard_normal((2, c_in) + (size,) * nd)
    w_shape = (c_in, c_out // groups) if transposed else (c_out, c_in // groups)
    w = rng.standard_normal(w_shape + (3,) * nd) * 0.5
    b = rng.standard_normal(c_out)
    return [G.tensor(a, dtype=G.float64, requires_grad=True) for a in (x, w, b)]


@pytest.mark.parametrize("name, nd, c_in, c_out, size, options", CONVS + TRANSPOSED,
                         ids=[r[0] for r in CONVS + TRANSPOSED])
def test_conv_gradgradcheck(name, nd, c_in, c_out, size, options):
    transposed = name.startswith("conv_transpose")
    fn = getattr(F, f"conv_transpose{nd}d" if transposed else f"conv{nd}d")
    inputs = _inputs(nd, c_in, c_out, size, options, transposed)
    assert G.autograd.gradgradcheck(lambda x, w, b: fn(x, w, b, **options), tuple(inputs))


def test_conv_hessian_vector_product_matches_torch():
    rng = np.random.default_rng(3)
    x_np, w_np = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    v_np = rng.standard_normal((4, 3, 3, 3))
    results = []
    for lib, functional in ((G, F), (torch, torch.nn.functional)):
        x = lib.tensor(x_np, dtype=lib.float64)
        w = lib.tensor(w_np, dtype=lib.float64, requires_grad=True)
        loss = (functional.conv2d(x, w, stride=2, padding=1).tanh() ** 2).sum()
        (g,) = lib.autograd.grad(loss, w, create_graph=True)
        (hv,) = lib.autograd.grad((g * lib.tensor(v_np, dtype=lib.float64)).sum(), w)
        results.append(hv.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-9, atol=1e-9)
