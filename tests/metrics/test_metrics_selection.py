"""k-fold splits, cross-validation, model selection and learning curves, with real tiny ganglion models: a
logistic regression underfits a circular boundary that a small MLP learns, and a wide MLP memorises noise."""

import numpy as np
import pytest
from sklearn.model_selection import KFold as SkKFold

import ganglion
import ganglion.nn.functional as F
from ganglion import nn, optim
from ganglion.metrics import misclassification_rate
from ganglion.metrics.selection import (KFold, cross_val_score, diagnose_fit, kfold_indices, learning_curve,
                                        select_model)


def classifier_trainer(hidden, epochs=150, lr=0.05):
    """train(X, y) -> error(X, y): a logistic regression (hidden=None) or a one-hidden-layer tanh MLP, full-batch
    Adam on cross-entropy; the error is the misclassification rate."""
    def train(X, y):
        ganglion.manual_seed(0)
        d = X.shape[1]
        model = nn.Linear(d, 2) if hidden is None else nn.Sequential(nn.Linear(d, hidden), nn.Tanh(),
                                                                      nn.Linear(hidden, 2))
        optimizer = optim.Adam(model.parameters(), lr=lr)
        inputs, targets = ganglion.tensor(X, dtype=ganglion.float32), ganglion.tensor(y)
        for _ in range(epochs):
            optimizer.zero_grad()
            F.cross_entropy(model(inputs), targets).backward()
            optimizer.step()

        def error(X_eval, y_eval):
            with ganglion.no_grad():
                predicted = model(ganglion.tensor(X_eval, dtype=ganglion.float32)).argmax(1)
            return misclassification_rate(y_eval, predicted)
        return error
    return train


def circle(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2))
    return X, ((X ** 2).sum(axis=1) < 0.5).astype(np.int64)


@pytest.mark.parametrize("n_samples,n_splits", [(10, 2), (11, 3), (17, 5), (5, 5)])
def test_unshuffled_folds_are_scikit_learns(n_samples, n_splits):
    ours = kfold_indices(n_samples, n_splits)
    theirs = list(SkKFold(n_splits).split(np.zeros(n_samples)))
    assert len(ours) == len(theirs)
    for (tr, va), (sk_tr, sk_va) in zip(ours, theirs):
        np.testing.assert_array_equal(tr, sk_tr)
        np.testing.assert_array_equal(va, sk_va)


@pytest.mark.parametrize("n_samples,n_splits,seed", [(23, 4, 0), (50, 7, 1), (9, 3, 2)])
def test_shuffled_folds_cover_every_sample_once_with_scikit_learns_sizes(n_samples, n_splits, seed):
    folds = list(KFold(n_splits, shuffle=True, random_state=seed).split(np.zeros(n_samples)))
    validated = np.concatenate([va for _, va in folds])
    np.testing.assert_array_equal(np.sort(validated), np.arange(n_samples))
    assert [len(va) for _, va in folds] == [len(va) for _, va in SkKFold(n_splits).split(np.zeros(n_samples))]
    for tr, va in folds:
        assert not set(tr) & set(va) and len(tr) + len(va) == n_samples
    assert np.array_equal(validated, np.concatenate([va for _, va in KFold(n_splits, True, seed).split(validated)]))
    assert not np.array_equal(validated, np.arange(n_samples))


def test_cross_val_score_uses_each_fold():
    def train_mean(X, y):
        mean = y.mean()
        return lambda X_val, y_val: float(np.abs(y_val - mean).mean())
    y = np.r_[np.zeros(5), np.ones(5)]
    # fold 1 validates the zeros against a mean of 1, fold 2 the ones against a mean of 0
    np.testing.assert_allclose(cross_val_score(train_mean, y[:, None], y, cv=2), [1.0, 1.0])


def test_select_model_prefers_the_mlp_on_a_circle_and_reports_all():
    X, y = circle(100)
    selection = select_model({"logistic": classifier_trainer(None), "mlp": classifier_trainer(16)}, X, y,
                             cv=KFold(4, shuffle=True, random_state=0))
    assert selection.best == "mlp"
    assert selection.mean_errors["mlp"] < 0.1 < 0.25 < selection.mean_errors["logistic"]
    assert all(len(errors) == 4 for errors in selection.fold_errors.values())
    table = str(selection).splitlines()
    assert table[1].startswith("mlp") and table[1].endswith("<- selected") and table[2].startswith("logistic")


def test_learning_curve_flags_a_memorising_mlp_and_an_underfitting_logistic_regression():
    rng = np.random.default_rng(1)
    X_noise, y_noise = rng.normal(size=(24, 5)), rng.integers(0, 2, 24)  # labels unrelated to inputs
    curve = learning_curve(classifier_trainer(128, epochs=250, lr=0.01), X_noise, y_noise, train_sizes=[0.5, 1.0],
                           cv=KFold(4, shuffle=True, random_state=0))
    assert curve.train_sizes.tolist() == [9, 18]
    assert curve.train_errors.shape == curve.val_errors.shape == (2, 4)
    diagnosis = curve.diagnose()
    assert diagnosis.overfitting and curve.mean_train_errors[-1] == 0.0
    assert diagnosis.message.startswith("overfitting: training error 0, validation error")

    X, y = circle(80)
    underfit = learning_curve(classifier_trainer(None), X, y, train_sizes=[1.0], cv=4).diagnose(
        acceptable_error=0.15)
    assert underfit.underfitting and not underfit.overfitting and "too simple" in str(underfit)


@pytest.mark.parametrize("train_error,val_error,kwargs,verdict", [
    (0.0, 0.4, {}, "overfitting"),
    (0.1, 0.15, {}, "good fit"),
    (0.3, 0.32, {"acceptable_error": 0.1}, "underfitting"),
    (0.3, 0.32, {}, "good fit"),
    (1.0, 1.5, {"max_gap": 1.0}, "good fit"),
])
def test_diagnosis_verdicts(train_error, val_error, kwargs, verdict):
    assert diagnose_fit(train_error, val_error, **kwargs).verdict == verdict


@pytest.mark.parametrize("call,pattern", [
    (lambda: kfold_indices(3, 5), r"n_splits=5 folds need at least 5 samples, got 3"),
    (lambda: KFold(1), r"n_splits must be an int >= 2, got 1"),
    (lambda: cross_val_score(lambda X, y: 0.5, np.zeros((4, 1)), np.zeros(4), cv=2), r"returned float"),
    (lambda: cross_val_score(lambda X, y: None, np.zeros((4, 1)), np.zeros(3)), r"X has 4, y has 3"),
    (lambda: select_model({}, np.zeros((4, 1)), np.zeros(4)), r"at least one candidate"),
    (lambda: learning_curve(lambda X, y: None, np.zeros((8, 1)), np.zeros(8), train_sizes=[0.0, 1.0], cv=2),
     r"in \(0, 1\], got \[0\.0, 1\.0\]"),
    (lambda: learning_curve(lambda X, y: None, np.zeros((8, 1)), np.zeros(8), train_sizes=[2, 9], cv=2),
     r"between 1 and 4 samples.*\[2, 9\]"),
])
def test_bad_selection_arguments(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


def test_docstring_examples_run():
    import doctest

    from ganglion.metrics import report, selection
    for module in (selection, report):
        failures, tried = doctest.testmod(module)
        assert tried > 0 and failures == 0
