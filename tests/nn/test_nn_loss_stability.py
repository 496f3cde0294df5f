"""The losses at extreme inputs (huge logits, probabilities of exactly 0 and 1, zero vectors, zero targets) stay
finite and match PyTorch; and identities between them that must hold."""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion.nn import functional as F

TF = torch.nn.functional


def both(fn_name, arrays, requires_grad=(0,), **kwargs):
    """Run the functional of that name in both frameworks; returns (loss, grads) for ganglion and for torch."""
    ours = [g.tensor(a, dtype=g.float32 if a.dtype == np.float32 else g.float64, requires_grad=i in requires_grad)
            for i, a in enumerate(arrays)]
    theirs = [torch.tensor(a, requires_grad=i in requires_grad) for i, a in enumerate(arrays)]
    loss = getattr(F, fn_name)(*ours, **kwargs)
    loss_t = getattr(TF, fn_name)(*theirs, **kwargs)
    loss.sum().backward()
    loss_t.sum().backward()
    return (loss.detach().numpy(), [ours[i].grad.numpy() for i in requires_grad],
            loss_t.detach().numpy(), [theirs[i].grad.numpy() for i in requires_grad])


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("pos_weight", [False, True])
def test_bce_with_logits_is_finite_and_exact_for_logits_of_1e4_in_float32(reduction, pos_weight):
    x = np.array([[1e4, -1e4, 1e4, -1e4, 30.0, -30.0, 0.0]], dtype=np.float32)
    y = np.array([[1.0, 0.0, 0.0, 1.0, 0.5, 0.25, 1.0]], dtype=np.float32)
    pw = np.array([2.0, 0.5, 3.0, 1.5, 1.0, 4.0, 0.1], dtype=np.float32) if pos_weight else None
    xo, yo = g.tensor(x, requires_grad=True), g.tensor(y, requires_grad=True)
    xt, yt = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    ours_loss = F.binary_cross_entropy_with_logits(xo, yo, pos_weight=None if pw is None else g.tensor(pw),
                                                   reduction=reduction)
    loss_t = TF.binary_cross_entropy_with_logits(xt, yt, pos_weight=None if pw is None else torch.tensor(pw),
                                                 reduction=reduction)
    ours_loss.sum().backward()
    loss_t.sum().backward()
    value = ours_loss.detach().numpy()
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(xo.grad.numpy())) and np.all(np.isfinite(yo.grad.numpy()))
    np.testing.assert_allclose(value, loss_t.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(yo.grad.numpy(), yt.grad.numpy(), rtol=1e-6)


def test_bce_with_logits_of_1e4_gives_the_exact_margin():
    """A confident wrong answer costs |x| (not inf); a confident right one costs 0."""
    loss = F.binary_cross_entropy_with_logits(g.tensor([1e4, -1e4, 1e4]), g.tensor([0.0, 1.0, 1.0]), reduction="none")
    np.testing.assert_array_equal(loss.numpy(), [1e4, 1e4, 0.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_clamps_the_log_at_minus_100_like_torch(dtype):
    p = np.array([0.0, 1.0, 0.0, 1.0, 1e-45 if dtype == np.float32 else 1e-300, 0.5], dtype=dtype)
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.3], dtype=dtype)
    loss, (grad,), loss_t, (grad_t,) = both("binary_cross_entropy", [p, y], reduction="none")
    np.testing.assert_allclose(loss[:4], [100.0, 100.0, 0.0, 0.0])
    np.testing.assert_allclose(loss, loss_t, rtol=1e-6)
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad, grad_t, rtol=1e-6)  # PyTorch's (p - y) / max(p (1 - p), 1e-12): +-1e12 at the ends


def test_bce_target_gradient_is_finite_at_probabilities_0_and_1():
    """d/dy = log(1 - p) - log p with the forward's clamped logs (PyTorch gives +-inf here)."""
    y = g.tensor([0.3, 0.7], requires_grad=True)
    F.binary_cross_entropy(g.tensor([0.0, 1.0]), y, reduction="sum").backward()
    np.testing.assert_allclose(y.grad.numpy(), [100.0, -100.0])


def test_bce_on_sigmoid_equals_bce_with_logits_for_moderate_logits(rng):
    x = rng.uniform(-8, 8, (5, 3))
    y = rng.uniform(0, 1, (5, 3))
    a = F.binary_cross_entropy(F.sigmoid(g.from_numpy(x)), g.from_numpy(y))
    b = F.binary_cross_entropy_with_logits(g.from_numpy(x), g.from_numpy(y))
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-10)


def test_bce_with_logits_pos_weight_weights_only_the_positive_term(rng):
    x, y = rng.standard_normal((4, 3)), (rng.random((4, 3)) > 0.5).astype(float)
    pw = np.array([1.0, 2.0, 5.0])
    loss = F.binary_cross_entropy_with_logits(g.from_numpy(x), g.from_numpy(y), pos_weight=g.from_numpy(pw),
                                              reduction="none").numpy()
    log_s, log_1ms = -np.logaddexp(0, -x), -np.logaddexp(0, x)
    np.testing.assert_allclose(loss, -(pw * y * log_s + (1 - y) * log_1ms), rtol=1e-12)


def test_kl_div_zero_target_contributes_nothing(rng):
    logq = np.log(rng.dirichlet(np.ones(4), size=3))
    t = rng.dirichlet(np.ones(4), size=3)
    t[0, 1] = 0.0
    t[2, :2] = 0.0
    t /= t.sum(axis=1, keepdims=True)
    loss, (grad,), loss_t, (grad_t,) = both("kl_div", [logq, t], reduction="none")
    assert loss[0, 1] == 0.0 and np.all(np.isfinite(loss))
    np.testing.assert_allclose(loss, loss_t, rtol=1e-12)
    np.testing.assert_allclose(grad, grad_t, rtol=1e-12)


def test_kl_div_batchmean_is_the_kl_divergence_per_sample(rng):
    p = rng.dirichlet(np.ones(5), size=4)
    q = rng.dirichlet(np.ones(5), size=4)
    expected = np.mean(np.sum(p * np.log(p / q), axis=1))
    got = F.kl_div(g.from_numpy(np.log(q)), g.from_numpy(p), reduction="batchmean").item()
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    got_log = F.kl_div(g.from_numpy(np.log(q)), g.from_numpy(np.log(p)), reduction="batchmean", log_target=True)
    np.testing.assert_allclose(got_log.item(), expected, rtol=1e-12)


def test_cosine_embedding_with_a_zero_vector_is_finite_like_torch():
    x1 = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]])
    x2 = np.array([[1.0, -1.0, 2.0], [0.0, 0.0, 0.0]])
    y = np.array([1.0, -1.0])
    loss, grads, loss_t, grads_t = both("cosine_embedding_loss", [x1, x2, y], requires_grad=(0, 1),
                                        reduction="none", margin=-0.5)
    assert np.all(np.isfinite(loss)) and all(np.all(np.isfinite(gr)) for gr in grads)
    np.testing.assert_allclose(loss, loss_t, rtol=1e-12)
    for ours, theirs in zip(grads, grads_t):  # ~1e6 magnification by 1/sqrt(eps): a few ulps of round-off
        np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-15)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_regression_losses_at_1e4_in_float32_match_torch(name):
    x = np.array([1e4, -1e4, 3e3, 0.25], dtype=np.float32)
    y = np.array([-1e4, 1e4, 3e3, 0.0], dtype=np.float32)
    loss, (grad,), loss_t, (grad_t,) = both(name, [x, y], reduction="sum")
    assert np.isfinite(loss)
    np.testing.assert_allclose(loss, loss_t, rtol=1e-6)
    np.testing.assert_allclose(grad, grad_t, rtol=1e-6)


@pytest.mark.parametrize("delta", [0.3, 1.0, 2.5])
def test_huber_is_delta_times_smooth_l1_with_beta_delta(delta, rng):
    x, y = g.from_numpy(rng.uniform(-4, 4, 20)), g.from_numpy(rng.uniform(-4, 4, 20))
    np.testing.assert_allclose(F.huber_loss(x, y, delta=delta, reduction="none").numpy(),
                               delta * F.smooth_l1_loss(x, y, beta=delta, reduction="none").numpy(), rtol=1e-12)


def test_mse_and_l1_match_their_formulas(rng):
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    np.testing.assert_allclose(F.mse_loss(g.from_numpy(x), g.from_numpy(y)).item(), np.mean((x - y) ** 2),
                               rtol=1e-12)
    np.testing.assert_allclose(F.l1_loss(g.from_numpy(x), g.from_numpy(y), reduction="sum").item(),
                               np.sum(np.abs(x - y)), rtol=1e-12)
    w = rng.random((3, 4))
    np.testing.assert_allclose(F.mse_loss(g.from_numpy(x), g.from_numpy(y), weight=g.from_numpy(w)).item(),
                               np.sum(w * (x - y) ** 2) / np.sum(w), rtol=1e-12)


def test_margin_losses_match_their_formulas(rng):
    x1, x2 = rng.standard_normal(6), rng.standard_normal(6)
    y = rng.choice([-1.0, 1.0], 6)
    got = F.margin_ranking_loss(g.from_numpy(x1), g.from_numpy(x2), g.from_numpy(y), margin=0.2, reduction="none")
    np.testing.assert_allclose(got.numpy(), np.maximum(0, -y * (x1 - x2) + 0.2), rtol=1e-12)
    d = np.abs(rng.standard_normal(6))
    got = F.hinge_embedding_loss(g.from_numpy(d), g.from_numpy(y), margin=1.0, reduction="none")
    np.testing.assert_allclose(got.numpy(), np.where(y == 1, d, np.maximum(0, 1.0 - d)), rtol=1e-12)
