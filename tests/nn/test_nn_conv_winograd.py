"""``kernels.winograd``: each compiled loop against the same loop run by Python, the transforms against their
definitions (B^T d B, A^T m A, G g G^T) and as adjoints of each other, and the route through ``conv2d`` against the
columns route and PyTorch, float32 and float64, split over 1-3 threads in chunks and pieces as small as one example."""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import kernels
from ganglion.kernels import conv_columns, winograd
from nn_conv_helpers import assert_results_match

pytestmark = pytest.mark.skipif(not kernels.available(), reason="compiled kernels are off (GANGLION_COMPILED=0 or no numba)")

B_T = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=np.float64)
A_T = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=np.float64)
G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], dtype=np.float64)


def _padded(rng, examples, channels, th, tw):
    return rng.standard_normal((examples, channels, 2 * th + 2, 2 * tw + 2))


def _reference_input_tiles(padded, th, tw):
    """v[4 i + j, c, t] = (B^T d B)[i, j], d the 4x4 input of tile t, by matrix products."""
    examples, channels = padded.shape[:2]
    v = np.zeros((16, channels, examples * th * tw))
    for e in range(examples):
        for a in range(th):
            for b in range(tw):
                d = padded[e, :, 2 * a:2 * a + 4, 2 * b:2 * b + 4]  # (C, 4, 4)
                v[:, :, (e * th + a) * tw + b] = (B_T @ d @ B_T.T).reshape(channels, 16).T
    return v


@pytest.mark.parametrize("th, tw", [(1, 1), (2, 3), (4, 4)])
def test_input_tiles_equal_their_definition_and_python_loop(th, tw):
    rng = np.random.default_rng(0)
    padded = _padded(rng, 2, 3, th, tw)
    want = _reference_input_tiles(padded, th, tw)
    for kernel in (winograd._input_tiles, winograd._input_tiles.py_func):
        v = np.full((16, 3, 2 * th * tw + 5), np.nan)  # a longer row: only the tiles' columns are written
        kernel(padded, v, th, tw)
        np.testing.assert_allclose(v[:, :, :2 * th * tw], want, rtol=1e-14, atol=1e-14)
        assert np.isnan(v[:, :, 2 * th * tw:]).all()


@pytest.mark.parametrize("th, tw", [(1, 1), (2, 3), (3, 2)])
def test_input_tiles_adjoint_is_the_adjoint(th, tw):
    """<tiles(p), dv> == <p, adjoint(dv)>, and the Python loop gives the same."""
    rng = np.random.default_rng(1)
    padded = _padded(rng, 2, 3, th, tw)
    dv = rng.standard_normal((16, 3, 2 * th * tw))
    v = np.empty_like(dv)
    winograd._input_tiles(padded, v, th, tw)
    back = np.full_like(padded, np.nan)  # every element is written (zeroed first)
    winograd._input_tiles_adjoint(dv, back, th, tw)
    np.testing.assert_allclose(np.vdot(v, dv), np.vdot(padded, back), rtol=1e-12)
    by_python = np.empty_like(padded)
    winograd._input_tiles_adjoint.py_func(dv, by_python, th, tw)
    np.testing.assert_allclose(back, by_python, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("oh, ow", [(4, 4), (3, 5), (1, 1), (5, 2)])  # odd sizes: the last tiles stick out
def test_output_tiles_equal_their_definition_and_their_adjoint(oh, ow):
    rng = np.random.default_rng(2)
    th, tw = winograd.tile_counts((oh, ow))
    n, out = 3, 2
    m = rng.standard_normal((16, out, (n - 1) * th * tw))  # the examples [1, 3)
    bias = rng.standard_normal(out)
    want = np.full((n, out, oh, ow), np.nan)
    for e in range(n - 1):
        for a in range(th):
            for b in range(tw):
                tile = A_T @ m[:, :, (e * th + a) * tw + b].T.reshape(out, 4, 4) @ A_T.T + bias[:, None, None]
                rows, cols = min(2, oh - 2 * a), min(2, ow - 2 * b)
                want[e + 1, :, 2 * a:2 * a + rows, 2 * b:2 * b + cols] = tile[:, :rows, :cols]
    for kernel in (winograd._output_tiles, winograd._output_tiles.py_func):
        y = np.full((n, out, oh, ow), np.nan)
        kernel(m, bias, True, y, 1, 3, th, tw)
        np.testing.assert_allclose(y, want, rtol=1e-14, atol=1e-14)  # example 0 untouched (NaN in both)
    y = np.zeros((n, out, oh, ow))
    winograd._output_tiles(m, bias, False, y, 1, 3, th, tw)
    dy = rng.standard_normal((n, out, oh, ow))
    for kernel in (winograd._output_tiles_adjoint, winograd._output_tiles_adjoint.py_func):
        z = np.empty_like(m)
        kernel(dy, z, 1, 3, th, tw)
        np.testing.assert_allclose(np.vdot(y[1:], dy[1:]), np.vdot(m, z), rtol=1e-12)


def test_pad_and_crop_are_inverse_shifts():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 2, 5, 4))
    th, tw = winograd.tile_counts((5 + 2 + 1 - 2, 4 + 1 + 2 - 2))  # pads (2, 1) before, (1, 2) after
    for pad, crop in ((winograd._pad_piece, winograd._crop_piece),
                      (winograd._pad_piece.py_func, winograd._crop_piece.py_func)):
        padded = np.full((2, 2, 2 * th + 2, 2 * tw + 2), np.nan)
        pad(x, padded, 1, 3, 2, 1)
        want = np.zeros_like(padded)
        want[:, :, 2:7, 1:5] = x[1:3]
        np.testing.assert_array_equal(padded, want)
        back = np.full_like(x, np.nan)
        crop(padded, back, 1, 3, 2, 1)
        np.testing.assert_array_equal(back[1:], x[1:])
        assert np.isnan(back[0]).all()


@pytest.mark.parametrize("rows, cols, ph, pw", [(6, 5, 1, 2), (4, 9, 3, 0), (2, 2, 3, 3), (12, 12, 0, 1)])
def test_pad_leaves_out_what_falls_outside_the_piece(rows, cols, ph, pw):
    x = np.random.default_rng(4).standard_normal((3, 2, 7, 6)).astype(np.float32)
    want = np.zeros((2, 2, rows, cols), np.float32)
    shifted = np.zeros((2, 2, max(rows, 7 + ph), max(cols, 6 + pw)), np.float32)
    shifted[:, :, ph:ph + 7, pw:pw + 6] = x[1:3]
    want[...] = shifted[:, :, :rows, :cols]
    for pad in (winograd._pad_piece, winograd._pad_piece.py_func):
        padded = np.full((2, 2, rows, cols), np.nan, np.float32)
        pad(x, padded, 1, 3, ph, pw)
        np.testing.assert_array_equal(padded, want)


@pytest.mark.parametrize("out, channels", [(5, 3), (16, 16), (7, 33)])
def test_weight_transform_and_its_gradient(out, channels):
    rng = np.random.default_rng(4)
    w = rng.standard_normal((out, channels, 3, 3))
    u = winograd.transform_weight(w)
    want = np.einsum("ia,ocab,jb->ijoc", G, w, G).reshape(16, out, channels)
    np.testing.assert_allclose(u, want, rtol=1e-14, atol=1e-14)
    du = rng.standard_normal(u.shape)
    dw = winograd.weight_grad(du)
    np.testing.assert_allclose(dw, np.einsum("ia,ijoc,jb->ocab", G, du.reshape(4, 4, out, channels), G),
                               rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(np.vdot(u, du), np.vdot(w, dw), rtol=1e-12)
    assert winograd.transform_weight(w.astype(np.float32)).dtype == np.float32
    assert winograd.weight_grad(du.astype(np.float32)).dtype == np.float32
    # a transposed (not C-contiguous) weight, as a view of a parameter can be, and each loop run by Python
    w_t = np.ascontiguousarray(w.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    np.testing.assert_array_equal(winograd.transform_weight(w_t), u)
    by_python, dw_by_python = np.empty_like(u), np.empty_like(dw)
    winograd._weight_tiles.py_func(w, by_python)
    winograd._weight_tiles_adjoint.py_func(du, dw_by_python)
    np.testing.assert_array_equal(by_python, u)
    np.testing.assert_array_equal(dw_by_python, dw)


@pytest.mark.parametrize("channels, stride, dilation, groups, taken", [
    ((32, 32), (1, 1), (1, 1), 1, True),
    ((64, 32), (1, 1), (1, 1), 1, True),
    ((16, 16), (1, 1), (1, 1), 1, True),
    ((32, 8), (1, 1), (1, 1), 1, False),  # too few channels for the transforms to pay
    ((32, 32), (2, 2), (1, 1), 1, False),
    ((32, 32), (1, 1), (2, 2), 1, False),
    ((32, 32), (1, 1), (1, 1), 2, False),
])
def test_which_convolutions_take_the_route(channels, stride, dilation, groups, taken):
    assert winograd.applies(channels + (3, 3), stride, dilation, groups) is taken
    assert not winograd.applies(channels + (5, 5), (1, 1), (1, 1), 1)
    assert not winograd.applies(channels + (3,), (1,), (1,), 1)


def _run(framework, x, w, b, dy, **options):
    lib = torch if framework == "torch" else g
    make = (lambda a: torch.tensor(a, requires_grad=True)) if framework == "torch" else (
        lambda a: g.tensor(a, dtype=a.dtype, requires_grad=True))
    tensors = [None if a is None else make(a) for a in (x, w, b)]
    y = lib.nn.functional.conv2d(*tensors, **options)
    y.backward(torch.tensor(dy) if framework == "torch" else g.tensor(dy, dtype=dy.dtype))
    return [y.detach().numpy()] + [None if t is None else t.grad.numpy() for t in tensors]


CASES = [  # (x shape, out channels, padding)
    ((3, 3, 6, 6), 4, 1),
    ((2, 2, 7, 5), 3, 1),  # odd output sizes
    ((2, 3, 5, 6), 2, 0),
    ((2, 2, 4, 3), 3, 2),  # padding wider than the kernel's reach on one side
    ((1, 2, 1, 1), 2, 1),  # a 1x1 input
]


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape, out_channels, padding", CASES)
def test_route_equals_the_columns_route_and_torch(x_shape, out_channels, padding, bias, dtype, threads, monkeypatch,
                                                  call_spy):
    monkeypatch.setattr(winograd, "MIN_CHANNELS", 1)  # small shapes take the route,
    monkeypatch.setattr(winograd, "TILES_PER_PIECE", 1)  # pieces and chunks of one example,
    monkeypatch.setattr(winograd, "PIECE_BYTES", 1)
    monkeypatch.setattr(winograd, "TILES_PER_CHUNK", 1)
    monkeypatch.setattr(conv_columns, "MIN_WORK_PER_THREAD", 1)  # shared over the threads however small
    rng = np.random.default_rng(5)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal((out_channels, x_shape[1], 3, 3)).astype(dtype)
    b = rng.standard_normal(out_channels).astype(dtype) if bias else None
    y_shape = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=padding).shape
    dy = rng.standard_normal(tuple(y_shape)).astype(dtype)
    calls = call_spy(winograd, "conv3x3_forward", "conv3x3_backward")
    g.set_num_threads(threads)
    got = _run("ganglion", x, w, b, dy, padding=padding)
    assert calls == ["conv3x3_forward", "conv3x3_backward"]
    monkeypatch.setattr(winograd, "MIN_CHANNELS", 10**6)
    by_columns = _run("ganglion", x, w, b, dy, padding=padding)
    assert calls == ["conv3x3_forward", "conv3x3_backward"]  # not taken this time
    assert_results_match(got, [by_columns, _run("torch", x, w, b, dy, padding=padding)], dtype)


def test_a_realistic_layer_matches_torch_in_float32():
    """The default thresholds and piece sizes: 32 -> 32 channels on 16x16, batch 8, pieces of several examples."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((8, 32, 16, 16)).astype(np.float32)
    w = (rng.standard_normal((32, 32, 3, 3)) / 17).astype(np.float32)
    b = rng.standard_normal(32).astype(np.float32)
    dy = rng.standard_normal((8, 32, 16, 16)).astype(np.float32)
    for mine, want in zip(_run("ganglion", x, w, b, dy, padding=1), _run("torch", x, w, b, dy, padding=1)):
        np.testing.assert_allclose(mine, want, rtol=1e-4, atol=2e-4 * np.abs(want).max())


def test_gradcheck_in_float64(monkeypatch):
    monkeypatch.setattr(winograd, "MIN_CHANNELS", 1)
    rng = np.random.default_rng(7)
    x = g.tensor(rng.standard_normal((2, 2, 5, 4)), dtype=g.float64, requires_grad=True)
    w = g.tensor(rng.standard_normal((3, 2, 3, 3)), dtype=g.float64, requires_grad=True)
    b = g.tensor(rng.standard_normal(3), dtype=g.float64, requires_grad=True)
    assert g.autograd.gradcheck(lambda *t: g.nn.functional.conv2d(*t, padding=1), (x, w, b))


def test_only_the_asked_gradients_and_an_empty_batch(monkeypatch):
    monkeypatch.setattr(winograd, "MIN_CHANNELS", 1)
    rng = np.random.default_rng(8)
    x = g.tensor(rng.standard_normal((2, 3, 5, 5)), requires_grad=True)
    w = g.tensor(rng.standard_normal((4, 3, 3, 3)))  # frozen: x is not kept
    y = g.nn.functional.conv2d(x, w, padding=1)
    assert y.grad_fn.saved[:2] == ("winograd", None)
    y.sum().backward()
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    torch.nn.functional.conv2d(tx, torch.tensor(w.numpy()), padding=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-5)
    empty = np.zeros((0, 3, 5, 5), np.float32)
    got = _run("ganglion", empty, np.ones((4, 3, 3, 3), np.float32), None, np.zeros((0, 4, 5, 5), np.float32), padding=1)
    want = _run("torch", empty, np.ones((4, 3, 3, 3), np.float32), None, np.zeros((0, 4, 5, 5), np.float32), padding=1)
    for a, b in zip(got[:3], want[:3]):
        assert a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def test_changing_x_in_place_after_forward_is_refused_in_backward(monkeypatch):
    monkeypatch.setattr(winograd, "MIN_CHANNELS", 1)
    rng = np.random.default_rng(9)
    x = g.tensor(rng.standard_normal((2, 3, 5, 5)))
    w = g.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    y = g.nn.functional.conv2d(x, w, padding=1)
    assert y.grad_fn.saved[0] == "winograd"
    x.add_(1.0)
    with pytest.raises(RuntimeError, match="in-?place|modified"):
        y.sum().backward()


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # NumPy's, on inf - inf
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("where", ["x", "dy"])
def test_non_finite_values_land_where_torch_puts_them(bad, where, monkeypatch, call_spy):
    """Winograd's transforms subtract inputs of one tile: an inf would give NaN, a NaN would spread to outputs whose
    window does not hold it. A result that is not all finite is made again by the columns route."""
    monkeypatch.setattr(winograd, "MIN_CHANNELS", 1)
    rng = np.random.default_rng(10)
    x = rng.standard_normal((2, 3, 6, 5)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    dy = rng.standard_normal((2, 4, 6, 5)).astype(np.float32)
    (x if where == "x" else dy)[1, 2, 3, 0] = bad
    calls = call_spy(winograd, "conv3x3_forward", "conv3x3_backward")
    got = _run("ganglion", x, w, None, dy, padding=1)
    # tried first, then redone by the columns (a forward redone so takes the columns' backward too)
    assert calls == (["conv3x3_forward"] if where == "x" else ["conv3x3_forward", "conv3x3_backward"])
    want = _run("torch", x, w, None, dy, padding=1)
    if where == "dy":  # dW by the columns, whose padding zeros times an inf give NaN where PyTorch skips them
        monkeypatch.setattr(winograd, "MIN_CHANNELS", 10**6)
        want[2] = _run("ganglion", x, w, None, dy, padding=1)[2]
    for mine, theirs in zip(got[:3], want[:3]):
        np.testing.assert_array_equal(np.isnan(mine), np.isnan(theirs))
        np.testing.assert_array_equal(np.isposinf(mine), np.isposinf(theirs))
        np.testing.assert_array_equal(np.isneginf(mine), np.isneginf(theirs))
        finite = np.isfinite(theirs)
        np.testing.assert_allclose(mine[finite], theirs[finite], rtol=1e-4, atol=1e-4)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # NumPy's, on inf - inf
@pytest.mark.parametrize("by_blas", [True, False])
@pytest.mark.parametrize("bad", [np.inf, np.nan])
def test_the_finite_flags_see_a_bad_value_in_any_piece_and_chunk(bad, by_blas, monkeypatch):
    """conv3x3_forward's and conv3x3_backward's flag (each piece of y and dx checked in cache, ``FINITE_CHECK``):
    True for finite data; False wherever one non-finite value lands, in the compiled chunks and the Python loop."""
    from ganglion.kernels import blas

    monkeypatch.setattr(blas, "ENABLED", by_blas)
    for name in ("PIECE_BYTES", "TILES_PER_PIECE", "TILES_PER_CHUNK"):
        monkeypatch.setattr(winograd, name, 1)  # pieces and chunks of one example
    rng = np.random.default_rng(11)
    x = rng.standard_normal((4, 3, 5, 6)).astype(np.float32)
    u = winograd.transform_weight(rng.standard_normal((2, 3, 3, 3)).astype(np.float32))
    dy = rng.standard_normal((4, 2, 5, 6)).astype(np.float32)
    assert winograd.conv3x3_forward(x, u, None, (1, 1), (5, 6))[1]
    assert winograd.conv3x3_backward(dy, x, u, (1, 1), x.shape, True, True, True)[3]
    assert winograd.conv3x3_backward(dy, x, u, (1, 1), x.shape, False, True, True)[3]  # no dx: nothing to check
    for example in range(4):
        bad_x, bad_dy = x.copy(), dy.copy()
        bad_x[example, 1, 2, 5] = bad
        bad_dy[example, 0, 4, 0] = bad
        assert not winograd.conv3x3_forward(bad_x, u, None, (1, 1), (5, 6))[1]
        assert not winograd.conv3x3_backward(bad_dy, x, u, (1, 1), x.shape, True, False, False)[3]
    assert winograd.all_finite(x) and not winograd.all_finite(bad_x)
    for kernel in (winograd._nonfinite_sum, winograd._nonfinite_sum.py_func):
        values = np.arange(10, dtype=np.float64)
        assert kernel(values, 0, 10) == 0
        values[7] = -np.inf
        assert np.isnan(kernel(values, 0, 10)) and kernel(values, 0, 7) == 0
