"""The work-array pool: bounded, per thread, only takes back what a workspace allocated, with an off switch."""

import threading

import numpy as np
import pytest

import ganglion as g
from ganglion import memory


@pytest.fixture(autouse=True)
def fresh_pools():
    memory.empty_cache()
    yield
    memory.set_buffer_reuse(True)
    memory.empty_cache()
    memory._local.__dict__.pop("pool", None)  # a pool made under a test's smaller limit must not outlive the test


def test_a_released_array_is_taken_again_by_the_next_workspace_of_the_same_shape():
    first = memory.Workspace(np)
    a = first.empty((64, 64), np.float32)
    first.release()
    second = memory.Workspace(np)
    assert second.empty((64, 64), np.float32) is a
    assert second.empty((64, 64), np.float32) is not a  # one array, one owner at a time
    assert second.empty((64, 64), np.float64) is not a


def test_releasing_twice_gives_nothing_back_twice():
    work = memory.Workspace(np)
    work.empty((10,), np.float32)
    work.release()
    work.release()
    taker = memory.Workspace(np)
    assert taker.empty((10,), np.float32) is not taker.empty((10,), np.float32)


def test_the_pool_is_bounded_and_survives_filling_up(monkeypatch):
    monkeypatch.setattr(memory, "POOL_LIMIT_BYTES", 1 << 20)
    memory._local.__dict__.pop("pool", None)  # this thread's next workspace makes a pool with the smaller limit
    for step in range(300):  # many shapes, the pool full most of the time (the old pool crashed here)
        work = memory.Workspace(np)
        for k in range(3):
            work.empty((1000 + (step * 7 + k) % 50,), np.float64)
        work.release()
        assert memory.cached_bytes() <= 1 << 20
    assert memory.cached_bytes() > 0


def test_arrays_larger_than_the_limit_are_not_kept(monkeypatch):
    monkeypatch.setattr(memory, "POOL_LIMIT_BYTES", 1000)
    memory._local.__dict__.pop("pool", None)
    work = memory.Workspace(np)
    work.empty((1000,), np.float64)
    work.release()
    assert memory.cached_bytes() == 0


def test_empty_cache_and_the_off_switch():
    work = memory.Workspace(np)
    work.empty((100,), np.float32)
    work.release()
    assert memory.cached_bytes() == 400
    memory.empty_cache()
    assert memory.cached_bytes() == 0
    memory.set_buffer_reuse(False)
    assert not memory.buffer_reuse_enabled()
    work = memory.Workspace(np)
    a = work.empty((100,), np.float32)
    work.release()
    assert memory.cached_bytes() == 0
    assert memory.Workspace(np).empty((100,), np.float32) is not a
    memory.set_buffer_reuse(True)
    work = memory.Workspace(np)
    work.empty((100,), np.float32)
    work.release()
    g.backend.empty_cache()
    assert memory.cached_bytes() == 0


def test_each_thread_has_its_own_pool_and_a_workspace_goes_back_to_the_one_it_came_from():
    work = memory.Workspace(np)
    a = work.empty((32,), np.float32)
    taken_in_thread = []

    def other_thread():
        work.release()  # released here, returned to the main thread's pool
        taken_in_thread.append(memory.Workspace(np).empty((32,), np.float32))

    t = threading.Thread(target=other_thread)
    t.start()
    t.join()
    assert taken_in_thread[0] is not a
    assert memory.Workspace(np).empty((32,), np.float32) is a


def test_outputs_that_share_a_workspace_array_are_refused():
    work = memory.Workspace(np)
    a = work.empty((4, 4), np.float32)
    work.check_not_holding("op", (np.zeros(3), None))
    with pytest.raises(RuntimeError, match="shares memory with a reusable work array"):
        work.check_not_holding("op", (a[1:],))


def test_memory_stays_flat_over_many_steps_with_changing_shapes():
    """A conv-pool-LSTM model trained with batch sizes and sequence lengths that change every step: the pool stays
    under its bound and the cached bytes stop growing once every shape has been seen."""
    g.manual_seed(0)
    conv, lstm = g.nn.Conv2d(1, 4, 3, padding=1), g.nn.LSTM(4, 8)
    params = list(conv.parameters()) + list(lstm.parameters())
    opt = g.optim.SGD(params, lr=0.01)
    cached = []
    for step in range(240):
        batch, length = 1 + step % 5, 1 + step % 7
        img = g.nn.functional.max_pool2d(conv(g.randn(batch, 1, 6, 6)), 2)
        seq = img.flatten(2).permute(2, 0, 1)[:length]  # (length, batch, 4)
        out, _ = lstm(seq)
        loss = out.pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        cached.append(memory.cached_bytes())
    assert max(cached) <= memory.POOL_LIMIT_BYTES
    assert max(cached[120:]) == max(cached[:120 + 35])  # 35 = every (batch, length) pair seen: no growth after
