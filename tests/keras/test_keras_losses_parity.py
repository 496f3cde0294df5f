"""Keras loss functions, one row each: per-sample values against a NumPy transcription of Keras' formula (float64),
against PyTorch where it has the same function, and float64 gradcheck. Adding a loss is adding a row."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ganglion as g
from ganglion.autograd import gradcheck
from ganglion.keras import losses

EPS = 1e-7


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _bce(y, p):
    p = np.clip(p, EPS, 1 - EPS)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def _normalize(x):
    return x / np.maximum(np.sqrt((x * x).sum(-1, keepdims=True)), EPS)


def _hinge_y(y):
    return 2 * y - 1 if np.all((y == 0) | (y == 1)) else y


# data makers: (y_true, y_pred) of shape (4, 3) from a generator; y_pred avoids kinks so gradcheck is meaningful
def regression(rng):
    return rng.normal(size=(4, 3)), rng.normal(size=(4, 3)) + 0.05


def positive(rng):
    return rng.uniform(0.5, 3.0, (4, 3)), rng.uniform(0.5, 3.0, (4, 3))


def binary(rng):
    return rng.integers(0, 2, (4, 3)).astype(np.float64), rng.uniform(0.05, 0.95, (4, 3))


def binary_logits(rng):
    return rng.integers(0, 2, (4, 3)).astype(np.float64), rng.normal(size=(4, 3)) * 2


def onehot_probs(rng):
    return np.eye(3)[rng.integers(0, 3, 4)], _softmax(rng.normal(size=(4, 3)))


def onehot_logits(rng):
    return np.eye(3)[rng.integers(0, 3, 4)], rng.normal(size=(4, 3)) * 2


def sparse_probs(rng):
    return rng.integers(0, 3, 4), _softmax(rng.normal(size=(4, 3)))


def sparse_logits(rng):
    return rng.integers(0, 3, 4), rng.normal(size=(4, 3)) * 2


def distributions(rng):
    return _softmax(rng.normal(size=(4, 3))), _softmax(rng.normal(size=(4, 3)))


def signs(rng):
    return rng.choice([-1.0, 1.0], (4, 3)), rng.choice([-1, 1], (4, 3)) * rng.uniform(0.1, 0.8, (4, 3))


def _focal(y, p, gamma=2.0, alpha=0.25, balance=False):
    f = (1 - (y * p + (1 - y) * (1 - p))) ** gamma * _bce(y, p)
    return (f * (y * alpha + (1 - y) * (1 - alpha)) if balance else f).mean(-1)


def _smooth(y, s, c):
    return y * (1 - s) + s / c


# (id, function, kwargs, data, NumPy reference(y_true, y_pred), PyTorch reference or None)
ROWS = [
    ("mse", losses.mean_squared_error, {}, regression, lambda t, p: ((t - p) ** 2).mean(-1),
     lambda t, p: TF.mse_loss(p, t, reduction="none").mean(-1)),
    ("mae", losses.mean_absolute_error, {}, regression, lambda t, p: np.abs(t - p).mean(-1),
     lambda t, p: TF.l1_loss(p, t, reduction="none").mean(-1)),
    ("mape", losses.mean_absolute_percentage_error, {}, positive,
     lambda t, p: 100 * np.abs((t - p) / np.maximum(np.abs(t), EPS)).mean(-1), None),
    ("msle", losses.mean_squared_logarithmic_error, {}, positive,
     lambda t, p: ((np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(t, EPS) + 1)) ** 2).mean(-1), None),
    ("huber", losses.huber, {"delta": 0.7}, regression,
     lambda t, p: np.where(np.abs(p - t) <= 0.7, 0.5 * (p - t) ** 2, 0.7 * np.abs(p - t) - 0.5 * 0.49).mean(-1),
     lambda t, p: TF.huber_loss(p, t, reduction="none", delta=0.7).mean(-1)),
    ("log_cosh", losses.log_cosh, {}, regression, lambda t, p: np.log(np.cosh(p - t)).mean(-1), None),
    ("cosine_similarity", losses.cosine_similarity, {}, regression,
     lambda t, p: -(_normalize(t) * _normalize(p)).sum(-1), lambda t, p: -TF.cosine_similarity(t, p, dim=-1)),
    ("binary_crossentropy", losses.binary_crossentropy, {}, binary, lambda t, p: _bce(t, p).mean(-1),
     lambda t, p: TF.binary_cross_entropy(p, t, reduction="none").mean(-1)),
    ("binary_crossentropy-smooth", losses.binary_crossentropy, {"label_smoothing": 0.2}, binary,
     lambda t, p: _bce(t * 0.8 + 0.1, p).mean(-1), None),
    ("binary_crossentropy-logits", losses.binary_crossentropy, {"from_logits": True}, binary_logits,
     lambda t, p: _bce(t, _sigmoid(p)).mean(-1),
     lambda t, p: TF.binary_cross_entropy_with_logits(p, t, reduction="none").mean(-1)),
    ("binary_focal", losses.binary_focal_crossentropy, {}, binary, _focal, None),
    ("binary_focal-balanced-logits", losses.binary_focal_crossentropy,
     {"apply_class_balancing": True, "alpha": 0.3, "gamma": 1.5, "from_logits": True}, binary_logits,
     lambda t, p: _focal(t, _sigmoid(p), 1.5, 0.3, True), None),
    ("categorical_crossentropy", losses.categorical_crossentropy, {}, onehot_probs,
     lambda t, p: -(t * np.log(np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS))).sum(-1),
     lambda t, p: TF.nll_loss((p / p.sum(-1, keepdim=True)).log(), t.argmax(-1), reduction="none")),
    ("categorical_crossentropy-smooth", losses.categorical_crossentropy, {"label_smoothing": 0.1}, onehot_probs,
     lambda t, p: -(_smooth(t, 0.1, 3) * np.log(p)).sum(-1), None),
    ("categorical_crossentropy-logits-smooth", losses.categorical_crossentropy,
     {"from_logits": True, "label_smoothing": 0.1}, onehot_logits,
     lambda t, p: -(_smooth(t, 0.1, 3) * np.log(_softmax(p))).sum(-1),
     lambda t, p: TF.cross_entropy(p, t.argmax(-1), reduction="none", label_smoothing=0.1)),
    ("sparse_categorical_crossentropy", losses.sparse_categorical_crossentropy, {}, sparse_probs,
     lambda t, p: -np.log(p[np.arange(4), t]),
     lambda t, p: TF.nll_loss((p / p.sum(-1, keepdim=True)).log(), t, reduction="none")),
    ("sparse_categorical_crossentropy-logits", losses.sparse_categorical_crossentropy, {"from_logits": True},
     sparse_logits, lambda t, p: -np.log(_softmax(p)[np.arange(4), t]),
     lambda t, p: TF.cross_entropy(p, t, reduction="none")),
    ("kl_divergence", losses.kl_divergence, {}, distributions, lambda t, p: (t * np.log(t / p)).sum(-1),
     lambda t, p: TF.kl_div(p.log(), t, reduction="none").sum(-1)),
    ("poisson", losses.poisson, {}, positive, lambda t, p: (p - t * np.log(p + EPS)).mean(-1), None),
    ("hinge", losses.hinge, {}, signs, lambda t, p: np.maximum(1 - t * p, 0).mean(-1), None),
    ("hinge-01-labels", losses.hinge, {}, binary_logits,
     lambda t, p: np.maximum(1 - _hinge_y(t) * p, 0).mean(-1), None),
    ("squared_hinge", losses.squared_hinge, {}, signs, lambda t, p: (np.maximum(1 - t * p, 0) ** 2).mean(-1), None),
    ("categorical_hinge", losses.categorical_hinge, {}, onehot_logits,
     lambda t, p: np.maximum((p * (1 - t)).max(-1) - (t * p).sum(-1) + 1, 0), None),
]
IDS = [r[0] for r in ROWS]


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _inputs(data, rng):
    y_true, y_pred = data(rng)
    true = g.tensor(y_true) if y_true.dtype.kind in "iu" else g.tensor(y_true, dtype=g.float64)
    return y_true, y_pred, true, g.tensor(y_pred, dtype=g.float64, requires_grad=True)


@pytest.mark.parametrize("name,fn,kwargs,data,ref,torch_ref", ROWS, ids=IDS)
def test_values_match_the_keras_formula(name, fn, kwargs, data, ref, torch_ref, rng):
    y_true, y_pred, true, pred = _inputs(data, rng)
    out = fn(true, pred, **kwargs)
    assert tuple(out.shape) == (4,) and out.dtype == g.float64
    np.testing.assert_allclose(out.detach().numpy(), ref(y_true, y_pred), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name,fn,kwargs,data,ref,torch_ref", [r for r in ROWS if r[5] is not None],
                         ids=[r[0] for r in ROWS if r[5] is not None])
def test_values_and_gradients_match_torch(name, fn, kwargs, data, ref, torch_ref, rng):
    y_true, y_pred, true, pred = _inputs(data, rng)
    out = fn(true, pred, **kwargs)
    weights = rng.normal(size=4)
    (out * g.tensor(weights, dtype=g.float64)).sum().backward()
    t_pred = torch.tensor(y_pred, requires_grad=True)
    t_out = torch_ref(torch.tensor(y_true), t_pred)
    (t_out * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(pred.grad.numpy(), t_pred.grad.numpy(), rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("name,fn,kwargs,data,ref,torch_ref", ROWS, ids=IDS)
def test_gradcheck_float64(name, fn, kwargs, data, ref, torch_ref, rng):
    _, _, true, pred = _inputs(data, rng)
    assert gradcheck(lambda p: fn(true, p, **kwargs), (pred,))


@pytest.mark.parametrize("fn,kwargs,y_true,y_pred", [
    (losses.binary_crossentropy, {}, [[0.0, 1.0]], [[0.0, 1.0]]),
    (losses.binary_crossentropy, {}, [[1.0, 0.0]], [[0.0, 1.0]]),
    (losses.binary_crossentropy, {"from_logits": True}, [[1.0, 0.0]], [[-1e4, 1e4]]),
    (losses.categorical_crossentropy, {}, [[1.0, 0.0]], [[0.0, 1.0]]),
    (losses.categorical_crossentropy, {"from_logits": True}, [[1.0, 0.0]], [[-1e4, 1e4]]),
    (losses.sparse_categorical_crossentropy, {}, [0], [[0.0, 1.0]]),
    (losses.sparse_categorical_crossentropy, {"from_logits": True}, [0], [[-1e4, 1e4]]),
    (losses.kl_divergence, {}, [[1.0, 0.0]], [[0.0, 1.0]]),
    (losses.log_cosh, {}, [[0.0]], [[1e4]]),
    (losses.poisson, {}, [[2.0]], [[0.0]]),
    (losses.cosine_similarity, {}, [[0.0, 0.0]], [[0.0, 0.0]]),
])
def test_extreme_inputs_give_finite_values_and_gradients(fn, kwargs, y_true, y_pred):
    pred = g.tensor(np.array(y_pred, dtype=np.float32), requires_grad=True)
    out = fn(np.array(y_true), pred, **kwargs)
    out.sum().backward()
    assert np.all(np.isfinite(out.detach().numpy())) and np.all(np.isfinite(pred.grad.numpy()))


def test_saturated_probabilities_are_clipped_like_keras():
    # p = 0 for the true class costs -log(eps), as in Keras, not infinity
    out = losses.categorical_crossentropy(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]], dtype=np.float32))
    np.testing.assert_allclose(out.detach().numpy(), [-np.log(1e-7)], rtol=1e-4)


def test_label_shapes_are_squeezed_or_expanded_like_keras(rng):
    y, p = rng.normal(size=(5,)), rng.normal(size=(5, 1))
    np.testing.assert_allclose(losses.mse(y, p).detach().numpy(), (y - p[:, 0]) ** 2, rtol=1e-5)
    assert tuple(losses.mse(y[:, None], p).shape) == (5,)
    seq_true, seq_pred = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))
    np.testing.assert_allclose(losses.mae(seq_true, seq_pred).detach().numpy(), np.abs(seq_true - seq_pred).mean(-1),
                               rtol=1e-5)
    labels, probs = rng.integers(0, 4, (2, 3)), _softmax(rng.normal(size=(2, 3, 4)))
    per = losses.sparse_categorical_crossentropy(labels[..., None], probs)
    expected = -np.log(np.take_along_axis(probs, labels[..., None], -1)[..., 0])
    np.testing.assert_allclose(per.detach().numpy(), expected, rtol=1e-5)
