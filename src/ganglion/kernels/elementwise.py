"""ReLU's forward and backward as one compiled pass over flat float arrays, shared over the threads.

NumPy computes ``max(x, 0)`` in one single-core pass and the gradient ``dy * (y != 0)`` in two (a compare into a
bool temporary, then a product); these loops read each element once and write it once, in chunks that the calling
thread and the pool's threads take in turn (``kernels.parallel_ranges``). They restate ``ops.unary.ReLU``'s NumPy
rule element for element and give the same bits: ``tests/ops/test_ops_relu_kernels.py`` compares the two.

Arrays: float32 or float64, C-contiguous, of one dtype and shape (``covers`` says when a call qualifies).
"""

import numpy as np

from . import compiled, parallel_ranges, usable

#: the smallest chunk handed to another thread, in elements: arrays of 2^21 elements and more are shared. A hand-off
#: to a sleeping pool thread costs 0.1-0.3 ms on the 2-vCPU VM: at 2^19 float32 (a 32x16x32x32 activation; the grain
#: was 2^18) two threads took 1.5x one thread's time forward (183 against 120 us, best of six medians of 200 calls)
#: and 1.2x backward (193 against 157); from 2^21 they took 0.55-0.86x (``benchmarks/thread_grains.py``).
GRAIN = 1 << 20
#: arrays below this many elements stay on NumPy: measured, the compiled call and NumPy tie at 1024 float32
#: (2.2 us) and the compiled one wins from 4096 (2.4 against 4.3 us forward, 2.9 against 3.7 us backward)
MIN_SIZE = 1 << 12


def covers(*arrays):
    """True when the compiled ReLU takes these arrays: NumPy, float32/float64, C-contiguous, all of the first's
    dtype and shape, and at least ``MIN_SIZE`` elements."""
    if not usable(*arrays):
        return False
    first = arrays[0]
    return (first.dtype in (np.float32, np.float64) and first.size >= MIN_SIZE
            and all(a.dtype == first.dtype and a.shape == first.shape and a.flags.c_contiguous for a in arrays))


def relu(x, out=None):
    """y = max(x, 0), NaN kept (as ``np.maximum(x, 0)``): a new array shaped like x, or written into ``out`` (x
    itself, for an in-place ReLU: each element is read before it is written)."""
    y = np.empty_like(x) if out is None else out
    _over_flat_chunks(_relu_loop, (x.reshape(-1), y.reshape(-1)))
    return y


def relu_backward(dy, y):
    """dx = dy where y != 0, else dy * 0 (0, or NaN where dy is inf or NaN, as the NumPy rule ``dy * (y != 0)``);
    y is ReLU's output: 0, positive or NaN. A new array shaped like dy."""
    dx = np.empty_like(dy)
    _over_flat_chunks(_relu_backward_loop, (dy.reshape(-1), y.reshape(-1), dx.reshape(-1)))
    return dx


def _over_flat_chunks(loop, flat_arrays):
    """Run ``loop(*flat_arrays)`` over chunks of the arrays (1-D, one length), on the threads when they are long."""
    size = flat_arrays[0].size
    if size < 2 * GRAIN:  # one chunk: no slicing, no hand-off
        loop(*flat_arrays)
        return
    parallel_ranges(size, lambda start, stop: loop(*[a[start:stop] for a in flat_arrays]), GRAIN)


@compiled(parallel=False)
def _relu_loop(x, y):
    """y = x where x > 0 or x is NaN, else 0 (-0.0 gives +0.0, as ``np.maximum``)."""
    for i in range(x.size):
        v = x[i]
        y[i] = v if v > 0 or v != v else 0


@compiled(parallel=False)
def _relu_backward_loop(dy, y, dx):
    """dx = dy * (y != 0), element by element."""
    for i in range(dy.size):
        g = dy[i]
        dx[i] = g if y[i] != 0 else g * 0
