"""2-D convolutions over the whole batch's columns: compiled im2col/col2im, and one product per chunk of examples.

``nn.functional.conv``'s NumPy route multiplies W by one example's columns at a time: (out, C K) x (C K, L). With the
small spatial sizes of a CNN's later layers these products are thin (a quarter-width ResNet-18's last stage: L = 16
positions, 4.71 ms for a 151 M multiply-add forward, ~32 GFLOP/s), and the strided NumPy copy that builds the columns
runs at 1.3 GB/s when a window row is 4 elements long (1.8 ms for that layer's 0.6 M columns: more than the product).
Here the columns of several examples sit side by side, ``cols[(c, i, j), (n, p, q)]``, (C K, piece L), built by a
compiled loop that handles the padding itself (no padded copy of x); a piece of examples is then one product
(out, C K) x (C K, piece L), wide enough for BLAS's full speed, and small enough (``PIECE_BYTES``) to be read back
from the cache. Everything is shared over ganglion's threads by ``kernels.parallel_ranges`` with single-threaded BLAS
inside (see ``kernels.conv`` for why). A thread's chunk of examples is one compiled call (``_forward_chunk``,
``_backward_chunk``: the copies and, through ``kernels.blas``, the products), so that it holds no GIL from its first
piece to its last; where NumPy's BLAS cannot be called from a kernel, the same pieces run as a Python loop.

Geometry ``geo``: (kh, kw, sh, sw, ph, pw, dh, dw, oh, ow) -- kernel, stride, leading padding, dilation, output
size. Output position (p, q) of kernel offset (i, j) reads x[p sh - ph + i dh, q sw - pw + j dw], zero outside x.

forward:   cols = im2col(x);  y[n, o, l] = sum_r W[o, r] cols[r, n L + l] + b[o]          (piece by piece)
backward:  dy_rows[o, n L + l] = dy[n, o, l];  db = sum of dy_rows' rows;
           dW = sum over pieces of dy_rows cols^T (cols rebuilt from x);  dx = col2im(W^T dy_rows), piece by piece.
The reference for each compiled loop is the same loop run by Python (``.py_func``) and, for the whole route, the
NumPy route of ``nn.functional.conv`` (``GANGLION_COMPILED=0``): tests/nn/test_nn_conv_columns.py.
"""

from functools import partial

import numpy as np

from ..memory import Workspace
from . import blas, compiled, get_num_threads, parallel_ranges
from .blas import NO_TRANS, TRANS, product
from .conv import MIN_WORK_PER_THREAD, _SingleThreadedBlas

COLUMNS_PER_CHUNK = 256
"""A chunk of examples gets at least this many output positions: its products (out, C K) x (C K, chunk L) then run
near BLAS's large-product speed (one thread, (128, 1152) x (1152, 256): ~70 GFLOP/s against ~45 at 16 columns)."""


PIECE_BYTES = 1 << 18
"""Columns are made and used a few examples at a time, about this many bytes of them, read back while in cache: they
never exist whole, and backward rebuilds them from x. Spreading dx this way (W^T dy then col2im) took the backward of
one 16x32x32 -> 16 layer at batch 32 from 14.7 to 12.5 ms on two threads (AMD VM, 512 KB pieces, best of 11; 256 KB
and 128 KB pieces lost up to 10% on the 128x4x4 layer, which Winograd's route takes now). On the Xeon VM of the
eleventh session 256 KB pieces won, paired call by call against 512 KB: LeNet-5's step 0.981x and 0.964x (A against A
1.006, 0.993), the quarter-width ResNet-18's 0.988x and 0.994x (0.999, 0.995); 128 KB lost (ResNet 1.013x)."""


def _valid_columns(geo, width):
    """For each kernel column j: the output columns q in [lo[j], hi[j]) whose input column q sw - pw + j dw lies in
    [0, width); the others read padding. Two int64 arrays of length kw."""
    kh, kw, sh, sw, ph, pw, dh, dw, oh, ow = geo
    lo, hi = np.zeros(kw, np.int64), np.zeros(kw, np.int64)
    for j in range(kw):
        offset = j * dw - pw
        first = 0 if offset >= 0 else -(offset // sw)  # ceil(-offset / sw)
        stop = (width - 1 - offset) // sw + 1 if width - 1 - offset >= 0 else 0
        lo[j] = min(first, ow)
        hi[j] = max(min(stop, ow), lo[j])
    return lo, hi


# The loops below index flat arrays with unsigned offsets: numba checks a signed index for a negative value (Python's
# wraparound) on every access, which kept the copies from vectorizing; unsigned, im2col ran 4-8x faster and beat
# NumPy's strided copy (16x32x32 inputs, batch 32: 1.52 ms against 1.66 ms; 128x4x4: 0.65 ms against 1.09 ms).

@compiled(parallel=False)
def _im2col(x, cols, first, last, base, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, q_lo, q_hi):
    """cols[(c kh + i) kw + j, (n - base) L + p ow + q] = x[n, c, p sh - ph + i dh, q sw - pw + j dw] (0 outside x),
    for the examples n in [first, last). x: (N, C, H, W), cols: (C kh kw, >= (last - base) L), both C-contiguous;
    L = oh ow."""
    channels, height, width = x.shape[1], x.shape[2], x.shape[3]
    positions, row_length = oh * ow, cols.shape[1]
    x_flat, cols_flat = x.reshape(-1), cols.reshape(-1)
    step = np.uint64(sw)
    for c in range(channels):
        for i in range(kh):
            for j in range(kw):
                row = (c * kh + i) * kw + j
                for n in range(first, last):
                    for p in range(oh):
                        h = p * sh - ph + i * dh
                        inside = 0 <= h < height
                        lo, hi = (q_lo[j], q_hi[j]) if inside else (ow, ow)
                        dst = np.uint64(row * row_length + (n - base) * positions + p * ow)
                        for q in range(np.uint64(lo)):
                            cols_flat[dst + q] = 0
                        for q in range(np.uint64(hi), np.uint64(ow)):
                            cols_flat[dst + q] = 0
                        if not inside or hi == lo:
                            continue
                        src = np.uint64(((n * channels + c) * height + h) * width + j * dw - pw + lo * sw)
                        dst += np.uint64(lo)
                        if sw == 1:
                            for t in range(np.uint64(hi - lo)):
                                cols_flat[dst + t] = x_flat[src + t]
                        else:
                            for t in range(np.uint64(hi - lo)):
                                cols_flat[dst + t] = x_flat[src + t * step]


@compiled(parallel=False)
def _col2im(dcols, dx, first, last, base, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, q_lo, q_hi):
    """The adjoint of ``_im2col`` for the examples n in [first, last): dx[n] = 0, then every column value is added to
    the input element it was read from. dcols: (C kh kw, >= (last - base) L), dx: (N, C, H, W), both C-contiguous."""
    channels, height, width = dx.shape[1], dx.shape[2], dx.shape[3]
    positions, row_length = oh * ow, dcols.shape[1]
    dx_flat, dcols_flat = dx.reshape(-1), dcols.reshape(-1)
    step = np.uint64(sw)
    for n in range(first, last):
        for c in range(channels):
            plane = (n * channels + c) * height * width
            for t in range(np.uint64(height * width)):
                dx_flat[np.uint64(plane) + t] = 0
            for i in range(kh):
                for j in range(kw):
                    row = (c * kh + i) * kw + j
                    lo, hi = q_lo[j], q_hi[j]
                    for p in range(oh):
                        h = p * sh - ph + i * dh
                        if h < 0 or h >= height or hi == lo:
                            continue
                        src = np.uint64(row * row_length + (n - base) * positions + p * ow + lo)
                        dst = np.uint64(plane + h * width + j * dw - pw + lo * sw)
                        if sw == 1:
                            for t in range(np.uint64(hi - lo)):
                                dx_flat[dst + t] += dcols_flat[src + t]
                        else:
                            for t in range(np.uint64(hi - lo)):
                                dx_flat[dst + t * step] += dcols_flat[src + t]


# Stride 1 with the output as wide as the input ("same" convolutions): consecutive output rows read consecutive input
# rows, so one kernel offset's columns for one example are one contiguous run of x, shifted by the offset, with the
# padding columns fixed up afterwards (one or two per row). The row-by-row loop pays ~12 ns of set-up per row whatever
# its length; measured on a quarter-width ResNet-18's layers, batch 32, one thread, best of 15, twice: 32x16x16
# 1.19-2.01 -> 0.62-0.92 ms, 64x8x8 1.60-1.68 -> 0.65-0.85 ms, 128x4x4 0.91-1.56 -> 0.53-1.10 ms, 16x32x32 (bound
# by memory: 19 MB of columns) 1.88-1.91 -> 1.99-2.12 ms. The same trick for col2im (zero dcols' padding columns,
# then add each run) measured no faster, and is not used.

def _flat_rows(geo, width):
    """True when ``_im2col_flat`` applies: stride 1 and the output as wide as the input."""
    return geo[2] == 1 and geo[3] == 1 and geo[-1] == width


@compiled(parallel=False)
def _im2col_flat(x, cols, first, last, base, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, q_lo, q_hi):
    """``_im2col`` when ``_flat_rows``: per kernel offset and example, one run of x copied, then the rows outside x
    and the padding columns set to 0."""
    channels, height, width = x.shape[1], x.shape[2], x.shape[3]
    positions, row_length, plane_size = oh * ow, cols.shape[1], height * width
    x_flat, cols_flat = x.reshape(-1), cols.reshape(-1)
    for c in range(channels):
        for i in range(kh):
            p_lo, p_hi = min(max(0, ph - i * dh), oh), min(max(0, height + ph - i * dh), oh)  # rows inside x
            for j in range(kw):
                row = (c * kh + i) * kw + j
                lo, hi, offset = q_lo[j], q_hi[j], j * dw - pw
                for n in range(first, last):
                    start = row * row_length + (n - base) * positions
                    dst = np.uint64(start)
                    for t in range(np.uint64(p_lo * ow)):
                        cols_flat[dst + t] = 0
                    for t in range(np.uint64(p_hi * ow), np.uint64(positions)):
                        cols_flat[dst + t] = 0
                    if p_hi <= p_lo:
                        continue
                    plane = (n * channels + c) * plane_size
                    src = plane + (p_lo - ph + i * dh) * width + offset  # x's index for (p_lo, q = 0)
                    begin = max(0, plane - src)  # a run clipped to x's plane loses only padding columns
                    end = min((p_hi - p_lo) * ow, plane + plane_size - src)
                    d, s_ = np.uint64(start + p_lo * ow + begin), np.uint64(src + begin)
                    for t in range(np.uint64(max(end - begin, 0))):
                        cols_flat[d + t] = x_flat[s_ + t]
                    for p in range(p_lo, p_hi):
                        d = np.uint64(start + p * ow)
                        for q in range(np.uint64(lo)):
                            cols_flat[d + q] = 0
                        for q in range(np.uint64(hi), np.uint64(ow)):
                            cols_flat[d + q] = 0


# Short output rows without padding (LeNet-5's second layer: 10 outputs a row from 14 inputs, 5x5 kernel): the
# row-by-row loops above copy runs of 10 at ~12 ns of set-up each. Laid out "wide", an example's columns have one
# column per input position of its output rows (oh x W instead of oh x ow): one kernel offset's columns are then one
# run of x, and the W - ow columns of each row that read past its end are products nobody keeps (dropped when y is
# laid out, zero in dy's rows, so they add nothing to dW or dx). 1.4x the products for LeNet's layer, but in the
# network (batch 64, paired call by call) its forward took 1.56 instead of 1.87 ms and its backward 3.33 instead of
# 3.51 (per piece of the backward: im2col 70 -> 18 us, col2im 59 -> 24 us, the two products 166 us either way for
# fewer examples); the MNIST example's 32 -> 64 layer on 26x26 (24 outputs a row) gained nothing, and a 1 -> 32 layer
# on 28x28 lost 1.2-1.6x: hence ``WIDE_MAX_OUTPUT_WIDTH`` and the 1.5x bound on the extra product (``wide_rows``).

WIDE_MAX_OUTPUT_WIDTH = 16
"""The widest output row that ``wide_rows`` lays out wide: from 24 a row the runs are long enough already."""


def wide_rows(geo, height, width):
    """True when the columns of a convolution of a (height, width) input are laid out wide (see above): stride 1,
    dilation 1, no padding, output rows at most ``WIDE_MAX_OUTPUT_WIDTH`` long and the product at most 1.5x."""
    kh, kw, sh, sw, ph, pw, dh, dw, oh, ow = geo
    return (sh == sw == dh == dw == 1 and ph == pw == 0 and oh == height - kh + 1 and ow == width - kw + 1
            and ow <= WIDE_MAX_OUTPUT_WIDTH and 2 * (kw - 1) <= ow)


@compiled(parallel=False)
def _im2col_wide(x, cols, first, last, base, kh, kw, oh, ow):
    """cols[(c kh + i) kw + j, (n - base) oh W + t] = x[n, c].flat[i W + j + t] for t < (oh - 1) W + ow (then 0): an
    unpadded stride-1 convolution's columns laid out wide (``wide_rows``), for the examples n in [first, last).
    x: (N, C, H, W), cols: (C kh kw, >= (last - base) oh W), both C-contiguous."""
    channels, height, width = x.shape[1], x.shape[2], x.shape[3]
    positions, run, row_length = oh * width, (oh - 1) * width + ow, cols.shape[1]
    x_flat, cols_flat = x.reshape(-1), cols.reshape(-1)
    for c in range(channels):
        for i in range(kh):
            for j in range(kw):
                row = (c * kh + i) * kw + j
                for n in range(first, last):
                    dst = np.uint64(row * row_length + (n - base) * positions)
                    src = np.uint64(((n * channels + c) * height + i) * width + j)
                    for t in range(np.uint64(run)):
                        cols_flat[dst + t] = x_flat[src + t]
                    for t in range(np.uint64(run), np.uint64(positions)):
                        cols_flat[dst + t] = 0


@compiled(parallel=False)
def _col2im_wide(dcols, dx, first, last, base, kh, kw, oh, ow):
    """The adjoint of ``_im2col_wide`` for the examples n in [first, last), added into dx (the caller zeroes it):
    each kernel offset's run of dcols added to the run of x it was read from. dcols: (C kh kw, >= (last - base) oh W),
    dx: (N, C, H, W)."""
    channels, height, width = dx.shape[1], dx.shape[2], dx.shape[3]
    positions, run, row_length = oh * width, (oh - 1) * width + ow, dcols.shape[1]
    dx_flat, dcols_flat = dx.reshape(-1), dcols.reshape(-1)
    for n in range(first, last):
        for c in range(channels):
            plane = (n * channels + c) * height * width
            for i in range(kh):
                for j in range(kw):
                    src = np.uint64(((c * kh + i) * kw + j) * row_length + (n - base) * positions)
                    dst = np.uint64(plane + i * width + j)
                    for t in range(np.uint64(run)):
                        dx_flat[dst + t] += dcols_flat[src + t]


@compiled(parallel=False)
def _wide_rows_to_examples(rows, bias, add_bias, y, first, last, base, width):
    """y[n, o, p, q] = rows[o, (n - base) oh W + p W + q] (+ bias[o]) for n in [first, last), W = ``width``: the
    wide layout's columns past ow in each output row are dropped. rows: (out, >= (last - base) oh W), y: (N, out,
    oh, ow), both C-contiguous."""
    out, oh, ow = y.shape[1], y.shape[2], y.shape[3]
    rows_flat, y_flat = rows.reshape(-1), y.reshape(-1)
    for n in range(first, last):
        for o in range(out):
            b = bias[o] if add_bias else 0
            for p in range(oh):
                src = np.uint64(o * rows.shape[1] + ((n - base) * oh + p) * width)
                dst = np.uint64(((n * out + o) * oh + p) * ow)
                for q in range(np.uint64(ow)):
                    y_flat[dst + q] = rows_flat[src + q] + b


@compiled(parallel=False)
def _examples_to_wide_rows(y, rows, first, last, width):
    """rows[o, n oh W + p W + q] = y[n, o, p, q], and 0 for q in [ow, W), for n in [first, last), W = ``width``.
    y: (N, out, oh, ow), rows: (out, N oh W), both C-contiguous."""
    out, oh, ow = y.shape[1], y.shape[2], y.shape[3]
    rows_flat, y_flat = rows.reshape(-1), y.reshape(-1)
    for n in range(first, last):
        for o in range(out):
            for p in range(oh):
                src = np.uint64(((n * out + o) * oh + p) * ow)
                dst = np.uint64(o * rows.shape[1] + (n * oh + p) * width)
                for q in range(np.uint64(ow)):
                    rows_flat[dst + q] = y_flat[src + q]
                for q in range(np.uint64(ow), np.uint64(width)):
                    rows_flat[dst + q] = 0


@compiled(parallel=False)
def _rows_to_examples(rows, bias, add_bias, y, first, last, base):
    """y[n, o, l] = rows[o, (n - base) L + l] (+ bias[o]) for n in [first, last). rows: (out, >= (last - base) L),
    y: (N, out, L), both C-contiguous."""
    out, positions = y.shape[1], y.shape[2]
    rows_flat, y_flat = rows.reshape(-1), y.reshape(-1)
    for n in range(first, last):
        for o in range(out):
            b = bias[o] if add_bias else 0
            src = np.uint64(o * rows.shape[1] + (n - base) * positions)
            dst = np.uint64((n * out + o) * positions)
            for t in range(np.uint64(positions)):
                y_flat[dst + t] = rows_flat[src + t] + b


@compiled(parallel=False)
def _examples_to_rows(y, rows, first, last):
    """rows[o, n L + l] = y[n, o, l] for n in [first, last). y: (N, out, L), rows: (out, N L), both C-contiguous."""
    out, positions = y.shape[1], y.shape[2]
    rows_flat, y_flat = rows.reshape(-1), y.reshape(-1)
    for n in range(first, last):
        for o in range(out):
            src = np.uint64((n * out + o) * positions)
            dst = np.uint64(o * rows.shape[1] + n * positions)
            for t in range(np.uint64(positions)):
                rows_flat[dst + t] = y_flat[src + t]


CHUNKS_PER_THREAD = 1
"""How many chunks of examples a convolution makes per thread (``_chunks``). Wider products run faster (a
quarter-width ResNet's 4x4 layer, batch 32, one thread: 13 ms in one chunk, 26 ms in eight). The earlier sessions
made two a thread, so that a thread starting late finds one, or none, rather than a share it must finish alone; with
each chunk one call that holds no GIL (tenth session), one a thread won on the Xeon VM, paired call by call: the
ResNet step 0.978x and 0.979x (A against A 1.001, 0.998), LeNet-5 0.974x (1.008); and with the other core busy two
threads still cost no more than one (``threads_under_load.py --busy``: two / one 1.01x, 1.03x, 1.04x for LeNet-5,
the MNIST MLP and the ResNet, against 1.02x, 0.99x, 1.03x with two a thread)."""


def _chunks(size, smallest):
    """[start, stop) pieces of range(size), at least ``smallest`` long, ``CHUNKS_PER_THREAD`` a thread. A caller
    takes the chunks no pool thread has begun, so a thread that starts late costs at most the chunk it began."""
    length = max(smallest, -(-size // (CHUNKS_PER_THREAD * get_num_threads())), 1)
    return [(start, min(start + length, size)) for start in range(0, size, length)]


def _run_tasks(tasks, multiply_adds):
    """Call every task, with single-threaded BLAS (see ``kernels.conv``); shared over ganglion's threads by
    ``parallel_ranges`` in one hand-off when the products hold ``MIN_WORK_PER_THREAD`` multiply-adds per thread
    (a hand-off to a pool thread cost 0.2-0.6 ms at load 5 on 2 cores: more than LeNet-5's whole second layer)."""
    def work(start, stop):
        for task in tasks[start:stop]:
            task()

    with _SingleThreadedBlas():
        if multiply_adds < 2 * MIN_WORK_PER_THREAD:
            work(0, len(tasks))
        else:
            parallel_ranges(len(tasks), work, 1)


ROWS, FLAT_ROWS, WIDE_ROWS = 0, 1, 2
"""Which im2col a chunk's kernel runs: ``_im2col``, ``_im2col_flat`` (``_flat_rows``) or ``_im2col_wide``."""


def _bounds(valid, wide):
    """The column bounds a chunk's kernel takes: ``_valid_columns``'s, or (None, None) for the wide layout."""
    return (None, None) if wide else valid


def _layout(geo, width, wide):
    """Which im2col the chunks of a convolution of an input ``width`` wide run (``wide``: ``wide_rows`` said so)."""
    return WIDE_ROWS if wide else FLAT_ROWS if _flat_rows(geo, width) else ROWS


@compiled(parallel=False)
def _columns(layout, x, cols, lo, hi, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, q_lo, q_hi):
    """The columns of the examples [lo, hi) into cols, by the im2col of ``layout``. The wide layout comes with q_lo
    and q_hi None (it needs no column bounds): numba then compiles its branch alone, and the others' alone otherwise
    (a first call from an empty cache compiles less)."""
    if q_lo is None:
        _im2col_wide(x, cols, lo, hi, lo, kh, kw, oh, ow)
    elif layout == FLAT_ROWS:
        _im2col_flat(x, cols, lo, hi, lo, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, q_lo, q_hi)
    else:
        _im2col(x, cols, lo, hi, lo, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, q_lo, q_hi)


@compiled(parallel=False)
def _forward_chunk(gemm, layout, x, w2, bias, add_bias, y, cols, products, first, last, per_piece, kh, kw, sh, sw,
                   ph, pw, dh, dw, oh, ow, q_lo, q_hi):
    """``conv2d_forward``'s work on the examples [first, last) as one call, which holds no GIL (``kernels.blas``):
    piece by piece, the columns (``_columns``), W2 times them (``gemm``: NumPy's BLAS), the products laid out as
    y. cols, products: this thread's work arrays, as the Python loop of ``conv2d_forward`` uses them."""
    width = x.shape[3]
    positions = oh * (width if layout == WIDE_ROWS else ow)
    y_rows = y.reshape(y.shape[0], y.shape[1], oh * ow)
    for lo in range(first, last, per_piece):
        hi = min(lo + per_piece, last)
        columns = (hi - lo) * positions
        _columns(layout, x, cols, lo, hi, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, q_lo, q_hi)
        product(gemm, w2, NO_TRANS, cols[:, :columns], NO_TRANS, products[:, :columns], 0.0)
        if q_lo is None:
            _wide_rows_to_examples(products, bias, add_bias, y, lo, hi, lo, width)
        else:
            _rows_to_examples(products, bias, add_bias, y_rows, lo, hi, lo)


@compiled(parallel=False)
def _backward_chunk(gemm, layout, x, w2, dy_rows, dx, dw_t, need_x, need_w, cols, dcols, first, last, per_piece, kh,
                    kw, sh, sw, ph, pw, dh, dw, oh, ow, q_lo, q_hi):
    """``conv2d_backward``'s work on the examples [first, last) as one call, which holds no GIL (``kernels.blas``):
    piece by piece, for dW the columns rebuilt from x and dw_t += cols dy_rows^T (dW^T, the order ``_add_share``
    explains); for dx, dcols = W2^T dy_rows spread back into dx. x, dx: the other one (both are shaped like x)
    where ``need_w``, ``need_x`` is False (not read)."""
    width = x.shape[3]
    positions = oh * (width if layout == WIDE_ROWS else ow)
    started = False
    for lo in range(first, last, per_piece):
        hi = min(lo + per_piece, last)
        columns = (hi - lo) * positions
        dy_piece = dy_rows[:, lo * positions:hi * positions]
        if need_w:
            _columns(layout, x, cols, lo, hi, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, q_lo, q_hi)
            product(gemm, cols[:, :columns], NO_TRANS, dy_piece, TRANS, dw_t, 1.0 if started else 0.0)
            started = True
        if need_x:
            product(gemm, w2, TRANS, dy_piece, NO_TRANS, dcols[:, :columns], 0.0)
            if q_lo is None:
                dx[lo:hi] = 0
                _col2im_wide(dcols, dx, lo, hi, lo, kh, kw, oh, ow)
            else:
                _col2im(dcols, dx, lo, hi, lo, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, q_lo, q_hi)


def conv2d_forward(x, w2, bias, geo, grad_rows=None, wide=False):
    """(y, grad): y (N, out, oh, ow), a new array, for x (N, C, H, W) and the weights as a matrix w2 (out, C kh kw)
    (None: no y). With ``grad_rows`` (R, N L), grad = grad_rows im2col(x)^T (R, C kh kw), summed as the columns are
    made (a transposed convolution's weight gradient); else None. The columns are built a piece at a time and used
    while in cache (``_pieces``): they never exist whole. ``wide``: the columns laid out wide (``wide_rows`` says
    when; not with ``grad_rows``)."""
    n, width = x.shape[0], x.shape[3]
    oh, ow = geo[-2:]
    positions = oh * (width if wide else ow)  # columns per example
    rows = x.shape[1] * geo[0] * geo[1]
    y = None if w2 is None else np.empty((n, w2.shape[0], oh, ow), dtype=x.dtype)
    has_bias = bias is not None
    bias_values = bias if has_bias else np.zeros(0 if w2 is None else w2.shape[0], dtype=x.dtype)
    valid = _valid_columns(geo, width)
    im2col = _im2col_flat if _flat_rows(geo, width) else _im2col
    per_piece = _examples_per_piece(rows, positions, x.itemsize)
    partial_sums = {}
    gemm = blas.gemm(x.dtype) if grad_rows is None and w2 is not None and w2.dtype == x.dtype else None

    def examples(first, last):
        scratch = Workspace(np)  # this thread's pool: fresh arrays of a MB page-faulted ~0.3 ms a call
        cols = scratch.empty((rows, min(per_piece, last - first) * positions), x.dtype)
        products = None if w2 is None else scratch.empty((w2.shape[0], cols.shape[1]), x.dtype)
        if gemm is not None:  # the loop below in one call that holds no GIL
            _forward_chunk(gemm, _layout(geo, width, wide), x, np.ascontiguousarray(w2), bias_values, has_bias, y,
                           cols, products, first, last, per_piece, *geo, *_bounds(valid, wide))
            scratch.release()
            return
        for lo, hi, columns in _pieces(first, last, per_piece, positions):
            if wide:
                _im2col_wide(x, cols, lo, hi, lo, geo[0], geo[1], oh, ow)
            else:
                im2col(x, cols, lo, hi, lo, *geo, *valid)
            if w2 is not None:
                np.matmul(w2, cols[:, :columns], out=products[:, :columns])
                if wide:
                    _wide_rows_to_examples(products, bias_values, has_bias, y, lo, hi, lo, width)
                else:
                    _rows_to_examples(products, bias_values, has_bias, y.reshape(n, -1, oh * ow), lo, hi, lo)
            if grad_rows is not None:
                _add_share(partial_sums, first, grad_rows[:, lo * positions:hi * positions], cols[:, :columns].T)
        scratch.release()

    tasks = [partial(examples, *chunk) for chunk in _chunks(n, _examples_per_chunk(positions))]
    per_position = (0 if w2 is None else w2.size) + (0 if grad_rows is None else grad_rows.shape[0] * rows)
    _run_tasks(tasks, per_position * n * positions)
    grad = None if grad_rows is None else _in_order(partial_sums, (grad_rows.shape[0], rows), x.dtype)
    return y, grad


def _pieces(first, last, per_piece, positions):
    """(lo, hi, hi - lo columns) for the examples [first, last) in pieces of ``per_piece`` examples."""
    return [(lo, min(lo + per_piece, last), (min(lo + per_piece, last) - lo) * positions)
            for lo in range(first, last, per_piece)]


def _add_share(partial_sums, key, a, b):
    """partial_sums[key] += a @ b (set on the first call), computed as (b^T a^T)^T: OpenBLAS multiplies the few
    long rows of a weight gradient's dy (out, K) by the columns (K, rows) faster this way round (one thread, on a
    Xeon with AVX-512: 16 x 1024 x 144 at 67 GFLOP/s against 44; 32 x 256 x 288 93 against 63); a 16 -> 16 3x3
    layer's forward and backward 0.90x, a stride-2 layer's 0.94x, the same within the noise elsewhere."""
    product = np.matmul(b.swapaxes(-1, -2), a.swapaxes(-1, -2)).swapaxes(-1, -2)
    if key in partial_sums:
        partial_sums[key] += product
    else:
        partial_sums[key] = product


def _in_order(partial_sums, shape, dtype):
    """The sum of the chunks' shares, in the order of their first example: the same bits whichever thread took
    which chunk. Zeros when there are none (an empty batch)."""
    shares = [partial_sums[first] for first in sorted(partial_sums)]
    total = shares[0] if shares else np.zeros(shape, dtype=dtype)
    for share in shares[1:]:
        total += share
    return np.ascontiguousarray(total)  # the shares are transposed views (``_add_share``)


def conv2d_backward(dy, x, w2, geo, x_shape, need_x, need_w, need_b, dy_rows, wide=False):
    """(dx, dW2, db) of ``conv2d_forward``, each None unless asked: dx (N, C, H, W) and dW2 (out, C kh kw) new
    arrays, db (out,). ``x`` is the forward's input (read only for dW; None otherwise); ``dy_rows``
    (``rows_shape``) receives dy laid out as rows. Each chunk of examples, piece by piece, rebuilds its columns and
    adds its share of dW, and spreads its dx: one task per chunk for the threads. ``wide``: as the forward's."""
    n, out = dy.shape[:2]
    width = x_shape[3]
    oh, ow = geo[-2:]
    positions = oh * (width if wide else ow)  # columns per example
    rows = w2.shape[1]
    dy = np.ascontiguousarray(dy).reshape(n, out, oh, ow)
    dx = dw = db = None
    if wide:  # on this thread: ~0.1 ms for 0.5 M values, less than a hand-off
        _examples_to_wide_rows(dy, dy_rows, 0, n, width)
    else:
        _examples_to_rows(dy.reshape(n, out, positions), dy_rows, 0, n)
    if need_b:
        db = dy_rows.sum(axis=1)
    partial_sums = {}  # chunk start -> that chunk's share of dW
    valid = _valid_columns(geo, width)
    im2col = _im2col_flat if _flat_rows(geo, width) else _im2col
    if need_x:
        dx = np.empty(x_shape, dtype=dy.dtype)
    per_piece = _examples_per_piece(rows, positions, dy.itemsize)
    same_dtype = w2.dtype == dy.dtype and (x is None or x.dtype == dy.dtype)
    gemm = blas.gemm(dy.dtype) if same_dtype and dy_rows.flags.c_contiguous and (need_x or need_w) else None

    def examples(first, last):
        scratch = Workspace(np)
        columns = min(per_piece, last - first) * positions
        cols = scratch.empty((rows, columns), dy.dtype) if need_w else None
        dcols = scratch.empty((rows, columns), dy.dtype) if need_x else None
        if gemm is not None:  # the loop below in one call that holds no GIL
            dw_t = np.empty((rows, out), dy.dtype) if need_w else dy_rows
            _backward_chunk(gemm, _layout(geo, width, wide), x if need_w else dx, np.ascontiguousarray(w2), dy_rows,
                            dx if need_x else x, dw_t, need_x, need_w, dy_rows if cols is None else cols,
                            dy_rows if dcols is None else dcols, first, last, per_piece, *geo, *_bounds(valid, wide))
            if need_w:
                partial_sums[first] = dw_t.T
            scratch.release()
            return
        for lo, hi, columns in _pieces(first, last, per_piece, positions):
            piece = slice(lo * positions, hi * positions)
            if need_w:
                if wide:
                    _im2col_wide(x, cols, lo, hi, lo, geo[0], geo[1], oh, ow)
                else:
                    im2col(x, cols, lo, hi, lo, *geo, *valid)
                _add_share(partial_sums, first, dy_rows[:, piece], cols[:, :columns].T)
            if need_x:
                np.matmul(w2.T, dy_rows[:, piece], out=dcols[:, :columns])
                if wide:
                    dx[lo:hi] = 0
                    _col2im_wide(dcols, dx, lo, hi, lo, geo[0], geo[1], oh, ow)
                else:
                    _col2im(dcols, dx, lo, hi, lo, *geo, *valid)
        scratch.release()

    tasks = [partial(examples, *chunk) for chunk in _chunks(n, _examples_per_chunk(positions))]
    _run_tasks(tasks, w2.size * n * positions * (need_w + need_x))
    if need_w:
        dw = _in_order(partial_sums, w2.shape, dy.dtype)
    return dx, dw, db


def _examples_per_piece(rows, positions, itemsize):
    """Examples whose columns (rows x positions each) make about ``PIECE_BYTES``, and at least
    ``COLUMNS_PER_CHUNK`` columns."""
    return max(1, -(-COLUMNS_PER_CHUNK // positions), PIECE_BYTES // max(1, rows * positions * itemsize))


def _examples_per_chunk(positions):
    return max(1, -(-COLUMNS_PER_CHUNK // positions))


def geometry(kernel, stride, pads, dilation, out):
    """The kernels' ``geo`` tuple from a 2-D convolution's arguments (``pads``: (lo, hi) per dim)."""
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out
    return kh, kw, sh, sw, pads[0][0], pads[1][0], dh, dw, oh, ow


def rows_shape(n, channels, geo, wide_width=None):
    """The shape of an (N, channels, oh, ow) array laid out as rows, (channels, N L): ``conv2d_backward``'s
    ``dy_rows``; laid out wide (``wide_rows``) for an input ``wide_width`` wide, (channels, N oh W)."""
    return channels, n * geo[-2] * (geo[-1] if wide_width is None else wide_width)


__all__ = ["conv2d_forward", "conv2d_backward", "geometry", "rows_shape", "wide_rows", "COLUMNS_PER_CHUNK",
           "PIECE_BYTES", "WIDE_MAX_OUTPUT_WIDTH"]
