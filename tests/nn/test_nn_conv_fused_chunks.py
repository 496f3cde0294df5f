"""A convolution's chunk of examples as one compiled call (``_forward_chunk``/``_backward_chunk`` of
``kernels.conv_columns`` and ``kernels.winograd``, which multiply through ``kernels.blas``) against the Python loop
over the same pieces (``blas.ENABLED = False``): the output and the input gradient are the same bits (the same BLAS
calls on the same arrays), the weight gradient the same sums in another rounding order; every im2col layout, float32
and float64, 1-3 threads, pieces and chunks of one example and of several."""

import numpy as np
import pytest

import ganglion as g
from ganglion import kernels
from ganglion.kernels import blas, conv_columns, conv_direct, winograd

pytestmark = pytest.mark.skipif(
    not kernels.available() or blas.gemm(np.float32) is None,
    reason="compiled kernels are off, or NumPy's BLAS has no cblas gemm to call from them")

CASES = {  # name: (x shape, out channels, conv2d options, the route's module, the layout the columns take)
    "columns, rows": ((3, 2, 7, 6), 4, dict(stride=2, padding=1), conv_columns, conv_columns.ROWS),
    "columns, flat rows": ((3, 2, 6, 5), 3, dict(padding=1), conv_columns, conv_columns.FLAT_ROWS),
    "columns, wide rows": ((4, 3, 11, 12), 5, dict(), conv_columns, conv_columns.WIDE_ROWS),
    "winograd": ((3, 4, 7, 5), 4, dict(padding=1), winograd, None),
}


def _gradients(x, w, b, dy, options):
    tensors = [g.tensor(a, dtype=a.dtype, requires_grad=True) for a in (x, w, b)]
    y = g.nn.functional.conv2d(*tensors, **options)
    y.backward(g.tensor(dy, dtype=dy.dtype))
    return [y.detach().numpy().copy()] + [t.grad.numpy().copy() for t in tensors]


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("small_pieces", [True, False])
@pytest.mark.parametrize("case", list(CASES))
def test_a_chunk_in_one_call_equals_the_python_loop(case, small_pieces, dtype, threads, monkeypatch, call_spy):
    x_shape, out_channels, options, route, layout = CASES[case]
    kernel = 5 if case == "columns, wide rows" else 3
    monkeypatch.setattr(winograd, "MIN_CHANNELS", 1 if route is winograd else 10**6)
    monkeypatch.setattr(conv_columns, "MIN_WORK_PER_THREAD", 1)  # shared over the threads however small
    monkeypatch.setattr(conv_direct, "MAX_OUT_CHANNELS", 0)  # few output channels: not the direct route
    monkeypatch.setattr(conv_direct, "MAX_WEIGHT_GRAD_ROWS", 0)
    monkeypatch.setattr(conv_columns, "WIDE_MAX_OUTPUT_WIDTH", 16 if layout == conv_columns.WIDE_ROWS else 0)
    if small_pieces:  # one example a piece and a chunk: many pieces, many chunks
        for module, names in ((conv_columns, ("PIECE_BYTES", "COLUMNS_PER_CHUNK")),
                              (winograd, ("PIECE_BYTES", "TILES_PER_PIECE", "TILES_PER_CHUNK"))):
            for name in names:
                monkeypatch.setattr(module, name, 1)
    if layout is not None:
        layouts = []
        original = conv_columns._layout
        monkeypatch.setattr(conv_columns, "_layout", lambda *a: layouts.append(original(*a)) or layouts[-1])
    rng = np.random.default_rng(3)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal((out_channels, x_shape[1], kernel, kernel)).astype(dtype)
    b = rng.standard_normal(out_channels).astype(dtype)
    y_shape = g.nn.functional.conv2d(g.tensor(x), g.tensor(w), **options).shape
    dy = rng.standard_normal(tuple(y_shape)).astype(dtype)
    g.set_num_threads(threads)  # tests/global_state.py restores the count after the test

    spy = call_spy(route, "_forward_chunk", "_backward_chunk")
    fused = _gradients(x, w, b, dy, options)
    assert "_forward_chunk" in spy and "_backward_chunk" in spy
    if layout is not None:
        assert set(layouts) == {layout}
    spy.clear()
    monkeypatch.setattr(blas, "ENABLED", False)
    by_python = _gradients(x, w, b, dy, options)
    assert not spy

    (y, dx, dw, db), (y_ref, dx_ref, dw_ref, db_ref) = fused, by_python
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(dx, dx_ref)
    np.testing.assert_array_equal(db, db_ref)
    tolerance = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(dw, dw_ref, rtol=tolerance, atol=tolerance * np.abs(dw_ref).max())
    assert all(a.dtype == dtype for a in fused)


def test_only_the_weight_or_only_the_input_gradient(monkeypatch, call_spy):
    """Backward's chunk skips the half nobody asked for (x not kept when W is frozen, and the reverse)."""
    monkeypatch.setattr(winograd, "MIN_CHANNELS", 1)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    for route, options in ((winograd, dict(padding=1)), (conv_columns, dict(padding=1, stride=2))):
        spy = call_spy(route, "_backward_chunk")
        for wants_x in (True, False):
            xt = g.tensor(x, requires_grad=wants_x)
            wt = g.tensor(w, requires_grad=not wants_x)
            g.nn.functional.conv2d(xt, wt, **options).sum().backward()
            with monkeypatch.context() as switched_off:
                switched_off.setattr(blas, "ENABLED", False)
                xr = g.tensor(x, requires_grad=wants_x)
                wr = g.tensor(w, requires_grad=not wants_x)
                g.nn.functional.conv2d(xr, wr, **options).sum().backward()
            got, want = (xt.grad, xr.grad) if wants_x else (wt.grad, wr.grad)
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-5)
            assert (xt.grad is None) != wants_x and (wt.grad is None) == wants_x
        assert spy == ["_backward_chunk", "_backward_chunk"]
