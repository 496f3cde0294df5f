"""2x2 max pooling with stride 2 (LeNet's, VGG's) as compiled loops over the (N, C) planes, shared over the
threads: the forward (each window's maximum and which of its four elements won) and the backward (dy put at each
window's winner).

The NumPy path (``nn.functional.pooling.MaxPool``) pads the input, then makes one whole-array pass per kernel
offset and several more for the winner; these loops read each window once. They give the NumPy path's results:
``tests/nn/test_nn_max_pool_kernels.py`` compares the two, and PyTorch.

Only this one window is compiled, its sizes written as constants: LLVM then vectorizes the loop. A general loop
(any kernel, stride, padding and dilation as arguments, windows clipped to the input) was measured slower than the
NumPy path it would replace (2.3 ms against 0.5 ms of CPU time for 64x6x28x28 float32), so the other windows stay
on NumPy.

Windows: output (oh, ow) reads x[2 oh + a, 2 ow + b], a, b in {0, 1}; element (a, b) has the number 2 a + b. The
winner follows PyTorch: the first maximum, except that NaN propagates and the last NaN wins.
"""

import numpy as np

from . import compiled, parallel_ranges, usable

#: the smallest chunk of input handed to another thread, in elements (whole planes are handed out). A hand-off to a
#: sleeping pool thread costs 0.1-0.3 ms on the 2-vCPU VM: ``benchmarks/thread_grains.py`` had two threads 1.4-1.8x
#: one thread's time at 262k elements, 1.0-1.05x at 524k, 0.5-0.66x from 2M; with 2^16 LeNet-5's first pooling
#: (64x6x28x28, 301k) was shared, and its step took 0.96x the time at 2^19 (``ab_pair.py``, A against A 1.01x).
#: No size below which NumPy wins was found: at 1x1x4x4 a call takes 46 us against 76 us (mostly the Python around
#: both paths).
GRAIN = 1 << 19


def covers(array, sizes, out, kernel, stride, padding, dilation):
    """True when the compiled loops take this pooling of (N, C, *sizes) into (N, C, *out): ``array`` (x in the
    forward, dy in the backward) a non-empty NumPy (N, C, H, W) array of float32 or float64; 2x2 windows with stride
    2, no padding or dilation, every window inside the input (out = sizes // 2)."""
    return (usable(array) and array.ndim == 4 and array.size > 0 and array.dtype in (np.float32, np.float64)
            and tuple(kernel) == (2, 2) and tuple(stride) == (2, 2) and not any(padding)
            and tuple(dilation) == (1, 1) and all(o == size // 2 for o, size in zip(out, sizes)))


def max_pool2x2(x):
    """(best, arg): x (N, C, H, W) -> best (N, C, H // 2, W // 2), each window's maximum, and arg of the same
    shape (int8, as the NumPy path's), the number of the element that won."""
    n, c, height, width = x.shape
    best = np.empty((n, c, height // 2, width // 2), dtype=x.dtype)
    arg = np.empty(best.shape, dtype=np.int8)
    _over_planes(x.shape, lambda start, stop: _max_pool2x2_planes(x, best, arg, start, stop))
    return best, arg


def max_pool2x2_backward(dy, arg, input_shape):
    """dx (``input_shape``): dy (N, C, H // 2, W // 2) put at each window's winner (``arg`` from ``max_pool2x2``),
    zeros elsewhere (also where dy is inf or NaN, as PyTorch; the NumPy path's ``dy * (arg == k)`` gives NaN
    there)."""
    dx = np.empty(input_shape, dtype=dy.dtype)
    _over_planes(input_shape, lambda start, stop: _max_pool2x2_backward_planes(dy, arg, dx, start, stop))
    return dx


def _over_planes(shape, work):
    """Run ``work(start, stop)`` over the N C planes of an (N, C, H, W) array, chunks of whole planes of at least
    ``GRAIN`` elements shared over the threads."""
    planes, plane_size = shape[0] * shape[1], shape[2] * shape[3]
    parallel_ranges(planes, work, max(1, GRAIN // plane_size))


@compiled(parallel=False)
def _max_pool2x2_planes(x, best, arg, start, stop):
    """best, arg of planes [start, stop) (plane p is x[p // C, p % C]). The winner is counted without branches,
    as the number of leading elements that are not the maximum (a branch on a comparison of random data
    mispredicts half the time: 5 times slower); a plane holding NaN is then corrected window by window."""
    channels = x.shape[1]
    out_h, out_w = best.shape[2], best.shape[3]
    for plane in range(start, stop):
        i, j = plane // channels, plane % channels
        x_plane, best_plane, arg_plane = x[i, j], best[i, j], arg[i, j]
        has_nan = False
        for oh in range(out_h):
            for ow in range(out_w):
                v0, v1 = x_plane[2 * oh, 2 * ow], x_plane[2 * oh, 2 * ow + 1]
                v2, v3 = x_plane[2 * oh + 1, 2 * ow], x_plane[2 * oh + 1, 2 * ow + 1]
                value = max(max(v0, v1), max(v2, v3))
                not_0 = v0 != value
                not_01 = not_0 & (v1 != value)
                not_012 = not_01 & (v2 != value)
                best_plane[oh, ow] = value
                arg_plane[oh, ow] = np.int8(not_0) + np.int8(not_01) + np.int8(not_012)
                has_nan |= (v0 != v0) | (v1 != v1) | (v2 != v2) | (v3 != v3)
        if has_nan:
            for oh in range(out_h):
                for ow in range(out_w):
                    for k in range(4):
                        v = x_plane[2 * oh + k // 2, 2 * ow + k % 2]
                        if v != v:  # the last NaN wins, and is the value
                            best_plane[oh, ow] = v
                            arg_plane[oh, ow] = k


@compiled(parallel=False)
def _max_pool2x2_backward_planes(dy, arg, dx, start, stop):
    """dx of planes [start, stop): zeros, then each window's dy written at its winner (windows do not overlap)."""
    channels = dx.shape[1]
    out_h, out_w = dy.shape[2], dy.shape[3]
    for plane in range(start, stop):
        i, j = plane // channels, plane % channels
        dx_plane, dy_plane, arg_plane = dx[i, j], dy[i, j], arg[i, j]
        dx_plane[:] = 0
        for oh in range(out_h):
            for ow in range(out_w):
                k = arg_plane[oh, ow]
                dx_plane[2 * oh + (k >> 1), 2 * ow + (k & 1)] = dy_plane[oh, ow]
