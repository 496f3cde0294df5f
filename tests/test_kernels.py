"""ganglion.kernels: a compiled kernel equals its own loop run uncompiled and the NumPy reference; the switch and
the thread count behave as documented."""

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


def test_parallel_ranges_raises_the_error_of_a_chunk():
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
    from threadpoolctl import threadpool_info

    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_a_stall_keeps_work_and_blas_on_the_calling_thread_until_the_back_off_ends(no_backoff):
    import threading

    before = ganglion.get_num_threads()
    try:
        ganglion.set_num_threads(2)
        assert not kernels.machine_busy()
        kernels.note_stall()
        assert kernels.machine_busy() and set(_blas_threads()) <= {1}
        threads = set()
        kernels.parallel_ranges(1000, lambda start, stop: threads.add(threading.get_ident()), grain=10)
        assert threads == {threading.get_ident()}  # no hand-off while backing off
        kernels._backoff["until"] = 1e-9  # the back-off is over
        assert not kernels.machine_busy()
        assert set(_blas_threads()) <= {2} and kernels._backoff["until"] == 0.0
    finally:
        ganglion.set_num_threads(before)


def test_parallel_ranges_backs_off_after_waiting_on_a_pool_thread(no_backoff):
    import threading
    import time

    before = ganglion.get_num_threads()
    try:
        ganglion.set_num_threads(2)
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
        assert kernels.machine_busy()
    finally:
        ganglion.set_num_threads(before)


def test_a_linear_product_that_stalls_starts_a_back_off(no_backoff, monkeypatch):
    import importlib

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


def test_a_back_off_that_begins_or_ends_inside_a_single_threaded_blas_window_is_kept_at_its_end(no_backoff):
    """The convolutions' window restores BLAS's threads when it ends; a back-off that began inside it must still find
    BLAS on one thread afterwards, and one that ended inside it must find them back."""
    from ganglion.kernels.conv import _SingleThreadedBlas

    before = ganglion.get_num_threads()
    try:
        ganglion.set_num_threads(2)
        with _SingleThreadedBlas():
            kernels.note_stall()  # a pool thread stalled during a convolution
            assert set(_blas_threads()) <= {1}
        assert kernels.machine_busy() and set(_blas_threads()) <= {1}
        with _SingleThreadedBlas():
            kernels._backoff["until"] = 1e-9
            assert not kernels.machine_busy()
            assert set(_blas_threads()) <= {1}  # not inside the window
        assert set(_blas_threads()) <= {2}
    finally:
        ganglion.set_num_threads(before)
