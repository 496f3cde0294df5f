"""The compiled batch norm kernels (``ganglion.kernels.normalization``) against the NumPy reference path of
``Normalize`` (the same call with ``GANGLION_COMPILED=0``) and against torch.nn.functional.batch_norm in float64:
forward, backward, running statistics, eval mode, no affine, 2-D to 5-D inputs, one channel, one sample, short rows
in blocks of channels and long rows channel by channel, channels cut into pieces and pieces shared over threads."""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import kernels
from ganglion.nn import functional as F

pytestmark = pytest.mark.skipif(not kernels.available(), reason="numba is not installed")

from ganglion.kernels import normalization as K  # noqa: E402  (imports numba)

SHAPES = [(8, 3), (5, 1), (16, 40), (4, 3, 5), (2, 4, 3, 5), (2, 3, 2, 3, 4), (1, 1, 7), (1, 2, 3, 3), (6, 1, 4, 4)]
TOLERANCE = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-11, atol=1e-11)}


@pytest.fixture(params=["whole channels", "rows channel by channel", "channels in pieces"])
def pieces(request, monkeypatch):
    """Run each test three times: as the shapes come (their rows are short: blocks of channels), with every row taken
    channel by channel (the loops of long rows), and with every channel cut into pieces of a few elements that two
    threads share (the path of inputs with few channels), so the pieces' sums and their joining are exercised."""
    if request.param == "rows channel by channel":
        monkeypatch.setattr(K, "SHORT_ROWS", 1)
    if request.param == "channels in pieces":
        monkeypatch.setattr(K, "MIN_PIECE", 2)
        monkeypatch.setattr(K, "GRAIN", 1)
        g.set_num_threads(2)
    return request.param


def _batch_norm_step(shape, dtype, training, affine, compiled, monkeypatch, momentum=0.1, seed=0):
    """One forward and backward of F.batch_norm on fixed data: (y, dx, dweight, dbias, running_mean, running_var)
    as NumPy arrays (None where there is none)."""
    monkeypatch.setenv("GANGLION_COMPILED", "1" if compiled else "0")
    rng = np.random.default_rng(seed)
    c = shape[1]
    x = g.tensor(2.0 * rng.standard_normal(shape) + 3.0, dtype=dtype, requires_grad=True)
    weight = g.tensor(rng.uniform(0.5, 1.5, c), dtype=dtype, requires_grad=True) if affine else None
    bias = g.tensor(rng.standard_normal(c), dtype=dtype, requires_grad=True) if affine else None
    running_mean = g.tensor(rng.standard_normal(c), dtype=dtype)
    running_var = g.tensor(rng.uniform(0.5, 2.0, c), dtype=dtype)
    y = F.batch_norm(x, running_mean, running_var, weight, bias, training=training, momentum=momentum, eps=1e-3)
    dy = rng.standard_normal(shape).astype(dtype)
    (y * g.tensor(dy)).sum().backward()
    grads = [t.grad.numpy() if t is not None else None for t in (x, weight, bias)]
    return [y.detach().numpy(), *grads, running_mean.numpy(), running_var.numpy()]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("affine", [True, False], ids=["affine", "no_affine"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_compiled_batch_norm_equals_the_numpy_path(shape, affine, training, dtype, pieces, monkeypatch):
    compiled = _batch_norm_step(shape, dtype, training, affine, True, monkeypatch)
    reference = _batch_norm_step(shape, dtype, training, affine, False, monkeypatch)
    names = ["y", "dx", "dweight", "dbias", "running_mean", "running_var"]
    for name, ours, expected in zip(names, compiled, reference):
        assert (ours is None) == (expected is None), name
        if expected is not None:
            assert ours.dtype == expected.dtype and ours.shape == expected.shape, name
            np.testing.assert_allclose(ours, expected, err_msg=name, **TOLERANCE[dtype])


def test_the_compiled_path_runs_where_it_should(monkeypatch):
    """The dispatch: batch norm on NumPy float arrays takes the kernels (saving x, not xhat); instance norm and
    mixed dtypes keep the array path. Guards the equality test above against comparing the reference with itself."""
    monkeypatch.setenv("GANGLION_COMPILED", "1")
    x = g.tensor(np.random.default_rng(0).standard_normal((4, 3, 5)), dtype=g.float64, requires_grad=True)
    assert F.batch_norm(x, None, None, training=True)._node.saved[9] is not None
    assert F.instance_norm(x)._node.saved[9] is None
    weight = g.tensor(np.ones(3, np.float32), requires_grad=True)
    assert F.batch_norm(x, None, None, weight, training=True)._node.saved[9] is None
    monkeypatch.setenv("GANGLION_COMPILED", "0")
    assert F.batch_norm(x, None, None, training=True)._node.saved[9] is None


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("shape", [(6, 3), (5, 2, 4), (3, 4, 3, 2), (2, 2, 3, 2, 3), (1, 1, 9)], ids=str)
def test_compiled_batch_norm_matches_torch_in_float64(shape, training, pieces, monkeypatch):
    """y, the three gradients and the running statistics (momentum 0.3, unbiased variance) against PyTorch."""
    monkeypatch.setenv("GANGLION_COMPILED", "1")
    rng = np.random.default_rng(5)
    c = shape[1]
    arrays = [rng.standard_normal(shape) * 1.7 - 0.4, rng.uniform(0.5, 1.5, c), rng.standard_normal(c)]
    running = [rng.standard_normal(c), rng.uniform(0.5, 2.0, c)]
    dy = rng.standard_normal(shape)
    ours = [g.tensor(a, dtype=g.float64, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    our_running, their_running = [g.tensor(a, dtype=g.float64) for a in running], [torch.tensor(a) for a in running]
    y = F.batch_norm(ours[0], *our_running, ours[1], ours[2], training=training, momentum=0.3, eps=1e-4)
    expected = torch.nn.functional.batch_norm(theirs[0], *their_running, theirs[1], theirs[2], training=training,
                                              momentum=0.3, eps=1e-4)
    (y * g.tensor(dy, dtype=g.float64)).sum().backward()
    (expected * torch.tensor(dy)).sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    for a, b in zip(ours + our_running, theirs + their_running):
        np.testing.assert_allclose((a.grad if a.requires_grad else a).numpy(),
                                   (b.grad if b.requires_grad else b).numpy(), rtol=1e-10, atol=1e-12)


def test_float32_variance_is_sound_far_from_zero(pieces):
    """Data with a mean 1e4 times its spread: the two-pass float64 sums keep the variance to float32 rounding
    (E[x^2] - E[x]^2 in float32 would lose it entirely)."""
    rng = np.random.default_rng(2)
    x = (1e4 + rng.standard_normal((16, 2, 64))).astype(np.float32)
    _, mean, var, invstd = K.batch_norm_forward(x, None, None, 1e-5)
    exact = x.astype(np.float64)
    np.testing.assert_allclose(mean, exact.mean(axis=(0, 2)), rtol=1e-7)
    np.testing.assert_allclose(var, exact.var(axis=(0, 2)), rtol=1e-5)
    assert mean.dtype == var.dtype == invstd.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_block_of_channels_gives_what_the_channel_loops_give(dtype):
    """The short-row loops over channels [3, 9) of 12 (a thread's share) against the channel-by-channel loops: the
    same statistics, y, sums and dx there, and nothing written outside the block."""
    rng = np.random.default_rng(3)
    x = (2.0 * rng.standard_normal((5, 12, 9)) + 1.0).astype(dtype)
    dy = rng.standard_normal((5, 12, 9)).astype(dtype)
    weight, bias = rng.uniform(0.5, 1.5, 12).astype(dtype), rng.standard_normal(12).astype(dtype)
    tolerance = TOLERANCE[dtype]
    results = {}
    loops = [(K._forward_channel_block, K._backward_channel_block), (K._forward_channels, K._backward_channels)]
    for forward, backward in loops:
        stats = [np.full(12, -7.0, dtype) for _ in range(3)]
        y = np.full_like(x, -7.0)
        forward(3, 9, x, weight, bias, 1e-3, *stats, y)
        sums = [np.full(12, -7.0) for _ in range(2)]
        coefs = [np.full(12, -7.0, dtype) for _ in range(2)]
        dx = np.full_like(x, -7.0)
        backward(3, 9, x, dy, stats[0], stats[2], weight, True, *sums, *coefs, dx)
        results[forward.__name__] = [y, *stats, *sums, *coefs, dx]
    block, channels = results["_forward_channel_block"], results["_forward_channels"]
    for ours, expected in zip(block, channels):
        axis_of_channels = 1 if ours.ndim == 3 else 0
        outside = np.take(ours, list(range(3)) + list(range(9, 12)), axis=axis_of_channels)
        assert (outside == -7.0).all()
        np.testing.assert_allclose(ours, expected, **tolerance)
    y = block[0][:, 3:9]  # and the block's y is batch norm's: mean 0, variance 1 before the affine
    xhat = (y - bias[3:9, None]) / weight[3:9, None]
    np.testing.assert_allclose(xhat.mean(axis=(0, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(xhat.var(axis=(0, 2)), 1.0 / (1.0 + 1e-3 / x[:, 3:9].var(axis=(0, 2))), rtol=1e-4)


def test_momentum_none_is_a_cumulative_average_with_the_kernels(monkeypatch):
    """BatchNorm2d(momentum=None) over three batches: running statistics are the plain average, as PyTorch's."""
    monkeypatch.setenv("GANGLION_COMPILED", "1")
    ours, theirs = g.nn.BatchNorm2d(3, momentum=None), torch.nn.BatchNorm2d(3, momentum=None).double()
    ours = ours.to(dtype=g.float64)
    rng = np.random.default_rng(3)
    for _ in range(3):
        x = rng.standard_normal((4, 3, 2, 5)) * 2 + 1
        ours(g.tensor(x, dtype=g.float64))
        theirs(torch.tensor(x))
    np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-12)


def test_changing_x_in_place_after_the_compiled_forward_is_refused(monkeypatch):
    """The kernels save x itself (not xhat): backward must notice that it changed."""
    monkeypatch.setenv("GANGLION_COMPILED", "1")
    x = g.tensor(np.random.default_rng(0).standard_normal((4, 2, 3)), dtype=g.float64, requires_grad=True)
    h = x * 1.0
    y = F.batch_norm(h, None, None, training=True)
    with g.no_grad():
        h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_non_contiguous_input_and_gradient(monkeypatch):
    """A transposed x (not C-contiguous) gives the reference's y and dx."""
    rng = np.random.default_rng(4)
    base = rng.standard_normal((5, 3, 4))
    results = []
    for flag in ("1", "0"):
        monkeypatch.setenv("GANGLION_COMPILED", flag)
        x = g.tensor(base, dtype=g.float64, requires_grad=True)
        y = F.batch_norm(x.transpose(0, 2), None, None, training=True)  # (4, 3, 5)
        (y * g.tensor(np.arange(60.0).reshape(4, 3, 5) % 7, dtype=g.float64)).sum().backward()
        results.append((y.detach().numpy(), x.grad.numpy()))
    for ours, expected in zip(*results):
        np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-12)


def test_double_backward_through_the_compiled_forward(monkeypatch):
    """create_graph differentiates forward_graph, which reads what the compiled forward saved."""
    rng = np.random.default_rng(6)
    x0, w0 = rng.standard_normal((4, 2, 3)), rng.uniform(0.5, 1.5, 2)
    results = []
    for flag in ("1", "0"):
        monkeypatch.setenv("GANGLION_COMPILED", flag)
        x, w = g.tensor(x0, dtype=g.float64, requires_grad=True), g.tensor(w0, dtype=g.float64, requires_grad=True)
        y = F.batch_norm(x, None, None, w, training=True)
        (grad_x,) = g.autograd.grad((y * y * y).sum(), [x], create_graph=True)
        (grad_grad_w,) = g.autograd.grad((grad_x * grad_x).sum(), [w])
        results.append((grad_x.detach().numpy(), grad_grad_w.numpy()))
    for ours, expected in zip(*results):
        np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("running_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_running_statistics_update_equals_the_numpy_rule(dtype, running_dtype):
    """``update_running`` (compiled and run by Python) against ``Normalize._update_running``: the same bits, with
    the running statistics in the data's dtype or another."""
    from ganglion.kernels import normalization
    from ganglion.nn.functional.normalization import Normalize

    rng = np.random.default_rng(12)
    mean, var = rng.standard_normal(7).astype(dtype), rng.uniform(0.1, 2.0, 7).astype(dtype)
    for momentum, count in ((0.1, 512), (0.3, 6), (1 / 7, 2)):
        start = [rng.standard_normal(7).astype(running_dtype), rng.uniform(0.5, 2.0, 7).astype(running_dtype)]
        want = [a.copy() for a in start]
        Normalize._update_running(mean, var, count, *want, momentum)
        for kernel in (normalization.update_running, normalization.update_running.py_func):
            got = [a.copy() for a in start]
            kernel(mean, var, count / (count - 1), *got, momentum)
            np.testing.assert_array_equal(got[0], want[0])
            np.testing.assert_array_equal(got[1], want[1])
