"""``kernels.conv.batched_matmul`` (the batch split over threads, single-threaded BLAS) against ``numpy.matmul``,
for the broadcast shapes the convolutions use, and BLAS's thread count restored afterwards, also when calls overlap
from several threads."""

import threading

import numpy as np
import pytest

import ganglion as g
from ganglion import kernels
from ganglion.kernels import conv as conv_kernels
from ganglion.kernels.conv import batched_matmul, matmul_sum


@pytest.fixture(autouse=True)
def split_even_tiny_products(monkeypatch):
    """The test shapes are tiny: let them be split over threads anyway."""
    monkeypatch.setattr(conv_kernels, "MIN_WORK_PER_THREAD", 1)

SHAPES = [  # (a, b): W (out, CK) x cols (N, CK, L); grouped W (G, o, ck) x (N, G, ck, L); both batched (dW)
    ((4, 6), (5, 6, 7)),
    ((2, 3, 4), (5, 2, 4, 6)),
    ((5, 6, 7), (5, 7, 3)),
    ((1, 6, 7), (3, 7, 2)),
    ((4, 6), (1, 6, 7)),
]


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("a_shape, b_shape", SHAPES)
def test_batched_matmul_equals_numpy(a_shape, b_shape, threads):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    expected = np.matmul(a, b)
    before = g.get_num_threads()
    g.set_num_threads(threads)
    try:
        out = np.full(expected.shape, np.nan)
        result = batched_matmul(a, b, out)
    finally:
        g.set_num_threads(before)
    assert result is out
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("a_shape, b_shape", [((5, 6, 7), (5, 7, 3)), ((1, 6, 7), (1, 7, 3)), ((4, 2, 3, 5),
                                                                                                 (4, 2, 5, 6))])
def test_matmul_sum_equals_the_numpy_loop(a_shape, b_shape, threads):
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    expected = sum(a[i] @ b[i] for i in range(a.shape[0]))
    before = g.get_num_threads()
    g.set_num_threads(threads)
    try:
        result = matmul_sum(a, b)
    finally:
        g.set_num_threads(before)
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-12)


def _blas_threads():
    from threadpoolctl import threadpool_info

    return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]


def test_blas_thread_count_is_restored_after_overlapping_calls():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((8, 30)), rng.standard_normal((16, 30, 40))
    g.set_num_threads(2)
    before = _blas_threads()
    errors = []

    def work():
        try:
            for _ in range(20):
                out = np.empty((16, 8, 40))
                np.testing.assert_allclose(batched_matmul(a, b, out), a @ b, rtol=1e-12)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert _blas_threads() == before


def test_convolution_is_the_same_with_compiled_kernels_off(monkeypatch):
    """The off switch gives plain numpy.matmul: the same convolution and gradients, bit for bit on float64."""
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((3, 4, 6, 5)), rng.standard_normal((2, 4, 3, 3))
    results = []
    for switch in ("1", "0"):
        monkeypatch.setenv("GANGLION_COMPILED", switch)
        gx = g.tensor(x, dtype=g.float64, requires_grad=True)
        gw = g.tensor(w, dtype=g.float64, requires_grad=True)
        y = g.nn.functional.conv2d(gx, gw, padding=1)
        (y * y).sum().backward()
        results.append((y.detach().numpy(), gx.grad.numpy(), gw.grad.numpy()))
    assert kernels.available() is False
    for ours, reference in zip(*results):
        np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-12)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_a_forked_child_gets_threads_of_its_own():
    """A DataLoader worker forked after a split product has none of the parent's pool threads: it must not wait on
    them."""
    import os

    a, b = np.ones((4, 6)), np.ones((8, 6, 5))
    batched_matmul(a, b, np.empty((8, 4, 5)))
    g.set_num_threads(2)
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if the split product finishes and is right
        out = batched_matmul(a, b, np.empty((8, 4, 5)))
        os._exit(0 if np.all(out == 6) else 1)
    import signal
    import time

    deadline = time.monotonic() + 120
    while True:  # a child stuck on the parent's threads would never exit: give up after two minutes
        done, status = os.waitpid(pid, os.WNOHANG)
        if done or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if not done:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    assert done and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("spinning", [False, True])
def test_matmul_rows_shared_equals_numpy(monkeypatch, threads, spinning):
    """The rows of a @ b shared over the threads (single-threaded BLAS), or one product on BLAS's threads while
    OpenBLAS's workers are spinning: the same product either way, a transposed operand included."""
    from ganglion.kernels import conv

    monkeypatch.setattr(conv, "MIN_WORK_PER_THREAD", 1)
    monkeypatch.setattr(conv, "blas_threads_spinning", lambda: spinning)
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((9, 37)), rng.standard_normal((9, 5))
    before = g.get_num_threads()
    g.set_num_threads(threads)
    try:
        result = conv.matmul_rows_shared(a.T, b)
    finally:
        g.set_num_threads(before)
    assert result.shape == (37, 5)
    np.testing.assert_allclose(result, a.T @ b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("spinning", [False, True])
@pytest.mark.parametrize("rows", [0, 1, 37])
def test_matmul_inner_shared_equals_numpy(monkeypatch, threads, spinning, rows):
    """a^T b with a's rows shared over the threads and the shares added in row order (or one product on BLAS's threads
    while OpenBLAS's workers spin): the same product, no rows included (a zero matrix)."""
    from ganglion.kernels import conv

    monkeypatch.setattr(conv, "MIN_WORK_PER_THREAD", 1)
    monkeypatch.setattr(conv, "blas_threads_spinning", lambda: spinning)
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((rows, 6)), rng.standard_normal((rows, 4))
    before = g.get_num_threads()
    g.set_num_threads(threads)
    try:
        result = conv.matmul_inner_shared(a, b)
    finally:
        g.set_num_threads(before)
    assert result.shape == (6, 4)
    np.testing.assert_allclose(result, a.T @ b, rtol=1e-12, atol=1e-12)
