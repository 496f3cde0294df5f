"""The compiled softmax cross-entropy (``ganglion.kernels.losses``) against the NumPy path of
``SoftmaxCrossEntropy`` it restates (``GANGLION_COMPILED=0``), against the same loops run uncompiled, and against
PyTorch: every reduction, ignored rows, float32 and float64, NaN and infinite logits, labels out of range, and the
double backward; what it does not take (class weights, label smoothing, probabilities) stays on NumPy."""

import numpy as np
import pytest
import torch

import ganglion as g
import ganglion.nn.functional as F
from ganglion import kernels
from ganglion.kernels import losses as loss_kernels

pytestmark = pytest.mark.skipif(not kernels.available(), reason="numba is not installed (or GANGLION_COMPILED=0)")

TOLERANCE = {np.float32: dict(rtol=2e-6, atol=2e-7), np.float64: dict(rtol=1e-13, atol=1e-15)}


@pytest.fixture
def spy(call_spy):
    """The calls of the compiled forward and backward."""
    return call_spy(loss_kernels, "log_softmax_at_targets", "softmax_minus_onehot")


def _batch(rows, classes, dtype, seed=0, ignored=0):
    rng = np.random.default_rng(seed)
    z = (rng.standard_normal((rows, classes)) * 4).astype(dtype)
    t = rng.integers(0, classes, rows)
    t[:ignored] = -100
    return z, t


def _loss_and_grad(z, t, reduction, compiled, monkeypatch, **options):
    monkeypatch.setenv("GANGLION_COMPILED", "1" if compiled else "0")
    zt = g.from_numpy(z.copy()).requires_grad_(True)
    loss = F.cross_entropy(zt, g.from_numpy(t), reduction=reduction, **options)
    weights = np.linspace(0.5, 1.5, loss.numel()).astype(z.dtype).reshape(loss.shape)
    (loss * g.from_numpy(weights)).sum().backward()
    return loss.detach().numpy().copy(), zt.grad.numpy().copy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ignored", [0, 5])
def test_compiled_cross_entropy_equals_the_numpy_path(dtype, reduction, ignored, spy, monkeypatch):
    z, t = _batch(64, 10, dtype, ignored=ignored)
    fast = _loss_and_grad(z, t, reduction, True, monkeypatch)
    assert spy[0] == "log_softmax_at_targets"
    assert ("softmax_minus_onehot" in spy) == (ignored == 0)  # ignored rows: NumPy's backward, from its coefficients
    spy.clear()
    reference = _loss_and_grad(z, t, reduction, False, monkeypatch)
    assert not spy
    for a, b in zip(fast, reference):
        assert a.dtype == dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, **TOLERANCE[dtype])
    if ignored:
        assert np.all(fast[1][:ignored] == 0) and np.all(np.abs(fast[1][ignored:]).sum(axis=1) > 0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_compiled_cross_entropy_equals_torch_in_float64(reduction, spy, monkeypatch):
    z, t = _batch(33, 7, np.float64, seed=3, ignored=4)
    loss, grad = _loss_and_grad(z, t, reduction, True, monkeypatch)
    assert spy
    zt = torch.from_numpy(z.copy()).requires_grad_(True)
    expected = torch.nn.functional.cross_entropy(zt, torch.from_numpy(t), reduction=reduction)
    weights = np.linspace(0.5, 1.5, expected.numel()).reshape(expected.shape)
    (expected * torch.from_numpy(weights)).sum().backward()
    np.testing.assert_allclose(loss, expected.detach().numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(grad, zt.grad.numpy(), rtol=1e-13, atol=1e-15)


def test_compiled_loops_equal_the_same_loops_uncompiled():
    z, t = _batch(20, 6, np.float64, seed=5, ignored=3)
    t[7] = 6  # out of range: the first bad row is reported
    t[9] = -1
    outputs = []
    for forward in (loss_kernels._forward_rows, loss_kernels._forward_rows.py_func):
        logp, per = np.empty_like(z), np.empty(len(t))
        outputs.append((forward(z, t, -100, logp, per), logp, per))
    (counts, logp, per), (counts_ref, logp_ref, per_ref) = outputs
    assert counts == counts_ref == (15, 7)
    np.testing.assert_allclose(logp, logp_ref, rtol=1e-15)
    np.testing.assert_allclose(per, per_ref, rtol=1e-15)
    valid = np.arange(len(t)) >= 3
    valid[[7, 9]] = False
    logp_kept, t_kept = np.ascontiguousarray(logp[valid]), t[valid].copy()
    for scale, per_row in ((np.linspace(1, 2, len(t_kept)), True), (np.array([0.25]), False)):
        grads = []
        for backward in (loss_kernels._backward_rows, loss_kernels._backward_rows.py_func):
            grads.append(np.empty_like(logp_kept))
            backward(logp_kept, t_kept, scale, per_row, grads[-1])
        expected = (np.exp(logp_kept) - np.eye(6)[t_kept]) * (scale[:, None] if per_row else scale[0])
        np.testing.assert_allclose(grads[0], grads[1], rtol=1e-15, atol=1e-17)
        np.testing.assert_allclose(grads[0], expected, rtol=1e-14, atol=1e-16)


@pytest.mark.filterwarnings("ignore:invalid value encountered")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_and_infinite_logits_give_what_the_numpy_path_gives(dtype, spy, monkeypatch):
    z, t = _batch(8, 5, dtype, seed=7)
    z[1, 2] = np.nan
    z[3, 0] = np.inf
    z[5, :] = -np.inf
    z[6, 4] = -np.inf
    fast = _loss_and_grad(z, t, "none", True, monkeypatch)
    assert spy
    reference = _loss_and_grad(z, t, "none", False, monkeypatch)
    for a, b in zip(fast, reference):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        finite = np.isfinite(b)
        np.testing.assert_array_equal(np.isfinite(a), finite)
        np.testing.assert_allclose(a[finite], b[finite], **TOLERANCE[dtype])
    assert np.isnan(fast[0][1]) and np.isfinite(fast[0][6])


@pytest.mark.parametrize("bad", [10, -1, -101])
def test_a_label_out_of_range_names_it(bad, spy):
    z, t = _batch(16, 10, np.float32)
    t[9] = bad
    message = rf"cross_entropy: target {bad} is out of bounds for 10 classes \(valid: 0..9\)"
    with pytest.raises(ValueError, match=message):
        F.cross_entropy(g.from_numpy(z), g.from_numpy(t))
    assert spy == ["log_softmax_at_targets"]


def test_weights_smoothing_and_probabilities_stay_on_numpy(spy):
    z, t = _batch(12, 4, np.float32)
    zt = g.from_numpy(z)
    F.cross_entropy(zt, g.from_numpy(t), weight=g.ones(4))
    F.cross_entropy(zt, g.from_numpy(t), label_smoothing=0.1)
    F.cross_entropy(zt, g.from_numpy(np.full((12, 4), 0.25, dtype=np.float32)))
    F.cross_entropy(zt.t(), g.from_numpy(t[:4]))  # not C-contiguous rows
    assert not spy
    F.cross_entropy(zt, g.from_numpy(t.astype(np.int32)))
    assert spy == ["log_softmax_at_targets"]


@pytest.mark.parametrize("ignored", [0, 3])
def test_double_backward_through_the_compiled_path_equals_torch(ignored, spy):
    z, t = _batch(10, 5, np.float64, seed=11, ignored=ignored)
    zt = g.from_numpy(z.copy()).requires_grad_(True)
    (dz,) = g.autograd.grad(F.cross_entropy(zt, g.from_numpy(t)), zt, create_graph=True)
    (dz * dz).sum().backward()
    assert spy and spy[0] == "log_softmax_at_targets"
    ref = torch.from_numpy(z.copy()).requires_grad_(True)
    (rdz,) = torch.autograd.grad(torch.nn.functional.cross_entropy(ref, torch.from_numpy(t)), ref, create_graph=True)
    (rdz * rdz).sum().backward()
    np.testing.assert_allclose(dz.detach().numpy(), rdz.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(zt.grad.numpy(), ref.grad.numpy(), rtol=1e-10, atol=1e-14)
