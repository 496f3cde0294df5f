"""The compiled ReLU (``ganglion.kernels.elementwise``) against the NumPy rule of ``ops.unary.ReLU`` it restates
(the same bits, forward and backward, NaN, +-0, +-inf included, on one thread and shared over several) and against
PyTorch; what it does not take stays on NumPy; the saved output keeps its version check."""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import kernels
from ganglion.kernels import elementwise

pytestmark = pytest.mark.skipif(not kernels.available(), reason="numba is not installed (or GANGLION_COMPILED=0)")


def _input(size, dtype, seed=0):
    """Random values with every special case ReLU treats apart: 0, -0, NaN, +-inf."""
    x = np.random.default_rng(seed).standard_normal(size).astype(dtype)
    x[::7], x[1::11], x[2::13], x[3::17], x[4::19] = 0.0, -0.0, np.nan, np.inf, -np.inf
    return x


def _relu_forward_backward(x, dy, compiled, monkeypatch):
    monkeypatch.setenv("GANGLION_COMPILED", "1" if compiled else "0")
    xt = g.from_numpy(x.copy()).requires_grad_(True)
    y = g.relu(xt)
    y.backward(g.from_numpy(dy))
    return y.detach().numpy().copy(), xt.grad.numpy().copy()


@pytest.fixture
def spy(call_spy):
    """The calls of the compiled forward and backward."""
    return call_spy(elementwise, "relu", "relu_backward")


@pytest.mark.filterwarnings("ignore:invalid value encountered in multiply")  # dy * 0 at dy = inf, NumPy path
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(elementwise.MIN_SIZE,), (3, 5, 1237), (300_001,)])
def test_compiled_relu_is_bit_identical_to_the_numpy_rule(shape, dtype, threads, spy, monkeypatch):
    monkeypatch.setattr(elementwise, "GRAIN", 1000)  # several chunks, on every thread
    x = _input(int(np.prod(shape)), dtype).reshape(shape)
    dy = _input(int(np.prod(shape)), dtype, seed=1).reshape(shape)  # inf and NaN in dy too: dy * 0 is NaN in both
    g.set_num_threads(threads)  # tests/global_state.py restores the count after the test
    fast = _relu_forward_backward(x, dy, True, monkeypatch)
    assert spy == ["relu", "relu_backward"]
    spy.clear()
    reference = _relu_forward_backward(x, dy, False, monkeypatch)
    assert not spy
    for a, b in zip(fast, reference):
        assert a.dtype == dtype
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(np.signbit(a), np.signbit(b))  # -0 gives +0, as np.maximum
    assert (fast[0] > 0).any() and (fast[1] != 0).any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_relu_equals_torch(dtype, spy):
    x = _input(50_000, dtype)
    dy = np.random.default_rng(2).standard_normal(x.shape).astype(dtype)
    xt = g.from_numpy(x).requires_grad_(True)
    y = g.relu(xt)
    y.backward(g.from_numpy(dy))
    assert spy == ["relu", "relu_backward"]
    reference = torch.from_numpy(x).requires_grad_(True)
    torch.relu(reference).backward(torch.from_numpy(dy))
    np.testing.assert_array_equal(y.detach().numpy(), torch.relu(torch.from_numpy(x)).numpy())
    np.testing.assert_array_equal(xt.grad.numpy(), reference.grad.numpy())  # 0 at x = 0, dy at NaN
    assert (x == 0).sum() > 1000 and not xt.grad.numpy()[x == 0].any()


@pytest.mark.parametrize("case", ["small", "float16", "integer", "strided", "mixed dtypes"])
def test_what_the_kernel_does_not_take_stays_on_numpy(case, spy):
    x = _input(40_000, np.float32)
    dy = np.ones_like(x)
    if case == "small":
        x, dy = x[: elementwise.MIN_SIZE - 1], dy[: elementwise.MIN_SIZE - 1]
    elif case == "float16":
        x, dy = x.astype(np.float16), dy.astype(np.float16)
    elif case == "integer":
        x = (x[np.isfinite(x)] * 10).astype(np.int64)
        dy = np.ones(x.shape, np.float32)
    elif case == "strided":
        x, dy = x[::2], dy[::2]
    else:
        dy = dy.astype(np.float64)
    xt = g.from_numpy(x)
    xt.requires_grad_(x.dtype.kind == "f")
    y = g.relu(xt)
    if case == "integer":
        assert spy == []
        np.testing.assert_array_equal(y.numpy(), np.maximum(x, 0))
        return
    y.backward(g.from_numpy(dy))
    assert spy == (["relu"] if case == "mixed dtypes" else [])
    np.testing.assert_array_equal(y.detach().numpy(), np.maximum(x, 0))
    np.testing.assert_array_equal(xt.grad.numpy(), (dy * (np.maximum(x, 0) != 0)).astype(xt.grad.numpy().dtype))


def test_changing_the_saved_output_in_place_is_still_caught(spy):
    xt = g.from_numpy(_input(30_000, np.float32)).requires_grad_(True)
    y = g.relu(xt)
    assert spy == ["relu"]
    with g.no_grad():
        y.clamp_(0.0, 1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_double_backward_runs_on_tensors_after_a_compiled_forward(spy):
    x = np.random.default_rng(3).standard_normal(20_000)
    xt = g.from_numpy(x).requires_grad_(True)
    (grad,) = g.autograd.grad((g.relu(xt) ** 2).sum(), xt, create_graph=True)  # 2 relu(x) relu'(x)
    np.testing.assert_allclose(grad.detach().numpy(), 2 * np.maximum(x, 0))
    grad.sum().backward()
    np.testing.assert_array_equal(xt.grad.numpy(), 2.0 * (x > 0))
    assert spy[0] == "relu"
