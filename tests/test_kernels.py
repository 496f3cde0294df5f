"""ganglion.kernels: a compiled kernel equals its own loop run uncompiled and the NumPy reference; the switch and
the thread count behave as documented."""

import os

import numpy as np
import pytest

import ganglion
from ganglion import kernels
from ganglion.kernels import compiled, prange

pytestmark = pytest.mark.skipif(not kernels.available(), reason="numba is not installed")


@compiled
def _scaled_relu_(x, scale):
    for i in prange(x.size):
        x[i] = x[i] * scale if x[i] > 0 else 0.0


def test_compiled_kernel_equals_its_loop_and_numpy():
    x = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    compiled_out, loop_out = x.copy(), x.copy()
    _scaled_relu_(compiled_out, np.float32(2.0))
    _scaled_relu_.py_func(loop_out, np.float32(2.0))
    np.testing.assert_array_equal(compiled_out, loop_out)
    np.testing.assert_array_equal(compiled_out, np.maximum(x, 0) * 2)


def test_usable_only_for_numpy_arrays_and_follows_the_switch(monkeypatch):
    x = np.zeros(3)
    assert kernels.usable(x, x)
    assert not kernels.usable(x, [1.0])
    monkeypatch.setenv("GANGLION_COMPILED", "0")
    assert not kernels.usable(x)


def test_set_num_threads_round_trips_and_rejects_bad_values():
    before = ganglion.get_num_threads()
    try:
        ganglion.set_num_threads(1)
        assert ganglion.get_num_threads() == 1
    finally:
        ganglion.set_num_threads(before)
    assert ganglion.get_num_threads() == before
    for bad in (0, -2, 1.5, True, "2"):
        with pytest.raises(ValueError, match="set_num_threads"):
            ganglion.set_num_threads(bad)


def test_parallel_ranges_covers_every_item_once_on_any_thread_count():
    before = ganglion.get_num_threads()
    try:
        for threads in (1, 2, 3):
            ganglion.set_num_threads(threads)
            for size in (0, 5, 1000, 12_345):
                hits = np.zeros(size, dtype=np.int64)

                def work(start, stop):
                    hits[start:stop] += 1

                kernels.parallel_ranges(size, work, grain=100)
                np.testing.assert_array_equal(hits, 1)
    finally:
        ganglion.set_num_threads(before)


def test_parallel_ranges_raises_the_error_of_a_chunk(no_backoff):
    """(Without a back-off: one left by an earlier test's stall would keep the whole range on the calling thread, as
    chunk 0, and nothing would raise.)"""
    before = ganglion.get_num_threads()
    try:
        ganglion.set_num_threads(2)

        def work(start, stop):
            if start > 0:
                raise ValueError(f"chunk at {start}")

        with pytest.raises(ValueError, match="chunk at"):
            kernels.parallel_ranges(10_000, work, grain=100)
    finally:
        ganglion.set_num_threads(before)


@pytest.fixture
def no_backoff():
    """No back-off before or after the test (it is process-wide)."""
    kernels._backoff["until"] = 0.0
    yield
    kernels._backoff["until"] = 0.0
    ganglion.set_num_threads(ganglion.get_num_threads())  # BLAS's threads as they were


def _blas_threads():
    """The thread counts of NumPy's own BLAS, the one ganglion's products run on. A BLAS that a later import loads
    (scipy's, through scikit-learn) is not one ganglion sets; where none is NumPy's by its path, every BLAS."""
    from threadpoolctl import threadpool_info

    blas = [lib for lib in threadpool_info() if lib["user_api"] == "blas"]
    numpy_own = [lib for lib in blas if f"{os.sep}numpy" in lib["filepath"]]
    return [lib["num_threads"] for lib in numpy_own or blas]


def test_a_stall_keeps_work_and_blas_on_the_calling_thread_until_the_back_off_ends(no_backoff):
    import threading

    before = ganglion.get_num_threads()
    try:
        ganglion.set_num_threads(2)
        assert not kernels.machine_busy()
        kernels.back_off()
        assert kernels.machine_busy() and set(_blas_threads()) <= {1}
        threads = set()
        kernels.parallel_ranges(1000, lambda start, stop: threads.add(threading.get_ident()), grain=10)
        assert threads == {threading.get_ident()}  # no hand-off while backing off
        kernels._backoff["until"] = 1e-9  # the back-off is over
        assert not kernels.machine_busy()
        assert set(_blas_threads()) <= {2} and kernels._backoff["until"] == 0.0
    finally:
        ganglion.set_num_threads(before)


def _stall_on_a_pool_thread():
    """One ``parallel_ranges`` call on two threads whose caller waits ~28 ms for the pool thread's chunk."""
    import threading
    import time

    caller = threading.get_ident()
    pool_started = threading.Event()

    def work(start, stop):  # the caller's chunk is short, the pool thread's long: the caller waits for it
        if threading.get_ident() == caller:
            pool_started.wait(5.0)  # else a late pool thread leaves both chunks to the caller, and no stall
            time.sleep(0.002)
        else:
            pool_started.set()
            time.sleep(0.03)

    kernels.parallel_ranges(2, work, grain=1)


@pytest.mark.parametrize("preempted", [True, False])
def test_parallel_ranges_backs_off_after_waiting_on_a_pool_thread_only_when_others_want_the_cores(
        no_backoff, monkeypatch, preempted):
    """Preempted: another process took the pool thread's core, back off. Not: the host paused a virtual CPU, and a
    back-off would only cost the second core."""
    before = ganglion.get_num_threads()
    asked = []
    monkeypatch.setattr(kernels, "others_want_the_cores", lambda: asked.append(1) or preempted)
    try:
        ganglion.set_num_threads(2)
        _stall_on_a_pool_thread()
        assert asked == [1] and kernels.machine_busy() == preempted
    finally:
        ganglion.set_num_threads(before)


def test_others_want_the_cores_compares_preemptions_since_the_last_look_with_the_rate(no_backoff, monkeypatch):
    import time

    monkeypatch.setattr(kernels, "PREEMPTIONS_PER_SECOND", 50.0)
    counts = iter([1000, 1060, 1100, 1100])
    monkeypatch.setattr(kernels, "_involuntary_switches", lambda: next(counts))
    monkeypatch.setitem(kernels._preemptions, "count", 900)
    monkeypatch.setitem(kernels._preemptions, "time", time.perf_counter() - 1.0)
    assert kernels.others_want_the_cores()  # 100 in the last second
    kernels._preemptions["time"] -= 1.0  # 60 in the next second
    assert kernels.others_want_the_cores()
    kernels._preemptions["time"] -= 1.0  # 40 in a second
    assert not kernels.others_want_the_cores()
    assert kernels._preemptions["count"] == 1100
    kernels._preemptions["time"] -= 0.001  # none
    assert not kernels.others_want_the_cores()


def test_the_end_of_a_back_off_starts_counting_preemptions_afresh(no_backoff, monkeypatch):
    """During a back-off one thread has a core to itself and is seldom preempted; that must not dilute the rate that
    the next stall sees."""
    monkeypatch.setitem(kernels._preemptions, "time", 0.0)
    kernels.back_off()
    kernels._backoff["until"] = 1e-9  # the back-off is over
    assert not kernels.machine_busy()
    assert kernels._preemptions["time"] > 0.0


@pytest.mark.skipif(not hasattr(__import__("os"), "sched_setaffinity"), reason="needs Linux's sched_setaffinity")
def test_another_process_on_the_same_core_counts_as_others_wanting_the_cores():
    """Real preemptions: a child process and a spinning grandchild share one CPU; the child's spin of 0.5 s is
    preempted at every scheduler time slice (milliseconds), far over PREEMPTIONS_PER_SECOND."""
    import subprocess
    import sys

    script = """
import os, subprocess, sys, time
from ganglion import kernels
cpu = min(os.sched_getaffinity(0))
try:
    os.sched_setaffinity(0, {cpu})
except OSError:  # a sandbox that forbids pinning
    print("cannot pin")
    sys.exit(0)
spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
try:
    time.sleep(0.2)
    kernels._count_preemptions_from_now()
    end = time.perf_counter() + 0.5
    while time.perf_counter() < end:
        pass
    print(kernels.others_want_the_cores())
finally:
    spinner.kill()
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    if result.stdout.strip() == "cannot pin":
        pytest.skip("this machine does not let a process pin itself to one CPU")
    assert result.stdout.split() == ["True"]


def test_a_linear_product_that_stalls_starts_a_back_off(no_backoff, monkeypatch):
    import importlib

    monkeypatch.setattr(kernels, "others_want_the_cores", lambda: True)
    monkeypatch.setattr(kernels, "_pool_handed_work", [float("-inf")])  # else the product runs on one BLAS thread
    linear = importlib.import_module("ganglion.nn.functional.linear")
    layer = ganglion.nn.Linear(4, 3)
    layer(ganglion.randn(2, 4))
    assert not kernels.machine_busy()
    monkeypatch.setattr(kernels, "STALL_SECONDS", 0.0)  # every product took "long",
    monkeypatch.setattr(linear, "STALLED_SPEED", 1e30)  # and "too long for its size"
    x = ganglion.randn(2, 4)
    out = layer(x)
    assert kernels.machine_busy()
    want = x.numpy() @ layer.weight.detach().numpy().T + layer.bias.detach().numpy()
    np.testing.assert_allclose(out.detach().numpy(), want, rtol=1e-6)
    again = layer(x)  # backing off: BLAS on one thread, the same numbers
    np.testing.assert_allclose(again.detach().numpy(), want, rtol=1e-6)


def test_a_back_off_that_begins_or_ends_inside_a_single_threaded_blas_window_is_kept_at_its_end(no_backoff,
                                                                                               monkeypatch):
    """The convolutions' window restores BLAS's threads when it ends; a back-off that began inside it must still find
    BLAS on one thread afterwards, and one that ended inside it must find them back."""
    from ganglion.kernels.conv import _SingleThreadedBlas

    monkeypatch.setattr(kernels, "BACKOFF_SECONDS", 600.0)  # over when the test ends it, not mid-test when loaded
    before = ganglion.get_num_threads()
    try:
        ganglion.set_num_threads(2)
        with _SingleThreadedBlas():
            kernels.back_off()  # a pool thread stalled during a convolution
            assert set(_blas_threads()) <= {1}
        assert kernels.machine_busy() and set(_blas_threads()) <= {1}
        with _SingleThreadedBlas():
            kernels._backoff["until"] = 1e-9
            assert not kernels.machine_busy()
            assert set(_blas_threads()) <= {1}  # not inside the window
        assert set(_blas_threads()) <= {2}
    finally:
        ganglion.set_num_threads(before)


def test_the_environment_is_read_live_at_each_call(monkeypatch):
    """``kernels._environment`` reads the dict behind os.environ: a change made now is seen by the next call."""
    monkeypatch.delenv("GANGLION_COMPILED", raising=False)
    assert kernels._environment("GANGLION_COMPILED", "1") == "1"
    monkeypatch.setenv("GANGLION_COMPILED", "0")
    assert kernels._environment("GANGLION_COMPILED", "1") == "0" and not kernels.available()
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert kernels._environment("OMP_NUM_THREADS", "") == "3"
    monkeypatch.setattr(kernels, "_ENVIRON_DATA", None)  # where there is no such dict: os.environ.get
    assert kernels._environment("OMP_NUM_THREADS", "") == "3" and kernels._environment("NO_SUCH_VARIABLE", "x") == "x"


def test_a_hand_off_to_the_pool_marks_ganglion_s_threads_at_work_for_a_while(no_backoff, monkeypatch):
    """``pool_recently_used`` says whether ``parallel_ranges`` handed work to a pool thread in the last
    ``POOL_RECENT_SECONDS``; a range kept on the calling thread does not count."""
    monkeypatch.setattr(kernels, "_pool_handed_work", [float("-inf")])
    before = ganglion.get_num_threads()
    try:
        ganglion.set_num_threads(1)
        kernels.parallel_ranges(1000, lambda start, stop: None, grain=100)
        assert not kernels.pool_recently_used()
        ganglion.set_num_threads(2)
        kernels.parallel_ranges(1000, lambda start, stop: None, grain=100)
        assert kernels.pool_recently_used()
        kernels._pool_handed_work[0] -= kernels.POOL_RECENT_SECONDS
        assert not kernels.pool_recently_used()
    finally:
        ganglion.set_num_threads(before)


def test_a_linear_product_keeps_to_one_blas_thread_while_the_pool_is_at_work(no_backoff, monkeypatch):
    """While ganglion's threads are at work a linear layer's product runs on single-threaded BLAS (OpenBLAS's
    workers would spin on a core after it); otherwise on BLAS's threads, noting a product large enough for them to
    share (``kernels.blas.note_threaded_product``). The same numbers either way."""
    import importlib

    from ganglion.kernels import blas

    linear = importlib.import_module("ganglion.nn.functional.linear")
    threads_seen = []

    def product(a, b):
        threads_seen.append(min(_blas_threads()))
        return a @ b

    layer = ganglion.nn.Linear(256, 64)
    x = ganglion.randn(64, 256)  # 64 x 256 x 64 = 2^20 multiply-adds: OpenBLAS shares it over two threads
    monkeypatch.setattr(blas, "_threaded_product_end", [float("-inf")])
    monkeypatch.setattr(kernels, "_pool_handed_work", [float("-inf")])
    monkeypatch.setattr(kernels, "note_stall", lambda: None)  # a slow product here must not start a back-off
    before = ganglion.get_num_threads()
    try:
        ganglion.set_num_threads(2)
        on_blas_threads = layer(x).detach().numpy()
        assert blas.blas_threads_spinning()
        blas._threaded_product_end[0] = float("-inf")
        kernels._pool_handed_work[0] = kernels.time.perf_counter()  # a convolution just shared a loop
        from ganglion.kernels.conv import _SingleThreadedBlas

        class Window(_SingleThreadedBlas):
            def __enter__(self):
                super().__enter__()
                threads_seen.append(min(_blas_threads()))

        monkeypatch.setattr(linear, "single_threaded_blas", Window)
        on_one_thread = layer(x).detach().numpy()
        assert threads_seen == [1]
        assert not blas.blas_threads_spinning()
        assert min(_blas_threads()) == 2  # restored after the product
    finally:
        ganglion.set_num_threads(before)
    np.testing.assert_allclose(on_one_thread, on_blas_threads, rtol=1e-5, atol=1e-6)
