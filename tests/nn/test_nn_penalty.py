"""L1, L2 and L1 + L2 penalties on selected parameters: values (Keras' coefficients: c sum|w|, c sum w^2), exact
analytic gradients, gradcheck, the equivalence of SGD's weight_decay=wd with adding l2_penalty(params, wd / 2) (in
ganglion and against PyTorch), penalties on a subset of the parameters, and errors."""

import numpy as np
import pytest
import torch

import ganglion as g
from ganglion import nn, optim
from ganglion.autograd import gradcheck
from ganglion.nn.utils import l1_l2_penalty, l1_penalty, l2_penalty

# (name, penalty(params), value formula, gradient formula) over a list of NumPy arrays
PENALTIES = [
    ("l1", lambda ps: l1_penalty(ps, 0.03), lambda ws: 0.03 * sum(np.abs(w).sum() for w in ws),
     lambda w: 0.03 * np.sign(w)),
    ("l2", lambda ps: l2_penalty(ps, 0.2), lambda ws: 0.2 * sum((w * w).sum() for w in ws), lambda w: 0.4 * w),
    ("l1_l2", lambda ps: l1_l2_penalty(ps, l1=0.05, l2=0.1),
     lambda ws: sum(0.05 * np.abs(w).sum() + 0.1 * (w * w).sum() for w in ws), lambda w: 0.05 * np.sign(w) + 0.2 * w),
    ("l1_l2-only-l1", lambda ps: l1_l2_penalty(ps, l1=0.05), lambda ws: 0.05 * sum(np.abs(w).sum() for w in ws),
     lambda w: 0.05 * np.sign(w)),
]
IDS = [p[0] for p in PENALTIES]


def weights(rng):
    ws = [rng.standard_normal((3, 4)), rng.standard_normal(5), rng.standard_normal(())]
    ws[0][1, 2] = 0.0  # sign(0) = 0: the subgradient PyTorch's abs uses
    return ws


@pytest.mark.parametrize("name,penalty,value,slope", PENALTIES, ids=IDS)
def test_value_and_gradient_are_the_formulas(name, penalty, value, slope, rng):
    ws = weights(rng)
    params = [g.tensor(w, dtype=g.float64, requires_grad=True) for w in ws]
    out = penalty(params)
    assert tuple(out.shape) == () and out.dtype == g.float64
    np.testing.assert_allclose(out.item(), value(ws), rtol=1e-13)
    out.backward()
    for p, w in zip(params, ws):
        np.testing.assert_allclose(p.grad.numpy(), slope(w), rtol=1e-15, atol=0)


@pytest.mark.parametrize("name,penalty,value,slope", PENALTIES, ids=IDS)
def test_gradient_matches_torch_autograd_of_the_same_formula(name, penalty, value, slope, rng):
    ws = weights(rng)
    params = [g.tensor(w, dtype=g.float64, requires_grad=True) for w in ws]
    penalty(params).backward()
    tparams = [torch.tensor(w, requires_grad=True) for w in ws]
    l1, l2 = {"l1": (0.03, 0.0), "l2": (0.0, 0.2), "l1_l2": (0.05, 0.1), "l1_l2-only-l1": (0.05, 0.0)}[name]
    sum(l1 * t.abs().sum() + l2 * t.pow(2).sum() for t in tparams).backward()
    for p, t in zip(params, tparams):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-14, atol=0)


@pytest.mark.parametrize("name,penalty,value,slope", PENALTIES, ids=IDS)
def test_gradcheck(name, penalty, value, slope, rng):
    a = g.tensor(rng.uniform(0.2, 1.0, (2, 3)) * rng.choice([-1, 1], (2, 3)), dtype=g.float64, requires_grad=True)
    b = g.tensor(rng.uniform(0.2, 1.0, 4), dtype=g.float64, requires_grad=True)
    assert gradcheck(lambda a, b: penalty([a, b]), (a, b))


def test_a_single_tensor_and_a_generator_are_accepted(rng):
    w = g.tensor(rng.standard_normal((2, 2)))
    assert l2_penalty(w, 1.0).item() == pytest.approx(float((w.numpy() ** 2).sum()), rel=1e-6)
    model = nn.Linear(3, 2)
    expected = sum(float(np.abs(p.detach().numpy()).sum()) for p in model.parameters())
    assert l1_penalty(model.parameters(), 1.0).item() == pytest.approx(expected, rel=1e-6)
    assert l1_penalty([], 0.5).item() == 0.0


def test_keras_convention_has_no_one_half(rng):
    """Keras' L2(l2)(w) = l2 * sum(w^2); ours gives the same number for the same coefficient."""
    w = rng.standard_normal(10)
    np.testing.assert_allclose(l2_penalty(g.from_numpy(w), 0.01).item(), 0.01 * np.sum(np.square(w)), rtol=1e-14)


def _step_pairs(model_a, model_b, x, y, wd, steps, penalized):
    """Train a copy with SGD(weight_decay=wd) and a copy with loss + l2_penalty(wd / 2): returns both losses."""
    opt_a = optim.SGD(model_a.parameters(), lr=0.1, weight_decay=wd)
    opt_b = optim.SGD(model_b.parameters(), lr=0.1)
    for _ in range(steps):
        opt_a.zero_grad()
        nn.MSELoss()(model_a(x), y).backward()
        opt_a.step()
        opt_b.zero_grad()
        (nn.MSELoss()(model_b(x), y) + l2_penalty(penalized(model_b), wd / 2)).backward()
        opt_b.step()


def _twin_models(rng, dtype):
    a = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2)).to(dtype)
    b = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2)).to(dtype)
    for p, q in zip(a.parameters(), b.parameters()):
        values = rng.uniform(-0.5, 0.5, tuple(p.shape))
        p.data = g.tensor(values, dtype=dtype)
        q.data = g.tensor(values, dtype=dtype)
    return a, b


def test_sgd_weight_decay_equals_half_wd_times_squared_norm_in_the_loss(rng):
    a, b = _twin_models(rng, g.float64)
    x, y = g.from_numpy(rng.standard_normal((8, 4))), g.from_numpy(rng.standard_normal((8, 2)))
    _step_pairs(a, b, x, y, wd=0.05, steps=10, penalized=lambda m: m.parameters())
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_penalty_training_matches_torch_weight_decay(rng):
    """The same equivalence across frameworks: ganglion with the penalty term, PyTorch with weight_decay."""
    ours, _ = _twin_models(rng, g.float32)
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
    for p, q in zip(ours.parameters(), theirs.parameters()):
        q.data = torch.tensor(p.detach().numpy())
    x_np, y_np = rng.standard_normal((8, 4)).astype(np.float32), rng.standard_normal((8, 2)).astype(np.float32)
    opt = optim.SGD(ours.parameters(), lr=0.1)
    opt_t = torch.optim.SGD(theirs.parameters(), lr=0.1, weight_decay=0.05)
    for _ in range(10):
        opt.zero_grad()
        (nn.MSELoss()(ours(g.tensor(x_np)), g.tensor(y_np)) + l2_penalty(ours.parameters(), 0.025)).backward()
        opt.step()
        opt_t.zero_grad()
        torch.nn.MSELoss()(theirs(torch.tensor(x_np)), torch.tensor(y_np)).backward()
        opt_t.step()
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_penalty_on_selected_parameters_leaves_the_others_alone(rng):
    """Penalize the weights, not the biases: the bias gradients are exactly those of the plain loss."""
    model = nn.Linear(3, 2).double()
    x, y = g.from_numpy(rng.standard_normal((6, 3))), g.from_numpy(rng.standard_normal((6, 2)))
    nn.MSELoss()(model(x), y).backward()
    plain = {n: p.grad.numpy().copy() for n, p in model.named_parameters()}
    model.zero_grad()
    (nn.MSELoss()(model(x), y) + l1_l2_penalty([model.weight], l1=0.01, l2=0.1)).backward()
    np.testing.assert_array_equal(model.bias.grad.numpy(), plain["bias"])
    w = model.weight.detach().numpy()
    np.testing.assert_allclose(model.weight.grad.numpy(), plain["weight"] + 0.01 * np.sign(w) + 0.2 * w, rtol=1e-13)


def test_float32_parameters_give_a_float32_penalty():
    assert l2_penalty([g.ones(3), g.ones(2)], 0.5).dtype == g.float32


@pytest.mark.parametrize("call,error,match", [
    (lambda: l2_penalty([g.ones(2)], -0.1), ValueError, "weight must be >= 0, got -0.1"),
    (lambda: l1_l2_penalty([g.ones(2)], l1=0.1, l2=-1.0), ValueError, "l2 must be >= 0"),
    (lambda: l1_penalty([g.ones(2)], float("nan")), ValueError, "weight must be >= 0"),
    (lambda: l1_penalty([g.ones(2), np.ones(2)], 0.1), TypeError, "ndarray at position 1"),
    (lambda: l2_penalty([g.ones(2, dtype=g.int64)], 0.1), TypeError, "floating-point"),
    (lambda: l2_penalty([g.ones(2)], "0.1"), TypeError, "weight must be a real number"),
])
def test_bad_arguments_raise(call, error, match):
    with pytest.raises(error, match=match):
        call()
