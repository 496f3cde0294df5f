"""``kernels.conv_direct``: the direct loops against their definition and against the same loops run by Python, which
convolutions take the route, and conv1d/conv2d through it against the columns route and PyTorch, split over 1-3
threads (forward; the weight gradient when the input needs none, dx through the columns when it does)."""

import numpy as np
import pytest
import torch

import ganglion as g
import ganglion.nn.functional.conv as conv_module
from ganglion import kernels
from ganglion.kernels import conv_columns
from nn_conv_helpers import assert_results_match

pytestmark = pytest.mark.skipif(not kernels.available(), reason="compiled kernels are off (GANGLION_COMPILED=0 or no numba)")

if kernels.available():
    from ganglion.kernels import conv_direct

# (N, C, H, W, out, kh, kw, (ph_lo, ph_hi), (pw_lo, pw_hi)): LeNet-5's first layer, unpadded, padding unequal on two
# sides ("same" with an even kernel), padding beyond the kernel's reach (rows of zeros only), a kernel as large as the
# padded input, a 1x1 input
GEOMETRIES = [
    (3, 1, 8, 8, 6, 5, 5, (2, 2), (2, 2)),
    (2, 3, 7, 9, 4, 3, 3, (0, 0), (0, 0)),
    (2, 2, 6, 5, 3, 2, 4, (0, 1), (1, 2)),
    (2, 2, 4, 5, 5, 3, 3, (3, 3), (1, 1)),
    (1, 2, 3, 4, 2, 5, 6, (1, 1), (1, 1)),
    (2, 3, 1, 1, 6, 3, 3, (1, 1), (1, 1)),
]


def _definition(x, w, pads):
    """y[n, o, h, q] = sum over c, i, j of w[o, c, i, j] x_padded[n, c, h + i, q + j], in float64."""
    (ph_lo, ph_hi), (pw_lo, pw_hi) = pads
    x_padded = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (ph_lo, ph_hi), (pw_lo, pw_hi)))
    kh, kw = w.shape[2:]
    windows = np.lib.stride_tricks.sliding_window_view(x_padded, (kh, kw), axis=(2, 3))  # (N, C, oh, ow, kh, kw)
    return np.einsum("ncpqij,ocij->nopq", windows, w.astype(np.float64))


def _geometry(x, w, pads):
    oh = x.shape[2] + sum(pads[0]) - w.shape[2] + 1
    ow = x.shape[3] + sum(pads[1]) - w.shape[3] + 1
    return conv_columns.geometry(w.shape[2:], (1, 1), pads, (1, 1), (oh, ow))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n, c, h, wd, out, kh, kw, ph, pw", GEOMETRIES)
def test_forward_and_weight_gradient_equal_their_definitions(n, c, h, wd, out, kh, kw, ph, pw, dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, c, h, wd)).astype(dtype)
    w = rng.standard_normal((out, c, kh, kw)).astype(dtype)
    bias = rng.standard_normal(out).astype(dtype)
    geo = _geometry(x, w, (ph, pw))
    assert conv_direct.applies(geo, out)
    want = _definition(x, w, (ph, pw))
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    y = conv_direct.conv2d_forward(x, w, bias, geo)
    assert y.dtype == dtype and y.shape == want.shape
    np.testing.assert_allclose(y, want + bias[:, None, None], rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(conv_direct.conv2d_forward(x, w, None, geo), want, rtol=tolerance, atol=tolerance)
    # dW = the adjoint of W -> y: <y(W), dy> = <W, dW> for every W, so dW is the gradient of <y, dy>
    dy = rng.standard_normal(y.shape).astype(dtype)
    dw = conv_direct.weight_grad(dy, x, w.shape, geo)
    assert dw.dtype == dtype and dw.shape == w.shape
    want_dw = np.einsum("nopq,ncpqij->ocij", dy.astype(np.float64), np.lib.stride_tricks.sliding_window_view(
        np.pad(x.astype(np.float64), ((0, 0), (0, 0), ph, pw)), (kh, kw), axis=(2, 3)))
    np.testing.assert_allclose(dw, want_dw, rtol=tolerance * 10, atol=tolerance * 10)


def test_compiled_loops_equal_the_same_loops_run_by_python():
    rng = np.random.default_rng(2)
    n, c, h, wd, out, kh, kw, ph, pw = GEOMETRIES[2]
    x = rng.standard_normal((n, c, h, wd)).astype(np.float32)
    w = rng.standard_normal((out, c, kh, kw)).astype(np.float32)
    bias = rng.standard_normal(out).astype(np.float32)
    geo = _geometry(x, w, (ph, pw))
    wp, plane, positions = conv_direct._wide_sizes(geo, c)
    dy = rng.standard_normal((n, out) + geo[-2:]).astype(np.float32)
    results = []
    for forward, weight_grad in ((conv_direct._forward_examples, conv_direct._weight_grad_examples),
                                 (conv_direct._forward_examples.py_func, conv_direct._weight_grad_examples.py_func)):
        y = np.full((n, out) + geo[-2:], np.nan, np.float32)
        forward(x, w, bias, True, y, 0, n, ph[0], pw[0], np.full((c, plane), np.nan, np.float32),
                np.full((out, positions), np.nan, np.float32))
        grad = np.zeros(w.shape, np.float32)
        weight_grad(dy, x, grad, 0, n, ph[0], pw[0], np.full((c, plane), np.nan, np.float32),
                    np.full((out, positions), np.nan, np.float32), np.float32(0))
        results.append((y, grad))
    (y, grad), (y_python, grad_python) = results
    np.testing.assert_allclose(y, y_python, rtol=1e-5, atol=1e-5)  # fused multiply-adds and vector sums: not the bits
    np.testing.assert_allclose(grad, grad_python, rtol=1e-5, atol=1e-5)


def test_which_convolutions_take_the_route():
    geo = conv_columns.geometry((5, 5), (1, 1), ((2, 2), (2, 2)), (1, 1), (28, 28))
    assert conv_direct.applies(geo, 6)
    assert not conv_direct.applies(geo, conv_direct.MAX_OUT_CHANNELS + 1)
    assert not conv_direct.applies(conv_columns.geometry((5, 5), (2, 2), ((2, 2), (2, 2)), (1, 1), (14, 14)), 6)
    assert not conv_direct.applies(conv_columns.geometry((3, 3), (1, 1), ((2, 2), (2, 2)), (2, 2), (28, 28)), 6)
    stem = conv_columns.geometry((3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), (32, 32))  # dW alone: a first layer
    assert conv_direct.weight_grad_applies(stem, 3, 16, 4)
    assert conv_direct.weight_grad_applies(geo, 1, 6, 8)
    assert not conv_direct.weight_grad_applies(stem, 9, 16, 4)  # 81 rows of columns
    assert not conv_direct.weight_grad_applies(stem, 3, 128, 4)  # dy's wide rows over 512 KB an example
    assert not conv_direct.weight_grad_applies(conv_columns.geometry((3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1),
                                                                     (16, 16)), 3, 16, 4)


CASES = [  # (fn, x shape, w shape, options): stride 1, dilation 1
    ("conv2d", (5, 1, 12, 12), (6, 1, 5, 5), dict(padding=2)),
    ("conv2d", (4, 3, 9, 8), (6, 3, 3, 2), {}),
    ("conv2d", (3, 2, 7, 7), (4, 2, 2, 2), dict(padding="same")),  # (lo, hi) pads differ
    ("conv1d", (4, 3, 20), (5, 3, 3), dict(padding=1)),
    ("conv2d", (3, 3, 8, 8), (10, 3, 3, 3), dict(padding=1)),  # forward by the columns, dW alone directly
    ("conv2d", (2, 3, 9, 9), (4, 3, 6, 6), {}),  # forward directly, dW by the columns (108 rows)
]


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_needs_grad", [False, True])
@pytest.mark.parametrize("fn, x_shape, w_shape, options", CASES)
def test_direct_route_equals_columns_route_and_torch(fn, x_shape, w_shape, options, x_needs_grad, dtype, threads,
                                                     monkeypatch, call_spy):
    monkeypatch.setattr(conv_columns, "MIN_WORK_PER_THREAD", 1)  # shared over the threads however small
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal(x_shape).astype(dtype), rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    y_shape = getattr(torch.nn.functional, fn)(torch.tensor(x), torch.tensor(w), None, **options).shape
    dy = rng.standard_normal(tuple(y_shape)).astype(dtype)

    def run(framework):
        lib = torch if framework == "torch" else g
        as_tensor = lib.tensor if lib is torch else (lambda a, **k: g.tensor(a, dtype=a.dtype, **k))
        xt = as_tensor(x, requires_grad=x_needs_grad)
        wt, bt = as_tensor(w, requires_grad=True), as_tensor(b, requires_grad=True)
        y = getattr(lib.nn.functional, fn)(xt, wt, bt, **options)
        y.backward(as_tensor(dy))
        return [y.detach().numpy(), xt.grad.numpy() if x_needs_grad else None, wt.grad.numpy(), bt.grad.numpy()]

    g.set_num_threads(threads)
    geo = _geometry(*[a if a.ndim == 4 else a[:, :, None] for a in (np.empty(x_shape), np.empty(w_shape))],
                    _pads(fn, w_shape, options))
    wanted = (["conv2d_forward"] if conv_direct.applies(geo, w_shape[0]) else []) + (
        ["weight_grad"] if not x_needs_grad and conv_direct.weight_grad_applies(geo, w_shape[1], w_shape[0],
                                                                                np.dtype(dtype).itemsize) else [])
    calls = call_spy(conv_direct, "conv2d_forward", "weight_grad")
    direct = run("ganglion")
    assert calls == wanted
    monkeypatch.setattr(conv_direct, "MAX_OUT_CHANNELS", 0)
    monkeypatch.setattr(conv_direct, "MAX_WEIGHT_GRAD_ROWS", 0)
    columns = run("ganglion")
    assert calls == wanted  # the columns route this time
    assert_results_match(direct, [columns, run("torch")], dtype)


def _pads(fn, w_shape, options):
    """The (lo, hi) padding of each spatial dim, as ganglion's 2-D view of the convolution has it."""
    kernel = w_shape[2:]
    padding = options.get("padding", 0)
    if padding == "same":
        pads = [((k - 1) // 2, k - 1 - (k - 1) // 2) for k in kernel]
    else:
        pads = [(padding, padding)] * len(kernel)
    return tuple(pads) if fn == "conv2d" else ((0, 0),) + tuple(pads)
