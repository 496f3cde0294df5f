"""3x3 convolutions of stride 1 by Winograd's minimal filtering F(2x2, 3x3): 16 multiplies per 2x2 outputs, not 36.

A 2x2 tile of outputs reads a 4x4 tile d of the (padded) input. With the transforms of Lavin & Gray (2015),

    B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
    G   = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]
    A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]

    y_tile[o] = A^T ( sum_c U[o, c] * V[c] ) A,   U[o, c] = G g[o, c] G^T (4x4),   V[c] = B^T d[c] B (4x4),

and the sum over c, for each of the 16 positions k of the 4x4 products, is one matrix product over the batch's tiles:
M[k] = U[k] V[k], (out, C) x (C, tiles). That is 2.25x fewer multiply-adds than the columns route
(``kernels.conv_columns``), whose products for a quarter-width ResNet's layers are already at this machine's BLAS
speed; the transforms are adds, made in cache a few examples at a time. A thread's chunk of examples is one compiled
call (``_forward_chunk``, ``_backward_chunk``, its products through ``kernels.blas``), which holds no GIL: each
3x3 layer of a quarter-width ResNet-18 alone on two threads against a Python loop of transforms and ``np.matmul``
(two runs each): 16 -> 16 on 32x32 forward 2.38-2.69 -> 1.84-1.91 ms, backward 3.98-4.56 -> 3.01-3.11 ms; the
smaller layers up to 1.2x faster, the 4x4 one within the noise (benchmarks/README.md, tenth session).

Backward follows the chain rule through the same linear maps (Z[k] = (A dY A^T)[k], the gradient of M[k]):

    dU[k] = Z[k] V[k]^T,  dW[o, c] = G^T dU[o, c] G;   dV[k] = U[k]^T Z[k],  dx tile += B dV B^T (overlapping tiles add).

The error grows by a few units in the last place of float32 (the transforms have entries 1/2 and 1): the tests hold
it to PyTorch's direct convolution at the tolerances of the columns route. The reference for each compiled loop is
the same loop run by Python (``.py_func``), and for the whole route the columns route:
tests/nn/test_nn_conv_winograd.py.
"""

from functools import partial

import numpy as np

from ..memory import Workspace
from . import blas, compiled
from .blas import NO_TRANS, TRANS, product
from .conv_columns import _add_share, _chunks, _in_order, _pieces, _run_tasks

TILES_PER_PIECE = 16
"""Tiles a piece of examples gets at least (more when one example has more), so that the 16 products (out, C) x (C,
tiles) are not too narrow; above this floor ``PIECE_BYTES`` sizes the pieces. On the AMD VM of the earlier sessions
the floor was 256 (one thread, C = out = 32: 40 GFLOP/s from 256 tiles up). On the Xeon VM of the eleventh session
pieces that size spilled out of L2: a batch of 32 forward on one thread, 64 -> 64 on 8x8 in pieces of 16 examples
1428 us, of 4 (``PIECE_BYTES``'s) 1122 us; 128 -> 128 on 4x4 in one piece of 32 examples 1092 us, of 8 940 us; and
the quarter-width ResNet-18's step took 0.979x and 0.984x the time with 16 (A against A 1.014, 1.008)."""

PIECE_BYTES = 1 << 18
"""A piece's transformed input V, about this many bytes (half a core's L2 cache here), is made, used and dropped
while in cache, as are its products M: neither ever exists for the whole batch."""

TILES_PER_CHUNK = 64
"""The fewest tiles a thread's task gets: a quarter-width ResNet's 4x4 layers have 4 tiles an example."""

MIN_CHANNELS = 16
"""The fewest input and output channels this route takes. On the 2-vCPU AMD VM of the earlier sessions the
16-channel layers (a quarter-width ResNet-18's first stage, 16x32x32, batch 32) gained nothing from it in the network
(a training step 0.93-1.04x the time with them taken here, paired in one process); on the 2-vCPU Xeon (Sapphire
Rapids) VM of the ninth session the same pairing read 0.942x and 0.965x (A against A 1.002-1.004), and the columns
route's backward of that layer is 1.2x Winograd's (``benchmarks/conv_layers.py``). Below 16 the products are too
small for the transforms to pay (benchmarks/README.md)."""


def applies(weight_shape, stride, dilation, groups):
    """True for the convolutions this route computes: 2-D, 3x3, stride 1, dilation 1, groups 1, and at least
    ``MIN_CHANNELS`` input and output channels."""
    return (len(weight_shape) == 4 and tuple(weight_shape[2:]) == (3, 3) and tuple(stride) == (1, 1)
            and tuple(dilation) == (1, 1) and groups == 1 and min(weight_shape[:2]) >= MIN_CHANNELS)


def transform_weight(weight):
    """U (16, out, C), C-contiguous: U[4 i + j, o, c] = (G g[o, c] G^T)[i, j] for weights (out, C, 3, 3)."""
    weight = np.ascontiguousarray(weight)
    u = np.empty((16,) + weight.shape[:2], dtype=weight.dtype)
    _weight_tiles(weight, u)
    return u


def weight_grad(du):
    """dW (out, C, 3, 3) from dU (16, out, C): dW[o, c] = G^T dU[o, c] G."""
    du = np.ascontiguousarray(du)
    dw = np.empty(du.shape[1:] + (3, 3), dtype=du.dtype)
    _weight_tiles_adjoint(du, dw)
    return dw


# The weight transforms as loops. As a product by kron(G, G) (16, 9) on single-threaded BLAS they took 0.07-0.40 ms a
# call inside a quarter-width ResNet-18's step (16 to 128 channels, with BLAS's thread count set and restored around
# each) and their adjoints 0.03-0.26 ms, 3.4 ms of the step; these loops 0.02-0.24 and 0.02-0.16 ms, and the step
# took 0.988x the time (``ab_pair.py``, A against A 0.999).

@compiled(parallel=False)
def _weight_tiles(weight, u):
    """u[4 i + j, o, c] = (G g G^T)[i, j] for each 3x3 g = weight[o, c]. G maps (g0, g1, g2) to (g0, (g0 + g1 + g2)
    / 2, (g0 - g1 + g2) / 2, g2): first down each column of g (into h = G g, 4x3), then along each row of h.

    One output channel at a time, with its input channels c along the rows of ``g`` (9, C) and ``h`` (12, C): every
    inner loop runs along c and vectorises. Looping over (o, c) with a 3x3 at a time took 10 ns per (o, c), and
    writing u there, its 16 rows a multiple of 4 KB apart, 57 (all on one cache set)."""
    out, channels = weight.shape[:2]
    flat = weight.reshape(out, 9 * channels)  # weight[o, c, a, b] = flat[o, 9 c + 3 a + b]
    g, h = np.empty((9, channels), weight.dtype), np.empty((12, channels), weight.dtype)
    for o in range(out):
        for c in range(channels):
            for k in range(9):
                g[k, c] = flat[o, 9 * c + k]
        for j in range(3):  # column j of g: rows g[j], g[3 + j], g[6 + j] -> column j of h
            for c in range(channels):
                outer = g[j, c] + g[6 + j, c]
                h[j, c], h[9 + j, c] = g[j, c], g[6 + j, c]
                h[3 + j, c], h[6 + j, c] = (outer + g[3 + j, c]) * 0.5, (outer - g[3 + j, c]) * 0.5
        for i in range(4):  # row i of h: h[3 i .. 3 i + 2] -> u[4 i .. 4 i + 3]
            for c in range(channels):
                outer = h[3 * i, c] + h[3 * i + 2, c]
                u[4 * i, o, c], u[4 * i + 3, o, c] = h[3 * i, c], h[3 * i + 2, c]
                u[4 * i + 1, o, c] = (outer + h[3 * i + 1, c]) * 0.5
                u[4 * i + 2, o, c] = (outer - h[3 * i + 1, c]) * 0.5


@compiled(parallel=False)
def _weight_tiles_adjoint(du, dw):
    """The adjoint of ``_weight_tiles``: dw[o, c] = G^T d G for each 4x4 d = du[:, o, c] (d[i, j] = du[4 i + j]).
    G^T maps (d0, d1, d2, d3) to (d0 + (d1 + d2) / 2, (d1 - d2) / 2, (d1 + d2) / 2 + d3): first along each row of d
    (into h = d G, 4x3), then down each column of h; input channels along the rows, as in ``_weight_tiles``."""
    out, channels = dw.shape[:2]
    flat = dw.reshape(out, 9 * channels)
    h, g = np.empty((12, channels), du.dtype), np.empty((9, channels), du.dtype)
    for o in range(out):
        for i in range(4):  # row i of d: du[4 i .. 4 i + 3] -> row i of h
            for c in range(channels):
                inner = (du[4 * i + 1, o, c] + du[4 * i + 2, o, c]) * 0.5
                h[3 * i, c], h[3 * i + 2, c] = du[4 * i, o, c] + inner, inner + du[4 * i + 3, o, c]
                h[3 * i + 1, c] = (du[4 * i + 1, o, c] - du[4 * i + 2, o, c]) * 0.5
        for j in range(3):  # column j of h: h[j], h[3 + j], h[6 + j], h[9 + j] -> column j of dw[o, c]
            for c in range(channels):
                inner = (h[3 + j, c] + h[6 + j, c]) * 0.5
                g[j, c], g[6 + j, c] = h[j, c] + inner, inner + h[9 + j, c]
                g[3 + j, c] = (h[3 + j, c] - h[6 + j, c]) * 0.5
        for c in range(channels):
            for k in range(9):
                flat[o, 9 * c + k] = g[k, c]


def tile_counts(out_size):
    """(th, tw): the 2x2 tiles that cover an (oh, ow) output; the last row and column of tiles may stick out."""
    return -(-out_size[0] // 2), -(-out_size[1] // 2)


# The compiled loops work on one piece of examples. ``padded`` is the piece of x with its zero padding, sized so that
# every tile reads inside it: (examples, C, 2 th + 2, 2 tw + 2). Tile t = (n - first) th tw + a tw + b of example n
# reads padded rows 2a .. 2a + 3 and columns 2b .. 2b + 3.

# ``_pad_piece`` and ``_crop_piece`` run over flat arrays with unsigned offsets (see ``kernels.conv_columns``):
# indexing each (n, c) plane as a 2-D view, with signed indices, spent most of its time starting short loops. One
# piece of a quarter-width ResNet-18's layers, one thread, best of three medians of 50 calls, two runs: 16 examples of
# 128x4x4 104 -> 77 and 172 -> 132 us; 16 of 64x8x8 113 -> 69 and 144 -> 104 us; 4 of 32x16x16 61 -> 36 and
# 38 -> 19 us. The padding is then zeroed in one run over the whole piece before the rows of x are copied in, not
# row by row around them: two short loops a row cost more than the row's copy (median of 61 calls, the same pieces
# of 32, 16, 4 and 1 examples of 128x4x4, 64x8x8, 32x16x16 and 16x32x32: 287-305 -> 94-95 us, 127-141 -> 51-52 us,
# 36-37 -> 17 us, 12-13 -> 5 us); cropping dx out of a piece with flat offsets took 146 -> 75, 136 -> 42, 49 -> 14
# and 22 -> 4 us.

@compiled(parallel=False)
def _pad_piece(x, padded, first, last, ph, pw):
    """padded[n - first] = x[n] shifted by (ph, pw), zero elsewhere, for n in [first, last) (the rows and columns of
    x that fall outside ``padded`` are left out). x: (N, C, H, W) and padded: (examples, C, rows, cols), both
    C-contiguous."""
    channels, height, width = x.shape[1], x.shape[2], x.shape[3]
    rows, cols = padded.shape[2], padded.shape[3]
    copied_rows, copied_cols = max(0, min(height, rows - ph)), max(0, min(width, cols - pw))
    x_flat, padded_flat = x.reshape(-1), padded.reshape(-1)
    x_plane, padded_plane = height * width, rows * cols
    planes = (last - first) * channels
    for t in range(np.uint64(planes * padded_plane)):
        padded_flat[t] = 0
    for k in range(planes):
        src = np.uint64((first * channels + k) * x_plane)
        dst = np.uint64(k * padded_plane + ph * cols + pw)
        for h in range(copied_rows):
            row, from_x = dst + np.uint64(h * cols), src + np.uint64(h * width)
            for q in range(np.uint64(copied_cols)):
                padded_flat[row + q] = x_flat[from_x + q]


@compiled(parallel=False)
def _input_tiles(padded, v, th, tw):
    """v[4 i + j, c, t] = (B^T d B)[i, j] for each tile t's 4x4 input d of channel c. padded: (examples, C, 2 th + 2,
    2 tw + 2); v: (16, C, >= examples th tw). B^T maps (d0, d1, d2, d3) to (d0 - d2, d1 + d2, d2 - d1, d1 - d3):
    first down each column of d, then along each row of the result."""
    for e in range(padded.shape[0]):
        for c in range(padded.shape[1]):
            plane = padded[e, c]
            for a in range(th):
                r = 2 * a
                t0 = (e * th + a) * tw
                for b in range(tw):
                    t, q = t0 + b, 2 * b
                    s = (plane[r, q] - plane[r + 2, q], plane[r, q + 1] - plane[r + 2, q + 1],
                         plane[r, q + 2] - plane[r + 2, q + 2], plane[r, q + 3] - plane[r + 2, q + 3],
                         plane[r + 1, q] + plane[r + 2, q], plane[r + 1, q + 1] + plane[r + 2, q + 1],
                         plane[r + 1, q + 2] + plane[r + 2, q + 2], plane[r + 1, q + 3] + plane[r + 2, q + 3],
                         plane[r + 2, q] - plane[r + 1, q], plane[r + 2, q + 1] - plane[r + 1, q + 1],
                         plane[r + 2, q + 2] - plane[r + 1, q + 2], plane[r + 2, q + 3] - plane[r + 1, q + 3],
                         plane[r + 1, q] - plane[r + 3, q], plane[r + 1, q + 1] - plane[r + 3, q + 1],
                         plane[r + 1, q + 2] - plane[r + 3, q + 2], plane[r + 1, q + 3] - plane[r + 3, q + 3])
                    for i in range(0, 16, 4):
                        v[i, c, t] = s[i] - s[i + 2]
                        v[i + 1, c, t] = s[i + 1] + s[i + 2]
                        v[i + 2, c, t] = s[i + 2] - s[i + 1]
                        v[i + 3, c, t] = s[i + 1] - s[i + 3]


@compiled(parallel=False)
def _input_tiles_adjoint(dv, padded, th, tw):
    """The adjoint of ``_input_tiles``: padded = 0, then each tile's B dV B^T added to the 4x4 it was read from.
    B maps (w0, w1, w2, w3) to (w0, w1 - w2 + w3, w1 + w2 - w0, -w3): first along each row of dV, then down."""
    for e in range(padded.shape[0]):
        for c in range(padded.shape[1]):
            plane = padded[e, c]
            for r in range(plane.shape[0]):
                for q in range(plane.shape[1]):
                    plane[r, q] = 0
            for a in range(th):
                r = 2 * a
                t0 = (e * th + a) * tw
                for b in range(tw):
                    t, q = t0 + b, 2 * b
                    s = (dv[0, c, t], dv[1, c, t] - dv[2, c, t] + dv[3, c, t], dv[1, c, t] + dv[2, c, t] - dv[0, c, t],
                         -dv[3, c, t],
                         dv[4, c, t], dv[5, c, t] - dv[6, c, t] + dv[7, c, t], dv[5, c, t] + dv[6, c, t] - dv[4, c, t],
                         -dv[7, c, t],
                         dv[8, c, t], dv[9, c, t] - dv[10, c, t] + dv[11, c, t],
                         dv[9, c, t] + dv[10, c, t] - dv[8, c, t], -dv[11, c, t],
                         dv[12, c, t], dv[13, c, t] - dv[14, c, t] + dv[15, c, t],
                         dv[13, c, t] + dv[14, c, t] - dv[12, c, t], -dv[15, c, t])
                    for j in range(4):
                        plane[r, q + j] += s[j]
                        plane[r + 1, q + j] += s[4 + j] - s[8 + j] + s[12 + j]
                        plane[r + 2, q + j] += s[4 + j] + s[8 + j] - s[j]
                        plane[r + 3, q + j] -= s[12 + j]


@compiled(parallel=False)
def _output_tiles(m, bias, add_bias, y, first, last, th, tw):
    """y[n, o, 2a + i, 2b + j] = (A^T m[:, o, t] A)[i, j] (+ bias[o]) for the examples n in [first, last), where it
    lies inside y (N, out, oh, ow); m: (16, out, >= (last - first) th tw)."""
    oh, ow = y.shape[2], y.shape[3]
    for n in range(first, last):
        for o in range(y.shape[1]):
            beta = bias[o] if add_bias else 0
            for a in range(th):
                p, t0 = 2 * a, ((n - first) * th + a) * tw
                for b in range(tw):
                    t, q = t0 + b, 2 * b
                    # A^T m: rows (0 + 1 + 2, 1 - 2 - 3), one column of m at a time
                    s0_0 = m[0, o, t] + m[4, o, t] + m[8, o, t]
                    s0_1 = m[1, o, t] + m[5, o, t] + m[9, o, t]
                    s0_2 = m[2, o, t] + m[6, o, t] + m[10, o, t]
                    s0_3 = m[3, o, t] + m[7, o, t] + m[11, o, t]
                    s1_0 = m[4, o, t] - m[8, o, t] - m[12, o, t]
                    s1_1 = m[5, o, t] - m[9, o, t] - m[13, o, t]
                    s1_2 = m[6, o, t] - m[10, o, t] - m[14, o, t]
                    s1_3 = m[7, o, t] - m[11, o, t] - m[15, o, t]
                    y[n, o, p, q] = s0_0 + s0_1 + s0_2 + beta
                    if q + 1 < ow:
                        y[n, o, p, q + 1] = s0_1 - s0_2 - s0_3 + beta
                    if p + 1 < oh:
                        y[n, o, p + 1, q] = s1_0 + s1_1 + s1_2 + beta
                        if q + 1 < ow:
                            y[n, o, p + 1, q + 1] = s1_1 - s1_2 - s1_3 + beta


@compiled(parallel=False)
def _output_tiles_adjoint(dy, z, first, last, th, tw):
    """The adjoint of ``_output_tiles`` (the gradient of m): z[:, o, t] = A dY A^T for each tile's 2x2 of dy (0 where
    it sticks out of dy), for the examples n in [first, last). dy: (N, out, oh, ow); z: (16, out, >= tiles)."""
    oh, ow = dy.shape[2], dy.shape[3]
    for n in range(first, last):
        for o in range(dy.shape[1]):
            for a in range(th):
                p, t0 = 2 * a, ((n - first) * th + a) * tw
                for b in range(tw):
                    t, q = t0 + b, 2 * b
                    right, down = q + 1 < ow, p + 1 < oh
                    g00 = dy[n, o, p, q]
                    g01 = dy[n, o, p, q + 1] if right else 0
                    g10 = dy[n, o, p + 1, q] if down else 0
                    g11 = dy[n, o, p + 1, q + 1] if right and down else 0
                    # A maps a 2-vector (u, v) to (u, u + v, u - v, -v): first down the columns, then along the rows
                    c0_0, c1_0, c2_0, c3_0 = g00, g00 + g10, g00 - g10, -g10
                    c0_1, c1_1, c2_1, c3_1 = g01, g01 + g11, g01 - g11, -g11
                    z[0, o, t], z[1, o, t], z[2, o, t], z[3, o, t] = c0_0, c0_0 + c0_1, c0_0 - c0_1, -c0_1
                    z[4, o, t], z[5, o, t], z[6, o, t], z[7, o, t] = c1_0, c1_0 + c1_1, c1_0 - c1_1, -c1_1
                    z[8, o, t], z[9, o, t], z[10, o, t], z[11, o, t] = c2_0, c2_0 + c2_1, c2_0 - c2_1, -c2_1
                    z[12, o, t], z[13, o, t], z[14, o, t], z[15, o, t] = c3_0, c3_0 + c3_1, c3_0 - c3_1, -c3_1


@compiled(parallel=False)
def _crop_piece(padded, dx, first, last, ph, pw):
    """dx[n] = padded[n - first] cut back to x's size (the inverse of ``_pad_piece``'s shift), for n in [first, last).
    padded: (examples, C, rows, cols) and dx: (N, C, H, W), both C-contiguous."""
    channels, height, width = dx.shape[1], dx.shape[2], dx.shape[3]
    rows, cols = padded.shape[2], padded.shape[3]
    dx_flat, padded_flat = dx.reshape(-1), padded.reshape(-1)
    x_plane, padded_plane = height * width, rows * cols
    for k in range((last - first) * channels):
        src = np.uint64(k * padded_plane + ph * cols + pw)
        dst = np.uint64((first * channels + k) * x_plane)
        for h in range(height):
            from_padded, row = src + np.uint64(h * cols), dst + np.uint64(h * width)
            for q in range(np.uint64(width)):
                dx_flat[row + q] = padded_flat[from_padded + q]


def _row_length(tiles, channels, itemsize):
    """The row length of V, M or Z (16, channels, row length) for ``tiles`` tiles: at least ``tiles``, chosen so that
    the 16 slices [k], written side by side, start on at least 8 different cache sets (sets of 64 bytes, repeating
    every 4 KB). Laid out whole, 256 float32 tiles of 16 channels put them 16 KB apart, all on one set: the input
    transform of a 16x32x32 batch took 7.1 ms instead of 0.87 (one thread)."""
    for length in range(tiles, tiles + 1024):
        stride = channels * length * itemsize
        if len({(k * stride % 4096) // 64 for k in range(16)}) >= 8:
            return length
    return tiles


def _examples_per_piece(channels, tiles_per_example, itemsize):
    """Examples whose V (16 C tiles each) makes about ``PIECE_BYTES``, and at least ``TILES_PER_PIECE`` tiles."""
    return max(1, -(-TILES_PER_PIECE // tiles_per_example),
               PIECE_BYTES // max(1, 16 * channels * tiles_per_example * itemsize))


FINITE_CHECK = """Winograd's transforms subtract inputs of one tile from each other: an inf in x gives NaN where a direct
convolution gives inf, and a NaN reaches outputs whose window does not hold it. So the callers make a result that is
not all finite again by the columns route (``nn.functional.conv``). Each piece of y (and of dx) is checked here while
it is still in cache (``_nonfinite_sum``, 4 us for a piece of 16k float32 values here). ``numpy.isfinite(y).all()``
on each whole result afterwards (dx's and dW's too) took 115-130 us for one 32x16x32x32 y alone and more in the
network, where y has left the cache and the bool temporary is fresh memory: the quarter-width ResNet-18's step took
0.964x and 0.953x the time without it (``ab_pair.py``, A against A 1.013, 1.000)."""


@compiled(parallel=False, fastmath={"reassoc"})
def _nonfinite_sum(values, first, stop):
    """The sum of values[first:stop] * 0 (values: a flat array): 0 when they are all finite, NaN when one is not
    (inf * 0 and NaN * 0 are NaN, and a NaN stays in the sum). ``reassoc`` lets LLVM sum in vector lanes; no flag
    lets it take x * 0 for 0."""
    total = values.dtype.type(0)
    for i in range(first, stop):
        total += values[i] * 0
    return total


def _all_finite(checks):
    """True when every ``_nonfinite_sum`` in ``checks`` was 0."""
    return all(check == 0 for check in checks)


@compiled(parallel=False)
def _forward_chunk(gemm, x, u, bias, add_bias, y, padded, v, m, first, last, per_piece, ph, pw, th, tw):
    """``conv3x3_forward``'s work on the examples [first, last) as one call, which holds no GIL (``kernels.blas``):
    piece by piece, the padded input, its tiles V, the 16 products M[k] = U[k] V[k] (``gemm``: NumPy's BLAS), the
    output tiles. padded, v, m: this thread's work arrays, as the Python loop of ``conv3x3_forward`` uses them.
    Returns the ``_nonfinite_sum`` of y's examples [first, last) (``FINITE_CHECK``)."""
    per_example = th * tw
    y_flat, example_size = y.reshape(-1), y[0].size
    check = y.dtype.type(0)
    for lo in range(first, last, per_piece):
        hi = min(lo + per_piece, last)
        count, width = hi - lo, (hi - lo) * per_example
        _pad_piece(x, padded[:count], lo, hi, ph, pw)
        _input_tiles(padded[:count], v, th, tw)
        for k in range(16):
            product(gemm, u[k], NO_TRANS, v[k, :, :width], NO_TRANS, m[k, :, :width], 0.0)
        _output_tiles(m, bias, add_bias, y, lo, hi, th, tw)
        check += _nonfinite_sum(y_flat, lo * example_size, hi * example_size)
    return check


def conv3x3_forward(x, u, bias, pads, out_size):
    """(y, finite): y (N, out, oh, ow), a new array, for x (N, C, H, W) and the transformed weights ``u`` (16, out,
    C) (``transform_weight``), and whether y is all finite (``FINITE_CHECK``); ``pads``: the leading padding (ph,
    pw) (the trailing padding is whatever makes the output (oh, ow))."""
    x = np.ascontiguousarray(x)  # the compiled loops read it flat
    n, channels = x.shape[:2]
    out = u.shape[1]
    th, tw = tile_counts(out_size)
    per_example = th * tw
    y = np.empty((n, out) + tuple(out_size), dtype=x.dtype)
    has_bias = bias is not None
    bias_values = bias if has_bias else np.zeros(out, dtype=x.dtype)
    per_piece = _examples_per_piece(channels, per_example, x.itemsize)
    gemm = blas.gemm(x.dtype) if u.dtype == x.dtype else None
    checks = []  # each chunk's _nonfinite_sum (list.append is atomic: chunks run on several threads)

    def examples(first, last):
        scratch = Workspace(np)
        size = min(per_piece, last - first)
        padded = scratch.empty((size, channels, 2 * th + 2, 2 * tw + 2), x.dtype)
        v = scratch.empty((16, channels, _row_length(size * per_example, channels, x.itemsize)), x.dtype)
        m = scratch.empty((16, out, _row_length(size * per_example, out, x.itemsize)), x.dtype)
        if gemm is not None:  # the loop below in one call that holds no GIL
            checks.append(_forward_chunk(gemm, x, np.ascontiguousarray(u), bias_values, has_bias, y, padded, v, m,
                                         first, last, per_piece, *pads, th, tw))
            scratch.release()
            return
        for lo, hi, _ in _pieces(first, last, per_piece, per_example):
            count = hi - lo
            _pad_piece(x, padded[:count], lo, hi, *pads)
            _input_tiles(padded[:count], v, th, tw)
            width = count * per_example
            np.matmul(u, v[:, :, :width], out=m[:, :, :width])
            _output_tiles(m, bias_values, has_bias, y, lo, hi, th, tw)
            checks.append(_nonfinite_sum(y.reshape(-1), lo * y[0].size, hi * y[0].size))
        scratch.release()

    tasks = [partial(examples, *chunk) for chunk in _chunks(n, -(-TILES_PER_CHUNK // per_example))]
    _run_tasks(tasks, 16 * out * channels * n * per_example)
    return y, _all_finite(checks)


@compiled(parallel=False)
def _backward_chunk(gemm, dy, x, u, dx, du_t, need_x, need_w, z, padded, v, first, last, per_piece, ph, pw, th, tw):
    """``conv3x3_backward``'s work on the examples [first, last) as one call, which holds no GIL (``kernels.blas``):
    piece by piece, Z = the output tiles' adjoint of dy; for dU, the input's tiles V and du_t[k] += V[k] Z[k]^T
    (dU[k]^T, the order ``_add_share`` explains); for dx, V[k] = U[k]^T Z[k], its tiles spread back and cropped into
    dx. x, dx: any array where ``need_w``, ``need_x`` is False (not read). Returns the ``_nonfinite_sum`` of dx's
    examples [first, last) (0 without dx; ``FINITE_CHECK``)."""
    per_example = th * tw
    dx_flat, example_size = dx.reshape(-1), dx[0].size
    check = dx.dtype.type(0)
    started = False
    for lo in range(first, last, per_piece):
        hi = min(lo + per_piece, last)
        count, width = hi - lo, (hi - lo) * per_example
        _output_tiles_adjoint(dy, z, lo, hi, th, tw)
        if need_w:
            _pad_piece(x, padded[:count], lo, hi, ph, pw)
            _input_tiles(padded[:count], v, th, tw)
            for k in range(16):
                product(gemm, v[k, :, :width], NO_TRANS, z[k, :, :width], TRANS, du_t[k], 1.0 if started else 0.0)
            started = True
        if need_x:
            for k in range(16):
                product(gemm, u[k], TRANS, z[k, :, :width], NO_TRANS, v[k, :, :width], 0.0)
            _input_tiles_adjoint(v, padded[:count], th, tw)
            _crop_piece(padded, dx, lo, hi, ph, pw)
            check += _nonfinite_sum(dx_flat, lo * example_size, hi * example_size)
    return check


def conv3x3_backward(dy, x, u, pads, x_shape, need_x, need_w, need_b):
    """(dx, dU, db, finite) of ``conv3x3_forward``, the first three None unless asked: dx (N, C, H, W) and dU (16,
    out, C) new arrays (``weight_grad`` turns dU into dW), db (out,); finite: whether dx is all finite (True without
    dx; ``FINITE_CHECK``). ``x`` is the forward's input (read only for dU)."""
    n, out = dy.shape[:2]
    channels = x_shape[1]
    th, tw = tile_counts(dy.shape[2:])
    per_example = th * tw
    dy = np.ascontiguousarray(dy)
    x = None if x is None else np.ascontiguousarray(x)
    db = dy.sum(axis=(0, 2, 3)) if need_b else None
    dx = np.empty(x_shape, dtype=dy.dtype) if need_x else None
    u_t = u.transpose(0, 2, 1)  # BLAS reads it transposed: a copy took 0.43 ms for 128 x 128 channels
    per_piece = _examples_per_piece(max(channels, out), per_example, dy.itemsize)
    partial_sums = {}  # chunk start -> that chunk's share of dU
    same_dtype = u.dtype == dy.dtype and (x is None or x.dtype == dy.dtype)
    gemm = blas.gemm(dy.dtype) if same_dtype and (need_x or need_w) else None
    checks = []  # each chunk's _nonfinite_sum of dx

    def examples(first, last):
        scratch = Workspace(np)
        size = min(per_piece, last - first)
        z = scratch.empty((16, out, _row_length(size * per_example, out, dy.itemsize)), dy.dtype)
        padded = scratch.empty((size, channels, 2 * th + 2, 2 * tw + 2), dy.dtype)
        v = scratch.empty((16, channels, _row_length(size * per_example, channels, dy.itemsize)), dy.dtype)
        if gemm is not None:  # the loop below in one call that holds no GIL
            du_t = np.empty((16, channels, out), dy.dtype) if need_w else z
            checks.append(_backward_chunk(gemm, dy, x if need_w else dy, np.ascontiguousarray(u),
                                          dx if need_x else dy, du_t, need_x, need_w, z, padded, v, first, last,
                                          per_piece, *pads, th, tw))
            if need_w:
                partial_sums[first] = du_t.transpose(0, 2, 1)
            scratch.release()
            return
        for lo, hi, _ in _pieces(first, last, per_piece, per_example):
            count, width = hi - lo, (hi - lo) * per_example
            _output_tiles_adjoint(dy, z, lo, hi, th, tw)
            if need_w:
                _pad_piece(x, padded[:count], lo, hi, *pads)
                _input_tiles(padded[:count], v, th, tw)
                _add_share(partial_sums, first, z[:, :, :width], v[:, :, :width].transpose(0, 2, 1))
            if need_x:
                np.matmul(u_t, z[:, :, :width], out=v[:, :, :width])
                _input_tiles_adjoint(v, padded[:count], th, tw)
                _crop_piece(padded, dx, lo, hi, *pads)
                checks.append(_nonfinite_sum(dx.reshape(-1), lo * dx[0].size, hi * dx[0].size))
        scratch.release()

    tasks = [partial(examples, *chunk) for chunk in _chunks(n, -(-TILES_PER_CHUNK // per_example))]
    _run_tasks(tasks, 16 * out * channels * n * per_example * (need_w + need_x))
    du = _in_order(partial_sums, (16, out, channels), dy.dtype) if need_w else None
    return dx, du, db, _all_finite(checks)


def all_finite(a):
    """True when no element of the C-contiguous array ``a`` is NaN or infinite (``_nonfinite_sum``, one pass with no
    temporary; as ``numpy.isfinite(a).all()``)."""
    return bool(_nonfinite_sum(a.reshape(-1), 0, a.size) == 0)


__all__ = ["applies", "transform_weight", "weight_grad", "tile_counts", "conv3x3_forward", "conv3x3_backward",
           "all_finite"]
