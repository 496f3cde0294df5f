"""Batch normalization's passes as compiled loops over (N, C, L) arrays, shared over the threads.

The NumPy reference is ``Normalize`` in ``nn/functional/normalization.py``: there a training forward is a mean, a
centring, a square, a second mean, a scale and an affine, each a pass over the whole array on one core, and the
backward two sums and three more passes. Here, per channel, forward is the statistics (the mean, then the squared
deviations from it, while the channel is still in cache) and one pass writing y; backward is sum(dy) and sum(dy xhat)
in one pass, and one pass writing dx. xhat = (x - mean) invstd is recomputed where needed, never stored.

The work is shared over the threads by ``kernels.parallel_ranges`` (serial loops taken in chunks, so a busy machine
costs at most a chunk over one thread; see ``kernels/__init__.py``), one of three ways:
- whole channels (the usual case): each thread takes channels and does all of a channel's work in one loop, the
  statistics, then y (backward: the sums, then dx): one hand-off per direction;
- pieces, where there are too few channels to keep every thread busy: each channel's M = N L elements (batch and
  spatial axes, in memory order) cut into K pieces, the pieces' statistics joined, then y in a second hand-off;
- columns, for a 2-D input (N, C), where a channel's elements lie a row apart: blocks of channels, the loops running
  along the rows.

Sums run in float64 whatever the data's dtype: a piece's mean and squared deviations (two passes over the piece: no
E[x^2] - E[x]^2 cancellation), joined over pieces with Chan's formula

    mean = sum_k n_k mean_k / M,   M2 = sum_k (M2_k + n_k (mean_k - mean)^2),   var = M2 / M  (biased).

Elementwise passes run in the data's dtype, in the reference's order of operations, with per-channel constants
rounded to that dtype: y = ((x - mean) invstd) weight + bias and dx = dy scale - xhat a - b. The tests
(``tests/nn/test_nn_norm_kernels.py``) compare every path with the reference and with PyTorch.

This module imports numba when imported (``register_jitable``), so import it only after ``kernels.usable`` said yes.
"""

import numpy as np
from numba.extending import register_jitable

from . import compiled, get_num_threads, parallel_ranges

GRAIN = 1 << 18
"""Elements a thread must get before work is handed to it (below it the hand-off, 0.1-0.3 ms to a sleeping pool
thread on the 2-vCPU VM, costs more than it saves). In the quarter-width ResNet-18 at batch 32 only the 32x32 layers
(524k elements) are shared: at 2^16 the 16x16 and 8x8 ones were too, and their forward + backward took 1.5x the
time on two threads that it took on one (32x16x16: 1109 against 739 us, 64x8x8: 898 against 600), where the 32x32
ones took 0.85x (1609 against 1887 us; ``nn.BatchNorm2d``, median of 100 calls)."""

SHORT_ROWS = 128
"""Rows (one example's elements of one channel) shorter than this take the block loops (``_forward_channel_block``,
``_backward_channel_block``): a channel's loop over rows of 16 elements (a 4x4 map) spent its time starting rows.
Measured on the quarter-width ResNet-18's batch norms, batch 32, one thread, forward + backward: see
benchmarks/README.md, "batch norm on short rows"."""

MIN_PIECE = 1 << 13
"""The fewest elements of one channel a piece holds when channels are cut into pieces."""


def pieces_per_channel(channels, per_channel):
    """K: how many pieces each channel's ``per_channel`` elements are cut into, so that there are a few pieces per
    thread when channels are few (none under ``MIN_PIECE`` elements); 1 when there are channels enough."""
    wanted = -(-4 * get_num_threads() // channels)
    return max(1, min(wanted, per_channel // MIN_PIECE))


def batch_norm_forward(x, weight, bias, eps, mean=None, var=None):
    """Batch norm's forward on x (N, C, *), a float32 or float64 NumPy array:

        y = ((x - mean) invstd) weight + bias,  invstd = 1 / sqrt(var + eps),  per channel,

    with the batch's mean and biased var over N and the spatial axes, or the given ``mean`` and ``var`` (C,) (eval
    mode). weight, bias: (C,) of x's dtype, or None. Returns (y like x, mean, var, invstd), the last three (C,) in
    x's dtype (the batch's, or the given ones)."""
    dtype = x.dtype
    x3 = _as_channels(x)
    n, channels, length = x3.shape
    weight = np.ones(channels, dtype) if weight is None else weight  # * 1 and + 0 are exact
    bias = np.zeros(channels, dtype) if bias is None else bias
    y3 = np.empty_like(x3)
    if mean is None and _whole_channels(x3):  # one pass over the threads: statistics and y channel by channel
        mean, var, invstd = (np.empty(channels, dtype) for _ in range(3))
        kernel = _forward_channel_block if length < SHORT_ROWS else _forward_channels
        _over_channels(kernel, x3, n * length, weight, bias, float(eps), mean, var, invstd, y3)
        return y3.reshape(x.shape), mean, var, invstd
    if mean is None:
        mean, var = _batch_moments(x3)
    mean, var = mean.reshape(channels).astype(dtype, copy=False), var.reshape(channels).astype(dtype, copy=False)
    invstd = 1.0 / np.sqrt(var + float(eps))  # as the reference: in x's dtype
    _elementwise_pass(_normalize_pieces, _normalize_columns, x3, mean, invstd, weight, bias, y3)
    return y3.reshape(x.shape), mean, var, invstd


@compiled(parallel=False)
def update_running(mean, var, correction, running_mean, running_var, momentum):
    """The running statistics, in place, channel by channel: r_mean <- (1 - momentum) r_mean + momentum mean and
    r_var <- (1 - momentum) r_var + momentum var correction (correction = M / (M - 1): the unbiased variance). The
    same roundings as the NumPy rule of ``Normalize._update_running``: each product in its arrays' dtype, the
    momentum and the correction rounded to it (the tests hold the two to the same bits). That rule's NumPy calls
    took 61 us a batch norm inside the quarter-width ResNet-18's step, 1.2 ms of it; with this one call the step took
    0.991x and 0.995x the time (A against A 0.996, 1.004: a small gain, near the noise)."""
    keep = running_mean.dtype.type(1 - momentum)
    step = mean.dtype.type(momentum)
    unbias = var.dtype.type(correction)
    for c in range(mean.size):
        running_mean[c] = running_mean[c] * keep + running_mean.dtype.type(step * mean[c])
        running_var[c] = running_var[c] * keep + running_var.dtype.type(step * (var[c] * unbias))


def batch_norm_backward(dy, x, mean, invstd, weight, needs_dx):
    """Batch norm's backward with batch statistics, per channel over N and the spatial axes of x, dy (N, C, *):

        sum_dy = sum(dy),  sum_dy_xhat = sum(dy xhat)  (the bias's and the weight's gradients),
        dx = scale (dy - sum_dy / M - xhat sum_dy_xhat / M),  scale = invstd weight,  xhat = (x - mean) invstd,

    M elements per channel. mean, invstd: (C,) of x's dtype; weight (C,) or None. Returns (dx like x, or None
    unless ``needs_dx``; sum_dy; sum_dy_xhat), the sums (C,) in x's dtype (accumulated in float64)."""
    dtype = x.dtype
    x3, dy3 = _as_channels(x), _as_channels(dy)
    n, channels, length = x3.shape
    per_channel = n * length
    weight = np.ones(channels, dtype) if weight is None else weight
    dx3 = np.empty_like(x3) if needs_dx else None
    sum_dy, sum_dy_xhat = np.empty(channels), np.empty(channels)
    if _whole_channels(x3):  # one pass over the threads: sums, coefficients and dx channel by channel
        coef_xhat, coef_const = np.empty(channels, dtype), np.empty(channels, dtype)
        kernel = _backward_channel_block if length < SHORT_ROWS else _backward_channels
        _over_channels(kernel, x3, per_channel, dy3, mean, invstd, weight, needs_dx, sum_dy, sum_dy_xhat,
                       coef_xhat, coef_const, x3 if dx3 is None else dx3)  # x3: a stand-in, not written
    else:
        if length == 1:
            _over_columns(_grad_sums_columns, x3, dy3, mean, invstd, sum_dy, sum_dy_xhat)
        else:
            pieces = pieces_per_channel(channels, per_channel)
            piece_sum_dy, piece_sum_dy_xhat = np.empty(channels * pieces), np.empty(channels * pieces)
            _over_pieces(_piece_grad_sums, x3, pieces, dy3, mean, invstd, piece_sum_dy, piece_sum_dy_xhat)
            piece_sum_dy.reshape(channels, pieces).sum(axis=1, out=sum_dy)
            piece_sum_dy_xhat.reshape(channels, pieces).sum(axis=1, out=sum_dy_xhat)
        if needs_dx:
            scale = invstd * weight
            coef_xhat = (scale * sum_dy_xhat / per_channel).astype(dtype)
            coef_const = (scale * sum_dy / per_channel).astype(dtype)
            _elementwise_pass(_grad_input_pieces, _grad_input_columns, x3, dy3, mean, invstd, scale, coef_xhat,
                              coef_const, dx3)
    return None if dx3 is None else dx3.reshape(x.shape), sum_dy.astype(dtype), sum_dy_xhat.astype(dtype)


def _as_channels(a):
    """a (N, C, *) as a C-contiguous (N, C, L) array (a view when a is C-contiguous already)."""
    return np.ascontiguousarray(a).reshape(a.shape[0], a.shape[1], -1)


def _whole_channels(x3):
    """True where x3 (N, C, L) is shared over the threads channel by channel, each in one loop from statistics to
    output: channels enough for every thread (one piece each), and rows longer than one element (not a 2-D
    input). One parallel pass per direction instead of two: each pass is a hand-off that a busy machine can stall."""
    n, channels, length = x3.shape
    return length > 1 and pieces_per_channel(channels, n * length) == 1


def _batch_moments(x3):
    """Per-channel mean and biased variance of x3 (N, C, L) over N and L, as two float64 arrays (C,)."""
    n, channels, length = x3.shape
    mean, var = np.empty(channels), np.empty(channels)
    if length == 1:
        _over_columns(_moments_columns, x3, mean, var)
        return mean, var
    pieces = pieces_per_channel(channels, n * length)
    piece_mean = np.empty(channels * pieces)
    piece_m2 = np.empty(channels * pieces)
    _over_pieces(_piece_moments, x3, pieces, piece_mean, piece_m2)
    _join_moments(piece_mean, piece_m2, pieces, n * length, mean, var)
    return mean, var


def _elementwise_pass(pieces_loop, columns_loop, x3, *args):
    """An elementwise pass over x3 (N, C, L): ``columns_loop`` over blocks of channels when L is 1 (a 2-D input:
    each row holds one element of every channel), else ``pieces_loop`` over the pieces of the channels."""
    n, channels, length = x3.shape
    if length == 1:
        _over_columns(columns_loop, x3, *args)
    else:
        _over_pieces(pieces_loop, x3, pieces_per_channel(channels, n * length), *args)


def _over_pieces(kernel, x3, pieces, *args):
    """``kernel(first, stop, pieces, x3, *args)`` over the pieces [first, stop) of x3 (N, C, L), ``pieces`` per
    channel (the number the caller sized its per-piece arrays for), shared over the threads in chunks of at least
    ``GRAIN`` elements."""
    n, channels, length = x3.shape

    def work(first, stop):
        kernel(first, stop, pieces, x3, *args)

    parallel_ranges(channels * pieces, work, max(1, GRAIN // max(n * length // pieces, 1)))


def _over_channels(kernel, x, per_channel, *args):
    """``kernel(first, stop, x, *args)`` over blocks [first, stop) of the channels (axis 1) of x, ``per_channel``
    elements each, shared over the threads in chunks of at least ``GRAIN`` elements."""

    def work(first, stop):
        kernel(first, stop, x, *args)

    parallel_ranges(x.shape[1], work, max(1, GRAIN // max(per_channel, 1)))


def _over_columns(kernel, x3, *args):
    """``_over_channels`` for x3 (N, C, 1) seen as x2 (N, C), as every (N, C, 1) argument is."""
    n, channels, _ = x3.shape
    args = [a.reshape(n, channels) if a.ndim == 3 else a for a in args]
    _over_channels(kernel, x3.reshape(n, channels), n, *args)


# ------------------------------------------------------------------------------------------ loops along a row

_REORDER_SUMS = {"reassoc", "contract"}
"""The sums' fast-math flags: LLVM may reorder the float64 additions (and fuse a product into them), so it sums in
vector lanes: 4 times faster than one chain of dependent additions (0.12 against 0.51 ms for the two passes over
(32, 16, 32, 32) float32, one thread), different from the sequential sum in the last bits of a float64 only. No flag
that assumes away NaN or infinity: a NaN in x still gives NaN statistics."""


@register_jitable(fastmath=_REORDER_SUMS)
def _sum(values):
    """sum(values) in float64. values: a 1-D float array."""
    total = 0.0
    for j in range(values.size):
        total += values[j]
    return total


@register_jitable(fastmath=_REORDER_SUMS)
def _squared_deviations(values, mean):
    """sum((values - mean)^2) in float64 (mean a float64)."""
    total = 0.0
    for j in range(values.size):
        deviation = values[j] - mean
        total += deviation * deviation
    return total


@register_jitable(fastmath=_REORDER_SUMS)
def _grad_sums(dy, x, shift, factor):
    """(sum(dy), sum(dy xhat)) in float64, xhat = (x - shift) factor in the data's dtype."""
    sum_dy = 0.0
    sum_dy_xhat = 0.0
    for j in range(dy.size):
        grad = dy[j]
        sum_dy += grad
        sum_dy_xhat += grad * ((x[j] - shift) * factor)
    return sum_dy, sum_dy_xhat


@register_jitable
def _normalize_run(x, y, shift, factor, w, b):
    """y = ((x - shift) factor) w + b along 1-D slices (indices LLVM knows in bounds: it vectorises the loop)."""
    for j in range(x.size):
        y[j] = (x[j] - shift) * factor * w + b


@register_jitable
def _grad_input_run(x, dy, dx, shift, factor, s, a, b):
    """dx = dy s - ((x - shift) factor) a - b along 1-D slices."""
    for j in range(x.size):
        dx[j] = dy[j] * s - (x[j] - shift) * factor * a - b


@register_jitable(fastmath=_REORDER_SUMS)
def _accumulate(values, sums):
    """sums += values, element by element (sums float64)."""
    for j in range(values.size):
        sums[j] += values[j]


@register_jitable(fastmath=_REORDER_SUMS)
def _accumulate_squared_deviations(values, means, sums):
    """sums += (values - means)^2, element by element, in float64 (means float64)."""
    for j in range(values.size):
        deviation = values[j] - means[j]
        sums[j] += deviation * deviation


@register_jitable(fastmath=_REORDER_SUMS)
def _accumulate_grad_sums(dy, x, shift, factor, sums_dy, sums_dy_xhat):
    """sums_dy += dy and sums_dy_xhat += dy xhat, element by element (float64), xhat = (x - shift) factor in the
    data's dtype."""
    for j in range(dy.size):
        grad = dy[j]
        sums_dy[j] += grad
        sums_dy_xhat[j] += grad * ((x[j] - shift[j]) * factor[j])


@register_jitable
def _normalize_block(x, y, shift, factor, w, b):
    """y = ((x - shift) factor) w + b, element by element."""
    for j in range(x.size):
        y[j] = (x[j] - shift[j]) * factor[j] * w[j] + b[j]


@register_jitable
def _grad_input_block(x, dy, dx, shift, factor, s, a, b):
    """dx = dy s - ((x - shift) factor) a - b, element by element."""
    for j in range(x.size):
        dx[j] = dy[j] * s[j] - (x[j] - shift[j]) * factor[j] * a[j] - b[j]


# ------------------------------------------------------------------------------------------ whole channels
@compiled(parallel=False)
def _forward_channels(first, stop, x, weight, bias, eps, mean, var, invstd, y):
    """Whole channels [first, stop) of x (N, C, L) in one go: mean[c] and the biased var[c] (float64 sums, two
    passes), invstd[c] = 1 / sqrt(var[c] + eps) (stored in x's dtype), then y = ((x - mean) invstd) weight + bias."""
    n, _, length = x.shape
    for channel in range(first, stop):
        total = 0.0
        for row in range(n):
            total += _sum(x[row, channel])
        channel_mean = total / (n * length)
        m2 = 0.0
        for row in range(n):
            m2 += _squared_deviations(x[row, channel], channel_mean)
        mean[channel] = channel_mean
        var[channel] = m2 / (n * length)
        invstd[channel] = 1.0 / np.sqrt(var[channel] + eps)
        shift, factor, w, b = mean[channel], invstd[channel], weight[channel], bias[channel]  # x's dtype
        for row in range(n):
            _normalize_run(x[row, channel], y[row, channel], shift, factor, w, b)


@compiled(parallel=False)
def _backward_channels(first, stop, x, dy, mean, invstd, weight, needs_dx, sum_dy, sum_dy_xhat, coef_xhat,
                       coef_const, dx):
    """Whole channels [first, stop) of x, dy (N, C, L) in one go: sum_dy[c], sum_dy_xhat[c] (float64), then (when
    ``needs_dx``) coef_xhat[c] = scale sum_dy_xhat / M and coef_const[c] = scale sum_dy / M (stored in x's dtype,
    scale = invstd weight) and dx = dy scale - xhat coef_xhat - coef_const."""
    n, _, length = x.shape
    for channel in range(first, stop):
        shift, factor = mean[channel], invstd[channel]
        channel_sum_dy = 0.0
        channel_sum_dy_xhat = 0.0
        for row in range(n):
            row_dy, row_dy_xhat = _grad_sums(dy[row, channel], x[row, channel], shift, factor)
            channel_sum_dy += row_dy
            channel_sum_dy_xhat += row_dy_xhat
        sum_dy[channel] = channel_sum_dy
        sum_dy_xhat[channel] = channel_sum_dy_xhat
        if needs_dx:
            scale = factor * weight[channel]
            coef_xhat[channel] = scale * channel_sum_dy_xhat / (n * length)
            coef_const[channel] = scale * channel_sum_dy / (n * length)
            a, b = coef_xhat[channel], coef_const[channel]
            for row in range(n):
                _grad_input_run(x[row, channel], dy[row, channel], dx[row, channel], shift, factor, scale, a, b)


# ------------------------------------------------------------------------------------------ blocks of channels
# The same work for rows shorter than ``SHORT_ROWS``: channels [first, stop) of one example are one run of x (N, C,
# L), (stop - first) L elements long. Each pass runs along that run for every example, keeping one float64 sum per
# element of the run (the channel's constants spread over its L elements), and the sums are then added up per channel:
# long vectorised loops instead of N (stop - first) loops of L elements.

@register_jitable
def _spread(values, first, stop, length, out):
    """out[(c - first) L + l] = values[c] for the channels c in [first, stop) and l < L (values cast to out's
    dtype)."""
    for c in range(first, stop):
        for l in range(length):
            out[(c - first) * length + l] = values[c]


@register_jitable
def _channel_sums(sums, first, stop, length, out):
    """out[c] = the sum of the L sums of channel c, for c in [first, stop) (float64)."""
    for c in range(first, stop):
        out[c] = _sum(sums[(c - first) * length:(c - first + 1) * length])


@compiled(parallel=False)
def _forward_channel_block(first, stop, x, weight, bias, eps, mean, var, invstd, y):
    """``_forward_channels`` for short rows: the same statistics and y, pass by pass along each example's run of the
    channels [first, stop)."""
    n, _, length = x.shape
    lo, hi = first * length, stop * length
    x2, y2 = x.reshape(n, -1), y.reshape(n, -1)
    count = n * length
    sums = np.zeros(hi - lo)
    for row in range(n):
        _accumulate(x2[row, lo:hi], sums)
    totals = np.empty(stop)
    _channel_sums(sums, first, stop, length, totals)
    means = np.empty(hi - lo)  # float64, as the channel loop's mean
    for c in range(first, stop):
        totals[c] = totals[c] / count
    _spread(totals, first, stop, length, means)
    sums[:] = 0.0
    for row in range(n):
        _accumulate_squared_deviations(x2[row, lo:hi], means, sums)
    m2 = np.empty(stop)
    _channel_sums(sums, first, stop, length, m2)
    for c in range(first, stop):
        mean[c] = totals[c]
        var[c] = m2[c] / count
        invstd[c] = 1.0 / np.sqrt(var[c] + eps)
    shift, factor = np.empty_like(x2[0, lo:hi]), np.empty_like(x2[0, lo:hi])  # x's dtype, as the channel loop's
    w, b = np.empty_like(x2[0, lo:hi]), np.empty_like(x2[0, lo:hi])
    _spread(mean, first, stop, length, shift)
    _spread(invstd, first, stop, length, factor)
    _spread(weight, first, stop, length, w)
    _spread(bias, first, stop, length, b)
    for row in range(n):
        _normalize_block(x2[row, lo:hi], y2[row, lo:hi], shift, factor, w, b)


@compiled(parallel=False)
def _backward_channel_block(first, stop, x, dy, mean, invstd, weight, needs_dx, sum_dy, sum_dy_xhat, coef_xhat,
                            coef_const, dx):
    """``_backward_channels`` for short rows: the same sums, coefficients and dx, pass by pass along each example's
    run of the channels [first, stop)."""
    n, _, length = x.shape
    lo, hi = first * length, stop * length
    x2, dy2, dx2 = x.reshape(n, -1), dy.reshape(n, -1), dx.reshape(n, -1)
    shift, factor = np.empty_like(x2[0, lo:hi]), np.empty_like(x2[0, lo:hi])
    _spread(mean, first, stop, length, shift)
    _spread(invstd, first, stop, length, factor)
    sums_dy, sums_dy_xhat = np.zeros(hi - lo), np.zeros(hi - lo)
    for row in range(n):
        _accumulate_grad_sums(dy2[row, lo:hi], x2[row, lo:hi], shift, factor, sums_dy, sums_dy_xhat)
    _channel_sums(sums_dy, first, stop, length, sum_dy)
    _channel_sums(sums_dy_xhat, first, stop, length, sum_dy_xhat)
    if not needs_dx:
        return
    scales = np.empty_like(mean)
    for c in range(first, stop):
        scales[c] = invstd[c] * weight[c]
        coef_xhat[c] = scales[c] * sum_dy_xhat[c] / (n * length)
        coef_const[c] = scales[c] * sum_dy[c] / (n * length)
    s, a, b = np.empty_like(x2[0, lo:hi]), np.empty_like(x2[0, lo:hi]), np.empty_like(x2[0, lo:hi])
    _spread(scales, first, stop, length, s)
    _spread(coef_xhat, first, stop, length, a)
    _spread(coef_const, first, stop, length, b)
    for row in range(n):
        _grad_input_block(x2[row, lo:hi], dy2[row, lo:hi], dx2[row, lo:hi], shift, factor, s, a, b)


# ------------------------------------------------------------------------------------------ pieces of channels
# Each loop takes the pieces [first, stop) of x (N, C, L): piece t is channel t // pieces, elements
# [M k / pieces, M (k + 1) / pieces) of its M = N L in memory order (k = t % pieces), which span rows (batch
# entries) begin // L to (end - 1) // L, a part [lo, hi) of each.

@register_jitable
def _piece(t, pieces, n, length):
    """Piece t of x (n, C, length): (its channel, its elements [begin, end) of the channel's n length, the rows
    [first_row, stop_row) they lie in)."""
    per_channel = n * length
    channel, k = t // pieces, t % pieces
    begin, end = per_channel * k // pieces, per_channel * (k + 1) // pieces
    return channel, begin, end, begin // length, (end - 1) // length + 1


@register_jitable
def _row_part(begin, end, row, length):
    """The elements [lo, hi) of row ``row`` that lie in the piece [begin, end)."""
    return max(begin - row * length, 0), min(end - row * length, length)


@compiled(parallel=False)
def _piece_moments(first, stop, pieces, x, piece_mean, piece_m2):
    """piece_mean[t], piece_m2[t]: the mean of piece t and the sum of its squared deviations from that mean."""
    n, _, length = x.shape
    for t in range(first, stop):
        channel, begin, end, first_row, stop_row = _piece(t, pieces, n, length)
        total = 0.0
        for row in range(first_row, stop_row):
            lo, hi = _row_part(begin, end, row, length)
            total += _sum(x[row, channel, lo:hi])
        mean = total / (end - begin)
        m2 = 0.0
        for row in range(first_row, stop_row):
            lo, hi = _row_part(begin, end, row, length)
            m2 += _squared_deviations(x[row, channel, lo:hi], mean)
        piece_mean[t] = mean
        piece_m2[t] = m2


@compiled(parallel=False)
def _join_moments(piece_mean, piece_m2, pieces, per_channel, mean, var):
    """mean[c], var[c] from the pieces' means and M2s (Chan's formula; piece k holds per_channel * (k + 1) // pieces
    - per_channel * k // pieces elements)."""
    for channel in range(mean.size):
        total = 0.0
        for k in range(pieces):
            count = per_channel * (k + 1) // pieces - per_channel * k // pieces
            total += count * piece_mean[channel * pieces + k]
        channel_mean = total / per_channel
        m2 = 0.0
        for k in range(pieces):
            count = per_channel * (k + 1) // pieces - per_channel * k // pieces
            offset = piece_mean[channel * pieces + k] - channel_mean
            m2 += piece_m2[channel * pieces + k] + count * offset * offset
        mean[channel] = channel_mean
        var[channel] = m2 / per_channel


@compiled(parallel=False)
def _normalize_pieces(first, stop, pieces, x, mean, invstd, weight, bias, y):
    """y = ((x - mean) invstd) weight + bias over pieces [first, stop)."""
    n, _, length = x.shape
    for t in range(first, stop):
        channel, begin, end, first_row, stop_row = _piece(t, pieces, n, length)
        shift, factor, w, b = mean[channel], invstd[channel], weight[channel], bias[channel]
        for row in range(first_row, stop_row):
            lo, hi = _row_part(begin, end, row, length)
            _normalize_run(x[row, channel, lo:hi], y[row, channel, lo:hi], shift, factor, w, b)


@compiled(parallel=False)
def _piece_grad_sums(first, stop, pieces, x, dy, mean, invstd, piece_sum_dy, piece_sum_dy_xhat):
    """piece_sum_dy[t] = sum(dy), piece_sum_dy_xhat[t] = sum(dy xhat) over piece t (float64 sums)."""
    n, _, length = x.shape
    for t in range(first, stop):
        channel, begin, end, first_row, stop_row = _piece(t, pieces, n, length)
        sum_dy = 0.0
        sum_dy_xhat = 0.0
        for row in range(first_row, stop_row):
            lo, hi = _row_part(begin, end, row, length)
            row_dy, row_dy_xhat = _grad_sums(dy[row, channel, lo:hi], x[row, channel, lo:hi], mean[channel],
                                             invstd[channel])
            sum_dy += row_dy
            sum_dy_xhat += row_dy_xhat
        piece_sum_dy[t] = sum_dy
        piece_sum_dy_xhat[t] = sum_dy_xhat


@compiled(parallel=False)
def _grad_input_pieces(first, stop, pieces, x, dy, mean, invstd, scale, coef_xhat, coef_const, dx):
    """dx = dy scale - xhat coef_xhat - coef_const over pieces [first, stop), xhat = (x - mean) invstd."""
    n, _, length = x.shape
    for t in range(first, stop):
        channel, begin, end, first_row, stop_row = _piece(t, pieces, n, length)
        shift, factor = mean[channel], invstd[channel]
        s, a, b = scale[channel], coef_xhat[channel], coef_const[channel]
        for row in range(first_row, stop_row):
            lo, hi = _row_part(begin, end, row, length)
            _grad_input_run(x[row, channel, lo:hi], dy[row, channel, lo:hi], dx[row, channel, lo:hi], shift, factor,
                            s, a, b)


# ------------------------------------------------------------------------------------------ columns (2-D inputs)
# 2-D inputs (N, C): a channel's elements lie a row apart, one per row, so the loops run down the rows and, inside a
# row, along the block of channels [first, stop) (contiguous: vectorised with no reordering of any sum), keeping one
# float64 sum per channel.

@compiled(parallel=False)
def _moments_columns(first, stop, x, mean, var):
    """mean[c], var[c] (biased) for the channels c in [first, stop) of x (N, C): their mean, then the mean of the
    squared deviations from it."""
    n = x.shape[0]
    mean_part, var_part = mean[first:stop], var[first:stop]
    mean_part[:] = 0.0
    for row in range(n):
        values = x[row, first:stop]
        for j in range(values.size):
            mean_part[j] += values[j]
    mean_part /= n
    var_part[:] = 0.0
    for row in range(n):
        values = x[row, first:stop]
        for j in range(values.size):
            deviation = values[j] - mean_part[j]
            var_part[j] += deviation * deviation
    var_part /= n


@compiled(parallel=False)
def _normalize_columns(first, stop, x, mean, invstd, weight, bias, y):
    """y = ((x - mean) invstd) weight + bias for the channels [first, stop) of x (N, C)."""
    shift, factor, w, b = mean[first:stop], invstd[first:stop], weight[first:stop], bias[first:stop]
    for row in range(x.shape[0]):
        x_part, y_part = x[row, first:stop], y[row, first:stop]
        for j in range(x_part.size):
            y_part[j] = (x_part[j] - shift[j]) * factor[j] * w[j] + b[j]


@compiled(parallel=False)
def _grad_sums_columns(first, stop, x, dy, mean, invstd, sum_dy, sum_dy_xhat):
    """sum_dy[c] = sum(dy), sum_dy_xhat[c] = sum(dy xhat) (float64) for the channels [first, stop) of x (N, C)."""
    shift, factor = mean[first:stop], invstd[first:stop]
    sum_dy_part, sum_dy_xhat_part = sum_dy[first:stop], sum_dy_xhat[first:stop]
    sum_dy_part[:] = 0.0
    sum_dy_xhat_part[:] = 0.0
    for row in range(x.shape[0]):
        x_part, dy_part = x[row, first:stop], dy[row, first:stop]
        for j in range(x_part.size):
            sum_dy_part[j] += dy_part[j]
            sum_dy_xhat_part[j] += dy_part[j] * ((x_part[j] - shift[j]) * factor[j])


@compiled(parallel=False)
def _grad_input_columns(first, stop, x, dy, mean, invstd, scale, coef_xhat, coef_const, dx):
    """dx = dy scale - xhat coef_xhat - coef_const for the channels [first, stop) of x (N, C)."""
    shift, factor = mean[first:stop], invstd[first:stop]
    s, a, b = scale[first:stop], coef_xhat[first:stop], coef_const[first:stop]
    for row in range(x.shape[0]):
        x_part, dy_part, dx_part = x[row, first:stop], dy[row, first:stop], dx[row, first:stop]
        for j in range(x_part.size):
            dx_part[j] = dy_part[j] * s[j] - (x_part[j] - shift[j]) * factor[j] * a[j] - b[j]
