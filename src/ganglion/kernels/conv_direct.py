"""Stride-1 2-D convolutions with few output channels, computed directly: no columns, no matrix product.

LeNet-5's first layer (1 -> 6 channels, 5x5, padding 2) and the CIFAR tutorials' (3 -> 6, 5x5) make products
(out, C kh kw) x (C kh kw, L) with 6 rows: too short for BLAS (10-15 G multiply-adds/s here), after a copy of the
columns. Here each example is padded once into a flat work array whose rows are the padded width ``wp`` long, so
that the input under kernel offset (i, j) for all of an example's outputs is one run of it, starting at i wp + j:

    yw[o, p] = sum over c, i, j of w[o, c, i, j] xp[c, i wp + j + p],   p < L = oh wp,

a "wide" output with wp - ow columns of each row that nobody keeps (``kernels.conv_columns`` lays LeNet's second
layer out the same way). Each tap is one long multiply-add of two runs, which LLVM vectorizes; the weight gradient is
the same runs' dot products with dy laid out wide (zero in the extra columns):

    dW[o, c, i, j] = sum over examples and p of dyw[o, p] xp[c, i wp + j + p].

One thread, batch 64 (median of 15 calls, forward; ``benchmarks/README.md``, "Eighth session"): 1 -> 6, 5x5, 28x28,
padding 2: 0.63-0.79 ms against the columns route's 0.99-1.05 ms; 1 -> 4: 0.32 against 0.66; 6 -> 6 on 14x14:
0.77 against 1.04; 3 -> 6 on 32x32: 3.1 against 3.8. From 8 output channels the columns route is as fast (1 -> 8:
1.06 against 1.00 ms) and from 16 faster (1 -> 16: 2.1 against 1.5 ms): hence ``MAX_OUT_CHANNELS``. The weight
gradient alone reads instead of writing, and wins with more output channels: ``MAX_WEIGHT_GRAD_ROWS``. The reference is
the columns route, and the loops run by Python (``.py_func``): tests/nn/test_nn_conv_direct.py.

This module imports numba when imported (``register_jitable``), so import it only after ``kernels.usable`` said yes.
"""

from functools import partial

import numpy as np
from numba.extending import register_jitable

from ..memory import Workspace
from . import compiled
from .conv_columns import _chunks, _in_order, _run_tasks

MAX_OUT_CHANNELS = 6
"""The most output channels the forward takes (see the measurements above)."""

MAX_WEIGHT_GRAD_ROWS = 75
"""The weight gradient alone (a first layer: the input needs none) goes by the dot products up to this many rows of
columns, C kh kw, and ``MAX_WIDE_DY_BYTES`` of dy laid out wide per example (read once per input channel and offset,
so it should stay in cache). One thread, batch 32-64, dW against the columns route's backward: 1 -> 32 3x3 on 28x28
0.62x, 1 -> 64 0.56x, 1 -> 32 5x5 0.72x, 3 -> 16 3x3 on 32x32 (a ResNet stem) 0.86-0.91x, 3 -> 64 0.84x, 3 -> 128
0.67x, 3 -> 32 5x5 0.83-1.09x; 3 -> 64 7x7 on 64x64 (147 rows, 1.1 MB of dy a row set) 1.83x."""

MAX_WIDE_DY_BYTES = 1 << 19

_FUSED = {"contract"}
"""The multiply-adds may be fused (one rounding instead of two, as BLAS's are): nothing reordered."""

_REORDER_SUMS = {"reassoc", "contract"}
"""The dot products may be summed in vector lanes (a different order than one chain, as BLAS's is)."""


def applies(geo, out_channels):
    """True for the 2-D convolutions (``conv_columns.geometry``'s ``geo``) this route computes: stride 1, dilation 1,
    at most ``MAX_OUT_CHANNELS`` output channels."""
    kh, kw, sh, sw, ph, pw, dh, dw, oh, ow = geo
    return sh == sw == dh == dw == 1 and out_channels <= MAX_OUT_CHANNELS


def weight_grad_applies(geo, channels, out_channels, itemsize):
    """True when ``weight_grad`` computes dW alone (no dx) for a stride-1, dilation-1 convolution of ``channels``
    input channels: few rows of columns and dy's wide rows small (``MAX_WEIGHT_GRAD_ROWS``)."""
    kh, kw, sh, sw, ph, pw, dh, dw, oh, ow = geo
    wide_dy_bytes = out_channels * oh * (ow + kw - 1) * itemsize
    return (sh == sw == dh == dw == 1 and channels * kh * kw <= MAX_WEIGHT_GRAD_ROWS
            and wide_dy_bytes <= MAX_WIDE_DY_BYTES)


def _wide_sizes(geo, channels):
    """(wp, plane, L): the padded width, the length of one channel's padded plane in the work array (with kw - 1
    elements of slack, so that the last taps' runs stay inside it), and the wide positions oh wp."""
    kh, kw, oh, ow = geo[0], geo[1], geo[-2], geo[-1]
    wp = ow + kw - 1
    return wp, (oh + kh - 1) * wp + kw - 1, oh * wp


# The loops index flat arrays with unsigned offsets (see ``kernels.conv_columns``): written over 1-D slices, the
# forward of LeNet-5's first layer took 1.37x as long.

@register_jitable
def _pad_wide(x, n, ph, pw, rows, wp, xp):
    """xp[c, (h + ph) wp + q + pw] = x[n, c, h, q] where that lies inside the ``rows`` x ``wp`` padded plane, 0
    elsewhere. x: (N, C, H, W); xp: (C, plane); both C-contiguous."""
    channels, height, width = x.shape[1], x.shape[2], x.shape[3]
    plane = xp.shape[1]
    x_flat, xp_flat = x.reshape(-1), xp.reshape(-1)
    for t in range(np.uint64(xp_flat.size)):
        xp_flat[t] = 0
    q_lo, q_hi = max(0, -pw), min(width, wp - pw)
    for c in range(channels):
        for h in range(max(0, -ph), min(height, rows - ph)):
            dst = np.uint64(c * plane + (h + ph) * wp + pw)
            src = np.uint64(((n * channels + c) * height + h) * width)
            for q in range(np.uint64(q_lo), np.uint64(q_hi)):
                xp_flat[dst + q] = x_flat[src + q]


@compiled(parallel=False, fastmath=_FUSED)
def _forward_examples(x, w, bias, add_bias, y, first, last, ph, pw, xp, yw):
    """y[n] for the examples n in [first, last) (see the module's docstring). w: (out, C, kh, kw); y: (N, out, oh,
    ow); xp: (C, plane) and yw: (out, >= oh wp) work arrays; all C-contiguous."""
    out, channels, kh, kw = w.shape
    oh, ow = y.shape[2], y.shape[3]
    wp = ow + kw - 1
    positions, plane, row_length = oh * wp, xp.shape[1], yw.shape[1]
    w_flat, y_flat, xp_flat, yw_flat = w.reshape(-1), y.reshape(-1), xp.reshape(-1), yw.reshape(-1)
    for n in range(first, last):
        _pad_wide(x, n, ph, pw, oh + kh - 1, wp, xp)
        for o in range(out):
            dst = np.uint64(o * row_length)
            for p in range(np.uint64(positions)):
                yw_flat[dst + p] = 0
            for c in range(channels):
                for i in range(kh):
                    for j in range(kw):
                        a = w_flat[((o * channels + c) * kh + i) * kw + j]
                        src = np.uint64(c * plane + i * wp + j)
                        for p in range(np.uint64(positions)):
                            yw_flat[dst + p] += a * xp_flat[src + p]
            b = bias[o] if add_bias else 0
            for h in range(oh):
                row, to_y = dst + np.uint64(h * wp), np.uint64(((n * out + o) * oh + h) * ow)
                for q in range(np.uint64(ow)):
                    y_flat[to_y + q] = yw_flat[row + q] + b


@compiled(parallel=False, fastmath=_REORDER_SUMS)
def _weight_grad_examples(dy, x, grad, first, last, ph, pw, xp, dyw, zero):
    """grad[o, c, i, j] += sum over the examples n in [first, last) of dy[n, o] and x[n, c] under offset (i, j).
    dy: (N, out, oh, ow); x: (N, C, H, W); grad: (out, C, kh, kw); xp: (C, plane) and dyw: (out, >= oh wp) work
    arrays; all C-contiguous. ``zero``: 0 in dy's dtype, which the dot products sum in."""
    out, channels, kh, kw = grad.shape
    oh, ow = dy.shape[2], dy.shape[3]
    wp = ow + kw - 1
    positions, plane, row_length = oh * wp, xp.shape[1], dyw.shape[1]
    grad_flat, dy_flat, xp_flat, dyw_flat = grad.reshape(-1), dy.reshape(-1), xp.reshape(-1), dyw.reshape(-1)
    for n in range(first, last):
        _pad_wide(x, n, ph, pw, oh + kh - 1, wp, xp)
        for o in range(out):
            dst = np.uint64(o * row_length)
            for p in range(np.uint64(positions)):
                dyw_flat[dst + p] = 0
            for h in range(oh):
                row, from_dy = dst + np.uint64(h * wp), np.uint64(((n * out + o) * oh + h) * ow)
                for q in range(np.uint64(ow)):
                    dyw_flat[row + q] = dy_flat[from_dy + q]
            for c in range(channels):
                for i in range(kh):
                    for j in range(kw):
                        src = np.uint64(c * plane + i * wp + j)
                        total = zero
                        for p in range(np.uint64(positions)):
                            total += dyw_flat[dst + p] * xp_flat[src + p]
                        grad_flat[((o * channels + c) * kh + i) * kw + j] += total


def conv2d_forward(x, w, bias, geo):
    """y (N, out, oh, ow), a new array, for x (N, C, H, W), w (out, C, kh, kw) and bias (out,) or None; ``geo``
    from ``conv_columns.geometry`` (``applies`` true)."""
    x, w = np.ascontiguousarray(x), np.ascontiguousarray(w)
    n, channels = x.shape[:2]
    out = w.shape[0]
    oh, ow = geo[-2:]
    wp, plane, positions = _wide_sizes(geo, channels)
    y = np.empty((n, out, oh, ow), dtype=x.dtype)
    has_bias = bias is not None
    bias_values = bias if has_bias else np.zeros(out, dtype=x.dtype)

    def examples(first, last):
        scratch = Workspace(np)
        _forward_examples(x, w, bias_values, has_bias, y, first, last, geo[4], geo[5],
                          scratch.empty((channels, plane), x.dtype), scratch.empty((out, positions), x.dtype))
        scratch.release()

    tasks = [partial(examples, *chunk) for chunk in _chunks(n, 1)]
    _run_tasks(tasks, w.size * n * positions)
    return y


def weight_grad(dy, x, w_shape, geo):
    """dW (out, C, kh, kw), a new array, of ``conv2d_forward`` for its input x (N, C, H, W) and dy (N, out, oh, ow).
    Each chunk of examples sums its own share; the shares are added in the chunks' order (the same bits whichever
    thread took which chunk)."""
    dy, x = np.ascontiguousarray(dy), np.ascontiguousarray(x)
    n, channels = x.shape[:2]
    out = dy.shape[1]
    wp, plane, positions = _wide_sizes(geo, channels)
    shares = {}

    def examples(first, last):
        scratch = Workspace(np)
        share = np.zeros(w_shape, dtype=dy.dtype)
        _weight_grad_examples(dy, x, share, first, last, geo[4], geo[5], scratch.empty((channels, plane), x.dtype),
                              scratch.empty((out, positions), dy.dtype), dy.dtype.type(0))
        shares[first] = share
        scratch.release()

    tasks = [partial(examples, *chunk) for chunk in _chunks(n, 1)]
    _run_tasks(tasks, int(np.prod(w_shape)) * n * positions)
    return _in_order(shares, tuple(w_shape), dy.dtype)


__all__ = ["applies", "weight_grad_applies", "conv2d_forward", "weight_grad", "MAX_OUT_CHANNELS",
           "MAX_WEIGHT_GRAD_ROWS"]
