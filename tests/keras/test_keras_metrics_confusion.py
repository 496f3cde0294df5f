"""Confusion metrics against brute-force references: counts at several thresholds (explicit p > t loops), Precision
and Recall (thresholds, top_k, class_id, sample weights; scikit-learn at 0.5), AUC (ROC and PR, the three summation
methods, multi-label, from_logits; close to the exact ROC AUC with 200 thresholds), F1/F-beta (every average,
checked against scikit-learn), and these metrics inside ``compile``/``fit``."""

import numpy as np
import pytest
from sklearn.metrics import f1_score, fbeta_score, precision_score, recall_score, roc_auc_score

import ganglion.keras as keras
from ganglion.keras import metrics

EPS = 1e-7


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def brute_counts(y_true, y_pred, thresholds, w=None):
    """(tp, fp, tn, fn) per threshold by explicit loops over thresholds and predictions."""
    y_true, y_pred = np.ravel(y_true).astype(bool), np.ravel(y_pred).astype(np.float32)
    w = np.ones(len(y_true)) if w is None else np.ravel(w)
    out = np.zeros((4, len(thresholds)))
    for j, t in enumerate(np.asarray(thresholds, dtype=np.float32)):
        for label, p, weight in zip(y_true, y_pred, w):
            predicted = p > t
            cell = 0 if label and predicted else 1 if predicted else 2 if not label else 3
            out[cell, j] += weight
    return out


def auc_thresholds(n):
    return [-EPS] + [(i + 1) / (n - 1) for i in range(n - 2)] + [1 + EPS]


def reference_auc(tp, fp, tn, fn, curve, method):
    def div(a, b):
        return np.where(b > 0, a / np.where(b > 0, b, 1), 0.0)

    if curve == "PR" and method == "interpolation":
        dtp, p = tp[:-1] - tp[1:], tp + fp
        slope = div(dtp, np.maximum(p[:-1] - p[1:], 0))
        intercept = tp[1:] - slope * p[1:]
        ratio = np.where((p[:-1] > 0) & (p[1:] > 0), div(p[:-1], p[1:]), 1.0)
        return div(slope * (dtp + intercept * np.log(ratio)), tp[1:] + fn[1:]).sum()
    recall = div(tp, tp + fn)
    x, y = (div(fp, fp + tn), recall) if curve == "ROC" else (recall, div(tp, tp + fp))
    pick = {"interpolation": lambda a, b: (a + b) / 2, "minoring": np.minimum, "majoring": np.maximum}[method]
    return ((x[:-1] - x[1:]) * pick(y[:-1], y[1:])).sum()


@pytest.mark.parametrize("cls,cell", [(metrics.TruePositives, 0), (metrics.FalsePositives, 1),
                                      (metrics.TrueNegatives, 2), (metrics.FalseNegatives, 3)])
def test_counts_at_several_thresholds(cls, cell, rng):
    y_true, y_pred, w = rng.integers(0, 2, 20), rng.uniform(size=20), rng.uniform(0, 2, 20)
    y_pred[:3] = [0.3, 0.5, 0.8]  # predictions equal to a threshold are negative there (p > t)
    thresholds = [0.3, 0.5, 0.8]
    m = cls(thresholds=thresholds)
    m.update_state(y_true[:7], y_pred[:7], sample_weight=w[:7])
    m.update_state(y_true[7:], y_pred[7:], sample_weight=w[7:])
    np.testing.assert_allclose(m.result(), brute_counts(y_true, y_pred, thresholds, w)[cell], rtol=1e-12)
    one = cls()
    one.update_state(y_true, y_pred)
    assert one.result() == brute_counts(y_true, y_pred, [0.5])[cell][0]


def test_precision_and_recall_match_scikit_learn(rng):
    y_true, y_pred = rng.integers(0, 2, (30, 4)), rng.uniform(size=(30, 4))
    w = rng.uniform(0, 2, 30)
    p, r = metrics.Precision(), metrics.Recall()
    p.update_state(y_true, y_pred, sample_weight=w)
    r.update_state(y_true, y_pred, sample_weight=w)
    flat_w = np.repeat(w, 4)
    assert p.result() == pytest.approx(precision_score(y_true.ravel(), y_pred.ravel() > 0.5, sample_weight=flat_w))
    assert r.result() == pytest.approx(recall_score(y_true.ravel(), y_pred.ravel() > 0.5, sample_weight=flat_w))


def test_precision_recall_with_several_thresholds_class_id_and_top_k(rng):
    y_true, y_pred = rng.integers(0, 2, (12, 5)), rng.uniform(size=(12, 5))
    thresholds = [0.2, 0.6]
    p = metrics.Precision(thresholds=thresholds, class_id=2)
    p.update_state(y_true, y_pred)
    tp, fp, _, fn = brute_counts(y_true[:, 2], y_pred[:, 2], thresholds)
    np.testing.assert_allclose(p.result(), tp / (tp + fp))
    r = metrics.Recall(thresholds=thresholds, class_id=2)
    r.update_state(y_true, y_pred)
    np.testing.assert_allclose(r.result(), tp / (tp + fn))
    # top_k: only each row's 2 highest scores count as predicted positive
    top = metrics.Precision(top_k=2)
    top.update_state(y_true, y_pred)
    ranks = np.argsort(-y_pred, axis=1)[:, :2]
    hits = np.take_along_axis(y_true, ranks, axis=1)
    assert top.result() == pytest.approx(hits.mean())
    top_recall = metrics.Recall(top_k=2)
    top_recall.update_state(y_true, y_pred)
    assert top_recall.result() == pytest.approx(hits.sum() / y_true.sum())
    # Keras' documented examples
    m = metrics.Precision(top_k=2)
    m.update_state([0, 0, 1, 1], [1, 1, 1, 1])
    assert m.result() == 0.0
    m = metrics.Precision()
    m.update_state([0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0])
    assert m.result() == 1.0
    empty = metrics.Recall()
    assert empty.result() == 0.0


@pytest.mark.parametrize("curve", ["ROC", "PR"])
@pytest.mark.parametrize("method", ["interpolation", "minoring", "majoring"])
def test_auc_equals_the_riemann_sum_of_brute_force_counts(curve, method, rng):
    y_true, y_pred, w = rng.integers(0, 2, 60), rng.uniform(size=60), rng.uniform(0, 2, 60)
    y_pred[:4] = [0.0, 1.0, 0.5, 0.25]  # on the thresholds and at the ends
    m = metrics.AUC(num_thresholds=9, curve=curve, summation_method=method)
    m.update_state(y_true[:25], y_pred[:25], sample_weight=w[:25])
    m.update_state(y_true[25:], y_pred[25:], sample_weight=w[25:])
    counts = brute_counts(y_true, y_pred, auc_thresholds(9), w)
    np.testing.assert_allclose(m.result(), reference_auc(*counts, curve, method), rtol=1e-10)


def test_auc_with_200_thresholds_is_close_to_the_exact_roc_auc(rng):
    y_true = rng.integers(0, 2, 500)
    y_pred = np.clip(0.5 + 0.25 * (2 * y_true - 1) + 0.3 * rng.normal(size=500), 0, 1)
    m = metrics.AUC()
    m.update_state(y_true, y_pred)
    assert m.num_thresholds == 200 and len(m.thresholds) == 200
    assert abs(m.result() - roc_auc_score(y_true, y_pred)) < 2e-3
    documented = metrics.AUC(num_thresholds=3)  # Keras' worked example
    documented.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    assert documented.result() == pytest.approx(0.75)


def test_auc_multi_label_from_logits_and_label_weights(rng):
    y_true, logits = rng.integers(0, 2, (40, 3)), rng.normal(size=(40, 3)) * 2
    probs = 1 / (1 + np.exp(-logits))
    m = metrics.AUC(num_thresholds=50, multi_label=True, from_logits=True, label_weights=[1.0, 2.0, 0.0])
    m.update_state(y_true, logits)
    per_label = [reference_auc(*brute_counts(y_true[:, i], probs[:, i], auc_thresholds(50)), "ROC", "interpolation")
                 for i in range(3)]
    assert m.result() == pytest.approx((per_label[0] + 2 * per_label[1]) / 3, rel=1e-9)
    flat = metrics.AUC(num_thresholds=50)
    flat.update_state(y_true, probs)
    assert flat.result() == pytest.approx(
        reference_auc(*brute_counts(y_true, probs, auc_thresholds(50)), "ROC", "interpolation"), rel=1e-9)


def test_auc_config_round_trip_and_errors():
    m = metrics.AUC(thresholds=[0.2, 0.5, 0.9], curve="PR", name="pr_auc")
    revived = metrics.AUC.from_config(m.get_config())
    assert revived.thresholds == m.thresholds and revived.curve == "PR" and revived.name == "pr_auc"
    with pytest.raises(ValueError, match="unknown curve"):
        metrics.AUC(curve="DET")
    with pytest.raises(ValueError, match="num_thresholds must be an int > 1"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match=r"thresholds must be in \[0, 1\]"):
        metrics.Precision(thresholds=[1.5])


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
@pytest.mark.parametrize("threshold", [0.5, None])
def test_f1_and_fbeta_match_scikit_learn(average, threshold, rng):
    if threshold is None:  # one class per sample: the argmax decides
        y_true, y_pred = np.eye(4)[rng.integers(0, 4, 40)], rng.uniform(size=(40, 4))
        predicted = np.eye(4)[y_pred.argmax(1)]
    else:
        y_true, y_pred = rng.integers(0, 2, (40, 4)), rng.uniform(size=(40, 4))
        predicted = (y_pred > threshold).astype(int)
    f1 = metrics.F1Score(average=average, threshold=threshold)
    f1.update_state(y_true[:15], y_pred[:15])
    f1.update_state(y_true[15:], y_pred[15:])
    np.testing.assert_allclose(f1.result(), f1_score(y_true, predicted, average=average, zero_division=0),
                               rtol=1e-5)
    fb = metrics.FBetaScore(average=average, beta=2.0, threshold=threshold)
    fb.update_state(y_true, y_pred)
    np.testing.assert_allclose(fb.result(), fbeta_score(y_true, predicted, beta=2.0, average=average,
                                                        zero_division=0), rtol=1e-5)


def test_f1_keras_documented_example_and_errors():
    f1 = metrics.F1Score(threshold=0.5)
    f1.update_state(np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]]),
                    np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]]))
    np.testing.assert_allclose(f1.result(), [0.5, 0.8, 0.6666667], rtol=1e-5)
    with pytest.raises(ValueError, match="unknown average 'mean'"):
        metrics.F1Score(average="mean")
    with pytest.raises(ValueError, match="expects 2D inputs"):
        metrics.F1Score()(np.zeros(3), np.zeros(3))


def test_confusion_metrics_in_compile_and_fit(rng):
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)[:, None]
    model = keras.Sequential([keras.layers.Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=["accuracy", "precision", "recall", "auc", metrics.F1Score(average="macro", threshold=0.5)])
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    for key in ("accuracy", "precision", "recall", "auc", "f1_score"):
        assert len(history.history[key]) == 2 and 0.0 <= history.history[key][-1] <= 1.0
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    probs = model.predict(x, verbose=0)
    assert logs["precision"] == pytest.approx(precision_score(y[:, 0], probs[:, 0] > 0.5, zero_division=0), abs=1e-6)
    assert logs["auc"] == pytest.approx(roc_auc_score(y[:, 0], probs[:, 0]), abs=2e-2)
