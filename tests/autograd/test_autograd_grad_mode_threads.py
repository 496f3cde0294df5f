"""Grad mode is per thread, as in PyTorch: a no_grad block in one thread never changes what another records."""

import threading

import numpy as np
import torch

import ganglion as g


def _run_in_thread(fn):
    result, errors = [], []

    def target():
        try:
            result.append(fn())
        except BaseException as e:  # noqa: BLE001 - handed to the main thread
            errors.append(e)

    t = threading.Thread(target=target)
    t.start()
    t.join(timeout=60)
    assert not t.is_alive()
    if errors:
        raise errors[0]
    return result[0]


def test_a_new_thread_records_even_inside_the_main_threads_no_grad():
    with g.no_grad():
        assert not g.is_grad_enabled()
        assert _run_in_thread(g.is_grad_enabled)
        x = g.ones(2, requires_grad=True)
        assert _run_in_thread(lambda: (x * 2).requires_grad)
    with torch.no_grad():  # the oracle agrees
        assert _run_in_thread(torch.is_grad_enabled)


def test_set_grad_enabled_in_a_thread_leaves_the_main_thread_alone():
    def turn_off():
        g.set_grad_enabled(False)
        return g.is_grad_enabled()

    assert _run_in_thread(turn_off) is False
    assert g.is_grad_enabled()


def _train(seed, barrier=None, evaluate_in_between=False):
    """A small regression trained with Adam; returns the final weights."""
    rng = np.random.default_rng(seed)
    x = g.tensor(rng.standard_normal((32, 5)).astype(np.float32))
    y = g.tensor(rng.standard_normal((32, 1)).astype(np.float32))
    model = g.nn.Sequential(g.nn.Linear(5, 8), g.nn.Tanh(), g.nn.Linear(8, 1))
    with g.no_grad():
        for p, v in zip(model.parameters(), [rng.standard_normal(p.shape) * 0.3 for p in model.parameters()]):
            p.copy_(g.tensor(v.astype(np.float32)))
    opt = g.optim.Adam(model.parameters(), lr=0.01)
    for step in range(60):
        if barrier is not None and step % 10 == 0:
            barrier.wait(timeout=30)  # interleave the two threads' steps
        loss = ((model(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if evaluate_in_between:
            with g.no_grad():
                model(x).sum()
    return [p.detach().numpy().copy() for p in model.parameters()]


def test_two_models_trained_in_two_threads_equal_training_them_one_after_the_other():
    alone = [_train(1), _train(2, evaluate_in_between=True)]
    barrier = threading.Barrier(2)
    together = [None, None]

    def worker(i):
        together[i] = _train(i + 1, barrier, evaluate_in_between=i == 1)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    for a, b in zip(alone, together):
        assert b is not None
        for pa, pb in zip(a, b):
            np.testing.assert_array_equal(pa, pb)
