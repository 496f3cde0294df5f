"""Every metric against scikit-learn (the oracle, used here only) on seeded random inputs of several sizes, with
tied scores, given as NumPy arrays, lists and ganglion Tensors. Adding a metric is adding a row."""

import warnings

import numpy as np
import pytest
import sklearn.metrics as sk

import ganglion
import ganglion.metrics as gm

SIZES = (6, 37, 400)


def labels(rng, n, k):
    y = rng.integers(0, k, n)
    y[:k] = np.arange(k)  # every class present
    return y


def noisy_predictions(rng, y, k):
    y_pred = np.where(rng.random(len(y)) < 0.5, y, rng.integers(0, k, len(y)))
    y_pred[0] = y[0]  # at least one hit (scikit-learn prints float supports when there is none)
    return y_pred


def tied_scores(rng, n):
    return np.round(rng.random(n), 1)  # about ten distinct values: many ties


def probabilities(rng, n, k):
    p = np.round(rng.random((n, k)), 1) + 0.01
    return p / p.sum(axis=1, keepdims=True)


def class_pair(k, **kwargs):
    def make(rng, n):
        y = labels(rng, n, k)
        return (y, noisy_predictions(rng, y, k)), kwargs
    return make


def binary_scores(**kwargs):
    return lambda rng, n: ((labels(rng, n, 2), tied_scores(rng, n)), kwargs)


def multiclass_scores(n_classes, **kwargs):
    return lambda rng, n: ((labels(rng, n, n_classes), probabilities(rng, n, n_classes)), kwargs)


def regression(outputs, **kwargs):
    return lambda rng, n: ((rng.normal(size=(n, outputs)), rng.normal(size=(n, outputs))), kwargs)


# (name, ganglion function, scikit-learn function, data maker)
CASES = [
    ("accuracy", gm.accuracy_score, sk.accuracy_score, class_pair(4)),
    ("accuracy count", gm.accuracy_score, sk.accuracy_score, class_pair(3, normalize=False)),
    ("misclassification", gm.misclassification_rate, sk.zero_one_loss, class_pair(5)),
    ("confusion", gm.confusion_matrix, sk.confusion_matrix, class_pair(4)),
    ("confusion labels", gm.confusion_matrix, sk.confusion_matrix, class_pair(4, labels=[3, 0, 9])),
    ("confusion true", gm.confusion_matrix, sk.confusion_matrix, class_pair(3, normalize="true")),
    ("confusion pred", gm.confusion_matrix, sk.confusion_matrix, class_pair(3, normalize="pred")),
    ("confusion all", gm.confusion_matrix, sk.confusion_matrix, class_pair(3, normalize="all")),
    ("prfs per class", gm.precision_recall_fscore_support, sk.precision_recall_fscore_support, class_pair(4)),
    ("prfs binary", gm.precision_recall_fscore_support, sk.precision_recall_fscore_support,
     class_pair(2, average="binary")),
    ("prfs micro", gm.precision_recall_fscore_support, sk.precision_recall_fscore_support,
     class_pair(4, average="micro", labels=[0, 2])),
    ("prfs macro beta", gm.precision_recall_fscore_support, sk.precision_recall_fscore_support,
     class_pair(4, average="macro", beta=0.5)),
    ("prfs weighted absent label", gm.precision_recall_fscore_support, sk.precision_recall_fscore_support,
     class_pair(3, average="weighted", labels=[0, 1, 7], zero_division=1)),
    ("prfs nan zero division", gm.precision_recall_fscore_support, sk.precision_recall_fscore_support,
     class_pair(3, average="macro", labels=[0, 7], zero_division=np.nan)),
    ("report", gm.classification_report, sk.classification_report, class_pair(4, digits=4)),
    ("report subset", gm.classification_report, sk.classification_report, class_pair(4, labels=[2, 0])),
    ("report names", gm.classification_report, sk.classification_report,
     class_pair(3, target_names=["cat", "dog", "a rather long class name"])),
    ("report dict", gm.classification_report, sk.classification_report, class_pair(5, output_dict=True)),
    ("top-2", gm.top_k_accuracy_score, sk.top_k_accuracy_score, multiclass_scores(5, k=2)),
    ("top-1 ties", gm.top_k_accuracy_score, sk.top_k_accuracy_score, multiclass_scores(4, k=1)),
    ("top-1 binary", gm.top_k_accuracy_score, sk.top_k_accuracy_score, binary_scores(k=1)),
    ("roc curve", gm.roc_curve, sk.roc_curve, binary_scores()),
    ("roc curve all points", gm.roc_curve, sk.roc_curve, binary_scores(drop_intermediate=False)),
    ("roc auc", gm.roc_auc_score, sk.roc_auc_score, binary_scores()),
    ("roc auc ovr macro", gm.roc_auc_score, sk.roc_auc_score, multiclass_scores(4, multi_class="ovr")),
    ("roc auc ovr weighted", gm.roc_auc_score, sk.roc_auc_score,
     multiclass_scores(3, multi_class="ovr", average="weighted")),
    ("roc auc ovr per class", gm.roc_auc_score, sk.roc_auc_score,
     multiclass_scores(3, multi_class="ovr", average=None)),
    ("log loss", gm.log_loss, sk.log_loss, multiclass_scores(4)),
    ("log loss binary", gm.log_loss, sk.log_loss, lambda rng, n: ((labels(rng, n, 2), rng.random(n)), {})),
    ("mse", gm.mean_squared_error, sk.mean_squared_error, regression(1)),
    ("mse raw", gm.mean_squared_error, sk.mean_squared_error, regression(3, multioutput="raw_values")),
    ("mae", gm.mean_absolute_error, sk.mean_absolute_error, regression(2)),
    ("mae weighted outputs", gm.mean_absolute_error, sk.mean_absolute_error, regression(2, multioutput=[1, 3])),
]


def assert_same(ours, theirs):
    if isinstance(theirs, str):
        assert ours == theirs
    elif isinstance(theirs, dict):
        assert ours.keys() == theirs.keys()
        for key in theirs:
            assert_same(ours[key], theirs[key])
    elif isinstance(theirs, tuple):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_same(a, b)
    elif theirs is None:
        assert ours is None
    else:
        assert np.shape(ours) == np.shape(theirs)
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6, equal_nan=True)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name,ours,oracle,make", CASES, ids=[case[0] for case in CASES])
def test_equals_scikit_learn(name, ours, oracle, make, size):
    rng = np.random.default_rng(size)
    (first, second), kwargs = make(rng, size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ill-defined ratios and k >= n_classes warn on both sides
        assert_same(ours(first, second, **kwargs), oracle(first, second, **kwargs))


@pytest.mark.parametrize("convert", [list, np.asarray, ganglion.tensor], ids=["list", "ndarray", "Tensor"])
def test_accepts_lists_arrays_and_tensors(convert):
    rng = np.random.default_rng(0)
    y_true, y_pred = labels(rng, 30, 3), noisy_predictions(rng, labels(rng, 30, 3), 3)
    scores = convert(probabilities(rng, 30, 3).tolist())
    seen = np.asarray(scores.numpy() if hasattr(scores, "numpy") else scores)  # a Tensor holds float32
    assert gm.accuracy_score(convert(y_true), convert(y_pred)) == pytest.approx(sk.accuracy_score(y_true, y_pred))
    np.testing.assert_array_equal(gm.confusion_matrix(convert(y_true), convert(y_pred)),
                                  sk.confusion_matrix(y_true, y_pred))
    assert gm.log_loss(convert(y_true), scores) == pytest.approx(sk.log_loss(y_true, seen))
    assert gm.roc_auc_score(convert(y_true), scores, multi_class="ovr") == pytest.approx(
        sk.roc_auc_score(y_true, seen, multi_class="ovr"))


def test_string_labels_and_weights():
    rng = np.random.default_rng(3)
    names = np.array(["ant", "bee", "cat"])
    y_true, y_pred = names[labels(rng, 50, 3)], names[noisy_predictions(rng, labels(rng, 50, 3), 3)]
    weights = rng.random(50)
    assert gm.classification_report(y_true, y_pred, sample_weight=weights) == sk.classification_report(
        y_true, y_pred, sample_weight=weights)
    np.testing.assert_allclose(gm.confusion_matrix(y_true, y_pred, sample_weight=weights),
                               sk.confusion_matrix(y_true, y_pred, sample_weight=weights))


def test_roc_auc_is_probability_positive_outranks_negative():
    """AUC = P(score of a random positive > score of a random negative) + P(tie) / 2, counted pair by pair."""
    rng = np.random.default_rng(5)
    y, s = labels(rng, 60, 2), tied_scores(rng, 60)
    pos, neg = s[y == 1][:, None], s[y == 0][None, :]
    pairs = (pos > neg).mean() + 0.5 * (pos == neg).mean()
    assert gm.roc_auc_score(y, s) == pytest.approx(pairs, abs=1e-12)


def test_auc_of_a_decreasing_curve_is_positive():
    assert gm.auc([1.0, 0.5, 0.0], [1.0, 1.0, 0.0]) == pytest.approx(0.75)
    assert gm.auc([0.0, 0.5, 1.0], [0.0, 1.0, 1.0]) == pytest.approx(0.75)
