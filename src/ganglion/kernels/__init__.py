"""Compiled CPU kernels, and how many threads they (and BLAS) use.

NumPy runs its elementwise loops on one core and OpenBLAS threads only large products. Where a measurement shows
that a pass over an array is the bottleneck, ganglion writes it once as a plain loop that reads like the notes'
formula and lets numba compile it, parallel over the cores, on first use (cached on disk, so later processes skip
the compile). The NumPy code stays beside it as the reference: every kernel is tested equal to it, and it is what
runs where numba is missing, on CuPy arrays, or with ``GANGLION_COMPILED=0`` in the environment (read at each call,
so a test can switch it off).

    from ganglion.kernels import compiled, prange, usable

    @compiled
    def relu_(x):                      # x: a flat float array, changed in place
        for i in prange(x.size):
            if x[i] < 0:
                x[i] = 0

    if usable(x):
        relu_(x.reshape(-1))
    else:
        np.maximum(x, 0, out=x)

Threads: ``ganglion.set_num_threads(n)`` sets how many threads the compiled kernels and BLAS use, as
``torch.set_num_threads``; the default is ``OMP_NUM_THREADS`` when set, else every core. Like PyTorch's, the
setting is one per process. When other processes want the cores (a hand-off or a linear layer's product stalled, and
the kernel has been preempting this process's threads), work stays on the calling thread and BLAS on one thread for a
second at a time (``machine_busy``, ``note_stall``): two threads then never cost much more than one.

OpenBLAS's own threads keep a core busy for ~0.1 s after each product they share (``kernels.blas``). So while
ganglion's threads are at work (``pool_recently_used``), a linear layer's product runs on one BLAS thread, and the
LSTM shares its rows over ganglion's threads only when no such product ran in the last 0.15 s.
"""

from __future__ import annotations

import importlib.util
import os
import threading
import time

import numpy as np

try:
    import resource  # Unix: the process's involuntary context switches (``_preemptions``)
except ImportError:  # pragma: no cover - Windows: every stall counts as a busy machine
    resource = None

__all__ = ["available", "usable", "compiled", "prange", "parallel_ranges", "machine_busy", "note_stall", "back_off",
           "others_want_the_cores", "pool_recently_used", "set_num_threads", "get_num_threads"]

_compile_lock = threading.RLock()  # re-entered: a kernel's compile compiles the kernels it calls
_numba = None  # the numba module once imported; importing it costs ~0.3 s, so not before the first kernel runs
_has_numba = importlib.util.find_spec("numba") is not None
_requested_threads = None  # what set_num_threads was given; None: the default


def available() -> bool:
    """True when compiled kernels run: numba is installed and ``GANGLION_COMPILED`` is not ``0``."""
    return _has_numba and _environment("GANGLION_COMPILED", "1") != "0"


_ENVIRON_DATA = getattr(os.environ, "_data", None)  # CPython's dict behind os.environ (encoded keys and values)
_ENVIRON_KEYS = {}  # variable name -> its key in that dict


def _environment(name, default):
    """``os.environ.get(name, default)``, read from the dict behind ``os.environ``: the same live values (setting
    ``os.environ[name]`` updates that dict), at 0.1 us a read instead of 0.75 (``os.environ.get`` encodes the name
    and decodes the value in Python). ``available()`` and ``get_num_threads()`` read the environment each call, 15
    times a step of the MNIST MLP: the step took 0.963x and 0.947x the time of ``os.environ.get``'s (A against A
    1.007, 1.025). Falls back to ``os.environ.get`` where that dict is not there (another Python)."""
    if _ENVIRON_DATA is None:
        return os.environ.get(name, default)
    key = _ENVIRON_KEYS.get(name)
    if key is None:
        key = _ENVIRON_KEYS[name] = os.environ.encodekey(name)
    value = _ENVIRON_DATA.get(key)
    return default if value is None else os.environ.decodevalue(value)


def usable(*arrays) -> bool:
    """True when compiled kernels are available and every array is a NumPy array (not CuPy), so the kernel can
    take them."""
    return available() and all(type(a) is np.ndarray for a in arrays)


def prange(*args):
    """Inside a compiled kernel: a loop whose iterations run on all threads. Outside one (the reference run in a
    test, or a kernel called uncompiled): ``range``."""
    return range(*args)


def _import_numba():
    global _numba
    if _numba is None:
        import numba

        _numba = numba
        _apply_threads()
    return _numba


_CPU_COUNT = os.cpu_count() or 1
"""Read once: ``os.cpu_count()`` took ~60 us a call, 3.5 ms of a quarter-width ResNet-18 step (1,200 calls in 20)."""


def _default_threads() -> int:
    env = _environment("OMP_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return _CPU_COUNT


def _apply_threads():
    n = _requested_threads or _default_threads()
    if _numba is not None:
        _numba.set_num_threads(max(1, min(n, _numba.config.NUMBA_NUM_THREADS)))


def set_num_threads(n: int) -> None:
    """Use ``n`` threads in the compiled kernels and in BLAS products, as ``torch.set_num_threads``."""
    global _requested_threads
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"set_num_threads(n): n must be a positive int, got {n!r}")
    _requested_threads = int(n)
    _apply_threads()
    _set_blas_threads(1 if machine_busy() else int(n))  # a back-off (back_off) restores n when it ends


def get_num_threads() -> int:
    """How many threads the compiled kernels and BLAS use (``set_num_threads``, else the default)."""
    return _requested_threads or _default_threads()


def _set_blas_threads(n: int) -> None:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency; a bare NumPy keeps its own setting
        return
    threadpool_limits(limits=n, user_api="blas")


class _Kernel:
    """A function compiled by numba on its first call (parallel, cached on disk). ``.py_func`` is the plain Python
    function, for tests that check the compiled kernel against the same loop run uncompiled."""

    def __init__(self, function, parallel, numpy_errors, fastmath=()):
        self.py_func = function
        self.parallel = parallel
        self.numpy_errors = numpy_errors
        self.fastmath = tuple(sorted(fastmath))
        self._compiled = None
        self.callees = 0  # once compiled: a checksum of the kernels it calls (``_for_numba``)
        self.__name__ = function.__name__
        self.__doc__ = function.__doc__

    def _compile(self):
        with _compile_lock:
            if self._compiled is None:
                numba = _import_numba()
                function, self.callees = _for_numba(self.py_func, numba)
                # numba's disk cache tells builds apart by name, not flags: keep each kind of build apart (and it
                # checks only this function's file: the kernels it calls name their source here)
                if self.callees:
                    function.__qualname__ += f"__calls_{self.callees:08x}"
                if not self.parallel:
                    function.__qualname__ += "__serial"
                if self.numpy_errors:
                    function.__qualname__ += "__numpy_errors"
                if self.fastmath:
                    function.__qualname__ += "__fastmath_" + "_".join(self.fastmath)
                self._compiled = numba.njit(parallel=self.parallel, cache=True, nogil=True,
                                            error_model="numpy" if self.numpy_errors else "python",
                                            fastmath=set(self.fastmath) or False)(function)
        return self._compiled

    def __call__(self, *args):
        compiled_function = self._compiled or self._compile()
        return compiled_function(*args)


def _for_numba(function, numba):
    """(the same function for numba to compile, a checksum of the kernels it calls or 0). In its globals ``prange``
    is numba's (the module's own stays ``range``, for the reference run) and each kernel it calls is that kernel
    compiled, so that kernels call kernels; the checksum covers their source, so that a changed callee does not
    leave a stale caller in numba's disk cache (which checks the caller's own file only)."""
    import inspect
    import types
    import zlib

    namespace = dict(function.__globals__)
    namespace["prange"] = numba.prange
    callees = 0
    for name in function.__code__.co_names:
        value = namespace.get(name)
        if isinstance(value, _Kernel):
            namespace[name] = value._compile()
            source = inspect.getsource(value.py_func) + str(value.callees)  # and the kernels that one calls
            callees = zlib.crc32(source.encode(), callees)
    rebuilt = types.FunctionType(function.__code__, namespace, function.__name__, function.__defaults__,
                                 function.__closure__)
    rebuilt.__qualname__ = function.__qualname__
    return rebuilt, callees


def compiled(function=None, *, parallel=True, numpy_errors=False, fastmath=()):
    """Decorator: compile ``function`` with numba on first call (``parallel``: its ``prange`` loops use every
    thread). Call it only where ``usable(...)`` said yes.

    ``numpy_errors``: a float division by zero gives inf or NaN, as in NumPy, instead of raising ZeroDivisionError.
    The check for zero stops LLVM from vectorizing a loop that divides: with this option Adam's loop ran 10x faster
    (2.6M float32 numbers: 1.9 ms against 22.6 ms on one core), to the same bits.

    ``fastmath``: LLVM's fast-math flags for the function (a set of names, such as ``{"contract"}``: fuse a multiply
    and an add, as BLAS does; ``{"reassoc"}``: sum in vector lanes). None that assumes away NaN or infinity.
    """
    if function is None:
        return lambda f: _Kernel(f, parallel, numpy_errors, fastmath)
    return _Kernel(function, parallel, numpy_errors, fastmath)


# ------------------------------------------------------------------------------------- sharing work over threads
# numba's own parallel loops split the work evenly and wait at the end for every thread. On a loaded machine the
# other thread may wait a scheduler time slice (milliseconds) before it runs, and the whole loop with it: measured on
# a 2-core machine at load 20, Adam's step over 2.6M numbers took 118 ms on two threads against 29 ms on one
# (benchmarks/README.md, the optimizer section). Here the work is cut into chunks that the calling thread and the
# pool's threads take in turn; the caller waits only for chunks a pool thread has already begun, never for a thread
# that has not started, so a busy machine costs at most one chunk over running alone.

_pools = {}  # (process id, worker count) -> executor, kept for the process like BLAS's own threads
_pools_lock = threading.Lock()


def _pool(workers):
    from concurrent.futures import ThreadPoolExecutor

    key = (os.getpid(), workers)  # a forked child (a DataLoader worker) starts its own: the parent's threads are gone
    with _pools_lock:
        if key not in _pools:
            _pools[key] = ThreadPoolExecutor(workers, thread_name_prefix="ganglion-kernels")
        return _pools[key]


class _SharedRanges:
    """The chunks of one ``parallel_ranges`` call, taken one at a time by whichever thread asks first."""

    def __init__(self, work, bounds):
        self.work, self.bounds = work, bounds
        self.next = 0
        self.unfinished = len(bounds) - 1
        self.error = None
        self.lock = threading.Lock()
        self.all_done = threading.Condition(self.lock)

    def take_and_run(self):
        while True:
            with self.lock:
                index = self.next
                if index >= len(self.bounds) - 1 or self.error is not None:
                    return
                self.next += 1
            try:
                self.work(self.bounds[index], self.bounds[index + 1])
            except BaseException as error:  # handed to the caller, which raises it
                with self.lock:
                    self.error = self.error or error
            with self.lock:
                self.unfinished -= 1
                self.all_done.notify_all()

    def wait(self):
        with self.lock:
            # chunks nobody took (after an error) will never finish; begun ones will
            while self.unfinished > (len(self.bounds) - 1 - self.next):
                self.all_done.wait()
        if self.error is not None:
            raise self.error


# A pool thread that took a chunk can still be preempted in the middle of it when another process wants its core,
# and so can one that holds the GIL: then the caller waits out a scheduler time slice (milliseconds) for work of tens
# of microseconds. With the other core busy (``python -c "while True: pass"``) that made LeNet-5's step 2.4x slower
# on two threads than on one. So a call that waited more than ``STALL_SECONDS`` for the pool makes the next
# ``BACKOFF_SECONDS`` of calls run on the calling thread alone; then the pool is tried again. On an idle machine a
# wait is 20-50 us and nothing changes. (A wait used to count only when it was also longer than the caller's own
# share took: the LSTM's shares take ~5 ms each, so a pool thread preempted for a 3 ms time slice never counted, and
# with the other core busy two threads took 1.16x the time of one; counting every wait over ``STALL_SECONDS``,
# 1.01x, with no stall on the idle VM in 20 ResNet steps or 50 LSTM calls.)
#
# A virtual machine's host stalls its guest's threads too, by pausing a virtual CPU (on the 2-vCPU VM of
# benchmarks/README.md 0.5-2.6 times a second on its own, the quarter-width ResNet-18's step on two threads): a
# back-off then only costs the second core, which kept that step on one thread ~45% of the time, 1.2x slower. Those
# pauses preempt no thread the guest's scheduler can see; another process does, and the kernel counts each time it
# takes a running thread off its core for another (getrusage's involuntary context switches). So a stall backs off
# only when this process's threads were preempted more than ``PREEMPTIONS_PER_SECOND`` times a second since the last
# stall or the end of the last back-off: measured stall by stall while training ResNet on two threads, 6-45 a second
# on the idle VM, 124-568 with the other core busy, but 22-51 over a window that spans a back-off (one thread then
# has a core to itself), hence the fresh count when a back-off ends (benchmarks/README.md, sixth session).

STALL_SECONDS = 2e-3
"""A wait this long is a stall: at 1 ms this VM's own hiccups started a back-off about once in 40 ResNet steps on an
idle machine; at 2 ms none was seen, while a preempted thread costs a time slice (several ms)."""
BACKOFF_SECONDS = 1.0
"""How long a stall keeps work on one thread; then one hand-off tries the pool again (at most one stall a second)."""
PREEMPTIONS_PER_SECOND = 50.0
"""A stall backs off when this process's threads were preempted more often than this since the last stall (see
above: 6-45 a second on the idle VM, 124 and more with another process on the cores)."""
_backoff = {"until": 0.0, "epoch": 0}  # process-wide, like the pool: until when calls run on one thread (0: not
_backoff_lock = threading.Lock()      # backing off); epoch: back-offs begun and ended, so a BLAS window can tell


def _involuntary_switches():
    """How many times the kernel took one of this process's running threads off its core for another thread (all
    threads, since the process began); None where the platform does not count them (Windows)."""
    if resource is None:  # pragma: no cover - Windows
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_nivcsw


_preemptions = {"time": time.perf_counter(), "count": _involuntary_switches()}  # at the last stall (or import)


def _count_preemptions_from_now():
    _preemptions["count"], _preemptions["time"] = _involuntary_switches(), time.perf_counter()


def others_want_the_cores() -> bool:
    """True when this process's threads were preempted more than ``PREEMPTIONS_PER_SECOND`` times a second since the
    last call, the end of the last back-off, or ganglion's import: other processes are running on the cores. True where preemptions are
    not counted. Called when a hand-off or a product stalls (``note_stall``), not on every call: a getrusage costs
    ~2 us."""
    count, now = _involuntary_switches(), time.perf_counter()
    with _backoff_lock:
        last_count, last_time = _preemptions["count"], _preemptions["time"]
        _preemptions["count"], _preemptions["time"] = count, now
    if count is None or last_count is None:
        return True
    return count - last_count > PREEMPTIONS_PER_SECOND * (now - last_time)


def machine_busy() -> bool:
    """True for ``BACKOFF_SECONDS`` after a stall (``note_stall``): a ``parallel_ranges`` call that waited on a pool
    thread, or a product on BLAS's own threads that took far longer than its size (``nn.functional.linear``). Then
    ``parallel_ranges`` keeps to the calling thread and BLAS runs on one thread; after it, both get their threads
    back."""
    if _backoff["until"] == 0.0:
        return False
    if time.perf_counter() < _backoff["until"]:
        return True
    with _backoff_lock:
        if _backoff["until"] != 0.0:
            _backoff["until"] = 0.0
            _backoff["epoch"] += 1
            _count_preemptions_from_now()  # one thread had a core to itself: those seconds say nothing
            if not _blas_window_open():  # else the window's end sets it (``kernels.conv._SingleThreadedBlas``)
                _set_blas_threads(get_num_threads())
    return False


def note_stall() -> None:
    """A hand-off or a product on BLAS's threads stalled: when other processes want the cores
    (``others_want_the_cores``), back off (``back_off``); else the host paused a virtual CPU, and nothing changes."""
    if others_want_the_cores():
        back_off()


def back_off() -> None:
    """The calling thread alone, and BLAS on one thread, for ``BACKOFF_SECONDS``. BLAS's thread count is set once
    here and restored once after, not around each product: switching it back and forth kept OpenBLAS's threads from
    their fast path (the MNIST MLP's step 1.15-1.26x slower on an idle machine)."""
    with _backoff_lock:
        if _backoff["until"] == 0.0:
            _backoff["epoch"] += 1
            if not _blas_window_open():
                _set_blas_threads(1)
        _backoff["until"] = time.perf_counter() + BACKOFF_SECONDS


def backoff_epoch() -> int:
    """How many back-offs have begun or ended: a single-threaded BLAS window that saw it change puts BLAS's threads
    where the back-off wants them at its end, not where they were at its start."""
    return _backoff["epoch"]


def _blas_window_open():
    from .conv import blas_window_open

    return blas_window_open()


POOL_RECENT_SECONDS = 1.0
"""How long after a hand-off to the pool ganglion's threads count as at work (``pool_recently_used``)."""
_pool_handed_work = [float("-inf")]  # process-wide, like the pool: when parallel_ranges last handed it work


def pool_recently_used() -> bool:
    """True for ``POOL_RECENT_SECONDS`` after ``parallel_ranges`` handed work to a pool thread: the program runs
    loops on ganglion's threads (convolutions, the LSTM), and a product on BLAS's own threads would leave OpenBLAS's
    workers spinning on a core those loops want (``kernels.blas``)."""
    return time.perf_counter() - _pool_handed_work[0] < POOL_RECENT_SECONDS


def parallel_ranges(size, work, grain=1 << 15):
    """Run ``work(start, stop)`` over ``[0, size)`` in chunks of at least ``grain`` items, on the calling thread and
    up to ``get_num_threads() - 1`` pool threads (none for ``BACKOFF_SECONDS`` after a call stalled on them: see
    above). ``work`` should release the GIL (a compiled kernel does: they are built ``nogil``). Returns when every
    chunk is done; an exception in any chunk is raised here.
    """
    threads = min(get_num_threads(), max(1, size // grain))
    if threads > 1 and machine_busy():
        threads = 1
    if threads <= 1:
        work(0, size)
        return
    chunks = min(4 * threads, max(1, size // grain))  # a few per thread, so a late thread finds work or none
    bounds = [size * i // chunks for i in range(chunks + 1)]
    shared = _SharedRanges(work, bounds)
    pool = _pool(threads - 1)
    start = _pool_handed_work[0] = time.perf_counter()
    for _ in range(threads - 1):
        pool.submit(shared.take_and_run)
    shared.take_and_run()
    done_here = time.perf_counter()
    shared.wait()
    waited = time.perf_counter() - done_here
    if waited > STALL_SECONDS:
        note_stall()
