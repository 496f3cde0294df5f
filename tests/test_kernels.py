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
