"""Keras loss classes: default names, options, Keras 3's reductions with sample weights, ignore_class, get by name
and by config, and the errors for labels that do not fit."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ganglion as g
from ganglion.keras import losses


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


# (class, constructor kwargs, Keras' default name, the function it wraps)
CLASSES = [
    (losses.MeanSquaredError, {}, "mean_squared_error", losses.mean_squared_error),
    (losses.MeanAbsoluteError, {}, "mean_absolute_error", losses.mean_absolute_error),
    (losses.MeanAbsolutePercentageError, {}, "mean_absolute_percentage_error", losses.mean_absolute_percentage_error),
    (losses.MeanSquaredLogarithmicError, {}, "mean_squared_logarithmic_error", losses.mean_squared_logarithmic_error),
    (losses.CosineSimilarity, {"axis": -1}, "cosine_similarity", losses.cosine_similarity),
    (losses.Huber, {"delta": 0.5}, "huber_loss", losses.huber),
    (losses.LogCosh, {}, "log_cosh", losses.log_cosh),
    (losses.Hinge, {}, "hinge", losses.hinge),
    (losses.SquaredHinge, {}, "squared_hinge", losses.squared_hinge),
    (losses.CategoricalHinge, {}, "categorical_hinge", losses.categorical_hinge),
    (losses.KLDivergence, {}, "kl_divergence", losses.kl_divergence),
    (losses.Poisson, {}, "poisson", losses.poisson),
    (losses.BinaryCrossentropy, {"label_smoothing": 0.1}, "binary_crossentropy", losses.binary_crossentropy),
    (losses.BinaryFocalCrossentropy, {"gamma": 1.0}, "binary_focal_crossentropy", losses.binary_focal_crossentropy),
    (losses.CategoricalCrossentropy, {"label_smoothing": 0.1}, "categorical_crossentropy",
     losses.categorical_crossentropy),
    (losses.SparseCategoricalCrossentropy, {"from_logits": True}, "sparse_categorical_crossentropy",
     losses.sparse_categorical_crossentropy),
]
IDS = [c[0].__name__ for c in CLASSES]


def _data(cls, rng):
    if cls is losses.SparseCategoricalCrossentropy:
        return rng.integers(0, 3, 6), rng.normal(size=(6, 3)).astype(np.float32)
    if cls in (losses.CategoricalCrossentropy, losses.KLDivergence):
        return np.eye(3)[rng.integers(0, 3, 6)], _softmax(rng.normal(size=(6, 3))).astype(np.float32)
    return rng.integers(0, 2, (6, 3)).astype(np.float32), rng.uniform(0.1, 0.9, (6, 3)).astype(np.float32)


@pytest.mark.parametrize("cls,kwargs,name,fn", CLASSES, ids=IDS)
def test_class_is_the_batch_mean_of_its_function(cls, kwargs, name, fn, rng):
    loss = cls(**kwargs)
    assert loss.name == name and loss.reduction == "sum_over_batch_size"
    y_true, y_pred = _data(cls, rng)
    options = {k: v for k, v in kwargs.items()}
    if cls is losses.SparseCategoricalCrossentropy:
        options["ignore_class"] = None
    per = fn(y_true, y_pred, **options).numpy()
    np.testing.assert_allclose(loss(y_true, y_pred).item(), per.mean(), rtol=1e-6)
    np.testing.assert_allclose(cls(reduction="sum", **kwargs)(y_true, y_pred).item(), per.sum(), rtol=1e-6)
    np.testing.assert_allclose(cls(reduction="none", **kwargs)(y_true, y_pred).numpy(), per, rtol=1e-6)


@pytest.mark.parametrize("cls,kwargs,name,fn", CLASSES, ids=IDS)
def test_config_round_trip_and_get(cls, kwargs, name, fn, rng):
    loss = cls(reduction="sum", name="custom", **kwargs)
    config = loss.get_config()
    revived = losses.get({"class_name": cls.__name__, "config": config})
    assert type(revived) is cls and revived.get_config() == config
    y_true, y_pred = _data(cls, rng)
    np.testing.assert_allclose(revived(y_true, y_pred).item(), loss(y_true, y_pred).item(), rtol=1e-7)
    assert isinstance(losses.get(cls.__name__), cls)
    assert losses.get(fn.__name__) is fn


def test_sample_weight_reductions_follow_keras_3(rng):
    y_true, y_pred = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    per = ((y_true - y_pred) ** 2).mean(-1)
    w = np.array([1.0, 0.0, 2.0, 0.5])
    mse = losses.MeanSquaredError
    # sum_over_batch_size divides by the number of values, not by the sum of the weights
    np.testing.assert_allclose(mse()(y_true, y_pred, sample_weight=w).item(), (per * w).sum() / 4, rtol=1e-6)
    np.testing.assert_allclose(mse(reduction="mean")(y_true, y_pred, w[:, None]).item(), (per * w).mean(), rtol=1e-6)
    np.testing.assert_allclose(mse(reduction="mean_with_sample_weight")(y_true, y_pred, w).item(),
                               (per * w).sum() / w.sum(), rtol=1e-6)
    np.testing.assert_allclose(mse(reduction="sum")(y_true, y_pred, w).item(), (per * w).sum(), rtol=1e-6)
    np.testing.assert_allclose(mse(reduction=None)(y_true, y_pred, w).numpy(), per * w, rtol=1e-6)
    zero = mse(reduction="mean_with_sample_weight")(y_true, y_pred, np.zeros(4)).item()
    assert zero == 0.0


def test_per_sample_weights_scale_every_timestep(rng):
    y_true, y_pred = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 5, 3))
    per = ((y_true - y_pred) ** 2).mean(-1)  # (2, 5)
    w = np.array([2.0, 0.5])
    out = losses.MeanSquaredError()(y_true, y_pred, sample_weight=w).item()
    np.testing.assert_allclose(out, (per * w[:, None]).sum() / per.size, rtol=1e-6)


def test_ignore_class_is_left_out_of_the_mean_like_torch_ignore_index(rng):
    logits = rng.normal(size=(6, 4)).astype(np.float32)
    labels = np.array([0, 3, -1, 2, -1, 1])
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
    expected = TF.cross_entropy(torch.tensor(logits), torch.tensor(labels), ignore_index=-1).item()
    np.testing.assert_allclose(loss(labels, logits).item(), expected, rtol=1e-6)
    per = losses.sparse_categorical_crossentropy(labels, logits, from_logits=True, ignore_class=-1).numpy()
    assert per[2] == 0.0 and per[4] == 0.0
    # a label id beyond the classes (255) may be the ignored one
    labels[2] = labels[4] = 255
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=255)
    np.testing.assert_allclose(loss(labels, logits).item(), expected, rtol=1e-6)
    assert loss(np.array([255, 255]), logits[:2]).item() == 0.0


def test_loss_object_trains_through_the_graph(rng):
    logits = g.tensor(rng.normal(size=(5, 3)), dtype=g.float64, requires_grad=True)
    labels = rng.integers(0, 3, 5)
    losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits).backward()
    t_logits = torch.tensor(logits.detach().numpy(), requires_grad=True)
    TF.cross_entropy(t_logits, torch.tensor(labels)).backward()
    np.testing.assert_allclose(logits.grad.numpy(), t_logits.grad.numpy(), rtol=1e-10)


def test_custom_loss_subclass_with_call(rng):
    class Scaled(losses.Loss):
        def call(self, y_true, y_pred):
            return ((y_true - y_pred) ** 2).sum(dim=-1) * 2.0

    y_true, y_pred = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    loss = Scaled(reduction="sum")
    assert loss.name == "scaled"
    np.testing.assert_allclose(loss(y_true, y_pred).item(), 2 * ((y_true - y_pred) ** 2).sum(), rtol=1e-6)


@pytest.mark.parametrize("fn,y_true,y_pred,match", [
    (losses.sparse_categorical_crossentropy, np.eye(3)[[0, 1]], np.full((2, 3), 1 / 3), "one-hot labels use "
                                                                                          "categorical"),
    (losses.categorical_crossentropy, np.array([0, 2]), np.full((2, 3), 1 / 3), "for integer labels use sparse"),
    (losses.categorical_crossentropy, np.array([[0], [2]]), np.full((2, 3), 1 / 3), "for integer labels use sparse"),
    (losses.sparse_categorical_crossentropy, np.array([0, 3]), np.full((2, 3), 1 / 3), r"labels must be in \[0, 3\)"),
    (losses.sparse_categorical_crossentropy, np.array([0.5, 1.0]), np.full((2, 3), 1 / 3), "whole numbers"),
    (losses.mean_squared_error, np.zeros((2, 3)), np.zeros((2, 4)), r"same shape, got y_true \(2, 3\)"),
    (losses.binary_crossentropy, np.zeros((2, 3)), np.zeros((2, 4)), "binary_crossentropy"),
])
def test_labels_that_do_not_fit_the_loss_raise_clear_errors(fn, y_true, y_pred, match):
    with pytest.raises(ValueError, match=match):
        fn(y_true, y_pred.astype(np.float32))


def test_unknown_names_and_reductions_list_what_is_accepted():
    with pytest.raises(ValueError, match="unknown loss 'msee'; accepted names are: .*mean_squared_error"):
        losses.get("msee")
    with pytest.raises(ValueError, match="unknown reduction 'avg'"):
        losses.MeanSquaredError(reduction="avg")
    with pytest.raises(ValueError, match="could not interpret loss"):
        losses.get(3)


def test_names_and_aliases_resolve_like_keras():
    assert losses.get("mse") is losses.mean_squared_error and losses.get("MAE") is losses.mean_absolute_error
    assert losses.get("kld") is losses.kl_divergence and losses.get("logcosh") is losses.log_cosh
    assert isinstance(losses.get("Huber"), losses.Huber)
    assert losses.name_of(losses.BinaryCrossentropy()) == "binary_crossentropy"
    assert losses.name_of(losses.get("sparse_categorical_crossentropy")) == "sparse_categorical_crossentropy"
    assert losses.serialize(losses.mse) == "mean_squared_error"
    assert losses.deserialize(losses.serialize(losses.Huber(delta=3.0))).get_config()["delta"] == 3.0
