"""The root conftest's fixture puts back every piece of global state it keeps. Tests that depend on each other's
order are not reliable under xdist, so the fixture's generator is run here by hand around a change of each kind of
state: note, change, finish, then check."""

import random

import numpy as np
import pytest
import torch

import ganglion as g
from global_state import keep_global_state


def _run_around(change):
    """Run ``change()`` between the fixture's two steps, as pytest runs a test."""
    keeper = keep_global_state()
    next(keeper)
    change()
    with pytest.raises(StopIteration):
        next(keeper)


def _other_float(dtype, float32, float64):
    return float64 if dtype == float32 else float32


def test_dtype_grad_mode_threads_and_buffer_reuse_are_put_back():
    before = (g.get_default_dtype(), g.is_grad_enabled(), g.get_num_threads(), g.memory.buffer_reuse_enabled())
    changed = (_other_float(before[0], g.float32, g.float64), not before[1], before[2] + 1, not before[3])

    def change():
        g.set_default_dtype(changed[0])
        g.set_grad_enabled(changed[1])
        g.set_num_threads(changed[2])
        g.memory.set_buffer_reuse(changed[3])
        assert (g.get_default_dtype(), g.is_grad_enabled(), g.get_num_threads(),
                g.memory.buffer_reuse_enabled()) == changed

    _run_around(change)
    assert (g.get_default_dtype(), g.is_grad_enabled(), g.get_num_threads(), g.memory.buffer_reuse_enabled()) == before


def test_random_streams_are_put_back_where_they_were():
    """Reseeded and drawn from during the 'test', each stream afterwards gives what it gave before it."""
    generator = g.backend.default_generator
    seed = generator.initial_seed()
    states = (generator.get_state(), np.random.get_state(), random.getstate(), torch.get_rng_state())

    def draws():
        return g.randn(3).tolist(), np.random.rand(3).tolist(), random.random(), torch.rand(3).tolist()

    expected = draws()
    generator.set_state(states[0]), np.random.set_state(states[1]), random.setstate(states[2])
    torch.set_rng_state(states[3])

    def change():
        g.manual_seed(seed + 1)
        np.random.seed(7)
        random.seed(7)
        torch.manual_seed(7)
        assert draws() != expected

    _run_around(change)
    assert generator.initial_seed() == seed
    assert draws() == expected


def test_torch_dtype_grad_mode_and_threads_are_put_back():
    before = (torch.get_default_dtype(), torch.is_grad_enabled(), torch.get_num_threads())

    def change():
        torch.set_default_dtype(_other_float(before[0], torch.float32, torch.float64))
        torch.set_grad_enabled(not before[1])
        torch.set_num_threads(before[2] + 1)
        assert (torch.get_default_dtype(), torch.is_grad_enabled(), torch.get_num_threads()) != before

    _run_around(change)
    assert (torch.get_default_dtype(), torch.is_grad_enabled(), torch.get_num_threads()) == before


def test_cached_work_arrays_are_dropped():
    def change():
        workspace = g.memory.Workspace(np)
        workspace.empty((256, 256), np.float32)
        workspace.release()
        assert g.memory.cached_bytes() > 0

    _run_around(change)
    assert g.memory.cached_bytes() == 0


def test_grad_mode_is_the_calling_threads():
    """Grad mode is per thread: the fixture keeps the mode of the thread the test runs in."""
    import threading

    seen = []

    def change():
        g.set_grad_enabled(False)
        worker = threading.Thread(target=lambda: seen.append(g.is_grad_enabled()))
        worker.start()
        worker.join()

    _run_around(change)
    assert seen == [True] and g.is_grad_enabled()
