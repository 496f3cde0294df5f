"""Every activation, module and functional, against PyTorch: forward and backward parity (float32 and float64),
float64 gradcheck, the derivative's value exactly at the kinks, huge inputs, train/eval, repr.

One table: adding an activation is adding a row. A row: name, ganglion module, PyTorch module, ganglion functional,
PyTorch functional, the kinks (points where the derivative jumps: random inputs are kept away from them, and the
kink test evaluates exactly there), and the float32 tolerance.
"""

from dataclasses import dataclass

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn
from ganglion.autograd import gradcheck
from ganglion.nn import functional as F

TF = torch.nn.functional
TNN = torch.nn


@dataclass
class Row:
    name: str
    module: object
    torch_module: object
    fn: object
    torch_fn: object
    kinks: tuple = ()
    tol32: float = 1e-6
    tol64: float = 1e-12


ROWS = [
    Row("identity", lambda: nn.Identity(), lambda: TNN.Identity(), F.identity, lambda x: x),
    Row("relu", lambda: nn.ReLU(), lambda: TNN.ReLU(), F.relu, TF.relu, (0.0,)),
    Row("sigmoid", lambda: nn.Sigmoid(), lambda: TNN.Sigmoid(), F.sigmoid, torch.sigmoid),
    Row("tanh", lambda: nn.Tanh(), lambda: TNN.Tanh(), F.tanh, torch.tanh),
    Row("leaky_relu", lambda: nn.LeakyReLU(), lambda: TNN.LeakyReLU(), F.leaky_relu, TF.leaky_relu, (0.0,)),
    Row("leaky_relu_0.2", lambda: nn.LeakyReLU(0.2), lambda: TNN.LeakyReLU(0.2),
        lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2), (0.0,)),
    Row("elu", lambda: nn.ELU(), lambda: TNN.ELU(), F.elu, TF.elu, (0.0,)),
    Row("elu_1.7", lambda: nn.ELU(alpha=1.7), lambda: TNN.ELU(alpha=1.7),
        lambda x: F.elu(x, 1.7), lambda x: TF.elu(x, 1.7), (0.0,)),
    Row("selu", lambda: nn.SELU(), lambda: TNN.SELU(), F.selu, TF.selu, (0.0,)),
    # PyTorch's float64 CELU backward rounds 1/alpha to float32 (ours is exact: test_nn_act_special checks e^{x/alpha})
    Row("celu_0.7", lambda: nn.CELU(0.7), lambda: TNN.CELU(0.7),
        lambda x: F.celu(x, 0.7), lambda x: TF.celu(x, 0.7), (0.0,), 1e-6, 2e-7),
    Row("relu6", lambda: nn.ReLU6(), lambda: TNN.ReLU6(), F.relu6, TF.relu6, (0.0, 6.0)),
    Row("hardtanh", lambda: nn.Hardtanh(), lambda: TNN.Hardtanh(), F.hardtanh, TF.hardtanh, (-1.0, 1.0)),
    Row("hardtanh_-2_1.5", lambda: nn.Hardtanh(-2.0, 1.5), lambda: TNN.Hardtanh(-2.0, 1.5),
        lambda x: F.hardtanh(x, -2.0, 1.5), lambda x: TF.hardtanh(x, -2.0, 1.5), (-2.0, 1.5)),
    # PyTorch's float64 Hardsigmoid backward multiplies by 1/6 rounded to float32 (ours divides by 6 exactly)
    Row("hardsigmoid", lambda: nn.Hardsigmoid(), lambda: TNN.Hardsigmoid(), F.hardsigmoid, TF.hardsigmoid,
        (-3.0, 3.0), 1e-6, 6e-8),
    Row("hardswish", lambda: nn.Hardswish(), lambda: TNN.Hardswish(), F.hardswish, TF.hardswish, (-3.0, 3.0)),
    Row("softplus", lambda: nn.Softplus(), lambda: TNN.Softplus(), F.softplus, TF.softplus),
    Row("softplus_b2_t3", lambda: nn.Softplus(beta=2.0, threshold=3.0), lambda: TNN.Softplus(2.0, 3.0),
        lambda x: F.softplus(x, 2.0, 3.0), lambda x: TF.softplus(x, 2.0, 3.0), (1.5,)),
    Row("silu", lambda: nn.SiLU(), lambda: TNN.SiLU(), F.silu, TF.silu),
    Row("swish", lambda: nn.Swish(), lambda: TNN.SiLU(), F.swish, TF.silu),
    Row("mish", lambda: nn.Mish(), lambda: TNN.Mish(), F.mish, TF.mish, (), 2e-6),
    Row("gelu", lambda: nn.GELU(), lambda: TNN.GELU(), F.gelu, TF.gelu, (), 2e-6),
    Row("gelu_tanh", lambda: nn.GELU("tanh"), lambda: TNN.GELU("tanh"),
        lambda x: F.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh"), (), 2e-6),
    Row("softsign", lambda: nn.Softsign(), lambda: TNN.Softsign(), F.softsign, TF.softsign),
    Row("tanhshrink", lambda: nn.Tanhshrink(), lambda: TNN.Tanhshrink(), F.tanhshrink, TF.tanhshrink),
    Row("threshold", lambda: nn.Threshold(0.3, -2.0), lambda: TNN.Threshold(0.3, -2.0),
        lambda x: F.threshold(x, 0.3, -2.0), lambda x: TF.threshold(x, 0.3, -2.0), (0.3,)),
    Row("logsigmoid", lambda: nn.LogSigmoid(), lambda: TNN.LogSigmoid(), F.logsigmoid, TF.logsigmoid),
    Row("hardshrink", lambda: nn.Hardshrink(), lambda: TNN.Hardshrink(), F.hardshrink, TF.hardshrink, (-0.5, 0.5)),
    Row("softshrink_0.7", lambda: nn.Softshrink(0.7), lambda: TNN.Softshrink(0.7),
        lambda x: F.softshrink(x, 0.7), lambda x: TF.softshrink(x, 0.7), (-0.7, 0.7)),
    Row("glu_dim1", lambda: nn.GLU(dim=1), lambda: TNN.GLU(dim=1),
        lambda x: F.glu(x, dim=1), lambda x: TF.glu(x, dim=1)),
    Row("softmax_dim1", lambda: nn.Softmax(dim=1), lambda: TNN.Softmax(dim=1),
        lambda x: F.softmax(x, dim=1), lambda x: TF.softmax(x, dim=1)),
    Row("log_softmax_dim-1", lambda: nn.LogSoftmax(dim=-1), lambda: TNN.LogSoftmax(dim=-1),
        lambda x: F.log_softmax(x, -1), lambda x: TF.log_softmax(x, -1)),
    Row("softmin_dim1", lambda: nn.Softmin(dim=1), lambda: TNN.Softmin(dim=1),
        lambda x: F.softmin(x, dim=1), lambda x: TF.softmin(x, dim=1)),
    Row("softmax2d", lambda: nn.Softmax2d(), lambda: TNN.Softmax2d(),
        lambda x: nn.Softmax2d()(x), lambda x: TNN.Softmax2d()(x)),
]
IDS = [r.name for r in ROWS]
SHAPE = (2, 4, 3)  # dim 1 even for glu; 3-d for softmax2d


def _inputs(rng, shape, kinks, dtype, scale=4.0):
    """Normal samples spread over the interesting range, none within 0.05 of a kink."""
    x = np.asarray(scale * rng.standard_normal(shape))
    for k in kinks:
        near = np.abs(x - k) < 0.05
        x[near] = k + np.where(x[near] >= k, 0.05, -0.05)
    return x.astype(dtype)


def _run(fn, x_np, dy_np, framework):
    if framework == "ganglion":
        x = g.tensor(x_np, dtype=x_np.dtype, requires_grad=True)
        y = fn(x)
        y.backward(g.tensor(dy_np, dtype=dy_np.dtype))
        return y.detach().numpy(), x.grad.numpy()
    x = torch.from_numpy(x_np.copy()).requires_grad_(True)
    y = fn(x)
    y.backward(torch.from_numpy(dy_np.copy()))
    return y.detach().numpy(), x.grad.numpy()


def _compare(ours, theirs, x, rng, tol):
    out_shape = theirs(torch.from_numpy(x)).shape
    dy = rng.standard_normal(out_shape).astype(x.dtype)
    y, dx = _run(ours, x, dy, "ganglion")
    yt, dxt = _run(theirs, x, dy, "torch")
    assert y.dtype == yt.dtype == x.dtype and y.shape == yt.shape
    np.testing.assert_allclose(y, yt, rtol=tol, atol=tol)
    np.testing.assert_allclose(dx, dxt, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_module_and_functional_match_torch(row, dtype, rng):
    tol = row.tol32 if dtype == np.float32 else row.tol64
    x = _inputs(rng, SHAPE, row.kinks, dtype)
    _compare(row.module(), row.torch_module(), x, rng, tol)
    _compare(row.fn, row.torch_fn, x, rng, tol)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_gradcheck_float64(row, rng):
    x = g.tensor(_inputs(rng, (2, 2, 3), row.kinks, np.float64, scale=3.0), dtype=g.float64, requires_grad=True)
    assert gradcheck(row.fn, (x,))


# the kinks of every row, and both sides of them: the derivative's value there follows PyTorch's convention
SPECIAL = np.array([-6.0, -3.0, -2.0, -1.5, -1.0, -0.7, -0.5, 0.0, 0.3, 0.5, 0.7, 1.0, 1.5, 3.0, 6.0, 2.5])


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_values_and_derivatives_at_the_kinks_match_torch(row, rng):
    x = SPECIAL.reshape(2, 2, 4)
    _compare(row.fn, row.torch_fn, x, rng, row.tol64 if row.tol64 > 1e-12 else 1e-15)


HUGE = np.array([-1e4, -3e3, -800.0, -90.0, -50.0, -20.0, -1.0, 0.0, 1.0, 20.0, 50.0, 90.0, 800.0, 3e3, 1e4, 5.0],
                dtype=np.float32).reshape(2, 2, 4)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_huge_float32_inputs_stay_finite_and_exact(row, rng):
    dy = rng.standard_normal(HUGE.shape).astype(np.float32)
    out_dy = dy[:, :1] if row.name.startswith("glu") else dy
    y, dx = _run(row.fn, HUGE, out_dy, "ganglion")
    yt, dxt = _run(row.torch_fn, HUGE, out_dy, "torch")
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dx))
    np.testing.assert_allclose(y, yt, rtol=row.tol32, atol=1e-6)
    np.testing.assert_allclose(dx, dxt, rtol=row.tol32, atol=1e-6)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_train_and_eval_give_the_same_output_and_repr_matches_torch(row, rng):
    m = row.module()
    x = g.tensor(_inputs(rng, SHAPE, row.kinks, np.float64), dtype=g.float64)
    y_train = m.train()(x).numpy()
    y_eval = m.eval()(x).numpy()
    np.testing.assert_array_equal(y_train, y_eval)
    assert list(m.parameters()) == [] and list(m.state_dict()) == []
    if row.name != "swish":  # ganglion's alias of SiLU
        assert repr(m) == repr(row.torch_module())


@pytest.mark.parametrize(
    "make, make_torch",
    [
        (lambda: nn.ELU(0.5, inplace=True), lambda: TNN.ELU(0.5, inplace=True)),
        (lambda: nn.SiLU(inplace=True), lambda: TNN.SiLU(inplace=True)),
        (lambda: nn.Softplus(2, 10), lambda: TNN.Softplus(2, 10)),
    ],
)
def test_inplace_is_accepted_computed_out_of_place_and_shown_like_torch(make, make_torch):
    """The activations that compute out of place (the ones that write over x: test_nn_act_inplace.py)."""
    m = make()
    assert repr(m) == repr(make_torch())
    x = g.tensor([-1.0, 0.5, 2.0])
    before = x.numpy().copy()
    y = m(x)
    np.testing.assert_array_equal(x.numpy(), before)  # the input is not modified
    np.testing.assert_allclose(y.numpy(), make_torch()(torch.tensor(before)).numpy(), rtol=1e-6)


NEEDS_DIMS = ("glu_dim1", "softmax_dim1", "softmin_dim1", "softmax2d")  # these need a dim 1 (or three dims)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_scalar_and_empty_inputs_match_torch(row, rng):
    shapes = [(0, 4, 3)] if row.name in NEEDS_DIMS else [(), (0, 4, 3)]
    for shape in shapes:
        x = _inputs(rng, shape, row.kinks, np.float64)
        _compare(row.fn, row.torch_fn, x, rng, row.tol64)
