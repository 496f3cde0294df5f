"""Averaging metrics: each row a metric, its keyword arguments, data and a NumPy reference of the per-sample value;
the metric must equal the (weighted) mean of the reference, also when the data arrives in two batches. Plus the
accuracy family's edge cases (thresholds, top-k ties, sparse labels), Mean/Sum weighting and ``get`` by name."""

import numpy as np
import pytest

from ganglion.keras import metrics


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def regression(rng):
    return rng.normal(size=(8, 3)), rng.normal(size=(8, 3))


def positive(rng):
    return rng.uniform(0.5, 2.0, (8, 3)), rng.uniform(0.5, 2.0, (8, 3))


def onehot(rng):
    return np.eye(5)[rng.integers(0, 5, 8)], _softmax(rng.normal(size=(8, 5)))


def sparse(rng):
    return rng.integers(0, 5, 8), _softmax(rng.normal(size=(8, 5)))


def binary(rng):
    return rng.integers(0, 2, (8, 3)).astype(float), rng.uniform(size=(8, 3))


def _norm(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _top_k(labels, scores, k):
    return np.array([scores[i, labels[i]] >= np.sort(scores[i])[-k] for i in range(len(labels))], dtype=float)


# (metric class, kwargs, Keras name, data, per-sample NumPy reference)
ROWS = [
    (metrics.MeanSquaredError, {}, "mean_squared_error", regression, lambda t, p: ((t - p) ** 2).mean(-1)),
    (metrics.MeanAbsoluteError, {}, "mean_absolute_error", regression, lambda t, p: np.abs(t - p).mean(-1)),
    (metrics.MeanAbsolutePercentageError, {}, "mean_absolute_percentage_error", positive,
     lambda t, p: 100 * np.abs((t - p) / t).mean(-1)),
    (metrics.MeanSquaredLogarithmicError, {}, "mean_squared_logarithmic_error", positive,
     lambda t, p: ((np.log1p(p) - np.log1p(t)) ** 2).mean(-1)),
    (metrics.LogCoshError, {}, "logcosh", regression, lambda t, p: np.log(np.cosh(p - t)).mean(-1)),
    (metrics.CosineSimilarity, {}, "cosine_similarity", regression, lambda t, p: (_norm(t) * _norm(p)).sum(-1)),
    (metrics.Hinge, {}, "hinge", binary, lambda t, p: np.maximum(1 - (2 * t - 1) * p, 0).mean(-1)),
    (metrics.SquaredHinge, {}, "squared_hinge", binary, lambda t, p: np.maximum(1 - (2 * t - 1) * p, 0).__pow__(2)
     .mean(-1)),
    (metrics.KLDivergence, {}, "kl_divergence", onehot,
     lambda t, p: (np.clip(t, 1e-7, 1) * np.log(np.clip(t, 1e-7, 1) / p)).sum(-1)),
    (metrics.Poisson, {}, "poisson", positive, lambda t, p: (p - t * np.log(p + 1e-7)).mean(-1)),
    (metrics.BinaryCrossentropy, {}, "binary_crossentropy", binary,
     lambda t, p: -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(-1)),
    (metrics.CategoricalCrossentropy, {}, "categorical_crossentropy", onehot, lambda t, p: -(t * np.log(p)).sum(-1)),
    (metrics.SparseCategoricalCrossentropy, {}, "sparse_categorical_crossentropy", sparse,
     lambda t, p: -np.log(p[np.arange(len(t)), t])),
    (metrics.Accuracy, {}, "accuracy", lambda r: (r.integers(0, 3, (8, 2)), r.integers(0, 3, (8, 2))),
     lambda t, p: (t == p).mean(-1)),
    (metrics.BinaryAccuracy, {"threshold": 0.7}, "binary_accuracy", binary, lambda t, p: (t == (p > 0.7)).mean(-1)),
    (metrics.CategoricalAccuracy, {}, "categorical_accuracy", onehot,
     lambda t, p: (t.argmax(-1) == p.argmax(-1)).astype(float)),
    (metrics.SparseCategoricalAccuracy, {}, "sparse_categorical_accuracy", sparse,
     lambda t, p: (t == p.argmax(-1)).astype(float)),
    (metrics.TopKCategoricalAccuracy, {"k": 2}, "top_k_categorical_accuracy", onehot,
     lambda t, p: _top_k(t.argmax(-1), p, 2)),
    (metrics.SparseTopKCategoricalAccuracy, {"k": 3}, "sparse_top_k_categorical_accuracy", sparse,
     lambda t, p: _top_k(t, p, 3)),
]
IDS = [r[0].__name__ for r in ROWS]


@pytest.mark.parametrize("cls,kwargs,name,data,ref", ROWS, ids=IDS)
def test_metric_is_the_weighted_mean_of_the_reference(cls, kwargs, name, data, ref, rng):
    y_true, y_pred = data(rng)
    m = cls(**kwargs)
    assert m.name == name
    m.update_state(y_true, y_pred)
    np.testing.assert_allclose(m.result(), ref(y_true, y_pred).mean(), rtol=1e-5)
    w = rng.uniform(0, 2, len(y_true))
    m.reset_state()
    m.update_state(y_true[:3], y_pred[:3], sample_weight=w[:3])
    m.update_state(y_true[3:], y_pred[3:], sample_weight=w[3:])
    np.testing.assert_allclose(m.result(), (ref(y_true, y_pred) * w).sum() / w.sum(), rtol=1e-5)
    m.reset_state()
    assert m.result() == 0.0


def test_root_mean_squared_error_is_the_root_of_the_running_mean(rng):
    y_true, y_pred = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    m = metrics.RootMeanSquaredError()
    m.update_state(y_true[:2], y_pred[:2])
    m.update_state(y_true[2:], y_pred[2:])
    np.testing.assert_allclose(m.result(), np.sqrt(((y_true - y_pred) ** 2).mean()), rtol=1e-10)
    m.reset_state()
    m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]], sample_weight=[1, 0])  # Keras' documented example
    np.testing.assert_allclose(m.result(), 0.70710677, rtol=1e-6)


def test_r2_score_matches_the_definition(rng):
    y_true, y_pred = rng.normal(size=(10, 2)), rng.normal(size=(10, 2))
    m = metrics.R2Score(class_aggregation=None)
    m.update_state(y_true, y_pred)
    expected = 1 - ((y_true - y_pred) ** 2).sum(0) / ((y_true - y_true.mean(0)) ** 2).sum(0)
    np.testing.assert_allclose(m.result(), expected, rtol=1e-10)
    uniform = metrics.R2Score()
    uniform.update_state(y_true, y_pred)
    np.testing.assert_allclose(uniform.result(), expected.mean(), rtol=1e-10)


def test_mean_and_sum_weighting_follow_keras():
    m = metrics.Mean()
    m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert m.result() == 2.0
    m = metrics.Mean()
    m.update_state(np.array([[1.0, 3.0], [5.0, 7.0]]), sample_weight=[1.0, 3.0])  # per-sample means 2 and 6
    assert m.result() == pytest.approx((2 * 1 + 6 * 3) / 4)
    m.update_state(4.0, sample_weight=4)  # the loss tracker's path: one value weighted by the batch size
    assert m.result() == pytest.approx((2 + 18 + 16) / 8)
    s = metrics.Sum()
    s.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert s.result() == 4.0


def test_binary_accuracy_handles_label_shapes():
    y_true, y_pred = np.array([1, 0, 1, 1]), np.array([[0.9], [0.6], [0.4], [0.8]])
    m = metrics.BinaryAccuracy()
    m.update_state(y_true, y_pred)
    assert m.result() == 0.5


def test_top_k_counts_ties_at_the_boundary_as_hits():
    scores = np.array([[0.1, 0.3, 0.3, 0.3], [0.4, 0.3, 0.2, 0.1]])
    assert metrics.sparse_top_k_categorical_accuracy(np.array([3, 3]), scores, k=1).tolist() == [1.0, 0.0]
    assert metrics.top_k_categorical_accuracy(np.eye(4)[[0, 1]], scores, k=2).tolist() == [0.0, 1.0]
    assert metrics.sparse_top_k_categorical_accuracy(np.array([[0], [3]]), scores, k=10).tolist() == [1.0, 1.0]
    ids = np.array([[2, 0, 1], [1, 2, 0]])
    assert metrics.sparse_top_k_categorical_accuracy(np.array([0, 0]), ids, k=2, from_sorted_ids=True).tolist() == \
        [1.0, 0.0]


@pytest.mark.parametrize("name,cls", [
    ("precision", metrics.Precision), ("recall", metrics.Recall), ("auc", metrics.AUC),
    ("f1_score", metrics.F1Score), ("fbeta_score", metrics.FBetaScore), ("mse", metrics.MeanSquaredError),
    ("mae", metrics.MeanAbsoluteError), ("root_mean_squared_error", metrics.RootMeanSquaredError),
    ("top_k_categorical_accuracy", metrics.TopKCategoricalAccuracy),
    ("sparse_top_k_categorical_accuracy", metrics.SparseTopKCategoricalAccuracy), ("mean", metrics.Mean),
    ("sum", metrics.Sum), ("binary_accuracy", metrics.BinaryAccuracy), ("true_positives", metrics.TruePositives),
    ("r2_score", metrics.R2Score), ("AUC", metrics.AUC), ("Precision", metrics.Precision),
])
def test_get_by_name_reports_under_that_name(name, cls):
    m = metrics.get(name)
    assert type(m) is cls and m.name == name


def test_get_other_identifiers():
    m = metrics.Precision(thresholds=[0.3, 0.6])
    assert metrics.get(m) is m
    revived = metrics.get(metrics.serialize(m))
    assert type(revived) is metrics.Precision and revived.thresholds == [0.3, 0.6]
    wrapped = metrics.get(lambda t, p: np.abs(np.asarray(t) - np.asarray(p)))
    wrapped.update_state([1.0, 2.0], [1.5, 2.0])
    assert wrapped.result() == 0.25
    with pytest.raises(ValueError, match="unknown metric 'precison'; accepted names are: .*precision"):
        metrics.get("precison")
