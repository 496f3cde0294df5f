"""Activations beyond the parity table: the accuracy of erf (GELU's exact form), PReLU's learned slope, exactness
where PyTorch itself rounds, errors that name what was wrong, and the same activations on a GPU."""

import math

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn
from ganglion.autograd import gradcheck
from ganglion.nn import functional as F
from ganglion.nn.functional._select import keep, select
from ganglion.nn.functional.special import erf, erfc, ndtr, ndtri

TF = torch.nn.functional


def _grid():
    x = np.concatenate([np.linspace(-27.0, 27.0, 20001), np.geomspace(1e-300, 1e-2, 200),
                        -np.geomspace(1e-300, 1e-2, 200), [0.0, 0.46875, 4.0, -0.46875, -4.0]])
    return x


def _rel_err(ours, ref):
    ref = np.asarray(ref)
    ok = np.abs(ref) > 1e-300  # below that the reference itself is subnormal
    return np.max(np.abs(ours[ok] - ref[ok]) / np.abs(ref[ok]))


def test_erf_is_accurate_to_float64_rounding():
    x = _grid()
    assert _rel_err(erf(x, np), [math.erf(v) for v in x]) < 2e-15


def test_erfc_keeps_relative_accuracy_deep_in_the_tail():
    x = _grid()
    ref = [math.erfc(v) for v in x]
    assert _rel_err(erfc(x, np), ref) < 1e-13  # ~ x^2 * eps at x = 27, where erfc is 1e-319
    near = np.abs(x) < 6
    assert _rel_err(erfc(x[near], np), np.asarray(ref)[near]) < 5e-15


def test_erf_handles_infinities_nan_and_keeps_float32():
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0], dtype=np.float64)
    np.testing.assert_array_equal(erf(x, np)[[0, 1, 3]], [1.0, -1.0, 0.0])
    np.testing.assert_array_equal(erfc(x, np)[[0, 1, 3]], [0.0, 2.0, 1.0])
    assert np.isnan(erf(x, np)[2]) and np.isnan(erfc(x, np)[2])
    x32 = np.linspace(-6, 6, 4001, dtype=np.float32)
    y32 = erf(x32, np)
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, torch.erf(torch.from_numpy(x32)).numpy(), rtol=0, atol=3e-7)


def test_large_arrays_run_in_chunks_with_the_same_results():
    x = np.linspace(-7.0, 7.0, 100_000).reshape(400, 250).T  # over the chunk size, and not contiguous
    whole = erfc(x, np)
    assert whole.shape == (250, 400)
    np.testing.assert_array_equal(whole, np.stack([erfc(row, np) for row in x]))
    np.testing.assert_array_equal(erf(x.astype(np.float32), np), np.stack([erf(r, np) for r in x.astype(np.float32)]))


def test_ndtri_inverts_the_normal_cdf():
    p = np.concatenate([np.geomspace(1e-300, 0.5, 300), 1 - np.geomspace(1e-15, 0.5, 300)])
    x = ndtri(p, np)
    assert np.all(np.isfinite(x)) and np.all(np.diff(x[:300]) > 0)
    np.testing.assert_allclose(ndtr(x, np)[:300], p[:300], rtol=1e-12)  # lower tail: relative accuracy
    np.testing.assert_allclose(ndtr(x, np)[300:], p[300:], rtol=0, atol=1e-15)
    np.testing.assert_allclose(ndtri(np.array([0.5, 0.975, 0.0, 1.0]), np), [0.0, 1.959963984540054, -np.inf, np.inf],
                               rtol=1e-15, atol=1e-15)


def test_gelu_exact_form_is_exact_in_float64_even_where_1_plus_erf_cancels():
    x = np.array([-30.0, -12.0, -8.0, -3.0, -0.3, 0.0, 1e-8, 0.7, 2.0, 9.0])
    y = F.gelu(g.tensor(x, dtype=g.float64)).numpy()
    ref = np.array([v * 0.5 * math.erfc(-v / math.sqrt(2)) for v in x])
    np.testing.assert_allclose(y, ref, rtol=5e-14, atol=0)
    assert y[0] < 0  # x Phi(x) is tiny but not 0; 1 + erf(x / sqrt 2) would round it to 0


def test_celu_derivative_is_exactly_e_to_the_x_over_alpha():
    x = g.tensor([-0.53, -2.0, -7.5], dtype=g.float64, requires_grad=True)
    F.celu(x, 0.7).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [math.exp(v / 0.7) for v in (-0.53, -2.0, -7.5)], rtol=1e-15)


def test_stable_functions_are_finite_and_exact_at_magnitude_1e4_in_float32():
    x = np.array([[-1e4, -1e3, 0.0, 1e3, 1e4]], dtype=np.float32)
    gx = g.from_numpy(x)
    tx = torch.from_numpy(x)
    pairs = [
        (F.sigmoid(gx), torch.sigmoid(tx)), (F.softplus(gx), TF.softplus(tx)),
        # with the linear switch disabled PyTorch overflows (log1p(e^3000) = inf even in float64); the exact value:
        (F.softplus(gx, beta=3.0, threshold=1e9), torch.from_numpy(np.logaddexp(0.0, 3.0 * x.astype(np.float64)) / 3)),
        (F.softmax(gx, dim=1), TF.softmax(tx, dim=1)), (F.log_softmax(gx, dim=1), TF.log_softmax(tx, dim=1)),
        (F.logsigmoid(gx), TF.logsigmoid(tx)),
    ]
    for ours, theirs in pairs:
        assert np.all(np.isfinite(ours.numpy()))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-7, atol=0)


# ---------------------------------------------------------------------------------------------------------- PReLU
@pytest.mark.parametrize("num_parameters, shape", [(1, (4, 3, 5, 2)), (3, (4, 3, 5, 2)), (3, (6, 3)), (1, (7,))])
def test_prelu_input_and_weight_gradients_match_torch(num_parameters, shape, rng):
    ours, theirs = nn.PReLU(num_parameters, init=0.1), torch.nn.PReLU(num_parameters, init=0.1)
    w = rng.uniform(-0.5, 0.5, num_parameters).astype(np.float32)
    ours.load_state_dict({"weight": g.from_numpy(w.copy())})
    theirs.load_state_dict({"weight": torch.from_numpy(w.copy())})
    x = rng.standard_normal(shape).astype(np.float32)
    dy = rng.standard_normal(shape).astype(np.float32)
    gx, tx = g.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = ours(gx), theirs(tx)
    y.backward(g.from_numpy(dy))
    yt.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("num_parameters", [1, 3])
def test_prelu_gradcheck_input_and_weight(num_parameters, rng):
    x = g.tensor(rng.standard_normal((2, 3, 2)) + 0.05, dtype=g.float64, requires_grad=True)
    w = g.tensor(rng.uniform(-0.5, 0.5, num_parameters), dtype=g.float64, requires_grad=True)
    assert gradcheck(F.prelu, (x, w))


def test_prelu_has_torchs_parameter_layout_and_initial_value():
    m = nn.PReLU(5, init=0.3)
    assert [(k, tuple(v.shape)) for k, v in m.state_dict().items()] == [("weight", (5,))]
    np.testing.assert_allclose(m.weight.detach().numpy(), 0.3)
    assert repr(m) == repr(torch.nn.PReLU(5)) == "PReLU(num_parameters=5)"
    assert m.weight.dtype == g.float32 and nn.PReLU(dtype=g.float64).weight.dtype == g.float64
    t = torch.nn.PReLU(5)
    t.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in m.state_dict().items()})
    x = np.linspace(-2, 2, 20, dtype=np.float32).reshape(4, 5)
    np.testing.assert_allclose(m(g.from_numpy(x)).detach().numpy(), t(torch.from_numpy(x)).detach().numpy())


def test_prelu_rejects_a_channel_count_it_was_not_built_for():
    with pytest.raises(ValueError, match=r"PReLU\(num_parameters=3\).*3 channels.*\(2, 4, 5\)"):
        nn.PReLU(3)(g.zeros(2, 4, 5))
    with pytest.raises(ValueError, match=r"prelu: weight of shape \(3,\).*\(4,\)"):
        F.prelu(g.zeros(4), g.ones(3))
    with pytest.raises(ValueError, match="num_parameters"):
        nn.PReLU(0)


# --------------------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: nn.GELU("erf"), ValueError, r"GELU: unknown approximate='erf'; accepted values are 'none', 'tanh'"),
        (lambda: F.gelu(g.zeros(2), approximate="fast"), ValueError, r"accepted values are 'none', 'tanh'"),
        (lambda: nn.CELU(0.0), ValueError, "alpha must not be 0"),
        (lambda: F.celu(g.zeros(2), 0), ValueError, "alpha must not be 0"),
        (lambda: nn.Hardtanh(1.0, -1.0), ValueError, r"max_val \(-1.0\) must be greater than min_val \(1.0\)"),
        (lambda: F.hardtanh(g.zeros(2), 2.0, 2.0), ValueError, "must be greater"),
        (lambda: F.softshrink(g.zeros(2), -1.0), ValueError, "lambd must be >= 0"),
        (lambda: F.glu(g.zeros(2, 3)), ValueError, r"even size.*\(2, 3\)"),
        (lambda: F.glu(g.zeros(2, 4), dim=2), IndexError, "out of range"),
        (lambda: F.elu(np.zeros(3)), TypeError, "elu: expected a Tensor as input, got ndarray"),
        (lambda: F.silu(g.zeros(3, dtype=g.int64)), TypeError, "silu: expected a floating-point tensor"),
        (lambda: F.leaky_relu(g.zeros(3), "0.1"), TypeError, "negative_slope must be a number"),
        (lambda: nn.Softplus(beta=0), ValueError, "beta must not be 0"),
        (lambda: nn.Softmax2d()(g.zeros(3, 4)), ValueError, r"Softmax2d.*\(3, 4\)"),
    ],
)
def test_bad_arguments_raise_errors_that_name_them(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ------------------------------------------------------------------------------------------------------------ GPU
@pytest.mark.gpu
@pytest.mark.skipif(not g.cuda.is_available(), reason="needs CuPy and a visible GPU")
@pytest.mark.parametrize(
    "fn",
    [F.gelu, lambda x: F.gelu(x, approximate="tanh"), F.silu, F.mish, F.softplus, F.elu, F.selu, F.hardswish,
     F.logsigmoid, F.leaky_relu, lambda x: F.glu(x, 0)],
    ids=["gelu", "gelu_tanh", "silu", "mish", "softplus", "elu", "selu", "hardswish", "logsigmoid", "leaky_relu",
         "glu"],
)
def test_activations_give_the_same_values_and_gradients_on_the_gpu(fn, rng):
    x = rng.standard_normal((4, 5)) * 4
    cpu = g.tensor(x, dtype=g.float64, requires_grad=True)
    gpu = g.tensor(x, dtype=g.float64, device="cuda", requires_grad=True)
    y_cpu, y_gpu = fn(cpu), fn(gpu)
    y_cpu.sum().backward()
    y_gpu.sum().backward()
    assert y_gpu.device.type == "cuda"
    np.testing.assert_allclose(y_gpu.cpu().numpy(), y_cpu.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gpu.grad.cpu().numpy(), cpu.grad.numpy(), rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------------------------------- branch-free select
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_select_equals_where_bit_for_bit_including_inf_nan_and_signed_zero(dtype, rng):
    a = np.array([np.inf, -np.inf, np.nan, -0.0, 0.0, 1.5, -2.25, 7.0], dtype=dtype)
    b = np.array([-0.0, 3.0, -np.inf, np.nan, 2.0, -0.0, np.inf, 1e-3], dtype=dtype)
    for _ in range(4):
        mask = rng.random(a.shape) < 0.5
        for args in ((a, b), (a, 2.5), (-1.0, b), (a[None, :].repeat(3, 0), b)):
            m = np.broadcast_to(mask, np.broadcast(*[np.asarray(v) for v in args]).shape)
            ours, ref = select(m, *args, np), np.where(m, *args)
            assert ours.dtype == ref.dtype == dtype
            np.testing.assert_array_equal(ours.view(f"u{dtype().itemsize}"), ref.view(f"u{dtype().itemsize}"))
        np.testing.assert_array_equal(keep(mask, b, np).view(f"u{dtype().itemsize}"),
                                      np.where(mask, b, dtype(0)).view(f"u{dtype().itemsize}"))


def test_select_falls_back_to_where_for_scalars_and_mixed_dtypes():
    assert select(np.array(True), np.array(1.0), 2.0, np) == 1.0
    mixed = select(np.array([True, False]), np.array([1.0, 2.0], np.float32), np.array([3.0, 4.0]), np)
    assert mixed.dtype == np.float64 and mixed.tolist() == [1.0, 4.0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(5000,), (3, 70001), (64, 6, 28, 28)], ids=["one-block", "blocks", "lenet"])
def test_relu_on_large_arrays_matches_torch_with_nan_and_infinities(shape, dtype):
    """Large contiguous inputs take ReLU's blockwise path (see ops.unary._positive_part)."""
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    x.reshape(-1)[[0, 1, 2, 3, -1]] = [np.nan, np.inf, -np.inf, -0.0, np.nan]
    ours, ref = g.tensor(x, dtype=getattr(g, dtype), requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = F.relu(ours), TF.relu(ref)
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    dy = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    y.backward(g.tensor(dy, dtype=getattr(g, dtype)))
    ty.backward(torch.tensor(dy))
    np.testing.assert_array_equal(ours.grad.numpy(), ref.grad.numpy())
    strided = x[..., ::2]  # not contiguous: the plain path
    np.testing.assert_array_equal(F.relu(g.tensor(strided, dtype=getattr(g, dtype))).numpy(),
                                  TF.relu(torch.tensor(strided)).numpy())
