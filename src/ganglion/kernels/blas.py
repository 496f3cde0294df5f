"""NumPy's own BLAS matrix product, callable from inside a compiled kernel (``gemm``), so that a thread's whole share
of a convolution (copies, products, copies) is one call that holds no GIL.

Why: ganglion's threads share a convolution's examples in chunks (``kernels.parallel_ranges``), and a chunk used to
be a Python loop of short calls, each of which gives up the GIL and takes it back: im2col (13 us), ``np.matmul``
(40 us), the copy to the output (5 us). CPython hands the GIL to a waiting thread only when its holder lets go for
long enough for that thread to wake; on the 2-vCPU Xeon VM of benchmarks/README.md (tenth session) a woken thread
needs tens of microseconds, so the calling thread, taking the GIL straight back after each short call, kept the pool
thread from its first line until the caller's own share was done: LeNet-5's second convolution (batch 64, forward)
took 888 us on two threads against 769 on one, the pool thread starting 361 us late. With each chunk one compiled
call (this module's product inside it) the same layer took 401 us on two threads against 607 on one.

``gemm(dtype)`` is NumPy's BLAS ``cblas_sgemm``/``cblas_dgemm`` as a ctypes function, found in the library NumPy
itself loaded (threadpoolctl names it) and checked once against ``numpy.matmul``; None where there is none to find
(another BLAS layout, macOS's Accelerate): callers then keep their Python loop. The function is passed to a kernel as
an argument, not read as a global, so that numba still caches the kernel on disk (a global function pointer is an
address of this process). Inside a kernel, ``product`` calls it on row-major 2-D arrays.
"""

import ctypes
import os
import threading
import time

import numpy as np

from . import compiled

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112  # the CBLAS enums

_CANDIDATES = (  # (symbol prefix, suffix, integer type) of cblas_?gemm in the builds NumPy ships or links
    ("scipy_cblas_", "64_", ctypes.c_int64),  # NumPy >= 2 wheels: scipy-openblas64
    ("cblas_", "64_", ctypes.c_int64),        # NumPy 1.2x wheels: openblas64_
    ("scipy_cblas_", "", ctypes.c_int),       # scipy-openblas32
    ("cblas_", "", ctypes.c_int),             # a system OpenBLAS, MKL's LP64 interface
)
ENABLED = True
"""False: ``gemm`` finds nothing, and every caller keeps its Python loop (to measure what this module gains:
``python benchmarks/ab_pair.py ResNet ganglion.kernels.blas.ENABLED False True``)."""

_found = {}
_lock = threading.Lock()

# ---------------------------------------------------------------------------- BLAS's own threads after a product
# OpenBLAS hands a large product (M N K >= 2^19 on two threads) to its own worker threads, and after each such product
# they spin, polling for the next job, for 2^28 cycles (``OPENBLAS_THREAD_TIMEOUT``, read only when the library
# loads) before they sleep: 0.11 s of a core's time measured on the 2.6 GHz VM of benchmarks/README.md. That is what
# makes OpenBLAS's next small product start at once (the MNIST MLP's step took 1.4x the time with the spin off), but a
# loop that ganglion shares over its own threads meanwhile gets half a core on its second thread: the LSTM's rows
# split over two threads took 1.22x the time of the unsplit loop with a spinning worker, 0.68x without one. So the
# products ganglion runs on BLAS's threads note it (``note_threaded_product``), and such loops ask
# ``blas_threads_spinning()`` first.

SPIN_SECONDS = 0.15
"""How long after a product on OpenBLAS's threads its workers may still be spinning (0.11 s measured; 2^28 cycles
at a 2 GHz clock are 0.134 s)."""
THREADED_MULTIPLY_ADDS = 1 << 19
"""A product of this many multiply-adds (M N K) or more runs on OpenBLAS's threads when it has two (OpenBLAS gives
a product one thread per 2^18)."""
_threaded_product_end = [float("-inf")]  # process-wide, like BLAS's threads: when the last such product ended


def note_threaded_product(multiply_adds):
    """A product of ``multiply_adds`` just ran on BLAS with its threads on: if large enough for OpenBLAS to share it,
    its workers are spinning from now (``blas_threads_spinning``)."""
    if multiply_adds >= THREADED_MULTIPLY_ADDS:
        _threaded_product_end[0] = time.perf_counter()


def blas_threads_spinning():
    """True for ``SPIN_SECONDS`` after a product ``note_threaded_product`` saw: OpenBLAS's workers may be taking a
    core."""
    return time.perf_counter() - _threaded_product_end[0] < SPIN_SECONDS


def gemm(dtype):
    """cblas_sgemm (float32) or cblas_dgemm (float64) of NumPy's BLAS as a ctypes function, or None."""
    dtype = np.dtype(dtype)
    if not ENABLED or dtype not in (np.float32, np.float64):
        return None
    with _lock:
        if dtype not in _found:
            _found[dtype] = _find(dtype)
        return _found[dtype]


def _numpy_blas_paths():
    """The files of the BLAS libraries NumPy loaded: those under NumPy's own folders first (its wheel's), else every
    BLAS in the process when there is only one (NumPy linked against a system library)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return []
    paths = [lib.filepath for lib in ThreadpoolController().select(user_api="blas").lib_controllers]
    home = os.path.dirname(os.path.dirname(os.path.abspath(np.__file__)))
    own = [p for p in paths if os.path.abspath(p).startswith(os.path.join(home, "numpy"))]
    return own or (paths if len(paths) == 1 else [])


def _find(dtype):
    letter = "s" if dtype == np.float32 else "d"
    scalar = ctypes.c_float if dtype == np.float32 else ctypes.c_double
    for path in _numpy_blas_paths():
        try:
            library = ctypes.CDLL(path)
        except OSError:  # pragma: no cover - a path threadpoolctl saw loaded
            continue
        for prefix, suffix, integer in _CANDIDATES:
            function = getattr(library, f"{prefix}{letter}gemm{suffix}", None)
            if function is None:
                continue
            c_int, pointer = ctypes.c_int, ctypes.c_void_p
            function.argtypes = [c_int, c_int, c_int, integer, integer, integer, scalar, pointer, integer, pointer,
                                 integer, scalar, pointer, integer]
            function.restype = None
            if _agrees_with_numpy(function, dtype):
                return function
    return None


def _agrees_with_numpy(function, dtype):
    """Whether ``function`` multiplies as ``numpy.matmul`` does: a symbol of the right name but another integer
    width or layout would give garbage (or nothing), never an error."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 5)).astype(dtype), rng.standard_normal((5, 4)).astype(dtype)
    c = np.full((3, 4), np.nan, dtype=dtype)
    product(function, a, NO_TRANS, b, NO_TRANS, c, 0.0)
    return bool(np.allclose(c, a @ b, rtol=1e-5, atol=1e-6))


@compiled(parallel=False)
def product(function, a, a_order, b, b_order, out, beta):
    """out = a' b' + beta out, with a' = a or a^T (``a_order`` NO_TRANS or TRANS), b' likewise. Every array is 2-D
    and row-major (unit stride along its last axis; a view of wider rows is fine); ``out`` is (rows of a', columns
    of b'). ``function``: ``gemm(out.dtype)``. Compiled kernels call it as a function of theirs
(``kernels.compiled``); from Python it is one compiled call."""
    rows, columns = out.shape
    inner = a.shape[1] if a_order == NO_TRANS else a.shape[0]
    item = out.itemsize
    function(ROW_MAJOR, a_order, b_order, rows, columns, inner, 1.0, a.ctypes.data, a.strides[0] // item,
             b.ctypes.data, b.strides[0] // item, beta, out.ctypes.data, out.strides[0] // item)
