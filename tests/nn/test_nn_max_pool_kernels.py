"""The compiled 2x2 max pooling (``ganglion.kernels.pooling``) against the NumPy path of ``MaxPool`` and against
PyTorch: values, indices (ties: the first maximum; NaN: the last NaN), gradients, odd sizes, views, one thread or
several; every other window stays on the NumPy path."""

import numpy as np
import pytest
import torch

import ganglion as g
import ganglion.nn.functional as F
from ganglion import kernels
from ganglion.kernels import pooling

pytestmark = pytest.mark.skipif(not kernels.available(), reason="numba is not installed (or GANGLION_COMPILED=0)")


@pytest.fixture
def spy(call_spy):
    """The calls of the compiled forward and backward."""
    return call_spy(pooling, "max_pool2x2", "max_pool2x2_backward")


def _input(shape, dtype, seed=0):
    """Random values with ties (a plateau and integers), NaN (one and two per window), -inf windows and +inf."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    x[0, 0] = np.round(x[0, 0])  # many ties
    x[0, -1, :2, :2] = 1.5  # a whole window tied
    x[-1, 0, 0, 1] = np.nan
    x[-1, 0, 2:4, 0:2] = [[np.nan, 1.0], [np.nan, 2.0]]  # two NaNs: the last wins
    x[-1, -1, :2, :2] = -np.inf
    x[-1, -1, 2, 3] = np.inf
    return x


def _pool(x, dy, compiled, monkeypatch, **options):
    """(y, indices, dx) of max_pool2d(x, 2) with dy as the output's gradient."""
    monkeypatch.setenv("GANGLION_COMPILED", "1" if compiled else "0")
    xt = g.from_numpy(x.copy()).requires_grad_(True)
    y, indices = F.max_pool2d(xt, options.pop("kernel_size", 2), return_indices=True, **options)
    y.backward(g.from_numpy(dy))
    return y.detach().numpy(), indices.numpy(), xt.grad.numpy()


def _torch_pool(x, dy, **options):
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    y, indices = torch.nn.functional.max_pool2d(xt, options.pop("kernel_size", 2), return_indices=True, **options)
    y.backward(torch.from_numpy(dy))
    return y.detach().numpy(), indices.numpy(), xt.grad.numpy()


SHAPES = [(2, 3, 8, 8), (3, 2, 9, 11), (2, 2, 4, 5), (1, 2, 4, 4), (4, 6, 28, 28)]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_compiled_pool_equals_the_numpy_path_and_torch(shape, dtype, threads, spy, monkeypatch):
    monkeypatch.setattr(pooling, "GRAIN", 1)  # one plane per chunk: the planes shared over the threads
    x = _input(shape, dtype)
    out = (shape[0], shape[1], shape[2] // 2, shape[3] // 2)
    dy = np.random.default_rng(1).standard_normal(out).astype(dtype)
    g.set_num_threads(threads)  # tests/global_state.py restores the count after the test
    fast = _pool(x, dy, True, monkeypatch)
    assert spy == ["max_pool2x2", "max_pool2x2_backward"]
    spy.clear()
    reference = _pool(x, dy, False, monkeypatch)
    assert not spy
    for name, a, b, t in zip(("values", "indices", "gradient"), fast, reference, _torch_pool(x, dy)):
        assert a.shape == b.shape == t.shape and a.dtype == b.dtype, name
        np.testing.assert_array_equal(a, b, err_msg=name)
        np.testing.assert_array_equal(a, t, err_msg=name)
    values, indices, _ = fast
    assert np.isnan(values[-1, 0, 0, 0]) and indices[-1, 0, 0, 0] == 1  # the NaN, not the larger numbers
    assert np.isnan(values[-1, 0, 1, 0]) and indices[-1, 0, 1, 0] == 3 * shape[3]  # the last of two NaNs
    assert indices[0, -1, 0, 0] == 0  # a tied window: the first
    assert values[-1, -1, 0, 0] == -np.inf and indices[-1, -1, 0, 0] == 0


@pytest.mark.parametrize("options", [
    dict(ceil_mode=True),  # even sizes: the same windows as floor mode
    dict(stride=2),
    dict(kernel_size=(2, 2), stride=(2, 2), padding=0, dilation=1),
])
def test_compiled_pool_takes_the_same_window_however_spelled(options, spy, monkeypatch):
    x = _input((2, 3, 6, 8), np.float32)
    dy = np.random.default_rng(2).standard_normal((2, 3, 3, 4)).astype(np.float32)
    fast = _pool(x, dy, True, monkeypatch, **dict(options))
    assert spy == ["max_pool2x2", "max_pool2x2_backward"]
    for a, t in zip(fast, _torch_pool(x, dy, **dict(options))):
        np.testing.assert_array_equal(a, t)


@pytest.mark.parametrize("options", [
    dict(ceil_mode=True),  # odd sizes: the last windows are cut
    dict(padding=1),
    dict(stride=1),
    dict(kernel_size=3, stride=2),
    dict(dilation=2),
    dict(kernel_size=(2, 1), stride=(2, 1)),
])
def test_other_windows_stay_on_the_numpy_path(options, spy, monkeypatch):
    x = _input((2, 3, 7, 9), np.float32)
    monkeypatch.setenv("GANGLION_COMPILED", "1")
    reference = torch.nn.functional.max_pool2d(torch.from_numpy(x), return_indices=True,
                                               **{"kernel_size": 2, **options})
    dy = np.random.default_rng(3).standard_normal(reference[0].shape).astype(np.float32)
    values, indices, dx = _pool(x, dy, True, monkeypatch, **dict(options))
    assert spy == []
    torch_values, torch_indices, torch_dx = _torch_pool(x, dy, **dict(options))
    np.testing.assert_array_equal(values, torch_values)
    np.testing.assert_array_equal(indices, torch_indices)
    np.testing.assert_allclose(dx, torch_dx, rtol=1e-6, atol=1e-7)  # overlapping windows: sums in another order


def test_views_and_unbatched_inputs(spy, monkeypatch):
    x = _input((3, 2, 10, 12), np.float64)
    monkeypatch.setenv("GANGLION_COMPILED", "1")
    view = x.transpose(1, 0, 3, 2)[:, :, 1:, :]  # not contiguous, odd height
    got = F.max_pool2d(g.from_numpy(view), 2, return_indices=True)
    want = torch.nn.functional.max_pool2d(torch.from_numpy(np.ascontiguousarray(view)), 2, return_indices=True)
    np.testing.assert_array_equal(got[0].numpy(), want[0].numpy())
    np.testing.assert_array_equal(got[1].numpy(), want[1].numpy())
    unbatched = F.max_pool2d(g.from_numpy(x[0]), 2)
    np.testing.assert_array_equal(unbatched.numpy(), torch.nn.functional.max_pool2d(torch.from_numpy(x[0]), 2))
    assert spy == ["max_pool2x2", "max_pool2x2"]


def test_compiled_pool_under_no_grad_and_gradcheck(spy, monkeypatch):
    monkeypatch.setenv("GANGLION_COMPILED", "1")
    x = np.random.default_rng(4).permutation(2 * 2 * 6 * 4).reshape(2, 2, 6, 4) / 7.0  # distinct: differentiable
    with g.no_grad():
        y = F.max_pool2d(g.from_numpy(x), 2)
    np.testing.assert_array_equal(y.numpy(), torch.nn.functional.max_pool2d(torch.from_numpy(x), 2).numpy())
    xt = g.from_numpy(x).requires_grad_(True)
    assert g.autograd.gradcheck(lambda t: F.max_pool2d(t, 2), (xt,))
    assert "max_pool2x2_backward" in spy


def test_an_infinite_gradient_reaches_only_the_winner_as_in_torch(spy, monkeypatch):
    x = _input((2, 2, 6, 6), np.float32)
    dy = np.ones((2, 2, 3, 3), np.float32)
    dy[0, 0, 1, 1], dy[1, 1, 2, 0] = np.inf, np.nan
    _, _, dx = _pool(x, dy, True, monkeypatch)
    assert spy == ["max_pool2x2", "max_pool2x2_backward"]
    np.testing.assert_array_equal(dx, _torch_pool(x, dy)[2])
    assert np.isinf(dx).sum() == 1 and np.isnan(dx).sum() == 1
