"""Batched matrix products for convolutions: the batch split over ganglion's threads, BLAS single-threaded inside.

A convolution's products are one small GEMM per example (a 7x7 conv 128 -> 1: 64 products of (49, 128) x (128,
1156); a quarter-width ResNet's: (16..128, 144..1152) x (.., 64..1088)). OpenBLAS threads each of them on its own,
waking its threads and waiting for them once per example. On an idle 2-core machine that is a modest gain; with the
other core busy (other processes, ``python -c "while True: pass"``) every wait can last a scheduler tick, and two
threads became many times slower than one. Measured on 2 cores at load ~24, 64 products of (49, 128) x (128, 1156),
best of 7: 243-292 ms with OpenBLAS's 2 threads, 54 ms with 1, 35-56 ms with 1 BLAS thread on each of 2 Python
threads (each half of the batch). So here the examples are cut into chunks that ganglion's threads share
(``kernels.parallel_ranges``: the calling thread works too, and never waits for a thread that has not started), each
chunk's products single-threaded (NumPy's matmul releases the GIL).

BLAS's own thread count is process-wide. While any of these products runs it is set to 1 and restored when the last
one returns (a count under a lock, so overlapping calls from several threads restore the value seen by the first);
BLAS calls elsewhere in the process during that window run single-threaded (slower, never different). The off switch
is ganglion's: ``GANGLION_COMPILED=0`` (``usable`` says no) gives plain ``numpy.matmul``.
"""

from __future__ import annotations

import threading

import numpy as np

from . import backoff_epoch, get_num_threads, machine_busy, parallel_ranges
from .blas import blas_threads_spinning

MIN_WORK_PER_THREAD = 1 << 22
"""Multiply-adds a thread must get before a product is split: below it, handing work to a thread costs more than it
saves. At 16 M (2^24) LeNet-5's convolutions (9-20 M multiply-adds over the batch) stayed on one thread. Since
linear layers keep OpenBLAS's workers from spinning while ganglion's threads are at work (``nn.functional.linear``),
4 M gives LeNet-5's step 0.94x the time of 16 M (three runs of 30 steps each way, each in its own process; 2 M:
0.95x) and the quarter-width ResNet-18's 0.98x (within the noise). On a busy machine a stalled hand-off backs off
to one thread (``kernels.back_off``)."""

_lock = threading.Lock()
_state = {"depth": 0, "saved": None, "blas": None, "epoch": 0}


def _blas_controllers():
    if _state["blas"] is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl is a dependency
            _state["blas"] = []
        else:
            _state["blas"] = ThreadpoolController().select(user_api="blas").lib_controllers
    return _state["blas"]


class _SingleThreadedBlas:
    """``with _SingleThreadedBlas():`` BLAS runs on one thread inside; the outermost exit restores its count (or, when
    a busy-machine back-off began or ended meanwhile, sets what the back-off wants: ``kernels.back_off``)."""

    def __enter__(self):
        with _lock:
            if _state["depth"] == 0:
                libs = _blas_controllers()
                _state["saved"] = [lib.get_num_threads() for lib in libs]
                _state["epoch"] = backoff_epoch()
                for lib in libs:
                    lib.set_num_threads(1)
            _state["depth"] += 1

    def __exit__(self, *exc):
        with _lock:
            _state["depth"] -= 1
            if _state["depth"] == 0:
                saved = _state["saved"]
                if backoff_epoch() != _state["epoch"]:
                    saved = [1 if machine_busy() else get_num_threads()] * len(saved)
                for lib, n in zip(_blas_controllers(), saved):
                    lib.set_num_threads(n)


def single_threaded_blas():
    """``with single_threaded_blas():`` BLAS runs on one thread inside (``_SingleThreadedBlas``), for callers outside
    ``ganglion.kernels``."""
    return _SingleThreadedBlas()


def blas_window_open():
    """True while some thread is inside a ``_SingleThreadedBlas`` window."""
    return _state["depth"] > 0


def _chunk(operand, start, stop, batch, ndim):
    """The rows [start, stop) of ``operand``'s batch axis, or the operand itself where it broadcasts over it."""
    if operand.ndim == ndim and operand.shape[0] == batch:
        return operand[start:stop]
    return operand


def _grain(batch, multiply_adds):
    """The fewest examples a chunk gets: enough for ``MIN_WORK_PER_THREAD`` multiply-adds (the whole batch when the
    product is too small to share)."""
    per_example = max(1, multiply_adds // max(batch, 1))
    return max(1, -(-MIN_WORK_PER_THREAD // per_example))


def batched_matmul(a, b, out):
    """out = a @ b (numpy.matmul's broadcasting; ``out`` has the broadcast shape, its first axis the batch of
    examples), the batch shared over ``get_num_threads()`` threads by ``parallel_ranges``, each product on
    single-threaded BLAS. Returns ``out``."""
    batch = out.shape[0]
    with _SingleThreadedBlas():
        if out.ndim <= 2:
            return np.matmul(a, b, out=out)

        def part(lo, hi):
            np.matmul(_chunk(a, lo, hi, batch, out.ndim), _chunk(b, lo, hi, batch, out.ndim), out=out[lo:hi])

        parallel_ranges(batch, part, _grain(batch, out.size * a.shape[-1]))
    return out


def matmul_sum(a, b):
    """sum_i a[i] @ b[i] over the batch (the first axis of both; the rest broadcast as numpy.matmul), a new array.

    Each chunk of examples sums its products into an array of its own (single-threaded BLAS), and the chunks' sums
    are added at the end: no (N, M, P) array of per-example products. Used for a convolution's weight gradient,
    sum_n cols[n] dy[n]^T. The reference is that loop over n in NumPy.
    """
    batch = a.shape[0]
    shares = {}

    def part(lo, hi):
        total = np.matmul(a[lo], b[lo])
        for k in range(lo + 1, hi):
            total += np.matmul(a[k], b[k])
        shares[lo] = total

    with _SingleThreadedBlas():
        parallel_ranges(batch, part, _grain(batch, a.size * b.shape[-1]))
    total = None
    for lo in sorted(shares):  # in batch order, so a run's result does not depend on which thread took what
        total = shares[lo] if total is None else total + shares[lo]
    return total


def matmul_rows_shared(a, b):
    """a @ b for 2-D NumPy arrays a (M, K) and b (K, N), a new (M, N) array, its rows shared over
    ``get_num_threads()`` threads by ``parallel_ranges``, each share one product on single-threaded BLAS. For a
    large product between loops that run on ganglion's own threads: on BLAS's threads it would leave OpenBLAS's
    workers spinning, taking a core from those loops (``blas.blas_threads_spinning``). When they are spinning
    already, the product goes to them (``np.matmul``): ganglion's second thread would get half a core."""
    if blas_threads_spinning():
        return np.matmul(a, b)
    out = np.empty((a.shape[0], b.shape[1]), dtype=np.result_type(a, b))

    def part(lo, hi):
        np.matmul(a[lo:hi], b, out=out[lo:hi])

    with _SingleThreadedBlas():
        parallel_ranges(a.shape[0], part, _grain(a.shape[0], a.shape[0] * b.size))
    return out


def matmul_inner_shared(a, b):
    """a^T @ b for 2-D NumPy arrays a (K, M) and b (K, N), a new (M, N) array: the K rows shared over
    ``get_num_threads()`` threads (one share each, single-threaded BLAS), the shares' products added in row order,
    so that the result does not depend on which thread took what. For a weight gradient summed over many rows (the
    LSTM's, over every step and example: (3200 x 512)^T (3200 x 161)), where splitting the output's rows instead
    had each thread read all of b: 2.4 ms against 3.1 ms alone, OpenBLAS's own two threads 2.2 ms (which leave its
    workers spinning: ``matmul_rows_shared``). While they spin already, one product on them."""
    rows = a.shape[0]
    if blas_threads_spinning():
        return a.T @ b
    shares = {}

    def part(lo, hi):
        shares[lo] = a[lo:hi].T @ b[lo:hi]

    with _SingleThreadedBlas():
        per_row = a.shape[1] * b.shape[1]
        parallel_ranges(rows, part, max(-(-rows // get_num_threads()), _grain(rows, rows * per_row)))
    total = None
    for lo in sorted(shares):
        total = shares[lo] if total is None else total + shares[lo]
    return total if total is not None else np.zeros((a.shape[1], b.shape[1]), dtype=np.result_type(a, b))
