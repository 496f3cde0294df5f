"""Batch normalization's passes as compiled loops over (N, C, L) arrays, shared over the threads.

The NumPy reference is ``Normalize`` in ``nn/functional/normalization.py``: there a training forward is a mean, a
centring, a square, a second mean, a scale and an affine, each a pass over the whole array on one core, and the
backward two sums and three more passes. Here, per channel, forward is the statistics (the mean, then the squared
deviations from it, while the channel is still in cache) and one pass writing y; backward is sum(dy) and sum(dy xhat)
in one pass, and one pass writing dx. xhat = (x - mean) invstd is recomputed where needed, never stored.

Work is cut into pieces: each channel's M = N L elements (the batch and the spatial axes, in memory order) into K
pieces, K = 1 unless there are too few channels to keep every thread busy; the C K pieces are shared over the threads
by ``kernels.parallel_ranges`` (serial loops taken in chunks, so a busy machine costs at most a chunk over one
thread; see ``kernels/__init__.py``). A 2-D input (N, C), where a channel's elements lie a row apart, is shared out
by blocks of channels instead, the loops running along the rows.

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

GRAIN = 1 << 15
"""Elements a thread must get before work is handed to it (below it the hand-off costs more than it saves)."""

MIN_PIECE = 1 << 13
"""The fewest elements of one channel a piece holds when channels are cut into pieces."""


def pieces_per_channel(channels, per_channel):
    """K: how many pieces each channel's ``per_channel`` elements are cut into, so that there are a few pieces per
    thread when channels are few (none under ``MIN_PIECE`` elements); 1 when there are channels enough."""
    wanted = -(-4 * get_num_threads() // channels)
    return max(1, min(wanted, per_channel // MIN_PIECE))


def _over_pieces(kernel, x3, *args, pieces=None):
    """``kernel(first, stop, pieces, x3, *args)`` over the pieces [first, stop) of x3 (N, C, L), shared over the
    threads in chunks of at least ``GRAIN`` elements (``pieces`` per channel: ``pieces_per_channel``'s unless
    given)."""
    n, channels, length = x3.shape
    if pieces is None:
        pieces = pieces_per_channel(channels, n * length)
    piece_size = max(1, n * length // pieces)

    def work(first, stop):
        kernel(first, stop, pieces, x3, *args)

    parallel_ranges(channels * pieces, work, max(1, GRAIN // piece_size))


def batch_norm_forward(x, weight, bias, eps, mean=None, var=None):
    """Batch norm's forward on x (N, C, *), a float32 or float64 NumPy array:

        y = ((x - mean) invstd) weight + bias,  invstd = 1 / sqrt(var + eps),  per channel,

    with the batch's mean and biased var over N and the spatial axes, or the given ``mean`` and ``var`` (C,) (eval
    mode). weight, bias: (C,) of x's dtype, or None. Returns (y like x, mean, var, invstd), the last three (C,) in
    x's dtype (the batch's, or the given ones)."""
    dtype = x.dtype
    x3 = _as_channels(x)
    channels = x3.shape[1]
    if mean is None:
        mean, var = _batch_moments(x3)
    mean, var = mean.reshape(channels).astype(dtype, copy=False), var.reshape(channels).astype(dtype, copy=False)
    invstd = 1.0 / np.sqrt(var + float(eps))  # as the reference: in x's dtype
    weight = np.ones(channels, dtype) if weight is None else weight  # * 1 and + 0 are exact
    bias = np.zeros(channels, dtype) if bias is None else bias
    y3 = np.empty_like(x3)
    _per_channel_pass(_normalize_pieces, _normalize_columns, x3, mean, invstd, weight, bias, y3)
    return y3.reshape(x.shape), mean, var, invstd


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
    if length == 1:
        sum_dy, sum_dy_xhat = np.empty(channels), np.empty(channels)
        _over_columns(_grad_sums_columns, x3, dy3, mean, invstd, sum_dy, sum_dy_xhat)
    else:
        pieces = pieces_per_channel(channels, per_channel)
        piece_sum_dy = np.empty(channels * pieces)
        piece_sum_dy_xhat = np.empty(channels * pieces)
        _over_pieces(_piece_grad_sums, x3, dy3, mean, invstd, piece_sum_dy, piece_sum_dy_xhat, pieces=pieces)
        sum_dy = piece_sum_dy.reshape(channels, pieces).sum(axis=1)
        sum_dy_xhat = piece_sum_dy_xhat.reshape(channels, pieces).sum(axis=1)
    dx = None
    if needs_dx:
        scale = invstd if weight is None else invstd * weight
        coef_xhat = (scale * sum_dy_xhat / per_channel).astype(dtype)
        coef_const = (scale * sum_dy / per_channel).astype(dtype)
        dx3 = np.empty_like(x3)
        _per_channel_pass(_grad_input_pieces, _grad_input_columns, x3, dy3, mean, invstd, scale, coef_xhat,
                          coef_const, dx3)
        dx = dx3.reshape(x.shape)
    return dx, sum_dy.astype(dtype), sum_dy_xhat.astype(dtype)


def _as_channels(a):
    """a (N, C, *) as a C-contiguous (N, C, L) array (a view when a is C-contiguous already)."""
    return np.ascontiguousarray(a).reshape(a.shape[0], a.shape[1], -1)


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
    _over_pieces(_piece_moments, x3, piece_mean, piece_m2, pieces=pieces)
    _join_moments(piece_mean, piece_m2, pieces, n * length, mean, var)
    return mean, var


def _per_channel_pass(pieces_loop, columns_loop, x3, *args):
    """An elementwise pass over x3 (N, C, L): ``columns_loop`` over blocks of channels when L is 1 (a 2-D input:
    each row holds one element of every channel), else ``pieces_loop`` over the pieces of the channels."""
    if x3.shape[2] == 1:
        _over_columns(columns_loop, x3, *args)
    else:
        _over_pieces(pieces_loop, x3, *args)


def _over_columns(kernel, x3, *args):
    """``kernel(first, stop, x2, *args)`` over blocks [first, stop) of the channels of x3 (N, C, 1), seen as x2
    (N, C) as every (N, C, 1) argument is, shared over the threads in chunks of at least ``GRAIN`` elements."""
    n, channels, _ = x3.shape
    x2 = x3.reshape(n, channels)
    args = [a.reshape(n, channels) if a.ndim == 3 else a for a in args]

    def work(first, stop):
        kernel(first, stop, x2, *args)

    parallel_ranges(channels, work, max(1, GRAIN // max(n, 1)))


# ------------------------------------------------------------------------------------------------------ loops
# Each loop takes the pieces [first, stop) of x (N, C, L): piece t is channel t // pieces, elements
# [M k / pieces, M (k + 1) / pieces) of its M = N L in memory order (k = t % pieces), which span rows (batch
# entries) begin // L to (end - 1) // L, a part [lo, hi) of each.

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


@compiled(parallel=False)
def _piece_moments(first, stop, pieces, x, piece_mean, piece_m2):
    """piece_mean[t], piece_m2[t]: the mean of piece t and the sum of its squared deviations from that mean."""
    n, _, length = x.shape
    per_channel = n * length
    for t in range(first, stop):
        channel, k = t // pieces, t % pieces
        begin, end = per_channel * k // pieces, per_channel * (k + 1) // pieces
        total = 0.0
        for row in range(begin // length, (end - 1) // length + 1):
            total += _sum(x[row, channel, max(begin - row * length, 0):min(end - row * length, length)])
        mean = total / (end - begin)
        m2 = 0.0
        for row in range(begin // length, (end - 1) // length + 1):
            m2 += _squared_deviations(x[row, channel, max(begin - row * length, 0):min(end - row * length, length)],
                                      mean)
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
    per_channel = n * length
    for t in range(first, stop):
        channel, k = t // pieces, t % pieces
        begin, end = per_channel * k // pieces, per_channel * (k + 1) // pieces
        shift, factor, w, b = mean[channel], invstd[channel], weight[channel], bias[channel]
        for row in range(begin // length, (end - 1) // length + 1):
            lo, hi = max(begin - row * length, 0), min(end - row * length, length)
            x_part, y_part = x[row, channel, lo:hi], y[row, channel, lo:hi]
            for j in range(x_part.size):  # over a slice: indices LLVM knows in bounds, so it vectorises the loop
                y_part[j] = (x_part[j] - shift) * factor * w + b


@compiled(parallel=False)
def _piece_grad_sums(first, stop, pieces, x, dy, mean, invstd, piece_sum_dy, piece_sum_dy_xhat):
    """piece_sum_dy[t] = sum(dy), piece_sum_dy_xhat[t] = sum(dy xhat) over piece t (float64 sums)."""
    n, _, length = x.shape
    per_channel = n * length
    for t in range(first, stop):
        channel, k = t // pieces, t % pieces
        begin, end = per_channel * k // pieces, per_channel * (k + 1) // pieces
        sum_dy = 0.0
        sum_dy_xhat = 0.0
        for row in range(begin // length, (end - 1) // length + 1):
            lo, hi = max(begin - row * length, 0), min(end - row * length, length)
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
    per_channel = n * length
    for t in range(first, stop):
        channel, k = t // pieces, t % pieces
        begin, end = per_channel * k // pieces, per_channel * (k + 1) // pieces
        shift, factor = mean[channel], invstd[channel]
        s, a, b = scale[channel], coef_xhat[channel], coef_const[channel]
        for row in range(begin // length, (end - 1) // length + 1):
            lo, hi = max(begin - row * length, 0), min(end - row * length, length)
            x_part, dy_part, dx_part = x[row, channel, lo:hi], dy[row, channel, lo:hi], dx[row, channel, lo:hi]
            for j in range(x_part.size):
                dx_part[j] = dy_part[j] * s - (x_part[j] - shift) * factor * a - b


# ------------------------------------------------------------------------------------------ loops over columns
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
