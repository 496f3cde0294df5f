"""``kernels.conv_columns``: each compiled loop against the same loop run by Python and against NumPy, and the
batch-columns route of conv1d/conv2d and their transposes against the NumPy route (``_batch_columns_route`` switched off) and PyTorch,
split over 1-3 threads in chunks as small as one example."""

import numpy as np
import pytest
import torch

import ganglion as g
import ganglion.nn.functional.conv as conv_module
from ganglion import kernels
from ganglion.kernels import conv_columns
from nn_conv_helpers import assert_results_match

pytestmark = pytest.mark.skipif(not kernels.available(), reason="compiled kernels are off (GANGLION_COMPILED=0 or no numba)")

# (N, C, H, W, kh, kw, stride, padding, dilation): padding beyond the kernel's reach (rows of zeros only), strides
# that skip the last input columns, dilation, 1x1, a kernel as large as the padded input
GEOMETRIES = [
    (2, 3, 7, 6, 3, 3, (1, 1), (1, 1), (1, 1)),
    (3, 2, 9, 8, 3, 3, (2, 2), (1, 1), (1, 1)),
    (2, 2, 10, 9, 3, 2, (1, 2), (2, 1), (2, 1)),
    (1, 3, 5, 5, 5, 5, (1, 1), (4, 4), (1, 1)),
    (2, 4, 8, 8, 1, 1, (2, 2), (0, 0), (1, 1)),
    (2, 1, 4, 6, 4, 6, (1, 1), (0, 0), (1, 1)),
    (3, 2, 6, 7, 2, 3, (3, 2), (0, 1), (1, 2)),
    # stride 1, output as wide as the input: the flat-run kernels too
    (2, 3, 6, 5, 5, 5, (1, 1), (2, 2), (1, 1)),
    (2, 2, 7, 6, 3, 3, (1, 1), (2, 2), (2, 2)),
    (3, 2, 4, 4, 3, 3, (1, 1), (1, 1), (1, 1)),
    (2, 2, 1, 1, 3, 3, (1, 1), (1, 1), (1, 1)),  # a 1x1 input: one valid column per kernel offset
    (2, 2, 3, 4, 3, 1, (1, 1), (3, 0), (1, 1)),  # padding taller than the input: whole rows of zeros
]


def _kernels(name, geo, width):
    """The generic loop, and the flat-run one where it applies."""
    generic = getattr(conv_columns, name)
    return [generic, getattr(conv_columns, name + "_flat")] if conv_columns._flat_rows(geo, width) else [generic]


def _geo(shape):
    n, c, h, w, kh, kw, stride, pad, dil = shape
    oh = (h + 2 * pad[0] - dil[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (w + 2 * pad[1] - dil[1] * (kw - 1) - 1) // stride[1] + 1
    return (kh, kw, stride[0], stride[1], pad[0], pad[1], dil[0], dil[1], oh, ow)


def _numpy_im2col(x, geo):
    """The reference: pad, then gather every window with fancy indexing, laid out (C kh kw, N oh ow)."""
    kh, kw, sh, sw, ph, pw, dh, dw, oh, ow = geo
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    rows = (np.arange(oh)[:, None] * sh + np.arange(kh)[None, :] * dh)  # (oh, kh)
    cols = (np.arange(ow)[:, None] * sw + np.arange(kw)[None, :] * dw)  # (ow, kw)
    windows = xp[:, :, rows[:, :, None, None], cols[None, None, :, :]]  # (N, C, oh, kh, ow, kw)
    return windows.transpose(1, 3, 5, 0, 2, 4).reshape(x.shape[1] * kh * kw, -1)


@pytest.mark.parametrize("shape", GEOMETRIES)
def test_im2col_equals_numpy_and_its_python_loop(shape):
    rng = np.random.default_rng(0)
    n, c, h, w = shape[:4]
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    geo = _geo(shape)
    valid = conv_columns._valid_columns(geo, w)
    expected = _numpy_im2col(x, geo)
    for kernel in _kernels("_im2col", geo, w):
        compiled_cols = np.full(expected.shape, np.nan, np.float32)
        python_cols = np.full(expected.shape, np.nan, np.float32)
        kernel(x, compiled_cols, 0, n, 0, *geo, *valid)
        kernel.py_func(x, python_cols, 0, n, 0, *geo, *valid)
        np.testing.assert_array_equal(compiled_cols, expected)
        np.testing.assert_array_equal(python_cols, expected)


@pytest.mark.parametrize("shape", GEOMETRIES)
def test_col2im_is_the_adjoint_of_im2col(shape):
    """<im2col(x), c> = <x, col2im(c)> for random x and c, and the compiled loop equals its Python run."""
    rng = np.random.default_rng(1)
    n, c, h, w = shape[:4]
    geo = _geo(shape)
    valid = conv_columns._valid_columns(geo, w)
    x = rng.standard_normal((n, c, h, w))
    columns = rng.standard_normal(_numpy_im2col(x, geo).shape)
    dx = np.full(x.shape, np.nan)
    dx_python = np.full(x.shape, np.nan)
    conv_columns._col2im(columns, dx, 0, n, 0, *geo, *valid)
    conv_columns._col2im.py_func(columns, dx_python, 0, n, 0, *geo, *valid)
    np.testing.assert_allclose(dx, dx_python, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(np.vdot(_numpy_im2col(x, geo), columns), np.vdot(x, dx), rtol=1e-10)


def test_only_the_given_examples_are_written():
    rng = np.random.default_rng(2)
    shape = GEOMETRIES[9]  # three examples, and both kernels apply
    n, c, h, w = shape[:4]
    geo = _geo(shape)
    valid = conv_columns._valid_columns(geo, w)
    x = rng.standard_normal((n, c, h, w))
    positions = geo[-2] * geo[-1]
    for kernel in _kernels("_im2col", geo, w):
        cols = np.full(_numpy_im2col(x, geo).shape, np.nan)
        kernel(x, cols, 1, 2, 0, *geo, *valid)
        assert np.isnan(cols[:, :positions]).all() and np.isnan(cols[:, 2 * positions:]).all()
        np.testing.assert_array_equal(cols[:, positions:2 * positions],
                                      _numpy_im2col(x, geo)[:, positions:2 * positions])
        piece = np.full((cols.shape[0], 2 * positions), np.nan)  # a piece's buffer: example 1 at its start
        kernel(x, piece, 1, 3, 1, *geo, *valid)
        np.testing.assert_array_equal(piece, _numpy_im2col(x, geo)[:, positions:3 * positions])


# (N, C, H, W, kh, kw): unpadded stride-1 convolutions whose columns may be laid out wide (``wide_rows``)
WIDE_GEOMETRIES = [(2, 3, 14, 14, 5, 5), (3, 2, 6, 9, 2, 4), (2, 1, 5, 3, 1, 2), (1, 2, 4, 4, 4, 4)]


def _wide_reference(x, kh, kw):
    """Wide columns from their definition: for example n, kernel offset (i, j) and wide position t = p W + q,
    x[n, c, p + i, q + j] where q < ow and anything (here NaN) past it; the last row's tail past ow is 0."""
    n, c, h, w = x.shape
    oh, ow = h - kh + 1, w - kw + 1
    geo = (kh, kw, 1, 1, 0, 0, 1, 1, oh, ow)
    narrow = _numpy_im2col(x, geo).reshape(c * kh * kw, n, oh, ow)
    wide = np.full((c * kh * kw, n, oh, w), np.nan)
    wide[..., :ow] = narrow
    wide[:, :, -1, ow:] = 0
    return wide.reshape(c * kh * kw, -1), geo


def _wide_case(shape, seed):
    """(rng, x, the wide columns' reference, geo) for one of ``WIDE_GEOMETRIES``."""
    rng = np.random.default_rng(seed)
    n, c, h, w, kh, kw = shape
    x = rng.standard_normal((n, c, h, w))
    return (rng, x) + _wide_reference(x, kh, kw)


@pytest.mark.parametrize("shape", WIDE_GEOMETRIES)
def test_wide_columns_equal_their_definition_where_kept(shape):
    _, x, expected, geo = _wide_case(shape, 6)
    kept = ~np.isnan(expected)
    for kernel in (conv_columns._im2col_wide, conv_columns._im2col_wide.py_func):
        cols = np.full(expected.shape, np.nan)
        kernel(x, cols, 0, x.shape[0], 0, *geo[:2], *geo[-2:])
        np.testing.assert_array_equal(cols[kept], expected[kept])
        assert not np.isnan(cols).any()  # the dropped columns read x too (the run wraps into the next row)


@pytest.mark.parametrize("shape", WIDE_GEOMETRIES)
def test_wide_col2im_is_the_adjoint_of_wide_im2col(shape):
    rng, x, expected, geo = _wide_case(shape, 7)
    n, (kh, kw) = x.shape[0], geo[:2]
    cols = np.empty(expected.shape)
    conv_columns._im2col_wide(x, cols, 0, n, 0, kh, kw, geo[-2], geo[-1])
    dcols = rng.standard_normal(cols.shape)
    dx, dx_python = np.zeros(x.shape), np.zeros(x.shape)  # added into: the caller zeroes it
    conv_columns._col2im_wide(dcols, dx, 0, n, 0, kh, kw, geo[-2], geo[-1])
    conv_columns._col2im_wide.py_func(dcols, dx_python, 0, n, 0, kh, kw, geo[-2], geo[-1])
    np.testing.assert_allclose(dx, dx_python, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(np.vdot(cols, dcols), np.vdot(x, dx), rtol=1e-10)


def test_wide_rows_and_examples_are_transposes_with_zeros_past_each_row():
    rng = np.random.default_rng(8)
    y = rng.standard_normal((3, 2, 4, 5))
    bias = rng.standard_normal(2)
    rows = np.full((2, 3 * 4 * 7), np.nan)
    for to_rows in (conv_columns._examples_to_wide_rows, conv_columns._examples_to_wide_rows.py_func):
        to_rows(y, rows, 0, 3, 7)
        wide = rows.reshape(2, 3, 4, 7)
        np.testing.assert_array_equal(wide[..., :5], y.transpose(1, 0, 2, 3))
        assert (wide[..., 5:] == 0).all()
    for to_examples in (conv_columns._wide_rows_to_examples, conv_columns._wide_rows_to_examples.py_func):
        back = np.full(y.shape, np.nan)
        to_examples(np.ascontiguousarray(rows[:, 4 * 7:]), bias, True, back, 1, 3, 1, 7)  # a piece from example 1
        np.testing.assert_array_equal(back[1:], y[1:] + bias[:, None, None])
        assert np.isnan(back[0]).all()


@pytest.mark.parametrize("geo_args, taken", [
    (((64, 6, 14, 14), 5, 0, 1), True),  # LeNet-5's second layer: 10 outputs a row of 14
    (((64, 1, 28, 28), 3, 0, 1), False),  # 26 outputs a row: runs long enough already
    (((64, 6, 14, 14), 5, 2, 1), False),  # padded
    (((64, 6, 14, 14), 5, 0, 2), False),  # strided
    (((64, 6, 7, 7), 5, 0, 1), False),  # 3 outputs from 7: the product would be 2.3x
])
def test_which_convolutions_lay_their_columns_out_wide(geo_args, taken):
    (n, c, h, w), k, pad, stride = geo_args
    oh, ow = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
    geo = (k, k, stride, stride, pad, pad, 1, 1, oh, ow)
    assert conv_columns.wide_rows(geo, h, w) is taken


def test_rows_and_examples_are_transposes():
    rng = np.random.default_rng(3)
    y = rng.standard_normal((4, 3, 5)).astype(np.float32)
    bias = rng.standard_normal(3).astype(np.float32)
    rows = np.full((3, 20), np.nan, np.float32)
    conv_columns._examples_to_rows(y, rows, 0, 4)
    np.testing.assert_array_equal(rows, y.transpose(1, 0, 2).reshape(3, 20))
    back = np.full(y.shape, np.nan, np.float32)
    conv_columns._rows_to_examples(rows, bias, True, back, 0, 4, 0)
    np.testing.assert_array_equal(back, y + bias[:, None])
    conv_columns._rows_to_examples(rows, bias, False, back, 0, 4, 0)
    np.testing.assert_array_equal(back, y)
    back[:] = np.nan
    conv_columns._rows_to_examples(np.ascontiguousarray(rows[:, 10:]), bias, False, back, 2, 4, 2)
    np.testing.assert_array_equal(back[2:], y[2:])
    assert np.isnan(back[:2]).all()


def _run(framework, x, w, b, dy, fn, **options):
    if framework == "torch":
        tensors = [None if a is None else torch.tensor(a, requires_grad=True) for a in (x, w, b)]
        y = getattr(torch.nn.functional, fn)(*tensors, **options)
        y.backward(torch.tensor(dy))
        return [y.detach().numpy()] + [None if t is None else t.grad.numpy() for t in tensors]
    tensors = [None if a is None else g.tensor(a, dtype=a.dtype, requires_grad=True) for a in (x, w, b)]
    y = getattr(g.nn.functional, fn)(*tensors, **options)
    y.backward(g.tensor(dy, dtype=dy.dtype))
    return [y.detach().numpy()] + [None if t is None else t.grad.numpy() for t in tensors]


CASES = [  # (fn, x shape, w shape, options)
    ("conv2d", (5, 3, 9, 8), (4, 3, 3, 3), dict(padding=1)),
    ("conv2d", (4, 2, 11, 10), (6, 2, 3, 2), dict(stride=(2, 3), padding=(2, 1), dilation=(1, 2))),
    ("conv2d", (3, 4, 6, 6), (5, 4, 1, 1), dict(stride=2)),
    ("conv2d", (2, 3, 7, 7), (4, 3, 2, 2), dict(padding="same")),  # (lo, hi) pads differ
    ("conv1d", (4, 3, 20), (5, 3, 3), dict(stride=2, padding=1)),
    ("conv1d", (3, 2, 15), (4, 2, 4), dict(dilation=2)),
    ("conv2d", (3, 2, 9, 12), (4, 2, 3, 5), {}),  # unpadded, stride 1, short rows: the columns laid out wide
    ("conv1d", (3, 2, 14), (4, 2, 5), {}),  # the same in 1-D
    ("conv_transpose2d", (3, 3, 5, 4), (3, 4, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ("conv_transpose2d", (2, 2, 4, 5), (2, 3, 3, 2), dict(stride=(1, 2), padding=(0, 1), dilation=(2, 1))),
    ("conv_transpose2d", (2, 2, 4, 4), (2, 3, 3, 3), dict(output_padding=1, dilation=2)),  # positions no window reaches
    ("conv_transpose1d", (3, 3, 7), (3, 4, 3), dict(stride=3, padding=1, output_padding=2)),
]


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("fn, x_shape, w_shape, options", CASES)
def test_batch_columns_route_equals_numpy_route_and_torch(fn, x_shape, w_shape, options, bias, dtype, threads,
                                                          monkeypatch, call_spy):
    monkeypatch.setattr(conv_columns, "COLUMNS_PER_CHUNK", 1)  # every example a chunk of its own,
    monkeypatch.setattr(conv_columns, "MIN_WORK_PER_THREAD", 1)  # shared over the threads however small,
    monkeypatch.setattr(conv_columns, "PIECE_BYTES", 1)  # and columns made one example at a time
    from ganglion.kernels import conv_direct

    monkeypatch.setattr(conv_direct, "MAX_OUT_CHANNELS", 0)  # the columns, not the direct loops (test_nn_conv_direct)
    rng = np.random.default_rng(4)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    out_channels = w_shape[1] if "transpose" in fn else w_shape[0]
    b = rng.standard_normal(out_channels).astype(dtype) if bias else None
    y_shape = getattr(torch.nn.functional, fn)(torch.tensor(x), torch.tensor(w), None, **options).shape
    dy = rng.standard_normal(tuple(y_shape)).astype(dtype)
    calls = call_spy(conv_columns, "conv2d_forward", "conv2d_backward")
    g.set_num_threads(threads)
    batch = _run("ganglion", x, w, b, dy, fn, **options)
    assert len(calls) == 2, "the batch-columns route was not taken for forward and backward"
    monkeypatch.setattr(conv_module, "_batch_columns_route", lambda *a: False)
    monkeypatch.setattr(conv_module, "_batch_columns_transposed_route", lambda *a: False)
    reference = _run("ganglion", x, w, b, dy, fn, **options)
    assert_results_match(batch, [reference, _run("torch", x, w, b, dy, fn, **options)], dtype)


def test_only_the_asked_gradients_and_nothing_kept_without_a_weight_gradient():
    rng = np.random.default_rng(5)
    x = g.tensor(rng.standard_normal((3, 2, 6, 6)), requires_grad=True)
    w = g.tensor(rng.standard_normal((4, 2, 3, 3)))  # a frozen weight
    y = g.nn.functional.conv2d(x, w, padding=1)
    assert y.grad_fn.saved[1] is None  # x is kept only for dW
    y.sum().backward()
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    torch.nn.functional.conv2d(tx, torch.tensor(w.numpy()), padding=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-5)
    with g.no_grad():
        y_eval = g.nn.functional.conv2d(x, w, padding=1)
    np.testing.assert_allclose(y_eval.numpy(), y.detach().numpy(), rtol=0, atol=0)


@pytest.mark.parametrize("out_channels", [2, 4])  # the offsets route (fewer out than in channels), batch columns
@pytest.mark.parametrize("fn", ["conv2d", "conv_transpose2d"])
def test_an_empty_batch_gives_empty_results_like_torch(out_channels, fn):
    x = np.zeros((0, 3, 5, 5), np.float32)
    w = np.ones((out_channels, 3, 3, 3) if fn == "conv2d" else (3, out_channels, 3, 3), np.float32)
    dy = np.zeros((0, out_channels, 5, 5), np.float32)
    got = _run("ganglion", x, w, None, dy, fn, padding=1)
    want = _run("torch", x, w, None, dy, fn, padding=1)
    for a, b in zip(got[:3], want[:3]):
        assert a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def test_a_float16_convolution_stays_on_the_numpy_route():
    x = g.tensor(np.ones((1, 1, 4, 4)), dtype=g.float16)
    w = g.tensor(np.ones((1, 1, 3, 3)), dtype=g.float16)
    assert not conv_module._batch_columns_route(x.numpy(), w.numpy(), 1, conv_module.Layout(
        (4, 4), (3, 3), (1, 1), (1, 1), (2, 2)))
    assert g.nn.functional.conv2d(x, w).numpy().tolist() == [[[[9.0, 9.0], [9.0, 9.0]]]]


def test_changing_x_in_place_after_forward_is_refused_in_backward_like_torch():
    """x is kept for dW (not a copy of its columns): an in-place change to it must make backward refuse."""
    rng = np.random.default_rng(6)
    x = g.tensor(rng.standard_normal((2, 3, 5, 5)))
    w = g.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    y = g.nn.functional.conv2d(x, w, padding=1)
    x.add_(1.0)
    with pytest.raises(RuntimeError, match="in-?place|modified"):
        y.sum().backward()
    tx = torch.tensor(rng.standard_normal((2, 3, 5, 5)))
    tw = torch.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    ty = torch.nn.functional.conv2d(tx, tw, padding=1)
    tx.add_(1.0)
    with pytest.raises(RuntimeError, match="inplace"):
        ty.sum().backward()
